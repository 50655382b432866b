/* test_ux.c: what a user meets first: help for typos (the nearest name by edit distance,
 * one line, exit 64), --version naming the commit, --format json of every command
 * validated against its JSON Schema (results/schema/, with python3-jsonschema), and
 * make install / make uninstall into a temporary DESTDIR. */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../experiments/experiment.h"
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
      "guided, student)\n" },
    { { "run", "-w", "primes", "-r", "seq", "--format", "jsno" },
      "parlab: --format jsno: unknown format: did you mean 'json'? (text, csv, json)\n" },
    { { "run", "-w", "primes", "-r", "seq", "--s", "1" },
      "parlab: ambiguous option '--s': --size, --schedule, --steps, --seed, --start, "
      "--student?\n" },
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
      "local, padded, unpadded, pipe, manager, student)\n" },
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

/* The mean's 95% interval: Student's t at n - 1 degrees of freedom (scipy's
 * t.interval(0.95, 2, loc=2, scale=1/sqrt(3)) is 2 ± 2.4841), none for one sample. */
static void test_ci95(void)
{
    const double v[] = { 1, 2, 3 };
    struct stats s;
    double lo, hi;
    stats_of(v, 3, &s);
    stats_ci95(&s, &lo, &hi);
    CU_ASSERT_DOUBLE_EQUAL(lo, 2 - 2.4841, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(hi, 2 + 2.4841, 1e-3);
    stats_of(v, 1, &s);
    stats_ci95(&s, &lo, &hi);
    CU_ASSERT(isnan(lo) && isnan(hi));
}

/* Validate the document in `doc` with scripts/schema-check.py: its exit status (0 valid,
 * 1 not), with what it printed in r. */
static int schema_check(const char *doc, struct cmd_result *r)
{
    char path[] = "/tmp/parlab-schema-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    size_t len = strlen(doc);
    CU_ASSERT_FATAL(write(fd, doc, len) == (ssize_t)len);
    close(fd);
    const char *py = getenv("PYTHON") && *getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    char *argv[] = { (char *)py, "scripts/schema-check.py", path, NULL };
    int rc = run_cmd(argv, 60, r);
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    CU_ASSERT_FATAL(r->exited);
    return r->status;
}

/* Run `parlab ARGS... --format json` (args NULL-terminated, at most 14) and validate. */
static void expect_valid(const char *kind, const char *const *args)
{
    char *argv[20] = { (char *)parlab_bin() };
    char shown[300] = "";
    int n = 1;
    for (; *args && n < 16; args++) {
        argv[n++] = (char *)*args;
        snprintf(shown + strlen(shown), sizeof shown - strlen(shown), " %s", *args);
    }
    argv[n++] = "--format";
    argv[n++] = "json";
    static struct cmd_result r, v;
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 120, &r), 0);
    if (!r.exited || r.status != 0)
        fprintf(stderr, "\n  parlab%s: exit %d/%d: %s", shown, r.exited, r.status, r.err);
    CU_ASSERT(r.exited && r.status == 0);
    char want[64];
    snprintf(want, sizeof want, "\"kind\": \"%s\"", kind);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
    int st = schema_check(r.out, &v);
    if (st != 0)
        fprintf(stderr, "\n  parlab%s --format json: %s%s", shown, v.out, v.err);
    CU_ASSERT_EQUAL(st, 0);
}

/* Every command that writes JSON, each document against the schema of its kind. */
static void test_every_json_validates(void)
{
    static const char *const list[] = { "list", NULL };
    static const char *const run[] = { "run", "-w", "primes", "-r", "thread", "-n", "100k",
                                       "--repeat", "2", "--warmup", "0", "--baseline", NULL };
    static const char *const run1[] = { "run", "-w", "sumsq", "-r", "fork", "-n", "1M",
                                        "--repeat", "1", "--warmup", "0", NULL };
    expect_valid("list", list);
    expect_valid("run", run);
    expect_valid("run", run1);    /* one repeat: no interval (null) */
    /* Every experiment, each with the smallest of the options it takes. */
    for (const struct experiment *const *e = exp_registry; *e; e++) {
        const char *args[20];
        int n = 0;
        args[n++] = (*e)->command;
        if (strcmp((*e)->command, (*e)->name))
            args[n++] = (*e)->name;
        if ((*e)->opts & EO_REPEAT) { args[n++] = "--repeat"; args[n++] = "2"; }
        if ((*e)->opts & EO_QUICK) args[n++] = "--quick";
        if ((*e)->opts & EO_WORKERS) { args[n++] = "-j"; args[n++] = "2"; }
        if ((*e)->opts & EO_MB) { args[n++] = "--mb"; args[n++] = "1"; }
        if ((*e)->opts & EO_OPS) { args[n++] = "--ops"; args[n++] = "2000"; }
        if ((*e)->opts & EO_SIZE) { args[n++] = "-n"; args[n++] = "20000"; }
        if ((*e)->opts & EO_TASKS) { args[n++] = "-t"; args[n++] = "200"; }
        if ((*e)->opts & EO_LOCK_MS) { args[n++] = "--lock-ms"; args[n++] = "20"; }
        args[n] = NULL;
        expect_valid("experiment", args);
    }
    /* race: a drawn order, and a given one whose lost updates --reveal lists */
    static const char *const race[] = { "race", "--case", "manager", "-j", "3", "--seed", "7",
                                        NULL };
    static const char *const race_lost[] = { "race", "--order", "ABAABBAAABBB", "--reveal",
                                             NULL };
    expect_valid("race", race);
    expect_valid("race", race_lost);
    /* world status, where mpi is built: a world started for it, then stopped. */
    char why[300];
    const struct runner *mpi = runner_find("mpi");
    if (!mpi || !runner_usable(mpi, why, sizeof why))
        return;
    /* an mpi run: its rows carry the start of its one mpirun (start_s) */
    static const char *const runmpi[] = { "run", "-w", "primes", "-r", "mpi", "-j", "2", "-n",
                                          "100k", "--repeat", "2", "--baseline", NULL };
    expect_valid("run", runmpi);
    static struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "world", "start", "-j", "2", "--idle", "60",
                                     (char *)NULL), 0);
    CU_ASSERT_EQUAL_FATAL(r.status, 0);
    char dir[4096] = "";
    const char *q = strchr(r.out, '\'');
    CU_ASSERT_FATAL(q != NULL);
    snprintf(dir, sizeof dir, "%.*s", (int)strcspn(q + 1, "'"), q + 1);
    const char *const status[] = { "world", "status", dir, NULL };
    expect_valid("world-status", status);
    run_parlab(&r, 60, "world", "stop", dir, (char *)NULL);
    CU_ASSERT_EQUAL(r.status, 0);
}

/* The check itself fails on documents that break their schema: a wrong type, a value out
 * of range, an unknown kind or value, and text that is not JSON at all. */
static void test_bad_json_fails_schema(void)
{
    static struct cmd_result r, v;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "run", "-w", "primes", "-r", "seq", "-n", "10k",
                                     "--repeat", "2", "--warmup", "0", "--format", "json",
                                     (char *)NULL), 0);
    CU_ASSERT_EQUAL_FATAL(schema_check(r.out, &v), 0);    /* the real one passes */
    static char doc[65536];
    struct { const char *from, *to, *says; } plant[] = {
        { "\"mean_s\": ", "\"mean_s\": \"fast\", \"x\": ", "/summary/0/mean_s" },
        { "\"cpus_online\": ", "\"cpus_online\": -", "/context/cpus_online" },
        { "\"kind\": \"run\"", "\"kind\": \"nope\"", "/kind" },
        { "\"verified\": \"", "\"verified\": \"maybe", "/rows/0/verified" },
        { "{", "{{", "not JSON" },
    };
    for (size_t i = 0; i < sizeof plant / sizeof plant[0]; i++) {
        const char *at = strstr(r.out, plant[i].from);
        CU_ASSERT_FATAL(at != NULL);
        snprintf(doc, sizeof doc, "%.*s%s%s", (int)(at - r.out), r.out, plant[i].to,
                 at + strlen(plant[i].from));
        int st = schema_check(doc, &v);
        if (st != 1 || !strstr(v.out, plant[i].says))
            fprintf(stderr, "\n  planted %s: exit %d: %s%s", plant[i].says, st, v.out, v.err);
        CU_ASSERT_EQUAL(st, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(v.out, plant[i].says));
    }
}

/* Run `sh -c script` with a time limit; its exit status (-1: it did not exit). */
static int sh(struct cmd_result *r, unsigned timeout_s, const char *script)
{
    char *argv[] = { "sh", "-c", (char *)script, NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, timeout_s, r), 0);
    return r->exited ? r->status : -1;
}

/* make install into a temporary DESTDIR, the installed parlab used as a user would, then
 * make uninstall: nothing of it is left. The build under test is the one installed (a
 * sanitizer build's too: make test passes its SAN down). */
static void test_install_uninstall(void)
{
    char dest[] = "/tmp/parlab-install-XXXXXX", cmd[8192], bin[4200];
    static struct cmd_result r;
    CU_ASSERT_FATAL(mkdtemp(dest) != NULL);
    const char *san = getenv("PARLAB_SAN") ? getenv("PARLAB_SAN") : "";
    snprintf(cmd, sizeof cmd, "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s install "
             "PREFIX=/usr/local DESTDIR='%s' SAN='%s' 2>&1", dest, san);
    int st = sh(&r, 600, cmd);
    if (st != 0)
        fprintf(stderr, "\n  make install: exit %d: %s", st, r.out);
    CU_ASSERT_EQUAL_FATAL(st, 0);

    /* The binary: --version as the one under test, list, a tiny verified run. */
    snprintf(bin, sizeof bin, "%s/usr/local/bin/parlab", dest);
    char want[200];
    snprintf(want, sizeof want, "parlab %s (commit %s)\n", PARLAB_VERSION, parlab_commit());
    char *ver[] = { bin, "--version", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(ver, 30, &r), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_STRING_EQUAL(r.out, want);
    char *list[] = { bin, "list", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(list, 30, &r), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "  primes "));
    char *run[] = { bin, "run", "-w", "primes", "-r", "thread", "-n", "100k", "--repeat", "1",
                    "--format", "csv", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(run, 60, &r), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ",9592,yes,"));    /* pi(100000) = 9592 */
    /* What parlab bench runs, beside it; the man page; the completion, loaded by bash. */
    snprintf(cmd, sizeof cmd, "%s/usr/local/share/parlab/scripts/bench.sh", dest);
    CU_ASSERT_EQUAL(access(cmd, X_OK), 0);
    snprintf(cmd, sizeof cmd, "grep -q '^\\.TH PARLAB \"1\"' '%s/usr/local/share/man/man1/"
             "parlab.1' && grep -q 'COMMAND: RUN' '%s/usr/local/share/man/man1/parlab.1'",
             dest, dest);
    CU_ASSERT_EQUAL(sh(&r, 30, cmd), 0);
    snprintf(cmd, sizeof cmd, "bash -c '. \"%s/usr/local/share/bash-completion/completions/"
             "parlab\" && complete -p parlab && COMP_WORDS=(parlab run -w prim) COMP_CWORD=3 "
             "&& _parlab && echo \"${COMPREPLY[*]}\"'", dest);
    CU_ASSERT_EQUAL(sh(&r, 30, cmd), 0);
    CU_ASSERT_STRING_EQUAL(r.out, "complete -F _parlab parlab\nprimes\n");

    snprintf(cmd, sizeof cmd, "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s uninstall "
             "PREFIX=/usr/local DESTDIR='%s' SAN='%s' 2>&1 && find '%s' -mindepth 1 \\( -type f "
             "-o -type l -o -name '*parlab*' \\)", dest, san, dest);
    st = sh(&r, 120, cmd);
    CU_ASSERT_EQUAL(st, 0);
    CU_ASSERT_STRING_EQUAL(r.out, "");     /* no file, link or parlab folder is left */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dest);
    sh(&r, 30, cmd);
}

CU_TestInfo tests_ux[] = {
    { "edit distance with transpositions", test_edit_distance },
    { "a suggestion only when close enough", test_suggest_threshold },
    { "typos get 'did you mean', one line, exit 64", test_typos_get_help },
    { "--version gives the version and the commit", test_version_has_commit },
    { "the mean's 95% interval", test_ci95 },
    { "every command's --format json validates against its schema", test_every_json_validates },
    { "a document that breaks its schema fails the check", test_bad_json_fails_schema },
    { "make install into a DESTDIR, use, make uninstall", test_install_uninstall },
    CU_TEST_INFO_NULL,
};
