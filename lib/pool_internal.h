/* pool_internal.h: what pool.c (maps, workers) and future.c (submitted calls) tell each
 * other. Private to lib/: nothing outside it includes this. */
#ifndef PARLAB_POOL_INTERNAL_H
#define PARLAB_POOL_INTERNAL_H

#include "pool.h"

/* future.c's shared block: the queue of calls and their futures. */
struct pool_futures;

/* Map the block (shared, so it must exist before the first worker starts). 0 or -errno. */
int futures_open(struct pool_futures **out, struct pool *p, unsigned workers);
void futures_close(struct pool_futures *fq);
/* A worker: pop one queued call and run it. 1 if one ran (or was dropped), else 0. */
int futures_run_one(struct pool_futures *fq, unsigned w);
/* The call worker w is running, or -1. */
long futures_running(const struct pool_futures *fq, unsigned w);
/* Parent, after a worker died: fail every call that will now never finish. */
void futures_fail_dead(struct pool_futures *fq);

/* pool.c, for future.c. */
struct pool_futures *pool__futures(const struct pool *p);
void pool__kick(struct pool *p, int n);          /* wake n workers waiting for work */
int pool__broken(const struct pool *p);           /* any process may ask */
int pool__alive(const struct pool *p, unsigned w);
const struct pool_error *pool__crash(const struct pool *p);
/* 1 if the caller is the parent of a pool whose workers can die alone: it must look for
 * dead workers (pool__reap) while it waits. */
int pool__must_reap(const struct pool *p);
void pool__reap(struct pool *p);

#endif
