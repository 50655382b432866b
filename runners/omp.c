/* omp.c: OpenMP `parallel for` with the same schedule and chunk: the peer of `thread`. */
#include "runner.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* libgomp calls exit(1) when it cannot create a thread. This handler, armed only while
 * a parallel region starts, turns that into parlab's OS-failure exit with a message. */
static _Atomic int omp_starting;   /* every thread of the team clears it */
static unsigned omp_wanted;

static void omp_exit_check(void)
{
    if (!omp_starting)
        return;
    fprintf(stderr, "parlab: omp: cannot start %u threads (libgomp gave up: see above)\n",
            omp_wanted);
    fflush(stdout);
    _exit(PARLAB_EXIT_OS);
}

static int omp_run(struct job *job, const struct plan *plan, struct partial *slots,
                   struct outcome *out)
{
    static int armed;
    if (!armed)
        armed = atexit(omp_exit_check) == 0;
    omp_wanted = plan->workers;
    omp_starting = 1;
    static const omp_sched_t kinds[SCHED__COUNT] = { omp_sched_static, omp_sched_dynamic,
                                                     omp_sched_guided };
    long n = (long)job->tasks;
    (void)out;
    omp_set_schedule(kinds[plan->schedule], (int)plan->chunk);
    /* One parallel region for all steps; the implicit barrier of `omp for` separates them. */
#pragma omp parallel num_threads(plan->workers)
    {
        unsigned w = (unsigned)omp_get_thread_num();
        omp_starting = 0;   /* every thread of the team exists once any task runs */
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
