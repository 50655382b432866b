/* run_opts.h: `parlab run`'s options: read from argv, checked against each other and
 * against the workload and runner, defaults filled in (run_opts.c); cmd_run (run.c) runs
 * what they say. */
#ifndef PARLAB_RUN_OPTS_H
#define PARLAB_RUN_OPTS_H

#include <stdio.h>
#include "harness.h"
#include "../lib/pool.h"

struct run_opts {
    const struct workload *wl;
    const struct runner *runner;
    uint64_t size, tasks, steps, workers, cores, repeat, warmup, chunk, seed, io_ms, loops, grain;
    int size_set, tasks_set, steps_set, workers_set, cores_set, chunk_set, loops_set;
    int sched_set;
    enum sched_kind schedule;
    enum out_format format;
    const char *trace_path;
    struct trace_file trace;  /* where the rows go until the run completes */
    const char *expect;
    double task_timeout;
    double check_limit;       /* --check-limit: seconds; 0: the default (reference.h) */
    enum inject_kind inject;
    uint64_t inject_task, inject_step;   /* step + 1; 0: the default */
    int baseline;
    enum pool_start start;    /* --start: the fork runner's start method */
    int start_set;
    const char *student;      /* --student FILE.so: a lab's student code (lib/student.h) */
    int help, version;        /* -h, -V: print that, nothing else */
};

/* The usage text of `parlab run`, on f (stdout for --help, stderr for misuse). */
void run_usage(FILE *f);
/* Parse argv into o, checking each value. Returns 0 (with o->help or o->version set when
 * asked, the rest left unread), or -1 with oc filled (64). Main thread. */
int run_opts_parse(int argc, char **argv, struct run_opts *o, struct outcome *oc);
/* Fill in defaults and check the options against each other; restrict the CPUs (--cores)
 * and open the trace file (o->trace, which cmd_run commits or discards). Returns 0, or -1
 * with oc filled. Main thread. */
int run_opts_resolve(struct run_opts *o, struct outcome *oc);

#endif
