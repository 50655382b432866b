/* harness.h: what the CLI's modules share: the commands, results, output and machine. */
#ifndef PARLAB_HARNESS_H
#define PARLAB_HARNESS_H

#include <stdio.h>
#include "../runners/runner.h"

#define PARLAB_VERSION "0.1.0"

/* A subcommand: `parlab NAME ...`. Returns the process exit status. */
struct command {
    const char *name;
    const char *summary;
    int (*fn)(int argc, char **argv);
};
extern const struct command commands[];

int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_overhead(int argc, char **argv);
int cmd_share(int argc, char **argv);
int cmd_pitfall(int argc, char **argv);

/* Print "parlab: <msg>" to stderr and return `code`, for `return die(...)`. */
int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One measured repeat of a job, as the output formats print it. */
struct result_row {
    const char *workload, *runner, *schedule, *host;
    uint64_t size;
    unsigned workers, cores, steps;
    size_t tasks, chunk;
    double wall_s, user_s, sys_s;
    long max_rss_kb, vol_cs, invol_cs;
    char result[128];
    char detail[256];          /* describe(): the human form of the result */
    int verified;              /* 1 yes, 0 no, VERIFIED_REF: seq is the reference itself */
    const char *check;         /* how: "known", "closed-form", "seq", "energy", ... */
};

#define VERIFIED_REF 2

enum out_format { OUT_TEXT, OUT_CSV, OUT_JSON };

void out_begin(FILE *f, enum out_format fmt);
void out_row(FILE *f, enum out_format fmt, const struct result_row *r, int index, int total);
void out_end(FILE *f, enum out_format fmt);
/* Text only: mean, stddev, min of wall times, and the speedup against base (if n > 0). */
void out_summary(FILE *f, const double *wall, int n, const double *base, int nb);

/* CPU time, context switches and faults of this process plus its reaped children. */
struct rusage;
struct timeval;
void usage_now(struct rusage *u);
double tv_seconds(struct timeval tv);
/* Fold slots[0..tasks) in task order into *total, then the workload's finish(). Returns
 * 0, or -1 with *bad the first task that reported an error. */
int job_combine(const struct job *job, const struct partial *slots, struct partial *total,
                size_t *bad);

/* Mean and sample standard deviation of v[0..n). */
void stats_mean_sd(const double *v, int n, double *mean, double *sd);

/* The machine, for "#" context lines. */
struct machine {
    char host[80];
    char cpu[128];
    unsigned online, allowed;
    char kernel[80];
};
void machine_read(struct machine *m);
void machine_print(FILE *f, const struct machine *m);

/* Catch SIGINT/SIGTERM/SIGHUP (exit 128+sig) and crashes of this process (exit 70),
 * killing and reaping every tracked child (runner_child_add) first. main() installs it
 * before anything else, for every command, so that no moment of a run is unguarded. */
void guard_install(void);
/* The process is ending by its own means (its one line printed, or main returning): a
 * signal from now on changes nothing, and prints nothing. die() and main() call it. */
void guard_exiting(void);
/* Name the runner in the crash message (default "?"). */
void guard_set_runner(const char *runner);
/* path (copied), or NULL for none: a file the guard removes if it ends the run. */
void guard_remove_on_exit(const char *path);

/* --trace FILE, replaced whole or not at all (tracefile.c). fd is an unnamed file in
 * FILE's directory, or a hidden named one (tmp) where O_TMPFILE is not supported. */
struct trace_file {
    int fd;
    const char *path;
    char tmp[4096];
};
/* Refuse what is not a regular file or a new path; open the file the rows go to.
 * 0, or -1 with the reason in why. */
int trace_file_open(struct trace_file *t, const char *path, char *why, size_t n);
/* A stream onto the (emptied) file for writing the rows; the caller fcloses it. */
FILE *trace_file_stream(const struct trace_file *t);
/* Put the file in place of path in one rename. 0 or -errno; either way t is closed. */
int trace_file_commit(struct trace_file *t);
/* Drop the file, leaving path as it was. Safe on an unopened or closed t. */
void trace_file_discard(struct trace_file *t);
/* Watch plan->watch[0..slots) from a thread; a task past plan->task_timeout_s ends the
 * run with exit 70. 0 or -errno. Stop it before plan->watch is freed. */
int guard_watch_start(const struct plan *plan, unsigned slots);
void guard_watch_stop(void);

/* The CPUs this process may run on. */
unsigned cpus_allowed(void);
/* Restrict the process to the first k allowed CPUs. 0, or -errno. */
int cpus_restrict(unsigned k);

#endif
