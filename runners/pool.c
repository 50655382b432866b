/* pool.c: the worker-pool engine shared by the fork and thread runners and by the
 * fpool_/tpool_ libraries. Workers are processes or threads; everything they share lives
 * in one MAP_SHARED mapping, so the scheduling code below is the same for both. */
#define _GNU_SOURCE
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync.h"

/* How often a waiting parent looks for dead workers and overdue tasks. */
#define MONITOR_NS (5u * 1000u * 1000u)

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

/* Per-worker status, one cache line each so that workers never write a shared line. */
struct pool_worker {
    alignas(PARLAB_CACHELINE) _Atomic long cur_task;   /* map task running, or -1 */
    _Atomic long cur_future;                           /* future running, or -1 */
    _Atomic uint64_t task_start_ns;                    /* when cur_task began (timeouts) */
    pid_t pid;
    int alive;                                         /* parent's view (fork) */
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
    alignas(PARLAB_CACHELINE) _Atomic size_t done;   /* tasks finished in this map */
    _Atomic uint32_t left;                           /* workers finished with this map */
    _Atomic uint32_t done_word;                      /* futex: 1 when left == W */

    /* Submitted calls: a FIFO of future indexes under a spinlock (not the hot path). */
    alignas(PARLAB_CACHELINE) atomic_flag qlock;
    uint32_t q_head, q_tail, fut_hint;
    _Atomic uint32_t blocked;                        /* workers waiting in get */
    uint32_t queue[POOL_FUTURES];
    struct pool_future fut[POOL_FUTURES];

    struct pool_worker w[];
};

struct pool {
    enum pool_kind kind;
    unsigned workers;
    struct pool_shm *shm;
    size_t shm_len;
    void *arena;
    size_t arena_len;
    pthread_t *threads;
    pool_init_fn init;
    void *init_arg;
    uint64_t batch_seq;
    double timeout_s;
    pid_t parent;
    int broken;            /* parent's view: only pool_destroy may follow */
};

static __thread struct pool *tl_pool;
static __thread int tl_worker = -1;

static void qlock(struct pool_shm *s)
{
    while (atomic_flag_test_and_set_explicit(&s->qlock, memory_order_acquire))
        sched_yield();
}

static void qunlock(struct pool_shm *s)
{
    atomic_flag_clear_explicit(&s->qlock, memory_order_release);
}

static void run_range(struct pool *p, struct pool_worker *me, unsigned w, size_t lo,
                      size_t hi, int timed)
{
    struct pool_shm *s = p->shm;
    for (size_t i = lo; i < hi; i++) {
        /* The start time first: the parent reads the task (acquire), then its start. */
        if (timed)
            atomic_store_explicit(&me->task_start_ns, runner_now_ns(), memory_order_relaxed);
        atomic_store_explicit(&me->cur_task, (long)i, timed ? memory_order_release
                                                            : memory_order_relaxed);
        s->fn(s->ctx, s->arg, i, w);
    }
}

/* Worker w takes its share of the current map. The claiming rules are OpenMP's, so that
 * -s and -c mean the same for fork, thread and omp. */
static void run_batch(struct pool *p, unsigned w)
{
    struct pool_shm *s = p->shm;
    struct pool_worker *me = &s->w[w];
    size_t n = s->n, chunk = s->chunk, count = 0;
    unsigned W = p->workers;
    int timed = (int)atomic_load_explicit(&s->timed, memory_order_relaxed);

    if (s->sched == SCHED_STATIC) {
        if (chunk == 0) {
            size_t lo, hi;
            sched_static_block(n, W, w, &lo, &hi);
            run_range(p, me, w, lo, hi, timed);
            count = hi - lo;
        } else {
            for (size_t lo = (size_t)w * chunk; lo < n; lo += (size_t)W * chunk) {
                size_t hi = lo + chunk < n ? lo + chunk : n;
                run_range(p, me, w, lo, hi, timed);
                count += hi - lo;
            }
        }
    } else if (s->sched == SCHED_DYNAMIC) {
        if (chunk == 0)
            chunk = 1;
        for (;;) {
            size_t lo = atomic_fetch_add_explicit(&s->next, chunk, memory_order_relaxed);
            if (lo >= n)
                break;
            size_t hi = lo + chunk < n ? lo + chunk : n;
            run_range(p, me, w, lo, hi, timed);
            count += hi - lo;
        }
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
            run_range(p, me, w, lo, lo + q, timed);
            count += q;
            lo = atomic_load_explicit(&s->next, memory_order_relaxed);
        }
    }
    atomic_store_explicit(&me->cur_task, -1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->done, count, memory_order_relaxed);
    /* The last worker out ends the map: release publishes every slot it wrote. */
    if (atomic_fetch_add_explicit(&s->left, 1, memory_order_acq_rel) + 1 == W) {
        atomic_store_explicit(&s->done_word, 1, memory_order_release);
        sync_wake(&s->done_word, 1);
    }
}

/* Pop one queued future and run it. Returns 1 if one ran. */
static int run_one_future(struct pool *p, unsigned w)
{
    struct pool_shm *s = p->shm;
    if (__atomic_load_n(&s->q_head, __ATOMIC_ACQUIRE) ==
        __atomic_load_n(&s->q_tail, __ATOMIC_ACQUIRE))
        return 0;
    qlock(s);
    if (s->q_head == s->q_tail) {
        qunlock(s);
        return 0;
    }
    uint32_t idx = s->queue[s->q_head % POOL_FUTURES];
    __atomic_store_n(&s->q_head, s->q_head + 1, __ATOMIC_RELEASE);   /* read unlocked above */
    qunlock(s);

    struct pool_future *f = &s->fut[idx];
    uint32_t queued = FUT_QUEUED;
    /* Claim it: after a crash the parent may already have failed it (FUT_DONE). */
    if (atomic_load(&s->broken) || !atomic_compare_exchange_strong(&f->state, &queued, FUT_RUNNING))
        return 1;
    atomic_store(&s->w[w].cur_future, (long)idx);
    f->result = f->fn(f->in, f->out);
    atomic_store(&s->w[w].cur_future, -1);
    atomic_store_explicit(&f->state, FUT_DONE, memory_order_release);
    sync_wake(&f->state, INT_MAX);
    return 1;
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
        if (run_one_future(p, w))
            did = 1;
        if (did)
            continue;
        if (atomic_load(&s->quit))
            return;
        sync_wait(&s->gen, g, 0);
    }
}

static void worker_start(struct pool *p, unsigned w)
{
    tl_pool = p;
    tl_worker = (int)w;
    if (p->init)
        p->init(p->init_arg, w);
    atomic_fetch_add(&p->shm->ready, 1);
    sync_wake(&p->shm->ready, INT_MAX);
    worker_loop(p, w);
}

static void *thread_main(void *arg)
{
    struct pool *p = ((void **)arg)[0];
    unsigned w = (unsigned)(uintptr_t)((void **)arg)[1];
    free(arg);
    worker_start(p, w);
    return NULL;
}

/* Child side of a forked worker: die with the parent, run, never return. */
static void fork_child(struct pool *p, unsigned w)
{
    worker_start(p, w);
    fflush(NULL);   /* what tasks printed; the parent flushed its own before the fork */
    _exit(0);
}

/* Parent: reap any worker that has died and record the first death as the crash. Returns
 * 1 if a worker is dead. For fork pools only; threads cannot die alone. */
static int check_workers(struct pool *p, struct pool_error *e)
{
    struct pool_shm *s = p->shm;
    int dead = 0;
    if (p->kind != POOL_FORK)
        return 0;
    for (unsigned w = 0; w < p->workers; w++) {
        struct pool_worker *pw = &s->w[w];
        int st;
        if (!pw->alive)
            continue;
        if (waitpid(pw->pid, &st, WNOHANG) != pw->pid)
            continue;
        runner_child_del(pw->pid);
        pw->alive = 0;
        dead = 1;
        if (s->crash.cause)
            continue;
        s->crash.cause = POOL_CRASHED;
        s->crash.task = atomic_load(&pw->cur_task);
        s->crash.worker = w;
        s->crash.pid = pw->pid;
        s->crash.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        s->crash.exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        long fi = atomic_load(&pw->cur_future);
        if (fi >= 0 && s->crash.task < 0)
            s->crash.task = fi;
    }
    if (dead) {
        p->broken = 1;
        atomic_store(&s->broken, 1);
        /* Every future that has no result now never will: fail them all, as
         * ProcessPoolExecutor does with BrokenProcessPool, instead of hanging. */
        for (unsigned i = 0; i < POOL_FUTURES; i++) {
            struct pool_future *f = &s->fut[i];
            uint32_t st = FUT_QUEUED;
            /* Queued: take it from the workers. Running on a dead worker: nobody else
             * writes it. Running on a live one: let it finish (its result is real). */
            int take = atomic_compare_exchange_strong(&f->state, &st, FUT_DONE);
            if (!take && st == FUT_RUNNING) {
                for (unsigned w = 0; w < p->workers; w++)
                    if (!s->w[w].alive && atomic_load(&s->w[w].cur_future) == (long)i)
                        take = 1;
            }
            if (take) {
                f->result = -ECHILD;
                atomic_store_explicit(&f->state, FUT_DONE, memory_order_release);
                sync_wake(&f->state, INT_MAX);
            }
        }
        if (e)
            *e = s->crash;
    }
    return dead;
}

/* Parent: a task past the timeout breaks the pool; a forked worker running it is killed. */
static int check_timeouts(struct pool *p, struct pool_error *e)
{
    struct pool_shm *s = p->shm;
    if (p->timeout_s <= 0)
        return 0;
    uint64_t now = runner_now_ns(), limit = (uint64_t)(p->timeout_s * 1e9);
    for (unsigned w = 0; w < p->workers; w++) {
        struct pool_worker *pw = &s->w[w];
        long t = atomic_load_explicit(&pw->cur_task, memory_order_acquire);
        uint64_t t0 = atomic_load_explicit(&pw->task_start_ns, memory_order_relaxed);
        /* A worker may stamp a newer start after `now` was read: now < t0 is a fresh
         * task, not one that ran for 2^64 ns. */
        if (t < 0 || t0 == 0 || now < t0 || now - t0 < limit)
            continue;
        if (atomic_load(&pw->cur_task) != t)
            continue;
        struct pool_error err = { .cause = POOL_TIMEOUT, .task = t, .worker = w,
                                  .pid = p->kind == POOL_FORK ? pw->pid : 0,
                                  .exit_status = -1 };
        if (p->kind == POOL_FORK && pw->alive) {
            kill(pw->pid, SIGKILL);
            waitpid(pw->pid, NULL, 0);
            runner_child_del(pw->pid);
            pw->alive = 0;
            err.signal = SIGKILL;
        }
        s->crash = err;
        atomic_store(&s->broken, 1);
        p->broken = 1;
        if (e)
            *e = err;
        return 1;
    }
    return 0;
}

static void stop_workers(struct pool *p, unsigned started, int force)
{
    struct pool_shm *s = p->shm;
    atomic_store(&s->quit, 1);
    atomic_fetch_add(&s->gen, 1);
    sync_wake(&s->gen, INT_MAX);
    for (unsigned w = 0; w < started; w++) {
        if (p->kind == POOL_FORK) {
            struct pool_worker *pw = &s->w[w];
            if (!pw->alive)
                continue;
            if (force)
                kill(pw->pid, SIGKILL);
            while (waitpid(pw->pid, NULL, 0) < 0 && errno == EINTR)
                ;
            runner_child_del(pw->pid);
            pw->alive = 0;
        } else if (!force) {
            pthread_join(p->threads[w], NULL);
        }
    }
}

/* A thread pool with a thread stuck in a task cannot be freed: its threads still read
 * it. It is kept here, reachable, until the process exits (which the caller is about to
 * do: a stuck thread can only end with its process). */
static struct pool *abandoned;

static void pool_free(struct pool *p, int threads_may_run)
{
    if (threads_may_run) {
        abandoned = p;
        return;
    }
    munmap(p->shm, p->shm_len);
    if (p->arena)
        munmap(p->arena, p->arena_len);
    free(p->threads);
    free(p);
}

struct pool *pool_create(enum pool_kind kind, unsigned workers, pool_init_fn init,
                         void *init_arg, size_t arena_bytes, int *err, uint64_t *ready_ns)
{
    uint64_t t0 = runner_now_ns();
    struct pool *p = calloc(1, sizeof *p);
    unsigned started = 0;
    int rc = 0;

    if (!p || workers == 0) {
        free(p);
        *err = workers == 0 ? -EINVAL : -ENOMEM;
        return NULL;
    }
    p->kind = kind;
    p->workers = workers;
    p->init = init;
    p->init_arg = init_arg;
    p->parent = getpid();
    p->shm_len = sizeof(struct pool_shm) + (size_t)workers * sizeof(struct pool_worker);
    p->shm = mmap(NULL, p->shm_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p->shm == MAP_FAILED) {
        rc = -errno;
        free(p);
        *err = rc;
        return NULL;
    }
    if (arena_bytes) {
        p->arena = mmap(NULL, arena_bytes, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p->arena == MAP_FAILED) {
            rc = -errno;
            p->arena = NULL;
            goto err;
        }
        p->arena_len = arena_bytes;
    }
    atomic_flag_clear(&p->shm->qlock);
    for (unsigned w = 0; w < workers; w++) {
        atomic_store(&p->shm->w[w].cur_task, -1);
        atomic_store(&p->shm->w[w].cur_future, -1);
    }
    if (kind == POOL_THREAD) {
        p->threads = calloc(workers, sizeof *p->threads);
        if (!p->threads) {
            rc = -ENOMEM;
            goto err;
        }
    }
    for (; started < workers; started++) {
        if (kind == POOL_FORK) {
            pid_t pid = runner_fork_worker();
            if (pid < 0) {
                rc = -errno;
                goto err;
            }
            if (pid == 0)
                fork_child(p, started);
            p->shm->w[started].pid = pid;
            p->shm->w[started].alive = 1;
        } else {
            void **arg = malloc(2 * sizeof *arg);
            if (!arg) {
                rc = -ENOMEM;
                goto err;
            }
            arg[0] = p;
            arg[1] = (void *)(uintptr_t)started;
            int e = pthread_create(&p->threads[started], NULL, thread_main, arg);
            if (e) {
                free(arg);
                rc = -e;
                goto err;
            }
        }
    }
    /* Ready means every initializer has run: the pool can take work at once. */
    for (;;) {
        uint32_t r = atomic_load(&p->shm->ready);
        if (r == workers)
            break;
        sync_wait(&p->shm->ready, r, MONITOR_NS);
        if (check_workers(p, NULL)) {
            rc = -ECHILD;
            goto err;
        }
    }
    if (ready_ns)
        *ready_ns = runner_now_ns() - t0;
    return p;

err:
    stop_workers(p, started, kind == POOL_FORK);
    pool_free(p, 0);
    *err = rc;
    return NULL;
}

void pool_set_task_timeout(struct pool *p, double seconds)
{
    p->timeout_s = seconds;
    atomic_store(&p->shm->timed, seconds > 0);
}

int pool_map(struct pool *p, size_t n, enum sched_kind sched, size_t chunk,
             pool_task_fn fn, void *ctx, uint64_t arg, struct pool_error *e)
{
    struct pool_shm *s = p->shm;
    int monitor = p->kind == POOL_FORK || p->timeout_s > 0;

    if (p->broken) {
        if (e)
            *e = s->crash;
        return -1;
    }
    s->fn = fn;
    s->ctx = ctx;
    s->arg = arg;
    s->n = n;
    s->chunk = chunk;
    s->sched = (int)sched;
    atomic_store_explicit(&s->next, 0, memory_order_relaxed);
    atomic_store_explicit(&s->done, 0, memory_order_relaxed);
    atomic_store_explicit(&s->left, 0, memory_order_relaxed);
    atomic_store_explicit(&s->done_word, 0, memory_order_relaxed);
    atomic_store_explicit(&s->batch_id, ++p->batch_seq, memory_order_release);
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
    sync_wake(&s->gen, INT_MAX);

    while (atomic_load_explicit(&s->done_word, memory_order_acquire) == 0) {
        sync_wait(&s->done_word, 0, monitor ? MONITOR_NS : 0);
        if (monitor && (check_workers(p, e) || check_timeouts(p, e)))
            return -1;
    }
    return 0;
}

void *pool_arena(struct pool *p, size_t *len)
{
    if (len)
        *len = p->arena_len;
    return p->arena;
}

struct pool_future *pool_submit(struct pool *p, pool_call_fn fn, const void *in,
                                size_t in_len, size_t out_len)
{
    struct pool_shm *s = p->shm;
    struct pool_future *f = NULL;

    if (in_len > POOL_ARG_MAX || out_len > POOL_ARG_MAX) {
        errno = EINVAL;
        return NULL;
    }
    if (atomic_load(&s->broken)) {
        errno = EPIPE;
        return NULL;
    }
    qlock(s);
    for (unsigned k = 0; k < POOL_FUTURES; k++) {
        unsigned i = (s->fut_hint + k) % POOL_FUTURES;
        if (atomic_load(&s->fut[i].state) == FUT_FREE) {
            f = &s->fut[i];
            s->fut_hint = i + 1;
            break;
        }
    }
    if (!f) {
        qunlock(s);
        errno = EAGAIN;
        return NULL;
    }
    f->fn = fn;
    f->owner = p;
    f->in_len = (uint32_t)in_len;
    f->out_len = (uint32_t)out_len;
    f->result = 0;
    if (in_len)
        memcpy(f->in, in, in_len);
    atomic_store(&f->state, FUT_QUEUED);
    s->queue[s->q_tail % POOL_FUTURES] = (uint32_t)(f - s->fut);
    __atomic_store_n(&s->q_tail, s->q_tail + 1, __ATOMIC_RELEASE);
    qunlock(s);
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
    sync_wake(&s->gen, 1);
    return f;
}

int pool_future_done(struct pool_future *f)
{
    struct pool *p = f->owner;
    /* The parent of a process pool also looks for dead workers, so that polling for a
     * result after a crash ends with -ECHILD instead of spinning forever. */
    if (atomic_load(&f->state) != FUT_DONE && p->kind == POOL_FORK && pool_self(p) < 0 &&
        getpid() == p->parent)
        check_workers(p, NULL);
    return atomic_load_explicit(&f->state, memory_order_acquire) == FUT_DONE;
}

int pool_future_get(struct pool_future *f, void *out, int timeout_ms, struct pool_error *e)
{
    struct pool *p = f->owner;
    struct pool_shm *s = p->shm;
    int in_worker = pool_self(p) >= 0;
    int parent = !in_worker && getpid() == p->parent;
    uint64_t deadline = timeout_ms >= 0 ? runner_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;
    int rc;

    if (in_worker && atomic_load(&f->state) != FUT_DONE) {
        /* A task waiting on its own pool: if every worker is waiting, no one is left to
         * run what they wait for. Python hangs here; we say so. */
        if (atomic_fetch_add(&s->blocked, 1) + 1 >= p->workers) {
            atomic_fetch_sub(&s->blocked, 1);
            if (e)
                *e = (struct pool_error){ .cause = POOL_DEADLOCK, .task = -1,
                                          .worker = (unsigned)tl_worker, .exit_status = -1 };
            return -EDEADLK;
        }
    }
    for (;;) {
        uint32_t st = atomic_load_explicit(&f->state, memory_order_acquire);
        if (st == FUT_DONE)
            break;
        uint64_t slice = MONITOR_NS;
        if (deadline) {
            uint64_t now = runner_now_ns();
            if (now >= deadline) {
                if (in_worker)
                    atomic_fetch_sub(&s->blocked, 1);
                return -ETIMEDOUT;
            }
            if (deadline - now < slice)
                slice = deadline - now;
        }
        sync_wait(&f->state, st, parent && p->kind == POOL_FORK ? slice : (deadline ? slice : 0));
        if (parent)
            check_workers(p, NULL);
    }
    if (in_worker)
        atomic_fetch_sub(&s->blocked, 1);
    rc = f->result;
    if (rc == -ECHILD) {
        if (e)
            *e = s->crash;
    } else if (out && f->out_len) {
        memcpy(out, f->out, f->out_len);
    }
    atomic_store(&f->state, FUT_FREE);
    return rc;
}

int pool_self(const struct pool *p)
{
    return tl_pool == p ? tl_worker : -1;
}

unsigned pool_workers(const struct pool *p)
{
    return p->workers;
}

enum pool_kind pool_kind_of(const struct pool *p)
{
    return p->kind;
}

pid_t pool_worker_pid(const struct pool *p, unsigned w)
{
    return p->kind == POOL_FORK && w < p->workers ? p->shm->w[w].pid : 0;
}

void pool_destroy(struct pool *p)
{
    if (!p)
        return;
    if (p->broken) {
        stop_workers(p, p->workers, 1);
        pool_free(p, p->kind == POOL_THREAD);
        return;
    }
    stop_workers(p, p->workers, 0);
    pool_free(p, 0);
}

void pool_error_str(const struct pool_error *e, enum pool_kind kind, char *buf, size_t n)
{
    char who[64], task[48];
    if (kind == POOL_FORK)
        snprintf(who, sizeof who, "worker pid %ld", (long)e->pid);
    else
        snprintf(who, sizeof who, "worker thread %u", e->worker);
    if (e->task >= 0)
        snprintf(task, sizeof task, "task %ld", e->task);
    else
        snprintf(task, sizeof task, "no task");
    switch (e->cause) {
    case POOL_TIMEOUT:
        snprintf(buf, n, "%s (%s) ran past the task timeout; %s", task, who,
                 kind == POOL_FORK ? "worker killed"
                                   : "a thread cannot be stopped alone, so the run ends");
        break;
    case POOL_DEADLOCK:
        snprintf(buf, n, "deadlock: every worker of the pool waits on a future of the same pool");
        break;
    case POOL_CRASHED:   /* only a worker process can die alone */
        runner_death_str(buf, n, e->task, e->pid, e->signal, e->exit_status);
        break;
    default:
        snprintf(buf, n, "no error");
    }
}
