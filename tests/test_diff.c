/* test_diff.c: `make diff` as a gate (scripts/diff.sh, scripts/verdict.py diff) on small
 * synthetic run folders written by the test: nothing is timed. Each point has 8 runs a side
 * with a fixed spread of about 1%; a planted slowdown multiplies one runner's times. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util.h"

#define RUNS 8

/* The script needs jq, gnuplot and a Python with scipy. */
static int tools(void)
{
    const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    char cmd[PATH_MAX + 128];
    snprintf(cmd, sizeof cmd, "command -v jq gnuplot >/dev/null 2>&1 && %s -c 'import scipy' 2>/dev/null", py);
    if (system(cmd) == 0)
        return 1;
    fprintf(stderr, "\ntest_diff: SKIPPED: jq, gnuplot or scipy is missing (scripts/deps.sh test)\n");
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

struct fixture {
    const char *mode;      /* bench.conf mode */
    const char *size;      /* every point's size */
    const char *slow;      /* a runner whose times are multiplied by factor, or NULL */
    double factor;
    const char *extra;     /* one more runner, present only in this run, or NULL */
    int samples;           /* write samples.csv (0: a run from before they were kept) */
    double load;           /* other processes' CPU during every run */
    int shift;             /* which of two orders of the same spread the runs take */
    int old_names;         /* the tidy CSV's columns as named before schema 2 (mean, stddev...) */
};

/* A run folder: sumsq at 1 and 2 cores for seq, thread, epoll (and f->extra), with tidy rows
 * (cores.csv) consistent with the samples. The folder's name goes into dir. */
static void make_run(char *dir, size_t n, const struct fixture *f)
{
    static const double jitter[RUNS] = { -0.010, 0.004, -0.002, 0.008, 0.0, -0.006, 0.012, -0.004 };
    static const char *const base_runners[] = { "seq", "thread", "epoll" };
    snprintf(dir, n, "/tmp/parlab-diff-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char conf[512];
    snprintf(conf, sizeof conf,
             "mode=%s\nnproc=2\nruns=%d\nwarmup=0\nretries=0\nworkloads=sumsq\nrunners=seq thread epoll%s%s\n"
             "scaling=thread \ncores=1 2\nworkers=1\nparlab=bin/parlab\nreproduce=make bench\n",
             f->mode, RUNS, f->extra ? " " : "", f->extra ? f->extra : "");
    put(dir, "bench.conf", conf);
    put(dir, "machine.json",
        "{\"host\": \"test\", \"cpu_model\": \"Test CPU\", \"nproc\": 2, \"git_commit\": \"0123456789ab\","
        " \"date\": \"2026-01-01T00:00:00Z\"}\n");
    char tidy[8192];
    snprintf(tidy, sizeof tidy, "workload,runner,param,value,cores,workers,tasks,size,%s,speedup,"
             "speedup_err,efficiency,efficiency_err,other_cpu\n", f->old_names
             ? "mean,stddev,median,min,max,user,system,n"
             : "mean_s,stddev_s,median_s,min_s,max_s,user_s,sys_s,n");
    char samples[32768] = "sweep,workload,runner,value,role,run,time_s,other_cpu\n";
    const char *runners[4] = { base_runners[0], base_runners[1], base_runners[2], f->extra };
    for (int r = 0; r < (f->extra ? 4 : 3); r++) {
        for (int K = 1; K <= 2; K++) {
            double m = strcmp(runners[r], "seq") == 0 ? 1.0 : strcmp(runners[r], "thread") == 0 ? 1.0 / K : 1.0;
            if (f->slow && strcmp(runners[r], f->slow) == 0)
                m *= f->factor;
            double sum = 0, sq = 0;
            for (int i = 0; i < RUNS; i++) {
                double t = m * (1 + jitter[(i + f->shift) % RUNS]);
                sum += t;
                sq += t * t;
                size_t len = strlen(samples);
                snprintf(samples + len, sizeof samples - len, "cores,sumsq,%s,%d,point,%d,%.6f,%.2f\n",
                         runners[r], K, i + 1, t, f->load);
                if (strcmp(runners[r], "seq") != 0) {   /* the interleaved control */
                    len = strlen(samples);
                    snprintf(samples + len, sizeof samples - len, "cores,sumsq,%s,%d,control,%d,%.6f,%.2f\n",
                             runners[r], K, i + 1, 1 + jitter[(i + 3) % RUNS], f->load);
                }
            }
            double mean = sum / RUNS, sd = sqrt(sq / RUNS - mean * mean);
            size_t len = strlen(tidy);
            snprintf(tidy + len, sizeof tidy - len,
                     "sumsq,%s,cores,%d,%d,%d,64,%s,%.6f,%.6f,%.6f,%.6f,%.6f,1,0,%d,%.4f,0.01,%.4f,0.01,%.2f\n",
                     runners[r], K, K, K, f->size, mean, sd, mean, mean, mean, RUNS, 1.0 / mean, 1.0 / mean / K,
                     f->load);
        }
    }
    put(dir, "cores.csv", tidy);
    if (f->samples)
        put(dir, "samples.csv", samples);
}

static void rm_rf(const char *dir)
{
    char *argv[] = { "rm", "-rf", (char *)dir, NULL };
    struct cmd_result r;
    run_cmd(argv, 20, &r);
}

/* scripts/diff.sh A B with optional environment settings (NAME=VALUE, NULL-ended). */
static int diff(const char *a, const char *b, const char *env1, const char *env2, struct cmd_result *r)
{
    char *argv[8];
    int k = 0;
    argv[k++] = "env";
    if (env1)
        argv[k++] = (char *)env1;
    if (env2)
        argv[k++] = (char *)env2;
    argv[k++] = "bash";
    argv[k++] = "scripts/diff.sh";
    argv[k++] = (char *)a;
    argv[k++] = (char *)b;
    argv[k] = NULL;
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 120, r), 0);
    CU_ASSERT_TRUE_FATAL(r->exited);
    return r->status;
}

static const struct fixture quiet = { "default", "500000000", NULL, 1.0, NULL, 1, 0.02, 0, 0 };

/* Two runs of the same program, the runs in another order: no change, exit 0. */
static void test_same_passes(void)
{
    if (!tools())
        return;
    char a[64], b[64];
    struct fixture fb = quiet;
    fb.shift = 5;
    make_run(a, sizeof a, &quiet);
    make_run(b, sizeof b, &fb);
    struct cmd_result r;
    int st = diff(a, b, NULL, NULL, &r);
    if (st)
        fprintf(stderr, "\ndiff: %s%s\n", r.out, r.err);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "0 slower, 0 faster, 6 ~, 0 inconclusive"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "quiet: 0 of 6 points disturbed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "pass: no significant slowdown"));
    rm_rf(a);
    rm_rf(b);
}

/* thread 20% slower in B: significant, with its interval, exit 1; markdown gives a table. */
static void test_planted_slowdown_fails(void)
{
    if (!tools())
        return;
    char a[64], b[64];
    struct fixture fb = quiet;
    fb.slow = "thread";
    fb.factor = 1.2;
    fb.shift = 2;
    make_run(a, sizeof a, &quiet);
    make_run(b, sizeof b, &fb);
    struct cmd_result r;
    CU_ASSERT_EQUAL(diff(a, b, NULL, NULL, &r), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "2 slower"));
    const char *t = strstr(r.out, "sumsq thread cores=2: slower (time 1.2× [");
    CU_ASSERT_PTR_NOT_NULL(t);
    if (t) {   /* the interval: both ends within 3% of the planted 1.2 */
        double lo = atof(t + strlen("sumsq thread cores=2: slower (time 1.2× ["));
        const char *c = strchr(t, ',');
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        double hi = atof(c + 1);
        CU_ASSERT(lo > 1.16 && lo < 1.2 && hi > 1.2 && hi < 1.24);
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "FAIL: 2 significant slowdown(s) beyond 5%"));
    /* the same, as a table for a pull request */
    CU_ASSERT_EQUAL(diff(a, b, "FORMAT=markdown", NULL, &r), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "| sweep | workload | runner |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "| B/A [95% CI] |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "| cores | sumsq | thread | 2 |"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "**slower**"));
    /* a threshold above the change: not beyond it, exit 0 */
    CU_ASSERT_EQUAL(diff(a, b, "THRESHOLD=30", NULL, &r), 0);
    rm_rf(a);
    rm_rf(b);
}

/* The same slowdown while other processes used a whole CPU: inconclusive, never a fail. */
static void test_busy_is_inconclusive(void)
{
    if (!tools())
        return;
    char a[64], b[64];
    struct fixture fb = quiet;
    fb.slow = "thread";
    fb.factor = 1.2;
    fb.load = 1.0;
    make_run(a, sizeof a, &quiet);
    make_run(b, sizeof b, &fb);
    struct cmd_result r;
    CU_ASSERT_EQUAL(diff(a, b, NULL, NULL, &r), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "busy: 6 of 6 points disturbed"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "0 slower"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "2 inconclusive"));
    rm_rf(a);
    rm_rf(b);
}

/* A slowdown at points too short for the load meter (no other-CPU figure), in a run whose
 * other points were disturbed: nothing shows the machine was quiet, so inconclusive. */
static void test_unmetered_in_busy_run(void)
{
    if (!tools())
        return;
    char a[64], b[64];
    struct fixture fb = quiet;
    fb.slow = "thread";
    fb.factor = 1.2;
    make_run(a, sizeof a, &quiet);
    make_run(b, sizeof b, &fb);
    /* B: thread's runs unmetered, epoll's disturbed */
    char path[128], cmd[1024];
    snprintf(path, sizeof path, "%s/samples.csv", b);
    snprintf(cmd, sizeof cmd, "awk -F, -v OFS=, 'NR > 1 && $3 == \"thread\" && $5 == \"point\" { $8 = \"\" }"
             " NR > 1 && $3 == \"epoll\" { $8 = \"1.00\" } { print }' %s > %s.t && mv %s.t %s", path, path, path, path);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    struct cmd_result r;
    CU_ASSERT_EQUAL(diff(a, b, NULL, NULL, &r), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "0 slower"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "too short for the load meter in a busy run (2)"));
    rm_rf(a);
    rm_rf(b);
}

/* Another mode or size: refused in one line, exit 64; FORCE=1 compares, never failing. */
static void test_mode_mismatch_refused(void)
{
    if (!tools())
        return;
    char a[64], b[64], c[64];
    struct fixture fb = quiet, fc = quiet;
    fb.mode = "quick";
    fb.slow = "thread";
    fb.factor = 1.2;
    fc.size = "100000000";
    make_run(a, sizeof a, &quiet);
    make_run(b, sizeof b, &fb);
    make_run(c, sizeof c, &fc);
    struct cmd_result r;
    CU_ASSERT_EQUAL(diff(a, b, NULL, NULL, &r), 64);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "A is a default run and B a quick run"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "FORCE=1"));
    CU_ASSERT_EQUAL(diff(a, c, NULL, NULL, &r), 64);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "sizes differ (sumsq at 500000000 and 100000000)"));
    CU_ASSERT_EQUAL(diff(a, b, "FORCE=1", NULL, &r), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "compared anyway (FORCE=1)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "2 inconclusive"));
    rm_rf(a);
    rm_rf(b);
    rm_rf(c);
}

/* A run from before samples were kept (and before the tidy columns were named mean_s ...):
 * one note, means and spreads, all inconclusive. */
static void test_old_run_inconclusive(void)
{
    if (!tools())
        return;
    char a[64], b[64];
    struct fixture fa = quiet, fb = quiet;
    fa.samples = 0;
    fa.old_names = 1;
    fb.slow = "thread";
    fb.factor = 1.2;
    make_run(a, sizeof a, &fa);
    make_run(b, sizeof b, &fb);
    struct cmd_result r;
    CU_ASSERT_EQUAL(diff(a, b, NULL, NULL, &r), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "A has no per-run samples"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "0 slower, 0 faster, 0 ~, 6 inconclusive"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, " 1.2×"));   /* the means still shown */
    rm_rf(a);
    rm_rf(b);
}

/* A runner in one run only is named; bad input is one line without a stray code. */
static void test_only_in_one_named(void)
{
    if (!tools())
        return;
    char a[64], b[64];
    struct fixture fb = quiet;
    fb.extra = "mpi";
    make_run(a, sizeof a, &quiet);
    make_run(b, sizeof b, &fb);
    struct cmd_result r;
    CU_ASSERT_EQUAL(diff(a, b, NULL, NULL, &r), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "runner mpi: only in B (not compared)"));
    CU_ASSERT_PTR_NULL(strstr(r.out, "cores   sumsq        mpi"));
    CU_ASSERT_EQUAL(diff(a, a, NULL, NULL, &r), 64);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "diff: A and B are the same run"));
    CU_ASSERT_PTR_NULL(strstr(r.err, ") 64"));
    CU_ASSERT_EQUAL(diff(a, b, "THRESHOLD=lots", NULL, &r), 64);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT_EQUAL(diff(a, b, "FORMAT=html", NULL, &r), 64);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    rm_rf(a);
    rm_rf(b);
}

/* scripts/verdict.py bench puts each point's 95% bootstrap interval on its tidy row (the
 * plots' error bars and the report's tables): around the point's speedup, and the same
 * figures as points.csv. Checked on thread at 2 cores, whose speedup is 2 by construction. */
static void test_tidy_rows_get_interval(void)
{
    if (!tools())
        return;
    char a[64];
    make_run(a, sizeof a, &quiet);
    const char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    char *argv[] = { (char *)py, "scripts/verdict.py", "bench", a, NULL };
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 120, &r), 0);
    CU_ASSERT(r.exited && r.status == 0);
    char path[PATH_MAX], buf[64];
    snprintf(path, sizeof path, "%s/cores.csv", a);
    char *csv = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    int cr = col_of(csv, "runner"), cv = col_of(csv, "value"), cs = col_of(csv, "speedup"),
        lo = col_of(csv, "speedup_ci_low"), hi = col_of(csv, "speedup_ci_high");
    CU_ASSERT(cr >= 0 && cv >= 0 && cs >= 0 && lo >= 0 && hi >= 0);
    int seen = 0;
    for (int i = 0; lo >= 0 && hi >= 0 && data_line(csv, i); i++) {
        const char *l = data_line(csv, i);
        if (strcmp(field(l, cr, buf, sizeof buf), "thread") || atoi(field(l, cv, buf, sizeof buf)) != 2)
            continue;
        /* thread at 2 cores: half seq's time with a 1% spread a side, so S = 2 within a few % */
        double s = atof(field(l, cs, buf, sizeof buf)), l0 = atof(field(l, lo, buf, sizeof buf)),
               h0 = atof(field(l, hi, buf, sizeof buf));
        CU_ASSERT(l0 > 1.9 && l0 < s && s < h0 && h0 < 2.1);
        if (!(l0 > 1.9 && l0 < s && s < h0 && h0 < 2.1))
            fprintf(stderr, "\n  thread at 2 cores: %g [%g, %g]\n", s, l0, h0);
        char want[128];
        snprintf(want, sizeof want, "cores,sumsq,thread,2,%d,", RUNS);
        snprintf(path, sizeof path, "%s/points.csv", a);
        char *pts = slurp(path, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pts);
        const char *p = strstr(pts, want);
        CU_ASSERT_PTR_NOT_NULL(p);
        if (p) {   /* points.csv: sweep,workload,runner,value,n,speedup,ci_low,ci_high */
            CU_ASSERT_DOUBLE_EQUAL(atof(field(p, 6, buf, sizeof buf)), l0, 1e-4);
            CU_ASSERT_DOUBLE_EQUAL(atof(field(p, 7, buf, sizeof buf)), h0, 1e-4);
        }
        free(pts);
        seen++;
    }
    CU_ASSERT_EQUAL(seen, 1);
    free(csv);

    /* and the run as one document, results.json, valid against its schema; a planted
     * defect (a negative count) is not */
    snprintf(path, sizeof path, "%s/results.json", a);
    char *doc = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_PTR_NOT_NULL(strstr(doc, "\"kind\": \"bench\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(doc, "\"runner\": \"thread\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(doc, "\"mean_s\": "));
    CU_ASSERT_PTR_NULL(strstr(doc, "\"mean_s\": null"));   /* every point's from cores.csv */
    char *sargv[] = { (char *)py, "scripts/schema-check.py", path, NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(sargv, 60, &r), 0);
    CU_ASSERT(r.exited && r.status == 0);
    if (!r.exited || r.status != 0)
        fprintf(stderr, "\n  results.json: %s%s\n", r.out, r.err);
    char *d = strstr(doc, "\"disturbed_runs\": 0");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "%.*s\"disturbed_runs\": -1%s", (int)(d - doc), doc, d + strlen("\"disturbed_runs\": 0"));
    CU_ASSERT_EQUAL(fclose(f), 0);
    CU_ASSERT_EQUAL_FATAL(run_cmd(sargv, 60, &r), 0);
    CU_ASSERT(r.exited && r.status == 1 && strstr(r.out, "disturbed_runs"));
    free(doc);
    rm_rf(a);
}

CU_TestInfo tests_diff[] = {
    { "same program, runs reordered: no change, exit 0", test_same_passes },
    { "planted 20% slowdown: significant with its interval, exit 1", test_planted_slowdown_fails },
    { "a slowdown on a busy machine: inconclusive, exit 0", test_busy_is_inconclusive },
    { "a slowdown too short for the load meter in a busy run: inconclusive", test_unmetered_in_busy_run },
    { "another mode or size: one line, exit 64; FORCE=1 compares", test_mode_mismatch_refused },
    { "a run without per-run samples: a note, all inconclusive", test_old_run_inconclusive },
    { "a runner in one run only is named; bad input one line", test_only_in_one_named },
    { "each speedup's 95% interval on its tidy row and in results.json, valid", test_tidy_rows_get_interval },
    CU_TEST_INFO_NULL,
};
