/* pool_internal.h: what the engine's files tell each other: pool.c (the parent's side of
 * maps), worker.c (the workers' side), future.c (submitted calls) and start.c (how workers
 * start). Private to lib/: nothing outside it includes this. */
#ifndef PARLAB_POOL_INTERNAL_H
#define PARLAB_POOL_INTERNAL_H

#include <stdalign.h>
#include <stdatomic.h>

#include "pool.h"
#include "shm.h"
#include "sync.h"

/* Per-worker status, one cache line each so that workers never write a shared line. */
struct pool_worker {
    alignas(PARLAB_CACHELINE) _Atomic long cur_task;   /* map task running, or -1 */
    _Atomic uint64_t task_start_ns;                    /* when cur_task began (timeouts) */
    pid_t pid;                                         /* a worker process, or 0 */
};

struct pool_shm {
    alignas(PARLAB_CACHELINE) _Atomic uint32_t gen;  /* bumped when work is published */
    _Atomic uint32_t quit;
    _Atomic uint32_t ready;                          /* workers past their initializer */
    _Atomic uint32_t timed;                          /* 1: stamp task start times */
    _Atomic uint32_t broken;                         /* a worker died: futures fail */
    struct pool_error crash;                         /* what broke it */

    /* The current map. The parent writes it, then publishes batch_id (release). */
    alignas(PARLAB_CACHELINE) _Atomic uint64_t batch_id;
    pool_task_fn fn;
    void *ctx;
    uint64_t arg;
    size_t n;
    size_t chunk;
    int sched;

    alignas(PARLAB_CACHELINE) _Atomic size_t next;   /* dynamic/guided claim counter */
    _Atomic size_t claimed;                          /* -s student: task runs handed out */
    _Atomic uint64_t claim_hash;                     /* and the sum of claim_mix(task) */
    _Atomic uint32_t left;                           /* workers finished with this map */
    _Atomic uint32_t done_word;                      /* futex: 1 when left == W */

    alignas(PARLAB_CACHELINE) struct pool_worker w[];
};

struct pool {
    const struct pool_ops *ops;
    enum pool_kind kind;
    unsigned workers;
    struct pool_shm *shm;
    size_t shm_len;
    struct pool_futures *futures;
    void *arena;
    size_t arena_len;
    struct pool_handle *h;     /* parent's view of each worker */
    int *alive;                /* parent's view: started and not reaped */
    pool_init_fn init;
    void *init_arg;
    void (*boot)(struct pool *local, const void *msg, size_t len);  /* see pool_config */
    const void *boot_msg;
    size_t boot_len;
    /* In a worker that booted from a message (forkserver, spawn): the parent's pool, the
     * pointer its callers still hold, compared but never followed; and the map context
     * its boot function rebuilt, used instead of the parent's. */
    const struct pool *remote;
    void *local_ctx;
    int has_local_ctx;
    uint64_t batch_seq;
    double timeout_s;
    pid_t parent;
    int broken;            /* parent's view: only pool_destroy may follow */
};

/* future.c's shared block: the queue of calls and their futures. */
struct pool_futures;

/* Map the block (shared, so it must exist before the first worker starts). 0 or -errno. */
int futures_open(struct pool_futures **out, struct pool *p, unsigned workers);
void futures_close(struct pool_futures *fq);
/* A worker: pop one queued call and run it. 1 if one ran (or was dropped), else 0. */
int futures_run_one(struct pool_futures *fq, struct pool *p, unsigned w);
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

/* What a worker that was not forked from the pool's parent (lib/start.c) needs to join the
 * pool: the pool's own fields, its boot message, and every shared region of the parent. */
#define POOL_BOOT_MAGIC 0x706c6277u   /* "plbw" */
#define POOL_BOOT_REGIONS 64
struct pool_boot {
    uint32_t magic, worker;
    int32_t parent;                   /* the pool's parent pid */
    uint32_t nregions;
    uint64_t anchor;                  /* a function's address in the parent (code bias) */
    uint64_t remote;                  /* the parent's struct pool * */
    uint32_t kind, workers;
    uint64_t shm, shm_len, futures, arena, arena_len;
    uint64_t init, init_arg, boot;
    uint32_t boot_len, pad;
    unsigned char boot_msg[POOL_BOOT_MSG_MAX];
    struct shm_region region[POOL_BOOT_REGIONS];   /* fds travel beside, in this order */
};
/* Parent: describe p for worker w. 0, or -E2BIG (too many regions or too long a message). */
int pool__boot_pack(const struct pool *p, unsigned w, struct pool_boot *b);
/* A booting worker, once b's regions are mapped at their addresses: build its side of the
 * pool, run the boot function, run the worker loop, and _exit. Never returns. */
void pool__boot_run(const struct pool_boot *b) __attribute__((noreturn));

#endif
