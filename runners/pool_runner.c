/* pool_runner.c: a job on a persistent pool: one pool per run, one map per step, the
 * map's end the barrier between steps. Used by both fork and thread. */
#include "pool_runner.h"

#include <string.h>

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

int pool_runner_run(enum pool_kind kind, struct job *job, const struct plan *plan,
                    struct partial *slots, struct outcome *out)
{
    /* Built before the pool, so each forked worker has its own copy at this address. */
    struct pool_job pj = { job, plan, slots };
    struct pool_error e;
    char why[200];
    int err = 0;

    struct pool *p = pool_create(kind, plan->workers, NULL, NULL, 0, &err, NULL);
    if (!p)
        return outcome_fail(out, PARLAB_EXIT_OS, "cannot start %u %s workers: %s",
                            plan->workers, kind == POOL_FORK ? "process" : "thread",
                            strerror(-err));
    /* A forked worker past its timeout can be killed alone; a thread cannot, so thread
     * runs leave timeouts to the harness's watchdog, which ends the process at once
     * (freeing memory a stuck thread still uses would only crash it). */
    if (kind == POOL_FORK)
        pool_set_task_timeout(p, plan->task_timeout_s);
    for (unsigned s = 0; s < job->steps; s++) {
        if (pool_map(p, job->tasks, plan->schedule, plan->chunk, pool_job_task, &pj, s, &e)) {
            pool_error_str(&e, kind, why, sizeof why);
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
