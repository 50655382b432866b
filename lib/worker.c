/* worker.c: the workers' side of the pool engine: wait for a map or a submitted call,
 * claim the map's tasks under its schedule (static, dynamic, guided, or a student's
 * claim), run them, and end the map at the barrier. One engine in three files, a circle
 * on purpose: pool.c (the parent's side) publishes the maps this file runs, and future.c
 * runs the calls this worker loop pops; pool_internal.h is what they share. */
#define _GNU_SOURCE
#include "pool_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "student.h"

static __thread struct pool *tl_pool;
static __thread int tl_worker = -1;

/* The current map as a worker reads it once (the parent does not change it while the
 * map runs): locals, so that each task does not reload them from shared memory after
 * calling out. */
struct map_view {
    pool_task_fn fn;
    void *ctx;
    uint64_t arg;
};

static void run_range(const struct map_view *m, struct pool_worker *me, unsigned w, size_t lo,
                      size_t hi, int timed)
{
    pool_task_fn fn = m->fn;
    void *ctx = m->ctx;
    uint64_t arg = m->arg;
    if (!timed) {
        for (size_t i = lo; i < hi; i++) {
            atomic_store_explicit(&me->cur_task, (long)i, memory_order_relaxed);
            fn(ctx, arg, i, w);
        }
        return;
    }
    for (size_t i = lo; i < hi; i++) {
        /* The start time first: the parent reads the task (acquire), then its start. */
        atomic_store_explicit(&me->task_start_ns, clock_now_ns(), memory_order_relaxed);
        atomic_store_explicit(&me->cur_task, (long)i, memory_order_release);
        fn(ctx, arg, i, w);
    }
}

/* -s student (lab 3): a student's claim function decides which tasks each worker runs.
 * Its claims are checked as they come (a block inside [0, n), not empty, never more task
 * runs handed out than tasks) and when the map ends (every task handed out once: the
 * count, and the sum of a hash of each task, which a task claimed twice and another never
 * claimed would change). A bad claim ends the run at once with exit 1 and one line that
 * names the student's file: nothing after it could be trusted. Threads only (the thread
 * runner alone honours it), so outcome_fatal ends the whole run. */
static uint64_t claim_mix(uint64_t x)   /* splitmix64's finalizer: every bit of x matters */
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

__attribute__((format(printf, 1, 2), noreturn))
static void student_wrong(const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    outcome_fatal(PARLAB_EXIT_WRONG, "%s: student_claim %s", student_source(), msg);
    _exit(PARLAB_EXIT_WRONG);   /* not reached */
}

static void student_batch(struct pool_shm *s, const struct map_view *m, struct pool_worker *me,
                          unsigned w, unsigned W, int timed)
{
    size_t n = s->n, mine = 0, lo = 0, hi = 0;
    struct claim_state c = { .n = n, .workers = W, .worker = w, .chunk = s->chunk,
                             .next = &s->next, .mine = &mine };
    while (student_claim_fn(&c, &lo, &hi)) {
        if (lo >= hi)
            student_wrong("returned 1 with the empty block [%zu, %zu) for worker %u: return "
                          "0 when nothing is left", lo, hi, w);
        if (hi > n)
            student_wrong("gave worker %u the block [%zu, %zu), past the last task (%zu)", w,
                          lo, hi, n - 1);
        size_t runs = atomic_fetch_add_explicit(&s->claimed, hi - lo, memory_order_relaxed);
        if (runs + (hi - lo) > n)
            student_wrong("handed out %zu task runs for %zu tasks (the last: [%zu, %zu) to "
                          "worker %u): a task was claimed twice", runs + (hi - lo), n, lo, hi, w);
        uint64_t h = 0;
        for (size_t i = lo; i < hi; i++)
            h += claim_mix(i);
        atomic_fetch_add_explicit(&s->claim_hash, h, memory_order_relaxed);
        run_range(m, me, w, lo, hi, timed);
        lo = hi = 0;
        c.worker = w;   /* as they were, whatever the function wrote there */
        c.n = n;
        c.workers = W;
    }
}

/* The last worker out of a student map: was every task handed out, each once? */
static void student_check_map(struct pool_shm *s)
{
    size_t n = s->n, runs = atomic_load(&s->claimed);
    uint64_t want = 0;
    if (runs < n)
        student_wrong("handed out %zu of %zu tasks and then returned 0 to every worker: "
                      "the others never ran", runs, n);
    for (size_t i = 0; i < n; i++)
        want += claim_mix(i);
    if (atomic_load(&s->claim_hash) != want)
        student_wrong("handed out %zu task runs for %zu tasks, but not each task once: one "
                      "was claimed twice and another never", runs, n);
}

/* Worker w takes its share of the current map. The claiming rules are OpenMP's, so that
 * -s and -c mean the same for fork, thread and omp. */
static void run_batch(struct pool *p, unsigned w)
{
    struct pool_shm *s = p->shm;
    struct pool_worker *me = &s->w[w];
    const struct map_view m = { POOL_CODE(pool_task_fn, s->fn),
                                p->has_local_ctx ? p->local_ctx : s->ctx, s->arg };
    size_t n = s->n, chunk = s->chunk;
    unsigned W = p->workers;
    int timed = (int)atomic_load_explicit(&s->timed, memory_order_relaxed);

    if (s->sched == SCHED_STATIC) {
        if (chunk == 0) {
            size_t lo, hi;
            sched_static_block(n, W, w, &lo, &hi);
            run_range(&m, me, w, lo, hi, timed);
        } else {
            for (size_t lo = (size_t)w * chunk; lo < n; lo += (size_t)W * chunk) {
                size_t hi = lo + chunk < n ? lo + chunk : n;
                run_range(&m, me, w, lo, hi, timed);
            }
        }
    } else if (s->sched == SCHED_DYNAMIC) {
        if (chunk == 0)
            chunk = 1;
        if (chunk == 1 && !timed) {
            /* The claim loop at its tightest, since a short task costs little more than its
             * claim. Calling run_range per claim pushed and popped six registers a task,
             * stores that the next claim's locked add waits for; thread and fork took
             * 1.2-1.4x omp's dynamic,1 (docs/decisions.md, Performance). */
            pool_task_fn fn = m.fn;
            void *ctx = m.ctx;
            uint64_t arg = m.arg;
            for (size_t i; (i = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed)) < n;) {
                atomic_store_explicit(&me->cur_task, (long)i, memory_order_relaxed);
                fn(ctx, arg, i, w);
            }
        } else {
            for (;;) {
                size_t lo = atomic_fetch_add_explicit(&s->next, chunk, memory_order_relaxed);
                if (lo >= n)
                    break;
                size_t hi = lo + chunk < n ? lo + chunk : n;
                run_range(&m, me, w, lo, hi, timed);
            }
        }
    } else if (s->sched == SCHED_STUDENT) {
        student_batch(s, &m, me, w, W, timed);
    } else { /* guided: chunks shrink with the work left, never below `chunk` */
        if (chunk == 0)
            chunk = 1;
        size_t lo = atomic_load_explicit(&s->next, memory_order_relaxed);
        while (lo < n) {
            size_t rem = n - lo, q = (rem + W - 1) / W;
            if (q < chunk)
                q = chunk;
            if (q > rem)
                q = rem;
            if (!atomic_compare_exchange_weak_explicit(&s->next, &lo, lo + q,
                                                       memory_order_relaxed,
                                                       memory_order_relaxed))
                continue;
            run_range(&m, me, w, lo, lo + q, timed);
            lo = atomic_load_explicit(&s->next, memory_order_relaxed);
        }
    }
    atomic_store_explicit(&me->cur_task, -1, memory_order_relaxed);
    /* The last worker out ends the map: release publishes every slot it wrote. */
    if (atomic_fetch_add_explicit(&s->left, 1, memory_order_acq_rel) + 1 == W) {
        if (s->sched == SCHED_STUDENT)
            student_check_map(s);
        atomic_store_explicit(&s->done_word, 1, memory_order_release);
        sync_wake(&s->done_word, 1);
    }
}

static void worker_loop(struct pool *p, unsigned w)
{
    struct pool_shm *s = p->shm;
    uint64_t seen = 0;

    for (;;) {
        uint32_t g = atomic_load_explicit(&s->gen, memory_order_acquire);
        int did = 0;
        uint64_t id = atomic_load_explicit(&s->batch_id, memory_order_acquire);
        if (id != seen) {
            seen = id;
            run_batch(p, w);
            did = 1;
        }
        if (futures_run_one(p->futures, p, w))
            did = 1;
        if (did)
            continue;
        if (atomic_load(&s->quit))
            return;
        sync_wait(&s->gen, g, 0);
    }
}

void pool_worker_main(struct pool *p, unsigned w)
{
    tl_pool = p;
    tl_worker = (int)w;
    if (p->init)
        POOL_CODE(pool_init_fn, p->init)(p->init_arg, w);
    atomic_fetch_add(&p->shm->ready, 1);
    sync_wake(&p->shm->ready, INT_MAX);
    worker_loop(p, w);
}

int pool_self(const struct pool *p)
{
    return tl_pool && (tl_pool == p || tl_pool->remote == p) ? tl_worker : -1;
}
