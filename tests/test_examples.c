/* test_examples.c: every program in examples/ builds, exits 0 within its time limit,
 * writes nothing to stderr, and prints exactly the output its idea promises. Each runs
 * through fork/exec with alarm() (run_cmd). Paths are relative to the repository root,
 * where the suites run. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* executor's answer, counted here without any pool: the primes in [10^6, 10^6 + 99]. */
static void executor_expect(char *buf, size_t n)
{
    size_t len = (size_t)snprintf(buf, n, "primes in [1000000, 1000099]:");
    int count = 0;
    for (uint64_t v = 1000000; v < 1000100; v++) {
        int prime = 1;
        for (uint64_t d = 2; d * d <= v; d++)
            if (v % d == 0) {
                prime = 0;
                break;
            }
        if (prime) {
            len += (size_t)snprintf(buf + len, n - len, " %llu", (unsigned long long)v);
            count++;
        }
    }
    snprintf(buf + len, n - len, "\ncount %d\n", count);
}

struct example {
    const char *name;
    const char *expect;                        /* the exact stdout, or NULL: */
    void (*expect_fn)(char *buf, size_t n);    /* computed here */
};

static const struct example examples[] = {
    { "process_start_join",
      "process 0 exitcode 0\nprocess 1 exitcode 1\nprocess 2 exitcode 4\n"
      "process 3 exitcode 9\ncounter in parent: 0\n", NULL },
    { "pool_map", "1 4 9 16 25 36 49 64\n", NULL },
    { "starmap", "8 9 100\n", NULL },
    /* arrival order: task 0 sleeps 300 ms, the rest 10 ms, on two workers (loosely
     * asserted: a permutation, said to differ when it does; see test_apply_async) */
    { "apply_async", NULL, NULL },
    { "initializer",
      "config loaded 4 times by 4 workers\n3 6 9 12 15 18 21 24\nscale in the parent: 0\n",
      NULL },
    /* the races are forced by a barrier between the read and the write: exact */
    { "shared_value_array",
      "as written, arr[0] * 2 outside the lock: counter 4, array [2,2,3,4]: arr[0] 2 of 16, "
      "3 doublings lost\n"
      "fixed, under arr.get_lock(): counter 4, array [16,2,3,4]: arr[0] 16 of 16, 0 doublings "
      "lost\n", NULL },
    { "manager",
      "dict {'worker0': 0, 'worker1': 1, 'worker2': 4, 'worker3': 9}\nlist [0, 10, 20, 30]\n"
      "as written, d[\"count\"] = d[\"count\"] + 1 from 4 processes: count 1 of 4 (3 updates "
      "lost)\n"
      "fixed, get and set under a Manager().Lock(): count 4 of 4 (0 updates lost)\n",
      NULL },
    { "get_error",
      "parse(\"12\") = 12\n"
      "parse(\"x7\") failed, caught at get(): task 1 returned error 22 (Invalid argument)\n"
      "parse(\"305\") = 305\nthe pool still works: parse(\"42\") = 42\n", NULL },
    /* timings: checked line by line in test_first_example */
    { "first_example", NULL, NULL },
    { "executor", NULL, executor_expect },
};
#define N_EXAMPLES (sizeof examples / sizeof examples[0])

static const struct example *find(const char *name)
{
    for (size_t i = 0; i < N_EXAMPLES; i++)
        if (strcmp(examples[i].name, name) == 0)
            return &examples[i];
    return NULL;
}

/* Temporary directories the manager example makes (it must remove its own). */
static int manager_dirs(void)
{
    DIR *d = opendir("/tmp");
    struct dirent *e;
    int n = 0;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, "parlab-manager-", 15) == 0;
    closedir(d);
    return n;
}

static void check_example(const struct example *ex, unsigned runs)
{
    static struct cmd_result r;
    char path[256], want[1024];
    snprintf(path, sizeof path, "bin/examples/%s", ex->name);
    if (ex->expect_fn)
        ex->expect_fn(want, sizeof want);
    else
        snprintf(want, sizeof want, "%s", ex->expect);
    CU_ASSERT_FATAL(access(path, X_OK) == 0);
    for (unsigned k = 0; k < runs; k++) {
        char *argv[] = { path, NULL };
        CU_ASSERT_FATAL(run_cmd(argv, 20, &r) == 0);
        if (!r.exited || r.status != 0 || strcmp(r.out, want) != 0 || r.err[0])
            fprintf(stderr, "\n  %s: %s %d\n  stdout:\n%s  want:\n%s  stderr:\n%s\n", ex->name,
                    r.exited ? "exit" : "signal", r.status, r.out, want, r.err);
        CU_ASSERT(r.exited && r.status == 0);
        CU_ASSERT_STRING_EQUAL(r.out, want);
        CU_ASSERT_STRING_EQUAL(r.err, "");
    }
}

/* Every examples/NAME.c has an expected output here, so a new one cannot go untested. */
static void test_all_listed(void)
{
    DIR *d = opendir("examples");
    struct dirent *e;
    int seen = 0;
    CU_ASSERT_FATAL(d != NULL);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(len - 2), e->d_name);
        if (!find(name))
            fprintf(stderr, "\n  examples/%s has no expected output in test_examples.c\n",
                    e->d_name);
        CU_ASSERT(find(name) != NULL);
        seen++;
    }
    closedir(d);
    CU_ASSERT_EQUAL(seen, (int)N_EXAMPLES);
}

static void test_executor_answer(void)
{
    char want[1024];
    executor_expect(want, sizeof want);
    CU_ASSERT(strstr(want, "\ncount 6\n") != NULL);   /* the known answer */
}

static void test_process_start_join(void) { check_example(find("process_start_join"), 1); }
static void test_pool_map(void) { check_example(find("pool_map"), 1); }
static void test_starmap(void) { check_example(find("starmap"), 1); }
/* Run an example; 0 with its stdout in r, or -1 (said). */
static int run_example(const char *name, struct cmd_result *r)
{
    char path[256];
    snprintf(path, sizeof path, "bin/examples/%s", name);
    char *argv[] = { path, NULL };
    if (access(path, X_OK) || run_cmd(argv, 20, r))
        return -1;
    if (!r->exited || r->status != 0 || r->err[0])
        fprintf(stderr, "\n  %s: status %d\n  stdout:\n%s  stderr:\n%s\n", name, r->status,
                r->out, r->err);
    return r->exited && r->status == 0 && !r->err[0] ? 0 : -1;
}

/* Submission order and get() order are fixed; the arrival line is a permutation of the
 * tasks, and the last line says whether it differs, truly. */
static void test_apply_async(void)
{
    static struct cmd_result r;
    for (int k = 0; k < 3; k++) {
        CU_ASSERT_FATAL(run_example("apply_async", &r) == 0);
        const char *a = strstr(r.out, "arrived:");
        CU_ASSERT_FATAL(strncmp(r.out, "submitted: 0 1 2 3 4 5 6 7 8 9\n", 31) == 0 && a);
        int seen[10] = { 0 }, order[10], n = 0, off = 0, v, differ = 0;
        a += strlen("arrived:");
        while (n < 10 && sscanf(a, " %d%n", &v, &off) == 1) {
            CU_ASSERT(v >= 0 && v < 10 && !seen[v]);
            if (v >= 0 && v < 10)
                seen[v] = 1;
            order[n] = v;
            differ |= v != n;
            n++;
            a += off;
        }
        CU_ASSERT_EQUAL(n, 10);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nget() in submission order: 0 1 4 9 16 25 36 49 64 81\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(r.out, differ ? "\narrival order differs from submission order\n"
                                                    : "\narrival order is the same as submission order\n"));
        (void)order;
    }
}

/* The sums are exact (the closed form (N-1)N(2N-1)/6); the timings are not asserted, only
 * that they are given with their interval and a verdict among the three. */
static void test_first_example(void)
{
    static struct cmd_result r;
    CU_ASSERT_FATAL(run_example("first_example", &r) == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "sum of i*i for i < 5000000: sequential "
                                         "41666654166667500000, two processes "
                                         "41666654166667500000: equal\n"));
    double a, b;
    int k;
    const char *t = strstr(r.out, "\ntime: sequential ");
    CU_ASSERT(t && sscanf(t, "\ntime: sequential %lf ms, two processes %lf ms (fastest of %d",
                          &a, &b, &k) == 3 && a > 0 && b > 0 && k > 1);
    t = strstr(r.out, "\nratio two/sequential: ");
    CU_ASSERT(t && sscanf(t, "\nratio two/sequential: %lf … %lf", &a, &b) == 2 && a <= b);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\ntutorial's claim: \"cuts time roughly in half (0.72 s)\"\n"));
    t = strstr(r.out, "\nthis machine (");
    CU_ASSERT_FATAL(t != NULL);
    int verdicts = !!strstr(t, "): confirmed: ") + !!strstr(t, "): not confirmed: ") +
                   !!strstr(t, "): undecided: ");
    CU_ASSERT_EQUAL(verdicts, 1);
    /* The verdict follows from the interval printed, to its two decimals: a ratio of 0.6004
     * is "not confirmed" and prints as 0.60 (a quiet run of make test met it). */
    if (strstr(t, "): confirmed: "))
        CU_ASSERT(b < 0.605);
    if (strstr(t, "): not confirmed: "))
        CU_ASSERT(a > 0.595);
}

static void test_get_error(void) { check_example(find("get_error"), 1); }
static void test_initializer(void) { check_example(find("initializer"), 1); }
static void test_shared_value_array(void) { check_example(find("shared_value_array"), 3); }
static void test_executor(void) { check_example(find("executor"), 1); }

static void test_manager(void)
{
    int before = manager_dirs();
    check_example(find("manager"), 2);
    CU_ASSERT_EQUAL(manager_dirs(), before);   /* the socket's directory is removed */
}

CU_TestInfo tests_examples[] = {
    { "every example has an expected output", test_all_listed },
    { "process_start_join: fork and waitpid", test_process_start_join },
    { "pool_map: squares in order", test_pool_map },
    { "starmap: power tuples", test_starmap },
    { "apply_async: arrival order against submission order", test_apply_async },
    { "first_example: the tutorial's claim, judged", test_first_example },
    { "get_error: a failing task caught at get()", test_get_error },
    { "initializer: once per worker", test_initializer },
    { "shared_value_array: the lost doubling, then locked", test_shared_value_array },
    { "manager: dict and list; the lost count, then locked", test_manager },
    { "executor: the count is known", test_executor_answer },
    { "executor: primes by map, in input order", test_executor },
    CU_TEST_INFO_NULL,
};
