/* outcome.h: how failures travel, on every floor. The one convention below the commands:
 * a function returns 0 (or a count, an id), a negative errno, or -1 with a struct outcome
 * filled; only the commands (cmd_*) and mains print and choose the exit code, which is
 * one of PARLAB_EXIT_*. outcome_fatal is for the few places that cannot return. */
#ifndef PARLAB_OUTCOME_H
#define PARLAB_OUTCOME_H

#define PARLAB_EXIT_OK 0
#define PARLAB_EXIT_WRONG 1
#define PARLAB_EXIT_USAGE 64
#define PARLAB_EXIT_SOFTWARE 70
#define PARLAB_EXIT_OS 71
#define PARLAB_EXIT_IO 74       /* output lost: a write, flush or close failed */

/* What went wrong, for main to print as "parlab: <msg>" and exit with `code`. */
struct outcome {
    int code;                 /* 0, or PARLAB_EXIT_SOFTWARE / PARLAB_EXIT_OS */
    char msg[256];
    /* CPU time and peak memory of processes that worked for the run but are neither this
     * process nor its children (a kept mpi world's ranks): the harness adds them to the
     * run's own, since getrusage cannot see them. */
    double away_user_s, away_sys_s;
    long away_maxrss_kb;
    /* A runner that times the job itself, where its workers are (the mpi ranks, after a
     * barrier, as MPI programs do): that time in seconds, which the harness reports as the
     * run's wall time instead of its own clock around run(); 0: the harness's clock. */
    double job_wall_s;
    /* Seconds this call spent starting processes that it keeps for the command's later
     * runs (mpirun and its ranks' MPI_Init), outside job_wall_s; 0: none started. */
    double start_s;
};

/* Returns -1, for `return outcome_fail(...)`, with out->msg set from the printf-style
 * text and out->code to code. */
int outcome_fail(struct outcome *out, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Never returns: ends the process with `code` from a place that cannot return an outcome
 * (libgomp calls exit() when it cannot start a thread; a student's claim is wrong inside
 * a worker). The message goes to outcome_fatal_hook, which main sets so that it prints
 * "parlab: <msg>"; without a hook it is printed as it is.
 */
void outcome_fatal(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
extern void (*outcome_fatal_hook)(int code, const char *msg);

#endif
