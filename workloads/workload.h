/* workload.h: the contract every workload implements, and the job/partial task model. */
#ifndef PARLAB_WORKLOAD_H
#define PARLAB_WORKLOAD_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdalign.h>

#include "../lib/sync.h"   /* PARLAB_CACHELINE */

enum wl_kind { WL_CPU, WL_IO, WL_NONE };

/* combine() is associative and commutative on every field run_task writes (integer sums,
 * counts, xor: not floating-point sums), with the zero partial as its identity. Then any
 * grouping of the partials gives the same bits as the fold in task order, so runners may
 * fold each worker's partials as they go (struct task_fold) instead of keeping a slot per
 * task. */
#define WL_COMBINE_ANY_ORDER 0x1u
/* The workload takes `parlab run --grain NS` (spin): how long one task runs. */
#define WL_GRAIN 0x2u
/* The work grows in proportion to N (twice N, twice the time: sumsq, montecarlo). The weak
 * sweep (scripts/sweep-weak.sh) then takes K x T(N0, 1 core) as one core's time at K x N0;
 * without the flag it measures that time. */
#define WL_WORK_LINEAR 0x4u

/*
 * One task's partial result. Each task owns one slot, padded to a cache line so that
 * neighbouring slots written by different workers never share a line (no false sharing).
 * Workloads use whichever fields they need; combine() folds them in task order.
 */
struct partial {
    alignas(PARLAB_CACHELINE) unsigned __int128 sum; /* exact integer sums (sumsq, checksums) */
    uint64_t count;                                  /* counts (primes, hits, iterations) */
    double value;                                    /* floating results (energy) */
    uint64_t hash;                                   /* bit patterns (n-body state hash) */
    int err;                                         /* 0, or a task-reported error */
};

/*
 * A job is a workload at a size, split into `tasks` tasks and run for `steps` steps.
 * Everything a worker may read lives here or behind `state`. A workload whose state is
 * written by tasks allocates it with job_shared_alloc() in setup(), so that forked workers
 * and the parent see one copy: processes share memory only where they ask for it.
 */
struct job {
    const struct workload *wl;
    uint64_t size;      /* N: the problem size (meaning per workload) */
    size_t tasks;       /* T: the number of tasks, >= 1 */
    unsigned steps;     /* S: bulk-synchronous steps, 1 for non-simulations */
    uint64_t seed;      /* seeds counter-based randomness */
    unsigned io_ms;     /* I/O workloads: how long one task waits */
    uint64_t grain_ns;  /* spin (WL_GRAIN): how long one task should run, in ns */
    uint64_t grain_iters; /* spin: the work per task that takes grain_ns here, set by setup()
                             when 0; runners whose workers run setup() again elsewhere (mpi)
                             pass it on, so that every worker does the same work */
    void *state;        /* workload state, set up by setup() in the parent */
    size_t state_len;   /* bytes of state when it came from job_shared_alloc() */
    double check_limit_s; /* verify(): the most seconds an independent recomputation of
                             the answer may be estimated to take (reference.h); 0: 30 s;
                             < 0: none (the caller checks the answer itself: --expect) */
};

/* What an async task waits on before resume_task() is called. */
struct task_io {
    int fd;             /* wait until readable; -1 when waiting on a timer instead */
    uint64_t delay_ns;  /* with fd == -1: wait this long (the loop's own timer) */
    uint64_t ctx;       /* the workload's own bookkeeping between start and resume */
    /* resume_task gets fd (the one waited on, or -1) and ctx as they were left; delay_ns
     * is spent by then and reads 0. */
};

enum task_status { TASK_DONE = 0, TASK_WAIT = 1 };

/* A byte range of job->state, as an offset from job->state (the same in every process that
 * ran setup() with the same job, whatever the address of its copy). */
struct wl_span {
    size_t off, len;
};
#define WL_MAX_SPANS 4

/* Task functions receive the step (0..steps-1) and the task index (0..tasks-1). */
typedef void (*wl_task_fn)(const struct job *, unsigned step, size_t task, struct partial *out);

/* How a workload splits into tasks (explicit, instead of a 0 that means something). */
enum wl_split {
    WL_SPLIT_RANGE,   /* N items split into default_tasks near-equal ranges (-t overrides) */
    WL_SPLIT_ITEMS,   /* one task per item: -n and -t both give the task count */
};

/*
 * The sizes the tools use, so that scripts and tests ask the registry (`parlab list
 * --format csv`) instead of naming workloads. Each within [min_size, max_size].
 */
struct wl_sizes {
    uint64_t test;    /* the runner x workload test matrix: well under a second under any
                         runner, sanitizers included. Required. */
    /* scripts/bench.sh's core and worker sweep in its tiny (test suite), --quick, default
     * and --full modes. Required for WL_CPU workloads (they are the ones swept: seq about
     * 0.2 s in quick, 0.3-1 s by default); leave all four 0 for others. */
    uint64_t tiny, quick, bench, full;
    /* scripts/sweep-weak.sh's base size N0 outside tiny mode (tiny mode takes .tiny): it
     * runs K x N0 on K cores. Required for WL_CPU workloads (seq about 0.1-0.3 s at N0),
     * 0 for others. */
    uint64_t weak;
};

struct workload {
    const char *name;         /* one word: the -w value */
    const char *summary;      /* one line for `parlab list` */
    enum wl_kind kind;        /* WL_CPU is swept by make bench; WL_IO and WL_NONE are not */
    enum wl_split split;
    uint64_t default_size;    /* N when -n is not given */
    size_t default_tasks;     /* T when -t is not given (WL_SPLIT_RANGE); >= 1 */
    unsigned default_steps;   /* S when --steps is not given: 1 unless `stepped` */
    int stepped;              /* 1: a simulation that accepts --steps; 0: exactly one step */
    uint64_t min_size;        /* the smallest N that setup() accepts, >= 1 */
    uint64_t max_size;        /* the largest N that setup() accepts (memory, overflow) */
    struct wl_sizes sizes;
    const char *tiny_args;    /* extra `parlab run` options for bench's tiny mode, or NULL */
    const char *bench_args;   /* extra options for its other modes, or NULL */
    const char *check;        /* how verify() knows, one token: "known", "closed-form", ... */
    const char *check_how;    /* the same for people: "equal to the closed form ..." */
    const char *unit;         /* one unit of N, for times per unit (make compare): "term",
                                 "point". Required for WL_CPU workloads. */
    /* make compare's calibration sizes, ascending and space-separated: it times the first
     * at which seq runs long enough. Optional: NULL means 1-2-5 steps from the power of ten
     * at or below sizes.test up to max_size (wl_ladder). */
    const char *ladder;
    /* The check verify() applies to this job, where it depends on the job (primes: "known"
     * at a size in its table, "sieve" elsewhere), with its sentence for people in *how.
     * Optional: without it, `check` and `check_how`. */
    const char *(*check_for)(const struct job *, const char **how);
    unsigned flags;           /* WL_COMBINE_ANY_ORDER, WL_GRAIN, WL_WORK_LINEAR */

    /* Parent, before workers start: allocate shared state. 0 or -errno. Optional. */
    int (*setup)(struct job *);
    /* Blocking form: run one task to completion, overwriting all of `out` and writing only
     * its own part of the shared state. Any runner may call it from any worker. Required. */
    wl_task_fn run_task;
    /* Async form, for the event loop. start_task returns TASK_DONE (out is written) or
     * TASK_WAIT (io says what to wait on); resume_task is called when that is ready and
     * returns the same. Optional: without them the loop runs run_task in a callback. */
    int (*start_task)(const struct job *, unsigned step, size_t task, struct task_io *io,
                      struct partial *out);
    int (*resume_task)(const struct job *, unsigned step, size_t task, struct task_io *io,
                       struct partial *out);
    /* Fold `part` into `acc`; called in task order on the last step's partials. */
    void (*combine)(struct partial *acc, const struct partial *part);
    /* Parent, after combine: derive the result from the shared state. Optional. */
    void (*finish)(const struct job *, struct partial *total);
    /* Print the result as one token without commas or spaces (for CSV), from *total
     * alone: the harness also formats probe totals (all zeros, all ones) before setup to
     * learn what an answer looks like, and refuses an --expect that could never match. */
    void (*format)(const struct job *, const struct partial *total, char *buf, size_t n);
    /* Print a longer human explanation of the result (text output). Optional. */
    void (*describe)(const struct job *, const struct partial *total, char *buf, size_t n);
    /* Returns 0 when the answer is right by the workload's check (wl_check_name); -1 when
     * it is wrong, with why saying how; WL_UNCHECKED when no check could vouch for it
     * within the job's limit, with why saying why; or another negative errno when this
     * check could not run (-ENOMEM): then only seq can vouch for it. Required. */
    int (*verify)(const struct job *, const struct partial *total, char *why, size_t n);
    /* The parts of the state that task `task` writes at `step` (at most WL_MAX_SPANS);
     * returns how many. For runners whose workers share no memory (mpi), which copy them
     * to every rank after each step. Required of a workload whose tasks write state. */
    unsigned (*task_writes)(const struct job *, unsigned step, size_t task,
                            struct wl_span out[WL_MAX_SPANS]);
    /* Parent, after the run: release what setup() took. Optional. */
    void (*teardown)(struct job *);
};

/* verify()'s answer for a result it did not find wrong but could not vouch for: the
 * independent recomputation would take longer than job->check_limit_s (or found no
 * memory). Never "yes". */
#define WL_UNCHECKED (-E2BIG)

/* The registry: a NULL-terminated table of every workload, in `parlab list` order. */
extern const struct workload *const wl_registry[];
/* Returns the registry's workload named `name`, or NULL when there is none. */
const struct workload *wl_find(const char *name);
/* Check that an entry is complete and consistent (required callbacks and fields, sizes
 * within [min_size, max_size]). Returns 0, or -EINVAL with why filled. */
int wl_check(const struct workload *wl, char *why, size_t n);
/* make compare's calibration sizes (wl->ladder, or its default) into out[0..max). Returns
 * how many, or -EINVAL when wl->ladder is not ascending whole numbers within [min_size,
 * max_size] or holds more than max. */
int wl_ladder(const struct workload *wl, uint64_t *out, size_t max);
#define WL_LADDER_MAX 64
/* The names of the flags set in wl->flags, space-separated, into buf (as `parlab list`
 * prints them: "any-order grain linear"). Returns buf. */
char *wl_flag_names(const struct workload *wl, char *buf, size_t n);

/* Shared anonymous memory that survives fork(): zeroed, page aligned. NULL on failure
 * (errno set). Free with job_shared_free(). Any process may read and write it. */
void *job_shared_alloc(size_t len);
void job_shared_free(void *p, size_t len);

/* Plain sum of the common fields, for workloads whose partials just add up. */
void wl_combine_add(struct partial *acc, const struct partial *part);
/* The range [*lo, *hi) of `task` when n items are split into `tasks` near-equal parts. */
void wl_task_range(uint64_t n, size_t tasks, size_t task, uint64_t *lo, uint64_t *hi);
/* Print t->count as the result. */
void wl_format_count(const struct job *job, const struct partial *t, char *buf, size_t n);
/* A verify() for task counts: returns 0 when every task reported once (t->count == the
 * task count), else -1 with why filled. */
int wl_verify_task_count(const struct job *job, const struct partial *t, char *why, size_t n);
/*
 * Recorded answers: a workload lists the jobs whose answer an independent source gave (a
 * published value, or another implementation) in a const table, and finds its job there
 * with wl_known_find(). The meaning of want[] is the workload's.
 */
struct wl_known {
    uint64_t size;
    uint64_t steps;     /* 0 where the answer does not depend on the step count */
    uint64_t seed;      /* 0 where the answer does not depend on the seed */
    uint64_t want[2];   /* the answer: one or two 64-bit values */
};
/* The entry of table[0..n) for (size, steps, seed), or NULL when none is recorded. A
 * workload whose answer does not depend on steps or seed passes 0 for them, as its
 * table records. */
const struct wl_known *wl_known_find(const struct wl_known *table, size_t n, uint64_t size,
                                     uint64_t steps, uint64_t seed);
#define WL_KNOWN_FIND(table, size, steps, seed) \
    wl_known_find((table), sizeof(table) / sizeof((table)[0]), (size), (steps), (seed))
/* Returns the check verify() applies to job: wl->check_for(job) when given, else
 * wl->check (its sentence in *how when how is not NULL). */
const char *wl_check_name(const struct job *job, const char **how);

/* Format an unsigned 128-bit integer in decimal into buf. Returns buf. */
char *wl_u128_str(unsigned __int128 v, char *buf, size_t n);

#endif
