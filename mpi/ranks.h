/* ranks.h: inside bin/parlab-mpi, the ranks' program (built with mpicc), what its files
 * share: this rank and the rank count, the steps of a job on every rank (ranks_step.c),
 * the serving loops of a session and a world (ranks_serve.c), the measurements for
 * `parlab overhead` (ranks_measure.c), and the job lifecycle, which the program's main
 * (ranks_main.c) hands to them: it sits there, at the top of the program, beside the
 * harness's. Every function here is called by every rank, in the same order, unless it
 * says otherwise; one that fails returns -1 with out filled, and main then prints once
 * and ends every rank (MPI_Abort), since the others may wait in a collective. */
#ifndef PARLAB_MPI_RANKS_H
#define PARLAB_MPI_RANKS_H

#include <stdint.h>
#include "wire.h"
#include "../lib/child.h"
#include "../lib/clock.h"

extern int ranks_me, ranks_n;   /* this rank, and how many there are (set by main) */

/* One job on this rank: set up from a struct mpi_job, with its slots (and trace rows). */
struct rank_job {
    struct job job;
    struct plan plan;
    struct partial *slots;
    uint64_t wall_ns;   /* the job's time as MPI programs take it (ranks_steps) */
};

/* The job lifecycle, provided by main. run: set up m on this rank, take its slots, and
 * run it on every rank (board: the client's, or NULL); returns 0, or -1 with out filled.
 * answer (rank 0, after run): combine, finish and verify; returns 0 when verification
 * vouched for the answer, or -1 with out filled. end: release what run took (slots, trace,
 * the workload's state). */
struct ranks_life {
    int (*run)(const struct mpi_job *m, struct task_watch *board, struct rank_job *rj,
               struct outcome *out);
    int (*answer)(struct rank_job *rj, struct outcome *out);
    void (*end)(struct rank_job *rj);
};

/* How one task runs on a rank (the planted fault, the workload's run_task, the trace row
 * and the board): the job lifecycle's, which main passes in. */
typedef void (*ranks_task_fn)(const struct job *job, const struct plan *plan, unsigned step,
                              size_t task, unsigned worker, struct partial *slots);

/*
 * Every step of job on every rank (each set up its own state), under plan, each task run
 * by exec: static blocks, or rank 0's task farm; after each step the state the tasks
 * wrote goes to every rank, and at the end the partials (and trace rows) go to rank 0's
 * slots. *wall_ns (rank 0) is the job's time from a barrier every rank has reached to
 * the moment rank 0 holds every result. Returns 0, or -1 with out filled.
 */
int ranks_steps(struct job *job, const struct plan *plan, struct partial *slots,
                ranks_task_fn exec, uint64_t *wall_ns, struct outcome *out);

/* `parlab-mpi session` (under the launcher) and `parlab-mpi world DIR IDLE_S TOKEN`:
 * serve the jobs clients send to rank 0 until one says quit (a world: or it is idle).
 * Return 0, or -1 with out filled. */
int ranks_cmd_session(const struct ranks_life *life, struct outcome *out);
int ranks_cmd_world(int argc, char **argv, const struct ranks_life *life,
                    struct outcome *out);
/* `parlab-mpi overhead REPEAT ROUND_TRIPS TASKS SCHED...` (wire.h): measure, and leave the
 * samples in rank 0's result file. Returns 0, or -1 with out filled. */
int ranks_cmd_overhead(int argc, char **argv, const struct ranks_life *life,
                       struct outcome *out);

#endif
