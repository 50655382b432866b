/* stats.h: the summary of repeated samples, and the one way parlab shows it to people, as
 * hyperfine does: "mean ± σ", "min … max" and the run count, with units scaled to the
 * value (ns, µs, ms, s). `parlab run` and every experiment print through these. */
#ifndef PARLAB_STATS_H
#define PARLAB_STATS_H

#include <stddef.h>

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

/* The name of a unit as a CSV field: ns, x, count, KiB. */
const char *stats_unit_csv(enum unit u);

/*
 * Text for people. Each writes into buf (n bytes, always terminated) and returns buf.
 * stats_fmt_value:   "85.2 µs", "1.50 MiB", "2.00x", "37"
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

#endif
