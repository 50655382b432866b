/* fpool_future.c: calls submitted to an fpool_ or tpool_ pool (apply, apply_async,
 * as_completed, poll): the futures that carry their results back, which outlive the
 * pool, and their callbacks. A circle on purpose with fpool: crashes read in fpool.c's
 * task numbers, and fpool.c's join and terminate collect the futures left here. */
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

void fpool__list_del(struct fpool *fp, struct fpool_future *f)
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
            fpool__list_del(fp, f);
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
        fpool__fail(-EINVAL, "submit: input of %zu bytes (at most %d), result of %zu (at most %d)",
             in_size, FPOOL_ARG_MAX, out_size, FPOOL_OUT_MAX);
        errno = EINVAL;
        return NULL;
    }
    if (self < 0 && atomic_load(&p->closed)) {
        fpool__fail(-ESHUTDOWN, "submit on a closed pool");
        errno = ESHUTDOWN;
        return NULL;
    }
    struct fpool_future *f = calloc(1, sizeof *f);
    if (!f) {
        fpool__fail(-ENOMEM, "submit: out of memory");
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
            fpool__fail(-EPIPE, "submit: the pool is broken (a worker died)");
        else
            fpool__fail(-e, "submit: %s", strerror(e));
        free(f);
        errno = e;
        return NULL;
    }
    return f;
}

/* Say why f's stored result failed, into fpool__why, as get does. */
static void why_failed(const struct fpool_future *f)
{
    int rc = f->rc;
    if (rc == -ECHILD)
        pool_error_str(&f->err, f->kind, fpool__why, sizeof fpool__why);
    else if (rc == -ECANCELED)
        fpool__fail(rc, "task %llu: the pool was terminated first", (unsigned long long)f->id);
    else if (rc > 0)
        fpool__fail(rc, "task %llu returned error %d (%s)", (unsigned long long)f->id, rc,
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
        f->ecb(f->rc, fpool__why, f->cb_arg);
    }
}

/* Keep the engine's answer in f, so that f no longer needs the pool; then its callbacks. */
void fpool__store(struct fpool_future *f, int rc, const struct pool_error *e)
{
    struct fpool *fp = f->owner;
    f->rc = rc;
    if (rc == -ECHILD) {
        f->err = *e;
        fpool__describe_crash(fp, &f->err, -1);
    }
    pthread_mutex_lock(&fp->lock);
    fpool__list_del(fp, f);
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
        return fpool__fail(-EINVAL, "get: no future");
    if (f->pf) {
        rc = pool_future_get(f->pf, f->out, timeout_ms, &e);
        if (rc == -ETIMEDOUT)
            return fpool__fail(rc, "task %llu: no result within %d ms", (unsigned long long)f->id,
                        timeout_ms);
        if (rc == -EDEADLK) {
            pool_error_str(&e, f->kind, fpool__why, sizeof fpool__why);
            return rc;
        }
        fpool__store(f, rc, &e);
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
            return fpool__fail(-ENOENT, "as_completed: no futures left");
        /* The engine waits on one future at a time: sleep on the first pending one in
         * 1 ms slices (which also notices dead workers), then look at them all again. */
        int slice = 1;
        if (deadline) {
            uint64_t now = clock_now_ns();
            if (now >= deadline)
                return fpool__fail(-ETIMEDOUT, "as_completed: none done within %d ms", timeout_ms);
            if (deadline - now < 1000000u)
                slice = 0;
        }
        struct fpool_future *f = fs[first];
        struct pool_error e;
        int rc = pool_future_get(f->pf, f->out, slice, &e);
        if (rc == -ETIMEDOUT)
            continue;
        if (rc == -EDEADLK) {
            pool_error_str(&e, f->kind, fpool__why, sizeof fpool__why);
            return rc;
        }
        fpool__store(f, rc, &e);
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
        return fpool__fail(-EPERM, "poll: only the process that created the pool may do it");
    for (;;) {
        struct fpool_future *f = next_callback(p, 1);
        if (f) {
            fpool__store(f, pool_future_get(f->pf, f->out, 0, &e), &e);
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
            fpool__store(f, rc, &e);
            if (f->pool_owned)
                free(f);
            ran++;
        }
    }
}
