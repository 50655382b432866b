/* fpool.c: the fpool_ (process) and tpool_ (thread) pool libraries, thin typed wrappers
 * over the pool engine (pool.h). What they add: map results in input order over any
 * item size, starmap tuples, task numbers in error messages, futures that outlive the
 * pool, as_completed, close/join/terminate. This file: making a pool, map and starmap,
 * and ending a pool; submitted calls are fpool_future.c, imap and map_async fpool_iter.c.
 * A circle on purpose with fpool_future: a future reports a crash in this file's task
 * numbers, and join and terminate here collect the futures still out. */
#define _GNU_SOURCE
#include "fpool_internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

__thread char fpool__why[256];

const char *fpool_strerror(void)
{
    return fpool__why;
}

/* Record why the call fails in this thread and return rc, for `return fpool__fail(...)`. */
int fpool__fail(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fpool__why, sizeof fpool__why, fmt, ap);
    va_end(ap);
    return rc;
}

static void init_trampoline(void *arg, unsigned worker)
{
    struct fp_shared *sh = arg;
    if (sh->init)
        POOL_CODE(fpool_init_fn, sh->init)(sh->init_arg, worker);
}

static struct fpool *create(int thread, enum pool_start start, unsigned workers,
                            fpool_init_fn init, void *arg)
{
    struct fpool *fp = calloc(1, sizeof *fp);
    int err = 0;

    if (!fp)
        return NULL;
    if (workers == 0)
        workers = cpus_allowed();
    fp->kind = thread ? POOL_THREAD : POOL_FORK;
    fp->workers = workers;
    fp->creator = getpid();
    fp->init = init;
    fp->init_arg = arg;
    pthread_mutex_init(&fp->lock, NULL);
    fp->sh_len = sizeof *fp->sh + fp->workers * sizeof fp->sh->w[0];
    fp->sh = shm_map(fp->sh_len, 0);
    if (!fp->sh) {
        err = errno;
        goto err;
    }
    fp->sh->init = init;
    fp->sh->init_arg = arg;
    for (unsigned w = 0; w < fp->workers; w++)
        atomic_init(&fp->sh->w[w].call, -1);
    /* A worker process ends with _exit, which drops what stdio still buffers: a task's
     * printf to a pipe or file would vanish. Flushing after each task keeps it (cheap
     * when nothing was printed). */
    fp->sh->flush = !thread;
    if (!thread)
        fflush(NULL);
    /* Threads share memory, so only a process pool needs an arena to copy maps through. */
    struct pool_config cfg = { .init = init_trampoline, .init_arg = fp->sh,
                               .arena_bytes = thread ? 0 : FPOOL_ARENA_BYTES };
    if ((err = pool_open(&fp->sh->pool, thread ? &pool_threads : pool_ops_start(start),
                         fp->workers, &cfg))) {
        err = -err;
        shm_unmap(fp->sh, fp->sh_len);
        goto err;
    }
    return fp;

err:
    pthread_mutex_destroy(&fp->lock);
    free(fp);
    fpool__fail(-err, "cannot start %u worker %s: %s", workers, thread ? "threads" : "processes",
         strerror(err));
    errno = err;
    return NULL;
}

struct fpool *fpool__create(int thread, unsigned workers, fpool_init_fn init, void *arg)
{
    return create(thread, POOL_START_FORK, workers, init, arg);
}

struct fpool *fpool_create(unsigned workers, fpool_init_fn init, void *arg)
{
    return create(0, POOL_START_FORK, workers, init, arg);
}

struct fpool *fpool_create_start(const char *method, unsigned workers, fpool_init_fn init,
                                 void *arg)
{
    enum pool_start m = POOL_START_FORK;
    if (method && pool_start_parse(method, &m)) {
        fpool__fail(-EINVAL, "unknown start method '%s' (fork, forkserver, spawn)", method);
        errno = EINVAL;
        return NULL;
    }
    return create(0, m, workers, init, arg);
}

int fpool_forkserver_start(void)
{
    return pool_forkserver_start();
}

void fpool_forkserver_stop(void)
{
    pool_forkserver_stop();
}

void fpool_worker_entry(int argc, char **argv)
{
    pool_worker_entry(argc, argv);
}

unsigned fpool_workers(const struct fpool *p)
{
    return p->workers;
}

/* Name a dead worker's task by the numbers this library gives: the call the worker was
 * running, or, inside a map, the input index (map_base: the first input of the round).
 * The engine reports the first death to everyone, so it is translated once. */
void fpool__describe_crash(struct fpool *fp, struct pool_error *e, long map_base)
{
    if (e->cause == POOL_CRASHED || e->cause == POOL_TIMEOUT) {
        if (fp->crashed) {
            *e = fp->crash;
        } else {
            int64_t call = e->worker < fp->workers ? atomic_load(&fp->sh->w[e->worker].call)
                                                   : -1;
            if (call >= 0)
                e->task = (long)call;
            else if (map_base >= 0 && e->task >= 0)
                e->task += map_base;
            else
                e->task = -1;   /* it died between tasks */
            fp->crash = *e;
            fp->crashed = 1;
        }
    }
    pool_error_str(e, fp->kind, fpool__why, sizeof fpool__why);
}

/* ---- map -------------------------------------------------------------------------- */

static void map_task(void *ctx, uint64_t arg, size_t i, unsigned worker)
{
    const struct fp_shared *sh = ctx;
    const void *in = sh->in + i * sh->in_size;
    void *out = sh->out ? sh->out + i * sh->out_size : NULL;
    int rc;
    (void)arg;
    (void)worker;
    if (sh->star) {
        const struct fpool_args *a = in;
        rc = POOL_CODE(fpool_star_fn, sh->star)(a->argc < FPOOL_ARGC_MAX ? a->argc : FPOOL_ARGC_MAX, a->argv, out);
    } else {
        rc = POOL_CODE(fpool_fn, sh->fn)(in, out);
    }
    sh->err[i] = rc < 0 ? -rc : rc;
    if (sh->flush)
        fflush(stdout);
}

static size_t align64(size_t n)
{
    return (n + 63) & ~(size_t)63;
}

size_t fpool_map_round(const struct fpool *p, size_t in_size, size_t out_size)
{
    size_t len, per = in_size + out_size + sizeof(int);
    if (p->kind == POOL_THREAD)
        return SIZE_MAX;
    pool_arena(engine(p), &len);
    /* Three regions, each starting on a cache line: in, out, error codes. */
    return len > 2 * 64 ? (len - 2 * 64) / per : 0;
}

/* Who may run a map, join or terminate: the creating process, outside the pool. */
static int check_owner(const struct fpool *fp, const char *what)
{
    if (pool_self(engine(fp)) >= 0)
        return fpool__fail(-EDEADLK, "%s from a task of the same pool would wait on itself", what);
    if (getpid() != fp->creator)
        return fpool__fail(-EPERM, "%s: only the process that created the pool may do it", what);
    return 0;
}

static int map_any(struct fpool *fp, fpool_fn fn, fpool_star_fn star, const void *in,
                   size_t in_size, void *out, size_t out_size, size_t n, size_t chunksize)
{
    struct fp_shared *sh = fp->sh;
    struct pool *pool = engine(fp);
    size_t round, bad = SIZE_MAX;
    int rc = check_owner(fp, "map"), bad_rc = 0;
    unsigned char *arena = pool_arena(pool, NULL);

    if (rc)
        return rc;
    if (atomic_load(&fp->closed))
        return fpool__fail(-ESHUTDOWN, "map on a closed pool");
    if (fp->crashed)
        return fpool__fail(-EPIPE, "map: the pool is broken (a worker died)");
    if (in_size == 0 || (n && !in) || (out_size && n && !out))
        return fpool__fail(-EINVAL, "map: no input, or no room for the results");
    if (n == 0)
        return 0;
    round = fpool_map_round(fp, in_size, out_size);
    if (round == 0)
        return fpool__fail(-E2BIG, "map: an item of %zu + %zu bytes does not fit in the %u-byte arena",
                    in_size, out_size, FPOOL_ARENA_BYTES);
    if (round > n)
        round = n;
    if (chunksize == 0)   /* Pool.map's default: about four chunks per worker */
        chunksize = (n + 4 * (size_t)fp->workers - 1) / (4 * (size_t)fp->workers);

    sh->fn = fn;
    sh->star = star;
    sh->in_size = in_size;
    sh->out_size = out_size;
    if (fp->kind == POOL_THREAD) {
        /* Threads read the inputs and write the results where they are. */
        sh->in = in;
        sh->out = out;
        sh->err = calloc(n, sizeof *sh->err);
        if (!sh->err)
            return fpool__fail(-ENOMEM, "map: no memory for %zu error codes", n);
    } else {
        /* Workers cannot see the caller's arrays (they were copied at fork, or did not
         * exist yet), so each round is copied into the shared arena and the results
         * copied back: this copy is C's pickling. */
        sh->in = arena;
        sh->out = out_size ? arena + align64(round * in_size) : NULL;
        sh->err = (int *)(void *)(arena + align64(round * in_size) + align64(round * out_size));
    }

    for (size_t base = 0; base < n; base += round) {
        size_t k = n - base < round ? n - base : round;
        struct pool_error e;
        if (fp->kind == POOL_FORK)
            memcpy(arena, (const unsigned char *)in + base * in_size, k * in_size);
        if (pool_map(pool, k, SCHED_DYNAMIC, chunksize, map_task, sh, 0, &e)) {
            fpool__describe_crash(fp, &e, (long)base);
            rc = e.cause == POOL_TIMEOUT ? -ETIMEDOUT : -ECHILD;
            break;
        }
        if (fp->kind == POOL_FORK && out_size)
            memcpy((unsigned char *)out + base * out_size, sh->out, k * out_size);
        for (size_t i = 0; i < k && bad == SIZE_MAX; i++)
            if (sh->err[i]) {
                bad = base + i;
                bad_rc = sh->err[i];
            }
    }
    if (fp->kind == POOL_THREAD)
        free(sh->err);
    if (rc)
        return rc;
    if (bad != SIZE_MAX)
        return fpool__fail(bad_rc, "task %zu returned error %d (%s)", bad, bad_rc, strerror(bad_rc));
    return 0;
}

int fpool_map(struct fpool *p, fpool_fn fn, const void *in, size_t in_size, void *out,
              size_t out_size, size_t n, size_t chunksize)
{
    return map_any(p, fn, NULL, in, in_size, out, out_size, n, chunksize);
}

int fpool_starmap(struct fpool *p, fpool_star_fn fn, const struct fpool_args *in,
                  void *out, size_t out_size, size_t n, size_t chunksize)
{
    return map_any(p, NULL, fn, in, sizeof *in, out, out_size, n, chunksize);
}


/* ---- ending a pool ------------------------------------------------------------------ */

void fpool_close(struct fpool *p)
{
    atomic_store(&p->closed, 1);
}

/* After the engine is gone: free discarded futures and detach the rest with rc (their
 * results, if any, were stored before). */
static void detach_all(struct fpool *fp, int rc)
{
    pthread_mutex_lock(&fp->lock);
    while (fp->live) {
        struct fpool_future *f = fp->live;
        fpool__list_del(fp, f);
        f->pf = NULL;
        f->owner = NULL;
        f->rc = rc;
        if (f->discarded || f->pool_owned)
            free(f);
    }
    fp->discarded = 0;
    pthread_mutex_unlock(&fp->lock);
}

static void free_pool(struct fpool *fp)
{
    shm_unmap(fp->sh, fp->sh_len);
    pthread_mutex_destroy(&fp->lock);
    free(fp);
}

/* The first future this process holds that is still waiting on the engine and that
 * join must collect: not discarded, not a task's own (that task collects it). */
static struct fpool_future *next_to_collect(struct fpool *fp, int done_only)
{
    struct fpool_future *f;
    pthread_mutex_lock(&fp->lock);
    for (f = fp->live; f; f = f->next)
        if (!f->discarded && !f->by_worker && (!done_only || pool_future_done(f->pf)))
            break;
    pthread_mutex_unlock(&fp->lock);
    return f;
}

int fpool_join(struct fpool *p)
{
    struct fpool_future *f;
    struct pool_error e;
    int rc = check_owner(p, "join");

    if (rc)
        return rc;
    if (!atomic_load(&p->closed))
        return fpool__fail(-EINVAL, "join before close: the pool could still get work");
    /* Collect while the workers run: the results must leave shared memory before the
     * engine unmaps it. The lock is not held while waiting: tasks may still submit. */
    while ((f = next_to_collect(p, 0)) != NULL) {
        rc = pool_future_get(f->pf, f->out, -1, &e);
        fpool__store(f, rc, &e);
        if (f->pool_owned)
            free(f);
    }
    pool_destroy(engine(p));
    detach_all(p, -ECANCELED);
    rc = p->crashed ? -ECHILD : 0;
    free_pool(p);
    return rc ? fpool__fail(rc, "join: a worker of the pool had died") : 0;
}

void fpool_terminate(struct fpool *p)
{
    struct fpool_future *f;
    struct pool_error e;
    struct pool *pool = engine(p);

    if (check_owner(p, "terminate"))
        return;
    /* Results already in are kept, as Python keeps them in their AsyncResults. */
    while ((f = next_to_collect(p, 1)) != NULL) {
        fpool__store(f, pool_future_get(f->pf, f->out, 0, &e), &e);
        if (f->pool_owned)
            free(f);
    }
    atomic_store(&p->sh->cancel, 1);
    if (p->kind == POOL_FORK) {
        for (unsigned w = 0; w < p->workers; w++) {
            pid_t pid = pool_worker_pid(pool, w);
            siginfo_t si;
            /* Kill only a worker that is still our unreaped child: a pid the engine has
             * already reaped may belong to another process by now. */
            if (pid > 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
                kill(pid, SIGKILL);
        }
    }
    /* Fork: reaps the killed workers. Threads cannot be killed: the queue drains as
     * dropped calls, and calls already running are waited for. */
    pool_destroy(pool);
    detach_all(p, -ECANCELED);
    free_pool(p);
}
