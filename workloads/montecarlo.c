/* montecarlo.c: estimate pi from N random points in the unit square (CPU, balanced).
 * Point i takes its coordinates from counter i of the seed's stream, and the hit test is
 * exact integer arithmetic, so the hit count is bit-identical under every runner,
 * schedule and task count, and in any language that repeats rng.h: which is what lets
 * verify() compare it with counts recorded from another implementation. */
#include <math.h>
#include <stdio.h>
#include "reference.h"
#include "rng.h"
#include "workload.h"

/* A task reports its hits in `count` and the points it tested in `sum`: the loop counts
 * them itself, so a loop that skips a point reports one fewer. */
static void mc_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    uint64_t lo, hi, key = rng_key(job->seed), hits = 0, tested = 0;
    (void)step;
    wl_task_range(job->size, job->tasks, task, &lo, &hi);
    for (uint64_t i = lo; i < hi; i++) {
        uint64_t r = rng_at(key, i);
        uint64_t x = r >> 32, y = r & 0xffffffffu;
        /* (x, y) / 2^32 lies in the circle when x^2 + y^2 < 2^64, i.e. when the 64-bit
         * sum does not wrap. */
        uint64_t xx = x * x, s = xx + y * y;
        hits += (uint64_t)(s >= xx);
        tested++;
    }
    *out = (struct partial){ .count = hits, .sum = tested };
}

static double mc_pi(const struct job *job, const struct partial *t)
{
    return 4.0 * (double)t->count / (double)job->size;
}

/* One standard error of the estimate: 4 sqrt(p(1-p)/N) with p = pi/4. */
static double mc_sigma(const struct job *job)
{
    double p = M_PI / 4;
    return 4.0 * sqrt(p * (1 - p) / (double)job->size);
}

static void mc_describe(const struct job *job, const struct partial *t, char *buf, size_t n)
{
    double pi = mc_pi(job, t);
    snprintf(buf, n, "%llu hits of %llu points: pi ~ %.8f (%.2f standard errors from pi)",
             (unsigned long long)t->count, (unsigned long long)job->size, pi,
             fabs(pi - M_PI) / mc_sigma(job));
}

/*
 * Hit counts of the first N points of a seed's stream, each computed by
 * peers/python/known_answers.py (the generator and hit test written again in Python,
 * sharing no code with this file) and equal to this file's count. Sizes: parlab's
 * default (100M), make bench (200M), QUICK=1 (120M), FULL=1 (400M), the tiny bench and
 * the test suites. want[0] is the hit count.
 */
static const struct wl_known recorded[] = {
    { 20000, 0, 7, { 15723 } },           /* tests: runner matrix */
    { 123457, 0, UINT64_MAX, { 97031 } }, /* tests: peers, a seed that wraps */
    { 200000, 0, 1, { 157217 } },         /* bench tiny; tests: peers */
    { 200000, 0, 42, { 157458 } },        /* tests: peers */
    { 1000000, 0, 42, { 785406 } },       /* tests: workloads */
    { 1000000, 0, 43, { 786027 } },       /* tests: workloads */
    { 100000000, 0, 1, { 78538721 } },    /* parlab default */
    { 120000000, 0, 1, { 94244543 } },    /* bench QUICK=1 */
    { 200000000, 0, 1, { 157082235 } },   /* bench */
    { 400000000, 0, 1, { 314156897 } },   /* bench FULL=1 */
};

static const struct wl_known *mc_recorded(const struct job *job)
{
    return WL_KNOWN_FIND(recorded, job->size, 0, job->seed);
}

#define MC_INDEPENDENT_HOW "N points tested, and the hit count recomputed by an independent " \
    "implementation (workloads/reference.c)"

static const char *mc_check(const struct job *job, const char **how)
{
    if (mc_recorded(job)) {
        *how = "N points tested, and the hit count an independent implementation recorded";
        return "recorded";
    }
    if (ref_within_limit(job)) {
        *how = MC_INDEPENDENT_HOW;
        return WL_CHECK_INDEPENDENT;
    }
    *how = "N points tested, and within 5 standard errors of pi: not enough to vouch for it";
    return WL_CHECK_OVER_LIMIT;
}

/*
 * First, the points the tasks tested add up to N (a count, not a proof that each point
 * was tested once: a point repeated and another lost would cancel). Then the hits, which
 * are exact: equal to the recorded count where one exists, else to the count that
 * workloads/reference.c recomputes (one loop over all N points in order, outside the
 * timed region), so any lost, repeated or misjudged point shows. Where that would take
 * longer than the job's limit, only a statistical test is left: within 5 standard errors
 * of pi fails a biased hit test or a large loss, but it cannot see one point in a
 * million, so such a result is WL_UNCHECKED, never verified.
 */
static int mc_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    const struct wl_known *k = mc_recorded(job);
    char a[48];
    uint64_t want;
    int r;
    if (t->sum != job->size) {
        snprintf(why, n, "%s of %llu points tested", wl_u128_str(t->sum, a, sizeof a),
                 (unsigned long long)job->size);
        return -1;
    }
    if (k) {
        if (t->count == k->want[0])
            return 0;
        snprintf(why, n, "%llu hits, but an independent implementation counts %llu for N=%llu seed %llu",
                 (unsigned long long)t->count, (unsigned long long)k->want[0],
                 (unsigned long long)job->size, (unsigned long long)job->seed);
        return -1;
    }
    if ((r = ref_montecarlo(job, &want, why, n)) > 0) {
        if (t->count == want)
            return 0;
        snprintf(why, n, "%llu hits, but the independent recomputation counts %llu for N=%llu seed %llu",
                 (unsigned long long)t->count, (unsigned long long)want,
                 (unsigned long long)job->size, (unsigned long long)job->seed);
        return -1;
    }
    double pi = mc_pi(job, t), z = fabs(pi - M_PI) / mc_sigma(job);
    if (z > 5.0) {
        snprintf(why, n, "pi estimate %.8f is %.1f standard errors from pi (limit 5)", pi, z);
        return -1;
    }
    return WL_UNCHECKED;   /* why: over the limit, or no memory */
}

const struct workload wl_montecarlo = {
    .name = "montecarlo",
    .summary = "estimate pi from N counter-based random points (CPU, balanced)",
    .kind = WL_CPU,
    .default_size = 100000000,
    .split = WL_SPLIT_RANGE,
    .default_tasks = 64,
    .default_steps = 1,
    .min_size = 100,
    .max_size = 1ull << 50,
    .sizes = { .test = 20000, .tiny = 200000, .quick = 120000000, .bench = 200000000,
               .full = 400000000, .weak = 100000000 },
    .check = WL_CHECK_INDEPENDENT,
    .check_how = MC_INDEPENDENT_HOW,
    .check_for = mc_check,
    .unit = "point",
    .run_task = mc_task,
    .flags = WL_COMBINE_ANY_ORDER | WL_WORK_LINEAR,   /* integer fields only; N points */
    .combine = wl_combine_add,
    .format = wl_format_count,
    .describe = mc_describe,
    .verify = mc_verify,
};
