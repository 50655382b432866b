/* seq.c: the baseline: every task of every step in order, in the calling thread. */
#include "runner.h"

static int seq_run(struct job *job, const struct plan *plan, struct partial *slots,
                   struct outcome *out)
{
    (void)out;
    for (unsigned s = 0; s < job->steps; s++)
        for (size_t t = 0; t < job->tasks; t++)
            runner_exec_task(job, plan, s, t, 0, slots);
    return 0;
}

const struct runner runner_seq = {
    .name = "seq",
    .summary = "one thread, tasks in order: the baseline every speedup divides by",
    .schedules = SCHED_BIT(SCHED_STATIC),
    .default_schedule = SCHED_STATIC,
    .flags = 0,
    .run = seq_run,
};
