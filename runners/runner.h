/* runner.h: the contract every runner implements, the plan it is given, and helpers
 * that every runner shares so that all of them are measured the same way. */
#ifndef PARLAB_RUNNER_H
#define PARLAB_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "../workloads/workload.h"
#include "../lib/child.h"
#include "../lib/clock.h"
#include "../lib/outcome.h"
#include "../lib/pool.h"
#include "../lib/schedule.h"
#include "../workloads/plan.h"

#define RUNNER_HAS_LOOPS 0x1u    /* accepts --loops */
#define RUNNER_PARALLEL  0x2u    /* uses more than one CPU */
#define RUNNER_PROCESSES 0x4u    /* workers are processes: a crash kills only a worker */
#define RUNNER_OWN_TIMEOUT 0x8u  /* enforces plan->task_timeout_s itself */
#define RUNNER_EXTERNAL  0x10u   /* starts another program (mpirun), once per command
                                    (keep): slow to start, timed by its own clock (the
                                    bench reads its rows), tested in its own suite, and
                                    may not be installed */
#define RUNNER_START_METHODS 0x20u /* honours plan->start (--start fork|forkserver|spawn) */

struct runner {
    const char *name;
    const char *summary;
    unsigned schedules;            /* SCHED_BIT mask of the schedules it honours */
    enum sched_kind default_schedule;
    unsigned flags;
    /*
     * Run every step of `job`, each step a map over all tasks with a barrier after it,
     * writing task i's partial into slots[i] (slots live in shared memory; run_task
     * overwrites its slot whole, so a step needs no reset), or, when plan->fold is set
     * (slots is then NULL), into a partial of the worker's own that runner_task_done()
     * folds. Returns 0, or fills `out` (code and message) and returns -1.
     * Called in the parent; must leave no child, thread or mapping behind.
     */
    int (*run)(struct job *job, const struct plan *plan, struct partial *slots,
               struct outcome *out);
    /* Optional: 1 if the runner can run here; else 0 with a one-line reason and how to get
     * it in why (a runner built only where its toolchain is, such as mpi). */
    int (*available)(char *why, size_t n);
    /* Optional: whether a run with these workers and CPUs can start, asked before the
     * run prints anything (the mpi runner: ranks per CPU, a kept world's size). 0, or -1
     * with out filled. */
    int (*precheck)(unsigned workers, unsigned cores, struct outcome *out);
    /*
     * Optional: keep(1) lets the runner keep what it starts from one run() to the next (the
     * mpi runner: one mpirun and its ranks for a command's warm-up and every repeat), until
     * keep(0), which ends it all and leaves nothing behind. In between, run() may leave
     * those processes and their files running (the exception to the rule above). keep(0)
     * returns 0, or -1 with out filled when ending them showed a failure.
     */
    int (*keep)(int on, struct outcome *out);
};

/* Returns 1 when r can run here (no `available`, or it says yes); else 0 with why filled. */
int runner_usable(const struct runner *r, char *why, size_t n);

/* Every runner, NULL-terminated (registry.c). */
extern const struct runner *const runner_registry[];
/* Returns the runner called name, or NULL. */
const struct runner *runner_find(const char *name);

/*
 * Debian's libgomp is not built with ThreadSanitizer, so the start of an OpenMP parallel
 * region, its barriers and its join order nothing in ThreadSanitizer's eyes. OpenMP code
 * states that order itself: release before the region and before each barrier, acquire
 * after. Outside a ThreadSanitizer build these are nothing.
 */
#ifdef __SANITIZE_THREAD__
#include <sanitizer/tsan_interface.h>
#define OMP_ORDER_RELEASE(token) __tsan_release(token)
#define OMP_ORDER_ACQUIRE(token) __tsan_acquire(token)
#else
#define OMP_ORDER_RELEASE(token) ((void)(token))
#define OMP_ORDER_ACQUIRE(token) ((void)(token))
#endif

/* Returns nothing: records task `task`'s finished partial *p under plan->fold (a no-op
 * without one, or before the last step), folding it into worker w's fold. The worker's
 * own thread only. */
void runner_task_done(const struct job *job, const struct plan *plan, unsigned step,
                      size_t task, unsigned worker, const struct partial *p);

/*
 * Run one task as every runner must: the planted fault if this is the task, the
 * workload's run_task, and the trace row. Returns nothing (a task's error is in its
 * partial). Any worker may call it.
 */
void runner_exec_task(const struct job *job, const struct plan *plan, unsigned step,
                      size_t task, unsigned worker, struct partial *slots);

/* A job's tasks as a pool runs them (fork, thread; lib/pool.h): each task of a map is
 * runner_exec_task, and a forkserver or spawn worker, which has none of the parent's
 * memory, rebuilds the job from msg. */
struct runner_task_ctx {
    struct job *job;
    const struct plan *plan;
    struct partial *slots;
};
struct runner_pool_msg {
    struct job job;
    struct plan plan;
    struct partial *slots;
};
struct runner_pool_job {
    struct runner_task_ctx ctx;
    struct runner_pool_msg msg;
    struct pool_config cfg;       /* for pool_run */
    struct pool_steps steps;      /* for pool_run */
};
/* Returns nothing: fills *pj for pool_run(ops, &pj->steps, &pj->cfg, out). pj must exist
 * before the pool does (each forked worker then has its own copy at the same address). */
void runner_pool_job(struct runner_pool_job *pj, struct job *job, const struct plan *plan,
                     struct partial *slots);

/* Returns the task the calling thread is running, or -1 (for crash messages). */
long runner_task_of_thread(void);

#endif
