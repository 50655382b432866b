/* test_stats.c: parlab's statistics (stats.h): mean, sample deviation and quantiles, units
 * scaled to the value, the noise rule the experiments' conclusions rest on; the bootstrap
 * interval and the Mann-Whitney U test against scipy 1.10's figures, and the verdicts. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../harness/stats.h"

static void test_summary(void)
{
    const double v[] = { 4, 1, 3, 2 };
    struct stats s;
    stats_of(v, 4, &s);
    CU_ASSERT_EQUAL(s.n, 4);
    CU_ASSERT_DOUBLE_EQUAL(s.mean, 2.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s.sd, sqrt(5.0 / 3.0), 1e-12);    /* n - 1 in the divisor */
    CU_ASSERT_DOUBLE_EQUAL(s.median, 2.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s.q1, 1.75, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(s.q3, 3.25, 1e-12);
    CU_ASSERT_EQUAL(s.min, 1);
    CU_ASSERT_EQUAL(s.max, 4);
    CU_ASSERT_EQUAL(v[0], 4);                                 /* the input is left alone */
    stats_of(v, 1, &s);
    CU_ASSERT_EQUAL(s.sd, 0);
    CU_ASSERT_EQUAL(s.mean, 4);
}

static void test_units_scale(void)
{
    static const struct { double ns; const char *text; } t[] = {
        { 12.34, "12.3 ns" }, { 999.9999999, "1.00 µs" }, { 85200, "85.2 µs" },
        { 3.1e6, "3.10 ms" }, { 308.2e6, "308 ms" }, { 2.5e9, "2.50 s" }, { 0, "0 s" },
    };
    char buf[64];
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        stats_fmt_value(buf, sizeof buf, t[i].ns, UNIT_NS);
        CU_ASSERT_STRING_EQUAL(buf, t[i].text);
    }
    CU_ASSERT_STRING_EQUAL(stats_fmt_value(buf, sizeof buf, 1536, UNIT_KIB), "1.50 MiB");
    CU_ASSERT_STRING_EQUAL(stats_fmt_value(buf, sizeof buf, 37, UNIT_COUNT), "37");
    CU_ASSERT_STRING_EQUAL(stats_fmt_value(buf, sizeof buf, 1.954, UNIT_X), "1.95×");
}

static void test_mean_sd_range(void)
{
    const double v[] = { 301.5e6, 302.4e6, 303.5e6 };
    struct stats s;
    char buf[96];
    stats_of(v, 3, &s);
    /* One unit for all three, the mean's: hyperfine's "302.5 ms ± 1.0 ms". */
    CU_ASSERT_STRING_EQUAL(stats_fmt_mean_sd(buf, sizeof buf, &s, UNIT_NS), "302 ms ± 1.0 ms");
    CU_ASSERT_STRING_EQUAL(stats_fmt_range(buf, sizeof buf, &s, UNIT_NS), "302 ms … 304 ms");
    CU_ASSERT_STRING_EQUAL(stats_fmt_summary(buf, sizeof buf, &s, UNIT_NS),
                           "302 ms ± 1.0 ms (302 ms … 304 ms, 3 runs)");
    stats_of(v, 1, &s);
    CU_ASSERT_STRING_EQUAL(stats_fmt_mean_sd(buf, sizeof buf, &s, UNIT_NS), "302 ms");
    CU_ASSERT_STRING_EQUAL(stats_fmt_summary(buf, sizeof buf, &s, UNIT_NS), "302 ms (1 run)");
    CU_ASSERT_EQUAL(stats_text_width("± …"), 3);
    const double x[] = { 1.9, 2.0 };
    stats_of(x, 2, &s);
    CU_ASSERT_STRING_EQUAL(stats_fmt_mean_sd(buf, sizeof buf, &s, UNIT_X), "1.95× ± 0.071");
    CU_ASSERT_STRING_EQUAL(stats_fmt_range(buf, sizeof buf, &s, UNIT_X), "1.90× … 2.00×");
}

static void test_differ(void)
{
    const double lo[] = { 10, 11, 12 }, hi[] = { 20, 21, 22 }, mid[] = { 11.5, 20, 30 },
                 x[] = { 100, 101, 102 }, y[] = { 103, 104, 105 };
    struct stats a, b, c, sx, sy;
    stats_of(lo, 3, &a);
    stats_of(hi, 3, &b);
    stats_of(mid, 3, &c);
    stats_of(x, 3, &sx);
    stats_of(y, 3, &sy);
    CU_ASSERT_EQUAL(stats_differ(&b, &a), 1);
    CU_ASSERT_EQUAL(stats_differ(&a, &b), -1);
    CU_ASSERT_EQUAL(stats_differ(&c, &a), 0);   /* the ranges overlap: within the noise */
    CU_ASSERT_EQUAL(stats_differ(&a, &a), 0);
    CU_ASSERT_EQUAL(stats_differ(&sy, &sx), 0); /* apart, but the means by 3%: too close */
    stats_of(y, 1, &sy);                        /* one run each: only the 5% decides */
    stats_of(x, 1, &sx);
    CU_ASSERT_EQUAL(stats_differ(&sy, &sx), 0);
    stats_of(hi, 1, &b);
    CU_ASSERT_EQUAL(stats_differ(&b, &sx), -1);
}

/*
 * The Mann-Whitney figures below are scipy 1.10.1's (Debian's python3-scipy):
 *   /usr/bin/python3 -c 'from scipy.stats import mannwhitneyu; \
 *     r = mannwhitneyu(X, Y, alternative="two-sided", method="auto"); \
 *     print(repr(float(r.statistic)), repr(float(r.pvalue)))'
 * with X and Y the samples of each row; "big" is
 *   X = [1 + 0.1*((i*37) % 23) + 0.001*i for i in range(20)]
 *   Y = [1.2 + 0.1*((j*29) % 19) + 0.0013*j for j in range(25)]
 * which big_samples() builds with the same operations, so the doubles are the same.
 */
#define MAXN 32
static const struct {
    const char *name;
    double x[MAXN], y[MAXN];
    int nx, ny;
    double u1, p;
    enum mwu_method method;
} mwu_cases[] = {
    { "exact, 9 and 7", { 1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30 },
      { 0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.15 }, 9, 7, 50.0, 0.0548951048951049,
      MWU_EXACT },
    { "exact, wholly apart", { 3.1, 2.9, 3.4, 3.0, 3.3 }, { 2.0, 2.2, 1.9, 2.1, 2.3 }, 5, 5,
      25.0, 0.007936507936507936, MWU_EXACT },
    { "exact, overlapping", { 10, 12, 15, 9, 11, 14 }, { 13, 8, 16, 7.5 }, 6, 4, 14.0,
      0.7619047619047619, MWU_EXACT },
    { "exact, 3 and 12", { 5.5, 7.25, 9.1 }, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 }, 3, 12,
      21.0, 0.734065934065934, MWU_EXACT },
    { "ties: asymptotic", { 1, 2, 2, 3, 4, 5, 5 }, { 2, 3, 3, 6, 7, 7, 8, 9 }, 7, 8, 12.0,
      0.07029422941876672, MWU_ASYMPTOTIC },
};

static void big_samples(double *x, double *y)
{
    for (int i = 0; i < 20; i++)
        x[i] = 1 + 0.1 * ((i * 37) % 23) + 0.001 * i;
    for (int j = 0; j < 25; j++)
        y[j] = 1.2 + 0.1 * ((j * 29) % 19) + 0.0013 * j;
}

static void test_mwu_scipy(void)
{
    double u1, p, x[20], y[25];
    enum mwu_method m;
    for (size_t i = 0; i < sizeof mwu_cases / sizeof mwu_cases[0]; i++) {
        p = stats_mwu(mwu_cases[i].x, mwu_cases[i].nx, mwu_cases[i].y, mwu_cases[i].ny, &u1, &m);
        CU_ASSERT_EQUAL(m, mwu_cases[i].method);
        CU_ASSERT_DOUBLE_EQUAL(u1, mwu_cases[i].u1, 1e-12);
        double tol = (m == MWU_EXACT ? 1e-9 : 1e-6) * mwu_cases[i].p;
        CU_ASSERT_DOUBLE_EQUAL(p, mwu_cases[i].p, tol);
        /* Two-sided: the order of the samples does not matter. */
        CU_ASSERT_DOUBLE_EQUAL(stats_mwu(mwu_cases[i].y, mwu_cases[i].ny, mwu_cases[i].x,
                                         mwu_cases[i].nx, NULL, NULL), p, 1e-12);
    }
    big_samples(x, y);   /* both above 8: asymptotic */
    p = stats_mwu(x, 20, y, 25, &u1, &m);
    CU_ASSERT_EQUAL(m, MWU_ASYMPTOTIC);
    CU_ASSERT_DOUBLE_EQUAL(u1, 263.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(p, 0.7752456918402622, 1e-6 * 0.7752456918402622);
    /* Nothing to rank, or all of it the same: no evidence, p = 1. */
    CU_ASSERT_EQUAL(stats_mwu(x, 0, y, 25, NULL, NULL), 1);
    const double same[] = { 4, 4, 4 };
    CU_ASSERT_EQUAL(stats_mwu(same, 3, same, 3, NULL, NULL), 1);
}

/*
 * scipy's percentile intervals, from
 *   /usr/bin/python3 -c 'import numpy as np; from scipy.stats import bootstrap; \
 *     r = bootstrap((A, B), lambda x, y, axis: np.mean(x, axis=axis) / np.mean(y, axis=axis), \
 *       method="percentile", n_resamples=10000, random_state=1, vectorized=True); \
 *     print(r.confidence_interval)'
 * The random streams differ, so the endpoints agree only as far as 10,000 resamples pin a
 * percentile: seeds 1, 2 and 3 moved scipy's own endpoints by up to 0.5% (0.8% at 3 a side,
 * where the resampled ratios take few values). Within 2% of scipy's is the bar.
 */
static const struct {
    const char *name;
    double a[MAXN], b[MAXN];
    int n;
    double ratio, lo, hi;
} boot_cases[] = {
    { "10 a side, speedup ~2",
      { 2.01, 1.98, 2.05, 1.97, 2.10, 2.02, 1.99, 2.04, 2.00, 2.03 },
      { 1.02, 1.05, 0.99, 1.10, 1.01, 1.03, 1.04, 0.98, 1.00, 1.07 }, 10,
      1.9620991253644313, 1.9152380952380952, 2.008858267716535 },
    { "5 a side, noisy", { 1.2, 1.5, 1.1, 1.9, 1.4 }, { 1.0, 1.3, 0.9, 1.1, 1.6 }, 5,
      1.2033898305084743, 0.9393939393939393, 1.5471698113207546 },
    { "3 a side", { 3.0, 3.3, 2.8 }, { 1.5, 1.9, 1.6 }, 3, 1.8199999999999998,
      1.5925925925925926, 2.0869565217391304 },
};

static void test_bootstrap_scipy(void)
{
    for (size_t i = 0; i < sizeof boot_cases / sizeof boot_cases[0]; i++) {
        double lo, hi, lo2, hi2, n = boot_cases[i].n;
        double r = stats_ratio_ci(boot_cases[i].a, (int)n, boot_cases[i].b, (int)n,
                                  STATS_BOOT_B, STATS_BOOT_SEED, 0.95, &lo, &hi);
        CU_ASSERT_DOUBLE_EQUAL(r, boot_cases[i].ratio, 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(lo, boot_cases[i].lo, 0.02 * boot_cases[i].lo);
        CU_ASSERT_DOUBLE_EQUAL(hi, boot_cases[i].hi, 0.02 * boot_cases[i].hi);
        CU_ASSERT(lo < r && r < hi);
        /* The same data and seed, the same interval: a verdict can be rerun. */
        stats_ratio_ci(boot_cases[i].a, (int)n, boot_cases[i].b, (int)n, STATS_BOOT_B,
                       STATS_BOOT_SEED, 0.95, &lo2, &hi2);
        CU_ASSERT_EQUAL(lo, lo2);
        CU_ASSERT_EQUAL(hi, hi2);
    }
    double lo, hi;
    const double zero[] = { 0, 0, 0 }, one[] = { 1, 1, 1 };
    CU_ASSERT(isnan(stats_ratio_ci(one, 3, zero, 3, 100, 1, 0.95, &lo, &hi)));
    CU_ASSERT(isnan(lo) && isnan(hi));
    CU_ASSERT(isnan(stats_ratio_ci(one, 0, one, 3, 100, 1, 0.95, &lo, &hi)));
}

/* A normal deviate from the test's own stream (Box-Muller), for the coverage check. */
static double normal(uint64_t *state)
{
    uint64_t z1 = (*state += 0x9e3779b97f4a7c15ull), z2 = (*state += 0x9e3779b97f4a7c15ull);
    z1 = (z1 ^ (z1 >> 30)) * 0xbf58476d1ce4e5b9ull;
    z1 = (z1 ^ (z1 >> 27)) * 0x94d049bb133111ebull;
    z2 = (z2 ^ (z2 >> 30)) * 0xbf58476d1ce4e5b9ull;
    z2 = (z2 ^ (z2 >> 27)) * 0x94d049bb133111ebull;
    double u1 = ((z1 ^ (z1 >> 31)) >> 11) * 0x1p-53, u2 = ((z2 ^ (z2 >> 31)) >> 11) * 0x1p-53;
    return sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
}

/* Coverage: of 200 pairs of samples (10 a side, 5% noise) whose true speedup is 2, the 95%
 * interval holds 2 about 95% of the time. The percentile method runs a little short at
 * small n; anything from 85% to 99% is sane, and the draws are seeded, so it is one
 * fixed figure (184 of 200, 92%, when written). */
static void test_bootstrap_coverage(void)
{
    uint64_t st = 42;
    int held = 0, reps = 200;
    for (int r = 0; r < reps; r++) {
        double a[10], b[10], lo, hi;
        for (int i = 0; i < 10; i++) {
            a[i] = 2 * (1 + 0.05 * normal(&st));
            b[i] = 1 * (1 + 0.05 * normal(&st));
        }
        stats_ratio_ci(a, 10, b, 10, STATS_BOOT_B, (uint64_t)r + 1, 0.95, &lo, &hi);
        held += lo <= 2 && 2 <= hi;
    }
    CU_ASSERT(held >= reps * 85 / 100);
    CU_ASSERT(held <= reps * 99 / 100);
}

/* The verdict on "the runner is faster than seq" (speedup = seq / runner above 1). */
static enum verdict judge(const double *seq, const double *run, int n, double bound,
                          const double *other, struct verdict_out *out)
{
    struct verdict_in in = { .a = seq, .b = run, .na = n, .nb = n, .bound = bound, .above = 1,
                             .what = "speedup", .other_cpu = other, .nother = other ? 2 * n : 0 };
    return stats_verdict(&in, out);
}

static void test_verdicts(void)
{
    struct verdict_out v;
    const double seq[] = { 2.01, 1.98, 2.05, 1.97, 2.10, 2.02, 1.99, 2.04, 2.00, 2.03 };
    const double fast[] = { 1.02, 1.05, 0.99, 1.10, 1.01, 1.03, 1.04, 0.98, 1.00, 1.07 };
    const double slow[] = { 2.51, 2.48, 2.55, 2.47, 2.60, 2.52, 2.49, 2.54, 2.50, 2.53 };
    const double wide[] = { 1.0, 2.6, 1.2, 3.0, 1.1, 2.9, 1.3, 2.8, 1.05, 2.7 };
    double quiet[20] = { 0 }, busy[20];
    for (int i = 0; i < 20; i++)
        busy[i] = i < 16 ? 1.1 : 0.05;

    /* Clear pass: about 1.96x, the interval well above 1, the ranks wholly apart. */
    CU_ASSERT_EQUAL(judge(seq, fast, 10, 1.0, quiet, &v), VERDICT_PASS);
    CU_ASSERT(v.lo > 1.9 && v.hi < 2.05 && v.p < 1e-3);
    CU_ASSERT_PTR_NOT_NULL(strstr(v.reason, "95% CI of the speedup ["));
    CU_ASSERT_STRING_EQUAL(v.hint, "");
    /* A busy machine does not spoil a pass: the load can only have hidden a speedup. */
    CU_ASSERT_EQUAL(judge(seq, fast, 10, 1.0, busy, &v), VERDICT_PASS);
    /* Clear fail on a quiet machine: the runner is slower, beyond the uncertainty. */
    CU_ASSERT_EQUAL(judge(seq, slow, 10, 1.0, quiet, &v), VERDICT_FAIL);
    CU_ASSERT(v.hi < 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(v.reason, "lies below the bound 1"));
    CU_ASSERT_EQUAL(judge(seq, slow, 10, 1.0, NULL, &v), VERDICT_FAIL);   /* no meter */
    /* The same data on a busy machine: inconclusive, and it says why and what to do. */
    CU_ASSERT_EQUAL(judge(seq, slow, 10, 1.0, busy, &v), VERDICT_INCONCLUSIVE);
    CU_ASSERT_STRING_EQUAL(v.reason, "machine busy: other processes used 1.1 CPU during 16 of "
                                     "20 runs");
    CU_ASSERT_PTR_NOT_NULL(strstr(v.hint, "quiet"));
    /* An interval that spans the bound. */
    CU_ASSERT_EQUAL(judge(seq, wide, 10, 1.0, quiet, &v), VERDICT_INCONCLUSIVE);
    CU_ASSERT(v.lo < 1 && v.hi > 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(v.reason, "spans the bound 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(v.hint, "--repeat"));
    /* A bound the data cannot settle: 1.96x against a claim of "above 1.96". */
    CU_ASSERT_EQUAL(judge(seq, fast, 10, 1.96, quiet, &v), VERDICT_INCONCLUSIVE);
    /* Too few runs: no guess, even with samples wholly apart. */
    CU_ASSERT_EQUAL(judge(seq, fast, 2, 1.0, quiet, &v), VERDICT_INCONCLUSIVE);
    CU_ASSERT_STRING_EQUAL(v.reason, "2 runs per side; at least 3 needed");
    CU_ASSERT(isnan(v.lo) && isnan(v.hi) && v.ratio > 1.9);   /* a ratio, but no interval */
    CU_ASSERT_PTR_NOT_NULL(strstr(v.hint, "--repeat"));
    /* From STATS_MIN_INTERVAL runs the interval speaks; the rank test only from
     * STATS_MIN_RANK (p is NAN below it). */
    CU_ASSERT_EQUAL(judge(seq, fast, STATS_MIN_INTERVAL, 1.0, quiet, &v), VERDICT_PASS);
    CU_ASSERT(isnan(v.p));
    judge(seq, fast, STATS_MIN_RANK, 1.0, quiet, &v);
    CU_ASSERT(v.p > 0 && v.p < STATS_ALPHA);
    /* The claim "below": an efficiency under 0.5 is the same rule mirrored. */
    struct verdict_in in = { .a = fast, .b = seq, .na = 10, .nb = 10, .bound = 0.6,
                             .above = 0, .what = "ratio" };
    CU_ASSERT_EQUAL(stats_verdict(&in, &v), VERDICT_PASS);
    in.bound = 0.4;
    CU_ASSERT_EQUAL(stats_verdict(&in, &v), VERDICT_FAIL);
    CU_ASSERT_STRING_EQUAL(stats_verdict_name(VERDICT_INCONCLUSIVE), "inconclusive");
}

CU_TestInfo tests_stats[] = {
    { "mean, sample deviation and quantiles", test_summary },
    { "units scaled to the value", test_units_scale },
    { "mean ± σ and min … max in the mean's unit", test_mean_sd_range },
    { "beyond the noise: ranges apart and means 5% apart", test_differ },
    { "Mann-Whitney U: scipy's statistic and p, exact and asymptotic", test_mwu_scipy },
    { "bootstrap interval of a ratio: scipy's percentile interval", test_bootstrap_scipy },
    { "bootstrap interval: coverage near 95%", test_bootstrap_coverage },
    { "verdicts: pass, fail, spanning, busy, too few runs", test_verdicts },
    CU_TEST_INFO_NULL,
};
