/* thread.c: a persistent pthread pool (ThreadPoolExecutor without a GIL). Its workers are
 * lib's pool_threads (lib/start.c: pthread_create() starts each one, which runs the worker
 * loop, and pthread_join() ends it); the scheduling is lib/pool.c's, the same as fork's.
 * Only how workers start and share memory differs from fork (threads share all of it). */
#include "runner.h"

static int thread_run(struct job *job, const struct plan *plan, struct partial *slots,
                      struct outcome *out)
{
    struct runner_pool_job pj;
    runner_pool_job(&pj, job, plan, slots);
    return pool_run(&pool_threads, &pj.steps, &pj.cfg, out);
}

const struct runner runner_thread = {
    .name = "thread",
    .summary = "persistent pthread pool, same scheduler as fork (ThreadPoolExecutor, no GIL)",
    .schedules = SCHED_ALL | SCHED_BIT(SCHED_STUDENT),   /* -s student: lab 3 */
    .default_schedule = SCHED_DYNAMIC,
    .flags = RUNNER_PARALLEL,
    .run = thread_run,
};
