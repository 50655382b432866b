/* mpi.h: what the two halves of the mpi runner share: the launcher in bin/parlab
 * (runners/mpirun.c, which starts mpirun) and the ranks in bin/parlab-mpi (runners/mpi.c,
 * built with mpicc). Nothing here needs mpi.h from Open MPI. */
#ifndef PARLAB_MPI_H
#define PARLAB_MPI_H

#include <stdio.h>
#include "runner.h"

/*
 * Set by bin/parlab-mpi's main on rank 0 when it runs `parlab-mpi run|batch`: the ranks
 * are already started by mpirun, so `-r mpi` hands the job to them instead of starting
 * mpirun again. NULL in bin/parlab.
 */
extern int (*runner_mpi_world_run)(struct job *job, const struct plan *plan,
                                   struct partial *slots, struct outcome *out);

/* Environment variables a rank started by the launcher reads: the command's private
 * folder (board, socket and result files, Open MPI's session files). */
#define MPI_ENV_DIR "PARLAB_MPI_DIR"
/* The folder of a running world (parlab world start): set, `parlab run -r mpi` hands its
 * job to the world's ranks instead of starting mpirun. */
#define MPI_ENV_WORLD "PARLAB_MPI_WORLD"
/* How the ranks talk: "shm" (the default: shared memory, one machine) or "tcp" (Open
 * MPI's TCP transport on loopback, the stand-in for ranks on two machines). */
#define MPI_ENV_TRANSPORT "PARLAB_MPI_TRANSPORT"
/* 0 for shm, 1 for tcp, -1 for anything else in $PARLAB_MPI_TRANSPORT. Any process. */
int mpi_transport(void);

/*
 * The launcher's board: one task_watch per rank (runner_exec_task keeps it current, as
 * for the harness's watchdog), then each rank's pid. A file in the run's folder, mapped
 * by the launcher and every rank: the launcher reads which task a dead rank was running
 * and enforces --task-timeout from it.
 */
size_t mpi_board_len(unsigned ranks);
int *mpi_board_pids(struct task_watch *board, unsigned ranks);

/* The result file rank 0 writes for the launcher: this header, the tasks' slots, the
 * trace rows when asked for, then the state the last step wrote (task_writes order). */
/* A rank's board entry once its part of the job is done (rank 0: the result file is
 * written and closed), just before it leaves for MPI_Finalize: -1 means idle, >= 0 a task. */
#define MPI_TASK_DONE (-2L)
#define MPI_RESULT_MAGIC 0x32696d70626c7270ull   /* "prlbpmi2" */
struct mpi_result_hdr {
    uint64_t magic, tasks, steps, trace_rows, state_bytes;
    uint64_t wall_ns;   /* the job's time on the ranks: from their barrier to rank 0's gather */
};

/* Bytes of job->state that task writes at step (0 for a workload without state). */
size_t mpi_task_state_len(const struct job *job, unsigned step, size_t task);
/* Copy those bytes from the state into buf (to_buf), or from buf into the state. Returns
 * the bytes copied. */
size_t mpi_task_state_copy(const struct job *job, unsigned step, size_t task, void *buf,
                           int to_buf);

/*
 * Everything parlab tells Open MPI, in one table with the reason for each (mpirun.c).
 * mpi_settings_apply() sets them in this process's environment, for an mpirun started
 * from here; dir, when not NULL, also sends Open MPI's session and shared-memory files
 * there. mpi_settings_print() writes them as shell `export` lines with the reasons.
 */
void mpi_settings_apply(const char *dir);
void mpi_settings_print(FILE *f);

/* The most ranks the launcher starts per CPU it may use (oversubscription beyond that is
 * refused: every rank is a process, and waiting ranks poll). */
#define MPI_MAX_RANKS_PER_CPU 64u

/*
 * Find bin/parlab-mpi (beside this executable) and mpirun (in PATH). 0 and the paths, or
 * -1 with a one-line reason and the way to get them in why. Any process.
 */
int mpi_find(char *exe, size_t exe_n, char *mpirun, size_t mpirun_n, char *why, size_t n);

/*
 * Run `mpirun [settings] -np ranks parlab-mpi ARGS...` from this process and wait for it,
 * as the launcher does: in a private folder under $TMPDIR (removed afterwards, whatever
 * happened), stdout passed through, stderr kept and read for the rank that failed, and
 * SIGINT/SIGTERM/SIGHUP forwarded to mpirun so that it stops its ranks and cleans up.
 * For `parlab overhead`. Returns 0, or fills out and returns -1.
 */
int mpi_spawn_simple(unsigned ranks, char *const args[], struct outcome *out);

/*
 * Worlds (`parlab world`): ranks started once and kept for many runs.
 * mpi_world_start: start `ranks` ranks that end after idle_s seconds without a job (0:
 *   never), in a new folder (dir) under $TMPDIR, and return once rank 0 takes jobs; the
 *   keeper process's pid in *keeper. 0, or -1 with out filled.
 * mpi_world_stop: end the world in dir, once it has proved to be one parlab made, and
 *   wait until its processes and parlab's files are gone; a stale world (its keeper gone)
 *   only with stale set. 0; 1 if the folder stays (it holds files parlab did not make);
 *   or -1 with out filled (64: not a world, 71: unreadable, stale or not stopping), and
 *   then nothing was signalled or removed.
 * mpi_world_status: 0 and *ranks for a world whose keeper and ranks all run; else -1
 *   with out filled (stale, ended, or not a world), touching nothing.
 */
int mpi_world_start(unsigned ranks, int idle_s, char *dir, size_t dir_n, pid_t *keeper,
                    struct outcome *out);
int mpi_world_stop(const char *dir, int stale, struct outcome *out);
int mpi_world_status(const char *dir, unsigned *ranks, struct outcome *out);

/* For a world's ranks: write DIR/rank.R, this process's pid and start time, which
 * `parlab world status|stop` check. 0, or -1. */
int mpi_world_note_rank(const char *dir, int rank);
/* From /proc/PID/stat: its start time (field 22, clock ticks after boot), session,
 * parent and state; each pointer may be NULL. 0, or -1 if there is no such process. */
int mpi_proc_stat(pid_t pid, unsigned long long *start, pid_t *sid, pid_t *ppid, char *state);

#endif
