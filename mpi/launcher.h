/* launcher.h: the mpi runner as bin/parlab uses it: find Open MPI, run a job on ranks (one
 * mpirun kept for a command's runs, or a kept world's ranks), start and stop worlds, and
 * start ranks for `parlab overhead`. The ranks' side is bin/parlab-mpi (ranks_main.c);
 * what crosses between them is wire.h. Every function here runs in bin/parlab's process,
 * in its main thread. */
#ifndef PARLAB_MPI_LAUNCHER_H
#define PARLAB_MPI_LAUNCHER_H

#include <sys/types.h>
#include "wire.h"

/* The most ranks the launcher starts per CPU it may use (oversubscription beyond that is
 * refused: every rank is a process, and waiting ranks poll). */
#define MPI_MAX_RANKS_PER_CPU 64u

/*
 * Find bin/parlab-mpi (beside this executable) and mpirun (in PATH). Returns 0 and the
 * paths, or -1 with out filled: why not, and the way to get them.
 */
int mpi_find(char *exe, size_t exe_n, char *mpirun, size_t mpirun_n, struct outcome *out);

/*
 * Run job on plan->workers ranks, writing task i's partial into slots[i] (plan->fold is
 * the caller's): on the world $PARLAB_MPI_WORLD names, else on the command's session (one
 * mpirun, started at the first run and kept while mpi_keep(1) holds). Returns 0, or -1
 * with out filled (a failed run ends the session).
 */
int mpi_run_job(struct job *job, const struct plan *plan, struct partial *slots,
                struct outcome *out);
/* mpi_keep(1): keep the session's mpirun from one run to the next; mpi_keep(0) ends it.
 * Returns 0, or -1 with out filled when ending it showed a failure. */
int mpi_keep(int on, struct outcome *out);
/* Before a run prints: returns 0 if `workers` ranks fit, the session's socket fits its
 * folder's name, and a kept world is one with these ranks and CPUs; else -1 with out
 * filled. */
int mpi_precheck(unsigned workers, unsigned cores, struct outcome *out);

/*
 * Run `mpirun [settings] -np ranks parlab-mpi ARGS...` from this process and wait for it,
 * as the launcher does: in a private folder under $TMPDIR (removed afterwards, whatever
 * happened), stdout passed through, stderr kept and read for the rank that failed, and
 * SIGINT/SIGTERM/SIGHUP forwarded to mpirun so that it stops its ranks and cleans up.
 * result, when not NULL, gets the file rank 0 left at $PARLAB_MPI_DIR/result (malloc'd,
 * *result_len bytes; the caller frees it). For `parlab overhead`. Returns 0, or -1 with
 * out filled.
 */
int mpi_spawn_simple(unsigned ranks, char *const args[], void **result, size_t *result_len,
                     struct outcome *out);

/*
 * Worlds (`parlab world`): ranks started once and kept for many runs.
 * mpi_world_start: start `ranks` ranks that end after idle_s seconds without a job (0:
 *   never), in a new folder (dir) under $TMPDIR, and return once rank 0 takes jobs; the
 *   keeper process's pid in *keeper. Returns 0, or -1 with out filled.
 * mpi_world_stop: end the world in dir, once it has proved to be one parlab made, and
 *   wait until its processes and parlab's files are gone; a stale world (its keeper gone)
 *   only with stale set. Returns 0; 1 if the folder stays (it holds files parlab did not
 *   make); or -1 with out filled (64: not a world, 71: unreadable, stale or not
 *   stopping), and then nothing was signalled or removed.
 * mpi_world_status: returns 0 and *ranks for a world whose keeper and ranks all run; else
 *   -1 with out filled (stale, ended, or not a world), touching nothing.
 */
int mpi_world_start(unsigned ranks, int idle_s, char *dir, size_t dir_n, pid_t *keeper,
                    struct outcome *out);
int mpi_world_stop(const char *dir, int stale, struct outcome *out);
int mpi_world_status(const char *dir, unsigned *ranks, struct outcome *out);

#endif
