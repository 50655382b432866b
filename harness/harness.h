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
/* JSON (json_out.c), through out_begin/out_row/out_end: the rows are collected, then
 * written as one document with the context and a summary per configuration. Main thread. */
void json_begin(void);
void json_add_row(const struct result_row *r);
void json_end(FILE *f);
/* "yes", "no" or "ref" (seq itself at a size with no known answer), as CSV and JSON say it. */
const char *verified_name(int verified);
/* Speedup base_mean / mean, and in *err its error from both stddevs. */
double speedup_of(double base_mean, double base_sd, double mean, double sd, double *err);
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
 * killing and reaping every worker first. runner names the runner for the message. */
void guard_install(const char *runner);
/* Watch plan->watch[0..slots) from a thread; a task past plan->task_timeout_s ends the
 * run with exit 70. 0 or -errno. Stop it before plan->watch is freed. */
int guard_watch_start(const struct plan *plan, unsigned slots);
void guard_watch_stop(void);

/* The CPUs this process may run on. */
unsigned cpus_allowed(void);
/* Restrict the process to the first k allowed CPUs. 0, or -errno. */
int cpus_restrict(unsigned k);

#endif
