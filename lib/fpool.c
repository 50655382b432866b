/* fpool.c: the fpool_ (process) and tpool_ (thread) pool libraries, thin typed wrappers
 * over the pool engine (pool.h). What they add: map results in input order over any
 * item size, starmap tuples, task numbers in error messages, futures that outlive the
 * pool, as_completed, close/join/terminate. */
#define _GNU_SOURCE
#include "fpool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
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

#include "pool.h"
#include "shm.h"

/* What a submitted call carries ahead of its input, inside the engine's POOL_ARG_MAX. */
struct fp_call {
    fpool_fn fn;            /* a function of the program (POOL_CODE in the worker) */
    struct fp_shared *sh;   /* shared: valid in every worker, however it started */
    uint64_t id;
    uint32_t in_size, out_size;
};
_Static_assert(sizeof(struct fp_call) + FPOOL_ARG_MAX <= POOL_ARG_MAX, "FPOOL_ARG_MAX");
_Static_assert(FPOOL_OUT_MAX <= POOL_ARG_MAX, "FPOOL_OUT_MAX");

/* Per worker, one cache line: the call it is running, or -1, so that a crash can be
 * reported by task number. Written by the worker, read by the parent after it died. */
struct fp_slot {
    alignas(64) _Atomic int64_t call;
};

/*
 * State the workers read, in one MAP_SHARED mapping made before they start, so that
 * forked workers see the parent's later writes to it. The parent writes the map fields
 * before pool_map publishes the round (the engine's release/acquire orders them), and
 * `pool` before any work is queued.
 */
struct fp_shared {
    struct pool *pool;               /* the parent's: workers compare it, never follow it */
    fpool_init_fn init;              /* the initializer and its argument */
    void *init_arg;
    int flush;                       /* workers are processes: flush stdout per task */
    _Atomic uint64_t next_id;        /* call numbers, drawn by whoever submits */
    _Atomic uint32_t cancel;         /* terminate: calls not yet started are dropped */
    fpool_fn fn;                     /* the current map round: fn or star */
    fpool_star_fn star;
    const unsigned char *in;
    unsigned char *out;
    int *err;
    size_t in_size, out_size;
    struct fp_slot w[];
};

/*
 * The pool as the creating process sees it. A forked worker has a copy made while
 * fpool_create ran: it reaches the engine through sh (shared), never through fields
 * written after the fork.
 */
struct fpool {
    enum pool_kind kind;
    unsigned workers;
    pid_t creator;
    _Atomic int closed;
    int crashed;                     /* this process saw a worker die: */
    struct pool_error crash;         /* the first death, by this library's task numbers */
    fpool_init_fn init;
    void *init_arg;
    struct fp_shared *sh;
    size_t sh_len;
    /* The lock guards the list of futures that still hold an engine future, and the
     * discard count. Thread-pool workers submit too, so every list change takes it; it
     * is never held while waiting for a result. */
    pthread_mutex_t lock;
    struct fpool_future *live;
    unsigned discarded;
};

struct fpool_future {
    struct fpool *owner;             /* NULL once detached from its pool */
    struct pool_future *pf;          /* NULL once the result is stored below */
    struct fpool_future *prev, *next;
    uint64_t id;
    enum pool_kind kind;
    int by_worker;                   /* submitted by a task: that task collects it */
    int discarded;
    int rc;                          /* the stored result, when pf is NULL */
    /* apply_async: callbacks, run once when the result is stored (fire), by whichever
     * parent thread stores it; pool_owned: no caller holds f, so it is freed after them. */
    fpool_callback_fn cb;
    fpool_error_callback_fn ecb;
    void *cb_arg;
    int pool_owned, fired;
    struct pool_error err;
    size_t out_size;
    alignas(max_align_t) unsigned char out[FPOOL_OUT_MAX];
};

static __thread char fp_why[256];

const char *fpool_strerror(void)
{
    return fp_why;
}

/* Record why the call fails in this thread and return rc, for `return fail(...)`. */
__attribute__((format(printf, 2, 3))) static int fail(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fp_why, sizeof fp_why, fmt, ap);
    va_end(ap);
    return rc;
}

static struct pool *engine(const struct fpool *fp)
{
    return fp->sh->pool;
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
    fail(-err, "cannot start %u worker %s: %s", workers, thread ? "threads" : "processes",
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
        fail(-EINVAL, "unknown start method '%s' (fork, forkserver, spawn)", method);
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
static void describe_crash(struct fpool *fp, struct pool_error *e, long map_base)
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
    pool_error_str(e, fp->kind, fp_why, sizeof fp_why);
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
        return fail(-EDEADLK, "%s from a task of the same pool would wait on itself", what);
    if (getpid() != fp->creator)
        return fail(-EPERM, "%s: only the process that created the pool may do it", what);
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
        return fail(-ESHUTDOWN, "map on a closed pool");
    if (fp->crashed)
        return fail(-EPIPE, "map: the pool is broken (a worker died)");
    if (in_size == 0 || (n && !in) || (out_size && n && !out))
        return fail(-EINVAL, "map: no input, or no room for the results");
    if (n == 0)
        return 0;
    round = fpool_map_round(fp, in_size, out_size);
    if (round == 0)
        return fail(-E2BIG, "map: an item of %zu + %zu bytes does not fit in the %u-byte arena",
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
            return fail(-ENOMEM, "map: no memory for %zu error codes", n);
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
            describe_crash(fp, &e, (long)base);
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
        return fail(bad_rc, "task %zu returned error %d (%s)", bad, bad_rc, strerror(bad_rc));
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

/* ---- submitted calls ---------------------------------------------------------------- */

/* Runs in a worker: unpack the call, record its number for crash reports, run it on
 * aligned copies of its input and output. */
static int call_task(const void *in, void *out)
{
    struct fp_call c;
    alignas(max_align_t) unsigned char a[FPOOL_ARG_MAX], b[FPOOL_OUT_MAX];
    memcpy(&c, in, sizeof c);
    memcpy(a, (const unsigned char *)in + sizeof c, c.in_size);
    memset(b, 0, c.out_size);

    struct fp_shared *sh = c.sh;
    if (atomic_load_explicit(&sh->cancel, memory_order_relaxed))
        return ECANCELED;
    int w = pool_self(sh->pool);
    _Atomic int64_t *slot = w >= 0 ? &sh->w[w].call : NULL;
    int64_t prev = slot ? atomic_exchange(slot, (int64_t)c.id) : -1;
    int rc = POOL_CODE(fpool_fn, c.fn)(a, b);
    if (slot)
        atomic_store(slot, prev);
    if (sh->flush)
        fflush(stdout);
    memcpy(out, b, c.out_size);
    return rc < 0 ? -rc : rc;
}

static void list_add(struct fpool *fp, struct fpool_future *f)
{
    f->prev = NULL;
    f->next = fp->live;
    if (fp->live)
        fp->live->prev = f;
    fp->live = f;
}

static void list_del(struct fpool *fp, struct fpool_future *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        fp->live = f->next;
    if (f->next)
        f->next->prev = f->prev;
    f->prev = f->next = NULL;
}

/* Free the discarded futures whose call has finished (their engine slots come back).
 * Caller holds fp->lock. */
static void sweep_discarded(struct fpool *fp)
{
    struct fpool_future *f = fp->live, *next;
    for (; f && fp->discarded; f = next) {
        next = f->next;
        if (f->discarded && pool_future_done(f->pf)) {
            pool_future_get(f->pf, NULL, 0, NULL);
            list_del(fp, f);
            fp->discarded--;
            free(f);
        }
    }
}

struct fpool_future *fpool_submit(struct fpool *p, fpool_fn fn, const void *in,
                                  size_t in_size, size_t out_size)
{
    struct pool *pool = engine(p);
    unsigned char buf[sizeof(struct fp_call) + FPOOL_ARG_MAX];
    int self = pool_self(pool);

    if (in_size > FPOOL_ARG_MAX || out_size > FPOOL_OUT_MAX || (in_size && !in) || !fn) {
        fail(-EINVAL, "submit: input of %zu bytes (at most %d), result of %zu (at most %d)",
             in_size, FPOOL_ARG_MAX, out_size, FPOOL_OUT_MAX);
        errno = EINVAL;
        return NULL;
    }
    if (self < 0 && atomic_load(&p->closed)) {
        fail(-ESHUTDOWN, "submit on a closed pool");
        errno = ESHUTDOWN;
        return NULL;
    }
    struct fpool_future *f = calloc(1, sizeof *f);
    if (!f) {
        fail(-ENOMEM, "submit: out of memory");
        return NULL;
    }
    struct fp_call c = { .fn = fn, .sh = p->sh, .in_size = (uint32_t)in_size,
                         .out_size = (uint32_t)out_size };
    c.id = atomic_fetch_add(&p->sh->next_id, 1);
    memcpy(buf, &c, sizeof c);
    if (in_size)
        memcpy(buf + sizeof c, in, in_size);

    f->owner = p;
    f->id = c.id;
    f->kind = p->kind;
    f->by_worker = self >= 0;
    f->out_size = out_size;
    pthread_mutex_lock(&p->lock);
    sweep_discarded(p);
    int e = -pool_call(&f->pf, pool, call_task, buf, sizeof c + in_size, out_size);
    if (f->pf)
        list_add(p, f);
    pthread_mutex_unlock(&p->lock);
    if (!f->pf) {
        if (e == EPIPE)
            fail(-EPIPE, "submit: the pool is broken (a worker died)");
        else
            fail(-e, "submit: %s", strerror(e));
        free(f);
        errno = e;
        return NULL;
    }
    return f;
}

/* Say why f's stored result failed, into fp_why, as get does. */
static void why_failed(const struct fpool_future *f)
{
    int rc = f->rc;
    if (rc == -ECHILD)
        pool_error_str(&f->err, f->kind, fp_why, sizeof fp_why);
    else if (rc == -ECANCELED)
        fail(rc, "task %llu: the pool was terminated first", (unsigned long long)f->id);
    else if (rc > 0)
        fail(rc, "task %llu returned error %d (%s)", (unsigned long long)f->id, rc,
             strerror(rc));
}

/* Run f's callbacks once its result is stored: callback with the result, or
 * error_callback with the status and why. In the calling thread; no lock is held. */
static void fire(struct fpool_future *f)
{
    if (f->fired || (!f->cb && !f->ecb))
        return;
    f->fired = 1;
    if (f->rc == 0) {
        if (f->cb)
            f->cb(f->out, f->cb_arg);
    } else if (f->ecb) {
        why_failed(f);
        f->ecb(f->rc, fp_why, f->cb_arg);
    }
}

/* Keep the engine's answer in f, so that f no longer needs the pool; then its callbacks. */
static void store(struct fpool_future *f, int rc, const struct pool_error *e)
{
    struct fpool *fp = f->owner;
    f->rc = rc;
    if (rc == -ECHILD) {
        f->err = *e;
        describe_crash(fp, &f->err, -1);
    }
    pthread_mutex_lock(&fp->lock);
    list_del(fp, f);
    pthread_mutex_unlock(&fp->lock);
    f->pf = NULL;
    fire(f);
}

/* Return the stored result of f, copy it out, and free f. */
static int finish(struct fpool_future *f, void *out)
{
    int rc = f->rc;
    if (rc >= 0 && out && f->out_size)
        memcpy(out, f->out, f->out_size);
    why_failed(f);
    free(f);
    return rc;
}

int fpool_future_get(struct fpool_future *f, void *out, int timeout_ms)
{
    struct pool_error e;
    int rc;

    if (!f)
        return fail(-EINVAL, "get: no future");
    if (f->pf) {
        rc = pool_future_get(f->pf, f->out, timeout_ms, &e);
        if (rc == -ETIMEDOUT)
            return fail(rc, "task %llu: no result within %d ms", (unsigned long long)f->id,
                        timeout_ms);
        if (rc == -EDEADLK) {
            pool_error_str(&e, f->kind, fp_why, sizeof fp_why);
            return rc;
        }
        store(f, rc, &e);
    }
    return finish(f, out);
}

int fpool_future_done(const struct fpool_future *f)
{
    return !f->pf || pool_future_done(f->pf);
}

uint64_t fpool_future_id(const struct fpool_future *f)
{
    return f->id;
}

void fpool_future_discard(struct fpool_future *f)
{
    struct fpool *fp = f ? f->owner : NULL;
    if (!f)
        return;
    if (!f->pf) {
        free(f);
        return;
    }
    /* The engine slot is freed only once the call is done: until then the worker still
     * writes to it. The next submit or join in this process frees it. */
    pthread_mutex_lock(&fp->lock);
    f->discarded = 1;
    fp->discarded++;
    sweep_discarded(fp);
    pthread_mutex_unlock(&fp->lock);
}

long fpool_as_completed(struct fpool_future *const fs[], size_t n, int timeout_ms)
{
    uint64_t deadline = 0;

    if (timeout_ms >= 0)
        deadline = clock_now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        long first = -1;
        for (size_t i = 0; i < n; i++) {
            if (!fs[i])
                continue;
            if (fpool_future_done(fs[i]))
                return (long)i;
            if (first < 0)
                first = (long)i;
        }
        if (first < 0)
            return fail(-ENOENT, "as_completed: no futures left");
        /* The engine waits on one future at a time: sleep on the first pending one in
         * 1 ms slices (which also notices dead workers), then look at them all again. */
        int slice = 1;
        if (deadline) {
            uint64_t now = clock_now_ns();
            if (now >= deadline)
                return fail(-ETIMEDOUT, "as_completed: none done within %d ms", timeout_ms);
            if (deadline - now < 1000000u)
                slice = 0;
        }
        struct fpool_future *f = fs[first];
        struct pool_error e;
        int rc = pool_future_get(f->pf, f->out, slice, &e);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc == -EDEADLK) {
            pool_error_str(&e, f->kind, fp_why, sizeof fp_why);
            return rc;
        }
        store(f, rc, &e);
        return first;
    }
}

/* ---- callbacks: apply_async and poll --------------------------------------------------- */

int fpool_apply_async(struct fpool *p, fpool_fn fn, const void *in, size_t in_size,
                      size_t out_size, fpool_callback_fn callback,
                      fpool_error_callback_fn error_callback, void *arg,
                      struct fpool_future **future)
{
    struct fpool_future *f = fpool_submit(p, fn, in, in_size, out_size);
    if (!f)
        return -errno;
    /* The lock orders these writes before any other parent thread's look at the list. */
    pthread_mutex_lock(&p->lock);
    f->cb = callback;
    f->ecb = error_callback;
    f->cb_arg = arg;
    f->pool_owned = future == NULL;
    pthread_mutex_unlock(&p->lock);
    if (future)
        *future = f;
    return 0;
}

/* The first future of fp with callbacks still to run (done only: done_only), or NULL.
 * Futures a task submitted are its own; discarded ones never call back. */
static struct fpool_future *next_callback(struct fpool *fp, int done_only)
{
    struct fpool_future *f;
    pthread_mutex_lock(&fp->lock);
    for (f = fp->live; f; f = f->next)
        if ((f->cb || f->ecb) && !f->discarded && !f->by_worker &&
            (!done_only || pool_future_done(f->pf)))
            break;
    pthread_mutex_unlock(&fp->lock);
    return f;
}

int fpool_poll(struct fpool *p, int timeout_ms)
{
    uint64_t deadline = timeout_ms >= 0 ? clock_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    struct pool_error e;
    int ran = 0;
    if (getpid() != p->creator)
        return fail(-EPERM, "poll: only the process that created the pool may do it");
    for (;;) {
        struct fpool_future *f = next_callback(p, 1);
        if (f) {
            store(f, pool_future_get(f->pf, f->out, 0, &e), &e);
            if (f->pool_owned)
                free(f);
            ran++;
            continue;
        }
        if (!(f = next_callback(p, 0)))
            return ran;   /* none left waiting */
        if (deadline && clock_now_ns() >= deadline)
            return ran;
        /* Sleep on one pending call in 1 ms slices (which also notices dead workers). */
        int rc = pool_future_get(f->pf, f->out, 1, &e);
        if (rc != -ETIMEDOUT && rc != -EDEADLK) {
            store(f, rc, &e);
            if (f->pool_owned)
                free(f);
            ran++;
        }
    }
}

/* ---- imap, imap_unordered: chunks of items as submitted calls --------------------------- */

/* A chunk travels in one call: this header, then its items; the result is the items'
 * outputs, then a status byte per item. */
struct chunk_hdr {
    fpool_fn fn;
    uint32_t count, in_size, out_size, pad;
};
#define CHUNK_IN_MAX (FPOOL_ARG_MAX - sizeof(struct chunk_hdr))

/* Runs in a worker: each item of the chunk in turn, as map would. */
static int chunk_task(const void *in, void *out)
{
    struct chunk_hdr h;
    memcpy(&h, in, sizeof h);
    const unsigned char *items = (const unsigned char *)in + sizeof h;
    unsigned char *res = out, *st = res + (size_t)h.count * h.out_size;
    alignas(max_align_t) unsigned char a[CHUNK_IN_MAX], b[FPOOL_OUT_MAX];
    for (uint32_t i = 0; i < h.count; i++) {
        memcpy(a, items + (size_t)i * h.in_size, h.in_size);
        memset(b, 0, h.out_size);
        int rc = POOL_CODE(fpool_fn, h.fn)(a, b);
        memcpy(res + (size_t)i * h.out_size, b, h.out_size);
        rc = rc < 0 ? -rc : rc;
        st[i] = (unsigned char)(rc > 255 ? 255 : rc);
    }
    return 0;
}

#define IMAP_WINDOW 64   /* chunks in flight at once */

struct fpool_iter {
    struct fpool *p;
    fpool_fn fn;
    const unsigned char *in;
    size_t in_size, out_size, n, chunk, chunks;
    int ordered;
    size_t next_submit;                  /* the next chunk to submit */
    size_t head;                         /* ordered: the next chunk to yield */
    size_t consumed;                     /* chunks got back */
    struct fpool_future *fs[IMAP_WINDOW];/* in flight */
    size_t chunk_of[IMAP_WINDOW];        /* and which chunk each one is */
    /* The chunk being yielded: its results, and which item comes next. */
    size_t cur, cur_pos, cur_count;
    int cur_rc;
    alignas(max_align_t) unsigned char cur_out[FPOOL_OUT_MAX];
    int broken;                          /* a chunk failed whole (-ECHILD): stop */
};

static struct fpool_iter *imap_any(struct fpool *p, fpool_fn fn, const void *in,
                                   size_t in_size, size_t out_size, size_t n,
                                   size_t chunksize, int ordered)
{
    if (!fn || in_size == 0 || (n && !in) || in_size > CHUNK_IN_MAX ||
        out_size + 1 > FPOOL_OUT_MAX) {
        fail(-E2BIG, "imap: an item of %zu + %zu bytes (at most %zu in, %d out), or no input",
             in_size, out_size, CHUNK_IN_MAX, FPOOL_OUT_MAX - 1);
        errno = in_size == 0 || !fn ? EINVAL : E2BIG;
        return NULL;
    }
    /* A chunk is one call: as many items as fit in its input and result. */
    size_t fit = CHUNK_IN_MAX / in_size, fit_out = FPOOL_OUT_MAX / (out_size + 1);
    if (fit_out < fit)
        fit = fit_out;
    if (chunksize == 0)
        chunksize = 1;
    if (chunksize > fit)
        chunksize = fit;
    struct fpool_iter *it = calloc(1, sizeof *it);
    if (!it) {
        fail(-ENOMEM, "imap: out of memory");
        return NULL;
    }
    *it = (struct fpool_iter){ .p = p, .fn = fn, .in = in, .in_size = in_size,
                               .out_size = out_size, .n = n, .chunk = chunksize,
                               .chunks = (n + chunksize - 1) / chunksize, .ordered = ordered,
                               .cur = SIZE_MAX };
    return it;
}

struct fpool_iter *fpool_imap(struct fpool *p, fpool_fn fn, const void *in, size_t in_size,
                              size_t out_size, size_t n, size_t chunksize)
{
    return imap_any(p, fn, in, in_size, out_size, n, chunksize, 1);
}

struct fpool_iter *fpool_imap_unordered(struct fpool *p, fpool_fn fn, const void *in,
                                        size_t in_size, size_t out_size, size_t n,
                                        size_t chunksize)
{
    return imap_any(p, fn, in, in_size, out_size, n, chunksize, 0);
}

/* Submit chunks until the window is full or none are left. 0 or -errno. In order, chunk
 * c lives in slot c % IMAP_WINDOW and at most IMAP_WINDOW chunks past the head are out;
 * out of order, any free slot. */
static int imap_fill(struct fpool_iter *it)
{
    unsigned char buf[FPOOL_ARG_MAX];
    while (it->next_submit < it->chunks) {
        size_t c = it->next_submit, lo = c * it->chunk, slot;
        if (it->ordered) {
            if (c >= it->head + IMAP_WINDOW)
                break;
            slot = c % IMAP_WINDOW;
        } else {
            for (slot = 0; slot < IMAP_WINDOW && it->fs[slot]; slot++)
                ;
            if (slot == IMAP_WINDOW)
                break;
        }
        size_t k = it->n - lo < it->chunk ? it->n - lo : it->chunk;
        struct chunk_hdr h = { it->fn, (uint32_t)k, (uint32_t)it->in_size,
                               (uint32_t)it->out_size, 0 };
        memcpy(buf, &h, sizeof h);
        memcpy(buf + sizeof h, it->in + lo * it->in_size, k * it->in_size);
        struct fpool_future *f = fpool_submit(it->p, chunk_task, buf,
                                              sizeof h + k * it->in_size,
                                              k * (it->out_size + 1));
        if (!f)
            return -errno;
        it->fs[slot] = f;
        it->chunk_of[slot] = c;
        it->next_submit++;
    }
    return 0;
}

int fpool_iter_next(struct fpool_iter *it, void *out, size_t *index, int timeout_ms)
{
    int rc;
    if (it->broken)
        return fail(-EPIPE, "imap: the pool broke earlier in this iteration");
    while (it->cur == SIZE_MAX || it->cur_pos == it->cur_count) {
        if (it->consumed == it->chunks)
            return fail(-ENOENT, "imap: no items left");
        if ((rc = imap_fill(it))) {
            it->broken = rc == -EPIPE;
            return fail(rc, "imap: submit: %s", strerror(-rc));
        }
        size_t slot;
        if (it->ordered) {   /* the head, however long the others take */
            slot = it->head % IMAP_WINDOW;
        } else {             /* whichever chunk finishes first */
            long i = fpool_as_completed(it->fs, IMAP_WINDOW, timeout_ms);
            if (i < 0)
                return (int)i;
            slot = (size_t)i;
        }
        size_t c = it->chunk_of[slot], lo = c * it->chunk;
        size_t k = it->n - lo < it->chunk ? it->n - lo : it->chunk;
        rc = fpool_future_get(it->fs[slot], it->cur_out, it->ordered ? timeout_ms : 0);
        if (rc == -ETIMEDOUT || rc == -EDEADLK)
            return rc;   /* the chunk stays in flight: call again */
        it->fs[slot] = NULL;
        it->consumed++;
        if (it->ordered)
            it->head++;
        if (rc) {   /* the whole chunk failed: a worker died, or the pool was stopped */
            char why[256];
            snprintf(why, sizeof why, "%s", fp_why);
            it->broken = 1;
            if (index)
                *index = lo;
            return fail(rc, "items %zu..%zu: %s", lo, lo + k - 1, why);
        }
        it->cur = c;
        it->cur_pos = 0;
        it->cur_count = k;
    }
    size_t i = it->cur_pos++;
    if (out && it->out_size)
        memcpy(out, it->cur_out + i * it->out_size, it->out_size);
    if (index)
        *index = it->cur * it->chunk + i;
    rc = it->cur_out[it->cur_count * it->out_size + i];
    if (rc)
        return fail(rc, "item %zu returned error %d (%s)", it->cur * it->chunk + i, rc,
                    strerror(rc));
    return 0;
}

void fpool_iter_free(struct fpool_iter *it)
{
    if (!it)
        return;
    for (size_t i = 0; i < IMAP_WINDOW; i++)
        if (it->fs[i])
            fpool_future_discard(it->fs[i]);
    free(it);
}

/* ---- map_async: map in a thread of the parent ----------------------------------------- */

struct fpool_async {
    struct fpool *p;
    fpool_fn fn;
    const void *in;
    void *out;
    size_t in_size, out_size, n, chunksize;
    fpool_callback_fn cb;
    fpool_error_callback_fn ecb;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done, rc;
    char why[256];
};

static void *map_async_main(void *arg)
{
    struct fpool_async *a = arg;
    int rc = fpool_map(a->p, a->fn, a->in, a->in_size, a->out, a->out_size, a->n, a->chunksize);
    pthread_mutex_lock(&a->lock);
    a->rc = rc;
    snprintf(a->why, sizeof a->why, "%s", rc ? fp_why : "");
    a->done = 1;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

struct fpool_async *fpool_map_async(struct fpool *p, fpool_fn fn, const void *in,
                                    size_t in_size, void *out, size_t out_size, size_t n,
                                    size_t chunksize, fpool_callback_fn callback,
                                    fpool_error_callback_fn error_callback, void *arg)
{
    struct fpool_async *a = calloc(1, sizeof *a);
    int e;
    if (!a) {
        fail(-ENOMEM, "map_async: out of memory");
        return NULL;
    }
    *a = (struct fpool_async){ .p = p, .fn = fn, .in = in, .out = out, .in_size = in_size,
                               .out_size = out_size, .n = n, .chunksize = chunksize,
                               .cb = callback, .ecb = error_callback, .arg = arg };
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    if ((e = pthread_create(&a->thread, NULL, map_async_main, a))) {
        pthread_mutex_destroy(&a->lock);
        pthread_cond_destroy(&a->cond);
        free(a);
        fail(-e, "map_async: cannot start its thread: %s", strerror(e));
        errno = e;
        return NULL;
    }
    return a;
}

int fpool_map_async_get(struct fpool_async *a, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    if (timeout_ms > 0) {
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&a->lock);
    while (!a->done) {
        if (timeout_ms < 0)
            pthread_cond_wait(&a->cond, &a->lock);
        else if (pthread_cond_timedwait(&a->cond, &a->lock, &until) == ETIMEDOUT)
            break;
    }
    int done = a->done;
    pthread_mutex_unlock(&a->lock);
    if (!done)
        return fail(-ETIMEDOUT, "map_async: not done within %d ms", timeout_ms);
    pthread_join(a->thread, NULL);
    int rc = a->rc;
    snprintf(fp_why, sizeof fp_why, "%s", a->why);
    if (rc == 0 && a->cb)
        a->cb(a->out, a->arg);
    else if (rc && a->ecb)
        a->ecb(rc, a->why, a->arg);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    free(a);
    return rc;
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
        list_del(fp, f);
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
        return fail(-EINVAL, "join before close: the pool could still get work");
    /* Collect while the workers run: the results must leave shared memory before the
     * engine unmaps it. The lock is not held while waiting: tasks may still submit. */
    while ((f = next_to_collect(p, 0)) != NULL) {
        rc = pool_future_get(f->pf, f->out, -1, &e);
        store(f, rc, &e);
        if (f->pool_owned)
            free(f);
    }
    pool_destroy(engine(p));
    detach_all(p, -ECANCELED);
    rc = p->crashed ? -ECHILD : 0;
    free_pool(p);
    return rc ? fail(rc, "join: a worker of the pool had died") : 0;
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
        store(f, pool_future_get(f->pf, f->out, 0, &e), &e);
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
