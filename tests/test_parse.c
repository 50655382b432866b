/* test_parse.c: the number parser, by table, by a randomised comparison against a
 * reference, and over a corpus of inputs that once broke parsers like it; and every
 * numeric option of `parlab run` with empty, negative, zero, huge, non-numeric and
 * overflowing values; and that the parsers refuse with an outcome for the command to
 * print, printing nothing themselves. */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../harness/harness.h"
#include "../harness/parse.h"
#include "../harness/suggest.h"
#include "../workloads/workload.h"
#include "util.h"

static void test_table(void)
{
    static const struct { const char *s; int ok; uint64_t v; } t[] = {
        { "0", 1, 0 }, { "7", 1, 7 }, { "2000000", 1, 2000000 }, { "2M", 1, 2000000 },
        { "2e6", 1, 2000000 }, { "2E6", 1, 2000000 }, { "2.5k", 1, 2500 }, { "1.5e3", 1, 1500 },
        { "+5", 1, 5 }, { "0.001G", 1, 1000000 }, { "1T", 1, 1000000000000ull },
        { "18446744073709551615", 1, UINT64_MAX }, { "1e0", 1, 1 }, { "100e-2", 1, 1 },
        { "", 0, 0 }, { "-1", 0, 0 }, { "abc", 0, 0 }, { "1.5", 0, 0 }, { "1e", 0, 0 },
        { "e5", 0, 0 }, { ".", 0, 0 }, { "+", 0, 0 }, { "1..2", 0, 0 }, { "1e99", 0, 0 },
        { "18446744073709551616", 0, 0 }, { "2MM", 0, 0 }, { "2 ", 0, 0 }, { " 2", 0, 0 },
        { "0x10", 0, 0 }, { "1_000", 0, 0 }, { "1e-1", 0, 0 }, { "nan", 0, 0 }, { "inf", 0, 0 },
        { "99999999999999999999999999999999999", 0, 0 },
        /* zeros after the point add no digits: 1, 2.5M and 0.0...01G written long */
        { "1.00000000000000000000000000000000", 1, 1 }, { "2.50000000000000000000000000000M", 1, 2500000 },
        { "0.000000001G", 1, 1 }, { "000000000000000000000000000000000000042", 1, 42 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        uint64_t v = 12345;
        const char *why = NULL;
        int rc = parse_count(t[i].s, 0, UINT64_MAX, &v, &why);
        if ((rc == 0) != t[i].ok || (t[i].ok && v != t[i].v))
            fprintf(stderr, "\n  parse_count(\"%s\") = %d, %llu", t[i].s, rc, (unsigned long long)v);
        CU_ASSERT_EQUAL(rc == 0, t[i].ok);
        if (t[i].ok) {
            CU_ASSERT_EQUAL(v, t[i].v);
        } else {
            CU_ASSERT_PTR_NOT_NULL(why);
        }
    }
    uint64_t v;
    const char *why;
    CU_ASSERT_EQUAL(parse_count("0", 1, 10, &v, &why), -EINVAL);
    CU_ASSERT_EQUAL(parse_count("11", 1, 10, &v, &why), -EINVAL);
    CU_ASSERT_STRING_EQUAL(why, "too large");
}

/* Random digit strings agree with strtoull; random byte soup never crashes and either
 * fails or yields a value whose plain decimal form parses back to the same value. */
static void test_randomised(void)
{
    srand(20261128);
    for (int i = 0; i < 200000; i++) {
        char s[40];
        int len = 1 + rand() % 24;
        for (int k = 0; k < len; k++)
            s[k] = (char)('0' + rand() % 10);
        s[len] = '\0';
        uint64_t v;
        const char *why;
        int rc = parse_count(s, 0, UINT64_MAX, &v, &why);
        char *end;
        errno = 0;
        unsigned long long ref = strtoull(s, &end, 10);
        int ref_ok = errno == 0;
        CU_ASSERT_EQUAL(rc == 0, ref_ok);
        if (rc == 0 && ref_ok && v != ref) {
            CU_FAIL("value differs from strtoull");
            break;
        }
    }
    static const char alphabet[] = "0123456789.eE+-kMGTx ";
    for (int i = 0; i < 200000; i++) {
        char s[24], back[32];
        int len = rand() % 12;
        for (int k = 0; k < len; k++)
            s[k] = alphabet[rand() % (sizeof alphabet - 1)];
        s[len] = '\0';
        uint64_t v, w;
        const char *why;
        if (parse_count(s, 0, UINT64_MAX, &v, &why) == 0) {
            snprintf(back, sizeof back, "%llu", (unsigned long long)v);
            CU_ASSERT_EQUAL(parse_count(back, 0, UINT64_MAX, &w, &why), 0);
            CU_ASSERT_EQUAL(v, w);
        } else {
            CU_ASSERT_PTR_NOT_NULL(why);
        }
    }
}

/* tests/corpus/numbers.txt: inputs that broke this parser or parsers like it, with the
 * expected verdict: "ok VALUE INPUT" or "bad - INPUT" (INPUT is the rest of the line). */
static void test_corpus(void)
{
    FILE *f = fopen("tests/corpus/numbers.txt", "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char verdict[8], value[32];
        int off = 0;
        if (line[0] == '#' || sscanf(line, "%7s %31s %n", verdict, value, &off) < 2)
            continue;
        char *input = line + off;
        input[strcspn(input, "\n")] = '\0';
        if (strcmp(input, "<empty>") == 0)
            input[0] = '\0';
        uint64_t v;
        const char *why;
        int rc = parse_count(input, 0, UINT64_MAX, &v, &why);
        int want_ok = strcmp(verdict, "ok") == 0;
        if ((rc == 0) != want_ok || (want_ok && v != strtoull(value, NULL, 10)))
            fprintf(stderr, "\n  corpus: \"%s\" -> rc %d", input, rc);
        CU_ASSERT_EQUAL(rc == 0, want_ok);
        if (want_ok && rc == 0) {
            CU_ASSERT_EQUAL(v, strtoull(value, NULL, 10));
        }
        n++;
    }
    fclose(f);
    CU_ASSERT(n >= 10);
}

/* Every option that takes a number, with every kind of bad value: exit 64, one line,
 * naming the option; never 0, never a signal. */
static void test_every_option_bad_values(void)
{
    static const char *const opts[] = { "-j", "-n", "-t", "-c", "--steps", "--cores",
                                        "--repeat", "--warmup", "--seed", "--io-ms",
                                        "--loops", "--task-timeout" };
    static const char *const vals[] = { "", "-1", "0", "1e30", "abc", "99999999999999999999999",
                                        "1.5x", "--" };
    int cases = 0;
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
            /* zero is a fine seed, I/O wait, warm-up count and... nothing else */
            if (strcmp(vals[k], "0") == 0 &&
                (strcmp(opts[i], "--seed") == 0 || strcmp(opts[i], "--io-ms") == 0 ||
                 strcmp(opts[i], "--warmup") == 0))
                continue;
            const char *w = strcmp(opts[i], "--steps") == 0 ? "nbody" : "sumsq";
            const char *r = strcmp(opts[i], "--loops") == 0 ? "epoll" : "thread";
            struct cmd_result res;
            run_parlab(&res, 10, "run", "-w", w, "-r", r, "-n", "1000", opts[i], vals[k],
                       (char *)NULL);
            int ok = res.exited && res.status == 64 && count_lines(res.err) == 1 &&
                     strstr(res.err, opts[i]);
            if (!ok)
                fprintf(stderr, "\n  %s '%s': exited %d status %d: %s", opts[i], vals[k],
                        res.exited, res.status, res.err);
            CU_ASSERT(ok);
            cases++;
        }
    }
    CU_ASSERT(cases > 80);
}

/* Paths: anything but empty, overlong or holding a control character. */
static void test_paths(void)
{
    static char longest[4096], too_long[4097];
    memset(longest, 'a', sizeof longest - 1);
    memset(too_long, 'a', sizeof too_long - 1);
    static const struct { const char *s; int ok; } t[] = {
        { "t.csv", 1 }, { "/tmp/a b/é.csv", 1 }, { "-", 1 }, { longest, 1 },
        { "", 0 }, { too_long, 0 }, { "a\nb", 0 }, { "a\tb", 0 }, { "\r", 0 },
        { "a\x7f", 0 }, { "\x1b[31m", 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *why = NULL;
        int rc = parse_path(t[i].s, &why);
        CU_ASSERT_EQUAL(rc == 0, t[i].ok);
        if (!t[i].ok)
            CU_ASSERT_PTR_NOT_NULL(why);
    }
}

/* Answer shapes --expect learns from format(): a padded upper-case hex field, a plain
 * decimal pair, and words (no shape: only the general rules). */
static void fmt_hex_upper(const struct job *j, const struct partial *t, char *b, size_t n)
{
    (void)j;
    snprintf(b, n, "%08llX", (unsigned long long)(t->hash & 0xffffffffu));
}

static void fmt_pair(const struct job *j, const struct partial *t, char *b, size_t n)
{
    (void)j;
    snprintf(b, n, "%llu/%llu", (unsigned long long)t->count, (unsigned long long)(t->hash >> 48));
}

static void fmt_words(const struct job *j, const struct partial *t, char *b, size_t n)
{
    (void)j, (void)t;
    snprintf(b, n, "done");
}

static void test_expect_shapes(void)
{
    static const struct workload hex = { .name = "hex", .format = fmt_hex_upper },
                                 pair = { .name = "pair", .format = fmt_pair },
                                 words = { .name = "words", .format = fmt_words };
    static const struct { const struct workload *wl; const char *s; int ok; } t[] = {
        { &hex, "00C0FFEE", 1 }, { &hex, "FFFFFFFF", 1 }, { &hex, "00c0ffee", 0 },
        { &hex, "C0FFEE", 0 }, { &hex, "0C0FFEE00", 0 },
        { &pair, "0/0", 1 }, { &pair, "18446744073709551615/65535", 1 },
        { &pair, "18446744073709551616/1", 0 }, { &pair, "1/65536", 0 }, { &pair, "1:2", 0 },
        { &pair, "1/", 0 }, { &pair, "01/2", 0 }, { &pair, "12", 0 },
        { &words, "done", 1 }, { &words, "anything-else", 1 }, { &words, "a b", 0 },
        { &words, "", 0 }, { &words, "a,b", 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct job job = { .wl = t[i].wl, .size = 1, .tasks = 1, .steps = 1 };
        char why[300] = "";
        int rc = parse_expect(&job, t[i].s, why, sizeof why);
        if ((rc == 0) != t[i].ok)
            fprintf(stderr, "\n  %s --expect '%s': %s (%s)", t[i].wl->name, t[i].s,
                    rc ? "refused" : "accepted", why);
        CU_ASSERT_EQUAL(rc == 0, t[i].ok);
    }
}

/* The parsers print nothing and choose no exit status: 0, or -1 with the whole line in a
 * struct outcome (code 64), for the command to print once. */
static void test_refusal_lines(void)
{
    static const struct option opts[] = {
        { "repeat", required_argument, 0, 1 }, { "report", required_argument, 0, 2 },
        { 0, 0, 0, 0 },
    };
    struct outcome oc = { 0 };
    uint64_t v = 7;
    enum out_format f = OUT_TEXT;
    FILE *err = tmpfile();
    int saved = dup(2);
    CU_ASSERT_FATAL(err && saved >= 0);
    fflush(stderr);
    CU_ASSERT_FATAL(dup2(fileno(err), 2) == 2);   /* what they write to stderr, caught */
    CU_ASSERT_EQUAL(parse_opt_count("-j", "12", 1, 64, &v, &oc), 0);
    CU_ASSERT_EQUAL(v, 12);
    CU_ASSERT_EQUAL(oc.code, 0);
    CU_ASSERT_EQUAL(parse_opt_count("-j", "65", 1, 64, &v, &oc), -1);
    CU_ASSERT_EQUAL(oc.code, PARLAB_EXIT_USAGE);
    CU_ASSERT_STRING_EQUAL(oc.msg, "-j 65: too large (at most 64)");
    CU_ASSERT_EQUAL(parse_opt_count("-n", "5", 1000, 9999, &v, &oc), -1);
    CU_ASSERT_STRING_EQUAL(oc.msg, "-n 5: too small (at least 1000)");
    CU_ASSERT_EQUAL(parse_opt_count("--idle", "x", 0, 9, &v, &oc), -1);
    CU_ASSERT_STRING_EQUAL(oc.msg, "--idle x: not a number");
    CU_ASSERT_EQUAL(v, 12);   /* a refused value leaves the option as it was */
    CU_ASSERT_EQUAL(out_format_opt("csv", &f, &oc), 0);
    CU_ASSERT_EQUAL(f, OUT_CSV);
    CU_ASSERT_EQUAL(out_format_opt("jsno", &f, &oc), -1);
    CU_ASSERT_STRING_EQUAL(oc.msg, "--format jsno: unknown format: did you mean 'json'? (text, "
                           "csv, json)");
    CU_ASSERT_EQUAL(suggest_unknown_option("--repaet", 0, opts, "run", &oc), -1);
    CU_ASSERT_STRING_EQUAL(oc.msg, "unknown option '--repaet': did you mean '--repeat'?");
    CU_ASSERT_EQUAL(suggest_unknown_option("--rep=3", 0, opts, "run", &oc), -1);
    CU_ASSERT_STRING_EQUAL(oc.msg, "ambiguous option '--rep': --repeat, --report?");
    CU_ASSERT_EQUAL(suggest_unknown_option("-q", 'q', opts, "race", &oc), -1);
    CU_ASSERT_STRING_EQUAL(oc.msg, "unknown option '-q' (parlab race --help)");
    CU_ASSERT_EQUAL(oc.code, PARLAB_EXIT_USAGE);
    /* A huge value keeps its head and the reason at its tail (fail_msg). */
    static char huge[12001];
    memset(huge, '9', sizeof huge - 1);
    CU_ASSERT_EQUAL(parse_opt_count("-n", huge, 0, 100, &v, &oc), -1);
    CU_ASSERT(strncmp(oc.msg, "-n 999", 6) == 0);
    CU_ASSERT(strstr(oc.msg, "characters ...]") != NULL);
    size_t len = strlen(oc.msg), tail = strlen(": too large (at most 100)");
    CU_ASSERT(len > tail && strcmp(oc.msg + len - tail, ": too large (at most 100)") == 0);
    struct stat st;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    CU_ASSERT(fstat(fileno(err), &st) == 0 && st.st_size == 0);
    fclose(err);
}

CU_TestInfo tests_parse[] = {
    { "parsers refuse with an outcome holding the line, printing nothing", test_refusal_lines },
    { "paths: no control characters, bounded", test_paths },
    { "--expect: the shape of the workload's answers", test_expect_shapes },
    { "parse_count table", test_table },
    { "parse_count randomised against strtoull", test_randomised },
    { "parse_count corpus", test_corpus },
    { "every numeric option rejects bad values", test_every_option_bad_values },
    CU_TEST_INFO_NULL,
};
