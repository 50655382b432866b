/* table.c: the one table printer of the experiments: aligned text for people ("mean ± σ",
 * "min … max", runs) and CSV rows for machines, with "#" context lines in text only. */
#define _GNU_SOURCE
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"

/* Print s padded to `width` columns (by code points: "±" is one), left or right aligned. */
static void put_col(FILE *f, const char *s, size_t width, int right)
{
    size_t w = stats_text_width(s);
    if (right)
        for (; w < width; w++)
            fputc(' ', f);
    fputs(s, f);
    if (!right)
        for (; w < width; w++)
            fputc(' ', f);
}

/* Keep a CSV field well formed whatever it holds. */
static void csv_clean(char *dst, size_t n, const char *src)
{
    size_t j = 0;
    for (size_t i = 0; src && src[i] && j + 1 < n; i++)
        dst[j++] = (src[i] == ',' || src[i] == '"' || (unsigned char)src[i] < 32) ? ';' : src[i];
    dst[j] = '\0';
}

/* The JSON row's fields under the same names (docs/decisions.md: a unit column, so bare
 * names); the first sixteen in the order older readers took by position. */
static const char *const csv_header =
    "command,section,what,workers,unit,median,min,max,q1,q3,n,ratio,host,experiment,"
    "mean,stddev,ci_low,ci_high,note";

/* The text columns, shared by the rows and the header line of exp_begin (whose "# "
 * takes two columns of the first). */
static void text_line(FILE *f, size_t first, const char *section, const char *what,
                      const char *mean, const char *range, const char *runs, const char *ratio,
                      const char *note)
{
    put_col(f, section, first, 0);
    fputc(' ', f);
    put_col(f, what, 46, 0);
    fputc(' ', f);
    put_col(f, mean, 22, 1);
    fputs("  ", f);
    put_col(f, range, 24, 1);
    fputc(' ', f);
    put_col(f, runs, 5, 1);
    if (*ratio || *note) {
        fputc(' ', f);
        put_col(f, ratio, 8, 1);
    }
    if (*note)
        fprintf(f, "  %s", note);
    fputc('\n', f);
}

/* A figure as a JSON row: the summary in the row's unit, named alike in every row and as
 * the CSV's columns. */
static void json_row(struct exp_table *t, const struct exp_row *r)
{
    double lo, hi;
    if (!t->rows)
        t->rows = json_array();
    stats_ci95(&r->st, &lo, &hi);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o, "
                          "s:o, s:o, s:o, s:o, s:s, s:s}",
                          "command", t->command, "experiment", t->experiment,
                          "section", r->section, "what", r->what, "workers", (int)r->workers,
                          "unit", stats_unit_csv(r->unit), "n", r->st.n,
                          "mean", json_number_or_null(r->st.mean),
                          "stddev", json_number_or_null(r->st.sd),
                          "median", json_number_or_null(r->st.median),
                          "min", json_number_or_null(r->st.min),
                          "max", json_number_or_null(r->st.max),
                          "q1", json_number_or_null(r->st.q1),
                          "q3", json_number_or_null(r->st.q3),
                          "ci_low", json_number_or_null(lo), "ci_high", json_number_or_null(hi),
                          "ratio", json_number_or_null(r->ratio), "note", r->note,
                          "host", t->host ? t->host : "");
    if (o)
        json_array_append_new(t->rows, o);
}

void exp_end(struct exp_table *t)
{
    if (t->fmt != OUT_JSON)
        return;
    json_t *sum = json_pack("{s:s, s:s, s:o}", "command", t->command, "experiment",
                            t->experiment, "notes", t->notes ? t->notes : json_array());
    json_object_set_new(sum, "figures", json_integer(t->rows ? (json_int_t)json_array_size(t->rows) : 0));
    json_document(t->f, "experiment", t->rows, sum);
    t->rows = t->notes = NULL;
    out_flushed(t->f);
}

void exp_row(struct exp_table *t, const struct exp_row *r)
{
    char what[128], host[80], note[sizeof r->note], mean[64], range[64], runs[16],
        ratio[32] = "";
    if (t->fmt == OUT_JSON) {
        json_row(t, r);
        t->started = 1;
        return;
    }
    if (t->fmt == OUT_CSV) {
        if (!t->started)
            fprintf(t->f, "%s\n", csv_header);
        csv_clean(what, sizeof what, r->what);
        csv_clean(host, sizeof host, t->host);
        csv_clean(note, sizeof note, r->note);
        if (!isnan(r->ratio))
            snprintf(ratio, sizeof ratio, "%.4g", r->ratio);
        double lo, hi;
        char cil[32] = "", cih[32] = "";
        stats_ci95(&r->st, &lo, &hi);
        if (!isnan(lo) && !isnan(hi)) {
            snprintf(cil, sizeof cil, "%.10g", lo);
            snprintf(cih, sizeof cih, "%.10g", hi);
        }
        fprintf(t->f, "%s,%s,%s,%u,%s,%.10g,%.10g,%.10g,%.10g,%.10g,%d,%s,%s,%s,%.10g,%.10g,%s,%s,"
                "%s\n", t->command, r->section, what, r->workers, stats_unit_csv(r->unit),
                r->st.median, r->st.min, r->st.max, r->st.q1, r->st.q3, r->st.n, ratio, host,
                t->experiment, r->st.mean, r->st.sd, cil, cih, note);
    } else {
        stats_fmt_mean_sd(mean, sizeof mean, &r->st, r->unit);
        stats_fmt_range(range, sizeof range, &r->st, r->unit);
        snprintf(runs, sizeof runs, "%d", r->st.n);
        if (!isnan(r->ratio))
            snprintf(ratio, sizeof ratio, "%.2f×", r->ratio);
        text_line(t->f, 10, r->section, r->what, mean, r->st.n > 1 ? range : "", runs, ratio,
                  r->note);
    }
    t->started = 1;
    out_flushed(t->f);   /* seen now; a failure is reported when the command ends */
}

static void vnote(struct exp_table *t, const char *fmt, va_list ap)
{
    if (t->fmt == OUT_CSV)
        return;
    if (t->fmt == OUT_JSON) {
        char *line = NULL;
        if (vasprintf(&line, fmt, ap) < 0)
            return;
        if (!t->notes)
            t->notes = json_array();
        json_array_append_new(t->notes, json_string(line));
        free(line);
        return;
    }
    fputs("# ", t->f);
    vfprintf(t->f, fmt, ap);
    fputc('\n', t->f);
    out_flushed(t->f);
}

void exp_wrong(struct exp_table *t, const char *fmt, ...)
{
    char *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = vasprintf(&line, fmt, ap);
    va_end(ap);
    t->wrong++;
    complain("%s", len < 0 ? "a wrong result (out of memory to say which)" : line);
    free(line);
}

int exp_fail_in(struct outcome *oc, const char *fmt, ...)
{
    char below[sizeof oc->msg];
    va_list ap;
    snprintf(below, sizeof below, "%s", oc->msg);
    va_start(ap, fmt);
    int len = vsnprintf(oc->msg, sizeof oc->msg, fmt, ap);
    va_end(ap);
    if (len >= 0 && (size_t)len < sizeof oc->msg)
        snprintf(oc->msg + len, sizeof oc->msg - (size_t)len, "%s", below);
    return -1;
}

void exp_note(struct exp_table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vnote(t, fmt, ap);
    va_end(ap);
}

void exp_load(struct exp_table *t, const char *when)
{
    double l1, l5, l15;
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return;
    if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
        exp_note(t, "load average %s: %.2f %.2f %.2f (1, 5, 15 min); work from other "
                 "processes on these CPUs widens the spreads", when, l1, l5, l15);
    fclose(f);
}

void exp_begin(struct exp_opts *o, const char *about, ...)
{
    va_list ap;
    if (o->tab.fmt == OUT_CSV)
        return;
    if (o->tab.fmt == OUT_JSON) {   /* the machine is the document's context */
        exp_load(&o->tab, "at the start");
        va_start(ap, about);
        vnote(&o->tab, about, ap);
        va_end(ap);
        return;
    }
    machine_print(o->tab.f, &o->machine);
    exp_load(&o->tab, "at the start");
    va_start(ap, about);
    vnote(&o->tab, about, ap);
    va_end(ap);
    fputs("# ", o->tab.f);
    text_line(o->tab.f, 8, "section", "what", "mean ± σ", "min … max", "runs", "ratio", "note");
    out_flushed(o->tab.f);   /* before a runner's fork flushes it and loses the reason */
}

const char *exp_kind_name(int k)
{
    return k == 0 ? "fork" : "thread";
}

void exp_emit(struct exp_opts *o, const char *section, unsigned workers, double ratio,
              const struct exp_fig *main, const struct exp_fig *extra, int nextra,
              struct stats *out, const char *fmt, ...)
{
    struct exp_row r = { .section = section, .workers = workers, .unit = main->unit,
                         .ratio = ratio };
    char what[72];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(r.what, sizeof r.what, "%s%s%.20s", what, main->label[0] ? " " : "", main->label);
    stats_of(main->v, main->n, &r.st);
    if (out)
        *out = r.st;
    size_t len = 0;
    for (int i = 0; i < nextra && o->tab.fmt == OUT_TEXT; i++) {
        struct stats s;
        char buf[80];
        stats_of(extra[i].v, extra[i].n, &s);
        len += (size_t)snprintf(r.note + len, len < sizeof r.note ? sizeof r.note - len : 0,
                                "%s%s %s", i ? ", " : "", extra[i].label,
                                stats_fmt_mean_sd(buf, sizeof buf, &s, extra[i].unit));
        if (len >= sizeof r.note)
            len = sizeof r.note - 1;
    }
    exp_row(&o->tab, &r);
    if (o->tab.fmt == OUT_TEXT)
        return;
    for (int i = 0; i < nextra; i++) {
        struct exp_row x = { .section = section, .workers = workers, .unit = extra[i].unit,
                             .ratio = NAN };
        snprintf(x.what, sizeof x.what, "%s %.20s", what, extra[i].label);
        stats_of(extra[i].v, extra[i].n, &x.st);
        exp_row(&o->tab, &x);
    }
}
