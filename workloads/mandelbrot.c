/* mandelbrot.c: escape-time iterations over a square image of N pixels (CPU,
 * imbalanced: rows through the set cost up to MAXITER per pixel, rows outside a few).
 * A task renders a band of rows. The checksum weights each pixel's count by its
 * position, so a row computed twice or in the wrong place changes it. */
#include <math.h>
#include <stdio.h>
#include "workload.h"

#define MAXITER 500

static uint64_t side_of(uint64_t n)
{
    uint64_t s = (uint64_t)sqrt((double)n);
    while (s * s > n)
        s--;
    while ((s + 1) * (s + 1) <= n)
        s++;
    return s;
}

static void mandel_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    uint64_t side = side_of(job->size), lo, hi, iters = 0;
    unsigned __int128 sum = 0;
    (void)step;
    wl_task_range(side, job->tasks, task, &lo, &hi);
    for (uint64_t row = lo; row < hi; row++) {
        double ci = -1.25 + 2.5 * (double)row / (double)side;
        for (uint64_t col = 0; col < side; col++) {
            double cr = -2.0 + 2.5 * (double)col / (double)side;
            double zr = 0, zi = 0;
            unsigned k = 0;
            while (k < MAXITER && zr * zr + zi * zi <= 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                k++;
            }
            iters += k;
            sum += (unsigned __int128)k * (row * side + col + 1);
        }
    }
    *out = (struct partial){ .count = iters, .sum = sum };
}

static void mandel_format(const struct job *job, const struct partial *t, char *buf, size_t n)
{
    (void)job;
    wl_u128_str(t->sum, buf, n);
}

static void mandel_describe(const struct job *job, const struct partial *t, char *buf, size_t n)
{
    uint64_t side = side_of(job->size);
    char s[48];
    snprintf(buf, n, "%llux%llu image, %llu iterations, checksum %s",
             (unsigned long long)side, (unsigned long long)side,
             (unsigned long long)t->count, wl_u128_str(t->sum, s, sizeof s));
}

/* Checksums of this exact rendering at sizes where an independent implementation (the
 * same loop in Python, double precision) gave the same numbers. Any other size is
 * checked against the seq runner. */
static const struct { uint64_t n, iters; unsigned long long sum; } known[] = {
    { 10000, 1274347, 6457915214ull },
};

static int mandel_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (known[i].n == job->size) {
            if (t->count == known[i].iters && t->sum == known[i].sum)
                return 1;
            snprintf(why, n, "checksum differs from the recorded one for N=%llu",
                     (unsigned long long)job->size);
            return 0;
        }
    return -1;
}

const struct workload wl_mandelbrot = {
    .name = "mandelbrot",
    .summary = "escape-time Mandelbrot image of N pixels, bands of rows (CPU, imbalanced)",
    .kind = WL_CPU,
    .default_size = 1000000,
    .default_tasks = 64,
    .min_size = 1,
    .max_size = 1ull << 36,
    .check = "known",
    .run_task = mandel_task,
    .flags = WL_COMBINE_ANY_ORDER,   /* integer fields only */
    .combine = wl_combine_add,
    .format = mandel_format,
    .describe = mandel_describe,
    .verify = mandel_verify,
};
