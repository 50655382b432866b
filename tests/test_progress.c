/* test_progress.c: the progress lines of long jobs. A short weak-scaling sweep and a quick
 * `parlab overhead` each print "[i/N elapsed, ~left]" lines on stderr with i counting 1..N,
 * plain (no "\r") off a terminal, while their CSV stays as it was; a speedup in them carries
 * its interval; wrapping (C and scripts/progress.py) and shortening never cut a word. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util.h"
#include "../harness/progress.h"
#include "../harness/stats.h"
#include "../experiments/overhead.h"

static const char *python(void)
{
    const char *p = getenv("PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

/*
 * The step lines of text: every line that starts with "[" and a digit must read
 * "[i/N M:SS elapsed]" or "[i/N M:SS elapsed, ~M:SS left]" and a space, with one N and i
 * running 1, 2, ... N in order. No "\r" anywhere. Returns N, or -1 (said on stderr).
 */
static int steps_say(const char *text, int say)
{
    int want = 1, total = -1;
    if (strchr(text, '\r')) {
        if (say)
            fprintf(stderr, "\n  a carriage return in lines that are not on a terminal");
        return -1;
    }
    for (const char *l = text; *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : l + strlen(l)) {
        if (l[0] != '[' || l[1] < '0' || l[1] > '9')
            continue;
        int i, n, m, s, m2, s2, pos = 0, pos2 = 0;
        int ok = sscanf(l, "[%d/%d %d:%d elapsed%n", &i, &n, &m, &s, &pos) == 4 && pos > 0;
        if (ok && l[pos] == ']')
            pos2 = pos + 1;
        else if (ok && sscanf(l + pos, ", ~%d:%d left]%n", &m2, &s2, &pos2) == 2 && pos2 > 0)
            pos2 += pos;
        else
            ok = 0;
        ok = ok && l[pos2] == ' ' && i == want && (total < 0 || n == total) && i <= n &&
             s < 60 && m >= 0;
        if (!ok) {
            if (say)
                fprintf(stderr, "\n  not step %d of %d: %.*s", want, total, (int)strcspn(l, "\n"), l);
            return -1;
        }
        total = n;
        want++;
    }
    if (total >= 0 && want != total + 1) {
        if (say)
            fprintf(stderr, "\n  the steps stopped at %d of %d", want - 1, total);
        return -1;
    }
    return total;
}

static int steps_of(const char *text)
{
    return steps_say(text, 1);
}

/* The format checker itself: it takes good lines and refuses the bad. */
static void test_step_lines_checked(void)
{
    CU_ASSERT_EQUAL(steps_say("[1/2 0:00 elapsed] a 1 s\nnoise\n[2/2 0:03 elapsed, ~0:03 left] b\n", 0), 2);
    CU_ASSERT_EQUAL(steps_say("[1/2 0:00 elapsed] a\n", 0), -1);                  /* stops at 1 */
    CU_ASSERT_EQUAL(steps_say("[1/2 0:00 elapsed] a\n[3/2 0:00 elapsed] b\n", 0), -1);
    CU_ASSERT_EQUAL(steps_say("[1/1 0:00 elapsed]\r[1/1 0:01 elapsed] a\n", 0), -1);
    CU_ASSERT_EQUAL(steps_say("[1/1 0:00 passed] a\n", 0), -1);
    CU_ASSERT_EQUAL(steps_say("[1/2 0:00 elapsed]a\n[2/2 0:00 elapsed] b\n", 0), -1);
    CU_ASSERT_EQUAL(steps_say("no steps\n", 0), -1);                              /* none */
}

static void test_prefix(void)
{
    char b[96];
    CU_ASSERT_STRING_EQUAL(progress_prefix(b, sizeof b, 1, 6, 0.4, 0), "[1/6 0:00 elapsed]");
    CU_ASSERT_STRING_EQUAL(progress_prefix(b, sizeof b, 3, 6, 30.2, 3),
                           "[3/6 0:30 elapsed, ~0:30 left]");
    CU_ASSERT_STRING_EQUAL(progress_prefix(b, sizeof b, 2, 5, 3700, 1),
                           "[2/5 1:01:40 elapsed, ~4:06:40 left]");
    CU_ASSERT_STRING_EQUAL(progress_prefix(b, sizeof b, 4, 4, 61, 4), "[4/4 1:01 elapsed, ~0:00 left]");
}

/* Words of s (whitespace-separated), NUL-terminated each, into w; returns the count. */
static int words_of(const char *s, char w[][48], int max)
{
    int n = 0;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save, *t = strtok_r(buf, " \t\n", &save); t && n < max; t = strtok_r(NULL, " \t\n", &save))
        snprintf(w[n++], 48, "%s", t);
    return n;
}

/* out is src shortened: its words the first words of src, whole, then "…" exactly when
 * some were left out; within width columns. */
static int is_shortened(const char *src, const char *out, size_t width)
{
    static char a[256][48], b[256][48];
    int na = words_of(src, a, 256), nb = words_of(out, b, 256);
    int cut = nb > 0 && strcmp(b[nb - 1], "…") == 0;
    if (stats_text_width(out) > width)
        return 0;
    if (cut)
        nb--;
    if (nb > na || (!cut && nb != na) || (cut && nb == na))
        return 0;
    for (int k = 0; k < nb; k++)
        if (strcmp(a[k], b[k]) != 0)
            return 0;
    return 1;
}

/* Texts of words of every length, "±" "×" "…" among them (one column, three bytes). */
static void random_text(char *buf, size_t n, unsigned *seed)
{
    static const char *const pool[] = { "a", "of", "the", "speedup", "1.93×", "[1.85,", "2.01]",
        "±", "min", "…", "max", "Karp-Flatt", "inconclusive:", "supercalifragilistic",
        "a-very-long-hyphenated-word-that-fills-a-line", "0.0123", "s", "\t", "  " };
    size_t len = 0;
    int k = rand_r(seed) % 30;
    buf[0] = '\0';
    while (k-- > 0 && len + 64 < n)
        len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? " " : "",
                                pool[rand_r(seed) % (sizeof pool / sizeof pool[0])]);
}

/* out is src wrapped: the same words in the same order (the first `keep` of them, all
 * when keep < 0), every line within width unless it is one word, later lines indented. */
static int is_wrapped(const char *src, const char *out, size_t width, size_t indent, int keep)
{
    static char a[256][48], b[256][48];
    int na = words_of(src, a, 256), nb = words_of(out, b, 256);
    if (keep >= 0 ? nb > na : nb != na)
        return 0;
    for (int k = 0; k < nb; k++)
        if (strcmp(a[k], b[k]) != 0)
            return 0;
    int first = 1;
    for (const char *l = out; *l; first = 0) {
        size_t len = strcspn(l, "\n");
        char line[1024];
        snprintf(line, sizeof line, "%.*s", (int)len, l);
        if (!first && indent && strncmp(line, "                ", indent) != 0)
            return 0;
        const char *body = line + (first ? 0 : indent);
        if (stats_text_width(line) > width && strchr(body, ' '))
            return 0;
        l += len + (l[len] == '\n');
    }
    return 1;
}

static void test_wrap_keeps_words(void)
{
    unsigned seed = 12345;
    char src[2048], out[1024];
    int bad = 0;
    for (int t = 0; t < 3000; t++) {
        random_text(src, sizeof src, &seed);
        size_t width = (size_t)(rand_r(&seed) % 90) + 1, indent = (size_t)(t % 3) * 2;
        size_t size = t % 7 ? sizeof out : (size_t)(rand_r(&seed) % 40 + 1);   /* small buffers too */
        progress_wrap(out, size, src, width, indent);
        int ind = indent + 1 > width ? 0 : (int)indent;
        if (strlen(out) >= size || !is_wrapped(src, out, width, (size_t)ind, size < sizeof out)) {
            if (bad++ < 3)
                fprintf(stderr, "\n  width %zu size %zu: '%s' -> '%s'", width, size, src, out);
        }
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_STRING_EQUAL(progress_wrap(out, sizeof out, "fits  as\tis", 20, 2), "fits as is");
    CU_ASSERT_STRING_EQUAL(progress_wrap(out, sizeof out, "one two three four", 9, 2),
                           "one two\n  three\n  four");
    CU_ASSERT_STRING_EQUAL(progress_wrap(out, sizeof out, "incomprehensible x", 5, 0),
                           "incomprehensible\nx");
}

/* scripts/progress.py: shorten and wrap, on the same kind of texts, never cut a word. */
static void test_python_keeps_words(void)
{
    char tmp[] = "/tmp/parlab-progress-XXXXXX", src[2048], cmd[512];
    static char lines[200][2048];
    int fd = mkstemp(tmp), bad = 0;
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    unsigned seed = 777;
    for (int t = 0; t < 200; t++) {
        random_text(lines[t], sizeof lines[t], &seed);
        for (char *p = lines[t]; *p; p++)
            if (*p == '\t')
                *p = ' ';
        fprintf(f, "%s\n", lines[t]);
    }
    fclose(f);
    for (int width = 9; width <= 41; width += 16) {
        struct cmd_result r;
        snprintf(cmd, sizeof cmd, "'%s' scripts/progress.py shorten %d < '%s'", python(), width, tmp);
        char *argv[] = { "sh", "-c", cmd, NULL };
        CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 30, &r), 0);
        CU_ASSERT_EQUAL(r.status, 0);
        const char *l = r.out;
        for (int t = 0; t < 200 && *l; t++) {
            size_t len = strcspn(l, "\n");
            snprintf(src, sizeof src, "%.*s", (int)len, l);
            if (!is_shortened(lines[t], src, (size_t)width) && bad++ < 3)
                fprintf(stderr, "\n  progress.py shorten %d: '%s' -> '%s'", width, lines[t], src);
            l += len + (l[len] == '\n');
        }
        CU_ASSERT_EQUAL(count_lines(r.out), 200);
    }
    CU_ASSERT_EQUAL(bad, 0);
    unlink(tmp);

    /* wrap: the same words in the same order, each line within the width unless it is one
     * word longer than that, later lines indented */
    static const char text[] = "speedup 1.93× [1.85, 2.01] a-very-long-hyphenated-word-that-fills-a-line "
                               "of the runs: min … max ± inconclusive: Karp-Flatt supercalifragilistic s";
    struct cmd_result r;
    char *argv[] = { (char *)python(), "scripts/progress.py", "wrap", "16", "2", (char *)text, NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 30, &r), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    static char a[64][48], b[64][48];
    int na = words_of(text, a, 64), nb = words_of(r.out, b, 64), same = na == nb;
    for (int k = 0; same && k < na; k++)
        same = strcmp(a[k], b[k]) == 0;
    CU_ASSERT(same);
    int first = 1;
    for (const char *l = r.out; *l; first = 0) {
        size_t len = strcspn(l, "\n");
        char line[512];
        snprintf(line, sizeof line, "%.*s", (int)len, l);
        CU_ASSERT(first || strncmp(line, "  ", 2) == 0);
        CU_ASSERT(stats_text_width(line) <= 16 || !strchr(line + 2, ' '));
        l += len + (l[len] == '\n');
    }
    CU_ASSERT(count_lines(r.out) > 5);
}

/* A speedup as progress lines show it: the same text from C and from scripts/verdict.py. */
static void test_speedup_text(void)
{
    static const double seq[] = { 2.0, 2.1, 1.9, 2.05 }, run[] = { 1.0, 1.05, 0.95, 1.0 };
    char c[96];
    double r = 0, lo = 0, hi = 0;
    stats_fmt_speedup(c, sizeof c, seq, 4, run, 4);
    CU_ASSERT_EQUAL(sscanf(c, "%lf× [%lf, %lf]", &r, &lo, &hi), 3);
    CU_ASSERT(lo <= r && r <= hi && lo > 1.8 && hi < 2.2);
    CU_ASSERT_STRING_EQUAL(stats_fmt_speedup(c, sizeof c, seq, 2, run, 2),
                           "2× (2 runs: too few for an interval)");
    CU_ASSERT_STRING_EQUAL(stats_fmt_speedup(c, sizeof c, seq, 0, run, 2), "?");

    struct cmd_result p;
    char *argv[] = { (char *)python(), "scripts/verdict.py", "speedup", "2.0", "2.1", "/", "1.0",
                     "1.05", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 30, &p), 0);
    CU_ASSERT_EQUAL(p.status, 0);
    CU_ASSERT_STRING_EQUAL(p.out, "2× (2 runs: too few for an interval)\n");
    char *argv4[] = { (char *)python(), "scripts/verdict.py", "speedup", "2.0", "2.1", "1.9",
                      "2.05", "/", "1.0", "1.05", "0.95", "1.0", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv4, 60, &p), 0);
    CU_ASSERT_EQUAL(p.status, 0);
    double pr = 0, plo = 0, phi = 0;
    CU_ASSERT_EQUAL(sscanf(p.out, "%lf× [%lf, %lf]", &pr, &plo, &phi), 3);
    CU_ASSERT(plo <= pr && pr <= phi && plo > 1.8 && phi < 2.2);
    CU_ASSERT_DOUBLE_EQUAL(pr, r, 0.005);   /* both the ratio of the means, at 3 digits */
}

/* A weak-scaling sweep of 2 points at tiny sizes: steps 1 and 2 of 2 on stderr, each with
 * its scaled speedup; stdout and weak.csv as they were. */
static void test_sweep_progress(void)
{
    char dir[] = "/tmp/parlab-progress-XXXXXX", env_parlab[4200], env_cores[64], path[4300];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    cpu_set_t set;
    int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    snprintf(env_parlab, sizeof env_parlab, "PARLAB=%s", parlab_bin());
    snprintf(env_cores, sizeof env_cores, "PARLAB_BENCH_CORES=%s", cpus >= 2 ? "1 2" : "1 1");
    char *argv[] = { "env", env_parlab, env_cores, "PARLAB_BENCH_TINY=1",
                     "PARLAB_WEAK_WORKLOADS=sumsq", "PARLAB_WEAK_RUNNERS=thread",
                     "PARLAB_WEAK_REPEAT=1", "bash", "scripts/sweep-weak.sh", dir, NULL };
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 120, &r), 0);
    if (r.status != 0)
        fprintf(stderr, "\n  sweep-weak.sh: exit %d: %s", r.status, r.err);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(steps_of(r.err), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "] weak: sumsq thread --cores 1 -j 1 -n 1000000 "));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "scaled speedup 1× (1 run: too few for an interval)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, " s ± "));
    /* stdout: the one closing line, no step in it */
    snprintf(path, sizeof path, "[weak] %s/weak.csv\n", dir);
    CU_ASSERT_STRING_EQUAL(r.out, path);
    snprintf(path, sizeof path, "%s/weak.csv", dir);
    char *csv = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    static const char head[] = "workload,runner,cores,size,mean_s,stddev_s,scaled_speedup,";
    CU_ASSERT_EQUAL(strncmp(csv, head, strlen(head)), 0);
    CU_ASSERT_EQUAL(count_lines(csv), 3);
    CU_ASSERT_PTR_NULL(strchr(csv, '['));
    free(csv);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(path), 0);
}

/* `parlab overhead --quick --repeat 1 --format csv`: OV_STEPS lines on stderr, the speedup
 * steps with theirs; stdout the CSV alone, every line as many fields as the header. */
static void test_overhead_progress(void)
{
#ifdef __SANITIZE_THREAD__
    fprintf(stderr, "\n  skipped under ThreadSanitizer (the overhead table takes minutes there)");
    return;
#endif
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 120, "overhead", "--quick", "--repeat", "1", "--format",
                                     "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL_FATAL(r.status, 0);
    CU_ASSERT_EQUAL(steps_of(r.err), OV_STEPS);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "] speedup on primes N=100000: best of "));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "× (1 run: too few for an interval)"));
    CU_ASSERT_EQUAL(strncmp(r.out, "command,section,what,", 21), 0);
    int fields = -1, lines = 0, same = 1;
    for (const char *l = r.out; *l; lines++) {
        size_t len = strcspn(l, "\n");
        int k = 0;
        for (size_t j = 0; j < len; j++)
            k += l[j] == ',';
        if (fields < 0)
            fields = k;
        same &= k == fields && l[0] != '[' && l[0] != '#';
        l += len + (l[len] == '\n');
    }
    CU_ASSERT(same);
    CU_ASSERT(lines > 20);
}

CU_TestInfo tests_progress[] = {
    { "the step-line checker takes good lines and refuses bad ones", test_step_lines_checked },
    { "[i/N elapsed, ~left]", test_prefix },
    { "wrapping keeps whole words (C)", test_wrap_keeps_words },
    { "shortening and wrapping keep whole words (progress.py)", test_python_keeps_words },
    { "a speedup with its interval, the same from C and verdict.py", test_speedup_text },
    { "a weak sweep counts its steps on stderr; its CSV is unchanged", test_sweep_progress },
    { "overhead counts its steps on stderr; its CSV is unchanged", test_overhead_progress },
    CU_TEST_INFO_NULL,
};
