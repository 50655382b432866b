/* wire.h: everything that crosses between bin/parlab (the launcher, the session, a world's
 * runs and its keeper) and the ranks of bin/parlab-mpi: the environment, the files in a
 * run's folder, the request line a client sends rank 0 and its reply, the ranks' command
 * lines, and what `parlab-mpi overhead` measures. One definition, both ends (wire.c):
 * a field added here is added for both. Nothing here needs Open MPI's mpi.h. */
#ifndef PARLAB_MPI_WIRE_H
#define PARLAB_MPI_WIRE_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include "../lib/outcome.h"
#include "../workloads/plan.h"

/* ---- the environment ---------------------------------------------------------------- */

/* The command's private folder (board, socket and result files, Open MPI's session files),
 * set by the launcher for the ranks it starts. */
#define MPI_ENV_DIR "PARLAB_MPI_DIR"
/* The folder of a running world (parlab world start): set, `parlab run -r mpi` hands its
 * job to the world's ranks instead of starting mpirun. */
#define MPI_ENV_WORLD "PARLAB_MPI_WORLD"
/* How the ranks talk: "shm" (the default: shared memory, one machine) or "tcp" (Open
 * MPI's TCP transport on loopback, the stand-in for ranks on two machines). */
#define MPI_ENV_TRANSPORT "PARLAB_MPI_TRANSPORT"

/* Returns 0 for shm, 1 for tcp, -1 for anything else in $PARLAB_MPI_TRANSPORT. */
int mpi_transport(void);

/*
 * Everything parlab tells Open MPI, in one table with the reason for each (wire.c).
 * mpi_settings_apply() sets them in this process's environment, for an mpirun started
 * from here; dir, when not NULL, also sends Open MPI's session and shared-memory files
 * there. mpi_settings_print() writes them as shell `export` lines with the reasons
 * (`parlab-mpi env`). Neither returns anything.
 */
void mpi_settings_apply(const char *dir);
void mpi_settings_print(FILE *f);

/* ---- the files in a run's folder -----------------------------------------------------
 * board   one task_watch per rank (runner_exec_task keeps it current), then each rank's
 *         pid: made and mapped by the client, mapped by every rank. The client reads which
 *         task a dead rank ran and enforces --task-timeout from it.
 * result  rank 0's: struct mpi_result_hdr, the tasks' slots, the trace rows when asked
 *         for, then the state the last step wrote (task_writes order).
 * sock    rank 0 listens there (a session's or a world's folder), bound as sock.new and
 *         renamed, so that a client never finds a socket that refuses it. */

/* Returns the bytes of a board for `ranks` ranks. */
size_t mpi_board_len(unsigned ranks);
/* Returns the pid array that follows the ranks' task_watch entries on a board. */
int *mpi_board_pids(struct task_watch *board, unsigned ranks);
/* A rank's board entry once its part of the job is done (rank 0: the result file is
 * written and closed), just before it leaves for MPI_Finalize: -1 means idle, >= 0 a task. */
#define MPI_TASK_DONE (-2L)

#define MPI_RESULT_MAGIC 0x32696d70626c7270ull   /* "prlbpmi2" */
struct mpi_result_hdr {
    uint64_t magic, tasks, steps, trace_rows, state_bytes;
    uint64_t wall_ns;   /* the job's time on the ranks: from their barrier to rank 0's gather */
};

/* Returns the bytes of job->state that task writes at step (0 for a workload without
 * state). */
size_t mpi_task_state_len(const struct job *job, unsigned step, size_t task);
/* Copies those bytes from the state into buf (to_buf), or from buf into the state;
 * returns the bytes copied. */
size_t mpi_task_state_copy(const struct job *job, unsigned step, size_t task, void *buf,
                           int to_buf);

/* ---- a job: the request line and its reply ---------------------------------------------
 * A client (the launcher's session, or a run in a world) sends rank 0 one line: its
 * folder, then 14 words, W N T S SEED IO_MS SCHED CHUNK INJECT TASK TRACE CORES GRAIN_NS
 * GRAIN_ITERS; or "quit". Rank 0 broadcasts the job as a struct mpi_job to the others.
 * The reply is "STATUS USER_S SYS_S MAXRSS_KB[ REASON]": the ranks' status (0, or an exit
 * status and why), CPU time and peak memory (the client's getrusage cannot see them). */

#define MPI_LINE_MAX (PATH_MAX + 1024)
#define MPI_REPLY_MAX 320

/* A job as the ranks pass it among themselves (a fixed-size broadcast). */
struct mpi_job {
    int32_t quit, wl;     /* wl: an index into wl_registry */
    uint32_t steps, io_ms, sched, inject, trace, cores, workers, pad;
    uint64_t size, tasks, seed, chunk, inject_task, grain_ns, grain_iters;
    double task_timeout_s;
};

/* Fills m from a job and its plan (what rank 0 broadcasts under `parlab-mpi run`). */
void mpi_job_from(struct mpi_job *m, const struct job *job, const struct plan *plan);
/* Sets up *job and *plan from m for `ranks` ranks (no setup run, no memory taken). */
void mpi_job_to(const struct mpi_job *m, unsigned ranks, struct job *job, struct plan *plan);
/* Writes the request line for dir, job and plan into line; returns its length, or -1
 * with out filled (64) when it would not fit in n bytes or dir has a blank. */
int mpi_job_line(char *line, size_t n, const char *dir, const struct job *job,
                 const struct plan *plan, struct outcome *out);
/* Reads a request line (changed in place): returns 0 with m and dir filled, 1 for "quit",
 * or -1 with out filled (64) for anything else. */
int mpi_job_parse(char *line, struct mpi_job *m, char *dir, size_t dir_n,
                  struct outcome *out);
/* Writes the reply into buf (MPI_REPLY_MAX bytes); returns its length. */
int mpi_reply_format(char *buf, int status, const char *reason, double user_s,
                     double sys_s, long maxrss_kb);
/* Reads a reply into out's away_* figures (and, for a status, its reason into out->msg
 * after `what`); returns the status. */
int mpi_reply_parse(const char *reply, const char *what, struct outcome *out);

/* ---- a world's ranks ------------------------------------------------------------------
 * A world's ranks run `parlab-mpi world DIR IDLE_S TOKEN`: the token (MPI_WORLD_TOKEN_HEX
 * hex digits) is not read by them; it is on each rank's command line, where `parlab world
 * status|stop` find it (with DIR) to prove the world. Each rank writes DIR/rank.R, its pid
 * and start time. */
#define MPI_WORLD_TOKEN_HEX 32

/* Writes DIR/rank.R for this process; returns 0, or -1 with errno. */
int mpi_world_note_rank(const char *dir, int rank);
/* Writes text to dir/name whole (through name.new); returns 0, or -1 with errno. */
int mpi_file_write(const char *dir, const char *name, const char *text);
/* Reads /proc/PID/stat: its start time (field 22, clock ticks after boot), session,
 * parent and state, each pointer may be NULL; returns 0, or -1 if there is no such
 * process. */
int mpi_proc_stat(pid_t pid, unsigned long long *start, pid_t *sid, pid_t *ppid, char *state);

/* ---- what `parlab overhead` asks the ranks to measure ---------------------------------
 * `parlab-mpi overhead REPEAT ROUND_TRIPS TASKS SCHED...` (at least 2 ranks): rank 0
 * writes $PARLAB_MPI_DIR/result: this header, then `rows` rows of `repeat` samples in ns:
 * the one-way ping-pong latency between ranks 0 and 1 (each sample the mean over
 * round_trips round trips / 2), then for each SCHED the farm's per-task cost (noop tasks,
 * chunk 1, on every rank; set-up and gather included). */
#define MPI_MEASURE_MAGIC 0x316173656d6c7270ull   /* "prlmesa1" */
#define MPI_MEASURE_SCHEDS 2
struct mpi_measure_hdr {
    uint64_t magic, repeat, round_trips, tasks, ranks, rows;
    uint64_t lost_runs;      /* farm runs in which some task did not run once */
    uint64_t pingpong_bad;   /* 1 if the ping-pong's replies did not add up */
};

#endif
