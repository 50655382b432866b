/* test_structure.c: the import structure (scripts/structure.py). The tree as built keeps
 * its floors (lib < workloads < mpi < runners < harness < experiments), has no circle and
 * no file over 600 lines; and the check can fail: a scratch tree planted with an upward
 * include, an upward call, a circle of calls inside a folder and an oversized file gets
 * one line for each. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util.h"

static const char *python(void)
{
    const char *p = getenv("PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

/* The objects of the build under test: make test passes its $(BUILD). */
static const char *build_dir(void)
{
    const char *b = getenv("PARLAB_BUILD");
    return b && *b ? b : "build";
}

static void test_tree_keeps_its_floors(void)
{
    struct cmd_result r;
    char *argv[] = { (char *)python(), "scripts/structure.py", "--build", (char *)build_dir(),
                     NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 120, &r), 0);
    CU_ASSERT_TRUE(r.exited && r.status == 0);
    if (!r.exited || r.status != 0)
        fprintf(stderr, "\n  scripts/structure.py: status %d:\n%s%s", r.status, r.out, r.err);
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Compile dir/src.c into bdir/src.o. */
static int compile(const char *dir, const char *bdir, const char *src)
{
    char in[2048], out[2048], cmd[4200];
    snprintf(in, sizeof in, "%s/%s.c", dir, src);
    snprintf(out, sizeof out, "%s/%s.o", bdir, src);
    snprintf(cmd, sizeof cmd, "cc -c -w -o '%s' '%s'", out, in);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_planted_breaches_fail(void)
{
    char dir[] = "/tmp/parlab-structure-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char p[512], b[512];
    static const char *const folders[] = { "lib", "runners", "harness" };
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, folders[i]);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/build/%s", dir, folders[i]);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/build", dir);
        mkdir(p, 0700);
        snprintf(p, sizeof p, "%s/build/%s", dir, folders[i]);
        mkdir(p, 0700);
    }
    /* lib/a.c includes a runners header and calls a runners function: two upward arrows.
     * harness/x.c and harness/y.c call each other: a circle no comment explains. */
    snprintf(p, sizeof p, "%s/runners/r.h", dir);
    int ok = write_file(p, "int r_fn(void);\n") == 0;
    snprintf(p, sizeof p, "%s/runners/r.c", dir);
    ok = ok && write_file(p, "int r_fn(void) { return 1; }\n") == 0;
    snprintf(p, sizeof p, "%s/lib/a.c", dir);
    ok = ok && write_file(p, "#include \"../runners/r.h\"\nint a_fn(void) { return r_fn(); }\n") == 0;
    snprintf(p, sizeof p, "%s/harness/x.c", dir);
    ok = ok && write_file(p, "/* x.c: one half. */\nint y_fn(int);\n"
                             "int x_fn(int n) { return n ? y_fn(n - 1) : 0; }\n") == 0;
    snprintf(p, sizeof p, "%s/harness/y.c", dir);
    ok = ok && write_file(p, "int x_fn(int);\nint y_fn(int n) { return n ? x_fn(n - 1) : 1; }\n") == 0;
    /* harness/big.c: 601 lines. */
    snprintf(p, sizeof p, "%s/harness/big.c", dir);
    FILE *f = fopen(p, "w");
    ok = ok && f;
    for (int i = 0; f && i < 601; i++)
        fprintf(f, "/* line %d */\n", i);
    if (f)
        ok = ok && fclose(f) == 0;
    snprintf(b, sizeof b, "%s/build", dir);
    char sub[512], bsub[1100];
    static const char *const srcs[][2] = { { "runners", "r" }, { "lib", "a" },
                                           { "harness", "x" }, { "harness", "y" } };
    for (int i = 0; ok && i < 4; i++) {
        snprintf(sub, sizeof sub, "%s/%s", dir, srcs[i][0]);
        snprintf(bsub, sizeof bsub, "%s/%s", b, srcs[i][0]);
        ok = compile(sub, bsub, srcs[i][1]) == 0;
    }
    CU_ASSERT_TRUE_FATAL(ok);

    struct cmd_result r;
    char *argv[] = { (char *)python(), "scripts/structure.py", "--root", dir, NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 60, &r), 0);
    CU_ASSERT_TRUE(r.exited && r.status == 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "upward: lib/a -> runners/r (includes ../runners/r.h)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "upward: lib/a -> runners/r (calls r_fn)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "circle in harness/: x <-> y"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "size: harness/big.c has 601 lines"));
    if (!(r.exited && r.status == 1) || !strstr(r.out, "circle in harness/"))
        fprintf(stderr, "\n  structure.py on a planted tree: status %d: %s%s", r.status, r.out,
                r.err);

    /* The circle, explained in an opening comment, is allowed. */
    snprintf(p, sizeof p, "%s/harness/x.c", dir);
    CU_ASSERT_EQUAL(write_file(p, "/* x.c: one half; a circle with y, because the two "
                                  "recurse into each other. */\nint y_fn(int);\n"
                                  "int x_fn(int n) { return n ? y_fn(n - 1) : 0; }\n"), 0);
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 60, &r), 0);
    CU_ASSERT_PTR_NULL(strstr(r.out, "circle in harness/"));

    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(rm), 0);
}

static void test_bad_usage(void)
{
    struct cmd_result r;
    char *argv[] = { (char *)python(), "scripts/structure.py", "--nonsense", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 30, &r), 0);
    CU_ASSERT_TRUE(r.exited && r.status == 64);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "unknown argument"));
}

CU_TestInfo tests_structure[] = {
    { "the tree keeps its floors, has no circle and no file over 600 lines",
      test_tree_keeps_its_floors },
    { "planted upward include and call, circle and big file each get a line",
      test_planted_breaches_fail },
    { "bad usage exits 64", test_bad_usage },
    CU_TEST_INFO_NULL,
};
