/* thread.c: a persistent pthread pool; the same scheduling code as fork. */
#include "pool_runner.h"

static int thread_run(struct job *job, const struct plan *plan, struct partial *slots,
                      struct outcome *out)
{
    return pool_runner_run(POOL_THREAD, job, plan, slots, out);
}

const struct runner runner_thread = {
    .name = "thread",
    .summary = "persistent pthread pool, same scheduler as fork (ThreadPoolExecutor, no GIL)",
    .schedules = SCHED_ALL,
    .default_schedule = SCHED_DYNAMIC,
    .flags = RUNNER_PARALLEL,
    .run = thread_run,
};
