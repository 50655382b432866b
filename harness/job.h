/* job.h: the one job lifecycle: set up, run (on a runner, or on the caller's own workers),
 * combine, verify, tear down, and what a run cost. `parlab run`, the measuring commands
 * (bench_job_*), the mpi ranks and the tests all go through it; the tests plant their
 * faults through its hook (job_set_hook) instead of keeping a lifecycle of their own. */
#ifndef PARLAB_JOB_H
#define PARLAB_JOB_H

#include <stdint.h>
#include "../runners/runner.h"
#include "results.h"

/* job_open's flags. */
#define JOB_TRACE 0x1u   /* a trace row per task and step (plan.trace) */
#define JOB_SLOTS 0x2u   /* a result slot per task even where the workload could fold them
                            (results.h): what the mpi ranks gather, what a test tampers with */

/* What job_answer found (struct job_result.verified; a row adds VERIFIED_REF, harness.h). */
#define VERIFIED_WRONG 0      /* verify() found it wrong: why says how */
#define VERIFIED_YES 1        /* verify() vouched for it, by the check wl_check_name says */
#define VERIFIED_SEQ (-1)     /* verify() has no check for it here: only seq can vouch */
#define VERIFIED_UNCHECKED 3  /* no check could vouch within the job's limit: why says why */

struct job_ctx;

/* Where a hook runs: after the run, before combine (the results, job_slots, and the job
 * may be changed: a lost task, a claimed step that never ran); and after combine and
 * finish, before format and verify (*total may be changed, or read). */
enum job_at { JOB_AT_RESULTS, JOB_AT_TOTAL };
/* A hook: total is NULL at JOB_AT_RESULTS. Called in job_answer, in the calling thread. */
typedef void (*job_hook_fn)(struct job_ctx *c, enum job_at at, struct partial *total,
                            void *arg);

struct job_ctx {
    struct job job;
    struct plan plan;            /* plan.trace, plan.watch and plan.fold are owned here */
    struct results rs;           /* a slot per task, or a fold per worker (results.h) */
    int rs_open;
    size_t trace_len, watch_len;
    unsigned watchers;           /* task watch slots: the harness's timeout watchdog */
    int set_up;
    job_hook_fn hook;            /* NULL but in tests */
    void *hook_arg;
};

/* What one timed run cost: wall time and the resource use of the run (children too). */
struct job_sample {
    uint64_t start_ns;           /* clock_now_ns() when the run began (trace origin) */
    double wall_ns, user_s, sys_s;
    /* The CPUs other processes used meanwhile: all busy time in /proc/stat across the run
     * less this run's own CPU time, over the wall time, at least 0; NAN if unreadable. The
     * meter counts clock ticks, so a run of t seconds reads it within about
     * CPUs x 0.01 / t either way: short runs read noisy. */
    double other_cpu;
    double start_s;              /* the runner's outcome start_s (0: it started nothing) */
    long max_rss_kb, vol_cs, invol_cs, minflt;
};

/* The answer of a finished run. */
struct job_result {
    char result[128];            /* format(): one token */
    char detail[256];            /* describe(), or the token */
    int verified;                /* VERIFIED_YES, _WRONG, _SEQ or _UNCHECKED */
    char why[256];               /* _WRONG: how; _UNCHECKED: why */
    long bad_task;               /* the task that reported an error, or -1 */
    int bad_err;                 /* and the error it reported */
};

/* Copy job and plan (trace/watch/fold pointers ignored), run the workload's setup, and
 * allocate the results (folded per worker where the workload's combine allows it and
 * JOB_SLOTS is not set), a trace buffer with JOB_TRACE, and `watchers` watch slots (0:
 * none), all in shared memory. Returns 0, or -errno with oc filled and nothing left to
 * close. Parent, or an mpi rank. */
int job_open(struct job_ctx *c, const struct job *job, const struct plan *plan,
             unsigned flags, unsigned watchers, struct outcome *oc);
/* The slots a runner writes (NULL when folding): what a caller that runs the tasks on its
 * own workers (the mpi ranks) passes them, with &c->job and &c->plan. */
static inline struct partial *job_slots(const struct job_ctx *c) { return c->rs.slots; }
/* Run every step under r, timed, with the watchdog when there are watch slots. Returns
 * 0 with smp filled, or -1 with oc filled (code never 0). Parent. */
int job_exec(struct job_ctx *c, const struct runner *r, struct job_sample *smp,
             struct outcome *oc);
/* Combine the last run's results in task order, finish, format, describe and verify. May
 * be called again (a hook then sees the results again). Returns 0 with res filled, or -1
 * with oc filled when a task reported an error (res->bad_task and bad_err say which). */
int job_answer(struct job_ctx *c, struct job_result *res, struct outcome *oc);
/* Call fn(c, at, total, arg) at each point of job_answer (enum job_at); NULL: none. */
void job_set_hook(struct job_ctx *c, job_hook_fn fn, void *arg);
/* Free what job_open took and tear the workload down. Safe to call twice. */
void job_close(struct job_ctx *c);

#endif
