/* mpi.c: the mpi runner: Open MPI ranks, started by mpirun once per command (or kept in a
 * world), run the job's tasks as static blocks or as a rank-0 task farm. Everything about
 * MPI is in mpi/: this file adapts it to the runner contract (folded results, the hook
 * for ranks that mpirun started by hand). */
#define _GNU_SOURCE
#include "mpi.h"
#include "../mpi/launcher.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

int (*runner_mpi_world_run)(struct job *job, const struct plan *plan, struct partial *slots,
                            struct outcome *out);

/* Returns 0, or -1 with out filled (runner.h's run). */
static int mpi_run(struct job *job, const struct plan *plan, struct partial *slots,
                   struct outcome *out)
{
    if (plan->fold) {
        /* The ranks gather a slot per task to rank 0; fold them here, in task order, as
         * the pools fold theirs per worker. */
        struct plan p = *plan;
        size_t len = job->tasks * sizeof *slots;
        struct partial *tmp = job_shared_alloc(len);
        if (!tmp)
            return outcome_fail(out, PARLAB_EXIT_OS, "mmap of %zu result slots: %s",
                                job->tasks, strerror(errno));
        p.fold = NULL;
        int rc = mpi_run(job, &p, tmp, out);
        for (size_t t = 0; !rc && t < job->tasks; t++)
            runner_task_done(job, plan, job->steps - 1, t, 0, &tmp[t]);
        job_shared_free(tmp, len);
        return rc;
    }
    if (runner_mpi_world_run)   /* under `parlab-mpi run`: the ranks are up already */
        return runner_mpi_world_run(job, plan, slots, out);
    return mpi_run_job(job, plan, slots, out);
}

/* Returns 1 if Open MPI and bin/parlab-mpi are here, else 0 with why filled. */
static int mpi_available(char *why, size_t n)
{
    char exe[PATH_MAX], mpirun[PATH_MAX];
    struct outcome out = { 0 };
    if (mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, &out) == 0)
        return 1;
    snprintf(why, n, "%s", out.msg);
    return 0;
}

/* Returns 0, or -1 with out filled (runner.h's precheck). Under parlab-mpi run the ranks
 * exist already. */
static int mpi_check(unsigned workers, unsigned cores, struct outcome *out)
{
    return runner_mpi_world_run ? 0 : mpi_precheck(workers, cores, out);
}

const struct runner runner_mpi = {
    .name = "mpi",
    .summary = "Open MPI ranks started by mpirun: static blocks, or a rank-0 task farm",
    .schedules = SCHED_ALL,
    .default_schedule = SCHED_DYNAMIC,
    .flags = RUNNER_PARALLEL | RUNNER_PROCESSES | RUNNER_OWN_TIMEOUT | RUNNER_EXTERNAL,
    .run = mpi_run,
    .available = mpi_available,
    .precheck = mpi_check,
    .keep = mpi_keep,
};
