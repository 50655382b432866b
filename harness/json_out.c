/* json_out.c: `--format json` for machines, in the shape of Google Benchmark's output: a
 * context object (machine, build, date, load), every measured row, and one summary per
 * configuration (mean, median, stddev, min, max, n, speedup against seq with its error).
 * Built with jansson, which escapes every string; the layout is results/README.md's. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "harness.h"
#include "stats.h"

#ifndef PARLAB_COMMIT
#define PARLAB_COMMIT "unknown"
#endif

const char *parlab_commit(void)
{
    return PARLAB_COMMIT;
}

void print_version(FILE *f)
{
    fprintf(f, "parlab %s (commit %s)\n", PARLAB_VERSION, PARLAB_COMMIT);
}

/* Rows collected between json_begin() and json_end(), on the CLI's main thread only. */
static json_t *rows;

const char *verified_name(int verified)
{
    return verified == VERIFIED_REF ? "ref" : verified == VERIFIED_UNCHECKED ? "unchecked"
           : verified ? "yes" : "no";
}

void json_begin(void)
{
    json_decref(rows);
    rows = json_array();
}

void json_add_row(const struct result_row *r)
{
    if (!rows)
        json_begin();
    json_t *o = json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:s, s:I, s:I, s:f, s:f, s:f, s:I, s:I, "
                          "s:I, s:s, s:s, s:s, s:s}",
                          "workload", r->workload, "size", (json_int_t)r->size, "runner", r->runner,
                          "workers", (json_int_t)r->workers, "cores", (json_int_t)r->cores,
                          "tasks", (json_int_t)r->tasks, "schedule", r->schedule,
                          "chunk", (json_int_t)r->chunk, "steps", (json_int_t)r->steps,
                          "wall_s", r->wall_s, "user_s", r->user_s, "sys_s", r->sys_s,
                          "max_rss_kb", (json_int_t)r->max_rss_kb, "vol_cs", (json_int_t)r->vol_cs,
                          "invol_cs", (json_int_t)r->invol_cs, "result", r->result,
                          "verified", verified_name(r->verified), "check", r->check ? r->check : "",
                          "host", r->host ? r->host : "");
    if (o) {
        json_object_set_new(o, "other_cpu", isnan(r->other_cpu) ? json_null()
                                                                : json_real(r->other_cpu));
        if (r->start_s > 0)   /* only where the runner started processes it kept */
            json_object_set_new(o, "start_s", json_real(r->start_s));
        json_array_append_new(rows, o);
    }
}

/* The keys that make two rows the same configuration. */
static const char *const config_keys[] = { "workload", "size", "runner", "workers", "cores",
                                           "tasks", "schedule", "chunk", "steps" };
#define NKEYS (sizeof config_keys / sizeof config_keys[0])

static int same_config(json_t *a, json_t *b)
{
    for (size_t k = 0; k < NKEYS; k++)
        if (!json_equal(json_object_get(a, config_keys[k]), json_object_get(b, config_keys[k])))
            return 0;
    return 1;
}

/* The values of key (a number, or null: NAN) in every row of the configuration of row
 * `first`, into v (room for every row). Returns how many. */
static int collect(json_t *first, const char *key, double *v)
{
    size_t i;
    int n = 0;
    json_t *row;
    json_array_foreach(rows, i, row)
        if (same_config(first, row)) {
            json_t *x = json_object_get(row, key);
            v[n++] = json_is_number(x) ? json_number_value(x) : NAN;
        }
    return n;
}

/* Wall-time statistics of every row of the configuration of row `first`, as a new object
 * holding the configuration's keys; mean and sd also come back for the speedup. */
static json_t *summarise(json_t *first, double *mean, double *sd)
{
    size_t n = 0, cap = json_array_size(rows);
    double *v = malloc((cap ? cap : 1) * sizeof *v);
    json_t *s = json_object();
    if (!v || !s) {
        free(v);
        json_decref(s);
        return NULL;
    }
    n = (size_t)collect(first, "wall_s", v);
    struct stats st;
    stats_of(v, (int)n, &st);
    *mean = st.mean;
    *sd = st.sd;
    for (size_t k = 0; k < NKEYS; k++)
        json_object_set(s, config_keys[k], json_object_get(first, config_keys[k]));
    json_object_set_new(s, "n", json_integer((json_int_t)n));
    json_object_set_new(s, "mean_s", json_real(st.mean));
    json_object_set_new(s, "median_s", json_real(st.median));
    json_object_set_new(s, "stddev_s", json_real(st.sd));
    json_object_set_new(s, "min_s", json_real(st.min));
    json_object_set_new(s, "max_s", json_real(st.max));
    double lo, hi;
    stats_ci95(&st, &lo, &hi);
    json_object_set_new(s, "ci_low", json_number_or_null(lo));
    json_object_set_new(s, "ci_high", json_number_or_null(hi));
    free(v);
    return s;
}

json_t *json_number_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* The machine, the build and the moment: what a number needs to be compared later. */
json_t *json_context(void)
{
    struct machine m;
    char date[32] = "";
    double load[3] = { -1, -1, -1 };
    time_t now = time(NULL);
    struct tm tm;
    machine_read(&m);
    if (gmtime_r(&now, &tm))
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = load[1] = load[2] = -1;
        fclose(f);
    }
    json_t *c = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "host", m.host, "cpu_model",
                          m.cpu, "cpus_online", (json_int_t)m.online, "cpus_allowed",
                          (json_int_t)m.allowed, "kernel", m.kernel, "parlab_version",
                          PARLAB_VERSION, "commit", PARLAB_COMMIT, "date", date);
    json_t *l = json_array();
    for (int i = 0; i < 3 && load[0] >= 0; i++)
        json_array_append_new(l, json_real(load[i]));
    json_object_set_new(c, "load_avg", l);
    return c;
}

void json_end(FILE *f, int interleaved)
{
    json_t *sums = json_array(), *row, *seq_row = NULL;
    size_t i, j, cap;
    if (!rows)
        json_begin();
    cap = json_array_size(rows) + 1;
    /* One summary per configuration, in the order they first appear; seq's (from
     * --baseline) is the reference of every other configuration's speedup. */
    double seq_m = 0, seq_sd = 0;
    int have_seq = 0;
    json_array_foreach(rows, i, row) {
        int seen = 0;
        for (j = 0; j < i && !seen; j++)
            seen = same_config(json_array_get(rows, j), row);
        if (seen)
            continue;
        double m, sd;
        json_t *s = summarise(row, &m, &sd);
        if (!s)
            continue;
        if (!have_seq && strcmp(json_string_value(json_object_get(row, "runner")), "seq") == 0) {
            have_seq = 1;
            seq_m = m;
            seq_sd = sd;
            seq_row = row;
        }
        json_array_append_new(sums, s);
    }
    /* Against seq: the speedup with its 95% bootstrap interval, the rank test and the
     * verdict on "faster than seq", from both sides' runs and their load. */
    double *sw = malloc(cap * sizeof *sw), *so = malloc(cap * sizeof *so);
    double *w = malloc(cap * sizeof *w), *o = malloc(cap * sizeof *o);
    int ns = have_seq && sw && so ? collect(seq_row, "wall_s", sw) : 0;
    if (ns)
        collect(seq_row, "other_cpu", so);
    json_array_foreach(sums, i, row) {
        double m = json_real_value(json_object_get(row, "mean_s"));
        double sd = json_real_value(json_object_get(row, "stddev_s"));
        int is_seq = have_seq && same_config(row, seq_row);
        if (have_seq && m > 0) {
            double err, s = stats_speedup(seq_m, seq_sd, m, sd, &err);
            json_object_set_new(row, "speedup", json_real(s));
            json_object_set_new(row, "speedup_err", json_real(err));
        } else {
            json_object_set_new(row, "speedup", json_null());
            json_object_set_new(row, "speedup_err", json_null());
        }
        json_t *lo = json_null(), *hi = json_null(), *p = json_null(), *v = json_null(),
               *why = json_null();
        if (ns && !is_seq && w && o) {
            /* the summary holds the configuration's keys: it finds its own rows */
            int n = collect(row, "wall_s", w);
            collect(row, "other_cpu", o);
            double meter = machine_meter_cpu_s();
            struct run_times rt = { w, o, n, meter }, st = { sw, so, ns, meter };
            struct verdict_out vo;
            stats_speedup_verdict(&rt, &st, &vo);
            if (!isnan(vo.lo)) {
                lo = json_real(vo.lo);
                hi = json_real(vo.hi);
            }
            p = json_real(stats_mwu(sw, ns, w, n, NULL, NULL));
            v = json_string(stats_verdict_name(vo.verdict));
            why = json_string(vo.reason);
        }
        json_object_set_new(row, "speedup_ci_low", lo);
        json_object_set_new(row, "speedup_ci_high", hi);
        json_object_set_new(row, "mann_whitney_p", p);
        json_object_set_new(row, "verdict", v);
        json_object_set_new(row, "verdict_reason", why);
        json_object_set_new(row, "interleaved", json_boolean(interleaved));
    }
    free(sw);
    free(so);
    free(w);
    free(o);
    json_document(f, "run", rows, sums);
    rows = NULL;
}

void json_document(FILE *f, const char *kind, json_t *doc_rows, json_t *summary)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "schema_version", json_integer(PARLAB_SCHEMA_VERSION));
    json_object_set_new(doc, "kind", json_string(kind));
    json_object_set_new(doc, "context", json_context());
    json_object_set_new(doc, "rows", doc_rows ? doc_rows : json_array());
    json_object_set_new(doc, "summary", summary ? summary : json_object());
    json_dumpf(doc, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    fputc('\n', f);
    json_decref(doc);
}
