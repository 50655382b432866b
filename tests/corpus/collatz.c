/* collatz.c: the Collatz step counts of every n in [1, N), summed (CPU, imbalanced).
 * One step takes n to n/2 when n is even and to 3n+1 when it is odd; n = 1 takes 0 steps,
 * n = 3 takes 7 (3 10 5 16 8 4 2 1). Numbers need very different counts, so tasks of
 * equal ranges take unequal times. */
#include <errno.h>
#include <stdio.h>
#include "workload.h"

/* The sums at the sizes the tools run, recorded from a program written apart from this
 * one (docs/adding-a-workload.md shows it and how to confirm them). */
static const struct wl_known known[] = {
    { 10000, 0, 0, { 849637 } },
    { 100000, 0, 0, { 10753712 } },
    { 200000, 0, 0, { 22938473 } },
    { 1000000, 0, 0, { 131434272 } },
    { 2000000, 0, 0, { 277182070 } },
    { 10000000, 0, 0, { 1552724686 } },
};

static void collatz_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    uint64_t lo, hi, steps = 0;
    (void)step;
    wl_task_range(job->size, job->tasks, task, &lo, &hi);
    for (uint64_t n = lo < 1 ? 1 : lo; n < hi; n++)
        for (uint64_t m = n; m != 1; steps++)
            m = m % 2 ? 3 * m + 1 : m / 2;
    *out = (struct partial){ .count = steps };
}

static int collatz_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    const struct wl_known *k = WL_KNOWN_FIND(known, job->size, 0, 0);
    if (!k)
        return -ENOENT;   /* no recorded sum at this size: only seq can vouch for it */
    if (t->count == k->want[0])
        return 0;
    snprintf(why, n, "%llu steps in all; the recorded sum for N = %llu is %llu",
             (unsigned long long)t->count, (unsigned long long)job->size,
             (unsigned long long)k->want[0]);
    return -1;
}

const struct workload wl_collatz = {
    .name = "collatz",
    .summary = "the Collatz step counts of n for n < N, summed (CPU, imbalanced)",
    .kind = WL_CPU,
    .split = WL_SPLIT_RANGE,
    .default_size = 1000000,
    .default_tasks = 64,
    .default_steps = 1,
    .min_size = 1,
    .max_size = 1000000000,   /* below 10^9 no n climbs past 2^64 on its way to 1 */
    .sizes = { .test = 10000, .tiny = 100000, .quick = 1000000, .bench = 2000000,
               .full = 10000000, .weak = 1000000 },
    .check = "recorded",
    .check_how = "equal to the sum recorded for this size",
    .unit = "number",
    .run_task = collatz_task,
    .flags = WL_COMBINE_ANY_ORDER,   /* one integer sum */
    .combine = wl_combine_add,
    .format = wl_format_count,
    .verify = collatz_verify,
};
