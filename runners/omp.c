/* omp.c: OpenMP `parallel for` with the same schedule and chunk: the peer of `thread`. */
#include "runner.h"

#include <omp.h>

static int omp_run(struct job *job, const struct plan *plan, struct partial *slots,
                   struct outcome *out)
{
    static const omp_sched_t kinds[SCHED__COUNT] = { omp_sched_static, omp_sched_dynamic,
                                                     omp_sched_guided };
    long n = (long)job->tasks;
    (void)out;
    omp_set_schedule(kinds[plan->schedule], (int)plan->chunk);
    /* One parallel region for all steps; the implicit barrier of `omp for` separates them. */
#pragma omp parallel num_threads(plan->workers)
    {
        unsigned w = (unsigned)omp_get_thread_num();
        for (unsigned s = 0; s < job->steps; s++) {
#pragma omp for schedule(runtime)
            for (long t = 0; t < n; t++)
                runner_exec_task(job, plan, s, (size_t)t, w, slots);
        }
    }
    return 0;
}

const struct runner runner_omp = {
    .name = "omp",
    .summary = "OpenMP parallel for with the same schedule and chunk: the peer of thread",
    .schedules = SCHED_ALL,
    .default_schedule = SCHED_DYNAMIC,
    .flags = RUNNER_PARALLEL,
    .run = omp_run,
};
