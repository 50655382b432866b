/* overhead.h: what the sections of `parlab overhead` share: the experiment's state, the
 * row printer and the answer check (overhead_row.c), and the sections, one file each
 * (overhead_start.c, overhead_dispatch.c, overhead_sync.c, overhead_speedup.c,
 * overhead_mpi.c). Their order is a table in overhead.c, which no section reads. */
#ifndef PARLAB_OVERHEAD_H
#define PARLAB_OVERHEAD_H

#include "experiment.h"
#include "../harness/progress.h"

/* The state of one `parlab overhead` run, shared by its sections. */
struct ov {
    int R;
    int quick;
    unsigned W;
    struct exp_table tab;
    double *v;                 /* R samples of the figure being measured */
    double omp_task_ns;        /* omp dynamic,1 per-task mean: the dispatch yardstick */
    double thread_task_ns, fork_task_ns, fork_ready_ns;
    double thread_ratio, fork_ratio;  /* against omp: mean of the per-round ratios */
    double epoll_task_ns;      /* epoll per-task mean */
    double atomic2_ns;         /* contended fetch_add mean: the floor of a claim counter */
    double start_ready_ns[3];  /* process pool ready under fork, forkserver, spawn */
    struct progress prog;      /* a line per step on stderr: the sections, speedup per workload */
    struct outcome oc;         /* why a section failed */
};

/* The steps of the progress lines: processes, dispatch, mpi, sync, and the speedup of each
 * of its OV_SPEEDUP_WORKLOADS workloads. */
#define OV_SPEEDUP_WORKLOADS 2
#define OV_STEPS (4 + OV_SPEEDUP_WORKLOADS)

/* Print the R samples in o->v as one row. ratio: NAN for none. Parent only. */
void ov_emit(struct ov *o, const char *section, unsigned workers, enum unit u, double ratio,
             const char *note, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* The mean of the R samples in o->v. */
double ov_mean(const struct ov *o);
/* Check the job's answer after a run (against want when only seq can vouch for it); a
 * wrong one is said and counted with exp_wrong, not fatal. */
void ov_check_answer(struct ov *o, struct bench_job *bj, const char *runner, const char *want);

/* The sections. Each prints its rows. Returns 0, or -1 with o->oc filled (overhead_mpi.c
 * still returns an exit status with the message printed). Parent only. */
int ov_section_processes(struct ov *o);   /* fork, exec, threads, pool start-up */
int ov_section_dispatch(struct ov *o);    /* per-task cost of each runner, and against omp */
int ov_section_sync(struct ov *o);        /* wake-up round trips, mutex and atomic */
int ov_section_speedup(struct ov *o);     /* every runner and schedule against seq */
int ov_section_mpi(struct ov *o);         /* mpirun start, ping-pong, farm (overhead_mpi.c) */

#endif
