/* mandelbrot.c: escape-time iterations over a square image of N pixels (CPU,
 * imbalanced: rows through the set cost up to MAXITER per pixel, rows outside a few).
 * A task renders a band of rows, or, under `--student FILE.so` (lab 1), the rows a
 * student's student_rows gives it. The checksum weights each pixel's count by its
 * position, so a row computed twice or in the wrong place changes it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "reference.h"
#include "workload.h"
#include "../lib/student.h"
#include "../lib/outcome.h"   /* outcome_fatal: a student's bad rows end the run */

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

/* One row of the image into the task's totals. */
static void mandel_row(uint64_t side, uint64_t row, uint64_t *iters, uint64_t *pixels,
                       unsigned __int128 *sum)
{
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
        *iters += k;
        (*pixels)++;
        *sum += (unsigned __int128)k * (row * side + col + 1);
    }
}

/* The rows a student's student_rows gives the task (lab 1), each checked to be a row of
 * the image; rows missed or rendered twice show in mandel_verify. A row outside the image
 * ends the run (exit 1) naming the student's file: there is no pixel to render. */
static void mandel_student_rows(const struct job *job, uint64_t side, size_t task,
                                uint64_t *iters, uint64_t *pixels, unsigned __int128 *sum)
{
    size_t *rows = malloc(side * sizeof *rows);
    if (!rows)
        outcome_fatal(PARLAB_EXIT_OS, "mandelbrot: no memory for %llu row numbers",
                     (unsigned long long)side);
    size_t k = student_rows_fn(task, job->tasks, side, rows);
    if (k > side)
        outcome_fatal(PARLAB_EXIT_WRONG, "%s: student_rows gave task %zu %zu rows of an image "
                     "%llu rows tall", student_source(), task, k, (unsigned long long)side);
    for (size_t i = 0; i < k; i++) {
        if (rows[i] >= side)
            outcome_fatal(PARLAB_EXIT_WRONG, "%s: student_rows gave task %zu row %zu, past the "
                         "last row (%llu)", student_source(), task, rows[i],
                         (unsigned long long)side - 1);
        mandel_row(side, rows[i], iters, pixels, sum);
    }
    free(rows);
}

static void mandel_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    uint64_t side = side_of(job->size), lo, hi, iters = 0, pixels = 0;
    unsigned __int128 sum = 0;
    (void)step;
    if (student_rows_fn) {
        mandel_student_rows(job, side, task, &iters, &pixels, &sum);
    } else {
        wl_task_range(side, job->tasks, task, &lo, &hi);
        for (uint64_t row = lo; row < hi; row++)
            mandel_row(side, row, &iters, &pixels, &sum);
    }
    /* value: the pixels rendered, exact in a double (below 2^53), so that a lost pixel or
     * row shows at every size, not only where a checksum is recorded */
    *out = (struct partial){ .count = iters, .sum = sum, .value = (double)pixels };
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

/*
 * Iterations and checksums of this exact rendering, each computed by
 * peers/python/known_answers.py (the same loop written again in Python, whose floats are
 * IEEE doubles rounded as this build rounds them: -ffp-contract=off) and equal to this
 * file's. Sizes: parlab's default and make bench (1M pixels), QUICK=1 (640000), FULL=1
 * (2M), the tiny bench and the test suites. Any other size is recomputed (reference.c).
 * want[0] is the iteration count, want[1] the checksum.
 */
static const struct wl_known recorded[] = {
    { 2500, 0, 0, { 321312, 412584752 } },             /* tests: runner matrix */
    { 10000, 0, 0, { 1274347, 6457915214 } },          /* bench tiny; tests: workloads */
    { 640000, 0, 0, { 81130268, 26005259239337 } },    /* bench QUICK=1 */
    { 1000000, 0, 0, { 126716491, 63443321494426 } },  /* parlab default; bench */
    { 2000000, 0, 0, { 253367183, 253531032847062 } }, /* bench FULL=1 */
};

#define MANDEL_RECORDED_HOW "equal to the checksum an independent implementation recorded for this size"
#define MANDEL_INDEPENDENT_HOW "every pixel rendered, and iterations and checksum equal to an " \
    "independent recomputation (workloads/reference.c)"

static const char *mandel_check(const struct job *job, const char **how)
{
    if (WL_KNOWN_FIND(recorded, job->size, 0, 0)) {
        *how = MANDEL_RECORDED_HOW;
        return "recorded";
    }
    if (ref_within_limit(job)) {
        *how = MANDEL_INDEPENDENT_HOW;
        return WL_CHECK_INDEPENDENT;
    }
    *how = "every pixel rendered: not enough to vouch for the image";
    return WL_CHECK_OVER_LIMIT;
}

/* Every pixel rendered once (a count), then the iterations and the checksum: equal to the
 * recorded ones, or to those workloads/reference.c recomputes (one pass over the image,
 * outside the timed region). Where that would take longer than the job's limit, the
 * result is WL_UNCHECKED: the pixel count alone cannot see one pixel's iterations. */
static int mandel_verify_image(const struct job *job, const struct partial *t, char *why,
                               size_t n)
{
    const struct wl_known *k = WL_KNOWN_FIND(recorded, job->size, 0, 0);
    uint64_t side = side_of(job->size), iters;
    unsigned __int128 sum;
    char a[48], b[48];
    if (t->value != (double)(side * side)) {
        snprintf(why, n, "%.0f of %llu pixels rendered", t->value,
                 (unsigned long long)(side * side));
        return -1;
    }
    if (k) {
        iters = k->want[0];
        sum = k->want[1];
    } else if (ref_mandelbrot(job, &iters, &sum, why, n) <= 0) {
        return WL_UNCHECKED;   /* why: over the limit */
    }
    if (t->count == iters && t->sum == sum)
        return 0;
    snprintf(why, n, "%llu iterations, checksum %s; %s gives %llu, %s for N=%llu",
             (unsigned long long)t->count, wl_u128_str(t->sum, a, sizeof a),
             k ? "an independent implementation" : "the independent recomputation",
             (unsigned long long)iters, wl_u128_str(sum, b, sizeof b),
             (unsigned long long)job->size);
    return -1;
}

/* Under --student, a wrong image is the student's split: the reason names the file. */
static int mandel_verify(const struct job *job, const struct partial *t, char *why, size_t n)
{
    int v = mandel_verify_image(job, t, why, n);
    if (v == -1 && student_rows_fn) {
        char was[256];
        snprintf(was, sizeof was, "%s", why);
        snprintf(why, n, "%s: student_rows: %s (a row missed or rendered twice)",
                 student_source(), was);
    }
    return v;
}

const struct workload wl_mandelbrot = {
    .name = "mandelbrot",
    .summary = "escape-time Mandelbrot image of N pixels, bands of rows (CPU, imbalanced)",
    .kind = WL_CPU,
    .default_size = 1000000,
    .split = WL_SPLIT_RANGE,
    .default_tasks = 64,
    .default_steps = 1,
    .min_size = 1,
    .max_size = 1ull << 36,
    .sizes = { .test = 2500, .tiny = 10000, .quick = 640000, .bench = 1000000,
               .full = 2000000, .weak = 500000 },
    .check = "recorded",
    .check_how = MANDEL_RECORDED_HOW,
    .check_for = mandel_check,
    .unit = "pixel",
    .run_task = mandel_task,
    .flags = WL_COMBINE_ANY_ORDER,   /* integer fields only */
    .combine = wl_combine_add,
    .format = mandel_format,
    .describe = mandel_describe,
    .verify = mandel_verify,
};
