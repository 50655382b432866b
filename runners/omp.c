/* omp.c: OpenMP `parallel for` with the same schedule and chunk: the peer of `thread`. */
#define _GNU_SOURCE
#include "runner.h"

#include <fcntl.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* libgomp prints a line and calls exit(1) when it cannot create a thread. While a
 * parallel region starts, stderr goes to a pipe; this handler, armed only then, puts
 * stderr back and turns libgomp's words into parlab's one line and OS-failure exit. */
static _Atomic int omp_starting;   /* every thread of the team clears it */
static unsigned omp_wanted;
static int omp_saved_err = -1, omp_err_pipe[2] = { -1, -1 };

/* Put stderr back and close the pipe; what libgomp wrote, as one line, into buf. */
static void omp_err_restore(char *buf, size_t n)
{
    size_t len = 0;
    if (omp_saved_err < 0)
        return;
    dup2(omp_saved_err, 2);
    close(omp_saved_err);
    omp_saved_err = -1;
    close(omp_err_pipe[1]);
    if (buf) {
        ssize_t k = read(omp_err_pipe[0], buf, n - 1);
        for (ssize_t i = 0; i < k; i++)   /* its lines, joined; no empty head */
            if (buf[i] != '\n' || (len && buf[len - 1] != ' '))
                buf[len++] = buf[i] == '\n' ? ' ' : buf[i];
        while (len && buf[len - 1] == ' ')
            len--;
        buf[len] = '\0';
    }
    close(omp_err_pipe[0]);
}

static void omp_exit_check(void)
{
    char said[256] = "";
    if (!omp_starting)
        return;
    omp_err_restore(said, sizeof said);
    outcome_fatal(PARLAB_EXIT_OS, "omp: cannot start %u threads: %s", omp_wanted,
                 *said ? said : "libgomp gave up");
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
    if (pipe2(omp_err_pipe, O_CLOEXEC | O_NONBLOCK) == 0) {
        omp_saved_err = dup(2);
        if (omp_saved_err < 0 || dup2(omp_err_pipe[1], 2) < 0)
            omp_err_restore(NULL, 0);
    }
    OMP_ORDER_RELEASE(&order);
    /* One parallel region for all steps; the barrier after each `omp for` separates them. */
#pragma omp parallel num_threads(plan->workers)
    {
        OMP_ORDER_ACQUIRE(&order);
        unsigned w = (unsigned)omp_get_thread_num(), steps = omp_job->steps;
        long n = (long)omp_job->tasks;
        omp_starting = 0;   /* every thread of the team exists once any task runs */
#pragma omp master
        omp_err_restore(NULL, 0);   /* before any task: their messages go to stderr */
#pragma omp barrier
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
