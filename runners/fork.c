/* fork.c: a persistent pool of forked workers claiming tasks from shared memory. */
#include "pool_runner.h"

static int fork_run(struct job *job, const struct plan *plan, struct partial *slots,
                    struct outcome *out)
{
    return pool_runner_run(POOL_FORK, job, plan, slots, out);
}

const struct runner runner_fork = {
    .name = "fork",
    .summary = "persistent pool of forked worker processes (multiprocessing.Pool)",
    .schedules = SCHED_ALL,
    .default_schedule = SCHED_DYNAMIC,
    .flags = RUNNER_PARALLEL | RUNNER_PROCESSES | RUNNER_OWN_TIMEOUT,
    .run = fork_run,
};
