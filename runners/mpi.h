/* mpi.h: the mpi runner's one hook. The runner itself is an adapter (mpi.c) onto mpi/,
 * where the launcher, the worlds and the ranks' program bin/parlab-mpi live. */
#ifndef PARLAB_RUNNER_MPI_H
#define PARLAB_RUNNER_MPI_H

#include "runner.h"

/*
 * Set by bin/parlab-mpi's main on rank 0 when it runs `parlab-mpi run|batch`: the ranks
 * are already started by mpirun, so `-r mpi` hands the job to them instead of starting
 * mpirun again. NULL in bin/parlab. It returns 0, or -1 with out filled.
 */
extern int (*runner_mpi_world_run)(struct job *job, const struct plan *plan,
                                   struct partial *slots, struct outcome *out);

#endif
