/* spin.c: tasks of a set duration (--grain NS) of verified integer work, to find the
 * smallest task a runner still runs efficiently (scripts/sweep-grain.sh).
 *
 * Task t runs k steps of the 64-bit LCG x <- A*x + C from x = seed + t, and reports the
 * last x. k is calibrated once per job in setup(): the steps one core runs in --grain ns
 * (so the checksum, though always checked, differs from run to run with --grain).
 * The checksum, the sum of every task's x mod 2^64, has a closed form: k steps of the LCG
 * are the affine map x -> A_k*x + C_k, whose coefficients come from composing the one-step
 * map with itself by repeated squaring, O(log k) and without running the loop. Summed over
 * x = seed + t, t < T: A_k*(T*seed + T(T-1)/2) + T*C_k. */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include "workload.h"

#define SPIN_A 6364136223846793005ull   /* Knuth's MMIX multiplier */
#define SPIN_C 1442695040888963407ull
/* Without --grain: a fixed 1024 steps a task (about 1.3 us), so that the answer is the same
 * on every run and machine, as the tests that compare runners want. */
#define SPIN_DEFAULT_STEPS 1024u

static uint64_t spin_chain(uint64_t x, uint64_t k)
{
    for (uint64_t i = 0; i < k; i++) {
        x = x * SPIN_A + SPIN_C;
        /* Hide x from the optimiser, which could otherwise shorten the chain. */
        __asm__ volatile("" : "+r"(x));
    }
    return x;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ns per LCG step on this core: the chain grows until one run takes 2 ms, then the best
 * of three runs of that length (the least disturbed). About 10 ms. */
static double spin_ns_per_step(void)
{
    uint64_t n = 1u << 12, t;
    volatile uint64_t sink;
    for (;;) {
        uint64_t t0 = now_ns();
        sink = spin_chain(n, n);
        t = now_ns() - t0;
        if (t >= 2000000 || n >= (1ull << 40))
            break;
        n *= 2;
    }
    for (int r = 0; r < 3; r++) {
        uint64_t t0 = now_ns();
        sink = spin_chain(r, n);
        uint64_t d = now_ns() - t0;
        if (d < t)
            t = d;
    }
    (void)sink;
    return t > 0 ? (double)t / (double)n : 1.0;
}

static int spin_setup(struct job *job)
{
    if (!job->grain_ns && !job->grain_iters)
        job->grain_iters = SPIN_DEFAULT_STEPS;
    if (!job->grain_iters) {
        double k = (double)job->grain_ns / spin_ns_per_step() + 0.5;
        job->grain_iters = k < 1 ? 1 : (uint64_t)k;
    }
    return 0;
}

static void spin_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    (void)step;
    *out = (struct partial){ .count = 1, .hash = spin_chain(job->seed + task, job->grain_iters) };
}

static void spin_combine(struct partial *acc, const struct partial *part)
{
    acc->count += part->count;
    acc->hash += part->hash;   /* mod 2^64: any order gives the same bits */
    if (!acc->err)
        acc->err = part->err;
}

/* The affine map of k LCG steps, x -> a*x + c, by repeated squaring: (a, c) after
 * (a', c') is (a*a', a*c' + c). */
static void spin_jump(uint64_t k, uint64_t *a, uint64_t *c)
{
    uint64_t ra = 1, rc = 0, pa = SPIN_A, pc = SPIN_C;
    for (; k; k >>= 1) {
        if (k & 1) {
            rc = pa * rc + pc;
            ra = pa * ra;
        }
        pc = pa * pc + pc;
        pa = pa * pa;
    }
    *a = ra;
    *c = rc;
}

static uint64_t spin_closed(const struct job *job)
{
    uint64_t a, c, T = job->tasks;
    spin_jump(job->grain_iters, &a, &c);
    uint64_t tri = (uint64_t)((unsigned __int128)T * (T - 1) / 2);
    return a * (T * job->seed + tri) + T * c;
}

static void spin_format(const struct job *job, const struct partial *t, char *buf, size_t n)
{
    (void)job;
    snprintf(buf, n, "%016llx", (unsigned long long)t->hash);
}

static void spin_describe(const struct job *job, const struct partial *t, char *buf, size_t n)
{
    int k = snprintf(buf, n, "checksum %016llx: %llu tasks of %llu LCG steps",
                     (unsigned long long)t->hash, (unsigned long long)t->count,
                     (unsigned long long)job->grain_iters);
    if (job->grain_ns && k > 0 && (size_t)k < n)
        snprintf(buf + k, n - (size_t)k, " (--grain %llu ns)", (unsigned long long)job->grain_ns);
}

static int spin_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    uint64_t want = spin_closed(job);
    if (t->count != job->tasks) {
        snprintf(why, n, "%llu of %zu tasks reported", (unsigned long long)t->count, job->tasks);
        return -1;
    }
    if (t->hash == want)
        return 0;
    snprintf(why, n, "checksum %016llx, the closed form of %llu LCG steps gives %016llx",
             (unsigned long long)t->hash, (unsigned long long)job->grain_iters,
             (unsigned long long)want);
    return -1;
}

const struct workload wl_spin = {
    .name = "spin",
    .summary = "tasks of --grain ns of integer work each, for the grain sweep (N = the task count)",
    .kind = WL_NONE,
    .default_size = 10000,
    .split = WL_SPLIT_ITEMS,   /* one task per item: -n and -t both give the task count */
    .default_steps = 1,
    .min_size = 1,
    .max_size = 1ull << 32,
    .sizes = { .test = 200 },   /* not in the core sweep: scripts/sweep-grain.sh sweeps it */
    .check = "closed-form",
    .check_how = "equal to the closed form of the LCG's k-step jump, summed over the tasks",
    .flags = WL_COMBINE_ANY_ORDER | WL_GRAIN,   /* integer fields, wrapping sums */
    .setup = spin_setup,
    .run_task = spin_task,
    .combine = spin_combine,
    .format = spin_format,
    .describe = spin_describe,
    .verify = spin_verify,
};
