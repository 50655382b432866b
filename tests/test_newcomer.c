/* test_newcomer.c: docs/adding-a-workload.md, followed in a scratch copy of the tree by
 * tests/newcomer.sh: the Collatz example (tests/corpus/collatz.c) as one file and one
 * registry line must reach parlab list, parlab run, the test matrix, the torture cases, a
 * tiny bench with its weak sweep and a tiny compare as "no Python peer". */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "util.h"
#include "../workloads/workload.h"

/* Its time limit: a guard against a hang, not a benchmark (about 45 s on 2 busy cores,
 * reusing build/'s objects; a few minutes when everything must be compiled). */
#define NEWCOMER_LIMIT_S 900

static void test_collatz_from_the_doc(void)
{
    static struct cmd_result r;
    char *argv[] = { "bash", "tests/newcomer.sh", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, NEWCOMER_LIMIT_S, &r), 0);
    if (!r.exited || r.status != 0)
        fprintf(stderr, "\n  tests/newcomer.sh: %s %d after %.0f s\n%s%s", r.exited ? "exit" : "signal",
                r.status, r.secs, r.out, r.err);
    CU_ASSERT_EQUAL(r.exited, 1);
    CU_ASSERT_EQUAL(r.status, 0);
    if (strstr(r.out, "SKIPPED"))
        fprintf(stderr, "\n  %s", strstr(r.out, "newcomer: SKIPPED"));
    else
        CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "newcomer: collatz followed the doc into every list"));
}

/* The fields scripts read from the registry: a CPU workload without a weak-scaling N0 or a
 * unit, or with a ladder that is not ascending sizes it accepts, is refused by name. */
static void test_script_fields_checked(void)
{
    char why[200];
    struct workload bad = *wl_find("sumsq");
    bad.sizes.weak = 0;
    CU_ASSERT_EQUAL(wl_check(&bad, why, sizeof why), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "weak"));
    bad = *wl_find("sumsq");
    bad.unit = NULL;
    CU_ASSERT_EQUAL(wl_check(&bad, why, sizeof why), -EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "unit"));
    static const char *const ladders[] = { "100 50", "100 x", "0 10", "10 99999999999", "" };
    for (size_t i = 0; i < sizeof ladders / sizeof ladders[0]; i++) {
        bad = *wl_find("sumsq");
        bad.ladder = ladders[i];
        CU_ASSERT_EQUAL(wl_check(&bad, why, sizeof why), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(why, "ladder"));
    }
    bad = *wl_find("noop");
    bad.sizes.weak = 5;               /* only CPU workloads are swept */
    CU_ASSERT_EQUAL(wl_check(&bad, why, sizeof why), -EINVAL);
}

/* compare's ladder: as given (primes: its published pi(N) sizes), or 1-2-5 steps from the
 * power of ten at or below sizes.test up to max_size (sumsq: 10^4 to 2 x 10^9). */
static void test_ladder(void)
{
    uint64_t l[WL_LADDER_MAX];
    int n = wl_ladder(wl_find("primes"), l, WL_LADDER_MAX);
    CU_ASSERT_EQUAL_FATAL(n, 7);
    CU_ASSERT(l[0] == 10000 && l[3] == 2000000 && l[6] == 100000000);
    n = wl_ladder(wl_find("sumsq"), l, WL_LADDER_MAX);
    CU_ASSERT_EQUAL_FATAL(n, 17);
    CU_ASSERT(l[0] == 10000 && l[1] == 20000 && l[2] == 50000 && l[16] == 2000000000);
    CU_ASSERT_EQUAL(wl_ladder(wl_find("sumsq"), l, 3), 3);   /* cut at the room given */
    struct workload w = *wl_find("sumsq");
    w.ladder = "5 7 9";
    CU_ASSERT_EQUAL(wl_ladder(&w, l, 2), -EINVAL);            /* more than the room */
    char names[64];
    CU_ASSERT_STRING_EQUAL(wl_flag_names(wl_find("sumsq"), names, sizeof names), "any-order linear");
    CU_ASSERT_STRING_EQUAL(wl_flag_names(wl_find("spin"), names, sizeof names), "any-order grain");
}

CU_TestInfo tests_newcomer[] = {
    { "a workload's script fields are checked: weak size, unit, ladder", test_script_fields_checked },
    { "compare's ladder: given, or 1-2-5 steps up to max_size", test_ladder },
    { "a Collatz workload from docs/adding-a-workload.md reaches every list", test_collatz_from_the_doc },
    CU_TEST_INFO_NULL,
};
