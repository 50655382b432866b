/* common.c: what every runner shares: task execution with tracing and planted faults,
 * the fold of a worker's partials, and a job's tasks as a pool's callbacks (fork and
 * thread). The engine below them all (clock, schedules, child processes, pools, loops)
 * is lib/. */
#define _GNU_SOURCE
#include "runner.h"
#include "../lib/pool.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The task this thread is running, for the crash handler's message. */
static __thread long runner_current_task = -1;

long runner_task_of_thread(void)
{
    return runner_current_task;
}

static void plant_fault(enum inject_kind k, struct partial *out)
{
    switch (k) {
    case INJECT_SEGV: {
        /* A real invalid write, not raise(): page 0 is never mapped. Not NULL itself,
         * so that the undefined-behaviour sanitizer lets the fault happen. */
        volatile uintptr_t addr = 64;
        *(volatile int *)addr = 1;
        break;
    }
    case INJECT_KILL:
        raise(SIGKILL);
        break;
    case INJECT_EXIT:
        _exit(3);
    case INJECT_HANG:
        for (;;)
            pause();
    case INJECT_ERROR:
        out->err = 5; /* EIO: reported through the result path */
        break;
    default:
        break;
    }
}

void runner_exec_task(const struct job *job, const struct plan *plan, unsigned step,
                      size_t task, unsigned worker, struct partial *slots)
{
    uint64_t t0 = plan->trace ? clock_now_ns() : 0;
    /* Crashes strike on the first step; a reported error on the last, whose partials are
     * the ones the harness reads. */
    unsigned at = plan->inject_step ? plan->inject_step - 1
                  : plan->inject == INJECT_ERROR ? job->steps - 1 : 0;
    int planted = plan->inject != INJECT_NONE && task == plan->inject_task && step == at;
    runner_current_task = (long)task;
    if (plan->watch) {
        atomic_store_explicit(&plan->watch[worker].start_ns, clock_now_ns(), memory_order_relaxed);
        atomic_store_explicit(&plan->watch[worker].task, (long)task, memory_order_release);
    }
    /* Folding: the partial lives on this worker's stack, a line no other worker writes. */
    struct partial mine, *out = plan->fold ? &mine : &slots[task];
    if (planted && plan->inject != INJECT_ERROR)
        plant_fault(plan->inject, out);
    if (planted && plan->inject == INJECT_DROP)
        *out = (struct partial){ 0 };
    else
        job->wl->run_task(job, step, task, out);
    if (planted && plan->inject == INJECT_ERROR)
        plant_fault(plan->inject, out);
    if (plan->fold)
        runner_task_done(job, plan, step, task, worker, out);
    runner_current_task = -1;
    if (plan->watch)
        atomic_store_explicit(&plan->watch[worker].task, -1, memory_order_release);
    if (plan->trace) {
        struct trace_rec *r = &plan->trace[(size_t)step * job->tasks + task];
        r->task = (uint32_t)task;
        r->worker = worker;
        r->step = step;
        r->start_ns = t0;
        r->end_ns = clock_now_ns();
    }
}

void runner_task_done(const struct job *job, const struct plan *plan, unsigned step,
                      size_t task, unsigned worker, const struct partial *p)
{
    if (!plan->fold || step + 1 != job->steps)
        return;
    struct task_fold *f = &plan->fold[worker];
    /* A worker claims its tasks in rising order, so its first error is its lowest. */
    if (p->err && task < f->err_task) {
        f->err_task = task;
        f->err = p->err;
    }
    job->wl->combine(&f->acc, p);
}


/* A map task of a job: one task as every runner runs it. */
struct pool_job {
    struct job *job;
    const struct plan *plan;
    struct partial *slots;
};

static void pool_job_task(void *ctx, uint64_t step, size_t task, unsigned worker)
{
    struct pool_job *pj = ctx;
    runner_exec_task(pj->job, pj->plan, (unsigned)step, task, worker, pj->slots);
}

/* What a worker of the forkserver or spawn start method is told of the job: it has none
 * of the parent's memory but the shared regions (the slots, folds, trace and watch rows,
 * and a workload's shared state), each at the parent's address. */
struct pool_job_msg {
    struct job job;
    struct plan plan;
    struct partial *slots;
};
_Static_assert(sizeof(struct pool_job_msg) <= POOL_BOOT_MSG_MAX, "POOL_BOOT_MSG_MAX");

/* In such a worker: rebuild the job and make it the context of every map. State that
 * setup() put in shared memory (state_len > 0: n-body's bodies) is the parent's, already
 * mapped; private state (loopback's server) is rebuilt by running setup() here, as every
 * mpi rank does; a workload without setup has none. */
static void pool_job_boot(struct pool *local, const void *msg, size_t len)
{
    struct pool_job_msg *m = malloc(sizeof *m);
    struct pool_job *pj = malloc(sizeof *pj);
    if (!m || !pj || len != sizeof *m)
        outcome_fatal(PARLAB_EXIT_OS, "pool worker: cannot rebuild the job");
    memcpy(m, msg, sizeof *m);
    m->job.wl = POOL_CODE(const struct workload *, m->job.wl);
    if (m->job.state_len == 0 && m->job.wl->setup) {
        m->job.state = NULL;
        errno = 0;
        if (m->job.wl->setup(&m->job))
            outcome_fatal(PARLAB_EXIT_OS, "pool worker: %s: setup: %s", m->job.wl->name,
                         strerror(errno ? errno : EINVAL));
    }
    *pj = (struct pool_job){ &m->job, &m->plan, m->slots };
    pool_set_local_ctx(local, pj);
}

int runner_pool_run(const struct pool_ops *ops, struct job *job, const struct plan *plan,
                    struct partial *slots, struct outcome *out)
{
    /* Built before the pool, so each forked worker has its own copy at this address. */
    struct pool_job pj = { job, plan, slots };
    struct pool_job_msg msg = { *job, *plan, slots };
    struct pool_config cfg = { .boot = pool_job_boot, .boot_msg = &msg, .boot_len = sizeof msg };
    struct pool_error e;
    struct pool *p;
    char why[200];
    int err;

    if ((err = pool_open(&p, ops, plan->workers, &cfg))) {
        if (ops == &pool_processes_spawn && (err == -ENOENT || err == -EACCES || err == -ENOEXEC))
            return outcome_fail(out, PARLAB_EXIT_OS, "cannot spawn workers from %s: %s",
                                pool_spawn_exe(), strerror(-err));
        return outcome_fail(out, PARLAB_EXIT_OS, "cannot start %u %s workers: %s",
                            plan->workers, ops->what, strerror(-err));
    }
    /* A worker process past its timeout can be killed alone; a thread cannot, so thread
     * runs leave timeouts to the harness's watchdog, which ends the process at once
     * (freeing memory a stuck thread still uses would only crash it). */
    if (ops->kill)
        pool_set_task_timeout(p, plan->task_timeout_s);
    for (unsigned s = 0; s < job->steps; s++) {
        if (pool_map(p, job->tasks, plan->schedule, plan->chunk, pool_job_task, &pj, s, &e)) {
            pool_error_str(&e, ops->kind, why, sizeof why);
            pool_destroy(p);
            /* Policy: fail fast. The pool is shut down and the tasks not yet run are
             * dropped, as ProcessPoolExecutor's BrokenProcessPool does, not rerun. */
            return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "%s; pool shut down, remaining tasks dropped",
                                why);
        }
    }
    pool_destroy(p);
    return 0;
}

int runner_usable(const struct runner *r, char *why, size_t n)
{
    return !r->available || r->available(why, n);
}
