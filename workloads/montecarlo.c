/* montecarlo.c: estimate pi from N random points in the unit square (CPU, balanced).
 * Point i takes its coordinates from counter i of the seed's stream, and the hit test is
 * exact integer arithmetic, so the hit count is bit-identical under every runner,
 * schedule and task count, and in any language that repeats rng.h. */
#include <math.h>
#include <stdio.h>
#include "rng.h"
#include "workload.h"

static void mc_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    uint64_t lo, hi, key = rng_key(job->seed), hits = 0;
    (void)step;
    wl_task_range(job->size, job->tasks, task, &lo, &hi);
    for (uint64_t i = lo; i < hi; i++) {
        uint64_t r = rng_at(key, i);
        uint64_t x = r >> 32, y = r & 0xffffffffu;
        /* (x, y) / 2^32 lies in the circle when x^2 + y^2 < 2^64, i.e. when the 64-bit
         * sum does not wrap. */
        uint64_t xx = x * x, s = xx + y * y;
        hits += (uint64_t)(s >= xx);
    }
    *out = (struct partial){ .count = hits };
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

static int mc_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    double pi = mc_pi(job, t), z = fabs(pi - M_PI) / mc_sigma(job);
    if (z <= 5.0)
        return 1;
    snprintf(why, n, "pi estimate %.8f is %.1f standard errors from pi (limit 5)", pi, z);
    return 0;
}

const struct workload wl_montecarlo = {
    .name = "montecarlo",
    .summary = "estimate pi from N counter-based random points (CPU, balanced)",
    .kind = WL_CPU,
    .default_size = 100000000,
    .default_tasks = 64,
    .min_size = 100,
    .max_size = 1ull << 50,
    .check = "5-sigma",
    .run_task = mc_task,
    .flags = WL_COMBINE_ANY_ORDER,   /* integer fields only */
    .combine = wl_combine_add,
    .format = wl_format_count,
    .describe = mc_describe,
    .verify = mc_verify,
};
