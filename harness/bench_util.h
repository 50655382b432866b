/* bench_util.h: what the measuring commands (overhead, share, pitfall) share: the spread
 * of R samples, one row format for text and CSV, option checks, and a way to run a job. */
#ifndef PARLAB_BENCH_UTIL_H
#define PARLAB_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include "harness.h"
#include "results.h"
#include "parse.h"
#include "../runners/pool.h"

#define BENCH_MAX_REPEAT 1000u

/* The spread of R samples. */
struct bench_stat {
    int n;
    double median, q1, q3, min, max;
};

/* Summarise v[0..n), n >= 1. Sorts v in place. */
void bench_stat_of(double *v, int n, struct bench_stat *s);

enum bench_unit {
    BU_NS,       /* a time in ns; printed in ns, us, ms or s */
    BU_X,        /* a ratio such as a speedup */
    BU_COUNT,    /* a plain count */
    BU_KIB,      /* memory in KiB; printed in KiB or MiB */
};

/* One printed figure: the median and spread of R samples, and what it is. */
struct bench_row {
    const char *section;      /* a short group name: "process", "dispatch", "cow" ... */
    char what[96];            /* no commas: it becomes a CSV field */
    unsigned workers;         /* 0 when it does not apply */
    enum bench_unit unit;
    struct bench_stat st;
    double ratio;             /* a comparison (e.g. against omp); NAN for none */
    char note[160];           /* text output only */
};

/*
 * Rows as text for people (aligned, "median [min .. max] unit") or CSV for machines
 * (command,section,what,workers,unit,median,min,max,q1,q3,repeat,ratio,host). The
 * table remembers whether the CSV header went out. Parent only.
 */
struct bench_table {
    FILE *f;
    enum out_format fmt;
    const char *command;
    const char *host;
    int started;
};
void bench_table_row(struct bench_table *t, const struct bench_row *r);
/* A context line: "# ..." in text; nothing in CSV (data rows only). */
void bench_table_note(struct bench_table *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A context line with the load average: other work on these CPUs widens every spread. */
void bench_table_load(struct bench_table *t, const char *when);

/* "85.2 [80.1 .. 90.3] us": the median and extremes, scaled together to the median. */
char *bench_fmt_stat(char *buf, size_t n, const struct bench_stat *s, enum bench_unit u);
/* One value with its unit: "85.2 us", "1.50 MiB", "2.00 x". */
char *bench_fmt_value(char *buf, size_t n, double v, enum bench_unit u);

/* --format text|csv. 0, or the usage error as above. */
int bench_opt_format(const char *val, enum out_format *out);
/* -r/--runner for the pool commands: fork|thread. 0, or the usage error as above. */
int bench_opt_pool(const char *opt, const char *val, enum pool_kind *out);
/* getopt's ':' and '?' cases: "option X needs a value" / "unknown option". Returns 64. */
int bench_opt_bad(const char *command, int c, char **argv, int optind_now);

/*
 * A job ready to run, as `parlab run` builds one: the workload set up, its results in
 * shared memory, and a plan for W workers. This is a private copy of what
 * harness/run.c's run_once does, so that the measuring commands time the same thing.
 */
struct bench_job {
    struct job job;
    struct plan plan;
    struct results rs;        /* a slot per task, or a fold per worker, as run makes them */
    int set_up;
};

/* Set up wl at size with tasks tasks (0: the workload's default) for W workers.
 * 0, or -errno with nothing left to close. Parent only. */
int bench_job_open(struct bench_job *bj, const struct workload *wl, uint64_t size,
                   size_t tasks, unsigned workers, enum sched_kind sched, size_t chunk);
void bench_job_close(struct bench_job *bj);

/* What one timed run cost: wall time and the resource use of the run (children too). */
struct bench_sample {
    double wall_ns, user_s, sys_s;
    long vol_cs, invol_cs, minflt;
};

/* Run the job once under r. 0, or -1 with oc filled. Parent only. */
int bench_job_run(struct bench_job *bj, const struct runner *r, struct bench_sample *smp,
                  struct outcome *oc);
/* Combine the slots in task order and check: writes the result token into buf and returns
 * verify()'s answer (1 right, 0 wrong, -1 only seq can tell). */
int bench_job_result(struct bench_job *bj, char *buf, size_t n, char *why, size_t wn);

/*
 * On one pool of `kind` with the job's W workers: when warm > 0, every worker first maps
 * all result slots into its page tables (a forked worker otherwise faults on pages new to
 * it whenever the tasks it claims change), then `warm` untimed maps of the job's tasks
 * under its schedule and chunk, then `repeat` timed maps, their wall times in ns[]. The
 * pool is made after bj, so forked workers see bj. 0, or -1 with oc filled. Parent only.
 */
int bench_pool_maps(enum pool_kind kind, struct bench_job *bj, int warm, int repeat,
                    double *ns, struct outcome *oc);
/* The two halves of bench_pool_maps, to interleave pools with other measurements: start a
 * warm pool (NULL with oc filled), and time one map (0, or -1 with oc filled; the pool is
 * then broken: pool_destroy it). Parent only. */
struct pool *bench_pool_start(enum pool_kind kind, struct bench_job *bj, int warm,
                              struct outcome *oc);
int bench_pool_time(struct pool *p, struct bench_job *bj, double *ns, struct outcome *oc);

/* Resident and proportional set size of this process (smaps_rollup), in KiB. 0, or -errno. */
int bench_mem_kib(long *rss_kib, long *pss_kib);

/* Sleep ms milliseconds (lets spinning OpenMP threads go idle between measurements). */
void bench_pause_ms(unsigned ms);

/*
 * share.c's measurement, for `pitfall false-sharing`: run `method` (share's names) on a
 * pool of `kind` with W workers doing `ops` increments each, `repeat` times. Fills
 * ns_per_op[] (a worker's wall time / ops) and finals[] (the count reached). 0, or -1
 * with oc filled.
 */
int share_measure(const char *method, enum pool_kind kind, unsigned workers, uint64_t ops,
                  int repeat, double *ns_per_op, double *finals, struct outcome *oc);

#endif
