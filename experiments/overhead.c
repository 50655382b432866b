/* overhead.c: `parlab overhead`: what each building block of parallel code costs, side by
 * side in one run on one machine: starting processes and threads, starting pools,
 * dispatching a task, waking another thread, a lock and an atomic, and what all that
 * leaves of the speedup on real workloads. This file holds the experiment's entry, the
 * table of its sections and its targets; each section is a file of its own (overhead.h). */
#define _GNU_SOURCE
#include <math.h>
#include <stdlib.h>

#include "overhead.h"

/* ---- the experiment ---------------------------------------------------------------- */

static void overhead_help(FILE *f)
{
    fprintf(f,
        "  at W = the CPUs this process may use: fork, fork+exec, pthread_create, pool\n"
        "  start-up, per-task dispatch (thread, fork, omp, epoll, process; also as a ratio to\n"
        "  omp dynamic,1), wake-up round trips, mutex and atomic costs, and the speedup of\n"
        "  every runner and schedule.\n");
}

/* The figures the project aims at, against what this run measured. */
static void targets(struct ov *o)
{
    struct exp_table *t = &o->tab;
    if (o->omp_task_ns > 0) {
        double rt = o->thread_ratio, rf = o->fork_ratio;
        exp_note(t, "target: thread dispatch <= 1.0× omp dynamic,1: %.2f×, %s", rt,
                 rt <= 1.0 ? "met" : "missed");
        exp_note(t, "target: fork dispatch <= 1.0× omp dynamic,1: %.2f×, %s", rf,
                 rf <= 1.0 ? "met" : "missed");
    }
    if (o->atomic2_ns > 0) {
        /* Every runner's dispatch against the floor of a shared claim counter. */
        const char *names[] = { "omp", "thread", "fork", "epoll" };
        double ns[] = { o->omp_task_ns, o->thread_task_ns, o->fork_task_ns, o->epoll_task_ns };
        char buf[200];
        size_t len = 0;
        int met = 1;
        for (int i = 0; i < 4; i++) {
            if (!(ns[i] > 0))
                continue;
            double x = ns[i] / o->atomic2_ns;
            met &= x <= 2.0;
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s %.2f×", len ? ", " : "",
                                    names[i], x);
            if (len >= sizeof buf)
                break;
        }
        exp_note(t, "target: dispatch <= 2× the contended fetch_add (%.3g ns): %s; %s",
                 o->atomic2_ns, buf, met ? "met" : "missed");
    }
    if (o->start_ready_ns[0] > 0)
        exp_note(t, "start methods, pool ready at W=%u: fork %.3f ms, forkserver %.3f ms (%.1f×), "
                 "spawn %.3f ms (%.1f×); Python's Pool(2) under the three: make compare",
                 o->W, o->start_ready_ns[0] / 1e6, o->start_ready_ns[1] / 1e6,
                 o->start_ready_ns[1] / o->start_ready_ns[0], o->start_ready_ns[2] / 1e6,
                 o->start_ready_ns[2] / o->start_ready_ns[0]);
    if (o->W == 2)
        exp_note(t, "target: fork pool ready <= 0.5 ms at W=2: %.3f ms, %s",
                 o->fork_ready_ns / 1e6, o->fork_ready_ns <= 5e5 ? "met" : "missed");
    else
        exp_note(t, "target: fork pool ready <= 0.5 ms is set for W=2; here W=%u", o->W);
}

/* The sections in the order they run, each with its progress line (NULL: it says its own
 * steps). */
static const struct {
    int (*run)(struct ov *o);
    const char *done;
} sections[] = {
    { ov_section_processes, "processes: fork, exec, threads, pool start-up" },
    { ov_section_dispatch, "dispatch: the per-task cost of each runner, and against omp" },
    { ov_section_mpi, "mpi: mpirun start, ping-pong, farm (where the mpi runner is usable)" },
    { ov_section_sync, "sync: wake-up round trips, mutex and atomic" },
    { ov_section_speedup, NULL },   /* its steps: one per workload */
};

static int overhead_run(struct exp_opts *eo, struct outcome *oc)
{
    struct ov o = { .R = eo->R, .quick = eo->quick, .W = eo->workers, .tab = eo->tab,
                    .omp_task_ns = NAN, .thread_ratio = NAN, .fork_ratio = NAN,
                    .thread_task_ns = NAN, .fork_task_ns = NAN, .epoll_task_ns = NAN,
                    .atomic2_ns = NAN };
    int st = 0;

    o.v = calloc((size_t)o.R, sizeof *o.v);
    if (!o.v)
        return outcome_fail(oc, PARLAB_EXIT_OS, "out of memory");
    exp_begin(eo, "overhead: W = %u (the CPUs this process may use), R = %d samples per "
              "figure%s", o.W, o.R, o.quick ? "; --quick sizes" : "");
    o.tab = eo->tab;   /* the table as it now is (JSON: the notes so far), back at the end */
    progress_begin(&o.prog, stderr, OV_STEPS);
    for (size_t i = 0; i < sizeof sections / sizeof sections[0] && !st; i++) {
        st = sections[i].run(&o);
        if (st == -1)
            *oc = o.oc;   /* the command prints it */
        else if (!st && sections[i].done)
            progress_step(&o.prog, sections[i].done);
    }
    if (!st) {
        targets(&o);
        exp_load(&o.tab, "at the end");
    }
    free(o.v);
    eo->tab = o.tab;
    return st ? -1 : 0;   /* -1 with oc filled */
}

const struct experiment exp_overhead = {
    .name = "overhead", .command = "overhead",
    .summary = "what each building block costs: fork, threads, pools, dispatch, wake-ups, locks",
    .opts = EO_REPEAT | EO_QUICK, .default_repeat = 5, .help = overhead_help,
    .run = overhead_run,
};
