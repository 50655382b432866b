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
    { "apply_async", "0 1 4 9 16 25 36 49 64 81\ncount 10\n", NULL },
    { "initializer",
      "config loaded 4 times by 4 workers\n3 6 9 12 15 18 21 24\nscale in the parent: 0\n",
      NULL },
    { "shared_value_array", "counter 4\narray [16,2,3,4]\n", NULL },
    { "manager",
      "dict {'worker0': 0, 'worker1': 1, 'worker2': 4, 'worker3': 9}\nlist [0, 10, 20, 30]\n",
      NULL },
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
/* Completion order changes from run to run; the printed output must not. */
static void test_apply_async(void) { check_example(find("apply_async"), 3); }
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
    { "apply_async: results as completed", test_apply_async },
    { "initializer: once per worker", test_initializer },
    { "shared_value_array: locked Value and Array", test_shared_value_array },
    { "manager: dict and list behind a socket", test_manager },
    { "executor: the count is known", test_executor_answer },
    { "executor: primes as completed", test_executor },
    CU_TEST_INFO_NULL,
};
