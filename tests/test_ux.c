/* test_ux.c: what a user meets first: help for typos (the nearest name by edit distance,
 * one line, exit 64), and --version naming the commit. */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"
#include "../harness/harness.h"
#include "../harness/suggest.h"

static void test_edit_distance(void)
{
    CU_ASSERT_EQUAL(edit_distance("", ""), 0);
    CU_ASSERT_EQUAL(edit_distance("", "abc"), 3);
    CU_ASSERT_EQUAL(edit_distance("abc", ""), 3);
    CU_ASSERT_EQUAL(edit_distance("primes", "primes"), 0);
    CU_ASSERT_EQUAL(edit_distance("prime", "primes"), 1);        /* a deletion */
    CU_ASSERT_EQUAL(edit_distance("repat", "repeat"), 1);
    CU_ASSERT_EQUAL(edit_distance("thraed", "thread"), 1);       /* a swap of neighbours */
    CU_ASSERT_EQUAL(edit_distance("kitten", "sitting"), 3);      /* the textbook case */
    CU_ASSERT_EQUAL(edit_distance("ca", "abc"), 3);              /* OSA: no edit after a swap */
    CU_ASSERT_EQUAL(edit_distance("fork", "spawn"), 5);
    /* symmetric */
    CU_ASSERT_EQUAL(edit_distance("sumsq", "sums"), edit_distance("sums", "sumsq"));
}

static void test_suggest_threshold(void)
{
    static const char *const names[] = { "primes", "sumsq", "mandelbrot", "noop", NULL };
    char buf[96];
    CU_ASSERT_STRING_EQUAL(suggest_from("prime", names, buf, sizeof buf),
                           ": did you mean 'primes'?");
    CU_ASSERT_STRING_EQUAL(suggest_from("mandlebrto", names, buf, sizeof buf),
                           ": did you mean 'mandelbrot'?");
    /* distance 3 for a 6-letter word: past max(2, 6/3), no guess */
    CU_ASSERT_STRING_EQUAL(suggest_from("pxxxes", names, buf, sizeof buf), "");
    CU_ASSERT_STRING_EQUAL(suggest_from("zzzzzzzz", names, buf, sizeof buf), "");
    /* a 12-letter word may be 4 away (12/3) */
    static const char *const longer[] = { "false-sharing", NULL };
    CU_ASSERT_STRING_EQUAL(suggest_from("falsesharng", longer, buf, sizeof buf),
                           ": did you mean 'false-sharing'?");
    /* the word itself is no suggestion, and no names give none */
    CU_ASSERT_STRING_EQUAL(suggest_from("noop", names, buf, sizeof buf), "");
    static const char *const none[] = { NULL };
    CU_ASSERT_STRING_EQUAL(suggest_from("noop", none, buf, sizeof buf), "");
    struct suggest s;
    suggest_init(&s, "thred");
    suggest_add(&s, "seq");
    suggest_add(&s, "thread");
    suggest_add(&s, "threads");
    CU_ASSERT_STRING_EQUAL(suggest_best(&s), "thread");
}

/* Each typo: exit 64, nothing on stdout, one line on stderr, equal to `want`. */
static const struct typo {
    const char *args[8];
    const char *want;
} typos[] = {
    { { "run", "-w", "prime", "-r", "seq" },
      "parlab: unknown workload 'prime': did you mean 'primes'? (parlab list)\n" },
    { { "run", "-w", "primes", "-r", "thraed" },
      "parlab: unknown runner 'thraed': did you mean 'thread'? (parlab list)\n" },
    { { "run", "-w", "primes", "-r", "seq", "--repat", "3" },
      "parlab: unknown option '--repat': did you mean '--repeat'?\n" },
    { { "run", "-w", "primes", "-r", "seq", "--wramup=2" },
      "parlab: unknown option '--wramup': did you mean '--warmup'?\n" },
    { { "run", "-w", "primes", "-r", "fork", "--start", "forksrever" },
      "parlab: --start forksrever: unknown start method: did you mean 'forkserver'? (fork, "
      "forkserver, spawn)\n" },
    { { "run", "-w", "primes", "-r", "thread", "-s", "dinamic" },
      "parlab: -s dinamic: unknown schedule: did you mean 'dynamic'? (static, dynamic, "
      "guided)\n" },
    { { "run", "-w", "primes", "-r", "seq", "--format", "jsno" },
      "parlab: --format jsno: unknown format: did you mean 'json'? (text, csv, json)\n" },
    { { "run", "-w", "primes", "-r", "seq", "--s", "1" },
      "parlab: ambiguous option '--s': --size, --schedule, --steps, --seed, --start?\n" },
    { { "run", "-w", "primes", "-r", "seq", "--frobnicate" },
      "parlab: unknown option '--frobnicate' (parlab run --help)\n" },
    { { "run", "-w", "xyzzy", "-r", "seq" },
      "parlab: unknown workload 'xyzzy' (parlab list)\n" },
    { { "pitfal" },
      "parlab: unknown command 'pitfal': did you mean 'pitfall'? (parlab --help)\n" },
    { { "--verison" },
      "parlab: unknown option '--verison': did you mean '--version'? (parlab --help)\n" },
    { { "pitfall", "false-sharng" },
      "parlab: unknown pitfall 'false-sharng': did you mean 'false-sharing'? (parlab pitfall "
      "lists them)\n" },
    { { "share", "--metod", "lock" },
      "parlab: unknown option '--metod': did you mean '--method'?\n" },
    { { "share", "--method", "lcok" },
      "parlab: --method lcok: unknown method 'lcok': did you mean 'lock'? (none, lock, atomic, "
      "local, padded, unpadded, pipe, manager)\n" },
    { { "overhead", "--repaet", "1" },
      "parlab: unknown option '--repaet': did you mean '--repeat'?\n" },
    { { "world", "stauts" },
      "parlab: world: unknown action 'stauts': did you mean 'status'? (start, stop or "
      "status)\n" },
};

static void test_typos_get_help(void)
{
    for (size_t i = 0; i < sizeof typos / sizeof typos[0]; i++) {
        char *argv[12] = { (char *)parlab_bin() };
        int n = 1;
        for (int k = 0; typos[i].args[k]; k++)
            argv[n++] = (char *)typos[i].args[k];
        struct cmd_result r;
        CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 10, &r), 0);
        strip_asan_stack_warning(r.err);
        if (!r.exited || r.status != 64 || strcmp(r.err, typos[i].want) != 0)
            fprintf(stderr, "\n  case %zu: exit %d/%d, stderr: %s  want: %s", i, r.exited,
                    r.status, r.err, typos[i].want);
        CU_ASSERT_EQUAL(r.exited, 1);
        CU_ASSERT_EQUAL(r.status, 64);
        CU_ASSERT_STRING_EQUAL(r.err, typos[i].want);
        CU_ASSERT_STRING_EQUAL(r.out, "");
    }
}

/* --version: the version and the commit the binary was built from, one line, wherever
 * it is asked (parlab --version, -V, parlab run --version). */
static void test_version_has_commit(void)
{
    char want[200];
    snprintf(want, sizeof want, "parlab %s (commit %s)\n", PARLAB_VERSION, parlab_commit());
    static const char *const forms[][3] = { { "--version" }, { "-V" }, { "run", "--version" } };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        struct cmd_result r;
        CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 10, forms[i][0], forms[i][1], (char *)NULL), 0);
        CU_ASSERT_EQUAL(r.status, 0);
        CU_ASSERT_STRING_EQUAL(r.out, want);
    }
    /* Built in a git checkout (as the tests are): an abbreviated commit id, 12 hex digits
     * at least, with -dirty where the tree had changes. */
    if (system("git rev-parse --git-dir >/dev/null 2>&1") == 0) {
        const char *c = parlab_commit();
        size_t hex = strspn(c, "0123456789abcdef");
        CU_ASSERT(hex >= 12);
        CU_ASSERT(c[hex] == '\0' || strcmp(c + hex, "-dirty") == 0);
    }
}

CU_TestInfo tests_ux[] = {
    { "edit distance with transpositions", test_edit_distance },
    { "a suggestion only when close enough", test_suggest_threshold },
    { "typos get 'did you mean', one line, exit 64", test_typos_get_help },
    { "--version gives the version and the commit", test_version_has_commit },
    CU_TEST_INFO_NULL,
};
