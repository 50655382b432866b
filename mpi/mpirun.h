/* mpirun.h: inside bin/parlab's side of mpi/, what its files share: the private folders an
 * mpirun runs in (folder.c), starting and watching an mpirun and judging its end
 * and reading rank 0's result file (launch.c), and a world's proof (world_proof.c).
 * Names with two underscores are this folder's own; launcher.h is what others call. */
#ifndef PARLAB_MPI_MPIRUN_H
#define PARLAB_MPI_MPIRUN_H

#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include "launcher.h"
#include "../lib/child.h"
#include "../lib/clock.h"

/* ---- folders (folder.c) ---------------------------------------------------------------
 * The folders parlab makes: $TMPDIR/parlab-mpi.XXXXXX, mode 0700, with Open MPI's session
 * and shared-memory files in its subfolder ompi/ (mpi_settings_apply). They are removed
 * only by the process that made them (or, for a world, after mpi__world_check proved it
 * one), and only by name: the names parlab writes at the top, then ompi/. Nothing is
 * removed by walking a tree that came from a path someone else may have written, so a
 * folder that is not parlab's, or a file in it that parlab did not make, is left as it is.
 */
#define MPI_OMPI_SUB "ompi"

/* Returns the CPUs this process may run on (ranks started from here inherit them). */
unsigned mpi__cpus(void);
/* Returns 0 if TMPDIR names a plain folder (no control character), else -1 with out
 * filled (64). */
int mpi__tmpdir_check(struct outcome *out);
/* Returns 0 if $PARLAB_MPI_TRANSPORT is known, else -1 with out filled (64). */
int mpi__transport_check(struct outcome *out);
/* Returns 0 if this machine will start `ranks` ranks (up to MPI_MAX_RANKS_PER_CPU per
 * CPU), else -1 with out filled (64). */
int mpi__ranks_fit(unsigned ranks, struct outcome *out);
/* Makes a run's private folder and its ompi/ subfolder; returns 0, or -1 with out filled. */
int mpi__make_dir(char *dir, size_t n, struct outcome *out);
/* Removes a folder this process made with mpi__make_dir (and ran mpirun in, when
 * ompi_tree): the names parlab wrote at its top (NULL-terminated), then ompi/, then the
 * folder. Returns nothing: what is not parlab's stays. */
void mpi__dir_remove(const char *dir, const char *const *names, int ompi_tree);
/* Makes and maps the board file in dir (every rank maps it too); returns it, or NULL with
 * out filled. */
struct task_watch *mpi__board_create(const char *dir, unsigned ranks, struct outcome *out);
/*
 * A run's private folder under $TMPDIR and, for ranks > 0, its board, made with SIGINT,
 * SIGTERM and SIGHUP held until mpi__run_dir_close() has removed them (the mask before in
 * *before): a stopping signal that comes before mpirun starts waits for mpi__launch() (or
 * the world's client), which takes it as one during the run, so the folder goes either
 * way; the guard, ending the process from a handler, could not remove a folder. Every
 * mpirun parlab starts runs between these two. Returns 0, or -1 with out filled, the mask
 * as it was, and nothing left behind.
 */
int mpi__run_dir_open(char *dir, size_t n, unsigned ranks, struct task_watch **board,
                      sigset_t *before, struct outcome *out);
/* Unmaps the board, removes the folder, then lets the stopping signals in again. */
void mpi__run_dir_close(const char *dir, struct task_watch *board, unsigned ranks,
                        const sigset_t *before);
/* Returns a socket connected to rank 0 at dir/sock (a socket of this user), or -1. */
int mpi__connect(const char *dir);
/* Sleeps ms milliseconds; returns nothing. */
void mpi__sleep_ms(long ms);

/* ---- an mpirun (launch.c) -------------------------------------------------------------- */

/* What mpirun printed, kept for the reason of a failure (the last 16 KiB). */
struct mpirun_log {
    char buf[16384];
    size_t len;
};

/* How the launched job ended. */
struct mpirun_end {
    int status;        /* mpirun's wait status */
    int rank;          /* the rank that failed, or -1 */
    int sig;           /* it died by this signal, or 0 */
    int exit_code;     /* else it exited with this status */
    int stopped_by;    /* a signal parlab received and forwarded, or 0 */
    long timed_out;    /* the task past --task-timeout, or -1 */
    int timed_rank;
};

/* An mpirun started from here, and watched until it ends: mpi__launch_start(), then
 * mpi__launch_step() until it says mpirun has ended, then mpi__launch_end(). */
struct launched {
    pid_t pid;
    int fd;                      /* mpirun's output (and stderr), until its end; or -1 */
    int was_subreaper, done, status;
    uint64_t term_at;            /* when the job was stopped, or 0 */
    sigset_t old;                /* the signal mask before mpi__launch_start() */
    struct task_watch *board;    /* the ranks' board, or NULL */
    unsigned ranks;
    double timeout_s;            /* --task-timeout, watched on the board; 0: none */
    struct mpirun_log *log;
    struct mpirun_end *e;
};

/*
 * Start mpirun with args (args[0] is mpirun's path) in dir: its stdout goes to ours when
 * pass_stdout, else with its stderr into log. SIGINT, SIGTERM and SIGHUP stay held in
 * this thread until mpi__launch_end(); mpi__launch_step() passes one that was taken on to
 * mpirun. Returns 0, or -errno if it could not be started.
 */
int mpi__launch_start(struct launched *L, char *const args[], const char *dir,
                      struct task_watch *board, unsigned ranks, int pass_stdout,
                      struct mpirun_log *log, struct mpirun_end *e);
/*
 * One look at a launched mpirun, waiting up to wait_ms for its output or for extra_fd
 * (-1: none) to be readable: keep what it printed; sig (0: none), a stopping signal taken
 * meanwhile, stops the job and mpirun, as does a task past the board's timeout; a job
 * stopped 0.3 s ago whose mpirun has not gone is killed. Returns 1 once mpirun has ended,
 * else 0.
 */
int mpi__launch_step(struct launched *L, int sig, int wait_ms, int extra_fd);
/* After mpi__launch_step() said mpirun has ended: kills and reaps what it left, reads the
 * rest of its output and judges how it ended into *L->e. Returns nothing. */
void mpi__launch_end(struct launched *L);
/*
 * Start mpirun with args in dir and wait for it: SIGINT, SIGTERM and SIGHUP held for the
 * whole run, one that arrives forwarded to mpirun as SIGTERM and reported in
 * e->stopped_by; board watched for --task-timeout. Returns 0, or -errno if it could not
 * be started.
 */
int mpi__launch(char *const args[], const char *dir, struct task_watch *board,
                unsigned ranks, double timeout_s, int pass_stdout, struct mpirun_log *log,
                struct mpirun_end *e);
/* Stops a launched job: the ranks on the board at once, then mpirun with SIGTERM. */
void mpi__stop_job(pid_t mpirun_pid, struct task_watch *board, unsigned ranks);
/* Turns how mpirun ended into the run's outcome: returns 0 if every rank finished, else
 * -1 with out filled. */
int mpi__judge(const struct mpirun_end *e, const struct mpirun_log *log,
               struct task_watch *board, unsigned ranks, double timeout_s,
               struct outcome *out);
/* Writes the first line of l that says something into out ("" if none). */
void mpi__first_line(const struct mpirun_log *l, char *out, size_t n);

/* mpirun's command line, built a word at a time (each word malloc'd; args NULL-ended, at
 * most MPI_ARGS_MAX - 1 words). None of these returns anything: mpi__arg_add appends a
 * word, mpi__mpirun_head mpirun's own options (the rank count, and --oversubscribe past
 * this process's CPUs), mpi__args_free frees the n words. */
#define MPI_ARGS_MAX 48
void mpi__arg_add(char **args, int *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void mpi__mpirun_head(char **args, int *n, const char *mpirun, unsigned ranks);
void mpi__args_free(char **args, int n);

/* Reads rank 0's result file into slots, the trace and the job's state, and the job's
 * time on the ranks into out->job_wall_s; returns 0, or -1 with out filled. */
int mpi__read_result(const char *path, struct job *job, const struct plan *plan,
                     struct partial *slots, struct outcome *out);

/* ---- a world's proof (world_proof.c) --------------------------------------------------- */

/* The marker, exactly as written (mpi__world_check compares it byte for byte). */
#define MPI_WORLD_MARKER "parlab-world 1\ntoken %s\nkeeper %d %llu\nranks %u\ncores %u\n"

/* What mpi__world_check found. */
struct world_id {
    char token[MPI_WORLD_TOKEN_HEX + 1];
    pid_t keeper;
    unsigned long long keeper_start;
    unsigned ranks, cores;
    dev_t dev;
    ino_t ino;
    int gone_rank;   /* WORLD_ENDING: a rank that no longer runs */
};
enum { WORLD_LIVE, WORLD_ENDING, WORLD_STALE };

/* Proves that dir is a world parlab made; returns WORLD_LIVE, WORLD_ENDING or WORLD_STALE
 * with *w filled, or -1 with out filled (64: not a world; 71: cannot be read), and
 * nothing touched. */
int mpi__world_check(const char *dir, struct world_id *w, struct outcome *out);
/* Removes what parlab made in a world's folder, by name, then the folder (ompi_tree: and
 * what Open MPI left in ompi/; only the keeper, which ran that mpirun, says so). */
void mpi__world_remove(const char *dir, unsigned ranks, int ompi_tree);
/* Waits until the world's keeper is gone, up to limit_ms; signals only the proven keeper
 * (signal): SIGTERM at term_ms, its process group killed at kill_ms. Returns 1 if gone. */
int mpi__world_wait_gone(const struct world_id *w, int signal, int term_ms, int kill_ms,
                         int limit_ms);

/* ---- runs in a world (world.c) ---------------------------------------------------------- */

/* Returns 0 and *w for the world wdir names, proven and running with these ranks and CPUs;
 * else -1 with out filled. */
int mpi__world_for(const char *wdir, unsigned ranks, unsigned cores, struct world_id *w,
                   struct outcome *out);
/* Runs job on the world in wdir (see mpi_run_job); returns 0, or -1 with out filled. */
int mpi__world_run(const char *wdir, struct job *job, const struct plan *plan,
                   struct partial *slots, struct outcome *out);

#endif
