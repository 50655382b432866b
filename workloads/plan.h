/* plan.h: how a job's tasks are to be run (the plan a runner is given), and the shared
 * records a run keeps per task and per worker (trace rows, folds, watches). Part of the
 * task model beside workload.h, below every room that runs tasks: the runners and the mpi
 * ranks' wire both carry a plan. */
#ifndef PARLAB_PLAN_H
#define PARLAB_PLAN_H

#include <stddef.h>
#include <stdint.h>
#include "workload.h"
#include "../lib/schedule.h"

/* One row of --trace: a task's run on one clock that every process shares. */
struct trace_rec {
    uint32_t task, worker, step, pad;
    uint64_t start_ns, end_ns;   /* CLOCK_MONOTONIC */
};

/* Faults that --inject plants in one task, for tests and teaching. */
/* INJECT_DROP: the task does no work and its slot is zeroed, as if a runner lost it: a
 * wrong answer that only verification can catch. */
enum inject_kind { INJECT_NONE, INJECT_SEGV, INJECT_KILL, INJECT_EXIT, INJECT_HANG, INJECT_ERROR,
                   INJECT_DROP };

/* How to run a job: chosen by the CLI, read-only to the runner. */
struct plan {
    unsigned workers;         /* W >= 1 */
    unsigned cores;           /* CPUs the run is restricted to (affinity already applied) */
    enum sched_kind schedule;
    size_t chunk;             /* 0: the schedule's default (static: one block per worker) */
    unsigned loops;           /* epoll: event-loop processes, >= 1 */
    struct trace_rec *trace;  /* NULL, or tasks*steps records in shared memory */
    double task_timeout_s;    /* 0: none */
    enum inject_kind inject;
    size_t inject_task;
    unsigned inject_step;     /* step + 1 the fault strikes in; 0: the default (a crash on
                                 the first step, a reported error on the last) */
    struct task_watch *watch; /* NULL, or one per worker in shared memory (the harness
                                 watches tasks for runners without RUNNER_OWN_TIMEOUT) */
    struct task_fold *fold;   /* NULL: task i writes slots[i]. Else one per worker (and per
                                 loop) in shared memory: see struct task_fold */
    unsigned start;           /* RUNNER_START_METHODS: how workers start, an enum pool_start
                                 (lib/pool.h): 0 fork, 1 forkserver, 2 spawn */
};

/*
 * A worker's fold of the partials of the tasks it ran in the last step, for workloads
 * whose combine is WL_COMBINE_ANY_ORDER. Then a task writes a partial on its worker's
 * stack and runner_task_done() combines it into the worker's own fold, so the result
 * memory is a few lines per worker instead of a slot per task, and no two workers ever
 * write one line. The harness zeroes the folds before each run (err_task = SIZE_MAX).
 */
struct task_fold {
    struct partial acc;       /* the fold (struct partial is a cache line on its own) */
    size_t err_task;          /* the lowest task of this worker that reported an error */
    int err;                  /* and its error */
};

/* A worker's current task, for watchdogs: written by runner_exec_task when plan->watch
 * is set. One cache line per worker. */
struct task_watch {
    _Alignas(64) _Atomic long task;       /* -1 when idle */
    _Atomic uint64_t start_ns;
};

#endif
