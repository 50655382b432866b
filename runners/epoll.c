/* epoll.c: the event-loop runner: one loop per process, and with --loops N, N-1 more
 * forked loop processes that split the tasks (the nginx model). I/O waits overlap on one
 * thread; CPU tasks run one per callback, which on purpose gains nothing: an event loop
 * gives concurrency, not parallelism.
 *
 * Shape of a run. Each loop claims tasks (static blocks or a shared dynamic counter) from
 * a deferred "feed" callback that re-defers itself, so the loop polls between claims.
 * Async tasks (start_task/resume_task) all start at once and wait on their fd or a loop
 * timer; CPU tasks run one per feed through runner_exec_task. The calling process is
 * loop 0 and the coordinator: the others report the end of each step on an eventfd and
 * their exit on a pidfd, both watched by loop 0's own loop, and sleep on a futex until
 * loop 0 releases the next step, so no loop starts step s+1 before all finished step s.
 *
 * Failures. A loop process that dies is reaped at once and named with its current task;
 * the others are killed and reaped. A callback that blocks past --task-timeout (a CPU
 * task, a hung start or resume) is seen by the harness's watchdog through plan->watch;
 * an async task that waits past it is caught by its own timer in its loop.
 */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../lib/loop.h"
#include "../lib/sync.h"

/* MONITOR_NS (runner.h): how often the first loop looks for ended loop processes that no
 * pidfd reports (when pidfd_open failed, e.g. out of fds under a low ulimit -n). */

/* Claims of async tasks one feed callback makes before the loop polls again. */
#define FEED_CLAIMS 256u

/* What one loop publishes about itself: a cache line each, so loops never share one. */
struct ep_slot {
    alignas(PARLAB_CACHELINE) _Atomic long cur_task;  /* task whose callback runs, or -1 */
    _Atomic uint32_t steps_done;                       /* steps this loop has finished */
    _Atomic uint32_t in_flight;                        /* async tasks it is waiting on */
};

/*
 * Shared by every loop process (job_shared_alloc). The first loop (the calling process)
 * is the coordinator: it alone writes `next` between steps and `released`; the others
 * only claim from `next`, write their own slot, and read `released`.
 */
struct ep_shm {
    alignas(PARLAB_CACHELINE) _Atomic size_t next;     /* dynamic: next unclaimed task */
    alignas(PARLAB_CACHELINE) _Atomic uint32_t released;  /* futex: steps loops may run */
    _Atomic uint32_t fail_claimed;                     /* the first failure wins */
    _Atomic uint32_t fail_set;                         /* fail_code/fail_msg are written */
    int fail_code;
    char fail_msg[200];
    struct ep_slot slot[];
};

struct ep_child {
    pid_t pid;
    int pidfd;        /* -1: watched by the monitor timer instead */
    int alive;        /* not reaped yet */
};

/*
 * An async task between start_task and its last resume_task has no record of its own,
 * since a loop may hold a million of them: it is its index, which is the argument of its
 * timer or fd callback (the run is the loop's data). The fd it waits on comes back with
 * the callback, a delay is spent once the timer is added, and what else it keeps goes to
 * side tables made on first use: io.ctx into r->ctx, whether it waits on an fd into
 * r->on_fd (for the timeout's message), what it wrote before it waited into r->kept, its
 * timeout timer into r->overdue and its start time into its trace row. A million 100 ms
 * waits therefore cost the loop's timers and nothing here.
 */

/* One loop process's private view of the run. */
struct ep_run {
    struct job *job;
    const struct plan *plan;
    struct partial *slots;
    struct ep_shm *shm;
    struct loop *loop;
    unsigned k, L;           /* this loop, and how many there are */
    unsigned step;
    int async;               /* the workload has start_task/resume_task */
    int failed;              /* this process reported a failure: stop */

    /* this step's claims */
    size_t cur, hi;          /* claimed and not yet started: [cur, hi) */
    size_t claims;           /* claims made this step (static) */
    int fed;                 /* no more claims this step */
    size_t pending;          /* async tasks waiting */
    uint64_t *ctx;           /* async, made on first use: each waiting task's io.ctx */
    uint8_t *on_fd;          /* async, made on first use: 1 if the task waits on an fd */
    uint64_t *overdue;       /* async with --task-timeout: each task's timeout timer */
    struct partial **kept;   /* under plan->fold, made on first use: per task, what it
                                wrote before it waited (timers write nothing: NULL) */

    /* the coordinator only (k == 0 and L > 1) */
    struct ep_child *kids;   /* kids[1..L-1] */
    int evfd;                /* the others write 1 here after each step */
    int self_done;           /* this loop finished the step */
    int step_over;           /* every loop finished the step */
    uint64_t monitor_id;
};

/* Record the run's failure (the first one wins) and stop this loop. Any loop may call it;
 * the coordinator turns the record into the outcome. */
static void ep_fail(struct ep_run *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ep_fail(struct ep_run *r, int code, const char *fmt, ...)
{
    struct ep_shm *s = r->shm;
    uint32_t zero = 0;
    if (atomic_compare_exchange_strong(&s->fail_claimed, &zero, 1)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->fail_msg, sizeof s->fail_msg, fmt, ap);
        va_end(ap);
        s->fail_code = code;
        atomic_store_explicit(&s->fail_set, 1, memory_order_release);
    }
    r->failed = 1;
    if (r->loop)
        loop_stop(r->loop);
}

/* Publish the task whose callback this loop is running, or -1: for the crash report of
 * a loop process, and for the harness's task-timeout watchdog (plan->watch, one entry per
 * loop), which so sees a callback that blocks the loop, CPU task or not. Writing the
 * start time before the task lets a reader that sees the task trust the time. */
static void set_current(struct ep_run *r, long task)
{
    atomic_store_explicit(&r->shm->slot[r->k].cur_task, task, memory_order_release);
    if (r->plan->watch) {
        struct task_watch *w = &r->plan->watch[r->k];
        if (task >= 0)
            atomic_store_explicit(&w->start_ns, clock_now_ns(), memory_order_relaxed);
        atomic_store_explicit(&w->task, task, memory_order_release);
    }
}

static uint64_t timeout_ns(const struct plan *p)
{
    return (uint64_t)(p->task_timeout_s * 1e9);
}

/* Claim the next range of this step's tasks for this loop: 1 and [*lo, *hi), or 0. The
 * rules are OpenMP's, as in the pools: static without a chunk is one contiguous block per
 * loop; static with a chunk deals chunks round-robin; dynamic takes chunks (default 1)
 * from the shared counter. */
static int claim(struct ep_run *r, size_t *lo, size_t *hi)
{
    size_t n = r->job->tasks, c = r->plan->chunk, l;
    if (r->plan->schedule != SCHED_STATIC) {
        c = c ? c : 1;
        l = atomic_fetch_add_explicit(&r->shm->next, c, memory_order_relaxed);
    } else if (c == 0) {
        if (r->claims++)
            return 0;
        sched_static_block(n, r->L, r->k, lo, hi);
        return *lo < *hi;
    } else {
        l = (r->k + r->claims++ * r->L) * c;
    }
    if (l >= n)
        return 0;
    *lo = l;
    *hi = n - l > c ? l + c : n;
    return 1;
}

static void check_barrier(struct ep_run *r);

/* This loop's part of the step may be over: all claimed, nothing waiting. */
static void step_check(struct ep_run *r)
{
    if (!r->fed || r->pending || r->self_done)
        return;
    r->self_done = 1;
    if (r->kids)
        check_barrier(r);
    /* A loop without others to wait for runs out of work and loop_run returns. */
}

static int planted(const struct ep_run *r, size_t task)
{
    unsigned at = r->plan->inject_step ? r->plan->inject_step - 1 : 0;
    return r->plan->inject != INJECT_NONE && task == r->plan->inject_task && r->step == at;
}

/* ---- the async path: start every claimed task, resume each in a callback ---- */

static void async_wait(struct ep_run *r, size_t t, const struct task_io *io);

/* A waiting task as the argument of its callbacks, and back. */
static void *task_arg(size_t t)
{
    return (void *)(uintptr_t)t;
}

static size_t arg_task(void *arg)
{
    return (size_t)(uintptr_t)arg;
}

static struct trace_rec *trace_of(const struct ep_run *r, size_t t)
{
    return &r->plan->trace[(size_t)r->step * r->job->tasks + t];
}

/* The partial an async task writes: its slot; or, under plan->fold, one on this stack
 * holding what the task wrote before it last waited (zero at its start). */
static struct partial *task_out(struct ep_run *r, size_t t, struct partial *mine)
{
    if (!r->plan->fold)
        return &r->slots[t];
    *mine = r->kept && r->kept[t] ? *r->kept[t] : (struct partial){ 0 };
    return mine;
}

static int partial_is_zero(const struct partial *p)
{
    uint64_t v;
    memcpy(&v, &p->value, sizeof v);   /* -0.0 is not zero here */
    return !p->sum && !p->count && !v && !p->hash && !p->err;
}

/* Under plan->fold, keep what a task that now waits has written: most (timers) write
 * nothing before they wait and keep nothing. 0 or -ENOMEM. */
static __attribute__((noinline)) int task_keep_partial(struct ep_run *r, size_t t,
                                                       const struct partial *out)
{
    if (!r->kept && !(r->kept = calloc(r->job->tasks, sizeof *r->kept)))
        return -ENOMEM;
    if (!r->kept[t] && !(r->kept[t] = aligned_alloc(PARLAB_CACHELINE, sizeof **r->kept)))
        return -ENOMEM;
    *r->kept[t] = *out;
    return 0;
}

/* What a task that now waits keeps besides its partial: io.ctx, and whether it waits on
 * an fd. Nothing, for the common case of a timer and no ctx. 0 or -ENOMEM. */
static __attribute__((noinline)) int task_keep_io(struct ep_run *r, size_t t,
                                                  const struct task_io *io)
{
    if (io->ctx && !r->ctx && !(r->ctx = calloc(r->job->tasks, sizeof *r->ctx)))
        return -ENOMEM;
    if (r->ctx)
        r->ctx[t] = io->ctx;
    if (io->fd >= 0 && !r->on_fd && !(r->on_fd = calloc(r->job->tasks, 1)))
        return -ENOMEM;
    if (r->on_fd)
        r->on_fd[t] = io->fd >= 0;
    return 0;
}

/* What a task that now waits must keep (task_keep_partial, task_keep_io), with the
 * common case (a timer, nothing written, no ctx: a million of them start in one burst)
 * decided inline. 0 or -ENOMEM. */
static inline int task_keep(struct ep_run *r, size_t t, const struct partial *out,
                            const struct task_io *io)
{
    if (r->plan->fold && ((r->kept && r->kept[t]) || !partial_is_zero(out)) &&
        task_keep_partial(r, t, out))
        return -ENOMEM;
    if ((io->ctx || r->ctx || io->fd >= 0 || r->on_fd) && task_keep_io(r, t, io))
        return -ENOMEM;
    return 0;
}

static void async_done(struct ep_run *r, size_t t, struct partial *out)
{
    if (planted(r, t) && r->plan->inject == INJECT_ERROR)
        out->err = 5;   /* EIO, as runner_exec_task plants it */
    runner_task_done(r->job, r->plan, r->step, t, r->k, out);
    if (r->kept) {
        free(r->kept[t]);
        r->kept[t] = NULL;
    }
    if (r->plan->trace) {
        struct trace_rec *tr = trace_of(r, t);
        *tr = (struct trace_rec){ .task = (uint32_t)t, .worker = r->k, .step = r->step,
                                  .start_ns = tr->start_ns, .end_ns = clock_now_ns() };
    }
}

/* Task t's wait is over: fd is the fd it waited on, or -1 for a timer. */
static void async_resume(struct ep_run *r, size_t t, int fd)
{
    struct task_io io = { .fd = fd, .ctx = r->ctx ? r->ctx[t] : 0 };
    struct partial mine, *out = task_out(r, t, &mine);
    set_current(r, (long)t);
    int st = r->job->wl->resume_task(r->job, r->step, t, &io, out);
    set_current(r, -1);
    if (st == TASK_WAIT) {
        if (task_keep(r, t, out, &io))
            ep_fail(r, PARLAB_EXIT_OS, "task %zu: out of memory", t);
        else
            async_wait(r, t, &io);
        return;
    }
    if (r->overdue && r->overdue[t])
        loop_cancel_timer(r->loop, r->overdue[t]);
    r->pending--;
    atomic_store_explicit(&r->shm->slot[r->k].in_flight, (uint32_t)r->pending, memory_order_relaxed);
    async_done(r, t, out);
    step_check(r);
}

static void on_task_timer(struct loop *loop, uint64_t id, void *arg)
{
    (void)id;
    async_resume(loop_data(loop), arg_task(arg), -1);
}

static void on_task_fd(struct loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    loop_unwatch(loop, fd);
    async_resume(loop_data(loop), arg_task(arg), fd);
}

static void on_task_overdue(struct loop *loop, uint64_t id, void *arg)
{
    struct ep_run *r = loop_data(loop);
    size_t t = arg_task(arg);
    (void)id;
    ep_fail(r, PARLAB_EXIT_SOFTWARE,
            "task %zu (event loop %u, pid %ld) ran past the %g s task timeout waiting on %s",
            t, r->k, (long)getpid(), r->plan->task_timeout_s,
            r->on_fd && r->on_fd[t] ? "an fd" : "a timer");
}

static void async_wait(struct ep_run *r, size_t t, const struct task_io *io)
{
    if (io->fd >= 0) {
        int e = loop_watch_fd(r->loop, io->fd, LOOP_READABLE, on_task_fd, task_arg(t));
        if (e)
            ep_fail(r, PARLAB_EXIT_OS, "task %zu: cannot watch fd %d: %s", t, io->fd,
                    strerror(-e));
    } else if (!loop_add_timer(r->loop, io->delay_ns, on_task_timer, task_arg(t))) {
        ep_fail(r, PARLAB_EXIT_OS, "task %zu: cannot add a timer: %s", t, strerror(errno));
    }
}

static void async_start(struct ep_run *r, size_t t)
{
    const struct job *job = r->job;
    if (planted(r, t) && r->plan->inject != INJECT_ERROR) {
        /* Plant the fault exactly as every runner does: the crash, kill, exit or hang
         * happens before the task's work and does not come back. If it ever did, the
         * task has run in its blocking form with its slot and trace row written. */
        atomic_store_explicit(&r->shm->slot[r->k].cur_task, (long)t, memory_order_release);
        runner_exec_task(job, r->plan, r->step, t, r->k, r->slots);
        atomic_store_explicit(&r->shm->slot[r->k].cur_task, -1, memory_order_release);
        return;
    }
    struct task_io io = { .fd = -1 };
    if (r->plan->trace)
        trace_of(r, t)->start_ns = clock_now_ns();
    struct partial mine, *out = task_out(r, t, &mine);
    set_current(r, (long)t);
    int st = job->wl->start_task(job, r->step, t, &io, out);
    set_current(r, -1);
    if (st != TASK_WAIT) {
        async_done(r, t, out);
        return;
    }
    if (task_keep(r, t, out, &io)) {
        ep_fail(r, PARLAB_EXIT_OS, "task %zu: out of memory", t);
        return;
    }
    r->pending++;
    atomic_store_explicit(&r->shm->slot[r->k].in_flight, (uint32_t)r->pending, memory_order_relaxed);
    if (r->overdue) {
        r->overdue[t] = loop_add_timer(r->loop, timeout_ns(r->plan), on_task_overdue,
                                       task_arg(t));
        if (!r->overdue[t]) {
            ep_fail(r, PARLAB_EXIT_OS, "task %zu: cannot add a timer: %s", t, strerror(errno));
            return;
        }
    }
    async_wait(r, t, &io);
}

/* ---- the feeder: one deferred callback that claims work and re-defers itself ---- */

static void feed(struct loop *loop, void *arg)
{
    struct ep_run *r = arg;
    if (r->failed)
        return;
    if (r->cur == r->hi && !claim(r, &r->cur, &r->hi)) {
        r->fed = 1;
        step_check(r);
        return;
    }
    if (r->async) {
        /* Every task of the claim starts now and waits in the loop. Starting one is
         * short, so one feed makes up to FEED_CLAIMS claims (each still of the schedule's
         * chunk) before the loop polls again: a loop iteration per task would cost more
         * than the task. */
        for (unsigned c = 0; !r->failed; ) {
            while (r->cur < r->hi && !r->failed)
                async_start(r, r->cur++);
            if (++c == FEED_CLAIMS || r->failed || !claim(r, &r->cur, &r->hi))
                break;
        }
    } else {
        /* CPU tasks run to completion, one per callback, so that the loop polls its fds
         * and timers between tasks (the task itself blocks the loop while it runs). With
         * nothing to poll (no fd watched, no timer pending: a lone loop on CPU work), a
         * return to the loop between tasks only costs time, so up to FEED_CLAIMS tasks
         * run in this callback, each still claimed by the schedule's rules.
         * runner_exec_task plants faults, traces and feeds the timeout watchdog. */
        unsigned batch = loop_watch_count(loop) || loop_timer_count(loop) ? 1 : FEED_CLAIMS;
        for (unsigned i = 0;;) {
            size_t t = r->cur++;
            atomic_store_explicit(&r->shm->slot[r->k].cur_task, (long)t, memory_order_release);
            runner_exec_task(r->job, r->plan, r->step, t, r->k, r->slots);
            atomic_store_explicit(&r->shm->slot[r->k].cur_task, -1, memory_order_release);
            if (++i == batch || r->failed ||
                (r->cur == r->hi && !claim(r, &r->cur, &r->hi)))
                break;
        }
    }
    if (!r->failed && loop_defer(loop, feed, r))
        ep_fail(r, PARLAB_EXIT_OS, "event loop %u: out of memory", r->k);
}

/* Run this loop's share of step `step` until the loop stops or runs out of work.
 * Returns 0, or -1 if a failure was recorded. */
static int run_step(struct ep_run *r, unsigned step)
{
    r->step = step;
    r->cur = r->hi = 0;
    r->claims = 0;
    r->fed = 0;
    r->pending = 0;
    atomic_store_explicit(&r->shm->slot[r->k].in_flight, 0, memory_order_relaxed);
    r->self_done = 0;
    r->step_over = 0;
    if (loop_defer(r->loop, feed, r)) {
        ep_fail(r, PARLAB_EXIT_OS, "event loop %u: out of memory", r->k);
        return -1;
    }
    while (!r->failed && !(r->kids ? r->step_over : r->self_done)) {
        int rc = loop_run(r->loop);
        if (rc < 0) {
            ep_fail(r, PARLAB_EXIT_OS, "event loop %u: epoll_wait: %s", r->k, strerror(-rc));
            break;
        }
        if (rc == 0 && !r->failed && !(r->kids ? r->step_over : r->self_done)) {
            ep_fail(r, PARLAB_EXIT_SOFTWARE, "event loop %u ran out of work in step %u", r->k,
                    step);
            break;
        }
    }
    return r->failed ? -1 : 0;
}

/* This process's loop, with the run as its data: what the callbacks of waiting tasks find
 * the run by. 0 or -errno. */
static int ep_loop_open(struct ep_run *r)
{
    int e = loop_open(&r->loop);
    if (!e)
        loop_set_data(r->loop, r);
    return e;
}

/* ---- the other loops, in their own processes ---- */

static _Noreturn void child_main(struct ep_run *r)
{
    int e = ep_loop_open(r);
    if (e) {
        ep_fail(r, PARLAB_EXIT_OS, "event loop %u: cannot create: %s", r->k, strerror(-e));
        _exit(1);
    }
    struct ep_shm *s = r->shm;
    for (unsigned step = 0; step < r->job->steps; step++) {
        uint32_t g;
        while ((g = atomic_load_explicit(&s->released, memory_order_acquire)) <= step)
            sync_wait(&s->released, g, 0);
        if (run_step(r, step))
            _exit(1);
        atomic_store_explicit(&s->slot[r->k].steps_done, step + 1, memory_order_release);
        uint64_t one = 1;
        if (write(r->evfd, &one, sizeof one) != (ssize_t)sizeof one)
            _exit(1);
    }
    loop_destroy(r->loop);
    _exit(0);
}

/* ---- the coordinator: the calling process is loop 0 and watches the others ---- */

/* Every loop has finished the step: stop the coordinator's loop so it can release the
 * next step. Called whenever a loop may have finished (its own, an eventfd, a reap). */
static void check_barrier(struct ep_run *r)
{
    if (!r->self_done || r->step_over)
        return;
    for (unsigned k = 1; k < r->L; k++)
        if (atomic_load_explicit(&r->shm->slot[k].steps_done, memory_order_acquire) <=
            r->step)
            return;
    r->step_over = 1;
    loop_stop(r->loop);
}

static void kid_unwatch(struct ep_run *r, struct ep_child *c)
{
    if (c->pidfd >= 0) {
        loop_unwatch(r->loop, c->pidfd);
        close(c->pidfd);
        c->pidfd = -1;
    }
}

/* Judge how loop k's process ended (it has been reaped with status st). */
static void judge_exit(struct ep_run *r, unsigned k, int st)
{
    struct ep_shm *s = r->shm;
    pid_t pid = r->kids[k].pid;
    long task = atomic_load(&s->slot[k].cur_task);
    uint32_t done = atomic_load_explicit(&s->slot[k].steps_done, memory_order_acquire);

    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        if (done < r->job->steps)
            ep_fail(r, PARLAB_EXIT_SOFTWARE,
                    "event loop %u (worker pid %ld) exited before finishing step %u", k,
                    (long)pid, done);
        else
            check_barrier(r);
        return;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 1 &&
        atomic_load_explicit(&s->fail_set, memory_order_acquire)) {
        r->failed = 1;   /* it recorded why itself */
        loop_stop(r->loop);
        return;
    }
    char why[160];
    uint32_t waiting = atomic_load_explicit(&s->slot[k].in_flight, memory_order_relaxed);
    child_death_str(why, sizeof why, task, pid, WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    if (task < 0 && waiting > 0) {   /* not between tasks: its async tasks were waiting */
        const char *how = strstr(why, "between tasks, ");
        ep_fail(r, PARLAB_EXIT_SOFTWARE, "event loop %u (worker pid %ld) with %u tasks in flight %s",
                k, (long)pid, waiting, how ? how + strlen("between tasks, ") : why);
        return;
    }
    ep_fail(r, PARLAB_EXIT_SOFTWARE, "%s", why);
}

/* Reap loop k if it has ended (flags: 0 to wait, WNOHANG to look). */
static void reap_kid(struct ep_run *r, unsigned k, int flags)
{
    struct ep_child *c = &r->kids[k];
    int st;
    pid_t p;
    if (!c->alive)
        return;
    while ((p = waitpid(c->pid, &st, flags)) < 0 && errno == EINTR)
        ;
    if (p == 0)
        return;
    if (p > 0)
        child_del(c->pid);
    c->alive = 0;
    kid_unwatch(r, c);
    if (p < 0)
        ep_fail(r, PARLAB_EXIT_OS, "waitpid for event loop %u (pid %ld): %s", k, (long)c->pid,
                strerror(errno));
    else
        judge_exit(r, k, st);
}

static void on_pidfd(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct ep_run *r = arg;
    (void)loop, (void)events;
    for (unsigned k = 1; k < r->L; k++)
        if (r->kids[k].pidfd == fd) {
            reap_kid(r, k, WNOHANG);
            return;
        }
}

static void on_arrival(struct loop *loop, int fd, unsigned events, void *arg)
{
    uint64_t n;
    (void)loop, (void)events;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        ep_fail(arg, PARLAB_EXIT_OS, "read of the step eventfd: %s", strerror(errno));
    else
        check_barrier(arg);
}

/* Look for loop processes that ended without a pidfd to say so. It runs between the
 * coordinator's own callbacks, so a long task there delays it. */
static void on_monitor(struct loop *loop, uint64_t id, void *arg)
{
    struct ep_run *r = arg;
    (void)id;
    r->monitor_id = 0;
    for (unsigned k = 1; k < r->L && !r->failed; k++)
        if (r->kids[k].pidfd < 0)
            reap_kid(r, k, WNOHANG);
    if (!r->failed) {
        r->monitor_id = loop_add_timer(loop, MONITOR_NS, on_monitor, r);
        if (!r->monitor_id)
            ep_fail(r, PARLAB_EXIT_OS, "event loop 0: cannot add a timer: %s", strerror(errno));
    }
}

static void kill_kids(struct ep_run *r)
{
    for (unsigned k = 1; k < r->L; k++) {
        struct ep_child *c = &r->kids[k];
        if (c->alive) {
            kill(c->pid, SIGKILL);
            while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
                ;
            child_del(c->pid);
            c->alive = 0;
        }
        if (c->pidfd >= 0) {
            if (r->loop)
                loop_unwatch(r->loop, c->pidfd);
            close(c->pidfd);
            c->pidfd = -1;
        }
    }
}

/* Fork loops 1..L-1. Returns 0, or -1 with the failure recorded (and none left). */
static int start_kids(struct ep_run *r)
{
    for (unsigned k = 1; k < r->L; k++) {
        pid_t pid = child_fork();   /* tracked: a signal ending us reaps it too */
        if (pid < 0) {
            int e = errno;
            kill_kids(r);
            ep_fail(r, PARLAB_EXIT_OS, "epoll: fork for event loop %u of %u: %s", k, r->L,
                    strerror(e));
            return -1;
        }
        if (pid == 0) {
            r->k = k;
            r->kids = NULL;
            child_main(r);
        }
        r->kids[k] = (struct ep_child){ .pid = pid, .pidfd = -1, .alive = 1 };
    }
    return 0;
}

/* Watch the other loops: a pidfd per process where possible, else the monitor timer. */
static int watch_kids(struct ep_run *r)
{
    int need_monitor = 0;
    int e = loop_watch_fd(r->loop, r->evfd, LOOP_READABLE, on_arrival, r);
    if (e) {
        ep_fail(r, PARLAB_EXIT_OS, "epoll: watch the step eventfd: %s", strerror(-e));
        return -1;
    }
    for (unsigned k = 1; k < r->L; k++) {
        struct ep_child *c = &r->kids[k];
        c->pidfd = pidfd_open(c->pid, 0);
        if (c->pidfd >= 0 && loop_watch_fd(r->loop, c->pidfd, LOOP_READABLE, on_pidfd, r)) {
            close(c->pidfd);
            c->pidfd = -1;
        }
        if (c->pidfd < 0)
            need_monitor = 1;   /* out of fds (ulimit -n), or no pidfd in this kernel */
    }
    if (need_monitor) {
        r->monitor_id = loop_add_timer(r->loop, MONITOR_NS, on_monitor, r);
        if (!r->monitor_id) {
            ep_fail(r, PARLAB_EXIT_OS, "epoll: cannot add a timer: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int epoll_run(struct job *job, const struct plan *plan, struct partial *slots,
                     struct outcome *out)
{
    unsigned L = plan->loops ? plan->loops : 1;
    if (L > job->tasks)
        L = (unsigned)job->tasks;   /* a loop without a task would only idle */
    size_t shm_len = sizeof(struct ep_shm) + (size_t)L * sizeof(struct ep_slot);
    struct ep_run r = { .job = job, .plan = plan, .slots = slots, .L = L, .evfd = -1,
                        .async = job->wl->start_task && job->wl->resume_task };
    int rc = 0;

    r.shm = job_shared_alloc(shm_len);
    if (!r.shm)
        return outcome_fail(out, PARLAB_EXIT_OS, "epoll: mmap of %zu bytes: %s", shm_len,
                            strerror(errno));
    for (unsigned k = 0; k < L; k++)
        atomic_store(&r.shm->slot[k].cur_task, -1);
    atomic_store(&r.shm->released, 1);   /* step 0 may start at once */
    if (r.async && plan->task_timeout_s > 0 &&
        !(r.overdue = calloc(job->tasks, sizeof *r.overdue))) {
        rc = outcome_fail(out, PARLAB_EXIT_OS, "epoll: out of memory for %zu tasks", job->tasks);
        goto out;
    }
    if (L > 1) {
        r.kids = calloc(L, sizeof *r.kids);
        r.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (!r.kids || r.evfd < 0) {
            rc = outcome_fail(out, PARLAB_EXIT_OS, "epoll: %s",
                              r.kids ? strerror(errno) : "out of memory");
            goto out;
        }
        for (unsigned k = 0; k < L; k++)
            r.kids[k].pidfd = -1;
        if (start_kids(&r))
            goto out;
    }
    /* The loop is made after the forks, so no other process shares its epoll set. */
    int e = ep_loop_open(&r);
    if (e) {
        ep_fail(&r, PARLAB_EXIT_OS, "epoll: cannot create the event loop: %s", strerror(-e));
        goto out;
    }
    if (r.kids && watch_kids(&r))
        goto out;
    for (unsigned step = 0; step < job->steps; step++) {
        if (run_step(&r, step))
            goto out;
        if (step + 1 == job->steps)
            break;
        /* Every loop is past step `step` and waits: reset the claims, then release. */
        atomic_store_explicit(&r.shm->next, 0, memory_order_relaxed);
        if (r.kids) {
            atomic_store_explicit(&r.shm->released, step + 2, memory_order_release);
            sync_wake(&r.shm->released, INT_MAX);
        }
    }
    /* The others exit after their last step: reap them and judge how they ended. */
    for (unsigned k = 1; r.kids && k < L && !r.failed; k++)
        reap_kid(&r, k, 0);
out:
    if (r.kids)
        kill_kids(&r);      /* only those still alive: after a failure, or none */
    if (atomic_load_explicit(&r.shm->fail_set, memory_order_acquire))
        rc = outcome_fail(out, r.shm->fail_code, "%s", r.shm->fail_msg);
    else if (r.failed && !rc)
        rc = outcome_fail(out, PARLAB_EXIT_SOFTWARE, "epoll: an event loop failed");
    loop_destroy(r.loop);
    if (r.evfd >= 0)
        close(r.evfd);
    free(r.kids);
    for (size_t t = 0; r.kept && t < job->tasks; t++)
        free(r.kept[t]);   /* what tasks that never finished kept */
    free(r.kept);
    free(r.ctx);
    free(r.on_fd);
    free(r.overdue);
    job_shared_free(r.shm, shm_len);
    return rc;
}

const struct runner runner_epoll = {
    .name = "epoll",
    .summary = "event loop: I/O waits overlap, CPU gains nothing (concurrency, not parallelism)",
    .schedules = SCHED_BIT(SCHED_STATIC) | SCHED_BIT(SCHED_DYNAMIC),
    .default_schedule = SCHED_STATIC,
    .flags = RUNNER_HAS_LOOPS,
    .run = epoll_run,
};
