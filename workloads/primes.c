/* primes.c: count the primes below N by trial division. Imbalanced on purpose: a task's
 * cost grows with its numbers, so the last range is the most expensive. */
#include <stdio.h>
#include "workload.h"

static int is_prime(uint64_t n)
{
    if (n < 2)
        return 0;
    if (n < 4)
        return 1;
    if (n % 2 == 0)
        return 0;
    for (uint64_t d = 3; d * d <= n; d += 2)
        if (n % d == 0)
            return 0;
    return 1;
}

static void primes_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    uint64_t lo, hi, c = 0;
    (void)step;
    wl_task_range(job->size, job->tasks, task, &lo, &hi);
    for (uint64_t n = lo; n < hi; n++)
        c += (uint64_t)is_prime(n);
    *out = (struct partial){ .count = c };
}

/* pi(N): the number of primes below N, for the sizes people run. */
static const struct { uint64_t n, pi; } known[] = {
    { 10, 4 }, { 100, 25 }, { 1000, 168 }, { 10000, 1229 }, { 100000, 9592 },
    { 1000000, 78498 }, { 2000000, 148933 }, { 5000000, 348513 }, { 10000000, 664579 },
    { 100000000, 5761455 },
};

static int primes_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].n == job->size) {
            if (t->count == known[i].pi)
                return 1;
            snprintf(why, n, "counted %llu primes below %llu, expected %llu",
                     (unsigned long long)t->count, (unsigned long long)job->size,
                     (unsigned long long)known[i].pi);
            return 0;
        }
    return -1;
}

const struct workload wl_primes = {
    .name = "primes",
    .summary = "count primes below N by trial division (CPU, imbalanced)",
    .kind = WL_CPU,
    .default_size = 2000000,
    .default_tasks = 64,
    .min_size = 1,
    .max_size = 1000000000000ull,
    .check = "known",
    .run_task = primes_task,
    .flags = WL_COMBINE_ANY_ORDER,   /* integer fields only */
    .combine = wl_combine_add,
    .format = wl_format_count,
    .verify = primes_verify,
};
