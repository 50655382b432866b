/* common.c: what every runner shares: task execution with tracing and planted faults,
 * the fold of a worker's partials, and a job's tasks as a pool's callbacks (fork and
 * thread). The engine below them all (clock, schedules, child processes, pools, loops)
 * is lib/. */
#define _GNU_SOURCE
#include "runner.h"

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
static void pool_job_task(void *ctx, uint64_t step, size_t task, unsigned worker)
{
    struct runner_task_ctx *c = ctx;
    runner_exec_task(c->job, c->plan, (unsigned)step, task, worker, c->slots);
}

_Static_assert(sizeof(((struct runner_pool_job *)0)->msg) <= POOL_BOOT_MSG_MAX,
               "POOL_BOOT_MSG_MAX");

/* In a forkserver or spawn worker: rebuild the job and make it the context of every map.
 * State that setup() put in shared memory (state_len > 0: n-body's bodies) is the
 * parent's, already mapped; private state (loopback's server) is rebuilt by running
 * setup() here, as every mpi rank does; a workload without setup has none. */
static void pool_job_boot(struct pool *local, const void *msg, size_t len)
{
    struct runner_pool_msg *m = malloc(sizeof *m);
    struct runner_task_ctx *c = malloc(sizeof *c);
    if (!m || !c || len != sizeof *m)
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
    *c = (struct runner_task_ctx){ &m->job, &m->plan, m->slots };
    pool_set_local_ctx(local, c);
}

void runner_pool_job(struct runner_pool_job *pj, struct job *job, const struct plan *plan,
                     struct partial *slots)
{
    pj->ctx = (struct runner_task_ctx){ job, plan, slots };
    pj->msg = (struct runner_pool_msg){ *job, *plan, slots };
    pj->cfg = (struct pool_config){ .boot = pool_job_boot, .boot_msg = &pj->msg,
                                    .boot_len = sizeof pj->msg };
    pj->steps = (struct pool_steps){
        .workers = plan->workers, .steps = job->steps, .tasks = job->tasks,
        .sched = plan->schedule, .chunk = plan->chunk, .task_timeout_s = plan->task_timeout_s,
        .fn = pool_job_task, .ctx = &pj->ctx,
    };
}

int runner_usable(const struct runner *r, char *why, size_t n)
{
    return !r->available || r->available(why, n);
}
