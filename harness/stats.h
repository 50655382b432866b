/* stats.h: parlab's statistics, all of them in C: the summary of repeated samples and the
 * one way it is shown to people, as hyperfine does ("mean ± σ", "min … max", the run count,
 * units scaled to the value); the bootstrap interval of a ratio of means, the Mann-Whitney
 * U test, and the three-valued verdict built on them. scripts/verdict.py is the Python
 * copy; both are tested against scipy's figures (tests/test_stats.c). Any thread. */
#ifndef PARLAB_STATS_H
#define PARLAB_STATS_H

#include <stddef.h>
#include <stdint.h>

/* What a sample measures. Times are held in ns whatever their size. */
enum unit {
    UNIT_NS,       /* a time in ns; shown in ns, µs, ms or s */
    UNIT_X,        /* a ratio such as a speedup */
    UNIT_COUNT,    /* a plain count */
    UNIT_KIB,      /* memory in KiB; shown in KiB, MiB or GiB */
};

/* The summary of n samples: n >= 1; sd is the sample standard deviation (0 when n is 1);
 * quantiles by linear interpolation (type 7, as R and numpy do). */
struct stats {
    int n;
    double mean, sd, median, q1, q3, min, max;
};

/* Summarise v[0..n), n >= 1. v is left as it was. Any thread. */
void stats_of(const double *v, int n, struct stats *s);

/* Mean and sample standard deviation (n - 1 in the divisor; 0 when n < 2) of v[0..n). */
void stats_mean_sd(const double *v, int n, double *mean, double *sd);

/* Speedup base_mean / mean, and in *err its error from both deviations (relative errors
 * in quadrature; scripts/verdict.py is the scripts' copy). */
double stats_speedup(double base_mean, double base_sd, double mean, double sd, double *err);

/* The 95% confidence interval of the mean, mean ± t(0.975, n-1)·sd/√n (Student's t, as
 * scipy.stats.t.interval gives it), in *lo and *hi; NAN for both when n < 2. */
void stats_ci95(const struct stats *s, double *lo, double *hi);

/* The name of a unit as a CSV field: ns, x, count, KiB. */
const char *stats_unit_csv(enum unit u);

/*
 * Text for people. Each writes into buf (n bytes, always terminated) and returns buf.
 * stats_fmt_value:   "85.2 µs", "1.50 MiB", "2.00×", "37"
 * stats_fmt_mean_sd: "85.2 µs ± 3.1 µs" (both in the mean's unit); just the value when s->n is 1
 * stats_fmt_range:   "80.1 µs … 90.3 µs" (in the mean's unit, so the three read together)
 * stats_fmt_summary: "85.2 µs ± 3.1 µs (80.1 µs … 90.3 µs, 5 runs)": the three in one field
 */
char *stats_fmt_value(char *buf, size_t n, double v, enum unit u);
char *stats_fmt_mean_sd(char *buf, size_t n, const struct stats *s, enum unit u);
char *stats_fmt_range(char *buf, size_t n, const struct stats *s, enum unit u);
char *stats_fmt_summary(char *buf, size_t n, const struct stats *s, enum unit u);

/*
 * Whether a is clearly above (+1) or below (-1) b, or within the noise of both (0): clear
 * means the min … max ranges do not overlap and the means differ by more than 5%. With
 * one run each that is just the 5%, so repeat for a verdict worth having.
 */
int stats_differ(const struct stats *a, const struct stats *b);

/* Printed width of UTF-8 text: its code points ("±" and "…" are one column each). */
size_t stats_text_width(const char *s);

/* Shorter than this, a timed run is mostly noise: start-up, scheduling, the clock. */
#define STATS_SHORT_RUN_NS 5e6

/* ---- intervals, rank test and verdicts ------------------------------------------------ */

/* Fewer runs than STATS_MIN_INTERVAL per side and a verdict is inconclusive, never a
 * guess: from 2 runs a side has 3 distinct resamples, not an interval. The rank test has
 * its say from STATS_MIN_RANK (scripts/verdict.py's MIN_RANK too): with 3 a side its
 * smallest two-sided p is 0.1, so it could never agree; with 4 it is 0.029 (samples
 * wholly apart), with 5 0.008. */
#define STATS_MIN_INTERVAL 3    /* runs per side for a confidence interval */
#define STATS_MIN_RANK 4        /* runs per side before the rank test has its say */
#define STATS_BOOT_B 10000      /* bootstrap resamples */
#define STATS_BOOT_SEED 1       /* the fixed seed: the same data give the same interval */
#define STATS_ALPHA 0.05        /* 95% intervals, and the rank test's level */
/* A run during which other processes used more than this many CPUs was disturbed (the
 * bench's re-timing threshold, scripts/bench.sh). */
#define STATS_BUSY_CPU 0.3

/*
 * The 95% percentile-bootstrap interval of mean(a) / mean(b) for two independent samples
 * (a speedup: a is seq's times, b the runner's): B resamples of each side with
 * replacement, drawn from a splitmix64 stream seeded with seed, so the same data and seed
 * give the same interval. level is 0.95 for a 95% interval. Fills *lo and *hi and returns
 * the ratio of the means; NAN (and NAN bounds) when a side is empty or b's mean is 0.
 * Any thread (no shared state); allocates nothing.
 */
double stats_ratio_ci(const double *a, int na, const double *b, int nb, int resamples,
                      uint64_t seed, double level, double *lo, double *hi);

/*
 * A speedup as progress lines show it: mean(a) / mean(b) with its 95% bootstrap interval
 * (stats_ratio_ci, STATS_BOOT_B resamples, STATS_BOOT_SEED), "1.93× [1.85, 2.01]", at 3
 * significant digits; with fewer than STATS_MIN_INTERVAL runs a side "1.93× (2 runs: too
 * few for an interval)", as scripts/verdict.py's speedup_text says it; "?" when there is
 * no ratio. Writes into buf (n bytes, always terminated) and returns buf. Any thread.
 */
char *stats_fmt_speedup(char *buf, size_t n, const double *a, int na, const double *b, int nb);

/* The method stats_mwu chose, as scipy names it. */
enum mwu_method { MWU_EXACT, MWU_ASYMPTOTIC };

/*
 * The two-sided Mann-Whitney U test of x against y, as scipy 1.10's
 * mannwhitneyu(x, y, alternative='two-sided', method='auto'): the exact null distribution
 * when either sample has 8 or fewer values and there are no ties; otherwise the normal
 * approximation with the tie correction and the continuity correction. Returns the
 * p-value (1 when a side is empty); *u1 (if not NULL) gets x's U statistic, *method (if
 * not NULL) the method used. Allocates scratch (falls back to the approximation if it
 * cannot, or when the exact table would pass 10^6 entries). Any thread.
 */
double stats_mwu(const double *x, int nx, const double *y, int ny, double *u1,
                 enum mwu_method *method);

enum verdict { VERDICT_PASS, VERDICT_FAIL, VERDICT_INCONCLUSIVE };

/* "pass", "fail", "inconclusive". */
const char *stats_verdict_name(enum verdict v);

/* A claim about the ratio mean(a) / mean(b): that it lies above (or below) bound. */
struct verdict_in {
    const double *a, *b;     /* the samples, e.g. seq's wall times and the runner's */
    int na, nb;
    double bound;            /* e.g. 1.0: "the runner is faster than seq" */
    int above;               /* 1: the claim is ratio > bound; 0: ratio < bound */
    const char *what;        /* the ratio's name in the reason: "speedup" */
    const double *other_cpu; /* per run, both sides: CPUs other processes used; or NULL */
    int nother;
    double busy_cpu;         /* a run above this was disturbed; 0: STATS_BUSY_CPU */
};

struct verdict_out {
    enum verdict verdict;
    double ratio, lo, hi;    /* the ratio of the means and its 95% bootstrap interval
                              * (NAN below STATS_MIN_INTERVAL runs a side) */
    double p;                /* two-sided Mann-Whitney p of a against bound * b; NAN below
                              * STATS_MIN_RANK runs a side */
    int busy_runs;           /* runs above busy_cpu, and their mean other_cpu */
    double busy_mean;
    char reason[192];        /* why, in words: "95% CI of the speedup [0.90, 1.60] spans the
                              * bound 1.2"; for pass and fail too */
    char hint[128];          /* what would settle an inconclusive one; "" otherwise */
};

/*
 * The verdict on the claim: PASS when the 95% interval lies wholly on the claimed side of
 * the bound (and, from STATS_MIN_RANK runs a side, the rank test agrees at STATS_ALPHA);
 * FAIL when it lies wholly on the other side, the rank test agrees, and no run was
 * disturbed; INCONCLUSIVE otherwise: too few runs, an interval that spans the bound, a rank
 * test that does not settle it, or a would-be fail on a busy machine. Always fills out.
 */
enum verdict stats_verdict(const struct verdict_in *in, struct verdict_out *out);

/* A side's timed runs: wall times (s) and the CPUs other processes used during each (NULL:
 * unknown; NAN: unread). meter_cpu_s: what the load meter can be off by, times the wall
 * time, in CPU-seconds (machine_meter_cpu_s, harness.h); a reading within it is no load. */
struct run_times {
    const double *wall, *other_cpu;
    int n;
    double meter_cpu_s;
};
/* The verdict on "the runner is faster than seq": speedup = mean(seq) / mean(runner) above
 * 1, from both sides' runs and their load (stats_verdict). Always fills v. */
void stats_speedup_verdict(const struct run_times *runner, const struct run_times *seq,
                           struct verdict_out *v);
/* The load other processes put on the machine during t's runs (t may be NULL): adds their
 * other_cpu to *sum, and to *busy the runs it disturbed (above STATS_BUSY_CPU beyond the
 * meter's resolution, as the verdict counts them). Returns how many runs had a reading. */
int stats_load(const struct run_times *t, double *sum, int *busy);

#endif
