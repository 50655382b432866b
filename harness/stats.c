/* stats.c: summaries of repeated samples and their text for people (see stats.h). */
#include "stats.h"
#include "harness.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile of sorted v by linear interpolation (type 7). */
static double quantile(const double *v, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)pos;
    if (i >= n - 1)
        return v[n - 1];
    return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

void stats_of(const double *v, int n, struct stats *s)
{
    double small[64];
    double *w = n <= 64 ? small : malloc((size_t)n * sizeof *w);
    memset(s, 0, sizeof *s);
    s->n = n;
    if (n < 1)
        return;
    stats_mean_sd(v, n, &s->mean, &s->sd);      /* the one mean and deviation (output.c) */
    if (!w) {                      /* no memory for the order statistics: the extremes */
        s->min = s->max = v[0];
        for (int i = 1; i < n; i++) {
            s->min = v[i] < s->min ? v[i] : s->min;
            s->max = v[i] > s->max ? v[i] : s->max;
        }
        s->median = s->q1 = s->q3 = s->mean;
        return;
    }
    memcpy(w, v, (size_t)n * sizeof *w);
    qsort(w, (size_t)n, sizeof *w, cmp_double);
    s->min = w[0];
    s->max = w[n - 1];
    s->median = quantile(w, n, 0.5);
    s->q1 = quantile(w, n, 0.25);
    s->q3 = quantile(w, n, 0.75);
    if (w != small)
        free(w);
}

const char *stats_unit_csv(enum unit u)
{
    static const char *const names[] = { "ns", "x", "count", "KiB" };
    return (unsigned)u < sizeof names / sizeof names[0] ? names[u] : "";
}

/* The scale and unit name for a value of magnitude m. */
static const char *scale_for(double m, enum unit u, double *div)
{
    *div = 1;
    m = fabs(m) * (1 + 1e-9);      /* 999.9999999 ns, a float's 1 µs, is shown as 1 µs */
    switch (u) {
    case UNIT_NS:
        if (m >= 1e9) { *div = 1e9; return "s"; }
        if (m >= 1e6) { *div = 1e6; return "ms"; }
        if (m >= 1e3) { *div = 1e3; return "µs"; }
        return "ns";
    case UNIT_KIB:
        if (m >= 1024 * 1024) { *div = 1024 * 1024; return "GiB"; }
        if (m >= 1024) { *div = 1024; return "MiB"; }
        return "KiB";
    case UNIT_X:
        return "x";
    default:
        return "";
    }
}

/* Decimals that give about three significant digits at magnitude m (already scaled). */
static int decimals_for(double m, enum unit u)
{
    m = fabs(m);
    if (u == UNIT_COUNT)
        return m != floor(m) && m < 100 ? 1 : 0;
    return m < 10 ? 2 : m < 100 ? 1 : 0;
}

char *stats_fmt_value(char *buf, size_t n, double v, enum unit u)
{
    double div;
    const char *name = scale_for(v, u, &div);
    if (v == 0 && u == UNIT_NS)
        name = "s";                /* nothing measured: "0 s", not "0.00 ns" */
    snprintf(buf, n, "%.*f%s%s", v == 0 ? 0 : decimals_for(v / div, u), v / div,
             *name && u != UNIT_X ? " " : "", name);
    return buf;
}

/* The decimals for a whole summary: the mean's, one more for counts whose samples are
 * not whole numbers (a mean of counts), so that a 0.4 spread does not print as 0. */
static int decimals_of(const struct stats *s, enum unit u, double div)
{
    int d = decimals_for(s->mean / div, u);
    if (u == UNIT_COUNT && d == 0 &&
        (s->mean != floor(s->mean) || s->min != floor(s->min) || s->max != floor(s->max)))
        d = 1;
    return d;
}

char *stats_fmt_mean_sd(char *buf, size_t n, const struct stats *s, enum unit u)
{
    double div;
    const char *name = scale_for(s->mean, u, &div);
    const char *sp = *name && u != UNIT_X ? " " : "";
    int d = decimals_of(s, u, div), dsd = d;
    if (s->n < 2) {
        snprintf(buf, n, "%.*f%s%s", d, s->mean / div, sp, name);
        return buf;
    }
    if (u == UNIT_X) {             /* a ratio: "1.95x ± 0.05", the spread a plain number */
        while (s->sd > 0 && dsd < d + 1 && s->sd * pow(10, dsd) < 10)
            dsd++;
        snprintf(buf, n, "%.*fx ± %.*f", d, s->mean, dsd, s->sd);
        return buf;
    }
    /* The spread to two significant digits where one more decimal gives them. */
    while (s->sd > 0 && dsd < d + 1 && s->sd / div * pow(10, dsd) < 10)
        dsd++;
    snprintf(buf, n, "%.*f%s%s ± %.*f%s%s", d, s->mean / div, sp, name, dsd, s->sd / div, sp,
             name);
    return buf;
}

char *stats_fmt_range(char *buf, size_t n, const struct stats *s, enum unit u)
{
    double div;
    const char *name = scale_for(s->mean, u, &div);
    const char *sp = *name && u != UNIT_X ? " " : "";
    int d = decimals_of(s, u, div);
    snprintf(buf, n, "%.*f%s%s … %.*f%s%s", d, s->min / div, sp, name, d, s->max / div, sp,
             name);
    return buf;
}

char *stats_fmt_summary(char *buf, size_t n, const struct stats *s, enum unit u)
{
    char ms[64], rg[64];
    stats_fmt_mean_sd(ms, sizeof ms, s, u);
    if (s->n < 2)
        snprintf(buf, n, "%s (1 run)", ms);
    else
        snprintf(buf, n, "%s (%s, %d runs)", ms, stats_fmt_range(rg, sizeof rg, s, u), s->n);
    return buf;
}

int stats_differ(const struct stats *a, const struct stats *b)
{
    double big = fabs(a->mean) > fabs(b->mean) ? fabs(a->mean) : fabs(b->mean);
    if (big == 0 || fabs(a->mean - b->mean) <= 0.05 * big)
        return 0;
    if (a->min > b->max)
        return 1;
    if (a->max < b->min)
        return -1;
    return 0;
}

size_t stats_text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}
