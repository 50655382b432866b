/* test_workloads.c: every workload's known answers at small sizes, through the seq runner. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "util.h"
#include "../workloads/workload.h"

static void expect(const char *wl, uint64_t n, size_t tasks, const char *want)
{
    struct job_spec s = { .workload = wl, .runner = "seq", .size = n, .tasks = tasks,
                          .seed = 1, .workers = 1 };
    char tok[200];
    int v = -2;
    CU_ASSERT_EQUAL_FATAL(job_run(&s, 60, tok, sizeof tok, &v), 0);
    CU_ASSERT_STRING_EQUAL(tok, want);
    CU_ASSERT_EQUAL(v, 1);
}

static void test_primes_known(void)
{
    expect("primes", 10, 3, "4");
    expect("primes", 1000, 7, "168");
    expect("primes", 100000, 16, "9592");
    expect("primes", 1000000, 64, "78498");
}

static void test_sumsq_known(void)
{
    expect("sumsq", 1, 1, "0");
    expect("sumsq", 2, 1, "1");
    expect("sumsq", 1000, 9, "332833500");
    expect("sumsq", 5000000, 64, "41666654166667500000");
}

/* The sum first exceeds 2^64 between N = 3,810,778 and 3,810,779: a 64-bit sum would
 * wrap exactly there, so test both sides. */
static void test_sumsq_128bit_boundary(void)
{
    expect("sumsq", 3810778, 5, "18446735571075162805");   /* < 2^64 = 18446744073709551616 */
    expect("sumsq", 3810779, 5, "18446750093104128089");   /* > 2^64 */
}

static void test_mandelbrot_known(void)
{
    expect("mandelbrot", 10000, 13, "6457915214");
}

static void test_montecarlo_task_count_invariant(void)
{
    char first[64] = "", tok[64];
    static const size_t counts[] = { 1, 2, 7, 64, 1000 };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        struct job_spec s = { .workload = "montecarlo", .runner = "seq", .size = 1000000,
                              .tasks = counts[i], .seed = 42, .workers = 1 };
        int v;
        CU_ASSERT_EQUAL_FATAL(job_run(&s, 60, tok, sizeof tok, &v), 0);
        CU_ASSERT_EQUAL(v, 1);
        if (!first[0])
            strcpy(first, tok);
        CU_ASSERT_STRING_EQUAL(tok, first);
    }
    /* Another seed draws other points. */
    struct job_spec s = { .workload = "montecarlo", .runner = "seq", .size = 1000000,
                          .tasks = 4, .seed = 43, .workers = 1 };
    int v;
    CU_ASSERT_EQUAL_FATAL(job_run(&s, 60, tok, sizeof tok, &v), 0);
    CU_ASSERT_STRING_NOT_EQUAL(tok, first);
}

static void test_nbody_bit_identical(void)
{
    static const char *const runners[] = { "seq", "fork", "thread", "omp", "process" };
    char first[64] = "", tok[64];
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++) {
        struct job_spec s = { .workload = "nbody", .runner = runners[i], .size = 300,
                              .tasks = 7, .steps = 4, .seed = 1, .workers = 3,
                              .schedule = SCHED_DYNAMIC };
        int v;
        CU_ASSERT_EQUAL_FATAL(job_run(&s, 60, tok, sizeof tok, &v), 0);
        CU_ASSERT_EQUAL(v, 1);   /* energy drift within bounds */
        if (!first[0])
            strcpy(first, tok);
        CU_ASSERT_STRING_EQUAL(tok, first);
    }
}

static void test_noop_counts_tasks(void)
{
    expect("noop", 1000, 1000, "1000");
}

/* Every entry is complete (wl_check), and wl_check names each trap a new entry can fall
 * into: max_size 0, a missing test size, a CPU workload without bench sizes. */
static void test_registry_complete(void)
{
    char why[160];
    for (const struct workload *const *w = wl_registry; *w; w++) {
        int rc = wl_check(*w, why, sizeof why);
        if (rc)
            fprintf(stderr, "\ntest_workloads: %s\n", why);
        CU_ASSERT_EQUAL(rc, 0);
    }
    struct workload bad = *wl_find("primes");
    bad.max_size = 0;
    CU_ASSERT_EQUAL(wl_check(&bad, why, sizeof why), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "max_size"));
    bad = *wl_find("primes");
    bad.sizes.test = 0;
    CU_ASSERT_EQUAL(wl_check(&bad, why, sizeof why), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "sizes.test"));
    bad = *wl_find("primes");
    bad.sizes.quick = 0;
    CU_ASSERT_EQUAL(wl_check(&bad, why, sizeof why), -EINVAL);
    bad = *wl_find("primes");
    bad.default_tasks = 0;
    CU_ASSERT_EQUAL(wl_check(&bad, why, sizeof why), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "default_tasks"));
    bad = *wl_find("noop");
    bad.default_tasks = 0;            /* one task per item: default_tasks is not read */
    CU_ASSERT_EQUAL(wl_check(&bad, why, sizeof why), 0);
}

/* Payload sums computed by an independent implementation (Python, splitmix64 over
 * (seed, step, task, word)): every reply arrived, each to its own task. */
static void test_loopback_known(void)
{
    expect("loopback", 1, 1, "1:50687039794242489188");
    expect("loopback", 7, 7, "7:300649329689846826825");
    expect("loopback", 50, 50, "50:1942147762702101945425");
}

CU_TestInfo tests_workloads[] = {
    { "every registry entry is complete", test_registry_complete },
    { "primes known answers", test_primes_known },
    { "sumsq known answers", test_sumsq_known },
    { "sumsq across the 64-bit boundary", test_sumsq_128bit_boundary },
    { "mandelbrot known checksum", test_mandelbrot_known },
    { "montecarlo hits independent of task count", test_montecarlo_task_count_invariant },
    { "nbody bit-identical under every runner", test_nbody_bit_identical },
    { "noop counts its tasks", test_noop_counts_tasks },
    { "loopback known payload sums", test_loopback_known },
    CU_TEST_INFO_NULL,
};
