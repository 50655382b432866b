/* test_micro.c: the measuring commands (overhead, share, pitfall) through the built binary:
 * exact counts, the deadlock answer in time, copy-on-write copies, every overhead row, and
 * bad option values. Each command runs in a child with alarm() (run_parlab). */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "util.h"

/* One data row of the measuring commands' CSV, whose header the tests check is csv_header
 * (so the fields are read at its positions): the JSON row's fields under the same names. */
struct mrow {
    char section[32], what[128], unit[16], experiment[32], note[200];
    unsigned workers;
    double median, min, max, mean, stddev, ci_low, ci_high;
    int n;
};

static const char *const csv_header =
    "command,section,what,workers,unit,median,min,max,q1,q3,n,ratio,host,experiment,"
    "mean,stddev,ci_low,ci_high,note\n";

/* Parse one CSV line (up to '\n'). 1 if it has the 19 fields and a consistent summary,
 * else 0. */
static int parse_mrow(const char *line, struct mrow *r)
{
    char buf[768], *f[24], *save = NULL;
    size_t len = strcspn(line, "\n");
    int n = 0;
    if (len >= sizeof buf)
        return 0;
    memcpy(buf, line, len);
    buf[len] = '\0';
    /* strtok would merge empty fields (the ratio is often empty): split by hand. */
    f[n++] = buf;
    for (char *p = buf; *p && n < 24; p++)
        if (*p == ',') {
            *p = '\0';
            f[n++] = p + 1;
        }
    (void)save;
    if (n != 19)
        return 0;
    snprintf(r->section, sizeof r->section, "%s", f[1]);
    snprintf(r->what, sizeof r->what, "%s", f[2]);
    r->workers = (unsigned)strtoul(f[3], NULL, 10);
    snprintf(r->unit, sizeof r->unit, "%s", f[4]);
    r->median = strtod(f[5], NULL);
    r->min = strtod(f[6], NULL);
    r->max = strtod(f[7], NULL);
    r->n = atoi(f[10]);
    snprintf(r->experiment, sizeof r->experiment, "%s", f[13]);
    r->mean = strtod(f[14], NULL);
    r->stddev = strtod(f[15], NULL);
    r->ci_low = *f[16] ? strtod(f[16], NULL) : NAN;
    r->ci_high = *f[17] ? strtod(f[17], NULL) : NAN;
    snprintf(r->note, sizeof r->note, "%s", f[18]);
    /* The summary is consistent: the mean and median lie within min … max, and the mean's
     * interval, there from 2 samples on (empty for 1), holds the mean. */
    if (!(r->min <= r->mean + 1e-9 * fabs(r->mean) && r->mean <= r->max + 1e-9 * fabs(r->max) &&
          r->min <= r->median && r->median <= r->max && r->stddev >= 0 && r->n >= 1))
        return 0;
    if ((r->n > 1) != (*f[16] && *f[17]))
        return 0;
    if (r->n > 1 && !(r->ci_low <= r->mean + 1e-9 * fabs(r->mean) &&
                      r->mean <= r->ci_high + 1e-9 * fabs(r->mean)))
        return 0;
    return 1;
}

/* The first row whose section is `section` and whose what begins with `what`. */
static int find_mrow(const char *csv, const char *section, const char *what, struct mrow *r)
{
    const char *p = strchr(csv, '\n');      /* skip the header */
    while (p && *++p) {
        if (parse_mrow(p, r) && strcmp(r->section, section) == 0 &&
            strncmp(r->what, what, strlen(what)) == 0)
            return 1;
        p = strchr(p, '\n');
    }
    return 0;
}

static unsigned cpus(void)
{
    cpu_set_t s;
    return sched_getaffinity(0, sizeof s, &s) ? 1 : (unsigned)CPU_COUNT(&s);
}

/* The final count of `method` under fork and thread is exactly `expect`, in CSV `out`. */
static void expect_exact(const char *out, const char *method, double expect)
{
    struct mrow m;
    for (int k = 0; k < 2; k++) {
        char what[64];
        snprintf(what, sizeof what, "%s final count", k ? "thread" : "fork");
        CU_ASSERT_FATAL(find_mrow(out, method, what, &m));
        CU_ASSERT_EQUAL(m.min, expect);
        CU_ASSERT_EQUAL(m.max, expect);
        snprintf(what, sizeof what, "%s W=2", k ? "thread" : "fork");
        CU_ASSERT(find_mrow(out, method, what, &m) && m.median > 0);
    }
}

/* Every method but none counts exactly, under fork and under thread. The in-memory ones
 * run long enough (millions of increments, three times) that a missing lock would lose
 * updates even when other load keeps the workers from overlapping in some runs. */
static void test_share_exact(void)
{
    static const char *const fast[] = { "lock", "atomic", "local", "padded", "unpadded" };
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "share", "-j", "2", "--method",
                                     "lock,atomic,local,padded,unpadded", "--ops", "5M",
                                     "--repeat", "3", "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.exited, 1);
    CU_ASSERT_EQUAL(r.status, 0);
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++)
        expect_exact(r.out, fast[i], 10000000.0);
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "share", "-j", "2", "--method", "pipe,manager",
                                     "--ops", "2000", "--repeat", "1", "--format", "csv",
                                     (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    expect_exact(r.out, "pipe", 4000.0);
    expect_exact(r.out, "manager", 4000.0);
}

/* Unsynchronised load/add/store from two CPUs loses updates. */
static void test_share_none_loses(void)
{
    struct cmd_result r;
    struct mrow m;
    if (cpus() < 2)
        return;      /* one CPU: the workers take turns and may lose nothing */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "share", "--method", "none", "-j", "2", "--ops",
                                     "20M", "--repeat", "3", "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    for (int k = 0; k < 2; k++) {
        CU_ASSERT_FATAL(find_mrow(r.out, "none", k ? "thread final count" : "fork final count", &m));
        CU_ASSERT(m.min < 40000000.0);     /* at least one of the runs lost updates */
    }
}

/* A task waiting on its own pool gets -EDEADLK at once; the whole pitfall ends quickly. */
static void test_pitfall_deadlock(void)
{
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 10, "pitfall", "deadlock", "--repeat", "1", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.exited, 1);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT(r.secs < 2.0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "fork pool: get() on its own pool -> -EDEADLK"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "thread pool: get() on its own pool -> -EDEADLK"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "ETIMEDOUT"));
}

/* Reading the parent's memory copies nothing; every page written is a fault and a copy. */
static void test_pitfall_cow(void)
{
#ifdef __SANITIZE_THREAD__
    /* ThreadSanitizer's shadow memory takes a page fault on reads too: the counts would
     * measure the sanitizer, not copy-on-write. */
    fprintf(stderr, "\n  skipped under ThreadSanitizer");
    return;
#endif
    struct cmd_result r;
    struct mrow fk, rd, w25, w50, w100, pss_rd, pss_all;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 30, "pitfall", "cow", "--mb", "16", "-j", "2",
                                     "--repeat", "1", "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL_FATAL(r.status, 0);
    CU_ASSERT_FATAL(find_mrow(r.out, "cow", "after fork (0 pages written) minor faults", &fk));
    CU_ASSERT_FATAL(find_mrow(r.out, "cow", "read all (0 pages written) minor faults", &rd));
    CU_ASSERT_FATAL(find_mrow(r.out, "cow", "wrote 25% (1024 pages written) minor faults", &w25));
    CU_ASSERT_FATAL(find_mrow(r.out, "cow", "wrote 50% (2048 pages written) minor faults", &w50));
    CU_ASSERT_FATAL(find_mrow(r.out, "cow", "wrote 100% (4096 pages written) minor faults", &w100));
    CU_ASSERT(rd.max - fk.min < 256);                  /* 4096 pages read: next to no faults */
    CU_ASSERT(w25.min - rd.max >= 0.9 * 1024);
    CU_ASSERT(w50.min - w25.max >= 0.9 * 1024);
    CU_ASSERT(w100.min - w50.max >= 0.9 * 2048);
    CU_ASSERT_FATAL(find_mrow(r.out, "cow", "read all (0 pages written) PSS", &pss_rd));
    CU_ASSERT_FATAL(find_mrow(r.out, "cow", "wrote 100% (4096 pages written) PSS", &pss_all));
    CU_ASSERT(pss_all.min > pss_rd.max + 8 * 1024);    /* KiB: well over half the array more */
}

/* Every row of overhead, once each, with one sample; epoll only once it is built. */
static void test_overhead_rows(void)
{
    static const struct { const char *section, *what; } rows[] = {
        { "start", "omp first parallel region" }, { "process", "fork+exit+wait (small parent)" },
        { "process", "fork+exit+wait (16 MiB touched parent)" },
        { "process", "fork+exec /bin/true+wait" }, { "thread", "pthread_create+join" },
        { "start", "fork pool ready" }, { "start", "thread pool ready" },
        { "dispatch", "omp dynamic chunk 1 per task" },
        { "dispatch", "thread pool dynamic chunk 1 per task" },
        { "dispatch", "fork pool dynamic chunk 1 per task" }, { "dispatch", "process per task" },
        { "dispatch", "thread pool / omp per task" }, { "dispatch", "fork pool / omp per task" },
        { "wake", "round trip over pipe" }, { "wake", "round trip over eventfd" },
        { "wake", "round trip over epoll" }, { "wake", "round trip over futex" },
        { "sync", "mutex lock+unlock uncontended" },
        { "sync", "mutex lock+unlock contended by 2 threads" },
        { "sync", "atomic fetch_add uncontended" },
        { "sync", "atomic fetch_add contended by 2 threads" },
        { "speedup", "primes N=100000 seq wall" }, { "speedup", "mandelbrot N=40000 seq wall" },
    };
    static const char *const sched[] = { "static", "dynamic", "guided" };
    struct cmd_result r, list;
    struct mrow m;

#ifdef __SANITIZE_THREAD__
    /* Under ThreadSanitizer every atomic and lock costs a hundred times more: the table
     * takes minutes and measures the sanitizer. Its pools and runners are the ones the
     * matrix suite runs under ThreadSanitizer already. */
    fprintf(stderr, "\n  skipped under ThreadSanitizer");
    return;
#endif
    CU_ASSERT_EQUAL_FATAL(run_parlab(&list, 10, "list", (char *)NULL), 0);
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 120, "overhead", "--repeat", "1", "--quick", "--format",
                                     "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.exited, 1);
    CU_ASSERT_EQUAL_FATAL(r.status, 0);
    CU_ASSERT_EQUAL(strncmp(r.out, csv_header, strlen(csv_header)), 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int found = find_mrow(r.out, rows[i].section, rows[i].what, &m);
        CU_ASSERT(found);
        if (!found)
            fprintf(stderr, "\n  missing overhead row: %s %s\n", rows[i].section, rows[i].what);
        else
            CU_ASSERT(m.n == 1 && m.median > 0 && isfinite(m.median) &&
                      m.mean == m.median && m.stddev == 0 && strcmp(m.experiment, "overhead") == 0);
    }
    /* A row's note, which the text table shows beside it, is in the CSV too (its commas
     * made semicolons), a ratio in it as digits then × (no exponent). */
    CU_ASSERT(find_mrow(r.out, "dispatch", "process per task", &m) &&
              strstr(m.note, "noop tasks; a fork each; ") != NULL &&
              strstr(m.note, "× the omp mean") != NULL && !strstr(m.note, "e+"));
    int has_epoll = strstr(list.out, "  epoll ") != NULL;
    /* mpi's rows where its runner is built (parlab list shows it indented). */
    int has_mpi = strstr(list.out, "\n  mpi ") != NULL;
    CU_ASSERT_EQUAL(find_mrow(r.out, "mpi", "mpi ping-pong one way (8 B)", &m), has_mpi);
    CU_ASSERT_EQUAL(find_mrow(r.out, "mpi", "mpi farm dynamic chunk 1 per task", &m), has_mpi);
    CU_ASSERT_EQUAL(find_mrow(r.out, "dispatch", "epoll loop per task", &m), has_epoll);
    CU_ASSERT_EQUAL(find_mrow(r.out, "dispatch", "epoll loop / omp per task", &m), has_epoll);
    /* The speedup of every runner on both workloads; fork, thread and omp under all three. */
    static const char *const runners[] = { "fork", "thread", "omp", "process", "epoll" };
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++) {
        if (i == 4 && !has_epoll)
            continue;
        for (int w = 0; w < 2; w++) {
            int n = 0;
            for (int s = 0; s < 3; s++) {
                char what[96];
                snprintf(what, sizeof what, "%s %s %s", w ? "mandelbrot N=40000" : "primes N=100000",
                         runners[i], sched[s]);
                n += find_mrow(r.out, "speedup", what, &m) && strcmp(m.unit, "x") == 0;
            }
            CU_ASSERT(i < 3 ? n == 3 : n >= 1);
        }
    }
    /* Every data line is a whole row. */
    int lines = 0, good = 0;
    for (const char *p = strchr(r.out, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        lines++;
        good += parse_mrow(p + 1, &m);
    }
    CU_ASSERT_EQUAL(good, lines);
}

/* The number of lines of out that hold needle. */
static int lines_with(const char *out, const char *needle)
{
    int n = 0;
    for (const char *p = out; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* A conclusion is computed: each runner gets exactly one verdict, the effect shown or
 * the plain statement that it did not show, beside the figures it came from. */
static void test_pitfall_verdicts(void)
{
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "pitfall", "false-sharing", "-j", "2", "--ops",
                                     "200k", "--repeat", "2", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    for (int k = 0; k < 2; k++) {
        char shows[64], not[64];
        snprintf(shows, sizeof shows, "# %s: one shared line cost", k ? "thread" : "fork");
        snprintf(not, sizeof not, "# %s: unpadded ", k ? "thread" : "fork");
        CU_ASSERT_EQUAL(lines_with(r.out, shows) + lines_with(r.out, not), 1);
    }
    CU_ASSERT_EQUAL(lines_with(r.out, "false sharing shows") +
                    lines_with(r.out, "the expected slowdown did NOT show"), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "mean ± σ"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "min … max"));

    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "pitfall", "oversubscribe", "-r", "thread", "-n",
                                     "100k", "--repeat", "1", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(lines_with(r.out, "# thread: 32× the CPUs took "), 1);
    CU_ASSERT_EQUAL(lines_with(r.out, ": slower: ") + lines_with(r.out, ": no gain, ") +
                    lines_with(r.out, ": FASTER, so the expected effect did not show"), 1);
    CU_ASSERT_EQUAL(lines_with(r.out, "# thread: involuntary context switches "), 1);
    CU_ASSERT_PTR_NULL(strstr(r.out, "# fork:"));
}

static void test_pitfall_list(void)
{
    static const char *const names[] = { "oversubscribe", "cow", "false-sharing", "deadlock",
                                         "pickling", "chunking" };
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 10, "pitfall", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CU_ASSERT_PTR_NOT_NULL(strstr(r.out, names[i]));
}

/* Each bad value: exit 64, nothing on stdout, one line "parlab: ..." naming it. */
static void test_bad_options(void)
{
    static const struct {
        const char *args[8];
        const char *needle;
    } bad[] = {
        { { "overhead", "--repeat", "0" }, "--repeat 0" },
        { { "overhead", "--repeat", "many" }, "--repeat many" },
        { { "overhead", "--repeat", "99999" }, "--repeat 99999" },
        { { "overhead", "--format", "xml" }, "--format xml" },
        { { "overhead", "--bogus" }, "--bogus" },
        { { "overhead", "extra" }, "extra" },
        { { "share", "--method", "telepathy" }, "--method telepathy" },
        { { "share", "--runner", "omp" }, "--runner omp" },
        { { "share", "-j", "0" }, "-j 0" },
        { { "share", "--ops", "-5" }, "--ops -5" },
        { { "share", "--ops", "1.5" }, "--ops 1.5" },
        { { "share", "--repeat" }, "--repeat" },
        { { "pitfall", "nosuch" }, "unknown pitfall 'nosuch'" },
        { { "pitfall", "cow", "--mb", "0" }, "--mb 0" },
        { { "pitfall", "cow", "--mb", "1e9" }, "--mb 1e9" },
        { { "pitfall", "deadlock", "--mb", "5" }, "--mb 5" },
        { { "pitfall", "chunking", "-n", "abc" }, "-n abc" },
        { { "pitfall", "deadlock", "--lock-ms", "0" }, "--lock-ms 0" },
        { { "pitfall", "oversubscribe", "--runner", "gpu" }, "--runner gpu" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[12] = { (char *)parlab_bin() };
        struct cmd_result r;
        int n = 1;
        for (int j = 0; j < 8 && bad[i].args[j]; j++)
            argv[n++] = (char *)bad[i].args[j];
        argv[n] = NULL;
        CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 10, &r), 0);
        CU_ASSERT_EQUAL(r.exited, 1);
        CU_ASSERT_EQUAL(r.status, 64);
        CU_ASSERT_EQUAL(r.out[0], '\0');
        CU_ASSERT_EQUAL(strncmp(r.err, "parlab: ", 8), 0);
        CU_ASSERT_EQUAL(count_lines(r.err), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, bad[i].needle));
        if (r.status != 64 || !strstr(r.err, bad[i].needle))
            fprintf(stderr, "\n  case %zu (%s %s): status %d, stderr: %s\n", i, bad[i].args[0],
                    bad[i].args[1] ? bad[i].args[1] : "", r.status, r.err);
    }
}

/* The experiments' CSV and JSON name the same fields: every column of the CSV header is a
 * key of each JSON row and no row has another, with the same numbers (docs/decisions.md:
 * the bare names of values whose unit is in the `unit` column). */
static void test_csv_json_alike(void)
{
    static struct cmd_result c, j;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&c, 60, "pitfall", "false-sharing", "--repeat", "3",
                                     "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL_FATAL(run_parlab(&j, 60, "pitfall", "false-sharing", "--repeat", "3",
                                     "--format", "json", (char *)NULL), 0);
    CU_ASSERT_FATAL(c.status == 0 && j.status == 0);
    CU_ASSERT_EQUAL(strncmp(c.out, csv_header, strlen(csv_header)), 0);
    json_t *doc = json_loads(j.out, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    json_t *rows = json_object_get(doc, "rows");
    CU_ASSERT_FATAL(json_is_array(rows) && json_array_size(rows) > 0);
    size_t ncols = 0;
    for (const char *p = csv_header; *p && *p != '\n'; ncols++) {
        char name[32];
        size_t len = strcspn(p, ",\n");
        snprintf(name, sizeof name, "%.*s", (int)len, p);
        for (size_t i = 0; i < json_array_size(rows); i++)
            if (!json_object_get(json_array_get(rows, i), name)) {
                fprintf(stderr, "\n  JSON row %zu has no %s\n", i, name);
                CU_FAIL("a CSV column missing from the JSON rows");
            }
        p += len + (p[len] == ',');
    }
    for (size_t i = 0; i < json_array_size(rows); i++)
        CU_ASSERT_EQUAL(json_object_size(json_array_get(rows, i)), ncols);
    /* the first figure alike in both: its n, mean and interval */
    struct mrow m;
    json_t *r0 = json_array_get(rows, 0);
    CU_ASSERT_FATAL(find_mrow(c.out, "false-sh", json_string_value(json_object_get(r0, "what")), &m));
    CU_ASSERT_EQUAL(m.n, json_integer_value(json_object_get(r0, "n")));
    CU_ASSERT(m.n == 3 && isfinite(m.ci_low) && m.ci_low <= m.ci_high);
    CU_ASSERT_STRING_EQUAL(m.unit, json_string_value(json_object_get(r0, "unit")));
    json_decref(doc);
}

CU_TestInfo tests_micro[] = {
    { "share: exact counts for every synchronised method", test_share_exact },
    { "share: none loses updates on two CPUs", test_share_none_loses },
    { "pitfall deadlock: -EDEADLK and ETIMEDOUT within 2 s", test_pitfall_deadlock },
    { "pitfall cow: faults grow with the pages written", test_pitfall_cow },
    { "overhead: every row with --repeat 1", test_overhead_rows },
    { "pitfall: lists the pitfalls", test_pitfall_list },
    { "pitfall: conclusions computed from the figures", test_pitfall_verdicts },
    { "bad option values exit 64 with one line", test_bad_options },
    { "the CSV and the JSON name the same fields", test_csv_json_alike },
    CU_TEST_INFO_NULL,
};
