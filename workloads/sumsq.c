/* sumsq.c: the sum of i^2 for 0 <= i < N, exact in 128 bits (CPU, balanced).
 *
 * Why 128 bits: the sum is (N-1)N(2N-1)/6, about N^3/3. That passes 2^64 (about
 * 1.8e19) once N is about 3.8 million, so a 64-bit accumulator silently wraps for
 * N = 5,000,000 (the true sum is 4.2e19). Each square still fits in 64 bits while
 * i < 2^32, so only the accumulator needs to be wide. */
#include <stdio.h>
#include "workload.h"

static void sumsq_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    uint64_t lo, hi;
    unsigned __int128 s = 0;
    (void)step;
    wl_task_range(job->size, job->tasks, task, &lo, &hi);
    for (uint64_t i = lo; i < hi; i++) {
        uint64_t k = i;
        /* Hide k's progression from the optimiser, which could otherwise replace the
         * loop by the closed form and time nothing. */
        __asm__ volatile("" : "+r"(k));
        s += (unsigned __int128)(k * k);
    }
    *out = (struct partial){ .sum = s };
}

/* (N-1)N(2N-1)/6 without overflow for any N the workload accepts. */
static unsigned __int128 sumsq_closed(uint64_t n)
{
    if (n == 0)
        return 0;
    unsigned __int128 a = n - 1, b = n, c = 2 * (unsigned __int128)n - 1;
    return a * b * c / 6;
}

static void sumsq_format(const struct job *job, const struct partial *t, char *buf, size_t n)
{
    (void)job;
    wl_u128_str(t->sum, buf, n);
}

static int sumsq_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    unsigned __int128 want = sumsq_closed(job->size);
    char a[48], b[48];
    if (t->sum == want)
        return 0;
    snprintf(why, n, "sum is %s, closed form (N-1)N(2N-1)/6 gives %s",
             wl_u128_str(t->sum, a, sizeof a), wl_u128_str(want, b, sizeof b));
    return -1;
}

const struct workload wl_sumsq = {
    .name = "sumsq",
    .summary = "sum of i^2 for i < N, exact in 128 bits (CPU, balanced)",
    .kind = WL_CPU,
    .default_size = 200000000,
    .split = WL_SPLIT_RANGE,
    .default_tasks = 64,
    .default_steps = 1,
    .min_size = 1,
    /* k*k must fit in 64 bits: i < 2^32. */
    .max_size = 4294967296ull,
    .sizes = { .test = 20000, .tiny = 1000000, .quick = 350000000, .bench = 500000000,
               .full = 1000000000, .weak = 250000000 },
    .check = "closed-form",
    .check_how = "equal to the closed form (N-1)N(2N-1)/6",
    .unit = "term",
    .run_task = sumsq_task,
    .flags = WL_COMBINE_ANY_ORDER | WL_WORK_LINEAR,   /* integer fields only; N terms */
    .combine = wl_combine_add,
    .format = sumsq_format,
    .verify = sumsq_verify,
};
