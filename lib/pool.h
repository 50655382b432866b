/* pool.h: the worker-pool engine behind the fork and thread runners and the fpool_/tpool_
 * libraries. One scheduling core; only how workers start and share memory differs. */
#ifndef PARLAB_POOL_H
#define PARLAB_POOL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "../runners/runner.h"

enum pool_kind { POOL_FORK, POOL_THREAD };

/* Runs once in each worker before it takes work. `worker` is 0..W-1. */
typedef void (*pool_init_fn)(void *arg, unsigned worker);
/* One task of a map. ctx must point to memory every worker sees: memory that existed
 * before pool_create (each forked worker has its own copy of it) or shared memory. `arg`
 * travels through shared memory, so it may change between maps (the step number). */
typedef void (*pool_task_fn)(void *ctx, uint64_t arg, size_t task, unsigned worker);
/* A submitted call: reads `in`, writes `out`, returns 0 or a positive error code (the C
 * counterpart of a raised exception). */
typedef int (*pool_call_fn)(const void *in, void *out);

/* Why a map or a future failed. */
struct pool_error {
    int cause;        /* 0, POOL_CRASHED, POOL_TIMEOUT, POOL_DEADLOCK */
    long task;        /* the task running, or -1 */
    unsigned worker;
    pid_t pid;        /* the worker's pid (fork) or 0 */
    int signal;       /* the signal that killed it, or 0 */
    int exit_status;  /* its exit status if it exited, or -1 */
};
enum { POOL_CRASHED = 1, POOL_TIMEOUT, POOL_DEADLOCK };

/* Describe e as "task 3 (worker pid 1234) killed by SIGSEGV". */
void pool_error_str(const struct pool_error *e, enum pool_kind kind, char *buf, size_t n);

#define POOL_ARG_MAX 240      /* bytes of a submitted call's input or output */
#define POOL_FUTURES 1024     /* calls in flight at once */

struct pool;
struct pool_future;

/*
 * Start W workers (processes or threads) that run init(init_arg, w) once each and then
 * wait for work. arena_bytes of shared memory are reserved for copying map arguments to
 * workers (fork needs it: memory mapped after the fork is not shared). Returns the pool,
 * or NULL with *err = -errno (workers already started are stopped and reaped). When
 * ready_ns is not NULL it receives the time from the call until every worker is ready.
 * Parent only.
 */
struct pool *pool_create(enum pool_kind kind, unsigned workers, pool_init_fn init,
                         void *init_arg, size_t arena_bytes, int *err, uint64_t *ready_ns);

/* Limit how long one task may run (seconds, 0 = no limit). A task over it fails the map. */
void pool_set_task_timeout(struct pool *p, double seconds);

/*
 * Run fn(ctx, arg, i, w) for i in [0, n) on the workers under the schedule, and wait
 * until every worker has finished its share (the barrier). Returns 0, or -1 with *e
 * filled when a worker crashed or a task ran past its timeout; the pool is then broken
 * and only pool_destroy may follow. Parent only, one map at a time.
 */
int pool_map(struct pool *p, size_t n, enum sched_kind sched, size_t chunk,
             pool_task_fn fn, void *ctx, uint64_t arg, struct pool_error *e);

/* Shared bytes for map arguments: valid in every worker. NULL if arena_bytes was 0. */
void *pool_arena(struct pool *p, size_t *len);

/*
 * Queue fn(in, out) to run on some worker. Returns a future or NULL (errno EAGAIN when
 * POOL_FUTURES are in flight, EINVAL when in_len/out_len exceed POOL_ARG_MAX, EPIPE
 * when the pool is broken). A worker may submit to its own pool.
 */
struct pool_future *pool_submit(struct pool *p, pool_call_fn fn, const void *in,
                                size_t in_len, size_t out_len);
/*
 * Wait up to timeout_ms (<0: forever) for the future. Returns 0 with out filled, a
 * positive error the call returned, -ETIMEDOUT or -EDEADLK (when every worker would be
 * waiting on futures of its own pool; the call is still queued), or -ECHILD when its
 * worker died (e describes it). After -ETIMEDOUT and -EDEADLK the future stays valid;
 * after anything else it is released.
 */
int pool_future_get(struct pool_future *f, void *out, int timeout_ms, struct pool_error *e);
/* 1 once the future has a result (get will not block). In the parent of a process
 * pool it also reaps dead workers, failing their futures. */
int pool_future_done(struct pool_future *f);

/* The worker index of the caller if it is a worker of p, else -1. */
int pool_self(const struct pool *p);
unsigned pool_workers(const struct pool *p);
enum pool_kind pool_kind_of(const struct pool *p);
/* The pid of worker w (fork) or 0. */
pid_t pool_worker_pid(const struct pool *p, unsigned w);

/* Stop the workers after the work queued so far, reap them all and free the pool. If the
 * pool is broken, workers are killed instead. Parent only. */
void pool_destroy(struct pool *p);

#endif
