/* harness.h: what the CLI's modules share: the commands, results, output and machine. */
#ifndef PARLAB_HARNESS_H
#define PARLAB_HARNESS_H

#include <stdio.h>
#include "../runners/runner.h"
#include "job.h"
#include "results.h"
#include "stats.h"

#define PARLAB_VERSION "0.1.0"

/* The commit the binary was built from (git describe, "-dirty" for uncommitted changes;
 * "unknown" outside a git checkout), as --version and JSON's context.commit say it. */
const char *parlab_commit(void);
/* `parlab --version`: "parlab VERSION (commit COMMIT)", one line on f. */
void print_version(FILE *f);

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
int cmd_race(int argc, char **argv);
int cmd_world(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_completion(int argc, char **argv);

/* parlab run's long options ({0}-terminated, getopt_long's table): for the completion. */
struct option;
const struct option *run_options(void);

/* The commands' one line (guard.c): only cmd_* functions and main call die and complain.
 * Print "parlab: <msg>" to stderr and return `code`, for `return die(...)`. */
int die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "parlab: <msg>" to stderr and go on (a wrong result among several repeats). */
void complain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* outcome_fail for a message that echoes what a user typed: one too long for oc->msg keeps
 * its head and its tail (the reason) around a note of what was cut. Returns -1. */
int fail_msg(struct outcome *oc, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Every file parlab writes goes through these at its end (output.c), so that no lost
 * output passes as written. out_flushed: 0 when no write to f failed and its buffer
 * flushes, else -errno (EIO where an earlier failure left no reason). out_fclose: the
 * same, then fclose(f), whose own failure counts too (EBADF with nothing written
 * excepted: a closed stdout that parlab never wrote to lost nothing); f is closed either
 * way. Main thread.
 */
int out_flushed(FILE *f);
int out_fclose(FILE *f);
/* The exit status for errno e from storing data: 74 (I/O) where the file system could
 * not hold it (ENOSPC, EDQUOT, EFBIG, EIO), else 71 (the OS refused). */
int out_errno_status(int e);
/* main()'s last step for every command: close stdout (out_fclose) and check stderr.
 * Returns rc, or 74 when output was lost and rc had not already reported a failure
 * (0 or 1): then "parlab: writing standard output: <why>" is the line that says so. */
int out_finish(int rc);

/* One measured repeat of a job, as the output formats print it. */
struct result_row {
    const char *workload, *runner, *schedule, *host;
    uint64_t size;
    unsigned workers, cores, steps;
    size_t tasks, chunk;
    double wall_s, user_s, sys_s;
    double other_cpu;          /* CPUs other processes used while it was timed; NAN unknown */
    double start_s;            /* seconds the runner spent starting the processes it kept
                                  for the command (mpi: mpirun to every rank past
                                  MPI_Init), not in wall_s; 0: none (other runners,
                                  and every row but the runner's first) */
    long max_rss_kb, vol_cs, invol_cs;
    char result[128];
    char detail[256];          /* describe(): the human form of the result */
    int verified;              /* 1 yes, 0 no, VERIFIED_REF: seq is the reference itself,
                                  VERIFIED_UNCHECKED: no check could vouch for it */
    const char *check;         /* how: "known", "closed-form", "independent", "seq", ... */
    const char *check_how;     /* the workload's sentence for its check, or NULL */
    char why[256];             /* VERIFIED_UNCHECKED: why (the limit it is over) */
};

#define VERIFIED_REF 2   /* beside job.h's VERIFIED_YES, _WRONG, _SEQ and _UNCHECKED */

enum out_format { OUT_TEXT, OUT_CSV, OUT_JSON };
/* --format VAL: 0 with *out set, or -1 with oc filled (64: "--format x: unknown format:
 * did you mean ...? (text, csv, json)"). */
int out_format_opt(const char *val, enum out_format *out, struct outcome *oc);

void out_begin(FILE *f, enum out_format fmt);
void out_row(FILE *f, enum out_format fmt, const struct result_row *r, int index, int total);
/* interleaved: the rows of seq and the runner took turns (--baseline), as JSON says. */
void out_end(FILE *f, enum out_format fmt, int interleaved);
/* JSON (json_out.c), through out_begin/out_row/out_end: the rows are collected, then
 * written as one document with the context and a summary per configuration. Main thread. */
void json_begin(void);
void json_add_row(const struct result_row *r);
void json_end(FILE *f, int interleaved);

/*
 * Every --format json document, whatever the command, is written here, in one shape:
 * {"schema_version", "kind", "context", "rows", "summary"} (results/README.md; one JSON
 * Schema per kind in results/schema/). kind: "run", "list", "experiment", "world-status".
 * rows (an array) and summary are taken (their references stolen); NULL gives [] or {}.
 * Main thread. The version rises when a key or column of parlab's output is renamed or
 * removed (2: the CSVs' and documents' fields follow one naming rule, docs/decisions.md);
 * scripts/verdict.py's SCHEMA_VERSION and the schemas' const follow it.
 */
#define PARLAB_SCHEMA_VERSION 2
struct json_t;
void json_document(FILE *f, const char *kind, struct json_t *rows, struct json_t *summary);
/* The context object of every document: the machine, the build, the date, the load. */
struct json_t *json_context(void);
/* A JSON number, or null for NaN and infinities (JSON has neither). */
struct json_t *json_number_or_null(double v);
/* "yes", "no", "ref" (seq itself at a size with no known answer) or "unchecked" (too large
 * to recompute within the limit), as CSV and JSON say it. */
const char *verified_name(int verified);
/* Text only: the wall times as mean ± σ, min … max and the run count (stats.h); against
 * seq (NULL: none, as without --baseline) the speedup with its 95% interval, the rank test
 * and the verdict; the load other processes put on the machine; and a warning when a run
 * was too short to time well. warmup: the untimed runs before them, to say so. */
void out_summary(FILE *f, const struct run_times *runner, const struct run_times *seq,
                 int warmup);

/* The machine, for "#" context lines. */
struct machine {
    char host[80];
    char cpu[128];
    unsigned online, allowed;
    char kernel[80];
};
void machine_read(struct machine *m);
/* CPU-seconds all CPUs have been busy since boot (/proc/stat: user, nice, system, irq,
 * softirq, steal; the kernel counts in clock ticks, 10 ms a CPU), or -1 if unreadable. */
double machine_busy_s(void);
/* How far an other-CPU figure from machine_busy_s can be off by the meter's ticks alone,
 * times the run's wall time: (CPUs + 1) ticks, in CPU-seconds (struct run_times). */
double machine_meter_cpu_s(void);
void machine_print(FILE *f, const struct machine *m);
/* CPU time, context switches and faults of this process plus its reaped children. */
struct rusage;
struct timeval;
void usage_now(struct rusage *u);
/* A timeval in seconds. */
double tv_seconds(struct timeval tv);

/* Catch SIGINT/SIGTERM/SIGHUP (exit 128+sig) and crashes of this process (exit 70),
 * killing and reaping every tracked child (child_add) first. main() installs it
 * before anything else, for every command, so that no moment of a run is unguarded. */
void guard_install(void);
/* The process is ending by its own means (its one line printed, or main returning): a
 * signal from now on changes nothing, and prints nothing. die() and main() call it. If a
 * signal's handler in another thread already ends the run, it never returns: that
 * handler prints the one line and exits. */
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
 * 0, or -errno with the reason in why: -EINVAL for a path that is not a regular file
 * (a symlink, FIFO, directory, device), -ENOENT for a folder that does not exist, else
 * what the OS said (EROFS, EACCES, ENOSPC ...). */
int trace_file_open(struct trace_file *t, const char *path, char *why, size_t n);
/* A stream onto the (emptied) file for writing the rows, which the caller fcloses; NULL
 * with errno set when it cannot be had. */
FILE *trace_file_stream(const struct trace_file *t);
/* Put the file in place of path in one rename, after fdatasync. 0 or -errno; either
 * way t is closed and, on failure, path is as it was. */
int trace_file_commit(struct trace_file *t);
/* Drop the file, leaving path as it was. Safe on an unopened or closed t. */
void trace_file_discard(struct trace_file *t);
/* Watch plan->watch[0..slots) from a thread; a task past plan->task_timeout_s ends the
 * run with exit 70. 0 or -errno. Stop it before plan->watch is freed. */
int guard_watch_start(const struct plan *plan, unsigned slots);
void guard_watch_stop(void);

/* Restrict the process to the first k allowed CPUs. 0, or -errno. */
int cpus_restrict(unsigned k);
/* --cores K for a command: restrict this process (and all it starts) to K of its CPUs.
 * Returns 0, or -1 with oc filled (code 64 for more CPUs than it has, 71 where the OS
 * refuses). */
int cores_option(uint64_t k, struct outcome *oc);

#endif
