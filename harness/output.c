/* output.c: result rows as text for people and CSV for machines (JSON is json_out.c), and
 * the check that no output was lost. It formats; the figures come from stats.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "harness.h"
#include "stats.h"
#include "suggest.h"

int out_format_opt(const char *val, enum out_format *out, struct outcome *oc)
{
    static const char *const fmts[] = { "text", "csv", "json", NULL };
    for (int i = 0; fmts[i]; i++)
        if (strcmp(val, fmts[i]) == 0) {
            *out = (enum out_format)i;   /* fmts[] is in enum out_format's order */
            return 0;
        }
    char hint[96];
    return fail_msg(oc, PARLAB_EXIT_USAGE, "--format %s: unknown format%s (text, csv, json)",
                    val, suggest_from(val, fmts, hint, sizeof hint));
}

/* ---- lost output: the one check every file parlab writes goes through ---------------- */

/* The reason of each stream's first failed flush: glibc drops what a failed fflush could
 * not write, so a later flush succeeds and only ferror() remembers that something was
 * lost. A few streams at once (stdout, a trace); main thread. */
static struct {
    FILE *f;
    int e;
} lost[4];

/* f's slot in lost[], taking a free one when add is set; -1 if none. */
static int lost_slot(FILE *f, int add)
{
    int n = (int)(sizeof lost / sizeof lost[0]);
    for (int i = 0; i < n; i++)
        if (lost[i].f == f)
            return i;
    for (int i = 0; add && i < n; i++)
        if (!lost[i].f) {
            lost[i] = (typeof(lost[0])){ f, 0 };
            return i;
        }
    return -1;
}

int out_flushed(FILE *f)
{
    int failed_before = ferror(f), i;
    errno = 0;
    if (fflush(f) == EOF) {
        int e = errno ? errno : EIO;
        if ((i = lost_slot(f, 1)) >= 0 && !lost[i].e)
            lost[i].e = e;
        return -(i >= 0 ? lost[i].e : e);
    }
    if (!failed_before)
        return 0;
    i = lost_slot(f, 0);
    return -(i >= 0 && lost[i].e ? lost[i].e : EIO);
}

int out_fclose(FILE *f)
{
    int e = out_flushed(f), i = lost_slot(f, 0);
    if (i >= 0)   /* the FILE's address may come back with the next fopen */
        lost[i].f = NULL;
    errno = 0;
    if (fclose(f) != 0 && !e && errno != EBADF)
        e = errno ? -errno : -EIO;
    return e;
}

int out_errno_status(int e)
{
    if (e < 0)
        e = -e;
    return e == ENOSPC || e == EDQUOT || e == EFBIG || e == EIO ? PARLAB_EXIT_IO
                                                                : PARLAB_EXIT_OS;
}

int out_finish(int rc)
{
    int e = out_fclose(stdout);
    if (e && (rc == PARLAB_EXIT_OK || rc == PARLAB_EXIT_WRONG))
        return die(PARLAB_EXIT_IO, "writing standard output: %s", strerror(-e));
    /* Lost messages cannot be reported, but the status still says something was lost. */
    if (ferror(stderr) && rc == PARLAB_EXIT_OK)
        return PARLAB_EXIT_IO;
    return rc;
}

static const char *const csv_cols =
    "workload,size,runner,workers,cores,tasks,schedule,chunk,steps,wall_s,user_s,sys_s,"
    "max_rss_kb,vol_cs,invol_cs,result,verified,check,host,other_cpu,start_s";

void out_begin(FILE *f, enum out_format fmt)
{
    if (fmt == OUT_CSV)
        fprintf(f, "%s\n", csv_cols);
    else if (fmt == OUT_JSON)
        json_begin();   /* rows are collected and written whole by out_end */
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
    char other[32] = "", start[32] = "";   /* last, so that scripts reading columns by
                                              number keep working */
    if (!isnan(r->other_cpu))
        snprintf(other, sizeof other, "%.3f", r->other_cpu);
    if (r->start_s > 0)
        snprintf(start, sizeof start, "%.6f", r->start_s);
    switch (fmt) {
    case OUT_CSV:
        fprintf(f, "%s,%llu,%s,%u,%u,%zu,%s,%zu,%u,%.6f,%.6f,%.6f,%ld,%ld,%ld,%s,%s,%s,%s,%s,%s\n",
                r->workload, (unsigned long long)r->size, r->runner, r->workers, r->cores,
                r->tasks, r->schedule, r->chunk, r->steps, r->wall_s, r->user_s, r->sys_s,
                r->max_rss_kb, r->vol_cs, r->invol_cs, r->result,
                verified_name(r->verified), r->check, host, other, start);
        break;
    case OUT_JSON:
        json_add_row(r);
        break;
    default: {
        /* For people: every field labelled, times and sizes scaled (stats.h). */
        char wall[32], user[32], sys[32], rss[32], st[32];
        if (r->start_s > 0)   /* the processes it keeps for the command: started once */
            fprintf(f, "start   %-7s %s to start its processes, once (in no run's wall)\n",
                    r->runner, stats_fmt_value(st, sizeof st, r->start_s * 1e9, UNIT_NS));
        fprintf(f, "run %d/%d  %-7s %s  %s  wall %s  user %s  sys %s  max RSS %s  "
                   "context switches %ld voluntary, %ld involuntary\n",
                index + 1, total, r->runner, r->result,
                r->verified == VERIFIED_REF ? "reference"
                : r->verified == VERIFIED_UNCHECKED ? "unchecked" : r->verified ? "verified" : "WRONG",
                stats_fmt_value(wall, sizeof wall, r->wall_s * 1e9, UNIT_NS),
                stats_fmt_value(user, sizeof user, r->user_s * 1e9, UNIT_NS),
                stats_fmt_value(sys, sizeof sys, r->sys_s * 1e9, UNIT_NS),
                stats_fmt_value(rss, sizeof rss, (double)r->max_rss_kb, UNIT_KIB), r->vol_cs,
                r->invol_cs);
    }
    }
}

void out_end(FILE *f, enum out_format fmt, int interleaved)
{
    if (fmt == OUT_JSON)
        json_end(f, interleaved);
}

/* Seconds to the ns that stats.h formats. */
static void to_ns(const double *s, int n, double *ns)
{
    for (int i = 0; i < n; i++)
        ns[i] = s[i] * 1e9;
}

void out_summary(FILE *f, const struct run_times *runner, const struct run_times *seq,
                 int warmup)
{
    int n = runner->n, nb = seq ? seq->n : 0;
    double ns[n > 0 ? n : 1], bns[nb > 0 ? nb : 1];
    char ms[96], rg[96], wu[48] = "";
    struct stats st, bs;
    to_ns(runner->wall, n, ns);
    stats_of(ns, n, &st);
    if (warmup)
        snprintf(wu, sizeof wu, ", after %d warm-up run%s", warmup, warmup > 1 ? "s" : "");
    stats_fmt_mean_sd(ms, sizeof ms, &st, UNIT_NS);
    if (n > 1) {
        fprintf(f, "time (mean ± σ):    %s    %d runs%s\n", ms, n, wu);
        fprintf(f, "range (min … max):  %s\n", stats_fmt_range(rg, sizeof rg, &st, UNIT_NS));
    } else {
        fprintf(f, "time:               %s    1 run%s (--repeat 5 for a spread)\n", ms, wu);
    }
    if (nb > 0) {
        struct verdict_out v;
        to_ns(seq->wall, nb, bns);
        stats_of(bns, nb, &bs);
        stats_speedup_verdict(runner, seq, &v);
        char ci[64] = "";
        if (!isnan(v.lo))
            snprintf(ci, sizeof ci, " [%.2f, %.2f] 95%% CI", v.lo, v.hi);
        fprintf(f, "speedup:            %.2f×%s against seq: %s, interleaved, %d run%s each\n",
                v.ratio, ci, stats_fmt_mean_sd(ms, sizeof ms, &bs, UNIT_NS), nb,
                nb > 1 ? "s" : "");
        double p = stats_mwu(seq->wall, nb, runner->wall, n, NULL, NULL);
        fprintf(f, "rank test:          Mann-Whitney p = %.2g, two-sided (the verdict heeds it "
                "from %d runs each)\n", p, STATS_MIN_RANK);
        fprintf(f, "verdict:            faster than seq: %s: %s%s%s%s\n",
                stats_verdict_name(v.verdict), v.reason, *v.hint ? " (" : "", v.hint,
                *v.hint ? ")" : "");
    } else {
        fprintf(f, "speedup:            run with --baseline to measure seq alongside\n");
    }
    double load = 0;
    int busy = 0, known = stats_load(runner, &load, &busy) + stats_load(seq, &load, &busy);
    if (known)
        fprintf(f, "other processes:    %.2f CPU on average while timed; %d of %d runs "
                "disturbed (over %.1f CPU)\n", load / known, busy, known, STATS_BUSY_CPU);
    if (st.min < STATS_SHORT_RUN_NS)
        fprintf(f, "# warning: the shortest run took %s, under %s: start-up, scheduling and the "
                "clock are a large share of it; a larger -n times the work better\n",
                stats_fmt_value(rg, sizeof rg, st.min, UNIT_NS),
                stats_fmt_value(ms, sizeof ms, STATS_SHORT_RUN_NS, UNIT_NS));
}
