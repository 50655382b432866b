/* pool.h: the worker-pool engine behind the fork and thread runners and the fpool_/tpool_
 * libraries: map scheduling over workers that are processes or threads. How workers start
 * and end is a struct pool_ops (lib/start.c, and the fork runner's own in runners/fork.c);
 * the submitted calls (futures) are in future.h.
 *
 * Errors, for all of lib/ except the student-facing fpool_/tpool_ constructors: a function
 * returns 0 (or a count or an id) on success and a negative errno on failure; an object it
 * makes comes back through an out parameter. It cleans up what it took before failing. */
#ifndef PARLAB_POOL_H
#define PARLAB_POOL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "child.h"
#include "clock.h"
#include "outcome.h"
#include "schedule.h"

enum pool_kind { POOL_FORK, POOL_THREAD };

/* Runs once in each worker before it takes work. `worker` is 0..W-1. */
typedef void (*pool_init_fn)(void *arg, unsigned worker);
/* One task of a map. ctx must point to memory every worker sees: memory that existed
 * before pool_open (each forked worker has its own copy of it) or shared memory. `arg`
 * travels through shared memory, so it may change between maps (the step number). */
typedef void (*pool_task_fn)(void *ctx, uint64_t arg, size_t task, unsigned worker);

/* Why a map or a future failed. */
struct pool_error {
    int cause;        /* 0, POOL_CRASHED, POOL_TIMEOUT, POOL_DEADLOCK */
    long task;        /* the task running, or -1 */
    unsigned worker;
    pid_t pid;        /* the worker's pid (processes) or 0 */
    int signal;       /* the signal that killed it, or 0 */
    int exit_status;  /* its exit status if it exited, or -1 */
};
enum { POOL_CRASHED = 1, POOL_TIMEOUT, POOL_DEADLOCK };

/* Returns nothing: describes e in buf, as "task 3 (worker pid 1234) killed by SIGSEGV". */
void pool_error_str(const struct pool_error *e, enum pool_kind kind, char *buf, size_t n);

struct pool;

/* A started worker, as its pool_ops knows it. */
struct pool_handle {
    pid_t pid;            /* a worker process, or 0 */
    pthread_t thread;     /* a worker thread */
};

/*
 * How a pool's workers start and end. The engine calls these in the parent only.
 * start: begin worker w, which must call pool_worker_main(p, w) and then end (a process
 *        _exit(0)s). Fills *h. 0 or -errno.
 * reap:  has worker h ended? With block, wait until it has. 1 with *status (a wait(2)
 *        status) once it has ended and is reaped, else 0.
 * kill:  end worker h at once (it is reaped later). NULL when a worker cannot be stopped
 *        alone (a thread): a broken pool of such workers is abandoned, not freed.
 */
struct pool_ops {
    enum pool_kind kind;
    const char *what;     /* "process" or "thread", for messages */
    int (*start)(struct pool *p, unsigned w, struct pool_handle *h);
    int (*reap)(struct pool_handle *h, int block, int *status);
    void (*kill)(struct pool_handle *h);
};
/* Worker processes (child_fork, waitpid, kill) and threads (pthread_create, pthread_join),
 * both in lib/start.c. */
extern const struct pool_ops pool_processes;
extern const struct pool_ops pool_threads;
/* Returns the ops of kind: pool_processes for POOL_FORK, pool_threads for POOL_THREAD. */
const struct pool_ops *pool_ops_of(enum pool_kind kind);

/*
 * Start methods of a process pool, with Python's names and meanings (lib/start.c):
 * fork:       each worker is a fork() of the caller: it inherits all of its memory.
 * forkserver: each worker is a fork of a small server process that was forked early
 *             (pool_forkserver_start), before the job existed: it inherits only what the
 *             program had then.
 * spawn:      each worker is a fresh run of this program's binary (posix_spawn), which
 *             inherits nothing.
 * Under forkserver and spawn a worker learns its pool from a boot message on a socket:
 * the pool's fields, a boot function of the caller's with a short message (the runner
 * sends its job this way), and every shm.h region's memfd, each mapped at the parent's
 * address. Functions cross as addresses corrected by the distance between the two loads
 * of the binary (POOL_CODE); other pointers are valid in the worker only where they point
 * into shared memory.
 */
enum pool_start { POOL_START_FORK, POOL_START_FORKSERVER, POOL_START_SPAWN, POOL_START__COUNT };
/* Returns the method's name ("fork", "forkserver", "spawn"), or "?". */
const char *pool_start_name(enum pool_start m);
/* Returns 0 with *out set, or -EINVAL if s names no start method. */
int pool_start_parse(const char *s, enum pool_start *out);
/* Returns the process ops of method m: pool_processes for fork. */
const struct pool_ops *pool_ops_start(enum pool_start m);
extern const struct pool_ops pool_processes_forkserver, pool_processes_spawn;
/* Fork the forkserver now, if it is not running; a forkserver pool starts it at its
 * first use otherwise (from whatever the program holds then). Returns 0 or -errno.
 * Parent only. */
int pool_forkserver_start(void);
/* Returns nothing: stops the forkserver and reaps it (its workers are the caller's
 * children, unharmed). */
void pool_forkserver_stop(void);
/* Returns the binary spawn runs: this program's, as /proc/self/exe named it when first asked
 * (the program's start, if it calls pool_worker_entry), or $PARLAB_SPAWN_EXE (tests
 * only: a path that cannot run). */
const char *pool_spawn_exe(void);
/* Call first in main(): in a process that spawn started as a worker, this runs the
 * worker and never returns; in any other it notes the binary's path and returns
 * nothing. The C
 * counterpart of Python's `if __name__ == "__main__":` guard. */
void pool_worker_entry(int argc, char **argv);

/* In a worker that booted from a message, functions of the program are at their parent
 * address plus this (0 everywhere else). */
extern intptr_t pool_code_bias;
#define POOL_CODE(type, fn) ((type)(void *)((uintptr_t)(fn) + (uintptr_t)pool_code_bias))
#define POOL_BOOT_MSG_MAX 768
/* Returns nothing: for a boot function, makes ctx the context of every map in this
 * worker instead of the parent's. */
void pool_set_local_ctx(struct pool *local, void *ctx);

/* What a pool may be given beyond its workers; NULL means none of it. */
struct pool_config {
    pool_init_fn init;    /* run once per worker before it takes work, or NULL */
    void *init_arg;
    size_t arena_bytes;   /* shared bytes for map arguments (memory mapped after a fork
                             is not shared), or 0 */
    uint64_t *ready_ns;   /* receives the time from the call until every worker is ready */
    /* Forkserver and spawn: run boot(local, msg, len) in each worker before its
     * initializer, with a copy of boot_msg (at most POOL_BOOT_MSG_MAX bytes): it rebuilds
     * what the worker needs and may call pool_set_local_ctx. Ignored by fork and threads. */
    void (*boot)(struct pool *local, const void *msg, size_t len);
    const void *boot_msg;
    size_t boot_len;
};

/*
 * Start W workers with ops, run each one's initializer, and return once all of them wait
 * for work. 0 with *out set, or -errno (-EINVAL for W = 0, -ECHILD when a worker died in
 * its initializer) with every worker already started stopped and reaped. Parent only.
 */
int pool_open(struct pool **out, const struct pool_ops *ops, unsigned workers,
              const struct pool_config *cfg);

/* The body of every worker: the initializer, then take maps and calls until the pool
 * closes. Called by pool_ops.start in the new worker; returns nothing, once the pool
 * closes. */
void pool_worker_main(struct pool *p, unsigned w);

/* The older form of pool_open, kept for its callers: returns the pool, or NULL with
 * *err = -errno. */
struct pool *pool_create(enum pool_kind kind, unsigned workers, pool_init_fn init,
                         void *init_arg, size_t arena_bytes, int *err, uint64_t *ready_ns);

/* Returns nothing: limits how long one task may run (seconds, 0 = no limit). A task over
 * it fails the map. */
void pool_set_task_timeout(struct pool *p, double seconds);

/*
 * Run fn(ctx, arg, i, w) for i in [0, n) on the workers under the schedule, and wait
 * until every worker has finished its share (the barrier). Returns 0, or -ECHILD (a worker
 * died) or -ETIMEDOUT (a task ran past its timeout) with *e filled; the pool is then
 * broken and only pool_destroy may follow. Parent only, one map at a time.
 */
int pool_map(struct pool *p, size_t n, enum sched_kind sched, size_t chunk,
             pool_task_fn fn, void *ctx, uint64_t arg, struct pool_error *e);

/* Returns the shared bytes for map arguments (valid in every worker), *len of them, or
 * NULL if arena_bytes was 0. */
void *pool_arena(struct pool *p, size_t *len);

/* Returns the worker index of the caller if it is a worker of p, else -1. */
int pool_self(const struct pool *p);
/* Returns the number of workers. */
unsigned pool_workers(const struct pool *p);
/* Returns whether the workers are processes or threads. */
enum pool_kind pool_kind_of(const struct pool *p);
/* Returns the pid of worker w (processes), or 0. */
pid_t pool_worker_pid(const struct pool *p, unsigned w);

/*
 * A job as a pool runs it, whatever the job is: `steps` maps of `tasks` tasks each, under
 * one schedule, with the step number as the `arg` of every task of its map and each
 * map's end the barrier between steps. A runner fills it with its own fn and ctx.
 */
struct pool_steps {
    unsigned workers;         /* >= 1 */
    unsigned steps;
    size_t tasks;
    enum sched_kind sched;
    size_t chunk;             /* 0: the schedule's default */
    double task_timeout_s;    /* 0: none. Only workers that can be killed alone (processes)
                                 are held to it: a thread past it is left to the caller */
    pool_task_fn fn;
    void *ctx;                /* as for pool_map: memory every worker sees */
};

/*
 * Run every step of s on one pool whose workers ops starts (cfg as for pool_open), then
 * stop the pool. Returns 0, or -1 with out filled: PARLAB_EXIT_OS when the workers cannot
 * start, PARLAB_EXIT_SOFTWARE when a worker died or a task ran past the timeout (the pool
 * is shut down and the tasks not yet run are dropped, not rerun). Parent only.
 */
int pool_run(const struct pool_ops *ops, const struct pool_steps *s,
             const struct pool_config *cfg, struct outcome *out);

/* Returns nothing: stops the workers after the work queued so far, reaps them all and
 * frees the pool. If the pool is broken, workers are killed instead. Parent only. */
void pool_destroy(struct pool *p);

#include "future.h"   /* submitted calls: pool_submit, pool_future_get, ... */

#endif
