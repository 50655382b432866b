/* epoll.c: the event-loop runner: one loop per process, and with --loops N, N-1 more
 * forked loop processes that split the tasks (the nginx model). I/O waits overlap on one
 * thread; CPU tasks run one per callback, which on purpose gains nothing: an event loop
 * gives concurrency, not parallelism.
 *
 * The loops, their claims and the step barrier between them are lib/loopmap.c; this file
 * is what one task is to a loop. CPU tasks run through runner_exec_task. Async tasks
 * (start_task/resume_task) all start at once and wait on their fd or a loop timer, and
 * resume in that callback. A callback that blocks past --task-timeout (a CPU task, a hung
 * start or resume) is seen by the harness's watchdog through plan->watch; an async task
 * that waits past it is caught by its own timer in its loop.
 */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/loopmap.h"

/*
 * An async task between start_task and its last resume_task has no record of its own,
 * since a loop may hold a million of them: it is its index, which is the argument of its
 * timer or fd callback (the run is the loop's). The fd it waits on comes back with the
 * callback, a delay is spent once the timer is added, and what else it keeps goes to
 * side tables made on first use: io.ctx into r->ctx, whether it waits on an fd into
 * r->on_fd (for the timeout's message), what it wrote before it waited into r->kept, its
 * timeout timer into r->overdue and its start time into its trace row. A million 100 ms
 * waits therefore cost the loop's timers and nothing here.
 */
struct ep_run {              /* each loop process has its own copy */
    struct job *job;
    const struct plan *plan;
    struct partial *slots;
    unsigned step, k;        /* the step this loop runs, and which loop it is */
    uint64_t *ctx;           /* async, made on first use: each waiting task's io.ctx */
    uint8_t *on_fd;          /* async, made on first use: 1 if the task waits on an fd */
    uint64_t *overdue;       /* async with --task-timeout: each task's timeout timer */
    struct partial **kept;   /* under plan->fold, made on first use: per task, what it
                                wrote before it waited (timers write nothing: NULL) */
};

/* Publish the task whose callback this loop is running, or -1: to m, for the crash
 * report of a loop process (m NULL: the feed has done it), and to the harness's
 * task-timeout watchdog (plan->watch, one entry per
 * loop), which so sees a callback that blocks the loop, CPU task or not. Writing the
 * start time before the task lets a reader that sees the task trust the time. */
static void set_current(struct loopmap *m, const struct ep_run *r, long task)
{
    if (m)
        loopmap_set_current(m, task);
    if (r->plan->watch) {
        struct task_watch *w = &r->plan->watch[r->k];
        if (task >= 0)
            atomic_store_explicit(&w->start_ns, clock_now_ns(), memory_order_relaxed);
        atomic_store_explicit(&w->task, task, memory_order_release);
    }
}

static int planted(const struct ep_run *r, size_t task)
{
    unsigned at = r->plan->inject_step ? r->plan->inject_step - 1 : 0;
    return r->plan->inject != INJECT_NONE && task == r->plan->inject_task && r->step == at;
}

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

/* What a task that now waits must keep: under plan->fold what it has written, if
 * anything (timers write nothing before they wait); io.ctx; whether it waits on an fd.
 * The common case (a timer, nothing written, no ctx: a million of them start in one
 * burst) keeps nothing and allocates nothing. 0 or -ENOMEM. */
static int task_keep(struct ep_run *r, size_t t, const struct partial *out,
                     const struct task_io *io)
{
    size_t n = r->job->tasks;
    if (r->plan->fold && ((r->kept && r->kept[t]) || !partial_is_zero(out))) {
        if ((!r->kept && !(r->kept = calloc(n, sizeof *r->kept))) ||
            (!r->kept[t] && !(r->kept[t] = aligned_alloc(PARLAB_CACHELINE, sizeof **r->kept))))
            return -ENOMEM;
        *r->kept[t] = *out;
    }
    if ((io->ctx && !r->ctx && !(r->ctx = calloc(n, sizeof *r->ctx))) ||
        (io->fd >= 0 && !r->on_fd && !(r->on_fd = calloc(n, 1))))
        return -ENOMEM;
    if (r->ctx)
        r->ctx[t] = io->ctx;
    if (r->on_fd)
        r->on_fd[t] = io->fd >= 0;
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

static void on_task_timer(struct loop *loop, uint64_t id, void *arg);
static void on_task_fd(struct loop *loop, int fd, unsigned events, void *arg);

/* Task t waits on io's fd, or for io's delay on a loop timer. */
static void async_wait(struct loopmap *m, size_t t, const struct task_io *io)
{
    struct loop *loop = loopmap_loop(m);
    if (io->fd >= 0) {
        int e = loop_watch_fd(loop, io->fd, LOOP_READABLE, on_task_fd, task_arg(t));
        if (e)
            loopmap_fail(m, PARLAB_EXIT_OS, "task %zu: cannot watch fd %d: %s", t, io->fd,
                         strerror(-e));
    } else if (!loop_add_timer(loop, io->delay_ns, on_task_timer, task_arg(t))) {
        loopmap_fail(m, PARLAB_EXIT_OS, "task %zu: cannot add a timer: %s", t, strerror(errno));
    }
}

/* Task t's wait is over: fd is the fd it waited on, or -1 for a timer. */
static void async_resume(struct loopmap *m, size_t t, int fd)
{
    struct ep_run *r = loopmap_ctx(m);
    struct task_io io = { .fd = fd, .ctx = r->ctx ? r->ctx[t] : 0 };
    struct partial mine, *out = task_out(r, t, &mine);
    set_current(m, r, (long)t);
    int st = r->job->wl->resume_task(r->job, r->step, t, &io, out);
    set_current(m, r, -1);
    if (st == TASK_WAIT) {
        if (task_keep(r, t, out, &io))
            loopmap_fail(m, PARLAB_EXIT_OS, "task %zu: out of memory", t);
        else
            async_wait(m, t, &io);
        return;
    }
    if (r->overdue && r->overdue[t])
        loop_cancel_timer(loopmap_loop(m), r->overdue[t]);
    async_done(r, t, out);
    loopmap_task_done(m);
}

static void on_task_timer(struct loop *loop, uint64_t id, void *arg)
{
    (void)id;
    async_resume(loopmap_of(loop), arg_task(arg), -1);
}

static void on_task_fd(struct loop *loop, int fd, unsigned events, void *arg)
{
    (void)events;
    loop_unwatch(loop, fd);
    async_resume(loopmap_of(loop), arg_task(arg), fd);
}

static void on_task_overdue(struct loop *loop, uint64_t id, void *arg)
{
    struct loopmap *m = loopmap_of(loop);
    struct ep_run *r = loopmap_ctx(m);
    size_t t = arg_task(arg);
    (void)id;
    loopmap_fail(m, PARLAB_EXIT_SOFTWARE,
                 "task %zu (event loop %u, pid %ld) ran past the %g s task timeout waiting on %s",
                 t, r->k, (long)getpid(), r->plan->task_timeout_s,
                 r->on_fd && r->on_fd[t] ? "an fd" : "a timer");
}

/* A task of the async path: start it, and say so if it now waits in the loop. */
static void async_start(struct loopmap *m, void *ctx, unsigned step, unsigned loop, size_t t)
{
    struct ep_run *r = ctx;
    const struct job *job = r->job;
    r->step = step;
    r->k = loop;
    if (planted(r, t) && r->plan->inject != INJECT_ERROR) {
        /* Plant the fault exactly as every runner does: the crash, kill, exit or hang
         * happens before the task's work and does not come back. If it ever did, the
         * task has run in its blocking form with its slot and trace row written. */
        runner_exec_task(job, r->plan, step, t, loop, r->slots);
        return;
    }
    struct task_io io = { .fd = -1 };
    if (r->plan->trace)
        trace_of(r, t)->start_ns = clock_now_ns();
    struct partial mine, *out = task_out(r, t, &mine);
    set_current(NULL, r, (long)t);   /* the watch: the feed publishes the task itself */
    int st = job->wl->start_task(job, step, t, &io, out);
    set_current(NULL, r, -1);
    if (st != TASK_WAIT) {
        async_done(r, t, out);
        return;
    }
    if (task_keep(r, t, out, &io)) {
        loopmap_fail(m, PARLAB_EXIT_OS, "task %zu: out of memory", t);
        return;
    }
    loopmap_task_waits(m);
    if (r->overdue) {
        uint64_t ns = (uint64_t)(r->plan->task_timeout_s * 1e9);
        r->overdue[t] = loop_add_timer(loopmap_loop(m), ns, on_task_overdue, task_arg(t));
        if (!r->overdue[t]) {
            loopmap_fail(m, PARLAB_EXIT_OS, "task %zu: cannot add a timer: %s", t,
                         strerror(errno));
            return;
        }
    }
    async_wait(m, t, &io);
}

/* A task of the CPU path: runner_exec_task plants faults, traces and feeds the timeout
 * watchdog; it blocks the loop while it runs. */
static void cpu_task(struct loopmap *m, void *ctx, unsigned step, unsigned loop, size_t t)
{
    const struct ep_run *r = ctx;
    (void)m;
    runner_exec_task(r->job, r->plan, step, t, loop, r->slots);
}

static int epoll_run(struct job *job, const struct plan *plan, struct partial *slots,
                     struct outcome *out)
{
    unsigned L = plan->loops ? plan->loops : 1;
    if (L > job->tasks)
        L = (unsigned)job->tasks;   /* a loop without a task would only idle */
    int async = job->wl->start_task && job->wl->resume_task;
    struct ep_run r = { .job = job, .plan = plan, .slots = slots };
    struct loopmap_spec s = { .loops = L, .steps = job->steps, .tasks = job->tasks,
                              .sched = plan->schedule, .chunk = plan->chunk, .async = async,
                              .task = async ? async_start : cpu_task, .ctx = &r };
    /* Made before the loops fork, so each loop process has its own table. */
    if (async && plan->task_timeout_s > 0 && !(r.overdue = calloc(job->tasks, sizeof *r.overdue)))
        return outcome_fail(out, PARLAB_EXIT_OS, "epoll: out of memory for %zu tasks", job->tasks);
    int rc = loopmap_run(&s, out);
    for (size_t t = 0; r.kept && t < job->tasks; t++)
        free(r.kept[t]);   /* what tasks that never finished kept */
    free(r.kept);
    free(r.ctx);
    free(r.on_fd);
    free(r.overdue);
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
