/* test_mutants.c: scripts/mutants.sh --quick: every planted bug (a point, a hit, a pixel,
 * a row, a body or a step wrong) is caught, exit 1 and verified=no, at a recorded size and
 * at one with no recorded answer, under seq, thread, fork and mpi (where built). */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

static void test_every_mutant_caught(void)
{
    struct cmd_result *r = malloc(sizeof *r);
    char *const argv[] = { "scripts/mutants.sh", "--quick", NULL };
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    /* The script rebuilds the plain build (bin/parlab) with each mutation; a sanitizer
     * build tests another binary, and its runs of the plain one would say nothing of it. */
    if (strcmp(parlab_bin(), "bin/parlab") != 0) {
        fprintf(stderr, "\n  skipped: PARLAB=%s is not the plain build the script mutates",
                parlab_bin());
        free(r);
        return;
    }
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 900, r), 0);
    if (!r->exited || r->status != 0)
        fprintf(stderr, "\n  scripts/mutants.sh --quick: %s %d\n%s%s", r->exited ? "exit" : "signal",
                r->status, r->out, r->err);
    CU_ASSERT_EQUAL(r->exited, 1);
    CU_ASSERT_EQUAL(r->status, 0);
    /* the summary: every run caught, and there were runs under every runner */
    const char *sum = strstr(r->out, "\n# ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sum);
    unsigned caught = 0, total = 0, missed = 1;
    CU_ASSERT_EQUAL(sscanf(sum, "\n# %u of %u runs caught, %u not", &caught, &total, &missed), 3);
    CU_ASSERT(total >= 50);
    CU_ASSERT_EQUAL(caught, total);
    CU_ASSERT_EQUAL(missed, 0);
    CU_ASSERT_PTR_NULL(strstr(r->out, "MISSED"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, " independent "));   /* unrecorded sizes ran */
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, " recorded "));
    for (const char *rn = "seq\0thread\0fork\0"; *rn; rn += strlen(rn) + 1) {
        char col[32];
        snprintf(col, sizeof col, " %-7s ", rn);
        CU_ASSERT_PTR_NOT_NULL(strstr(r->out, col));
    }
    free(r);
}

CU_TestInfo tests_mutants[] = {
    { "scripts/mutants.sh --quick: every mutant is caught at every size and runner",
      test_every_mutant_caught },
    CU_TEST_INFO_NULL,
};
