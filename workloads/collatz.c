/* collatz.c: the n below N whose Collatz sequence takes the most steps to reach 1
 * (CPU, irregular: neighbouring numbers differ wildly in cost). */
#include <stdio.h>
#include "workload.h"

static uint64_t steps_of(uint64_t n)
{
    uint64_t s = 0;
    while (n > 1) {
        n = n & 1 ? 3 * n + 1 : n / 2;
        s++;
    }
    return s;
}

/* count: the most steps in the range; sum: the smallest n that takes them. */
static void collatz_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    uint64_t lo, hi, best = 0, arg = 1;
    (void)step;
    wl_task_range(job->size, job->tasks, task, &lo, &hi);
    for (uint64_t n = lo ? lo : 1; n < hi; n++) {
        uint64_t s = steps_of(n);
        if (s > best) {
            best = s;
            arg = n;
        }
    }
    *out = (struct partial){ .count = best, .sum = arg };
}

/* In task order, so that ties keep the smallest n. */
static void collatz_combine(struct partial *acc, const struct partial *part)
{
    if (part->count > acc->count || acc->sum == 0) {
        acc->count = part->count;
        acc->sum = part->sum;
    }
    acc->err |= part->err;
}

static void collatz_format(const struct job *job, const struct partial *t, char *buf, size_t n)
{
    (void)job;
    snprintf(buf, n, "%llu:%llu", (unsigned long long)t->sum, (unsigned long long)t->count);
}

/* The record holders below 10^k (OEIS A006877 with their step counts, A006577). */
static const struct { uint64_t n, arg, steps; } known[] = {
    { 10, 9, 19 }, { 100, 97, 118 }, { 1000, 871, 178 }, { 10000, 6171, 261 },
    { 100000, 77031, 350 }, { 1000000, 837799, 524 }, { 10000000, 8400511, 685 },
};

static int collatz_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].n == job->size) {
            if (t->sum == known[i].arg && t->count == known[i].steps)
                return 1;
            snprintf(why, n, "found %llu with %llu steps, OEIS gives %llu with %llu",
                     (unsigned long long)t->sum, (unsigned long long)t->count,
                     (unsigned long long)known[i].arg, (unsigned long long)known[i].steps);
            return 0;
        }
    return -1;
}

const struct workload wl_collatz = {
    .name = "collatz",
    .summary = "the n below N with the longest Collatz sequence (CPU, irregular)",
    .kind = WL_CPU,
    .split = WL_SPLIT_RANGE,
    .default_size = 1000000,
    .default_tasks = 64,
    .default_steps = 1,
    .min_size = 2,
    .max_size = 100000000,
    .sizes = { .test = 10000, .tiny = 10000, .quick = 1000000, .bench = 1000000,
               .full = 10000000 },
    .check = "known",
    .check_how = "equal to the record holder OEIS A006877 gives for this size",
    .run_task = collatz_task,
    .combine = collatz_combine,
    .format = collatz_format,
    .verify = collatz_verify,
};
