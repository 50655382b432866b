/* pool.c: the worker-pool engine shared by the fork and thread runners and by the
 * fpool_/tpool_ libraries, the parent's side: open a pool, publish maps, watch the workers
 * (deaths, timeouts), stop them, and a job's steps as maps (pool_run). Workers are
 * processes or threads (struct pool_ops starts them); everything they share lives in
 * MAP_SHARED mappings, so the code is the same for both. One engine in three files, a
 * circle on purpose: worker.c runs the maps published here, and future.c's calls fail
 * through this file's watch over dead workers. */
#define _GNU_SOURCE
#include "pool_internal.h"

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

#include "shm.h"
#include "sync.h"

/* Parent: reap any worker that has died and record the first death as the crash. Returns
 * 1 if a worker is dead. Only workers that can die alone (processes) are looked at. */
static int check_workers(struct pool *p, struct pool_error *e)
{
    struct pool_shm *s = p->shm;
    int dead = 0;
    if (!p->ops->kill)
        return 0;
    for (unsigned w = 0; w < p->workers; w++) {
        struct pool_worker *pw = &s->w[w];
        int st;
        if (!p->alive[w] || !p->ops->reap(&p->h[w], 0, &st))
            continue;
        p->alive[w] = 0;
        dead = 1;
        if (s->crash.cause)
            continue;
        s->crash.cause = POOL_CRASHED;
        s->crash.task = atomic_load(&pw->cur_task);
        s->crash.worker = w;
        s->crash.pid = pw->pid;
        s->crash.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        s->crash.exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        long fi = futures_running(p->futures, w);
        if (fi >= 0 && s->crash.task < 0)
            s->crash.task = fi;
    }
    if (dead) {
        p->broken = 1;
        atomic_store(&s->broken, 1);
        futures_fail_dead(p->futures);
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
    uint64_t now = clock_now_ns(), limit = (uint64_t)(p->timeout_s * 1e9);
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
                                  .pid = pw->pid, .exit_status = -1 };
        if (p->ops->kill && p->alive[w]) {
            int st;
            p->ops->kill(&p->h[w]);
            p->ops->reap(&p->h[w], 1, &st);
            p->alive[w] = 0;
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

static void stop_workers(struct pool *p, int force)
{
    struct pool_shm *s = p->shm;
    atomic_store(&s->quit, 1);
    atomic_fetch_add(&s->gen, 1);
    sync_wake(&s->gen, INT_MAX);
    for (unsigned w = 0; w < p->workers; w++) {
        int st;
        if (!p->alive[w])
            continue;
        if (force && !p->ops->kill)
            continue;          /* a thread cannot be stopped alone: see pool_free */
        if (force)
            p->ops->kill(&p->h[w]);
        p->ops->reap(&p->h[w], 1, &st);
        p->alive[w] = 0;
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
    futures_close(p->futures);
    shm_unmap(p->shm, p->shm_len);
    if (p->arena)
        shm_unmap(p->arena, p->arena_len);
    free(p->h);
    free(p->alive);
    free(p);
}

intptr_t pool_code_bias;

/* Any function of this program: its address in the parent and in a spawned worker give
 * the distance between the two loads of the one binary. */
static void code_anchor(void)
{
}

int pool__boot_pack(const struct pool *p, unsigned w, struct pool_boot *b)
{
    *b = (struct pool_boot){
        .magic = POOL_BOOT_MAGIC, .worker = w, .parent = getpid(),
        .anchor = (uint64_t)(uintptr_t)code_anchor, .remote = (uint64_t)(uintptr_t)p,
        .kind = p->kind, .workers = p->workers,
        .shm = (uint64_t)(uintptr_t)p->shm, .shm_len = p->shm_len,
        .futures = (uint64_t)(uintptr_t)p->futures,
        .arena = (uint64_t)(uintptr_t)p->arena, .arena_len = p->arena_len,
        .init = (uint64_t)(uintptr_t)p->init, .init_arg = (uint64_t)(uintptr_t)p->init_arg,
        .boot = (uint64_t)(uintptr_t)p->boot, .boot_len = (uint32_t)p->boot_len,
    };
    if (p->boot_len > sizeof b->boot_msg)
        return -E2BIG;
    if (p->boot_len)
        memcpy(b->boot_msg, p->boot_msg, p->boot_len);
    int n = shm_regions(b->region, POOL_BOOT_REGIONS);
    if (n < 0)
        return n;
    b->nregions = (uint32_t)n;
    return 0;
}

void pool__boot_run(const struct pool_boot *b)
{
    /* The shared regions are mapped already, at the parent's addresses. */
    pool_code_bias = (intptr_t)((uintptr_t)code_anchor - (uintptr_t)b->anchor);
    struct pool *p = calloc(1, sizeof *p);
    if (!p)
        _exit(PARLAB_EXIT_OS);
    p->kind = b->kind;
    p->workers = b->workers;
    p->shm = (struct pool_shm *)(uintptr_t)b->shm;
    p->shm_len = b->shm_len;
    p->futures = (struct pool_futures *)(uintptr_t)b->futures;
    p->arena = (void *)(uintptr_t)b->arena;
    p->arena_len = b->arena_len;
    p->init = (pool_init_fn)(uintptr_t)b->init;
    p->init_arg = (void *)(uintptr_t)b->init_arg;
    p->remote = (const struct pool *)(uintptr_t)b->remote;
    p->parent = b->parent;
    if (b->boot)
        POOL_CODE(void (*)(struct pool *, const void *, size_t),
                  (void (*)(struct pool *, const void *, size_t))(uintptr_t)b->boot)(
            p, b->boot_msg, b->boot_len);
    pool_worker_main(p, b->worker);
    fflush(NULL);
    _exit(0);
}

void pool_set_local_ctx(struct pool *local, void *ctx)
{
    local->local_ctx = ctx;
    local->has_local_ctx = 1;
}

int pool_open(struct pool **out, const struct pool_ops *ops, unsigned workers,
              const struct pool_config *cfg)
{
    static const struct pool_config none;
    uint64_t t0 = clock_now_ns();
    struct pool *p;
    int rc;

    *out = NULL;
    if (!cfg)
        cfg = &none;
    if (workers == 0)
        return -EINVAL;
    if (!(p = calloc(1, sizeof *p)))
        return -ENOMEM;
    p->ops = ops;
    p->kind = ops->kind;
    p->workers = workers;
    p->init = cfg->init;
    p->init_arg = cfg->init_arg;
    p->boot = cfg->boot;
    p->boot_msg = cfg->boot_msg;
    p->boot_len = cfg->boot_len;
    p->parent = getpid();
    p->shm_len = sizeof(struct pool_shm) + (size_t)workers * sizeof(struct pool_worker);
    p->shm = shm_map(p->shm_len, 0);
    if (!p->shm) {
        rc = -errno;
        free(p);
        return rc;
    }
    p->h = calloc(workers, sizeof *p->h);
    p->alive = calloc(workers, sizeof *p->alive);
    if (!p->h || !p->alive) {
        rc = -ENOMEM;
        goto err;
    }
    if ((rc = futures_open(&p->futures, p, workers)))
        goto err;
    if (cfg->arena_bytes) {
        p->arena = shm_map(cfg->arena_bytes, SHM_NORESERVE);
        if (!p->arena) {
            rc = -errno;
            p->arena = NULL;
            goto err;
        }
        p->arena_len = cfg->arena_bytes;
    }
    for (unsigned w = 0; w < workers; w++)
        atomic_store(&p->shm->w[w].cur_task, -1);
    for (unsigned w = 0; w < workers; w++) {
        /* A worker that found a region's address taken in its own memory (a spawned
         * program, laid out afresh by ASLR) is started again, a few times. */
        for (int tries = 1; (rc = ops->start(p, w, &p->h[w])) == -EADDRINUSE && tries < 8; tries++)
            ;
        if (rc)
            goto err;
        p->shm->w[w].pid = p->h[w].pid;
        p->alive[w] = 1;
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
    if (cfg->ready_ns)
        *cfg->ready_ns = clock_now_ns() - t0;
    *out = p;
    return 0;

err:
    if (p->alive)
        stop_workers(p, ops->kill != NULL);
    pool_free(p, 0);
    return rc;
}

struct pool *pool_create(enum pool_kind kind, unsigned workers, pool_init_fn init,
                         void *init_arg, size_t arena_bytes, int *err, uint64_t *ready_ns)
{
    struct pool_config cfg = { .init = init, .init_arg = init_arg, .arena_bytes = arena_bytes,
                               .ready_ns = ready_ns };
    struct pool *p;
    *err = pool_open(&p, pool_ops_of(kind), workers, &cfg);
    return p;
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
    int monitor = p->ops->kill || p->timeout_s > 0;

    if (p->broken) {
        if (e)
            *e = s->crash;
        return s->crash.cause == POOL_TIMEOUT ? -ETIMEDOUT : -ECHILD;
    }
    s->fn = fn;
    s->ctx = ctx;
    s->arg = arg;
    s->n = n;
    s->chunk = chunk;
    s->sched = (int)sched;
    atomic_store_explicit(&s->next, 0, memory_order_relaxed);
    atomic_store_explicit(&s->claimed, 0, memory_order_relaxed);
    atomic_store_explicit(&s->claim_hash, 0, memory_order_relaxed);
    atomic_store_explicit(&s->left, 0, memory_order_relaxed);
    atomic_store_explicit(&s->done_word, 0, memory_order_relaxed);
    atomic_store_explicit(&s->batch_id, ++p->batch_seq, memory_order_release);
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_release);
    sync_wake(&s->gen, INT_MAX);

    while (atomic_load_explicit(&s->done_word, memory_order_acquire) == 0) {
        sync_wait(&s->done_word, 0, monitor ? MONITOR_NS : 0);
        if (monitor && check_workers(p, e))
            return -ECHILD;
        if (monitor && check_timeouts(p, e))
            return -ETIMEDOUT;
    }
    return 0;
}

void *pool_arena(struct pool *p, size_t *len)
{
    if (len)
        *len = p->arena_len;
    return p->arena;
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
    return w < p->workers ? p->shm->w[w].pid : 0;
}

void pool_destroy(struct pool *p)
{
    if (!p)
        return;
    stop_workers(p, p->broken);
    /* Threads of a broken pool may still run (one stuck in a task): keep it. */
    pool_free(p, p->broken && !p->ops->kill);
}

int pool_run(const struct pool_ops *ops, const struct pool_steps *s,
             const struct pool_config *cfg, struct outcome *out)
{
    struct pool_error e;
    struct pool *p;
    char why[200];
    int err;

    if ((err = pool_open(&p, ops, s->workers, cfg))) {
        if (ops == &pool_processes_spawn && (err == -ENOENT || err == -EACCES || err == -ENOEXEC))
            return outcome_fail(out, PARLAB_EXIT_OS, "cannot spawn workers from %s: %s",
                                pool_spawn_exe(), strerror(-err));
        return outcome_fail(out, PARLAB_EXIT_OS, "cannot start %u %s workers: %s",
                            s->workers, ops->what, strerror(-err));
    }
    /* A worker process past its timeout can be killed alone; a thread cannot, so thread
     * runs leave timeouts to the caller's watchdog, which ends the process at once
     * (freeing memory a stuck thread still uses would only crash it). */
    if (ops->kill)
        pool_set_task_timeout(p, s->task_timeout_s);
    for (unsigned step = 0; step < s->steps; step++) {
        if (pool_map(p, s->tasks, s->sched, s->chunk, s->fn, s->ctx, step, &e)) {
            pool_error_str(&e, ops->kind, why, sizeof why);
            pool_destroy(p);
            /* Policy: fail fast. The pool is shut down and the tasks not yet run are
             * dropped, as ProcessPoolExecutor's BrokenProcessPool does, not rerun. */
            return outcome_fail(out, PARLAB_EXIT_SOFTWARE,
                                "%s; pool shut down, remaining tasks dropped", why);
        }
    }
    pool_destroy(p);
    return 0;
}

/* What future.c asks of the pool. */
struct pool_futures *pool__futures(const struct pool *p)
{
    return p->futures;
}

void pool__kick(struct pool *p, int n)
{
    atomic_fetch_add_explicit(&p->shm->gen, 1, memory_order_release);
    sync_wake(&p->shm->gen, n);
}

int pool__broken(const struct pool *p)
{
    return (int)atomic_load(&p->shm->broken);
}

int pool__alive(const struct pool *p, unsigned w)
{
    return p->alive[w];
}

const struct pool_error *pool__crash(const struct pool *p)
{
    return &p->shm->crash;
}

int pool__must_reap(const struct pool *p)
{
    return p->ops->kill && pool_self(p) < 0 && getpid() == p->parent;
}

void pool__reap(struct pool *p)
{
    check_workers(p, NULL);
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
        child_death_str(buf, n, e->task, e->pid, e->signal, e->exit_status);
        break;
    default:
        snprintf(buf, n, "no error");
    }
}
