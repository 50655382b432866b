/* future.c: calls submitted to a pool and the futures that carry their results back. The
 * queue and the futures live in their own MAP_SHARED block, so a call submitted by the
 * parent or by any worker, process or thread, is seen by every worker. */
#define _GNU_SOURCE
#include "pool_internal.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sync.h"

enum { FUT_FREE, FUT_QUEUED, FUT_RUNNING, FUT_DONE };

struct pool_future {
    _Atomic uint32_t state;       /* futex word: FUT_* */
    int result;                   /* the call's return, or -ECHILD */
    pool_call_fn fn;
    struct pool *owner;
    uint32_t in_len, out_len;
    unsigned char in[POOL_ARG_MAX];
    unsigned char out[POOL_ARG_MAX];
};

/* The call a worker is running, one cache line per worker. */
struct fut_worker {
    alignas(PARLAB_CACHELINE) _Atomic long running;   /* future index, or -1 */
};

/* A FIFO of future indexes under a spinlock (not the hot path: maps are). */
struct pool_futures {
    alignas(PARLAB_CACHELINE) atomic_flag qlock;
    uint32_t q_head, q_tail, fut_hint;
    _Atomic uint32_t blocked;                        /* workers waiting in get */
    size_t len;
    unsigned workers;
    struct pool *pool;
    uint32_t queue[POOL_FUTURES];
    struct pool_future fut[POOL_FUTURES];
    struct fut_worker w[];
};

static void qlock(struct pool_futures *q)
{
    while (atomic_flag_test_and_set_explicit(&q->qlock, memory_order_acquire))
        sched_yield();
}

static void qunlock(struct pool_futures *q)
{
    atomic_flag_clear_explicit(&q->qlock, memory_order_release);
}

int futures_open(struct pool_futures **out, struct pool *p, unsigned workers)
{
    size_t len = sizeof(struct pool_futures) + (size_t)workers * sizeof(struct fut_worker);
    struct pool_futures *q = shm_map(len, 0);
    if (!q)
        return -errno;
    atomic_flag_clear(&q->qlock);
    q->len = len;
    q->workers = workers;
    q->pool = p;
    for (unsigned w = 0; w < workers; w++)
        atomic_store(&q->w[w].running, -1);
    *out = q;
    return 0;
}

void futures_close(struct pool_futures *q)
{
    if (q)
        shm_unmap(q, q->len);
}

long futures_running(const struct pool_futures *q, unsigned w)
{
    return atomic_load(&q->w[w].running);
}

int futures_run_one(struct pool_futures *q, struct pool *p, unsigned w)
{
    if (__atomic_load_n(&q->q_head, __ATOMIC_ACQUIRE) ==
        __atomic_load_n(&q->q_tail, __ATOMIC_ACQUIRE))
        return 0;
    qlock(q);
    if (q->q_head == q->q_tail) {
        qunlock(q);
        return 0;
    }
    uint32_t idx = q->queue[q->q_head % POOL_FUTURES];
    __atomic_store_n(&q->q_head, q->q_head + 1, __ATOMIC_RELEASE);   /* read unlocked above */
    qunlock(q);

    struct pool_future *f = &q->fut[idx];
    uint32_t queued = FUT_QUEUED;
    /* Claim it: after a crash the parent may already have failed it (FUT_DONE). */
    if (pool__broken(p) || !atomic_compare_exchange_strong(&f->state, &queued, FUT_RUNNING))
        return 1;
    atomic_store(&q->w[w].running, (long)idx);
    f->result = POOL_CODE(pool_call_fn, f->fn)(f->in, f->out);
    atomic_store(&q->w[w].running, -1);
    atomic_store_explicit(&f->state, FUT_DONE, memory_order_release);
    sync_wake(&f->state, INT_MAX);
    return 1;
}

void futures_fail_dead(struct pool_futures *q)
{
    /* Every future that has no result now never will: fail them all, as
     * ProcessPoolExecutor does with BrokenProcessPool, instead of hanging. */
    for (unsigned i = 0; i < POOL_FUTURES; i++) {
        struct pool_future *f = &q->fut[i];
        uint32_t st = FUT_QUEUED;
        /* Queued: take it from the workers. Running on a dead worker: nobody else
         * writes it. Running on a live one: let it finish (its result is real). */
        int take = atomic_compare_exchange_strong(&f->state, &st, FUT_DONE);
        if (!take && st == FUT_RUNNING) {
            for (unsigned w = 0; w < q->workers; w++)
                if (!pool__alive(q->pool, w) && atomic_load(&q->w[w].running) == (long)i)
                    take = 1;
        }
        if (take) {
            f->result = -ECHILD;
            atomic_store_explicit(&f->state, FUT_DONE, memory_order_release);
            sync_wake(&f->state, INT_MAX);
        }
    }
}

int pool_call(struct pool_future **out, struct pool *p, pool_call_fn fn, const void *in,
              size_t in_len, size_t out_len)
{
    struct pool_futures *q = pool__futures(p);
    struct pool_future *f = NULL;

    *out = NULL;
    if (in_len > POOL_ARG_MAX || out_len > POOL_ARG_MAX)
        return -EINVAL;
    if (pool__broken(p))
        return -EPIPE;
    qlock(q);
    for (unsigned k = 0; k < POOL_FUTURES; k++) {
        unsigned i = (q->fut_hint + k) % POOL_FUTURES;
        if (atomic_load(&q->fut[i].state) == FUT_FREE) {
            f = &q->fut[i];
            q->fut_hint = i + 1;
            break;
        }
    }
    if (!f) {
        qunlock(q);
        return -EAGAIN;
    }
    f->fn = fn;
    f->owner = p;
    f->in_len = (uint32_t)in_len;
    f->out_len = (uint32_t)out_len;
    f->result = 0;
    if (in_len)
        memcpy(f->in, in, in_len);
    atomic_store(&f->state, FUT_QUEUED);
    q->queue[q->q_tail % POOL_FUTURES] = (uint32_t)(f - q->fut);
    __atomic_store_n(&q->q_tail, q->q_tail + 1, __ATOMIC_RELEASE);
    qunlock(q);
    pool__kick(p, 1);
    *out = f;
    return 0;
}

struct pool_future *pool_submit(struct pool *p, pool_call_fn fn, const void *in,
                                size_t in_len, size_t out_len)
{
    struct pool_future *f;
    int rc = pool_call(&f, p, fn, in, in_len, out_len);
    if (rc)
        errno = -rc;
    return f;
}

int pool_future_done(struct pool_future *f)
{
    struct pool *p = f->owner;
    /* The parent of a process pool also looks for dead workers, so that polling for a
     * result after a crash ends with -ECHILD instead of spinning forever. */
    if (atomic_load(&f->state) != FUT_DONE && pool__must_reap(p))
        pool__reap(p);
    return atomic_load_explicit(&f->state, memory_order_acquire) == FUT_DONE;
}

int pool_future_get(struct pool_future *f, void *out, int timeout_ms, struct pool_error *e)
{
    struct pool *p = f->owner;
    struct pool_futures *q = pool__futures(p);
    int self = pool_self(p), in_worker = self >= 0;
    int reap = pool__must_reap(p);
    uint64_t deadline = timeout_ms >= 0 ? clock_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    int rc;

    if (in_worker && atomic_load(&f->state) != FUT_DONE) {
        /* A task waiting on its own pool: if every worker is waiting, no one is left to
         * run what they wait for. Python hangs here; we say so. */
        if (atomic_fetch_add(&q->blocked, 1) + 1 >= q->workers) {
            atomic_fetch_sub(&q->blocked, 1);
            if (e)
                *e = (struct pool_error){ .cause = POOL_DEADLOCK, .task = -1,
                                          .worker = (unsigned)self, .exit_status = -1 };
            return -EDEADLK;
        }
    }
    for (;;) {
        uint32_t st = atomic_load_explicit(&f->state, memory_order_acquire);
        if (st == FUT_DONE)
            break;
        uint64_t slice = MONITOR_NS;
        if (deadline) {
            uint64_t now = clock_now_ns();
            if (now >= deadline) {
                if (in_worker)
                    atomic_fetch_sub(&q->blocked, 1);
                return -ETIMEDOUT;
            }
            if (deadline - now < slice)
                slice = deadline - now;
        }
        sync_wait(&f->state, st, reap || deadline ? slice : 0);
        if (reap)
            pool__reap(p);
    }
    if (in_worker)
        atomic_fetch_sub(&q->blocked, 1);
    rc = f->result;
    if (rc == -ECHILD) {
        if (e)
            *e = *pool__crash(p);
    } else if (out && f->out_len) {
        memcpy(out, f->out, f->out_len);
    }
    atomic_store(&f->state, FUT_FREE);
    return rc;
}
