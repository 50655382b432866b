/* primes.c: count the primes below N by trial division. Imbalanced on purpose: a task's
 * cost grows with its numbers, so the last range is the most expensive. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* pi(N), the number of primes below N: published values (OEIS A006880 and the tables of
 * pi(x)), for the sizes people run. Any other N is counted by the sieve below. */
static const struct wl_known known[] = {
    { 10, 0, 0, { 4 } }, { 100, 0, 0, { 25 } }, { 1000, 0, 0, { 168 } },
    { 10000, 0, 0, { 1229 } }, { 100000, 0, 0, { 9592 } }, { 1000000, 0, 0, { 78498 } },
    { 2000000, 0, 0, { 148933 } }, { 5000000, 0, 0, { 348513 } },
    { 10000000, 0, 0, { 664579 } }, { 100000000, 0, 0, { 5761455 } },
};

#define SIEVE_SEG (1u << 17)    /* odd numbers per segment: 128 KiB, about L2 */

/*
 * pi(n) by a segmented sieve of Eratosthenes over the odd numbers: a method that shares
 * nothing with trial division, so a bug in one does not repeat in the other. It takes
 * O(n log log n) time against trial division's O(n^1.5 / log n): at the bench size (3M)
 * about 1% of one seq run, and a smaller share the larger n is. Memory: one segment and
 * the primes up to sqrt(n). -1 if that memory cannot be had.
 */
static int64_t pi_sieve(uint64_t n)
{
    if (n < 3)
        return 0;
    uint64_t root = (uint64_t)sqrt((double)n);
    while (root * root < n)
        root++;
    /* the odd primes up to root (those with p*p < n matter), by a plain sieve of the odd
     * numbers: index i stands for 2i+1 */
    uint64_t nodd = root / 2 + 1, np = 0;
    unsigned char *small = calloc(nodd, 1), *seg = malloc(SIEVE_SEG);
    uint32_t *p = malloc(nodd * sizeof *p);
    int64_t count = 1;            /* 2 */
    if (!small || !seg || !p) {
        count = -1;
        goto out;
    }
    for (uint64_t i = 1; i < nodd; i++) {
        if (small[i])
            continue;
        uint64_t q = 2 * i + 1;
        p[np++] = (uint32_t)q;
        for (uint64_t j = q * q / 2; j < nodd; j += q)
            small[j] = 1;
    }
    /* segments of odd numbers 2k+1 for k in [lo, lo+SIEVE_SEG), from 3 up to n-1 */
    uint64_t kmax = (n - 2) / 2 + 1;             /* odd numbers below n: 2k+1 < n */
    for (uint64_t lo = 1; lo < kmax; lo += SIEVE_SEG) {
        uint64_t len = kmax - lo < SIEVE_SEG ? kmax - lo : SIEVE_SEG;
        uint64_t first = 2 * lo + 1, last = 2 * (lo + len) - 1;
        memset(seg, 0, len);
        for (uint64_t i = 0; i < np; i++) {
            uint64_t q = p[i], m = q * q;
            if (m > last)
                break;
            if (m < first) {                     /* the first odd multiple of q >= first */
                m = (first + q - 1) / q * q;
                if (m % 2 == 0)
                    m += q;
            }
            for (uint64_t k = (m - 1) / 2 - lo; k < len; k += q)
                seg[k] = 1;
        }
        for (uint64_t k = 0; k < len; k++)
            count += !seg[k];
    }
out:
    free(small);
    free(seg);
    free(p);
    return count;
}

static const char *primes_check(const struct job *job, const char **how)
{
    if (WL_KNOWN_FIND(known, job->size, 0, 0)) {
        *how = "equal to the published value of pi(N) for this size";
        return "known";
    }
    *how = "equal to the count of a segmented sieve of Eratosthenes";
    return "sieve";
}

static int primes_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    const struct wl_known *k = WL_KNOWN_FIND(known, job->size, 0, 0);
    int64_t want = k ? (int64_t)k->want[0] : pi_sieve(job->size);
    if (want < 0)
        return -ENOMEM;    /* no memory for the sieve: only seq can vouch */
    if (t->count == (uint64_t)want)
        return 0;
    snprintf(why, n, "counted %llu primes below %llu, %s gives %lld",
             (unsigned long long)t->count, (unsigned long long)job->size,
             k ? "the published pi(N)" : "a sieve of Eratosthenes", (long long)want);
    return -1;
}

const struct workload wl_primes = {
    .name = "primes",
    .summary = "count primes below N by trial division (CPU, imbalanced)",
    .kind = WL_CPU,
    .default_size = 2000000,
    .split = WL_SPLIT_RANGE,
    .default_tasks = 64,
    .default_steps = 1,
    .min_size = 1,
    .max_size = 1000000000000ull,
    .sizes = { .test = 10000, .tiny = 20000, .quick = 2300000, .bench = 3000000,
               .full = 5000000, .weak = 1000000 },
    .check = "known",
    .check_how = "equal to the published value of pi(N) for this size",
    .check_for = primes_check,
    .unit = "number tested",
    /* only sizes with a published pi(N): every timed run of make compare verifies */
    .ladder = "10000 100000 1000000 2000000 5000000 10000000 100000000",
    .run_task = primes_task,
    .flags = WL_COMBINE_ANY_ORDER,   /* integer fields only */
    .combine = wl_combine_add,
    .format = wl_format_count,
    .verify = primes_verify,
};
