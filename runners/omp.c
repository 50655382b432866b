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
    runner_fatal(PARLAB_EXIT_OS, "omp: cannot start %u threads (libgomp gave up: see above)",
                 omp_wanted);
}

/* What the team reads, in statics rather than captured from this stack frame: GCC would
 * pass a block of pointers into the frame that every thread reads before any statement
 * of the region runs, an order no annotation could state (see OMP_ORDER_*). */
static struct job *omp_job;
static const struct plan *omp_plan;
static struct partial *omp_slots;

static int omp_run(struct job *job, const struct plan *plan, struct partial *slots,
                   struct outcome *out)
{
    static const omp_sched_t kinds[SCHED__COUNT] = { omp_sched_static, omp_sched_dynamic,
                                                     omp_sched_guided };
    static int armed;
    static char order;   /* the address OMP_ORDER_* name */
    (void)out;
    if (!armed)
        armed = atexit(omp_exit_check) == 0;
    omp_wanted = plan->workers;
    omp_starting = 1;
    omp_job = job;
    omp_plan = plan;
    omp_slots = slots;
    omp_set_schedule(kinds[plan->schedule], (int)plan->chunk);
    OMP_ORDER_RELEASE(&order);
    /* One parallel region for all steps; the barrier after each `omp for` separates them. */
#pragma omp parallel num_threads(plan->workers)
    {
        OMP_ORDER_ACQUIRE(&order);
        unsigned w = (unsigned)omp_get_thread_num(), steps = omp_job->steps;
        long n = (long)omp_job->tasks;
        omp_starting = 0;   /* every thread of the team exists once any task runs */
        for (unsigned s = 0; s < steps; s++) {
#pragma omp for schedule(runtime) nowait
            for (long t = 0; t < n; t++)
                runner_exec_task(omp_job, omp_plan, s, (size_t)t, w, omp_slots);
            OMP_ORDER_RELEASE(&order);
#pragma omp barrier
            OMP_ORDER_ACQUIRE(&order);
        }
    }
    OMP_ORDER_ACQUIRE(&order);
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
