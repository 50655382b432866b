/* test_labs.c: every lab runs end to end at tiny sizes (LAB_TINY=1) and leaves one complete
 * run whose check lines are well formed (ok, FAIL or ?? with its reason) and which keeps
 * a copy of its predict.txt; no check fails
 * its committed known-good run and the known-bad run fails on its named step; the
 * three-valued grading of a fabricated run (known samples, known loads) passes a clear
 * speedup, makes a flattened one inconclusive under load and fails it on a quiet run; no
 * run gives exit 64 naming `make lab-N`; a malformed predict.txt line is named with its
 * line number while the rest are still checked; every number in every lab's key holds
 * against the lab's committed reference run, and a planted wrong one fails. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <libgen.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "util.h"

static const char *python(void)
{
    const char *p = getenv("PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

/* `python3 scripts/lab.py ARGS...` (NULL-terminated) into r. */
static int lab(struct cmd_result *r, unsigned timeout_s, ...)
{
    va_list ap;
    va_start(ap, timeout_s);
    int rc = run_cmd_va(r, timeout_s, python(), "scripts/lab.py", ap);
    va_end(ap);
    return rc;
}

/* `prog arg1 arg2 arg3 arg4` (NULLs end the list early) into r, 30 s at most. */
static int run_argv(struct cmd_result *r, const char *prog, const char *a1,
                           const char *a2, const char *a3, const char *a4)
{
    char *argv[] = { (char *)prog, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
    return run_cmd(argv, 30, r);
}

/* The labs, as folders labs/NN-name with a lab.json: fills names, returns the count. */
static int lab_names(char names[][64], int max)
{
    glob_t g;
    int n = 0;
    if (glob("labs/[0-9][0-9]-*/lab.json", 0, NULL, &g) != 0)
        return 0;
    for (size_t i = 0; i < g.gl_pathc && n < max; i++) {
        const char *d = g.gl_pathv[i] + strlen("labs/");
        snprintf(names[n++], 64, "%.*s", (int)(strchr(d, '/') - d), d);
    }
    globfree(&g);
    return n;
}

/* The check output's verdict lines are well formed: each check line is "  ok   step",
 * "  FAIL step" or "  ??   step", an inconclusive one is followed by its reason, and a
 * trust line comes first and last. Returns the number of check lines, -1 if malformed. */
static int check_lines_ok(const char *out)
{
    int n = 0;
    const char *p = strstr(out, "checks on the measured numbers:\n");
    if (!p)
        return -1;
    for (p = strchr(p, '\n') + 1; *p && *p != '\n'; p = strchr(p, '\n') + 1) {
        if (!strncmp(p, "  ok   step ", 12) || !strncmp(p, "  FAIL step ", 12))
            n++;
        else if (!strncmp(p, "  ??   step ", 12)) {
            const char *next = strchr(p, '\n');
            if (!next || strncmp(next + 1, "                inconclusive: ", 30) ||
                next[31] == '\n')
                return -1;
            n++;
        } else if (strncmp(p, "                ", 16))
            return -1;
        if (!strchr(p, '\n'))
            return -1;
    }
    int trust = 0;
    for (const char *t = strstr(out, " runs disturbed"); t; t = strstr(t + 1, " runs disturbed"))
        trust++;
    const char *unmeasured = strstr(out, "load not ");
    if (trust < 2 && !(unmeasured && strstr(unmeasured + 1, "load not ")))
        return -1;
    return n;
}

/* Entries in a folder that start with '.' (a half-written run), or -1. */
static int hidden_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void test_labs_tiny(void)
{
    char names[16][64], tmp[] = "/tmp/parlab-labs-XXXXXX";
    int n = lab_names(names, 16);
    CU_ASSERT_FATAL(n >= 9);
    CU_ASSERT_FATAL(mkdtemp(tmp) != NULL);
    setenv("LAB_RESULTS", tmp, 1);
    setenv("LAB_TINY", "1", 1);
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    for (int i = 0; i < n; i++) {
        char num[8], dir[2100], path[2200];
        snprintf(num, sizeof num, "%.2s", names[i]);
        int ok = lab(r, 120, "run", num, NULL) == 0 && r->exited && r->status == 0;
        int needs = strstr(r->out, " needs ") != NULL;   /* lab 8 without the mpi runner */
        snprintf(dir, sizeof dir, "%s/%s", tmp, names[i]);
        glob_t g;
        snprintf(path, sizeof path, "%s/*/report.md", dir);
        int runs = glob(path, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
        if (runs)
            globfree(&g);
        ok = ok && (needs || (runs == 1 && hidden_entries(dir) == 0 &&
                              strstr(r->out, "[1/") && strstr(r->out, "done in") &&
                              strstr(r->out, "predict.txt kept with the run (")));
        /* the predictions as they were when it started, beside its numbers */
        snprintf(path, sizeof path, "%s/*/predict.txt", dir);
        int kept = glob(path, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
        if (kept)
            globfree(&g);
        ok = ok && (needs || kept == 1);
        if (!ok)
            fprintf(stderr, "\n  make lab-%s (tiny): status %d, %d runs: %s%s", num, r->status,
                    runs, r->out, r->err);
        CU_ASSERT(ok);
        /* its check reads that run: every check line well formed; 0, 1 or 2 (tiny sizes
         * prove nothing about speed: a timing claim on one repeat is inconclusive, a
         * claim without samples may go either way) */
        CU_ASSERT_EQUAL(lab(r, 60, "check", num, NULL), 0);
        ok = r->exited && (r->status == 0 || r->status == 1 || r->status == 2) &&
             (needs || check_lines_ok(r->out) > 0);
        if (!ok)
            fprintf(stderr, "\n  make lab-%s-check (tiny): status %d: %s%s", num, r->status,
                    r->out, r->err);
        CU_ASSERT(ok);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CU_ASSERT_EQUAL(system(cmd), 0);
    unsetenv("LAB_TINY");
    unsetenv("LAB_RESULTS");
    free(r);
}

static void test_labs_no_run(void)
{
    char tmp[] = "/tmp/parlab-labs-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(tmp) != NULL);
    setenv("LAB_RESULTS", tmp, 1);
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL(lab(r, 30, "check", "3", NULL), 0);
    CU_ASSERT(r->exited && r->status == 64 && strstr(r->err, "make lab-3") != NULL);
    CU_ASSERT_EQUAL(lab(r, 30, "check", "99", NULL), 0);
    CU_ASSERT(r->exited && r->status == 64 && strstr(r->err, "no such lab") != NULL);
    CU_ASSERT_EQUAL(lab(r, 30, "run", "x", NULL), 0);
    CU_ASSERT(r->exited && r->status == 64);
    CU_ASSERT_EQUAL(lab(r, 30, "check", "1", "--run", "/nonexistent", NULL), 0);
    CU_ASSERT(r->exited && r->status == 64 && strstr(r->err, "--run") != NULL);
    rmdir(tmp);
    unsetenv("LAB_RESULTS");
    free(r);
}

/* tests/corpus/labs/NN-name/ holds predict.txt, bad/ (a student run that must fail) and
 * bad/EXPECT (the line the check must print); the known-good run is the committed
 * results/reference/labs/NN-name/<run>/, or good/ where no reference run exists. */
static void test_labs_known_runs(void)
{
    char names[16][64];
    int n = lab_names(names, 16), checked = 0;
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    for (int i = 0; i < n; i++) {
        char num[8], pred[2100], good[2200], bad[2100], expect_path[2200], expect[200] = "";
        glob_t g;
        snprintf(num, sizeof num, "%.2s", names[i]);
        snprintf(pred, sizeof pred, "tests/corpus/labs/%s/predict.txt", names[i]);
        snprintf(bad, sizeof bad, "tests/corpus/labs/%s/bad", names[i]);
        snprintf(expect_path, sizeof expect_path, "%s/EXPECT", bad);
        snprintf(good, sizeof good, "results/reference/labs/%s/*/meta.json", names[i]);
        if (glob(good, 0, NULL, &g) == 0) {
            snprintf(good, sizeof good, "%.*s", (int)(strlen(g.gl_pathv[g.gl_pathc - 1]) -
                                                      strlen("/meta.json")),
                     g.gl_pathv[g.gl_pathc - 1]);
            globfree(&g);
        } else {
            snprintf(good, sizeof good, "tests/corpus/labs/%s/good", names[i]);
        }
        FILE *f = fopen(expect_path, "r");
        if (!f || !fgets(expect, sizeof expect, f)) {
            fprintf(stderr, "\n  lab %s: no known-bad run (%s)", num, expect_path);
            CU_FAIL("a lab without a known-bad run");
            if (f)
                fclose(f);
            continue;
        }
        fclose(f);
        expect[strcspn(expect, "\n")] = '\0';
        /* the good run: no check fails; one it cannot settle is inconclusive (exit 2) */
        CU_ASSERT_EQUAL(lab(r, 60, "check", num, "--run", good, "--predict", pred, NULL), 0);
        int ok = r->exited && (r->status == 0 || r->status == 2) &&
                 !strstr(r->out, "  FAIL step") && check_lines_ok(r->out) > 0 &&
                 strstr(r->out, "predicted") && !strstr(r->out, "malformed");
        if (!ok)
            fprintf(stderr, "\n  lab %s known-good %s: status %d: %s%s", num, good, r->status,
                    r->out, r->err);
        CU_ASSERT(ok);
        CU_ASSERT_EQUAL(lab(r, 60, "check", num, "--run", bad, "--predict", pred, NULL), 0);
        ok = r->exited && r->status == 1 && strstr(r->out, expect) &&
             check_lines_ok(r->out) > 0;
        if (!ok)
            fprintf(stderr, "\n  lab %s known-bad: status %d, want '%s': %s%s", num, r->status,
                    expect, r->out, r->err);
        CU_ASSERT(ok);
        checked++;
    }
    CU_ASSERT(checked >= 5);   /* every lab with a committed run */
    free(r);
}

/* A lab 1 run folder made up with known samples: N repeats of every configuration, seq
 * taking 1 s (+10 ms a repeat), fork, thread, the 2-core scale point and the sweep's W >= 2
 * SPEEDUP times faster, epoll as seq; the sweep's traces with each worker inside tasks for
 * the whole run; the student's mandelbrot split as fast as the given one
 * and verified; every run with OTHER CPUs used by other processes. */
static int write_lab1_run(const char *dir, int n, double speedup, double other)
{
    static const char *wl[] = { "primes", "sumsq" }, *rn[] = { "seq", "fork", "thread", "epoll" };
    char path[300];
    int cmd = 0;
    snprintf(path, sizeof path, "%s/cpu.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "p_workload,p_runner,wall_s,user_s,verified,lab_round,lab_cmd,other_cpu\n");
    for (int i = 0; i < n; i++)
        for (int w = 0; w < 2; w++)
            for (int k = 0; k < 4; k++) {
                double seq = 1.0 + 0.01 * i, t = k == 1 || k == 2 ? seq / speedup : seq;
                fprintf(f, "%s,%s,%.6f,%.6f,yes,%d,%d,%.3f\n", wl[w], rn[k], t,
                        k == 1 || k == 2 ? seq : t, i + 1, cmd++, other);
            }
    fclose(f);
    snprintf(path, sizeof path, "%s/scale.csv", dir);
    if (!(f = fopen(path, "w")))
        return -1;
    fprintf(f, "p_cores,wall_s,user_s,verified,lab_round,lab_cmd,other_cpu\n");
    for (int i = 0; i < n; i++)
        for (int c = 1; c <= 2; c++) {
            double seq = 1.0 + 0.01 * i;
            fprintf(f, "%d,%.6f,%.6f,yes,%d,%d,%.3f\n", c, c == 1 ? seq : seq / speedup, seq,
                    i + 1, cmd++, other);
        }
    fclose(f);
    static const int sweep[] = { 1, 2, 3, 4, 6, 8 };   /* worker_sweep(2) in scripts/lab.py */
    snprintf(path, sizeof path, "%s/sweep.csv", dir);
    if (!(f = fopen(path, "w")))
        return -1;
    fprintf(f, "p_workers,wall_s,user_s,verified,lab_round,lab_cmd,other_cpu\n");
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 6; k++) {
            double seq = 1.0 + 0.01 * i;
            fprintf(f, "%d,%.6f,%.6f,yes,%d,%d,%.3f\n", sweep[k],
                    sweep[k] == 1 ? seq : seq / speedup, seq, i + 1, cmd++, other);
        }
    fclose(f);
    snprintf(path, sizeof path, "%s/busy.csv", dir);
    if (!(f = fopen(path, "w")))
        return -1;
    fprintf(f, "p_workers,task,worker,step,start_ns,end_ns,lab_round,lab_cmd,other_cpu\n");
    for (int k = 0; k < 6; k++, cmd++) {
        long long wall = sweep[k] == 1 ? 1000000000LL : (long long)(1e9 / speedup),
                  per = wall * sweep[k] / 64;   /* 64 tasks, each worker's back to back */
        for (int t = 0; t < 64; t++)
            fprintf(f, "%d,%d,%d,0,%lld,%lld,1,%d,%.3f\n", sweep[k], t, t % sweep[k],
                    per * (t / sweep[k]), per * (t / sweep[k] + 1), cmd, other);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/mandel.csv", dir);
    if (!(f = fopen(path, "w")))
        return -1;
    fprintf(f, "p_split,wall_s,user_s,verified,lab_round,lab_cmd,other_cpu\n");
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++)
            fprintf(f, "%s,%.6f,%.6f,yes,%d,%d,%.3f\n", k ? "student" : "given", 0.5 + 0.01 * i,
                    1.0, i + 1, cmd++, other);
    fclose(f);
    snprintf(path, sizeof path, "%s/meta.json", dir);
    if (!(f = fopen(path, "w")))
        return -1;
    fprintf(f, "{\"lab\": \"01-cpu\", \"host\": \"made-up\", \"cores\": 2, \"tiny\": false, "
               "\"started\": \"made-up\", \"wall_s\": 1, \"sizes\": {\"n_primes\": \"3M\", "
               "\"n_sumsq\": \"500M\"}, \"repeat\": %d, \"load\": [\"0\", \"0\", \"0\"], "
               "\"other_cpu\": [", n);
    for (int i = 0; i < cmd; i++)
        fprintf(f, "%s%.3f", i ? ", " : "", other);
    fprintf(f, "]}\n");
    return fclose(f);
}

/* The line of output that contains WHAT, copied into line (empty if none). */
static const char *line_with(const char *out, const char *what, char *line, size_t size)
{
    const char *p = strstr(out, what);
    line[0] = '\0';
    if (p) {
        while (p > out && p[-1] != '\n')
            p--;
        snprintf(line, size, "%.*s", (int)strcspn(p, "\n"), p);
    }
    return line;
}

/* Three-valued grading, no timing: a made-up run with known samples and loads. */
static void test_labs_three_valued(void)
{
    char dir[] = "/tmp/parlab-verdict-XXXXXX", pred[300], line[600], cmd[400];
    CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
    snprintf(pred, sizeof pred, "%s/predict.txt", dir);
    FILE *f = fopen(pred, "w");
    CU_ASSERT_FATAL(f != NULL);
    /* speedup_fork right on a clear 1.9x; speedup_thread 1.0: wrong there, and the value a
     * busy machine that flattened the gain would show */
    fputs("speedup_fork = 1.9\nspeedup_thread = 1.0\nfastest = fork\n", f);
    fclose(f);
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);

    /* quiet, 1.9x: every check passes with its interval; the predictions are graded */
    CU_ASSERT_EQUAL_FATAL(write_lab1_run(dir, 3, 1.9, 0.0), 0);
    CU_ASSERT_EQUAL(lab(r, 60, "check", "1", "--run", dir, "--predict", pred, NULL), 0);
    CU_ASSERT(r->exited && r->status == 0 && check_lines_ok(r->out) == 10);
    CU_ASSERT(strstr(r->out, "quiet: 0 of 60 runs disturbed") != NULL);
    CU_ASSERT(strstr(line_with(r->out, " speedup_fork ", line, sizeof line),
                     "right within the measurement's interval [") != NULL);
    CU_ASSERT(strstr(line_with(r->out, " speedup_thread ", line, sizeof line),
                     "1.9× too low (the measurement's interval [") != NULL);
    CU_ASSERT(strstr(r->out, "the fork speedup 1.9 [") != NULL);

    /* busy (1 CPU of other work in every run), the gain flattened to 1.0x: inconclusive
     * with the reason and the hint, never a fail; the wrong 1.0 is not graded right */
    CU_ASSERT_EQUAL_FATAL(write_lab1_run(dir, 3, 1.0, 1.0), 0);
    CU_ASSERT_EQUAL(lab(r, 60, "check", "1", "--run", dir, "--predict", pred, NULL), 0);
    CU_ASSERT(r->exited && r->status == 2 && check_lines_ok(r->out) == 10);
    CU_ASSERT(strstr(r->out, "  FAIL step") == NULL);
    line_with(r->out, "fork beats seq", line, sizeof line);
    CU_ASSERT(strncmp(line, "  ??   step 4 ", 14) == 0);
    CU_ASSERT(strstr(r->out, "machine busy: other processes used 1.0 CPU") != NULL);
    CU_ASSERT(strstr(r->out, "WAIT_QUIET") != NULL);
    CU_ASSERT(strstr(r->out, "busy: 60 of 60 runs disturbed, ") != NULL);
    line_with(r->out, " speedup_thread ", line, sizeof line);
    CU_ASSERT(strstr(line, "inconclusive") != NULL && strstr(line, "right") == NULL);

    /* the same flat gain on a quiet machine is a fail, on its step, exit 1 */
    CU_ASSERT_EQUAL_FATAL(write_lab1_run(dir, 3, 1.0, 0.0), 0);
    CU_ASSERT_EQUAL(lab(r, 60, "check", "1", "--run", dir, "--predict", pred, NULL), 0);
    CU_ASSERT(r->exited && r->status == 1);
    CU_ASSERT(strncmp(line_with(r->out, "fork beats seq", line, sizeof line),
                      "  FAIL step 4 ", 14) == 0);
    CU_ASSERT(strstr(line_with(r->out, " speedup_thread ", line, sizeof line),
                     "right within the measurement's interval") != NULL);

    /* two repeats: too few for an interval, inconclusive, never a guess */
    CU_ASSERT_EQUAL_FATAL(write_lab1_run(dir, 2, 1.0, 0.0), 0);
    CU_ASSERT_EQUAL(lab(r, 60, "check", "1", "--run", dir, "--predict", pred, NULL), 0);
    CU_ASSERT(r->exited && r->status == 2 && strstr(r->out, "too few runs") != NULL);
    CU_ASSERT(strstr(r->out, "REPEAT=10") != NULL);

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
    free(r);
}

/* REPEAT and WAIT_QUIET that are not positive numbers: one line, exit 64, nothing run. */
static void test_labs_bad_env(void)
{
    static const char *bad[][2] = { { "REPEAT", "0" }, { "REPEAT", "x" }, { "REPEAT", "2.5" },
                                    { "WAIT_QUIET", "-1" }, { "WAIT_QUIET", "soon" },
                                    { "WAIT_QUIET", "nan" } };
    char tmp[] = "/tmp/parlab-labs-XXXXXX";
    CU_ASSERT_FATAL(mkdtemp(tmp) != NULL);
    setenv("LAB_RESULTS", tmp, 1);
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setenv(bad[i][0], bad[i][1], 1);
        CU_ASSERT_EQUAL(lab(r, 30, "run", "1", NULL), 0);
        int ok = r->exited && r->status == 64 && strstr(r->err, bad[i][0]) &&
                 strchr(r->err, '\n') == r->err + strlen(r->err) - 1 && hidden_entries(tmp) <= 0;
        if (!ok)
            fprintf(stderr, "\n  %s=%s: status %d: %s", bad[i][0], bad[i][1], r->status, r->err);
        CU_ASSERT(ok);
        unsetenv(bad[i][0]);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CU_ASSERT_EQUAL(system(cmd), 0);
    unsetenv("LAB_RESULTS");
    free(r);
}

static void test_labs_malformed_predict(void)
{
    char tmp[] = "/tmp/parlab-predict-XXXXXX";
    int fd = mkstemp(tmp);
    CU_ASSERT_FATAL(fd >= 0);
    static const char text[] = "# lab 2\nt_epoll = 0.02\nthis line has no equals sign\n"
                               "t_thread_4 = 0.16\nnet_epoll = soon\nno_such_key = 3\n";
    CU_ASSERT_EQUAL(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL(lab(r, 60, "check", "2", "--run", "tests/corpus/labs/02-io/bad",
                        "--predict", tmp, NULL), 0);
    CU_ASSERT(r->exited && r->status == 1);
    CU_ASSERT(strstr(r->out, ":3: not `key = value`") != NULL);
    CU_ASSERT(strstr(r->out, ":5: net_epoll = soon: not a number") != NULL);
    CU_ASSERT(strstr(r->out, ":6: unknown key no_such_key") != NULL);
    CU_ASSERT(strstr(r->out, "t_epoll ") != NULL && strstr(r->out, "t_thread_4 ") != NULL);
    CU_ASSERT(strstr(r->out, "no prediction yet for: t_thread_32") != NULL);
    unlink(tmp);
    free(r);
}

/* Ctrl-C or SIGTERM in the middle of a lab: exit 130 or 143 and no run folder, complete
 * or partial, is left for a check to read. On a busy machine the signal may land before
 * the driver has its handlers (Python's start-up is slow): death by the signal is then
 * the correct outcome, and what matters still holds, nothing left behind. */
static void test_labs_interrupted(void)
{
    static const int sigs[] = { SIGINT, SIGTERM };
    for (int k = 0; k < 2; k++) {
        char tmp[] = "/tmp/parlab-labs-XXXXXX", dir[200];
        CU_ASSERT_FATAL(mkdtemp(tmp) != NULL);
        pid_t pid = fork();
        if (pid == 0) {
            setenv("LAB_RESULTS", tmp, 1);
            unsetenv("LAB_TINY");    /* full sizes: lab 2 waits for tens of seconds */
            int devnull = open("/dev/null", O_RDWR);
            dup2(devnull, 1);
            dup2(devnull, 2);
            /* A shell starts background jobs with SIGINT ignored, and Python then installs
             * no KeyboardInterrupt at all: the signal must reach the driver as a terminal's. */
            signal(SIGINT, SIG_DFL);
            alarm(60);
            execlp(python(), python(), "scripts/lab.py", "run", "2", (char *)NULL);
            _exit(127);
        }
        nanosleep(&(struct timespec){ 1, 500 * 1000 * 1000 }, NULL);
        kill(pid, sigs[k]);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        int handled = WIFEXITED(st) && WEXITSTATUS(st) == 128 + sigs[k];
        int killed = WIFSIGNALED(st) && WTERMSIG(st) == sigs[k];
        if (!handled && !killed)
            fprintf(stderr, "\n  lab 2 after signal %d: status %d", sigs[k], st);
        CU_ASSERT(handled || killed);
        snprintf(dir, sizeof dir, "%s/02-io", tmp);
        DIR *d = opendir(dir);
        int entries = 0;
        for (struct dirent *e; d && (e = readdir(d));)
            entries += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        if (d)
            closedir(d);
        if (entries)
            fprintf(stderr, "\n  lab 2 after signal %d: %d entries left in %s", sigs[k], entries,
                    dir);
        CU_ASSERT_EQUAL(entries, 0);
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        CU_ASSERT_EQUAL(system(cmd), 0);
    }
}

/* scripts/workspan.py on a trace whose answer is known: two steps; step 0 has tasks of
 * 1, 1 and 2 s, step 1 one of 1 s and one of 3 s. Work 8 s, span 2 + 3 = 5 s. */
static void test_workspan_known(void)
{
    char tmp[] = "/tmp/parlab-trace-XXXXXX";
    int fd = mkstemp(tmp);
    CU_ASSERT_FATAL(fd >= 0);
    static const char trace[] = "task,worker,step,start_ns,end_ns\n"
                                "0,0,0,0,1000000000\n1,1,0,0,1000000000\n"
                                "2,0,0,1000000000,3000000000\n"
                                "0,0,1,3000000000,4000000000\n1,1,1,3000000000,6000000000\n";
    CU_ASSERT_EQUAL(write(fd, trace, sizeof trace - 1), (ssize_t)(sizeof trace - 1));
    close(fd);
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL(run_argv(r, python(), "scripts/workspan.py", tmp, "--format", "csv"),
                    0);
    CU_ASSERT(r->exited && r->status == 0);
    /* P=1: T_P in [8, 13]; P=2: [max(4, 5), 4 + 5]; P=64: [5, 5.125] */
    CU_ASSERT(strstr(r->out, "1,8.000000,5.000000,1.600,8.000000,13.000000,1.000,0.615") != NULL);
    CU_ASSERT(strstr(r->out, "2,8.000000,5.000000,1.600,5.000000,9.000000,1.600,0.889") != NULL);
    CU_ASSERT(strstr(r->out, "64,8.000000,5.000000,1.600,5.000000,5.125000,1.600,1.561") != NULL);
    CU_ASSERT_EQUAL(run_argv(r, python(), "scripts/workspan.py", "Makefile", NULL,
                                    NULL), 0);
    CU_ASSERT(r->exited && r->status == 64 && strstr(r->err, "not a parlab --trace") != NULL);
    unlink(tmp);
    free(r);
}

/* tests/verdict_labs.py: judge_within, judge_bool, combine, grade_prediction, the trust
 * line, lab.py's intervals through scaling and Karp-Flatt, and the worker sweep's counts
 * and busy bars, on hand-made figures. */
static void test_labs_verdict_units(void)
{
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL(run_argv(r, python(), "tests/verdict_labs.py", NULL, NULL, NULL), 0);
    int ok = r->exited && r->status == 0 && strstr(r->err, "\nOK") != NULL;
    if (!ok)
        fprintf(stderr, "\n  tests/verdict_labs.py: status %d: %s%s", r->status, r->out, r->err);
    CU_ASSERT(ok);
    free(r);
}

/* A copy of the key at path with the first `from` replaced by `to`, written to a new
 * temporary file named in tmp (a mkstemp template); 0, or -1 when `from` is not there. */
static int planted_key(const char *path, const char *from, const char *to, const char *add,
                       char *tmp)
{
    char *key = slurp(path, NULL);
    char *at = key ? strstr(key, from) : NULL;
    int fd = at ? mkstemp(tmp) : -1;
    if (fd < 0) {
        free(key);
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    fprintf(f, "%.*s%s%s%s", (int)(at - key), key, to, at + strlen(from), add);
    free(key);
    return fclose(f) == 0 ? 0 : -1;
}

/* scripts/labkeys.py: every number in every key holds against its lab's committed
 * reference run; a planted wrong figure (a measured one, a closed form), an untagged one
 * and a tag that names no value each fail, naming the line; bad input is exit 64. */
static void test_labs_keys(void)
{
    static const struct { const char *key, *lab, *from, *to, *add, *want; } plants[] = {
        /* a measured figure: lab 1's fork speedup in its reference run is 1.876 */
        { "labs/01-cpu/KEY.md", "1", "1.88×<!--= speedup_fork-->", "1.68×<!--= speedup_fork-->",
          "", ": 1.68×: speedup_fork is 1.876" },
        /* a closed form: Amdahl with e = 0.08 on 64 cores is 10.6, not 10.4 */
        { "labs/06-scaling/KEY.md", "6", "10.6<!--= amdahl(0.08, 64)-->",
          "10.4<!--= amdahl(0.08, 64)-->", "", ": 10.4: amdahl(0.08, 64) is 10.6" },
        /* a figure nobody tagged */
        { "labs/04-sharing/KEY.md", "4", "## Reference figures", "## Reference figures",
          "\nThe lock took 17.5 ns here.\n", "17.5: a figure without a tag" },
        /* a tag whose value the run does not have */
        { "labs/03-scheduling/KEY.md", "3", "<!--= t_static-->", "<!--= t_statik-->", "",
          "cannot compute t_statik" },
    };
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL(run_argv(r, python(), "scripts/labkeys.py", NULL, NULL, NULL), 0);
    int holds = 0;
    for (const char *p = strstr(r->out, ": all hold\n"); p; p = strstr(p + 1, ": all hold\n"))
        holds++;
    int ok = r->exited && r->status == 0 && holds >= 8;
    if (!ok)
        fprintf(stderr, "\n  scripts/labkeys.py: status %d: %s%s", r->status, r->out, r->err);
    CU_ASSERT(ok);
    for (size_t i = 0; i < sizeof plants / sizeof plants[0]; i++) {
        char tmp[] = "/tmp/parlab-key-XXXXXX";
        if (planted_key(plants[i].key, plants[i].from, plants[i].to, plants[i].add, tmp)) {
            fprintf(stderr, "\n  %s no longer holds '%s': update this test", plants[i].key,
                    plants[i].from);
            CU_FAIL("a planted key");
            continue;
        }
        CU_ASSERT_EQUAL(run_argv(r, python(), "scripts/labkeys.py", "--key", tmp,
                                 plants[i].lab), 0);
        ok = r->exited && r->status == 1 && strstr(r->out, plants[i].want) &&
             strstr(r->out, tmp) && strstr(r->out, "1 wrong or untagged");
        if (!ok)
            fprintf(stderr, "\n  labkeys.py on %s planted with '%s': status %d, want '%s': %s%s",
                    plants[i].key, plants[i].to, r->status, plants[i].want, r->out, r->err);
        CU_ASSERT(ok);
        unlink(tmp);
    }
    /* --update rewrites a single figure that moved, to the digits printed, and then the
     * key holds; a range it leaves to its author */
    char tmp[] = "/tmp/parlab-key-XXXXXX", *text = NULL;
    if (planted_key("labs/06-scaling/KEY.md", "3.2×<!--= amdahl(0.08, 4)-->",
                    "2.7×<!--= amdahl(0.08, 4)-->", "", tmp) == 0) {
        char *argv[] = { (char *)python(), "scripts/labkeys.py", "--update", "--key", tmp, "6",
                         NULL };
        CU_ASSERT_EQUAL(run_cmd(argv, 30, r), 0);
        ok = r->exited && r->status == 0 && strstr(r->out, "2.7 -> 3.2") &&
             strstr(r->out, "1 figures rewritten");
        if (!ok)
            fprintf(stderr, "\n  labkeys.py --update: status %d: %s%s", r->status, r->out, r->err);
        CU_ASSERT(ok);
        size_t len = 0;
        FILE *f = fopen(tmp, "r");
        CU_ASSERT(f != NULL && getdelim(&text, &len, '\0', f) > 0);
        CU_ASSERT(text && strstr(text, "3.2×<!--= amdahl(0.08, 4)-->") &&
                  !strstr(text, "2.7×"));
        if (f)
            fclose(f);
        free(text);
        CU_ASSERT_EQUAL(run_argv(r, python(), "scripts/labkeys.py", "--key", tmp, "6"), 0);
        CU_ASSERT(r->exited && r->status == 0);
        unlink(tmp);
    } else {
        CU_FAIL("labs/06-scaling/KEY.md no longer holds 3.2×<!--= amdahl(0.08, 4)-->");
    }
    CU_ASSERT_EQUAL(run_argv(r, python(), "scripts/labkeys.py", "--update", NULL, NULL), 0);
    CU_ASSERT(r->exited && r->status == 64);
    CU_ASSERT_EQUAL(run_argv(r, python(), "scripts/labkeys.py", "99", NULL, NULL), 0);
    CU_ASSERT(r->exited && r->status == 64 && strstr(r->err, "no such lab") != NULL);
    CU_ASSERT_EQUAL(run_argv(r, python(), "scripts/labkeys.py", "--key", "/nonexistent", "1"),
                    0);
    CU_ASSERT(r->exited && r->status == 64 && strstr(r->err, "/nonexistent") != NULL);
    free(r);
}

/* The labs whose students write code: lab.json's "student" (its file under the lab's
 * folder). Fills dirs[i] (NN-name) and files[i] (the file's name), returns the count. */
static int student_labs(char dirs[][64], char files[][64], int max)
{
    char names[16][64], path[1200];
    int n = lab_names(names, 16), k = 0;
    for (int i = 0; i < n && k < max; i++) {
        snprintf(path, sizeof path, "labs/%.64s/lab.json", names[i]);
        json_t *spec = json_load_file(path, 0, NULL);
        const char *file = json_string_value(json_object_get(spec, "student"));
        if (file) {
            char copy[1200];
            snprintf(copy, sizeof copy, "%s", file);
            snprintf(dirs[k], 64, "%.63s", names[i]);
            snprintf(files[k++], 64, "%.63s", basename(copy));
        }
        json_decref(spec);
    }
    return k;
}

/* A tiny run of lab DIR with STUDENT=file and its check, into r (the check's output).
 * Returns the run's exit status (the check's is r->status), or -1. */
static int student_run(const char *dir, const char *file, struct cmd_result *r)
{
    char tmp[] = "/tmp/parlab-student-XXXXXX", num[8], cmd[300];
    if (!mkdtemp(tmp))
        return -1;
    snprintf(num, sizeof num, "%.2s", dir);
    setenv("LAB_RESULTS", tmp, 1);
    setenv("LAB_TINY", "1", 1);
    setenv("STUDENT", file, 1);
    int rc = lab(r, 120, "run", num, NULL) == 0 && r->exited ? r->status : -1;
    if (rc != 0)
        fprintf(stderr, "\n  STUDENT=%s make lab-%s (tiny): status %d: %s%s", file, num,
                r->status, r->out, r->err);
    else if (lab(r, 60, "check", num, NULL) != 0 || !r->exited)
        rc = -1;
    unsetenv("STUDENT");
    unsetenv("LAB_TINY");
    unsetenv("LAB_RESULTS");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        rc = -1;
    return rc;
}

/* The check lines about the student's code ("your ..."): how many, and how many FAIL and
 * ok; the reason line under the first that fails, in why. */
static int student_checks(const char *out, int *fails, int *oks, char *why, size_t n)
{
    int count = 0;
    *fails = *oks = 0;
    why[0] = '\0';
    for (const char *p = out; (p = strstr(p, "\n  ")); p++) {
        const char *end = strchr(p + 1, '\n');
        if (!end || !memmem(p, (size_t)(end - p), " your ", 6) ||
            (strncmp(p + 1, "  ok   step", 11) && strncmp(p + 1, "  FAIL step", 11) &&
             strncmp(p + 1, "  ??   step", 11)))
            continue;
        count++;
        *oks += !strncmp(p + 1, "  ok ", 5);
        if (!strncmp(p + 1, "  FAIL", 6) && !(*fails)++)
            snprintf(why, n, "%.*s", (int)strcspn(end + 1, "\n"), end + 1);
    }
    return count;
}

/* Each lab's model answer (labs/NN-name/key/FILE) builds, verifies, and its grade is not
 * a fail (at tiny sizes, one run a side, it is inconclusive); each planted bug
 * (tests/corpus/labs/NN-name/student-bug.c) fails its verification with a line that
 * names the file; lab 4's folded count fails the one-at-a-time check. */
static void test_labs_student_code(void)
{
    char dirs[8][64], files[8][64], path[1200], why[600];
    int n = student_labs(dirs, files, 8), fails, oks;
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT(n >= 3);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "labs/%s/key/%s", dirs[i], files[i]);
        CU_ASSERT_EQUAL(student_run(dirs[i], path, r), 0);
        int ok = (r->status == 0 || r->status == 1 || r->status == 2) &&
                 student_checks(r->out, &fails, &oks, why, sizeof why) >= 2 && fails == 0 &&
                 oks >= 1;
        if (!ok)
            fprintf(stderr, "\n  lab %s with its key %s: %s", dirs[i], path, r->out);
        CU_ASSERT(ok);

        /* A planted bug that hands one task to two workers races by design: under
         * ThreadSanitizer its report (rightly) ends the run and replaces the check's line. */
        const char *san = getenv("PARLAB_SAN");
        if (san && strstr(san, "thread"))
            continue;
        snprintf(path, sizeof path, "tests/corpus/labs/%s/student-bug.c", dirs[i]);
        CU_ASSERT_EQUAL(student_run(dirs[i], path, r), 0);
        ok = r->status == 1 && student_checks(r->out, &fails, &oks, why, sizeof why) >= 2 &&
             fails >= 1 && strstr(why, path);
        if (!ok)
            fprintf(stderr, "\n  lab %s with the bug %s: status %d, why '%s': %s", dirs[i],
                    path, r->status, why, r->out);
        CU_ASSERT(ok);
    }
    /* lab 4: an exact count whose loop the compiler folds into one add times nothing. It
     * fails by name; where other processes slowed its threads (a busy machine) the check
     * may only be inconclusive, and says why: never passed. */
    static const char folded[] = "tests/corpus/labs/04-sharing/student-folded.c";
    CU_ASSERT_EQUAL(student_run("04-sharing", folded, r), 0);
    int nchecks = student_checks(r->out, &fails, &oks, why, sizeof why);
    int ok = nchecks >= 2 &&
             ((r->status == 1 && fails == 1 && strstr(why, "folded") && strstr(why, "STUDENT_KEEP")) ||
              (r->status == 2 && fails == 0 && strstr(r->out, "slows a folded loop") &&
               !strstr(r->out, "ok   step 7   your count makes its increments one at a time")));
    if (!ok)
        fprintf(stderr, "\n  lab 4 with %s: status %d, why '%s': %s", folded, r->status, why,
                r->out);
    CU_ASSERT(ok);
    free(r);
}

/* A student's file that does not compile: one line, the compiler's first error naming the
 * file, exit 64, no run left behind; parlab's own refusals of the student options. */
static void test_labs_student_refused(void)
{
    static const char bad[] = "tests/corpus/labs/03-scheduling/student-syntax.c";
    char tmp[] = "/tmp/parlab-student-XXXXXX", dir[200], cmd[300];
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL && mkdtemp(tmp) != NULL);
    setenv("LAB_RESULTS", tmp, 1);
    setenv("STUDENT", bad, 1);
    CU_ASSERT_EQUAL(lab(r, 60, "run", "3", NULL), 0);
    snprintf(dir, sizeof dir, "%s/03-scheduling", tmp);
    int ok = r->exited && r->status == 64 && strstr(r->err, bad) && strstr(r->err, "error") &&
             strchr(r->err, '\n') == r->err + strlen(r->err) - 1 && hidden_entries(dir) <= 0 &&
             !strstr(r->err, "Traceback");
    if (!ok)
        fprintf(stderr, "\n  STUDENT=%s: status %d: %s", bad, r->status, r->err);
    CU_ASSERT(ok);
    setenv("STUDENT", "tests/corpus/labs/03-scheduling/no-such.c", 1);
    CU_ASSERT_EQUAL(lab(r, 60, "run", "3", NULL), 0);
    CU_ASSERT(r->exited && r->status == 64 && strstr(r->err, "no-such.c: no such file"));
    unsetenv("STUDENT");
    unsetenv("LAB_RESULTS");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CU_ASSERT_EQUAL(system(cmd), 0);

    static const char *const refused[][12] = {
        { "run", "-w", "primes", "-r", "thread", "-n", "1000", "-s", "student", NULL },
        { "run", "-w", "primes", "-r", "fork", "-n", "1000", "-s", "student", "--student",
          "x.so", NULL },
        { "run", "-w", "primes", "-r", "thread", "-n", "1000", "-s", "student", "--student",
          "/nonexistent/x.so", NULL },
        { "share", "--method", "student", "--ops", "10", NULL },
        { "share", "--method", "atomic", "--student", "x.so", NULL },
    };
    static const char *const says[] = { "--student FILE.so", "cannot honour", "/nonexistent/x.so",
                                         "--student FILE.so", "--method student" };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char *argv[16] = { (char *)parlab_bin() };
        for (int k = 0; refused[i][k]; k++)
            argv[k + 1] = (char *)refused[i][k];
        CU_ASSERT_EQUAL(run_cmd(argv, 30, r), 0);
        ok = r->exited && r->status == 64 && strstr(r->err, says[i]) &&
             strchr(r->err, '\n') == r->err + strlen(r->err) - 1;
        if (!ok)
            fprintf(stderr, "\n  refused %zu: status %d: %s", i, r->status, r->err);
        CU_ASSERT(ok);
    }
    free(r);
}

CU_TestInfo tests_labs[] = {
    { "every lab runs end to end at tiny sizes", test_labs_tiny },
    { "no run yet, a bad lab number: exit 64 naming the fix", test_labs_no_run },
    { "each check passes its known-good run and fails its known-bad run", test_labs_known_runs },
    { "three-valued checks and graded predictions on a made-up run", test_labs_three_valued },
    { "REPEAT or WAIT_QUIET not a positive number: exit 64", test_labs_bad_env },
    { "verdict.py's lab helpers on hand-made figures", test_labs_verdict_units },
    { "a malformed predict.txt line is named; the rest are checked", test_labs_malformed_predict },
    { "an interrupted lab leaves no run behind", test_labs_interrupted },
    { "workspan.py: work, span and the bounds of a known trace", test_workspan_known },
    { "every number in every key holds against its reference run", test_labs_keys },
    { "student code: each key verifies and is not failed, each planted bug fails naming "
      "its file", test_labs_student_code },
    { "student code that does not compile: one line, exit 64; parlab refuses misuse",
      test_labs_student_refused },
    CU_TEST_INFO_NULL,
};
