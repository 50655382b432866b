/* test_report.c: the bench analysis on synthetic run folders (noise flags, the Amdahl and
 * Gustafson fits, hyperfine's warnings, the report, its check from the plots' geometry and the
 * end-of-bench summary) and the JSON of `parlab run` (`make diff` is in test_diff.c). No timing
 * is taken: every number is written by the test. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "../harness/harness.h"
#include "util.h"

static int have(const char *tool)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

/* The script tests need gnuplot (the fit, the plots) and jq. */
static int tools(void)
{
    if (have("gnuplot") && have("jq"))
        return 1;
    fprintf(stderr, "\ntest_report: SKIPPED: gnuplot or jq is missing (scripts/deps.sh test)\n");
    return 0;
}

static void put(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    CU_ASSERT_EQUAL(fclose(f), 0);
}

/* The whole of dir/name into buf (NUL-terminated, truncated to n - 1); "" if unreadable. */
static char *get(const char *dir, const char *name, char *buf, size_t n)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f) {
        size_t k = fread(buf, 1, n - 1, f);
        buf[k] = '\0';
        fclose(f);
    }
    return buf;
}

static void rm_rf(const char *dir)
{
    char *argv[] = { "rm", "-rf", (char *)dir, NULL };
    struct cmd_result r;
    run_cmd(argv, 20, &r);
}

static const char tidy_head[] =
    "workload,runner,param,value,cores,workers,tasks,size,mean_s,stddev_s,median_s,min_s,max_s,"
    "user_s,sys_s,n,speedup,speedup_err,efficiency,efficiency_err,other_cpu\n";

/*
 * A run folder with what the analysis and the report read. cores: the tidy rows after the
 * header (speedup, speedup_err and other_cpu are what matter; the times are consistent).
 * Returns the folder in dir (caller removes it).
 */
static void make_run(char *dir, size_t n, const char *cores, const char *hf_warnings)
{
    snprintf(dir, n, "/tmp/parlab-report-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    put(dir, "bench.conf",
        "mode=default\nnproc=8\nruns=5\nwarmup=1\nretries=2\nworkloads=sumsq\n"
        "runners=seq thread epoll\nscaling=thread \ncores=1 2 4 8\nworkers=1\n"
        "sleep_tasks=64\nsleep_io_ms=20\nconcurrency=1\nparlab=bin/parlab\n"
        "reproduce=make bench\nreference=\n");
    put(dir, "machine.json",
        "{\"host\": \"test<host>\", \"cpu_model\": \"Test CPU\", \"nproc\": 8, \"cpus_allowed\": \"0-7\","
        " \"smt\": \"off\", \"kernel\": \"Linux\", \"git_commit\": \"0123456789abcdef\","
        " \"git_dirty\": false, \"date\": \"2025-01-01T00:00:00Z\"}\n");
    char *csv = malloc(strlen(tidy_head) + strlen(cores) + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    strcpy(csv, tidy_head);
    strcat(csv, cores);
    put(dir, "cores.csv", csv);
    free(csv);
    put(dir, "cores-rows.csv",
        "param,value,workload,size,runner,workers,cores,tasks,schedule,chunk,steps,wall_s,user_s,"
        "sys_s,max_rss_kb,vol_cs,invol_cs,result,verified,check,host\n");
    put(dir, "commands.txt", "bin/parlab run -w sumsq -r seq -n 500M --cores 1 -j 1\n");
    put(dir, "warnings.txt", "");
    put(dir, "hyperfine-warnings.csv", hf_warnings ? hf_warnings : "sweep,workload,runner,value,text\n");
}

static int script(const char *name, const char *dir, struct cmd_result *r)
{
    char path[64];
    snprintf(path, sizeof path, "scripts/%s", name);
    char *argv[] = { "bash", path, (char *)dir, NULL };
    int rc = run_cmd(argv, 60, r);
    if (rc || !r->exited || r->status)
        fprintf(stderr, "\n%s %s: %s\n", name, dir, r->err);
    return rc || !r->exited ? -1 : r->status;
}

/* A row with speedup S ± dS at K cores; times consistent with a 1.0 s seq baseline. */
static void row(char *buf, size_t n, const char *runner, int K, double S, double dS, const char *other)
{
    size_t len = strlen(buf);
    double m = 1.0 / S;
    snprintf(buf + len, n - len, "sumsq,%s,cores,%d,%d,%d,64,500000000,%.6f,%.6f,%.6f,%.6f,%.6f,1,0,5,"
             "%.4f,%.4f,%.4f,%.4f,%s\n", runner, K, K, K, m, m * dS / S, m, m, m, S, dS, S / K, dS / K, other);
}

/* Speedup above K, a control that moved while the meter read little, two core counts. */
static void test_noisy_run_is_flagged(void)
{
    if (!tools())
        return;
    char rows[4096] = "", dir[64], buf[65536];
    row(rows, sizeof rows, "seq", 1, 1.0, 0.014, "0.01");
    row(rows, sizeof rows, "seq", 2, 0.81, 0.012, "0.03");
    row(rows, sizeof rows, "thread", 1, 1.0, 0.014, "0.01");
    row(rows, sizeof rows, "thread", 2, 3.0, 0.05, "0.02");
    row(rows, sizeof rows, "epoll", 2, 0.99, 0.02, "0.02");
    make_run(dir, sizeof dir, rows,
             "sweep,workload,runner,value,text\n"
             "cores,sumsq,thread,2,Statistical outliers were detected\n");
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(script("analyse.sh", dir, &r), 0);

    get(dir, "flags.csv", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "cores,sumsq,thread,2,flag,above-ideal,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "cores,sumsq,seq,2,flag,control,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "cannot tell why"));   /* the meter read 0.03 */
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "cores,sumsq,thread,2,note,hyperfine,Statistical outliers"));
    CU_ASSERT_PTR_NULL(strstr(buf, ",epoll,"));   /* within 1: nothing to say */
    get(dir, "noise.csv", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "sumsq,0.1900,2"));
    get(dir, "amdahl.csv", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "sumsq,thread,,,2,not enough points: needs ≥ 3 core counts"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "sumsq,epoll,,,1,not fitted: not meant to scale"));
    get(dir, "karpflatt.csv", buf, sizeof buf);
    CU_ASSERT_PTR_NULL(strstr(buf, "epoll"));     /* e only for runners meant to scale */
    get(dir, "summary.csv", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "sumsq,thread,2,3.0000,0.0500,flag"));

    /* the report shows the flags in the table, next to the point, and at the top */
    CU_ASSERT_EQUAL_FATAL(script("report.sh", dir, &r), 0);
    get(dir, "index.html", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "<td class=\"flag\">3.00× ± 0.05 !</td>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "hyperfine: Statistical outliers were detected"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "no fit: not enough points: needs ≥ 3 core counts"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "2 point(s) flagged"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "test&lt;host&gt;"));   /* escaped, from machine.json */
    const char *top = strstr(buf, "Key findings"), *warn = strstr(buf, "<h2 id=\"warnings\">");
    CU_ASSERT(top && warn && top < warn);

    /* and so does the end of bench.sh */
    CU_ASSERT_EQUAL_FATAL(script("summary.sh", dir, &r), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "3.00 ± 0.05 !"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "# flagged: 2 point(s) outside the noise band"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "file:///"));
    rm_rf(dir);
}

/* A clean run: the control holds, speedups below K, four core counts: no flag, a fit. */
static void test_clean_run_is_not_flagged(void)
{
    if (!tools())
        return;
    char rows[4096] = "", dir[64], buf[65536], f[64];
    static const int K[] = { 1, 2, 4, 8 };
    for (int i = 0; i < 4; i++)
        row(rows, sizeof rows, "seq", K[i], 1.0 - 0.005 * i, 0.01, "0.01");
    /* exactly Amdahl with e = 0.1, except a small wobble: the fit must find e near 0.1 */
    for (int i = 0; i < 4; i++) {
        double S = 1.0 / (0.1 + 0.9 / K[i]) * (i == 2 ? 1.01 : 1.0);
        row(rows, sizeof rows, "thread", K[i], S, 0.02 * S, "0.01");
    }
    /* above K by less than the noise band: marked "within noise", not flagged */
    row(rows, sizeof rows, "epoll", 1, 1.02, 0.03, "0.01");
    make_run(dir, sizeof dir, rows, NULL);
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(script("analyse.sh", dir, &r), 0);
    get(dir, "flags.csv", buf, sizeof buf);
    CU_ASSERT_PTR_NULL(strstr(buf, ",flag,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "cores,sumsq,epoll,1,noise,above-ideal,"));
    get(dir, "amdahl.csv", buf, sizeof buf);
    const char *t = strstr(buf, "sumsq,thread,");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    double e = atof(t + strlen("sumsq,thread,"));
    CU_ASSERT(e > 0.09 && e < 0.11);
    const char *err = strchr(t + strlen("sumsq,thread,"), ',');
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT(atof(err + 1) > 0 && atof(err + 1) < 0.05);   /* a standard error, not zero */
    CU_ASSERT_PTR_NOT_NULL(strstr(t, ",4,\n"));              /* four core counts, no note */
    CU_ASSERT_EQUAL(script("report.sh", dir, &r), 0);
    get(dir, "index.html", buf, sizeof buf);
    CU_ASSERT_PTR_NULL(strstr(buf, "class=\"flag\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "0 point(s) flagged"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "Amdahl limit"));
    (void)f;
    rm_rf(dir);
}

/* ---- parlab run --format json ----------------------------------------------------------- */

static json_t *run_json(const char *workload, const char *runner, const char *size, int baseline)
{
    struct cmd_result r;
    int rc = baseline ? run_parlab(&r, 60, "run", "-w", workload, "-r", runner, "-n", size, "--repeat", "2",
                                   "--baseline", "--format", "json", (char *)NULL)
                      : run_parlab(&r, 60, "run", "-w", workload, "-r", runner, "-n", size, "--repeat", "2",
                                   "--format", "json", (char *)NULL);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(r.exited && r.status == 0);
    json_error_t e;
    json_t *doc = json_loads(r.out, 0, &e);
    if (!doc)
        fprintf(stderr, "\nnot JSON (line %d: %s):\n%s\n", e.line, e.text, r.out);
    return doc;
}

static void test_json_document(void)
{
    json_t *doc = run_json("sumsq", "thread", "1M", 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "schema_version")), PARLAB_SCHEMA_VERSION);
    json_t *ctx = json_object_get(doc, "context");
    static const char *const keys[] = { "host", "cpu_model", "cpus_online", "cpus_allowed", "kernel",
                                        "parlab_version", "commit", "date", "load_avg" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CU_ASSERT_PTR_NOT_NULL(json_object_get(ctx, keys[i]));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(ctx, "parlab_version")), PARLAB_VERSION);
    json_t *rows = json_object_get(doc, "rows"), *sum = json_object_get(doc, "summary");
    CU_ASSERT_EQUAL(json_array_size(rows), 4);   /* seq, thread, seq, thread: interleaved */
    CU_ASSERT_EQUAL_FATAL(json_array_size(sum), 2);
    json_t *seq = json_array_get(sum, 0), *thr = json_array_get(sum, 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(seq, "runner")), "seq");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(thr, "runner")), "thread");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(thr, "n")), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(rows, 0), "runner")), "seq");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(rows, 1), "runner")), "thread");
    /* the summary agrees with the rows it summarises */
    double a = json_real_value(json_object_get(json_array_get(rows, 1), "wall_s"));
    double b = json_real_value(json_object_get(json_array_get(rows, 3), "wall_s"));
    double mean = json_real_value(json_object_get(thr, "mean_s"));
    CU_ASSERT_DOUBLE_EQUAL(mean, (a + b) / 2, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(thr, "min_s")), a < b ? a : b, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(thr, "median_s")), mean, 1e-9);
    double sm = json_real_value(json_object_get(seq, "mean_s"));
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(thr, "speedup")), sm / mean, 1e-6);
    CU_ASSERT(json_is_number(json_object_get(thr, "speedup_err")));
    /* Against seq: the interval (2 runs a side: none), the rank test, the verdict and why
     * (2 runs a side: inconclusive, whatever the machine), and the order it was run in. */
    CU_ASSERT(json_is_null(json_object_get(thr, "speedup_ci_low")));
    CU_ASSERT(json_is_null(json_object_get(thr, "speedup_ci_high")) ==
              json_is_null(json_object_get(thr, "speedup_ci_low")));
    double p = json_real_value(json_object_get(thr, "mann_whitney_p"));
    CU_ASSERT(p > 0 && p <= 1);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(thr, "verdict")), "inconclusive");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(thr, "verdict_reason")),
                           "2 runs per side; at least 3 needed");
    CU_ASSERT(json_is_true(json_object_get(thr, "interleaved")));
    CU_ASSERT(json_is_null(json_object_get(seq, "verdict")));     /* seq is the reference */
    for (size_t i = 0; i < 4; i++) {
        json_t *o = json_object_get(json_array_get(rows, i), "other_cpu");
        CU_ASSERT(json_is_null(o) || json_real_value(o) >= 0);
    }
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_array_get(rows, 3), "verified")), "yes");
    json_decref(doc);

    /* without --baseline there is nothing to divide by: the speedup is null */
    doc = run_json("sumsq", "thread", "1M", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT(json_is_null(json_object_get(json_array_get(json_object_get(doc, "summary"), 0), "speedup")));
    json_decref(doc);
}

/* seq at a size with no recorded answer is verified by an independent recomputation, not
 * taken as its own reference; the words for the other verdicts are the CSV's. */
static void test_json_verified_ref(void)
{
    json_t *doc = run_json("mandelbrot", "seq", "12345", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    json_t *row = json_array_get(json_object_get(doc, "rows"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(row, "verified")), "yes");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(row, "check")), "independent");
    json_decref(doc);
    CU_ASSERT_STRING_EQUAL(verified_name(VERIFIED_REF), "ref");
    CU_ASSERT_STRING_EQUAL(verified_name(VERIFIED_UNCHECKED), "unchecked");
    CU_ASSERT_STRING_EQUAL(verified_name(1), "yes");
    CU_ASSERT_STRING_EQUAL(verified_name(0), "no");
}

/* Any host name comes back intact: escaped, not replaced. */
static void test_json_escaping(void)
{
    static const char odd[] = "a\"b\\c,d\n\x01\xc3\xa9";
    struct result_row r = { .workload = "sumsq", .runner = "seq", .schedule = "static", .host = odd,
                            .size = 10, .workers = 1, .cores = 1, .steps = 1, .tasks = 1, .wall_s = 0.5,
                            .result = "285", .verified = 1, .check = "closed-form" };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    out_begin(f, OUT_JSON);
    out_row(f, OUT_JSON, &r, 0, 1);
    out_end(f, OUT_JSON, 0);
    fclose(f);
    json_t *doc = json_loads(buf, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    json_t *row = json_array_get(json_object_get(doc, "rows"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(row, "host")), odd);
    CU_ASSERT_DOUBLE_EQUAL(json_real_value(json_object_get(json_array_get(json_object_get(doc, "summary"), 0),
                                                           "mean_s")), 0.5, 1e-12);
    json_decref(doc);
    free(buf);
}

/* ---- verdicts from the raw samples ------------------------------------------------------ */

/* samples.csv for the run folder of verdict_run(): 6 runs a point, about 1% spread; each
 * non-seq point with its interleaved control (seq on 1 core, 1.0 s). thread at 2 cores
 * takes t2 s, and its runs met other processes using load2 CPU. */
static void verdict_samples(const char *dir, double t2, double load2)
{
    static const double jit[6] = { -0.01, 0.004, -0.003, 0.008, 0.0, -0.006 };
    static const struct { const char *r; int K; double t; } pts[] = {
        { "seq", 1, 1.0 }, { "seq", 2, 1.0 }, { "thread", 1, 1.0 }, { "thread", 2, 0 }, { "epoll", 2, 1.0 },
    };
    char buf[8192] = "sweep,workload,runner,value,role,run,time_s,other_cpu\n";
    for (size_t p = 0; p < sizeof pts / sizeof pts[0]; p++) {
        double t = pts[p].t ? pts[p].t : t2;
        double load = pts[p].t ? 0.02 : load2;
        for (int i = 0; i < 6; i++) {
            size_t len = strlen(buf);
            snprintf(buf + len, sizeof buf - len, "cores,sumsq,%s,%d,point,%d,%.5f,%.2f\n", pts[p].r,
                     pts[p].K, i + 1, t * (1 + jit[i]), load);
            if (strcmp(pts[p].r, "seq")) {
                len = strlen(buf);
                snprintf(buf + len, sizeof buf - len, "cores,sumsq,%s,%d,control,%d,%.5f,%.2f\n",
                         pts[p].r, pts[p].K, i + 1, 1 + jit[(i + 2) % 6], load);
            }
        }
    }
    put(dir, "samples.csv", buf);
}

static void verdict_run(char *dir, size_t n, double t2, double load2)
{
    char rows[4096] = "";
    row(rows, sizeof rows, "seq", 1, 1.0, 0.01, "0.02");
    row(rows, sizeof rows, "seq", 2, 1.0, 0.01, "0.02");
    row(rows, sizeof rows, "thread", 1, 1.0, 0.01, "0.02");
    char o[16];
    snprintf(o, sizeof o, "%.2f", load2);
    row(rows, sizeof rows, "thread", 2, 1.0 / t2, 0.02, o);
    row(rows, sizeof rows, "epoll", 2, 1.0, 0.01, "0.02");
    make_run(dir, n, rows, NULL);
    put(dir, "bench.conf",
        "mode=default\nnproc=2\nruns=6\nwarmup=1\nretries=2\nworkloads=sumsq\n"
        "runners=seq thread epoll\nscaling=thread \ncores=1 2\nworkers=1\n"
        "sleep_tasks=64\nsleep_io_ms=20\nconcurrency=1\nparlab=bin/parlab\n"
        "reproduce=make bench\nreference=\n");
    verdict_samples(dir, t2, load2);
}

/* Quiet: every key finding passes, each speedup with its interval, the trust line says so;
 * the same speedup on disturbed runs is inconclusive; one above the ideal fails. */
static void test_findings_are_verdicts(void)
{
    if (!tools())
        return;
    char dir[64], buf[65536];
    struct cmd_result r;

    verdict_run(dir, sizeof dir, 0.52, 0.02);
    CU_ASSERT_EQUAL_FATAL(script("analyse.sh", dir, &r), 0);
    get(dir, "trust.txt", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "quiet: 0 of 5 points disturbed\n");
    get(dir, "summary.csv", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, ",ci_low,ci_high,verdict\n"));
    const char *t = strstr(buf, "sumsq,thread,2,");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL(strstr(t, ",pass\n"));
    /* the interval from the samples: about 1.92, both ends within 2% of it */
    const char *c = t;
    for (int k = 0; k < 7 && c; k++)
        c = strchr(c + 1, ',');
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    double lo = atof(c + 1), hi = atof(strchr(c + 1, ',') + 1);
    CU_ASSERT(lo > 1.88 && lo < 1.923 && hi > 1.923 && hi < 1.96);
    get(dir, "findings.csv", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "speedup,cores,sumsq,thread,2,pass,\"the speedup 1.92× ["));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "speedup,cores,sumsq,epoll,2,pass,"));
    /* the control held still: its time against seq on 1 core about 1, the ratio's sign after it */
    t = strstr(buf, "speedup,cores,sumsq,seq,2,pass,\"~ (time against seq on 1 core ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    char *after;
    double ctl = strtod(t + strlen("speedup,cores,sumsq,seq,2,pass,\"~ (time against seq on 1 core "), &after);
    CU_ASSERT(ctl > 0.95 && ctl < 1.05 && strncmp(after, "× [", strlen("× [")) == 0);
    get(dir, "findings.txt", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "");   /* nothing failed or was left open */
    CU_ASSERT_EQUAL_FATAL(script("summary.sh", dir, &r), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "# trust: quiet: 0 of 5 points disturbed"));
    CU_ASSERT_EQUAL_FATAL(script("report.sh", dir, &r), 0);
    get(dir, "index.html", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "<b>Trust:</b> quiet: 0 of 5 points disturbed"));
    rm_rf(dir);

    verdict_run(dir, sizeof dir, 0.52, 1.0);
    CU_ASSERT_EQUAL_FATAL(script("analyse.sh", dir, &r), 0);
    get(dir, "trust.txt", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "busy: 1 of 5 points disturbed, 1 finding inconclusive\n");
    get(dir, "findings.txt", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "inconclusive sumsq thread cores=2 (speedup): "));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "rests on disturbed runs: machine busy"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "WAIT_QUIET"));
    CU_ASSERT_EQUAL_FATAL(script("report.sh", dir, &r), 0);
    get(dir, "index.html", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "<p class=\"warn\"><b>Trust:</b> busy: 1 of 5 points disturbed"));
    rm_rf(dir);

    verdict_run(dir, sizeof dir, 0.3, 0.02);   /* 3.3 on 2 cores: impossible for real */
    CU_ASSERT_EQUAL_FATAL(script("analyse.sh", dir, &r), 0);
    get(dir, "findings.txt", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "fail sumsq thread cores=2 (speedup): the speedup 3.33×"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "fail sumsq thread cores=2 (above-ideal): "));
    get(dir, "trust.txt", buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "quiet: 0 of 5 points disturbed, 2 findings failed\n");
    rm_rf(dir);
}

/* The committed reference runs (results/reference/<machine>/, one bench run each) carry the
 * schema_version of the parlab that made them in their JSON documents (results.json): when
 * the code's moves on, this fails until `make reference` makes them again. A reference from
 * before runs kept a document (nor samples.csv, as the first one) cannot say which: it is
 * named on stderr and passed over. */
static void test_reference_schema_version(void)
{
    json_t *doc = run_json("sumsq", "seq", "1000", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    json_int_t code = json_integer_value(json_object_get(doc, "schema_version"));
    json_decref(doc);
    CU_ASSERT_FATAL(code >= 1);
    glob_t g;
    int refs = 0;
    if (glob("results/reference/*/cores.csv", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            char dir[PATH_MAX], pat[PATH_MAX + 16];
            snprintf(dir, sizeof dir, "%.*s", (int)(strlen(g.gl_pathv[i]) - strlen("/cores.csv")),
                     g.gl_pathv[i]);
            refs++;
            int found = 0;
            glob_t j;
            snprintf(pat, sizeof pat, "%s/*.json", dir);
            if (glob(pat, 0, NULL, &j) == 0) {
                for (size_t k = 0; k < j.gl_pathc; k++) {
                    json_t *d = json_load_file(j.gl_pathv[k], 0, NULL);
                    json_t *v = d ? json_object_get(d, "schema_version") : NULL;
                    if (v) {
                        found++;
                        if (!json_is_integer(v) || json_integer_value(v) != code)
                            fprintf(stderr, "\n  %s: schema_version %s, the code's is %lld: "
                                    "make reference makes it again\n", j.gl_pathv[k],
                                    json_is_integer(v) ? "differs" : "is not a number", (long long)code);
                        CU_ASSERT(json_is_integer(v) && json_integer_value(v) == code);
                    }
                    json_decref(d);
                }
                globfree(&j);
            }
            snprintf(pat, sizeof pat, "%s/samples.csv", dir);
            if (!found && access(pat, F_OK) == 0) {
                fprintf(stderr, "\n  %s: a reference run with no JSON document (results.json), so "
                        "no schema_version: make reference makes it again\n", dir);
                CU_FAIL("a reference run without its schema_version");
            } else if (!found) {
                fprintf(stderr, "\n  %s: made before runs kept their schema_version "
                        "(no results.json, no samples.csv): not checked\n", dir);
            }
        }
        globfree(&g);
    }
    CU_ASSERT(refs > 0);   /* results/README.md promises one */
}

/* ---- the report's check from the plots' geometry ----------------------------------------- */

static int check_report(const char *dir, struct cmd_result *r)
{
    char *argv[] = { "/usr/bin/python3", "scripts/check-report.py", (char *)dir, NULL };
    int rc = run_cmd(argv, 60, r);
    return rc || !r->exited ? -1 : r->status;
}

static int copy_run(const char *from, char *to, size_t n)
{
    snprintf(to, n, "%s-copy", from);
    char *argv[] = { "cp", "-r", (char *)from, to, NULL };
    struct cmd_result r;
    return run_cmd(argv, 20, &r) || !r.exited ? -1 : r.status;
}

/* A run folder as the bench leaves it, small: four core counts of seq, thread and epoll with
 * thread flagged above the ideal at K = 2, and a worker sweep where epoll on 1 worker is
 * flagged at 2.01× (drawn with no ring before); analysed, plotted and reported. */
static int real_report(char *dir, size_t n)
{
    char rows[4096] = "";
    static const int K[] = { 1, 2, 4, 8 };
    for (int i = 0; i < 4; i++)
        row(rows, sizeof rows, "seq", K[i], 1.0 - 0.004 * i, 0.01, "0.01");
    for (int i = 0; i < 4; i++)
        row(rows, sizeof rows, "thread", K[i], i == 1 ? 3.0 : 1.0 / (0.1 + 0.9 / K[i]), 0.03, "0.01");
    for (int i = 0; i < 4; i++)
        row(rows, sizeof rows, "epoll", K[i], 0.99, 0.01, "0.01");
    make_run(dir, n, rows, NULL);
    char w[4096];
    snprintf(w, sizeof w, "%s"
             "sumsq,seq,workers,1,8,1,64,500000000,1.0,0.01,1.0,1.0,1.0,1,0,5,1.0,0.01,1.0,0.01,0.01\n"
             "sumsq,thread,workers,1,8,1,64,500000000,1.0,0.01,1.0,1.0,1.0,1,0,5,1.0,0.01,1.0,0.01,0.01\n"
             "sumsq,thread,workers,8,8,8,64,500000000,0.2,0.01,0.2,0.2,0.2,1,0,5,5.0,0.1,0.62,0.01,0.01\n"
             "sumsq,epoll,workers,1,8,1,64,500000000,0.4975,0.005,0.5,0.5,0.5,1,0,5,2.01,0.02,2.01,0.02,0.01\n"
             "sumsq,epoll,workers,8,8,8,64,500000000,1.0,0.01,1.0,1.0,1.0,1,0,5,1.0,0.01,0.12,0.01,0.01\n",
             tidy_head);
    put(dir, "workers.csv", w);
    /* the timeline, where dynamic came out slower than static: the report says why */
    put(dir, "trace-static.csv", "task,worker,step,start_ns,end_ns\n0,0,0,0,40000000\n1,1,0,0,90000000\n"
        "2,0,0,40000000,80000000\n3,1,0,90000000,150000000\n");
    put(dir, "trace-dynamic.csv", "task,worker,step,start_ns,end_ns\n0,0,0,0,45000000\n1,1,0,0,95000000\n"
        "2,0,0,45000000,90000000\n3,0,0,90000000,190000000\n");
    put(dir, "timeline-rows.csv",
        "schedule,workload,size,runner,workers,cores,tasks,schedule,chunk,steps,wall_s,user_s,sys_s,max_rss_kb,"
        "vol_cs,invol_cs,result,verified,check,host\n"
        "static,primes,3000,thread,2,2,4,static,0,1,0.150000,0.25,0.0,2444,8,14,430,yes,expect,vm\n"
        "dynamic,primes,3000,thread,2,2,4,dynamic,0,1,0.190000,0.25,0.0,2468,6,26,430,yes,expect,vm\n");
    struct cmd_result r;
    if (script("analyse.sh", dir, &r) || script("plots.sh", dir, &r) || script("report.sh", dir, &r))
        return -1;
    return 0;
}

/* Insert TEXT into FILE right after the first occurrence of AFTER; 0, or -1 if absent. */
static int plant(const char *dir, const char *file, const char *after, const char *text)
{
    static char buf[1 << 21];
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    buf[k] = '\0';
    fclose(f);
    char *at = strstr(buf, after);
    if (!at)
        return -1;
    at += strlen(after);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fwrite(buf, 1, (size_t)(at - buf), f);
    fputs(text, f);
    fputs(at, f);
    return fclose(f);
}

/* The real report passes; each of three planted defects fails it, named: a label put on a
 * plotted point, a flagged point left without its ring, a file the list does not name. */
static void test_check_report_geometry(void)
{
    if (!tools())
        return;
    char dir[64], copy[96];
    static char buf[1 << 21];   /* index.html inlines its plots */
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(real_report(dir, sizeof dir), 0);
    get(dir, "flags.csv", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "cores,sumsq,thread,2,flag,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "workers,sumsq,epoll,1,flag,"));
    get(dir, "index.html", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "1 flagged point ringed in red"));   /* the captions say so */
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "<b>Caveat:</b> Here the dynamic schedule took longer than the static one"));
    int rc = check_report(dir, &r);
    if (rc)
        fprintf(stderr, "\ncheck-report on the real report: %s", r.err);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "labels clear of the curves"));

    /* 1. a label where thread's point at K = 1 is drawn (its first marker) */
    CU_ASSERT_EQUAL_FATAL(copy_run(dir, copy, sizeof copy), 0);
    get(copy, "index.html", buf, sizeof buf);
    const char *fig = strstr(buf, "<figure id=\"fig-sumsq-speedup\">");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fig);
    const char *use = strstr(fig, "#sumsq-speedup-gpPt8' transform='translate(");   /* thread: pt 9 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(use);
    double x = 0, y = 0;
    CU_ASSERT_EQUAL_FATAL(sscanf(strchr(use, '(') + 1, "%lf,%lf", &x, &y), 2);
    char label[256];
    snprintf(label, sizeof label, "<g transform=\"translate(%.2f,%.2f)\" font-size=\"11.00\" "
             "text-anchor=\"middle\"><text>planted label</text></g>\n", x, y + 3);
    CU_ASSERT_EQUAL_FATAL(plant(copy, "index.html", "<g id=\"sumsq-speedup-gnuplot_canvas\">\n", label), 0);
    CU_ASSERT_EQUAL(check_report(copy, &r), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "sumsq-speedup: the label \"planted label\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " overlaps the line of "));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "the line of thread"));
    rm_rf(copy);

    /* 2. a flagged point no plot rings: thread at K = 4 */
    CU_ASSERT_EQUAL_FATAL(copy_run(dir, copy, sizeof copy), 0);
    CU_ASSERT_EQUAL_FATAL(plant(copy, "flags.csv", "level,kind,text\n",
                                "cores,sumsq,thread,4,flag,above-ideal,planted\n"), 0);
    CU_ASSERT_EQUAL(check_report(copy, &r), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "sumsq-speedup: sumsq thread cores=4 is flagged, but its point"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "sumsq-efficiency: sumsq thread cores=4 is flagged"));
    rm_rf(copy);

    /* 3. a file the list does not name */
    CU_ASSERT_EQUAL_FATAL(copy_run(dir, copy, sizeof copy), 0);
    put(copy, "tasks-extra.csv", "a,b\n1,2\n");
    CU_ASSERT_EQUAL(check_report(copy, &r), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "tasks-extra.csv is in the folder but not listed"));
    /* rendered again, the report lists it (known by its name), and passes */
    CU_ASSERT_EQUAL(script("report.sh", copy, &r), 0);
    CU_ASSERT_EQUAL(check_report(copy, &r), 0);
    put(copy, "unknown.dat", "x\n");   /* and a file it has no words for, plainly */
    CU_ASSERT_EQUAL(script("report.sh", copy, &r), 0);
    get(copy, "index.html", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "<li><a href=\"unknown.dat\">unknown.dat</a></li>"));
    CU_ASSERT_EQUAL(check_report(copy, &r), 0);
    rm_rf(copy);

    /* bad usage: one line, 64 */
    char *none[] = { "/usr/bin/python3", "scripts/check-report.py", NULL };
    CU_ASSERT_EQUAL(run_cmd(none, 20, &r), 0);
    CU_ASSERT(r.exited && r.status == 64 && strstr(r.err, "usage: check-report.py RUN_DIR"));
    char *bad[] = { "/usr/bin/python3", "scripts/report.py", "flagged", dir, "cores", NULL };
    CU_ASSERT_EQUAL(run_cmd(bad, 20, &r), 0);
    CU_ASSERT(r.exited && r.status == 64 && strstr(r.err, "usage: report.py"));
    rm_rf(dir);
}

/* Gustafson's line only through 3 core counts or more: with 2 the plot and the CSV say why. */
static void test_gustafson_needs_three_counts(void)
{
    if (!tools())
        return;
    char dir[64] = "/tmp/parlab-weak-XXXXXX", csv[2048], buf[65536];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    strcpy(csv, "workload,runner,cores,size,mean_s,stddev_s,scaled_speedup,scaled_speedup_err,efficiency,gustafson_e\n");
    for (int K = 1; K <= 4; K++) {   /* fork: exactly S = K - 0.1 (K - 1); thread: K = 1, 2 */
        size_t len = strlen(csv);
        double S = K - 0.1 * (K - 1);
        snprintf(csv + len, sizeof csv - len, "sumsq,fork,%d,%d,1,0.01,%.4f,0.02,%.4f,0\n", K, K, S, S / K);
        if (K <= 2) {
            len = strlen(csv);
            snprintf(csv + len, sizeof csv - len, "sumsq,thread,%d,%d,1,0.01,%.4f,0.02,%.4f,1\n", K, K, 1.0, 1.0 / K);
        }
    }
    put(dir, "weak.csv", csv);
    put(dir, "bench.conf", "nproc=4\n");
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(script("weak-plot.sh", dir, &r), 0);
    get(dir, "gustafson.csv", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "sumsq,thread,,,2,not enough points: needs ≥ 3 core counts"));
    const char *t = strstr(buf, "sumsq,fork,");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    double e = atof(t + strlen("sumsq,fork,"));
    CU_ASSERT(e > 0.099 && e < 0.101);
    get(dir, "plots/weak-sumsq.svg", buf, sizeof buf);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "fork Gustafson fit, e = 0.100"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "thread: no fit (2 core counts, needs ≥ 3)"));
    CU_ASSERT_PTR_NULL(strstr(buf, "thread Gustafson"));
    rm_rf(dir);
}

CU_TestInfo tests_report[] = {
    { "parlab run --format json: context, rows, summary, speedup", test_json_document },
    { "parlab run --format json: verified is yes, independent, off the recorded sizes", test_json_verified_ref },
    { "parlab run --format json: odd host names are escaped", test_json_escaping },
    { "the committed reference runs carry the code's schema_version", test_reference_schema_version },
    { "noisy run folder: S > K, moved control, two core counts are flagged", test_noisy_run_is_flagged },
    { "clean run folder: no flags, a least-squares fit with its error", test_clean_run_is_not_flagged },
    { "findings as verdicts from the raw samples: pass, busy inconclusive, above K fail", test_findings_are_verdicts },
    { "check-report: the real report passes; a planted overlap, ring or file fails", test_check_report_geometry },
    { "weak scaling: Gustafson fitted only through 3 core counts or more", test_gustafson_needs_three_counts },
    CU_TEST_INFO_NULL,
};
