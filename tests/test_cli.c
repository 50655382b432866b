/* test_cli.c: the built binary: known answers through --format csv, output shapes, and
 * every bad input ending with exit 64 and a one-line message naming option and value. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "util.h"

/* result column (16) of the first CSV row of `parlab run ... --format csv` */
static void expect_csv(const char *want, const char *w, const char *r, const char *n)
{
    struct cmd_result res;
    char f[200];
    CU_ASSERT_EQUAL_FATAL(run_parlab(&res, 120, "run", "-w", w, "-r", r, "-n", n, "--repeat",
                                     "1", "--warmup", "0", "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(res.exited, 1);
    CU_ASSERT_EQUAL(res.status, 0);
    CU_ASSERT_STRING_EQUAL(csv_field(res.out, 1, 16, f, sizeof f), want);
    CU_ASSERT_STRING_EQUAL(csv_field(res.out, 1, 17, f, sizeof f), "yes");
}

static void test_known_answers_csv(void)
{
    expect_csv("78498", "primes", "thread", "1e6");
    expect_csv("148933", "primes", "fork", "2M");
    expect_csv("41666654166667500000", "sumsq", "seq", "5000000");
    expect_csv("333333283333335000000", "sumsq", "thread", "10M");
}

static void test_primes_text(void)
{
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "run", "-w", "primes", "-r", "seq", "-n", "2M",
                                     "--repeat", "2", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "148933"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "verified"));
    /* Two reported runs after the default warm-up, every field labelled, times scaled. */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "run 2/2"));
    CU_ASSERT_PTR_NULL(strstr(r.out, "run 3/"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "context switches "));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "time (mean ± σ): "));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "range (min … max): "));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "2 runs, after 1 warm-up run"));
    /* in the mean's unit: ms on an idle machine, s on a busy one */
    CU_ASSERT(strstr(r.out, " ms ± ") != NULL || strstr(r.out, " s ± ") != NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "# parlab"));   /* the machine it came from */
}

static const char *const csv_header =
    "workload,size,runner,workers,cores,tasks,schedule,chunk,steps,wall_s,user_s,sys_s,"
    "max_rss_kb,vol_cs,invol_cs,result,verified,check,host,other_cpu,start_s\n";

static void test_csv_shape(void)
{
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "run", "-w", "sumsq", "-r", "thread", "-n", "1M",
                                     "--repeat", "3", "--warmup", "0", "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(strncmp(r.out, csv_header, strlen(csv_header)), 0);
    CU_ASSERT_EQUAL(count_lines(r.out), 4);            /* header + one row per repeat */
    for (const char *p = r.out; (p = strchr(p, '\n')) && p[1]; p++) {
        int commas = 0;
        for (const char *q = p + 1; *q && *q != '\n'; q++)
            commas += *q == ',';
        CU_ASSERT_EQUAL(commas, 20);
        /* other_cpu: a share of the machine's CPUs, never below 0 */
        char f[32];
        double other = atof(csv_field(p + 1, 0, 20, f, sizeof f));
        CU_ASSERT(*f && other >= 0 && other <= 1024);
        /* start_s, last: empty for a runner that keeps no processes for the command */
        CU_ASSERT_STRING_EQUAL(csv_field(p + 1, 0, 21, f, sizeof f), "");
    }
}

/* --baseline: seq and the runner take turns, warm-ups too, and the summary gives the
 * speedup with its interval, the rank test and the verdict with its reason. */
static void test_baseline_interleaved(void)
{
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 120, "run", "-w", "sumsq", "-r", "thread", "-n", "1M",
                                     "--repeat", "3", "--baseline", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    static const char *const order[] = { "run 1/6  seq ", "run 2/6  thread ", "run 3/6  seq ",
                                         "run 4/6  thread ", "run 5/6  seq ", "run 6/6  thread " };
    const char *at = r.out;
    for (size_t i = 0; i < sizeof order / sizeof order[0] && at; i++) {
        const char *next = strstr(at, order[i]);
        CU_ASSERT_PTR_NOT_NULL(next);
        at = next;
    }
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "take turns"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "95% CI against seq: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ", interleaved, 3 runs each\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "Mann-Whitney p = "));
    /* Whatever the machine's load, one of the three, with its reason. */
    const char *v = strstr(r.out, "verdict:            faster than seq: ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    v += strlen("verdict:            faster than seq: ");
    CU_ASSERT(strncmp(v, "pass: ", 6) == 0 || strncmp(v, "fail: ", 6) == 0 ||
              strncmp(v, "inconclusive: ", 14) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "other processes: "));
    /* The warm-ups alternate too: with --warmup 1 --repeat 1 seq runs twice, thread twice
     * (and the one traced run is the runner's last). */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "run", "-w", "sumsq", "-r", "thread", "-n", "1M",
                                     "--repeat", "1", "--baseline", "--format", "csv",
                                     (char *)NULL), 0);
    CU_ASSERT_EQUAL(count_lines(r.out), 3);
    char f[32];
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 3, f, sizeof f), "seq");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 2, 3, f, sizeof f), "thread");
}

/* Warm-up runs are run and checked, never reported: the default is one, --warmup 0 none. */
static void test_warmup_not_reported(void)
{
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "run", "-w", "sumsq", "-r", "seq", "-n", "1M",
                                     "--repeat", "2", "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(count_lines(r.out), 3);            /* header + the two timed runs */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "run", "-w", "sumsq", "-r", "seq", "-n", "1M",
                                     "--repeat", "1", "--warmup", "0", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "run 1/1"));
    CU_ASSERT_PTR_NULL(strstr(r.out, "warm-up"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "1 run"));
}

/* A run too short to time well says so in a "#" line (text only: CSV stays data). */
static void test_short_run_warns(void)
{
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 30, "run", "-w", "noop", "-r", "seq", "-n", "10",
                                     (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\n# warning: the shortest run took "));
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 30, "run", "-w", "noop", "-r", "seq", "-n", "10",
                                     "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_PTR_NULL(strstr(r.out, "warning"));
    CU_ASSERT_PTR_NULL(strstr(r.err, "warning"));
    CU_ASSERT_EQUAL(count_lines(r.out), 4);            /* header + the default 3 runs */
}

static void test_json_shape(void)
{
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "run", "-w", "primes", "-r", "fork", "-n", "1e5",
                                     "--repeat", "2", "--warmup", "0", "--format", "json", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    /* One document: the rows (two repeats) and one summary; test_report.c checks the rest. */
    json_t *doc = json_loads(r.out, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    json_t *rows = json_object_get(doc, "rows");
    CU_ASSERT_EQUAL(json_array_size(rows), 2);
    CU_ASSERT_EQUAL(json_array_size(json_object_get(doc, "summary")), 1);
    json_t *row = json_array_get(rows, 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(row, "result")), "9592");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(row, "verified")), "yes");
    CU_ASSERT(json_is_real(json_object_get(row, "wall_s")));
    json_decref(doc);
}

static void test_list_help_version(void)
{
    struct cmd_result r;
    run_parlab(&r, 10, "list", (char *)NULL);
    CU_ASSERT_EQUAL(r.status, 0);
    static const char *const names[] = { "primes", "sumsq", "montecarlo", "mandelbrot",
                                         "nbody", "noop", "sleep", "seq", "fork", "thread",
                                         "process", "omp" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CU_ASSERT_PTR_NOT_NULL(strstr(r.out, names[i]));
    /* The fork-per-task runner was named spawn, Python's name for a start method: the old
     * name says the new one. */
    run_parlab(&r, 10, "run", "-w", "primes", "-r", "spawn", (char *)NULL);
    CU_ASSERT_EQUAL(r.status, 64);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "-r process"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "--start spawn"));
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    run_parlab(&r, 10, "-V", (char *)NULL);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(strncmp(r.out, "parlab ", 7), 0);
    run_parlab(&r, 10, "run", "--help", (char *)NULL);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "--schedule"));
    run_parlab(&r, 10, "-h", (char *)NULL);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "usage"));
}

/* parlab list --format csv: the header scripts rely on, then one row per registry entry
 * with as many fields, the summary quoted last. */
static void test_list_csv(void)
{
    struct cmd_result r;
    run_parlab(&r, 10, "list", "--format", "csv", (char *)NULL);
    CU_ASSERT_EQUAL_FATAL(r.status, 0);
    const char *hdr = "type,name,kind,default_size,min_size,max_size,default_tasks,"
                      "default_steps,test_size,tiny_size,quick_size,bench_size,full_size,"
                      "tiny_args,bench_args,check,schedules,flags,weak_size,unit,ladder,"
                      "summary\n";
    CU_ASSERT_EQUAL_FATAL(strncmp(r.out, hdr, strlen(hdr)), 0);
    int rows = 0;
    for (const char *line = r.out + strlen(hdr); *line; rows++) {
        const char *end = strchr(line, '\n'), *q = strchr(line, '"');
        CU_ASSERT_FATAL(end != NULL && q != NULL && q < end && end[-1] == '"');
        int commas = 0;
        for (const char *c = line; c < q; c++)
            commas += *c == ',';
        CU_ASSERT_EQUAL(commas, 21);
        CU_ASSERT(strncmp(line, "workload,", 9) == 0 || strncmp(line, "runner,", 7) == 0);
        line = end + 1;
    }
    int want = 0;
    for (const struct workload *const *w = wl_registry; *w; w++)
        want++;
    char why[300];
    for (const struct runner *const *rr = runner_registry; *rr; rr++)
        want += runner_usable(*rr, why, sizeof why);   /* built here */
    CU_ASSERT_EQUAL(rows, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nworkload,nbody,cpu,2000,2,1000000,64,10,"));
    /* the weak sweep's N0, the unit and compare's ladder; flags for workloads too */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",any-order linear,250000000,term,10000 20000 50000 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",number tested,10000 100000 1000000 2000000 "));
    run_parlab(&r, 10, "list", "--format", "xml", (char *)NULL);
    CU_ASSERT_EQUAL(r.status, 64);
}

/* Each bad input: exit 64, nothing on stdout, one line on stderr containing `needle`. */
static const struct bad {
    const char *args[10];
    const char *needle;
} bad[] = {
    { { "run", "-w", "nope", "-r", "seq" }, "unknown workload 'nope'" },
    { { "run", "-w", "primes", "-r", "nope" }, "unknown runner 'nope'" },
    { { "run", "-w", "primes", "-r", "seq", "-j", "0" }, "-j 0" },
    { { "run", "-w", "primes", "-r", "seq", "-j", "-1" }, "-j -1" },
    { { "run", "-w", "primes", "-r", "seq", "-j", "100000000000" }, "-j 100000000000" },
    { { "run", "-w", "primes", "-r", "seq", "-n", "abc" }, "-n abc" },
    { { "run", "-w", "primes", "-r", "seq", "-n", "1e99" }, "-n 1e99" },
    { { "run", "-w", "primes", "-r", "seq", "-n", "" }, "-n " },
    { { "run", "-w", "primes", "-r", "seq", "-n", "1.5" }, "-n 1.5" },
    { { "run", "-w", "primes", "-r", "seq", "-n", "99999999999999999999999" }, "too large" },
    { { "run", "-w", "primes", "-r", "seq", "-t", "0" }, "-t 0" },
    { { "run", "-w", "primes", "-r", "thread", "-s", "random" }, "-s random" },
    { { "run", "-w", "primes", "-r", "seq", "-s", "guided" }, "-s guided" },
    { { "run", "-w", "primes", "-r", "seq", "--format", "xml" }, "--format xml" },
    { { "run", "-w", "primes", "-r", "seq", "-n" }, "-n" },
    { { "run", "-w", "primes", "-r", "seq", "--repeat", "0" }, "--repeat 0" },
    { { "run", "-w", "primes", "-r", "seq", "--warmup", "-1" }, "--warmup -1" },
    { { "run", "-w", "primes", "-r", "seq", "--warmup", "x" }, "--warmup x" },
    { { "run", "-w", "primes", "-r", "seq", "-c", "0" }, "-c 0" },
    { { "run", "-w", "primes", "-r", "thread", "--cores", "100000" }, "--cores 100000" },
    { { "run", "-w", "primes", "-r", "thread", "--loops", "2" }, "--loops 2" },
    { { "run", "-w", "primes", "-r", "seq", "--task-timeout", "-1" }, "--task-timeout -1" },
    { { "run", "-w", "primes", "-r", "seq", "--inject", "boom@1" }, "--inject boom@1" },
    { { "run", "-w", "primes", "-r", "seq", "-t", "4", "--inject", "segv@9" }, "--inject 9" },
    { { "run", "-w", "primes", "-r", "seq", "--steps", "3" }, "--steps 3" },
    { { "run", "-w", "sumsq", "-r", "seq", "-n", "5e9" }, "-n 5000000000" },
    { { "run", "-r", "seq" }, "-w" },
    { { "run", "-w", "primes", "-r", "seq", "--bogus" }, "--bogus" },
    { { "frobnicate" }, "frobnicate" },
};

static void test_bad_inputs(void)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[16] = { (char *)parlab_bin() };
        int n = 1;
        for (int k = 0; bad[i].args[k]; k++)
            argv[n++] = (char *)bad[i].args[k];
        struct cmd_result r;
        CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 10, &r), 0);
        if (!r.exited || r.status != 64 || !strstr(r.err, bad[i].needle) ||
            count_lines(r.err) != 1 || strncmp(r.err, "parlab: ", 8) != 0)
            fprintf(stderr, "\n  case %zu (%s): exit %d/%d, stderr: %s", i, bad[i].needle,
                    r.exited, r.status, r.err);
        CU_ASSERT_EQUAL(r.exited, 1);
        CU_ASSERT_EQUAL(r.status, 64);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, bad[i].needle));
        CU_ASSERT_EQUAL(count_lines(r.err), 1);
        CU_ASSERT_EQUAL(strncmp(r.err, "parlab: ", 8), 0);
    }
}

static void test_wrong_result_exits_1(void)
{
    struct cmd_result r;
    run_parlab(&r, 30, "run", "-w", "mandelbrot", "-r", "thread", "-n", "4096", "--repeat", "1",
               "--warmup", "0", "--expect", "12345", (char *)NULL);
    CU_ASSERT_EQUAL(r.exited, 1);
    CU_ASSERT_EQUAL(r.status, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "wrong result"));
}

static void test_number_forms(void)
{
    static const char *const forms[] = { "1000000", "1M", "1e6", "1.0e6", "1000k", "0.001G" };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        expect_csv("78498", "primes", "seq", forms[i]);
}

/* A bad value is echoed cut and escaped: the message stays one short line. */
static void test_bad_value_echo(void)
{
    static char big[5001];
    memset(big, '7', 5000);
    big[2500] = 'x';
    struct cmd_result r;
    run_parlab(&r, 10, "run", "-w", "noop", "-r", "seq", "-n", big, (char *)NULL);
    CU_ASSERT(r.exited && r.status == 64);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT(strlen(r.err) < 500);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "not a number"));
    run_parlab(&r, 10, "run", "-w", "no\nop\tx", "-r", "seq", (char *)NULL);
    CU_ASSERT(r.exited && r.status == 64);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "no\\nop\\tx"));
    if (count_lines(r.err) != 1)
        fprintf(stderr, "\n  %s", r.err);
}

CU_TestInfo tests_cli[] = {
    { "known answers through --format csv", test_known_answers_csv },
    { "text output for people", test_primes_text },
    { "csv header and one row per repeat", test_csv_shape },
    { "--baseline: seq and the runner take turns; interval, rank test, verdict",
      test_baseline_interleaved },
    { "warm-up runs are not reported", test_warmup_not_reported },
    { "a run under 5 ms is flagged", test_short_run_warns },
    { "json: one document with the rows and a summary", test_json_shape },
    { "list, help and version", test_list_help_version },
    { "list --format csv for scripts", test_list_csv },
    { "bad inputs exit 64 with one line", test_bad_inputs },
    { "a wrong result exits 1", test_wrong_result_exits_1 },
    { "sizes as 1000000, 1M, 1e6", test_number_forms },
    { "a bad value is echoed cut and escaped, one line", test_bad_value_echo },
    CU_TEST_INFO_NULL,
};
