/* output.c: result rows as text for people, CSV and JSON for machines (data rows only). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"

/* Append c to buf[*n] as one printable piece: control bytes escaped (\n, \t, \xNN), so
 * that a message stays one line whatever a user typed. */
static void put_escaped(char *buf, size_t *n, unsigned char c)
{
    if (c == '\n' || c == '\t' || c == '\r') {
        buf[(*n)++] = '\\';
        buf[(*n)++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
    } else if (c < 0x20 || c == 0x7f) {
        *n += (size_t)sprintf(buf + *n, "\\x%02x", c);
    } else {
        buf[(*n)++] = (char)c;
    }
}

/* The one place that prints "parlab: <what>: <why>" (STYLE: only the CLI layer does). A
 * message that echoes a huge value keeps its head and its tail (the reason) around a
 * note of what was cut. */
int die(int code, const char *fmt, ...)
{
    enum { KEEP = 160 };
    static char raw[16384], esc[4 * sizeof raw];
    size_t n = 0;
    va_list ap;
    guard_exiting();   /* this is the run's one line: a signal now adds no second */
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    for (const char *p = raw; *p; p++)
        put_escaped(esc, &n, (unsigned char)*p);
    esc[n] = '\0';
    if (n > 3 * KEEP) {
        size_t head = KEEP, tail = n - KEEP;
        while (head > 0 && ((unsigned char)esc[head] & 0xc0) == 0x80)   /* whole UTF-8 */
            head--;
        while (tail < n && ((unsigned char)esc[tail] & 0xc0) == 0x80)
            tail++;
        fprintf(stderr, "parlab: %.*s[... %zu characters ...]%s\n", (int)head, esc, tail - head,
                esc + tail);
    } else {
        fprintf(stderr, "parlab: %s\n", esc);
    }
    return code;
}

static const char *const csv_cols =
    "workload,size,runner,workers,cores,tasks,schedule,chunk,steps,wall_s,user_s,sys_s,"
    "max_rss_kb,vol_cs,invol_cs,result,verified,check,host";

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

void out_begin(FILE *f, enum out_format fmt)
{
    if (fmt == OUT_CSV)
        fprintf(f, "%s\n", csv_cols);
    else if (fmt == OUT_JSON)
        fprintf(f, "[");
}

/* Host names may hold anything; keep CSV and JSON well formed. */
static void clean(char *dst, size_t n, const char *src)
{
    size_t j = 0;
    for (size_t i = 0; src && src[i] && j + 1 < n; i++)
        dst[j++] = (src[i] == ',' || src[i] == '"' || src[i] == '\\' || (unsigned char)src[i] < 32)
                       ? '_' : src[i];
    dst[j] = '\0';
}

void out_row(FILE *f, enum out_format fmt, const struct result_row *r, int index, int total)
{
    char host[80];
    clean(host, sizeof host, r->host);
    switch (fmt) {
    case OUT_CSV:
        fprintf(f, "%s,%llu,%s,%u,%u,%zu,%s,%zu,%u,%.6f,%.6f,%.6f,%ld,%ld,%ld,%s,%s,%s,%s\n",
                r->workload, (unsigned long long)r->size, r->runner, r->workers, r->cores,
                r->tasks, r->schedule, r->chunk, r->steps, r->wall_s, r->user_s, r->sys_s,
                r->max_rss_kb, r->vol_cs, r->invol_cs, r->result,
                r->verified == VERIFIED_REF ? "ref" : r->verified ? "yes" : "no", r->check, host);
        break;
    case OUT_JSON:
        fprintf(f, "%s\n  {\"workload\": \"%s\", \"size\": %llu, \"runner\": \"%s\", "
                   "\"workers\": %u, \"cores\": %u, \"tasks\": %zu, \"schedule\": \"%s\", "
                   "\"chunk\": %zu, \"steps\": %u, \"wall_s\": %.6f, \"user_s\": %.6f, "
                   "\"sys_s\": %.6f, \"max_rss_kb\": %ld, \"vol_cs\": %ld, \"invol_cs\": %ld, "
                   "\"result\": \"%s\", \"verified\": %s, \"check\": \"%s\", \"host\": \"%s\"}",
                index ? "," : "", r->workload, (unsigned long long)r->size, r->runner,
                r->workers, r->cores, r->tasks, r->schedule, r->chunk, r->steps, r->wall_s,
                r->user_s, r->sys_s, r->max_rss_kb, r->vol_cs, r->invol_cs, r->result,
                r->verified == VERIFIED_REF ? "null" : r->verified ? "true" : "false", r->check,
                host);
        break;
    default:
        fprintf(f, "run %d/%d  %-7s %s  %s  wall %.4f s  user %.3f s  sys %.3f s  rss %ld KiB  cs %ld/%ld\n",
                index + 1, total, r->runner, r->result,
                r->verified == VERIFIED_REF ? "reference" : r->verified ? "verified" : "WRONG",
                r->wall_s, r->user_s, r->sys_s, r->max_rss_kb, r->vol_cs, r->invol_cs);
    }
}

void out_end(FILE *f, enum out_format fmt)
{
    if (fmt == OUT_JSON)
        fprintf(f, "\n]\n");
}

static double min_of(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] < m)
            m = v[i];
    return m;
}

void out_summary(FILE *f, const double *wall, int n, const double *base, int nb)
{
    double m, sd;
    stats_mean_sd(wall, n, &m, &sd);
    if (n > 1)
        fprintf(f, "time: mean %.4f s +- %.4f s (stddev of %d runs), min %.4f s\n", m, sd, n,
                min_of(wall, n));
    else
        fprintf(f, "time: %.4f s (one run: use --repeat 5 for a spread)\n", m);
    if (nb > 0) {
        double bm, bsd;
        stats_mean_sd(base, nb, &bm, &bsd);
        double s = bm / m;
        /* Relative errors of a ratio add in quadrature. */
        double err = s * sqrt((bsd / bm) * (bsd / bm) + (sd / m) * (sd / m));
        fprintf(f, "speedup: %.2fx +- %.2f against seq (%.4f s +- %.4f s)\n", s, err, bm, bsd);
    } else {
        fprintf(f, "speedup: run with --baseline to measure seq alongside\n");
    }
}
