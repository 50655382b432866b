/* stats.c: parlab's statistics (see stats.h): summaries of repeated samples and their text
 * for people, bootstrap intervals, the Mann-Whitney U test and three-valued verdicts. */
#include "stats.h"

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

void stats_mean_sd(const double *v, int n, double *mean, double *sd)
{
    double m = 0, s = 0;
    for (int i = 0; i < n; i++)
        m += v[i];
    m = n ? m / n : 0;
    for (int i = 0; i < n; i++)
        s += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = n > 1 ? sqrt(s / (n - 1)) : 0;
}

/* The one C copy of the speedup's error (scripts/verdict.py has the scripts' copy): relative
 * errors of a ratio add in quadrature. */
double stats_speedup(double base_mean, double base_sd, double mean, double sd, double *err)
{
    double s = base_mean / mean;
    *err = s * sqrt((base_sd / base_mean) * (base_sd / base_mean) + (sd / mean) * (sd / mean));
    return s;
}

void stats_of(const double *v, int n, struct stats *s)
{
    double small[64];
    double *w = n <= 64 ? small : malloc((size_t)n * sizeof *w);
    memset(s, 0, sizeof *s);
    s->n = n;
    if (n < 1)
        return;
    stats_mean_sd(v, n, &s->mean, &s->sd);
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

/* t(0.975, df) for df = 1..30 (scipy.stats.t.ppf(0.975, df)); past 30, the value at the
 * step below (30, 40, 60, 120): never narrower than the exact interval. */
static double t975(int df)
{
    static const double t[] = { 0, 12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646,
                                2.3060, 2.2622, 2.2281, 2.2010, 2.1788, 2.1604, 2.1448, 2.1314,
                                2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687,
                                2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423 };
    if (df <= 30)
        return t[df];
    if (df <= 40)
        return 2.0423;
    if (df <= 60)
        return 2.0211;
    if (df <= 120)
        return 2.0003;
    return 1.9799;
}

void stats_ci95(const struct stats *s, double *lo, double *hi)
{
    if (s->n < 2) {
        *lo = *hi = NAN;
        return;
    }
    double h = t975(s->n - 1) * s->sd / sqrt((double)s->n);
    *lo = s->mean - h;
    *hi = s->mean + h;
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
        return "×";
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
    if (u == UNIT_X) {             /* a ratio: "1.95× ± 0.05", the spread a plain number */
        while (s->sd > 0 && dsd < d + 1 && s->sd * pow(10, dsd) < 10)
            dsd++;
        snprintf(buf, n, "%.*f× ± %.*f", d, s->mean, dsd, s->sd);
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

/* ---- bootstrap ------------------------------------------------------------------------- */

/* splitmix64 (Steele, Lea and Flood): a counter through a mixer, so a stream is its seed. */
static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* An index in [0, n): the high half of a 64x64 product (Lemire); the bias is n / 2^64. */
static int draw(uint64_t *state, int n)
{
    return (int)(((unsigned __int128)splitmix64(state) * (unsigned)n) >> 64);
}

/* The mean of a resample of v[0..n) with replacement. */
static double resample_mean(const double *v, int n, uint64_t *state)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[draw(state, n)];
    return sum / n;
}

double stats_ratio_ci(const double *a, int na, const double *b, int nb, int resamples,
                      uint64_t seed, double level, double *lo, double *hi)
{
    double ma, sa, mb, sb;
    *lo = *hi = NAN;
    if (na < 1 || nb < 1 || resamples < 1)
        return NAN;
    stats_mean_sd(a, na, &ma, &sa);
    stats_mean_sd(b, nb, &mb, &sb);
    if (mb == 0)
        return NAN;
    double *r = malloc((size_t)resamples * sizeof *r);
    if (!r)
        return ma / mb;
    uint64_t state = seed;
    int k = 0;
    for (int i = 0; i < resamples; i++) {
        double ra = resample_mean(a, na, &state), rb = resample_mean(b, nb, &state);
        if (rb != 0)               /* a resample of all zeros has no ratio: left out */
            r[k++] = ra / rb;
    }
    if (k > 0) {
        qsort(r, (size_t)k, sizeof *r, cmp_double);
        *lo = quantile(r, k, (1 - level) / 2);    /* as numpy's percentile, linear */
        *hi = quantile(r, k, 1 - (1 - level) / 2);
    }
    free(r);
    return ma / mb;
}

char *stats_fmt_speedup(char *buf, size_t n, const double *a, int na, const double *b, int nb)
{
    double lo, hi, r;
    int few = na < nb ? na : nb;
    if (few >= STATS_MIN_INTERVAL) {
        r = stats_ratio_ci(a, na, b, nb, STATS_BOOT_B, STATS_BOOT_SEED, 1 - STATS_ALPHA, &lo, &hi);
        if (r > 0 && isfinite(r) && isfinite(lo) && isfinite(hi))
            snprintf(buf, n, "%.3g× [%.3g, %.3g]", r, lo, hi);
        else
            snprintf(buf, n, "?");
        return buf;
    }
    double ma = 0, mb = 0, sd;
    if (few >= 1) {
        stats_mean_sd(a, na, &ma, &sd);
        stats_mean_sd(b, nb, &mb, &sd);
    }
    if (!(ma > 0 && mb > 0) || !isfinite(ma / mb))
        snprintf(buf, n, "?");
    else
        snprintf(buf, n, "%.3g× (%d run%s: too few for an interval)", ma / mb, few,
                 few == 1 ? "" : "s");
    return buf;
}

/* ---- the Mann-Whitney U test ------------------------------------------------------------ */

struct ranked {
    double v;
    int from_x;
};

static int cmp_ranked(const void *a, const void *b)
{
    return cmp_double(&((const struct ranked *)a)->v, &((const struct ranked *)b)->v);
}

/*
 * P(U >= u) under the null for samples of m and n without ties: the counts of U are the
 * coefficients of the Gaussian binomial [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) /
 * (1 - q^i), built factor by factor in exact 128-bit integers (each partial product is a
 * Gaussian binomial itself, so every coefficient is a whole count). As scipy does, the
 * mass at u is included, through the symmetry P(U >= u) = P(U <= mn - u). -1 when the
 * table cannot be had.
 */
static double mwu_exact_sf(double u, int m, int n)
{
    if (m > n) {
        int t = m; m = n; n = t;
    }
    long mn = (long)m * n, kmax = mn - (long)ceil(u);
    if (mn > 1000000)
        return -1;
    if (kmax < 0)
        return 0;
    /* Before each division the product reaches degree i*n + i, m past the final mn. */
    __int128 *c = calloc((size_t)mn + (size_t)m + 1, sizeof *c);
    if (!c)
        return -1;
    c[0] = 1;
    long deg = 0;
    for (int i = 1; i <= m; i++) {
        long d = n + i;            /* times (1 - q^d) */
        for (long k = deg + d; k >= d; k--)
            c[k] -= c[k - d];
        deg += d;
        for (long k = i; k <= deg; k++)   /* divided by (1 - q^i): a running sum, stride i */
            c[k] += c[k - i];
        deg -= i;
    }
    __int128 below = 0, all = 0;
    for (long k = 0; k <= mn; k++) {
        all += c[k];
        if (k <= kmax)
            below += c[k];
    }
    free(c);
    return (double)((long double)below / (long double)all);
}

double stats_mwu(const double *x, int nx, const double *y, int ny, double *u1,
                 enum mwu_method *method)
{
    int n = nx + ny, ties = 0;
    double tie_term = 0, r1 = 0;
    if (u1)
        *u1 = NAN;
    if (method)
        *method = MWU_ASYMPTOTIC;
    if (nx < 1 || ny < 1)
        return 1;
    struct ranked *all = malloc((size_t)n * sizeof *all);
    if (!all)
        return NAN;
    for (int i = 0; i < nx; i++)
        all[i] = (struct ranked){ x[i], 1 };
    for (int i = 0; i < ny; i++)
        all[nx + i] = (struct ranked){ y[i], 0 };
    qsort(all, (size_t)n, sizeof *all, cmp_ranked);
    for (int i = 0; i < n;) {      /* average ranks of tied runs, and the tie term */
        int j = i;
        while (j + 1 < n && all[j + 1].v == all[i].v)
            j++;
        double rank = (i + j) / 2.0 + 1, t = j - i + 1;
        for (int k = i; k <= j; k++)
            r1 += all[k].from_x ? rank : 0;
        tie_term += t * t * t - t;
        ties |= j > i;
        i = j + 1;
    }
    free(all);
    double U1 = r1 - nx * (nx + 1) / 2.0, U2 = (double)nx * ny - U1;
    double U = U1 > U2 ? U1 : U2, p = -1;
    if (u1)
        *u1 = U1;
    if (!(nx > 8 && ny > 8) && !ties) {
        p = mwu_exact_sf(U, nx, ny);
        if (p >= 0 && method)
            *method = MWU_EXACT;
    }
    if (p < 0) {
        double mu = nx * (double)ny / 2;
        double s = sqrt(nx * (double)ny / 12 * ((n + 1) - tie_term / ((double)n * (n - 1))));
        double z = (U - mu - 0.5) / s;
        p = s > 0 ? 0.5 * erfc(z / sqrt(2)) : 1;   /* the normal's survival function */
    }
    p *= 2;
    return p > 1 ? 1 : p < 0 ? 0 : p;
}

/* ---- verdicts ---------------------------------------------------------------------------- */

const char *stats_verdict_name(enum verdict v)
{
    return v == VERDICT_PASS ? "pass" : v == VERDICT_FAIL ? "fail" : "inconclusive";
}

enum verdict stats_verdict(const struct verdict_in *in, struct verdict_out *out)
{
    const char *what = in->what ? in->what : "ratio";
    double busy = in->busy_cpu > 0 ? in->busy_cpu : STATS_BUSY_CPU, load = 0;
    int na = in->na, nb = in->nb, fewest = na < nb ? na : nb;

    memset(out, 0, sizeof *out);
    out->p = NAN;
    for (int i = 0; in->other_cpu && i < in->nother; i++)
        if (in->other_cpu[i] > busy) {
            out->busy_runs++;
            load += in->other_cpu[i];
        }
    out->busy_mean = out->busy_runs ? load / out->busy_runs : 0;
    out->ratio = stats_ratio_ci(in->a, na, in->b, nb, STATS_BOOT_B, STATS_BOOT_SEED,
                                1 - STATS_ALPHA, &out->lo, &out->hi);
    out->verdict = VERDICT_INCONCLUSIVE;
    if (fewest < STATS_MIN_INTERVAL) {   /* no interval worth the name: none at all */
        out->lo = out->hi = NAN;
        snprintf(out->reason, sizeof out->reason, "%d run%s per side; at least %d needed",
                 fewest, fewest == 1 ? "" : "s", STATS_MIN_INTERVAL);
        snprintf(out->hint, sizeof out->hint, "run with --repeat 10");
        return out->verdict;
    }
    if (isnan(out->lo) || isnan(out->hi)) {
        snprintf(out->reason, sizeof out->reason, "the %s has no interval (a mean of 0)", what);
        snprintf(out->hint, sizeof out->hint, "time a larger size (-n)");
        return out->verdict;
    }
    /* The rank test of a against b scaled by the bound: is a/b's distribution off it? */
    if (fewest >= STATS_MIN_RANK) {
        double *scaled = malloc((size_t)nb * sizeof *scaled);
        if (scaled) {
            for (int i = 0; i < nb; i++)
                scaled[i] = in->b[i] * in->bound;
            out->p = stats_mwu(in->a, na, scaled, nb, NULL, NULL);
            free(scaled);
        }
    }
    int over = out->lo > in->bound, under = out->hi < in->bound;
    int claimed = in->above ? over : under, against = in->above ? under : over;
    int ranks_agree = isnan(out->p) || out->p < STATS_ALPHA;
    char ci[96], pv[48] = "";
    snprintf(ci, sizeof ci, "95%% CI of the %s [%.2f, %.2f]", what, out->lo, out->hi);
    if (!isnan(out->p))
        snprintf(pv, sizeof pv, ", rank test p = %.2g", out->p);
    if (!claimed && !against) {
        snprintf(out->reason, sizeof out->reason, "%s spans the bound %g", ci, in->bound);
        snprintf(out->hint, sizeof out->hint, "run with --repeat %d, or wait for a quiet machine",
                 na + nb < 10 ? 10 : 2 * (na > nb ? na : nb));
    } else if (!ranks_agree) {
        snprintf(out->reason, sizeof out->reason, "%s lies %s the bound %g, but the rank test "
                 "does not settle it (p = %.2g)", ci, over ? "above" : "below", in->bound, out->p);
        snprintf(out->hint, sizeof out->hint, "run with --repeat %d, or wait for a quiet machine",
                 2 * (na > nb ? na : nb));
    } else if (claimed) {
        out->verdict = VERDICT_PASS;
        snprintf(out->reason, sizeof out->reason, "%s lies %s the bound %g%s", ci,
                 in->above ? "above" : "below", in->bound, pv);
    } else if (out->busy_runs) {
        snprintf(out->reason, sizeof out->reason, "machine busy: other processes used %.1f CPU "
                 "during %d of %d runs", out->busy_mean, out->busy_runs, in->nother);
        snprintf(out->hint, sizeof out->hint, "wait for a quiet machine, then run again");
    } else {
        out->verdict = VERDICT_FAIL;
        snprintf(out->reason, sizeof out->reason, "%s lies %s the bound %g%s", ci,
                 in->above ? "below" : "above", in->bound, pv);
    }
    return out->verdict;
}

/* The meter's resolution over a run of wall_s seconds, in CPUs (struct run_times). */
static double meter_res(const struct run_times *t, double wall_s)
{
    return wall_s > 0 ? t->meter_cpu_s / wall_s : INFINITY;
}

void stats_speedup_verdict(const struct run_times *runner, const struct run_times *seq,
                           struct verdict_out *v)
{
    int n = runner->n + seq->n;
    double load[n > 0 ? n : 1];
    /* A reading within the meter's resolution (a tick per CPU over a short run) is no
     * evidence of load: only what lies beyond it counts as disturbed. */
    for (int i = 0; i < n; i++) {
        const struct run_times *t = i < seq->n ? seq : runner;
        int k = i < seq->n ? i : i - seq->n;
        load[i] = t->other_cpu ? t->other_cpu[k] - meter_res(t, t->wall[k]) : NAN;
    }
    struct verdict_in in = { .a = seq->wall, .na = seq->n, .b = runner->wall, .nb = runner->n,
                             .bound = 1.0, .above = 1, .what = "speedup", .other_cpu = load,
                             .nother = n };
    stats_verdict(&in, v);
}

int stats_load(const struct run_times *t, double *sum, int *busy)
{
    int known = 0;
    for (int i = 0; t && t->other_cpu && i < t->n; i++)
        if (!isnan(t->other_cpu[i])) {
            known++;
            *sum += t->other_cpu[i];
            *busy += t->other_cpu[i] - meter_res(t, t->wall[i]) > STATS_BUSY_CPU;
        }
    return known;
}
