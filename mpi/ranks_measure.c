/* ranks_measure.c: what `parlab overhead` asks the ranks of bin/parlab-mpi to measure:
 * the one-way latency of a message between two ranks, and the farm's per-task cost. The
 * ranks only measure; the samples go back in rank 0's result file (wire.h), and the rows,
 * their printing and their conclusions are the experiment's (experiments/overhead_mpi.c). */
#define _GNU_SOURCE
#include <mpi.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ranks.h"

/* One-way latency of an 8-byte message between ranks 0 and 1: R samples, each the mean
 * over k round trips / 2. Rank 0 gets them in v; returns 1 there if the replies did not
 * add up, else 0. */
static int pingpong(double *v, int R, int k)
{
    uint64_t word = 0;
    for (int i = 0; i < R; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        uint64_t t0 = clock_now_ns();
        for (int j = 0; j < k; j++) {
            if (ranks_me == 0) {
                MPI_Send(&word, 1, MPI_UINT64_T, 1, 7, MPI_COMM_WORLD);
                MPI_Recv(&word, 1, MPI_UINT64_T, 1, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else if (ranks_me == 1) {
                MPI_Recv(&word, 1, MPI_UINT64_T, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                word++;
                MPI_Send(&word, 1, MPI_UINT64_T, 0, 7, MPI_COMM_WORLD);
            }
        }
        v[i] = (double)(clock_now_ns() - t0) / (2.0 * k);
    }
    return ranks_me == 0 && word != (uint64_t)R * (uint64_t)k;
}

/* Per-task cost of the farm: noop tasks, `sched` with chunk 1, on every rank; R samples of
 * the wall time / tasks on rank 0, with the runs that did not run each task once counted
 * in *lost. Returns 0, or -1 with out filled. */
static int farm_cost(double *v, int R, size_t tasks, enum sched_kind sched,
                     const struct ranks_life *life, uint64_t *lost, struct outcome *out)
{
    const struct workload *noop = wl_find("noop");
    struct job job = { .wl = noop, .size = tasks, .tasks = tasks, .steps = 1, .seed = 1 };
    struct plan plan = { .schedule = sched, .chunk = 1 };
    struct mpi_job m;
    mpi_job_from(&m, &job, &plan);
    for (int i = 0; i < R; i++) {
        struct rank_job rj;
        MPI_Barrier(MPI_COMM_WORLD);
        uint64_t t0 = clock_now_ns();
        if (life->run(&m, NULL, &rj, out))
            return -1;
        v[i] = (double)(clock_now_ns() - t0) / (double)tasks;
        if (ranks_me == 0) {
            struct outcome why = { 0 };
            *lost += life->answer(&rj, &why) != 0;   /* noop verifies each task ran once */
        }
        life->end(&rj);
    }
    return 0;
}

/* Rank 0: the header and the samples into $PARLAB_MPI_DIR/result. Returns 0, or -1 with
 * out filled. */
static int write_samples(const struct mpi_measure_hdr *h, const double *v,
                         struct outcome *out)
{
    const char *dir = getenv(MPI_ENV_DIR);
    char path[PATH_MAX + 16];
    size_t n = (size_t)(h->rows * h->repeat);
    snprintf(path, sizeof path, "%s/result", dir);
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(h, sizeof *h, 1, f) != 1 || fwrite(v, sizeof *v, n, f) != n;
    int err = errno;
    if (f && fclose(f) && !bad) {
        bad = 1;
        err = errno;
    }
    return bad ? outcome_fail(out, PARLAB_EXIT_OS, "rank 0: result file %s: %s", path,
                              strerror(err)) : 0;
}

int ranks_cmd_overhead(int argc, char **argv, const struct ranks_life *life,
                       struct outcome *out)
{
    /* overhead REPEAT ROUND_TRIPS TASKS SCHED... */
    enum sched_kind sched[MPI_MEASURE_SCHEDS];
    int ns = argc - 4, R = argc > 1 ? atoi(argv[1]) : 0, k = argc > 2 ? atoi(argv[2]) : 0;
    long long tasks = argc > 3 ? atoll(argv[3]) : 0;
    const char *dir = getenv(MPI_ENV_DIR);
    for (int s = 0; s < ns && s < MPI_MEASURE_SCHEDS; s++)
        if (sched_parse(argv[4 + s], &sched[s]) || sched[s] >= SCHED__COUNT)
            ns = -1;
    if (ns < 0 || ns > MPI_MEASURE_SCHEDS || R < 1 || R > 100000 || k < 1 || tasks < 1 ||
        !dir || !*dir)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "parlab-mpi overhead is started by "
                            "parlab overhead");
    if (ranks_n < 2)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "parlab-mpi overhead needs 2 ranks or "
                            "more (mpirun -np 2)");
    struct mpi_measure_hdr h = { .magic = MPI_MEASURE_MAGIC, .repeat = (uint64_t)R,
                                 .round_trips = (uint64_t)k, .tasks = (uint64_t)tasks,
                                 .ranks = (uint64_t)ranks_n, .rows = 1 + (uint64_t)ns };
    double *v = calloc(h.rows * (size_t)R, sizeof *v);
    if (!v)
        return outcome_fail(out, PARLAB_EXIT_OS, "rank %d: out of memory", ranks_me);
    h.pingpong_bad = (uint64_t)pingpong(v, R, k);
    int rc = 0;
    for (int s = 0; !rc && s < ns; s++)
        rc = farm_cost(v + (size_t)(1 + s) * (size_t)R, R, (size_t)tasks, sched[s], life,
                       &h.lost_runs, out);
    if (!rc && ranks_me == 0)
        rc = write_samples(&h, v, out);
    free(v);
    return rc;
}
