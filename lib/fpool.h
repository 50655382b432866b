/* fpool.h: a pool of worker processes for C programs, in the shape of Python's
 * multiprocessing.Pool: create with an initializer, map, starmap, submit returning a
 * future, get with a timeout, collect as completed, close/join, terminate. tpool.h is the
 * same library with threads for workers.
 *
 * The rules that come from processes, not from the API:
 * - A worker is a fork of the process that called fpool_create (fpool_create_start
 *   offers Python's other start methods, forkserver and spawn, with stricter rules: see
 *   there). It sees the memory that existed then as its own copy: a global it writes changes only its copy, and memory
 *   the parent maps or allocates later does not exist in it. Inputs and results
 *   therefore travel by value (copied through shared memory), and a pointer passed in
 *   an input is valid in a worker only if it points to memory made before
 *   fpool_create, or to shared memory (mmap MAP_SHARED).
 * - Functions run in workers, so they must be in the program (not in a library
 *   loaded after fpool_create).
 * - A task that crashes kills its worker: the pool is then broken (like Python's
 *   BrokenProcessPool), every pending future fails with -ECHILD, and fpool_strerror()
 *   names the task and the signal.
 *
 * Errors: functions return 0, a positive error code that a task returned (the C
 * counterpart of an exception raised in the worker), or a negative errno. After any
 * non-zero status, fpool_strerror() describes it.
 */
#ifndef PARLAB_FPOOL_H
#define PARLAB_FPOOL_H

#include <stddef.h>
#include <stdint.h>

struct fpool;
struct fpool_future;

/* Runs once in each worker, before it takes any work: load a config, open a file, seed
 * a generator (Pool(initializer=..., initargs=...)). `worker` is 0..workers-1. It may not
 * use the pool itself. */
typedef void (*fpool_init_fn)(void *arg, unsigned worker);

/* A task: reads `in`, writes `out` (both aligned for any type; `out` starts zeroed for
 * a submitted call, and is the result's slot, not cleared, in a map), returns 0 or a
 * positive error code. A negative return is taken as its absolute value, so
 * `return -EIO` and `return EIO` both mean EIO. stdout is flushed after each task: a
 * worker process ends with _exit, which would drop output still buffered. */
typedef int (*fpool_fn)(const void *in, void *out);

/*
 * starmap's argument tuples. C has no tuples, so a tuple is up to FPOOL_ARGC_MAX
 * scalar arguments, each a union member the function and its caller agree on:
 *     static int power(unsigned argc, const union fpool_arg *argv, void *out)
 *     { ... argv[0].i ... argv[1].i ... }
 *     struct fpool_args jobs[] = { FPOOL_ARGS({.i = 2}, {.i = 3}), ... };
 * FPOOL_ARGS counts its arguments at compile time. A `p` pointer follows the pointer
 * rule above.
 */
union fpool_arg {
    int64_t i;
    uint64_t u;
    double d;
    const void *p;
};
#define FPOOL_ARGC_MAX 6
struct fpool_args {
    unsigned argc;
    union fpool_arg argv[FPOOL_ARGC_MAX];
};
#define FPOOL_ARGS(...)                                                                   \
    { .argc = (unsigned)(sizeof((union fpool_arg[]){ __VA_ARGS__ }) /                     \
                         sizeof(union fpool_arg)),                                        \
      .argv = { __VA_ARGS__ } }
typedef int (*fpool_star_fn)(unsigned argc, const union fpool_arg *argv, void *out);

#define FPOOL_ARG_MAX 208          /* bytes of a submitted call's input */
#define FPOOL_OUT_MAX 240          /* bytes of a submitted call's result */
#define FPOOL_ARENA_BYTES (1u << 20)   /* shared bytes one map round copies through */

/*
 * Start `workers` worker processes (0: the CPUs this process may use, like
 * os.cpu_count()), each running init(arg, w) once (init may be NULL), and wait until
 * every initializer has run. stdio is flushed first, so that workers do not inherit,
 * and later repeat, output still buffered in the parent. Returns the pool, or NULL
 * with errno set (ECHILD: a worker died in its initializer). The caller owns the pool
 * and ends it with fpool_join (after fpool_close) or fpool_terminate. Any process may
 * create a pool; only the creating process may map, close, join or terminate it.
 */
struct fpool *fpool_create(unsigned workers, fpool_init_fn init, void *arg);

/*
 * fpool_create with a start method, Python's multiprocessing.get_context(method).Pool:
 * "fork" (NULL too) is fpool_create; "forkserver" forks each worker from a server forked
 * earlier (by fpool_forkserver_start, or else at this first use); "spawn" runs this
 * program's binary afresh for each worker, which works only if main() begins with
 * fpool_worker_entry(argc, argv), the C form of `if __name__ == "__main__":` (without it,
 * each worker runs the program's main again). Under forkserver and spawn a worker has
 * none of the caller's memory: functions cross by name (their place in the binary), and
 * pointers in inputs, and `arg`, are valid only if they point into memory made by
 * shm_map (lib/shm.h) before the pool, which each worker maps at the same address (or arg
 * is NULL); map and submit copy their inputs as under fork. A task may not use its own
 * pool (nested submits need the caller's memory). NULL with errno EINVAL for an
 * unknown method; otherwise as fpool_create.
 */
struct fpool *fpool_create_start(const char *method, unsigned workers, fpool_init_fn init,
                                 void *arg);
/* Fork the forkserver now, while the program holds little (Python forks it from a fresh
 * interpreter); 0 or -errno. Stop it, and reap it, with fpool_forkserver_stop. */
int fpool_forkserver_start(void);
void fpool_forkserver_stop(void);
/* First thing in main() of a program that uses "spawn": in a spawned worker it runs the
 * worker and never returns; otherwise it returns at once. */
void fpool_worker_entry(int argc, char **argv);

/* The number of workers. */
unsigned fpool_workers(const struct fpool *p);

/*
 * Pool.map: for i in [0, n), out[i] = fn(in[i]), where in and out are arrays of n
 * items of in_size and out_size bytes (out may be NULL when out_size is 0). Workers
 * take chunks of `chunksize` items as they become free (0: Python's default,
 * n / (4 * workers) rounded up). Results are in input order whatever the schedule.
 * Returns 0; the error code of the lowest-indexed input whose task failed (every task
 * still runs, and every other result is written); -ECHILD if a worker died (the pool is
 * broken); -EPIPE if it was broken before; -ESHUTDOWN after fpool_close; -EINVAL when
 * in_size is 0; -E2BIG when one item does not fit in FPOOL_ARENA_BYTES; -EDEADLK when
 * called from a task of this pool. The creating process only, one map at a time.
 */
int fpool_map(struct fpool *p, fpool_fn fn, const void *in, size_t in_size, void *out,
              size_t out_size, size_t n, size_t chunksize);

/* Pool.starmap: fpool_map over argument tuples, out[i] = fn(in[i].argc, in[i].argv).
 * Same results and rules as fpool_map. */
int fpool_starmap(struct fpool *p, fpool_star_fn fn, const struct fpool_args *in,
                  void *out, size_t out_size, size_t n, size_t chunksize);

/* How many items of in_size + out_size bytes one map round carries: a map of more items
 * runs in several rounds, each copied in and out. 0 when one item does not fit. (tpool
 * maps copy nothing, so they have no rounds.) */
size_t fpool_map_round(const struct fpool *p, size_t in_size, size_t out_size);

/*
 * apply_async / Executor.submit: queue fn(in) to run on some worker; in_size bytes of
 * `in` are copied now (at most FPOOL_ARG_MAX), and the result of out_size bytes (at most
 * FPOOL_OUT_MAX) comes back through the future. Returns the future, which the caller
 * must end with fpool_future_get (any status but -ETIMEDOUT and -EDEADLK) or
 * fpool_future_discard; or NULL with errno: EINVAL (sizes), EAGAIN (1024 calls already
 * in flight), ESHUTDOWN (after fpool_close; a task of the pool may still submit until
 * join returns), EPIPE (the pool is broken), ENOMEM. Any process or thread that can
 * see the pool may submit, a task of the pool included; a future is used by the process
 * that submitted it, and by one thread at a time.
 */
struct fpool_future *fpool_submit(struct fpool *p, fpool_fn fn, const void *in,
                                  size_t in_size, size_t out_size);

/*
 * Wait up to timeout_ms (< 0: forever) for f's result and copy it to out (which may be
 * NULL). Returns 0, the task's positive error code (out is written all the same),
 * -ETIMEDOUT (f stays valid: get it again later), -EDEADLK (called from a task, and
 * every worker would be waiting: f stays valid and its call stays queued, so discard it
 * or let the task return), -ECHILD (a worker died; fpool_strerror() names the task and
 * the signal), or -ECANCELED (fpool_terminate came first). Except for -ETIMEDOUT and
 * -EDEADLK, f is freed. After fpool_join or fpool_terminate, futures still held keep
 * their results and may be got without the pool.
 */
int fpool_future_get(struct fpool_future *f, void *out, int timeout_ms);

/* 1 when get will not block (the result is in), else 0. */
int fpool_future_done(const struct fpool_future *f);

/* The future's task number: calls are numbered 0, 1, 2, ... per pool in submission
 * order, and messages name the task by this number. */
uint64_t fpool_future_id(const struct fpool_future *f);

/* Give up on f and free it: a call still queued or running runs all the same, and its
 * result is dropped. */
void fpool_future_discard(struct fpool_future *f);

/*
 * as_completed / imap_unordered: wait up to timeout_ms (< 0: forever) until one of the
 * non-NULL futures in fs[0..n) has its result, and return its index; fpool_future_get
 * on it will not block. The caller collects it, sets fs[i] = NULL, and calls again:
 *     while ((i = fpool_as_completed(fs, n, -1)) >= 0) {
 *         fpool_future_get(fs[i], &r, 0);
 *         fs[i] = NULL;
 *     }
 * Returns the index, -ENOENT when every entry is NULL, -ETIMEDOUT, or -EDEADLK (see
 * get). The futures may belong to different pools.
 */
long fpool_as_completed(struct fpool_future *const fs[], size_t n, int timeout_ms);

/*
 * Callbacks, as Pool.apply_async(callback=..., error_callback=...) and map_async take them.
 * They run in the parent, never in a worker: in the thread that stores the result, which
 * is the thread calling fpool_poll, fpool_future_get or fpool_as_completed on the future,
 * or fpool_join (for apply_async), or fpool_map_async_get (for map_async), once per call,
 * with no lock of the pool held (a callback may submit). Python runs them in the pool's
 * result-handler thread as results come in; here they run when the program asks, so
 * fpool_poll is that thread's loop, and calls them in the order the results came in.
 * callback gets the result (out_size bytes; for map_async, the out array); error_callback
 * gets the status get would return (a task's positive error code, -ECHILD, -ECANCELED)
 * and fpool_strerror's text.
 */
typedef void (*fpool_callback_fn)(const void *result, void *arg);
typedef void (*fpool_error_callback_fn)(int status, const char *why, void *arg);

/*
 * Pool.apply_async(fn, (in,), callback=, error_callback=): fpool_submit with callbacks
 * (either may be NULL) and their arg. With future NULL the pool owns the call, and frees it
 * after its callback (fire and forget, then fpool_poll or close/join); otherwise *future
 * is the caller's, to get or discard as any future (discarded: no callback). 0, or a
 * negative errno as fpool_submit sets it.
 */
int fpool_apply_async(struct fpool *p, fpool_fn fn, const void *in, size_t in_size,
                      size_t out_size, fpool_callback_fn callback,
                      fpool_error_callback_fn error_callback, void *arg,
                      struct fpool_future **future);
/* Run the callbacks of every call whose result is in, waiting up to timeout_ms (< 0:
 * until none with callbacks is left) for the rest. Returns how many ran, or -EPERM
 * outside the creating process. */
int fpool_poll(struct fpool *p, int timeout_ms);

/*
 * Pool.imap (in input order) and Pool.imap_unordered (in completion order): iterate over
 * fn(in[i]) for i in [0, n). Items go `chunksize` to a call (0 or 1: one each; more is
 * cut to what one call carries, FPOOL_ARG_MAX - 16 bytes of input and FPOOL_OUT_MAX of
 * results and status bytes), at most 64 calls in flight, submitted as the caller takes
 * results; `in` must stay valid until the iterator is freed. NULL with errno EINVAL or
 * E2BIG (an item too large for one call). The creating process, one thread.
 */
struct fpool_iter;
struct fpool_iter *fpool_imap(struct fpool *p, fpool_fn fn, const void *in, size_t in_size,
                              size_t out_size, size_t n, size_t chunksize);
struct fpool_iter *fpool_imap_unordered(struct fpool *p, fpool_fn fn, const void *in,
                                        size_t in_size, size_t out_size, size_t n,
                                        size_t chunksize);
/* The next result into out and its input index into *index. Returns 0, the item's
 * positive error code (out is written all the same; iteration goes on), -ENOENT at the
 * end, -ETIMEDOUT (call again), -ECHILD when a worker died (*index: the first item of
 * the lost chunk; fpool_strerror names the items and the signal; the iteration is over:
 * -EPIPE after). */
int fpool_iter_next(struct fpool_iter *it, void *out, size_t *index, int timeout_ms);
/* End the iteration: calls still in flight are discarded. */
void fpool_iter_free(struct fpool_iter *it);

/*
 * Pool.map_async: fpool_map in a thread of the parent, started now; returns its handle
 * (or NULL with errno), which fpool_map_async_get waits for up to timeout_ms (< 0:
 * forever), then runs callback(out, arg) or error_callback in the calling thread, frees
 * the handle and returns what fpool_map returned; -ETIMEDOUT leaves it running (get again).
 * While it runs the map is the pool's one map: the caller may not map, join or terminate,
 * nor get futures of the same pool in other threads, until it is got.
 */
struct fpool_async;
struct fpool_async *fpool_map_async(struct fpool *p, fpool_fn fn, const void *in,
                                    size_t in_size, void *out, size_t out_size, size_t n,
                                    size_t chunksize, fpool_callback_fn callback,
                                    fpool_error_callback_fn error_callback, void *arg);
int fpool_map_async_get(struct fpool_async *a, int timeout_ms);

/* Pool.close: no more submits or maps from outside the pool. Creating process only. */
void fpool_close(struct fpool *p);

/*
 * Pool.join: wait until every queued call has run, store the results in the futures
 * still held, stop and reap the workers, and free p. Returns 0, -EINVAL (not closed:
 * nothing happens), -EPERM/-EDEADLK (not the creating process, or a task of the pool:
 * nothing happens), or -ECHILD (a worker had died; p is still freed). The creating
 * process only, when no other thread is using the pool or a future of it.
 */
int fpool_join(struct fpool *p);

/*
 * Pool.terminate: stop now. Calls not yet started are dropped, workers are killed
 * (SIGKILL) and reaped, and p is freed. Futures still held keep a result that was
 * already in; the rest get -ECANCELED. The creating process only, when no other thread
 * is using the pool or a future of it.
 */
void fpool_terminate(struct fpool *p);

/* What the last failure returned by this library in the calling thread was, e.g.
 * "task 3 (worker pid 1234) killed by SIGSEGV". Valid until that thread's next failure. */
const char *fpool_strerror(void);

/* For tpool.c: the same pool with threads for workers (thread != 0). */
struct fpool *fpool__create(int thread, unsigned workers, fpool_init_fn init, void *arg);

#endif
