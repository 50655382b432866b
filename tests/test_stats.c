/* test_stats.c: the summaries of repeated samples and their text for people (stats.h):
 * mean, sample deviation and quantiles, units scaled to the value, and the noise rule the
 * experiments' conclusions rest on. */
#include <CUnit/CUnit.h>
#include <math.h>
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
    CU_ASSERT_STRING_EQUAL(stats_fmt_value(buf, sizeof buf, 1.954, UNIT_X), "1.95x");
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
    CU_ASSERT_STRING_EQUAL(stats_fmt_mean_sd(buf, sizeof buf, &s, UNIT_X), "1.95x ± 0.071");
    CU_ASSERT_STRING_EQUAL(stats_fmt_range(buf, sizeof buf, &s, UNIT_X), "1.90x … 2.00x");
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

CU_TestInfo tests_stats[] = {
    { "mean, sample deviation and quantiles", test_summary },
    { "units scaled to the value", test_units_scale },
    { "mean ± σ and min … max in the mean's unit", test_mean_sd_range },
    { "beyond the noise: ranges apart and means 5% apart", test_differ },
    CU_TEST_INFO_NULL,
};
