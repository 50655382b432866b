/* join.c: fork-join threads: each step starts one thread per worker, each runs its static
 * share of the tasks, and joining them all is the barrier. No pool: every step pays for
 * its threads, which the thread runner's pool saves. */
#include "runner.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct join_worker {
    pthread_t thread;
    struct job *job;
    const struct plan *plan;
    struct partial *slots;
    unsigned step, w;
};

/* Worker w's tasks: one block of about tasks/W, or, with -c C, chunks of C dealt round
 * robin (OpenMP's schedule(static[,C])). */
static void *join_main(void *arg)
{
    struct join_worker *a = arg;
    size_t n = a->job->tasks, W = a->plan->workers;
    size_t c = a->plan->chunk ? a->plan->chunk : (n + W - 1) / W;
    for (size_t lo = a->w * c; lo < n; lo += W * c)
        for (size_t t = lo; t < n && t < lo + c; t++)
            runner_exec_task(a->job, a->plan, a->step, t, a->w, a->slots);
    return NULL;
}

/* Returns 0, or -1 with out filled when a thread cannot start. */
static int join_run(struct job *job, const struct plan *plan, struct partial *slots,
                    struct outcome *out)
{
    struct join_worker *ws = calloc(plan->workers, sizeof *ws);
    if (!ws)
        return outcome_fail(out, PARLAB_EXIT_OS, "join: no memory for %u workers", plan->workers);
    int rc = 0;
    for (unsigned s = 0; s < job->steps && rc == 0; s++) {
        unsigned started = 0;
        for (unsigned w = 0; w < plan->workers; w++, started++) {
            ws[w] = (struct join_worker){ .job = job, .plan = plan, .slots = slots,
                                          .step = s, .w = w };
            int e = pthread_create(&ws[w].thread, NULL, join_main, &ws[w]);
            if (e) {
                rc = outcome_fail(out, PARLAB_EXIT_OS, "join: pthread_create: %s", strerror(e));
                break;
            }
        }
        for (unsigned w = 0; w < started; w++)   /* the barrier: every task of step s done */
            pthread_join(ws[w].thread, NULL);
    }
    free(ws);
    return rc;
}

const struct runner runner_join = {
    .name = "join",
    .summary = "a thread per worker per step, static shares, joined at each step's end",
    .schedules = SCHED_BIT(SCHED_STATIC),
    .default_schedule = SCHED_STATIC,
    .flags = RUNNER_PARALLEL,
    .run = join_run,
};
