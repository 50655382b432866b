/* test_docs.c: the documentation against the code. tests/check_docs.py: README.md fits in
 * 200 lines, links resolve, the make targets, options and CSV columns the pages name are
 * the ones `make help`, `--help` and the CSV headers give. tests/follow-adding-a-runner.sh:
 * docs/adding-a-runner.md followed step by step in a scratch copy of the tree adds a
 * runner that builds, is listed, verifies and passes the matrix. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

static void report(const char *what, const struct cmd_result *r)
{
    if (!r->exited || r->status != 0)
        fprintf(stderr, "\n  %s: %s %d\n%s%s", what, r->exited ? "exit" : "signal", r->status,
                r->out, r->err);
}

static void test_pages_match_code(void)
{
    struct cmd_result *r = malloc(sizeof *r);
    const char *py = getenv("PYTHON") && *getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    char *const argv[] = { (char *)py, "tests/check_docs.py", (char *)parlab_bin(), NULL };
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 120, r), 0);
    report("tests/check_docs.py", r);
    CU_ASSERT_EQUAL(r->exited, 1);
    CU_ASSERT_EQUAL(r->status, 0);
    CU_ASSERT_STRING_EQUAL(r->out, "");   /* one line per problem */
    free(r);
}

static void test_adding_a_runner(void)
{
    struct cmd_result *r = malloc(sizeof *r);
    char *const argv[] = { "tests/follow-adding-a-runner.sh", NULL };
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 300, r), 0);
    report("tests/follow-adding-a-runner.sh", r);
    CU_ASSERT_EQUAL(r->exited, 1);
    CU_ASSERT_EQUAL(r->status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "built, listed, verified, matrix passed"));
    free(r);
}

CU_TestInfo tests_docs[] = {
    { "README.md and docs/ name the targets, options, columns and files that exist",
      test_pages_match_code },
    { "docs/adding-a-runner.md, followed in a scratch copy, adds a working runner",
      test_adding_a_runner },
    CU_TEST_INFO_NULL,
};
