/* test_bench.c: the bench scripts end to end at tiny sizes (CSVs, plots, report, the
 * published results/latest, a failing point, a 1-CPU machine) and the Karp-Flatt awk.
 * PARLAB_KEEP_BENCH=1 keeps the temporary results folder for a look afterwards. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "util.h"
#include "../runners/runner.h"
#include "../workloads/workload.h"


/* The CPU workloads of the registry: the ones the tiny bench sweeps, a new one included. */
static const char *cpu_workloads[64];
static size_t cpu_workload_count(void)
{
    static size_t n;
    if (!n)
        for (const struct workload *const *w = wl_registry; *w && n < 64; w++)
            if ((*w)->kind == WL_CPU)
                cpu_workloads[n++] = (*w)->name;
    return n;
}
#define NWL cpu_workload_count()

/* ---- small helpers ---------------------------------------------------------------------- */

/* The tiny sweep's time limit: a guard against a hang, not a benchmark. It is ten times
 * the old 60 s limit, which the sweep outran beside two busy loops on 2 cores (about two
 * minutes there; 10 s idle), and more in sanitizer builds, where every point runs an
 * instrumented binary several times: a slow machine must not fail a test of what the
 * sweep writes. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define TINY_BENCH_LIMIT_S 3000
#else
#define TINY_BENCH_LIMIT_S 600
#endif
/* The guard that kills a sweep: past the limit the test asserts, never before it. */
#define BENCH_TIMEOUT_S (TINY_BENCH_LIMIT_S + 30)

static int write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    if (fd < 0)
        return -1;
    size_t n = strlen(text);
    int ok = write(fd, text, n) == (ssize_t)n;
    return close(fd) == 0 && ok ? 0 : -1;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static unsigned cpus(void)
{
    cpu_set_t set;
    return sched_getaffinity(0, sizeof set, &set) ? 1u : (unsigned)CPU_COUNT(&set);
}

static int on_path(const char *tool)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", tool);
    return system(cmd) == 0;
}

/* ---- running the script ----------------------------------------------------------------- */

struct bench_run {
    int exited, status;   /* as in struct cmd_result */
    double secs;
    char log[PATH_MAX];   /* stdout and stderr together */
};

/*
 * Run argv (a bench: `bash scripts/bench.sh`, or make bench) with env (NULL-terminated
 * "K=V" strings) added and make's own variables taken out, in its own process group,
 * output to log. A run that outlives the timeout is killed with its whole group (hyperfine
 * and parlab included) and reported as signal 9. Only one CPU is allowed when one_cpu is
 * set. Returns 0, or -1 if it could not start.
 */
static int run_bench_argv(char *const argv[], const char *const *env, int one_cpu, const char *log,
                          struct bench_run *r)
{
    struct timespec t0, t1;
    memset(r, 0, sizeof *r);
    snprintf(r->log, sizeof r->log, "%s", log);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        /* a make that runs the suite passes its jobserver and flags: not to this one */
        unsetenv("MAKEFLAGS");
        unsetenv("MFLAGS");
        unsetenv("MAKELEVEL");
        for (int i = 0; env[i]; i++)
            putenv((char *)env[i]);
        if (one_cpu) {
            cpu_set_t set, one;
            CPU_ZERO(&one);
            if (sched_getaffinity(0, sizeof set, &set) == 0)
                for (int c = 0; c < CPU_SETSIZE; c++)
                    if (CPU_ISSET(c, &set)) {
                        CPU_SET(c, &one);
                        break;
                    }
            if (sched_setaffinity(0, sizeof one, &one))
                _exit(125);
        }
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644), nul = open("/dev/null", O_RDONLY);
        if (fd < 0 || nul < 0)
            _exit(126);
        dup2(nul, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        alarm(BENCH_TIMEOUT_S + 5);   /* a second guard, should the parent die */
        execvp(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    int st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR)
            return -1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (t1.tv_sec - t0.tv_sec > BENCH_TIMEOUT_S) {
            kill(-pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        usleep(50 * 1000);
    }
    kill(-pid, SIGKILL);   /* anything the script left behind */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    r->exited = WIFEXITED(st);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st);
    return 0;
}

static int run_bench(const char *const *env, int one_cpu, const char *log, struct bench_run *r)
{
    char *const argv[] = { "bash", "scripts/bench.sh", NULL };
    return run_bench_argv(argv, env, one_cpu, log, r);
}

static void show_log(const char *log)
{
    char *t = slurp(log, NULL);
    if (t) {
        size_t n = strlen(t);
        fprintf(stderr, "\n--- %s (last part) ---\n%s\n---\n", log, n > 3000 ? t + n - 3000 : t);
        free(t);
    }
}

/* The tiny sweep, run once for all the tests that read its output. */
static char tmpdir[256];            /* results of every run here */
static char latest[PATH_MAX];       /* tmpdir/latest, resolved */
static int bench_state;             /* 0 not run, 1 ran and passed, -1 failed, 2 skipped */

static void cleanup(void)
{
    if (!tmpdir[0])
        return;
    if (getenv("PARLAB_KEEP_BENCH")) {
        fprintf(stderr, "test_bench: results kept in %s\n", tmpdir);
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        execlp("rm", "rm", "-rf", tmpdir, (char *)NULL);
        _exit(127);
    }
    if (pid > 0)
        waitpid(pid, NULL, 0);
}

static int tools_present(void)
{
    if (on_path("hyperfine") && on_path("gnuplot"))
        return 1;
    fprintf(stderr, "\ntest_bench: SKIPPED the end-to-end bench tests: hyperfine or gnuplot is not "
                    "installed (scripts/deps.sh bench)\n");
    return 0;
}

/* Run the tiny sweep once; 1 if its output is there to check. */
static int bench_ready(void)
{
    if (bench_state)
        return bench_state == 1;
    if (!tools_present()) {
        bench_state = 2;
        return 0;
    }
    snprintf(tmpdir, sizeof tmpdir, "/tmp/parlab-bench-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        tmpdir[0] = '\0';
        bench_state = -1;
        CU_FAIL("mkdtemp");
        return 0;
    }
    atexit(cleanup);
    static char e_res[PATH_MAX + 20], e_bin[PATH_MAX + 10];
    snprintf(e_res, sizeof e_res, "PARLAB_RESULTS=%s", tmpdir);
    snprintf(e_bin, sizeof e_bin, "PARLAB=%s", parlab_bin());
    const char *env[] = { e_res, e_bin, "PARLAB_BENCH_TINY=1", NULL };
    char log[PATH_MAX];
    snprintf(log, sizeof log, "%s/bench.log", tmpdir);
    struct bench_run r;
    CU_ASSERT_EQUAL_FATAL(run_bench(env, 0, log, &r), 0);
    char link[PATH_MAX + 10];
    snprintf(link, sizeof link, "%s/latest", tmpdir);
    int ok = r.exited && r.status == 0 && realpath(link, latest);
    if (!ok || r.secs > TINY_BENCH_LIMIT_S)
        fprintf(stderr, "\ntest_bench: tiny bench: %s %d after %.1f s\n",
                r.exited ? "exit" : "signal", r.status, r.secs);
    if (!ok)
        show_log(log);
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_TRUE(r.secs <= TINY_BENCH_LIMIT_S);
    bench_state = ok ? 1 : -1;
    return ok;
}

/* ---- Karp-Flatt ------------------------------------------------------------------------- */

/* Run scripts/analyse.py karpflatt (verdict.py's formulas) over csv; its stdout into out. */
static int karpflatt(const char *csv, struct cmd_result *out)
{
    char path[] = "/tmp/parlab-kf-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    if (write_file(path, csv, 0644))
        return -1;
    char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    char *argv[] = { py, "scripts/analyse.py", "karpflatt", path, NULL };
    int rc = run_cmd(argv, 20, out);
    unlink(path);
    return rc;
}

static void test_karpflatt_known(void)
{
    struct cmd_result r;
    char f[64];
    /* S = 1.6 on p = 2: e = (1/1.6 - 1/2) / (1 - 1/2) = 0.25; de = 0.08 / (1.6^2 * 0.5) = 0.0625.
     * S = 2.5 on p = 4: e = (0.4 - 0.25) / 0.75 = 0.2. p = 1 gives no e. */
    const char *csv = "workload,runner,param,value,speedup,speedup_err\n"
                      "primes,thread,cores,1,0.98,0.01\n"
                      "primes,thread,cores,2,1.6,0.08\n"
                      "primes,thread,cores,4,2.5,0\n"
                      "primes,fork,cores,1,0.9,0.01\n"
                      "primes,fork,cores,2,2,0\n"
                      "primes,seq,cores,1,1,0\n"
                      "primes,omp,workers,2,1.5,0\n";
    CU_ASSERT_EQUAL_FATAL(karpflatt(csv, &r), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_EQUAL(count_lines(r.out), 4);   /* header and the three points with p > 1 */
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 1, f, sizeof f), "primes");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 2, f, sizeof f), "thread");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 3, f, sizeof f), "2");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 5, f, sizeof f), "0.2500");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 6, f, sizeof f), "0.0625");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 2, 5, f, sizeof f), "0.2000");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 3, 5, f, sizeof f), "0.0000");   /* ideal: no serial part */
    CU_ASSERT_PTR_NULL(strstr(r.out, "omp"));   /* a worker sweep row is not a core count */

    CU_ASSERT_EQUAL_FATAL(karpflatt("runner,p,S\nthread,2,1.6\n", &r), 0);
    CU_ASSERT_NOT_EQUAL(r.status, 0);           /* wrong header: says so and fails */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "header"));
}

/* ---- the scripts read a CSV by its header and JSON with jq -------------------------------- */

/* scripts/lint-scripts.py passes scripts/, and fails on each violation planted in a copy. */
static void test_scripts_read_by_name(void)
{
    char *py = getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    struct cmd_result r;
    char *clean[] = { py, "scripts/lint-scripts.py", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(clean, 60, &r), 0);
    if (r.status != 0)
        fprintf(stderr, "\ntest_bench: lint-scripts: %s%s\n", r.out, r.err);
    CU_ASSERT_EQUAL(r.status, 0);

    static const char *planted[][2] = {
        { "a.sh", "x=$(printf '%s' \"$row\" | cut -d, -f17)\n" },
        { "b.sh", "awk -F, 'NR > 1 { print $18 }' \"$run/cores.csv\"\n" },
        { "c.sh", ". csv.sh\ncsv_awk -v k=1 '{ print $3 }' t.csv\n" },
        { "d.sh", "h=$(awk -F'\"' '/\"host\"/ { print $4 }' \"$run/machine.json\")\n" },
        { "e.sh", "grep -o '\"nproc\": [0-9]*' machine.json\n" },
        { "f.sh", "while IFS=, read -r a b c; do echo \"$b\"; done < \"$run/cores.csv\"\n" },
        { "g.py", "import csv\nfor row in csv.reader(open('t.csv')):\n    print(row[3])\n" },
        { "h.awk", "BEGIN { FS = \",\" }\n{ print $2 }\n" },
        { "i.sh", "gnuplot -e \"plot 'x.csv' using (strcol(1) eq 'a' ? 1 : NaN):2\"\n" },
        /* the text convention: ±, min … max, [lo, hi], 1.93× */
        { "j.c", "printf(\"%.2f +- %.2f\\n\", m, s);\n" },
        { "k.c", "snprintf(buf, n, \"%.2fx\", r);\n" },
        { "l.c", "fprintf(f, \"took %.3g x the mean\", r);\n" },
        { "m.py", "print(\"[%s .. %s]\" % (lo, hi))\n" },
        { "n.py", "print(\"time \u00d7%s\" % fmt(r))\n" },
        { "o.sh", "echo \"32x the CPUs\"\n" },
        { "p.py", "print('{:.2f}x'.format(r))\n" },
        { "q.h", "#define RANGE \"%d..%d\"\n" },
    };
    for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) {
        char dir[] = "/tmp/parlab-lint-XXXXXX", path[96], want[128];
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
        snprintf(path, sizeof path, "%s/%s", dir, planted[i][0]);
        CU_ASSERT_EQUAL_FATAL(write_file(path, planted[i][1], 0644), 0);
        char *argv[] = { py, "scripts/lint-scripts.py", dir, NULL };
        CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 60, &r), 0);
        snprintf(want, sizeof want, "%s:", path);
        if (r.status != 1 || !strstr(r.out, want))
            fprintf(stderr, "\ntest_bench: planted %s not caught (exit %d): %s\n", planted[i][0], r.status, r.out);
        CU_ASSERT_EQUAL(r.status, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
        unlink(path);
        rmdir(dir);
    }
    /* the same reads by name pass, and text that only looks like the planted one: hex,
     * dimensions, an ellipsis, a relative path, a printf flag, shell's brace range, a
     * gnuplot range, the convention itself */
    static const char *const good[][2] = {
        { "ok.sh", ". csv.sh\nx=$(csv_get verified <<< \"$row\")\n"
                   "csv_awk '{ print get(\"median\") }' t.csv\n"
                   "h=$(jq -r .host \"$run/machine.json\")\n"
                   "awk '{ print $1 }' /proc/loadavg\n"
                   "for i in {1..9}; do cd ..; done\necho \"${w}x${h} px\"\n" },
        { "ok.c", "printf(\"0x%02x %016llx %zux%zu\\n\", a, b, w, h);\n"
                  "printf(\"%+-5d %s ...\\n\", d, \"../lib\");\n"
                  "strchr(\".eE+-\", c); /* 1.5x in a comment, 1 .. 9 */\n"
                  "printf(\"%.2f ± %.2f, %.2f … %.2f, [%.2f, %.2f], %.2f×\\n\", a, b, c, d, e, f, g);\n" },
        { "ok.py", "import re\nNUM = re.compile(r\"[+-]?\\d+\")\nos.path.join(here, \"..\")\n"
                   "print(\"%.3g× [%.3g, %.3g]\" % (r, lo, hi))  # 2x in a comment\n" },
        { "ok.gp", "set xrange [0:*]\nset yrange [0.5:]\n" },
    };
    char dir[] = "/tmp/parlab-lint-XXXXXX", path[96];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, good[i][0]);
        CU_ASSERT_EQUAL_FATAL(write_file(path, good[i][1], 0644), 0);
    }
    char *argv[] = { py, "scripts/lint-scripts.py", dir, NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 60, &r), 0);
    if (r.status != 0)
        fprintf(stderr, "\ntest_bench: lint-scripts on clean files: %s%s\n", r.out, r.err);
    CU_ASSERT_EQUAL(r.status, 0);
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, good[i][0]);
        unlink(path);
    }
    rmdir(dir);
}

/* ---- the tiny sweep ---------------------------------------------------------------------- */

/* The runners a tiny bench sweeps, from the registry: those usable here but the external
 * ones (mpi), which tiny runs leave out unless named. At most MAX_RUNNERS; returns how many. */
#define MAX_RUNNERS 16
static int listed_runners(const char **out)
{
    int n = 0;
    char why[300];
    for (const struct runner *const *r = runner_registry; *r && n < MAX_RUNNERS; r++)
        if (runner_usable(*r, why, sizeof why) && !((*r)->flags & RUNNER_EXTERNAL))
            out[n++] = (*r)->name;
    return n;
}

static int count_workers(unsigned n)
{
    int k = 0;
    unsigned w;
    for (w = 1; w <= 2 * n; w *= 2)
        k++;
    if (n & (n - 1))
        k++;   /* nproc itself when it is not a power of two */
    if ((2 * n) & (2 * n - 1))
        k++;   /* and 2 x nproc */
    return k;
}

/* How many core counts scripts/bench.sh sweeps on n CPUs: all of 1..n up to 16, else the
 * powers of two below n and the eighths of n. */
static int count_cores(unsigned n)
{
    if (n <= 16)
        return (int)n;
    char seen[4097] = { 0 };
    int k = 0;
    for (unsigned c = 1; c < n; c *= 2)
        k += !seen[c]++;
    for (unsigned e = 1; e <= 8; e++)
        if (n * e / 8 >= 1 && n * e / 8 <= 4096)
            k += !seen[n * e / 8]++;
    return k;
}

static void check_tidy(const char *name, const char *param, int want_rows)
{
    char path[PATH_MAX + 64], buf[64];
    snprintf(path, sizeof path, "%s/%s.csv", latest, name);
    char *csv = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    static const char *const cols[] = { "workload", "runner", "param", "value", "mean_s",
                                        "stddev_s", "min_s", "max_s", "n", "speedup",
                                        "speedup_err", "other_cpu", "median_s", "user_s",
                                        "sys_s" };
    int c[sizeof cols / sizeof cols[0]];
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        c[i] = col_of(csv, cols[i]);
        if (c[i] < 0)
            fprintf(stderr, "\n%s: no column %s\n", path, cols[i]);
        CU_ASSERT_FATAL(c[i] >= 0);
    }
    CU_ASSERT(col_of(csv, "mean") < 0 && col_of(csv, "sd") < 0);   /* seconds end in _s */
    int rows = count_lines(csv) - 1;
    if (rows != want_rows)
        fprintf(stderr, "\n%s: %d rows, expected %d\n", path, rows, want_rows);
    CU_ASSERT_EQUAL(rows, want_rows);
    for (int i = 0; i < rows; i++) {
        const char *l = data_line(csv, i);
        CU_ASSERT_PTR_NOT_NULL_FATAL(l);
        CU_ASSERT_STRING_EQUAL(field(l, c[2], buf, sizeof buf), param);
        double mean = atof(field(l, c[4], buf, sizeof buf));
        double lo = atof(field(l, c[6], buf, sizeof buf)), hi = atof(field(l, c[7], buf, sizeof buf));
        CU_ASSERT(mean > 0 && lo <= mean + 1e-6 && mean <= hi + 1e-6);
        CU_ASSERT_STRING_EQUAL(field(l, c[8], buf, sizeof buf), "2");   /* tiny: 2 runs */
        CU_ASSERT(atof(field(l, c[9], buf, sizeof buf)) > 0);
        /* no point twice */
        char key[256], other[256], a[64], b[64];
        snprintf(key, sizeof key, "%s,%s,%s", field(l, c[0], a, sizeof a),
                 field(l, c[1], b, sizeof b), field(l, c[3], buf, sizeof buf));
        for (int j = 0; j < i; j++) {
            const char *m = data_line(csv, j);
            snprintf(other, sizeof other, "%s,%s,%s", field(m, c[0], a, sizeof a),
                     field(m, c[1], b, sizeof b), field(m, c[3], buf, sizeof buf));
            CU_ASSERT_STRING_NOT_EQUAL(key, other);
        }
    }
    free(csv);

    /* parlab's own rows: one per point, every one verified */
    snprintf(path, sizeof path, "%s/%s-rows.csv", latest, name);
    csv = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_EQUAL(count_lines(csv) - 1, want_rows);
    int v = col_of(csv, "verified"), u = col_of(csv, "user_s"), rss = col_of(csv, "max_rss_kb");
    int ck = col_of(csv, "check"), wk = col_of(csv, "workload");
    CU_ASSERT_FATAL(v >= 0 && u >= 0 && rss >= 0 && ck >= 0 && wk >= 0 && col_of(csv, "param") == 0);
    for (int i = 0; i < count_lines(csv) - 1; i++) {
        const char *l = data_line(csv, i);
        CU_ASSERT_STRING_EQUAL(field(l, v, buf, sizeof buf), "yes");
        /* a timed process never runs seq to check itself; and at the bench sizes every
         * workload has an independent answer, so none needs seq's through --expect */
        field(l, ck, buf, sizeof buf);
        CU_ASSERT(strcmp(buf, "seq") && strcmp(buf, "expect") && strcmp(buf, "reference"));
    }
    free(csv);
}

static void test_tiny_sweep_csvs(void)
{
    if (!bench_ready())
        return;
    const char *runners[MAX_RUNNERS];
    int nr = listed_runners(runners);
    unsigned n = cpus();
    CU_ASSERT_FATAL(nr >= 2);
    int ncores = n <= 16 ? (int)n : 0;   /* below, the exact values 1..n are checked too */
    check_tidy("cores", "cores", (int)NWL * nr * count_cores(n));
    check_tidy("workers", "workers", (int)NWL * (1 + (nr - 1) * count_workers(n)));
    int conc = 0;
    for (int i = 0; i < nr; i++)   /* tiny: 8 tasks; pools at W = 1, 2, 4, 8 */
        conc += !strcmp(runners[i], "seq") || !strcmp(runners[i], "epoll") ? 1 : 4;
    check_tidy("concurrency", "concurrency", conc);

    /* the core sweep of each runner is K = 1..nproc, and seq on 1 core has speedup 1 */
    char path[PATH_MAX + 64], buf[64];
    snprintf(path, sizeof path, "%s/cores.csv", latest);
    char *csv = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    int cv = col_of(csv, "value"), cr = col_of(csv, "runner"), cs = col_of(csv, "speedup");
    /* the analysis adds each speedup's interval (empty here: 2 runs a point are too few) */
    CU_ASSERT(col_of(csv, "speedup_ci_low") >= 0 && col_of(csv, "speedup_ci_high") >= 0);
    for (int i = 0; ncores && i < count_lines(csv) - 1; i++) {
        const char *l = data_line(csv, i);
        CU_ASSERT_EQUAL(atoi(field(l, cv, buf, sizeof buf)), i % ncores + 1);
        if (i % ncores == 0 && !strcmp(field(l, cr, buf, sizeof buf), "seq"))
            CU_ASSERT_STRING_EQUAL(field(l, cs, buf, sizeof buf), "1.0000");
    }
    free(csv);

    /* every point's raw hyperfine export */
    snprintf(path, sizeof path, "%s/raw/cores/cores-primes-seq-1.json", latest);
    char *json = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"times\""));
    free(json);

    /* every run's time kept; at the core sweep the seq control ran interleaved with the
     * runner: as many control runs as the point's own, and the export says so */
    snprintf(path, sizeof path, "%s/samples.csv", latest);
    char *samples = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(samples);
    CU_ASSERT(strncmp(samples, "sweep,workload,runner,value,role,run,time_s,other_cpu\n", 54) == 0);
    int own = 0, ctl = 0;
    for (const char *l = samples; (l = strstr(l, "\ncores,primes,thread,1,")); l++)
        own += !strncmp(l + strlen("\ncores,primes,thread,1,"), "point,", 6),
        ctl += !strncmp(l + strlen("\ncores,primes,thread,1,"), "control,", 8);
    CU_ASSERT_EQUAL(own, 2);   /* tiny runs: 2 a point */
    CU_ASSERT_EQUAL(ctl, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(samples, "\nworkers,primes,thread,1,point,2,"));
    CU_ASSERT_PTR_NULL(strstr(samples, "\nworkers,primes,thread,1,control,"));
    /* the worker sweep's point at W = nproc is the core sweep's at K = nproc, measured
     * once: the same run times, without the control */
    for (int run = 1; run <= 2; run++) {
        char key[96], twin[96];
        snprintf(key, sizeof key, "\ncores,primes,thread,%u,point,%d,", n, run);
        snprintf(twin, sizeof twin, "\nworkers,primes,thread,%u,point,%d,", n, run);
        const char *a = strstr(samples, key), *b = strstr(samples, twin);
        CU_ASSERT_FATAL(a && b);
        a += strlen(key);
        b += strlen(twin);
        CU_ASSERT_EQUAL(strcspn(a, ","), strcspn(b, ","));
        CU_ASSERT(strncmp(a, b, strcspn(a, ",")) == 0);
    }
    snprintf(buf, sizeof buf, "\nworkers,primes,thread,%u,control,", n);
    CU_ASSERT_PTR_NULL(strstr(samples, buf));
    free(samples);
    snprintf(path, sizeof path, "%s/raw/cores/cores-primes-thread-1.json", latest);
    json = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(json);
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"interleaved\": true"));
    CU_ASSERT_PTR_NOT_NULL(strstr(json, "-r seq"));
    free(json);

    /* the verdicts: every point's interval file, the trust line, the bench's first and last lines */
    snprintf(path, sizeof path, "%s/points.csv", latest);
    char *pts = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(pts);
    CU_ASSERT(pts && strstr(pts, "sweep,workload,runner,value,n,speedup,ci_low,ci_high"));
    free(pts);
    snprintf(path, sizeof path, "%s/trust.txt", latest);
    char *trust = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(trust);
    CU_ASSERT(!strncmp(trust, "quiet: ", 7) || !strncmp(trust, "busy: ", 6));
    CU_ASSERT_PTR_NOT_NULL(strstr(trust, " points disturbed"));
    snprintf(path, sizeof path, "%s/bench.log", tmpdir);
    char *log = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "# trust at the start: "));
    trust[strcspn(trust, "\n")] = '\0';
    char line[512];
    snprintf(line, sizeof line, "\n# trust: %s\n", trust);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, line));
    free(log);
    free(trust);
}

/* REPEAT and WAIT_QUIET that are not positive numbers: one line, exit 64, nothing run. */
static void test_bad_repeat_wait(void)
{
    static const char *const bad[] = { "REPEAT=0", "REPEAT=two", "REPEAT=-3", "WAIT_QUIET=0",
                                       "WAIT_QUIET=soon", "WAIT_QUIET=-5" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[] = { "env", (char *)bad[i], "PARLAB_RESULTS=/nonexistent/parlab-results", "bash",
                         "scripts/bench.sh", NULL };
        struct cmd_result r;
        CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 60, &r), 0);
        CU_ASSERT(r.exited && r.status == 64);
        CU_ASSERT_EQUAL(count_lines(r.err), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, bad[i]));
        if (!r.exited || r.status != 64)
            fprintf(stderr, "\n%s: status %d: %s\n", bad[i], r.status, r.err);
    }
}

static void test_tiny_sweep_machine(void)
{
    if (!bench_ready())
        return;
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/machine.json", latest);
    char *j = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(j);
    static const char *const keys[] = { "\"cpu_model\"", "\"nproc\"", "\"cpus_allowed\"", "\"smt\"",
                                        "\"governor\"", "\"kernel\"", "\"compiler\"",
                                        "\"git_commit\"", "\"date\"", "\"loadavg1\"" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        CU_ASSERT_PTR_NOT_NULL(strstr(j, keys[i]));
    free(j);
}

/* PNG: the signature, then IHDR's width and height, big-endian, at bytes 16..23. */
static void check_png(const char *path)
{
    size_t len = 0;
    unsigned char *p = (unsigned char *)slurp(path, &len);
    if (!p)
        fprintf(stderr, "\nmissing plot %s\n", path);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT(len > 20000);   /* axes, labels and lines: a blank 1000x620 PNG is ~5 KB */
    CU_ASSERT(len > 24 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0 && memcmp(p + 12, "IHDR", 4) == 0);
    if (len > 24) {
        unsigned w = (unsigned)p[16] << 24 | p[17] << 16 | p[18] << 8 | p[19];
        unsigned h = (unsigned)p[20] << 24 | p[21] << 16 | p[22] << 8 | p[23];
        CU_ASSERT(w >= 800 && w <= 4000 && h >= 400 && h <= 4000);
    }
    free(p);
}

static void test_tiny_sweep_plots(void)
{
    if (!bench_ready())
        return;
    char path[PATH_MAX + 128];
    static const char *const kinds[] = { "%s-speedup", "%s-efficiency", "%s-workers", "weak-%s" };
    for (size_t w = 0; w < NWL; w++)
        for (size_t k = 0; k < 4; k++) {
            char name[64];
            snprintf(name, sizeof name, kinds[k], cpu_workloads[w]);
            snprintf(path, sizeof path, "%s/plots/%s.png", latest, name);
            check_png(path);
        }
    snprintf(path, sizeof path, "%s/plots/sleep-concurrency.png", latest);
    check_png(path);
    snprintf(path, sizeof path, "%s/plots/timeline-primes.png", latest);
    check_png(path);
    snprintf(path, sizeof path, "%s/plots/tasks-per-task.png", latest);
    check_png(path);
    snprintf(path, sizeof path, "%s/plots/grain-efficiency.png", latest);
    check_png(path);
    snprintf(path, sizeof path, "%s/plots/timeline-primes.svg", latest);
    char *svg = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(svg);
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, "<svg"));
    CU_ASSERT_PTR_NOT_NULL(strstr(svg, "dynamic schedule"));
    free(svg);
}

static void test_tiny_sweep_report(void)
{
    if (!bench_ready())
        return;
    char path[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/index.html", latest);
    char *html = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    /* every plot in the folder is referenced, and drawn inline */
    snprintf(path, sizeof path, "ls %s/plots", latest);
    FILE *ls = popen(path, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ls);
    char name[256];
    int pngs = 0;
    while (fgets(name, sizeof name, ls)) {
        name[strcspn(name, "\n")] = '\0';
        char ref[300];
        snprintf(ref, sizeof ref, "plots/%s\"", name);
        if (!strstr(html, ref))
            fprintf(stderr, "\nindex.html does not reference %s\n", name);
        CU_ASSERT_PTR_NOT_NULL(strstr(html, ref));
        pngs += strstr(name, ".png") != NULL;
    }
    pclose(ls);
    /* four per workload (speedup, efficiency, workers and its weak scaling,
     * scripts/sweep-weak.sh), sleep, the timeline, the task count and the task grain */
    CU_ASSERT_EQUAL(pngs, (int)NWL * 4 + 4);
    int svgs = 0;
    for (const char *p = html; (p = strstr(p, "<svg")); p++)
        svgs++;
    CU_ASSERT_EQUAL(svgs, pngs);
    static const char *const must[] = { "<h2 id=\"findings\">", "<h2 id=\"warnings\">", "tiny sizes", "<h2 id=\"machine\">",
                                        "mean ± stddev", "Karp–Flatt", "speedup",
                                        "PARLAB_BENCH_TINY=1 scripts/bench.sh", "git checkout",
                                        "id=\"w-mandelbrot\"", "</html>" };
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
        if (!strstr(html, must[i]))
            fprintf(stderr, "\nindex.html lacks %s\n", must[i]);
        CU_ASSERT_PTR_NOT_NULL(strstr(html, must[i]));
    }
    /* the analysis files, and the end of the run: summary, flag count, where the report is */
    static const char *const files[] = { "flags.csv", "noise.csv", "summary.csv", "amdahl.csv",
                                         "karpflatt.csv", "hyperfine-warnings.csv" };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", latest, files[i]);
        CU_ASSERT_EQUAL(access(path, R_OK), 0);
    }
    snprintf(path, sizeof path, "%s/bench.log", tmpdir);
    char *log = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "# speedup at K = "));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "# flagged: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "elapsed"));
    char url[PATH_MAX + 32];
    snprintf(url, sizeof url, "file://%s/index.html", latest);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, url));
    free(log);
    /* the plots' geometry and the page hold (scripts/check-report.py; test_report.c plants
     * the defects it must find) */
    char *check[] = { "/usr/bin/python3", "scripts/check-report.py", latest, NULL };
    struct cmd_result cr;
    CU_ASSERT_EQUAL(run_cmd(check, 60, &cr), 0);
    if (!cr.exited || cr.status)
        fprintf(stderr, "\ncheck-report on the tiny sweep: %s\n", cr.err);
    CU_ASSERT(cr.exited && cr.status == 0);
    /* the first Amdahl table has a row per runner, thread among them */
    const char *fit = strstr(html, "serial fraction e (least-squares Amdahl fit)");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fit);
    const char *end = strstr(fit, "</table>"), *row = strstr(fit, "<tr><td>thread</td>");
    CU_ASSERT(row && end && row < end);
    free(html);
}

/* A point that crashes stops the sweep, names itself, keeps what was measured, and leaves
 * results/latest where it was. The crash is real: parlab's own --inject segv in a worker. */
static void test_failing_point_stops(void)
{
    if (!bench_ready())
        return;
    char wrapper[PATH_MAX + 32], real[PATH_MAX], script[3 * PATH_MAX], link[PATH_MAX + 16];
    char before[PATH_MAX], after[PATH_MAX];
    unsigned n = cpus();
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(parlab_bin(), real));
    snprintf(wrapper, sizeof wrapper, "%s/crashing-parlab", tmpdir);
    snprintf(script, sizeof script,
             "#!/bin/sh\n"
             "# fork workers crash on %u cores; everything else is the real binary\n"
             "case \" $* \" in *\" -r fork \"*\" --cores %u \"*) exec '%s' \"$@\" --inject segv@0 ;; esac\n"
             "exec '%s' \"$@\"\n", n, n, real, real);
    CU_ASSERT_EQUAL_FATAL(write_file(wrapper, script, 0755), 0);
    snprintf(link, sizeof link, "%s/latest", tmpdir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(link, before));

    static char e_res[PATH_MAX + 20], e_bin[PATH_MAX + 40];
    snprintf(e_res, sizeof e_res, "PARLAB_RESULTS=%s", tmpdir);
    snprintf(e_bin, sizeof e_bin, "PARLAB=%s", wrapper);
    const char *env[] = { e_res, e_bin, "PARLAB_BENCH_TINY=1", "PARLAB_BENCH_WORKLOADS=primes",
                          "PARLAB_BENCH_SLEEP=0", NULL };
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/fail.log", tmpdir);
    struct bench_run r;
    CU_ASSERT_EQUAL_FATAL(run_bench(env, 0, log, &r), 0);
    CU_ASSERT_TRUE(r.exited);
    CU_ASSERT_EQUAL(r.status, 1);
    char *out = slurp(log, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    char point[64];
    snprintf(point, sizeof point, "primes fork cores=%u", n);
    if (!strstr(out, "FAILED") || !strstr(out, point))
        show_log(log);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "FAILED"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, point));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "exited 70"));
    CU_ASSERT_PTR_NULL(strstr(out, "# done"));
    /* the partial folder holds the groups timed before the failing one: every runner at each
     * core count below n (the group at n, seq's point with it, stops at fork's checked run) */
    char *part = strstr(out, "results so far are in ");
    CU_ASSERT_PTR_NOT_NULL_FATAL(part);
    part += strlen("results so far are in ");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", (int)strcspn(part, ";\n"), part);
    CU_ASSERT(strstr(dir, ".partial") != NULL && is_dir(dir));
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/cores.csv", dir);
    char *csv = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    const char *runners[MAX_RUNNERS];
    CU_ASSERT_EQUAL(count_lines(csv) - 1, listed_runners(runners) * (count_cores(n) - 1));
    free(csv);
    snprintf(path, sizeof path, "%s/warnings.txt", dir);
    char *warn = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(warn && strstr(warn, point));
    free(warn);
    free(out);
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(link, after));
    CU_ASSERT_STRING_EQUAL(before, after);   /* latest did not move */
}

/* Run a tiny montecarlo sweep through a wrapper of parlab that moves montecarlo's tiny size
 * off its recorded one (200000 -> 200001), with extra appended to every `parlab run`.
 * Returns the rows CSV (malloc'd) and the warnings (malloc'd, or NULL), or NULL. */
static char *unrecorded_sweep(const char *tag, const char *extra, char **warnings)
{
    char real[PATH_MAX], wrapper[PATH_MAX + 32], script[3 * PATH_MAX + 512], res[PATH_MAX + 16];
    char log[PATH_MAX + 16], path[PATH_MAX + 64];
    *warnings = NULL;
    if (!realpath(parlab_bin(), real))
        return NULL;
    snprintf(wrapper, sizeof wrapper, "%s/%s-parlab", tmpdir, tag);
    snprintf(script, sizeof script,
             "#!/bin/sh\n"
             "case \"$1\" in run) exec '%s' \"$@\" %.64s ;; esac\n"
             "if [ \"$1\" = list ]; then '%s' \"$@\" | "
             "sed 's/^\\(workload,montecarlo,\\([^,]*,\\)\\{7\\}\\)200000,/\\1200001,/'; exit 0; fi\n"
             "exec '%s' \"$@\"\n", real, extra, real, real);
    if (write_file(wrapper, script, 0755))
        return NULL;
    snprintf(res, sizeof res, "%s/%s", tmpdir, tag);
    static char e_res[PATH_MAX + 40], e_bin[PATH_MAX + 50];
    snprintf(e_res, sizeof e_res, "PARLAB_RESULTS=%s", res);
    snprintf(e_bin, sizeof e_bin, "PARLAB=%s", wrapper);
    const char *env[] = { e_res, e_bin, "PARLAB_BENCH_TINY=1",
                          "PARLAB_BENCH_WORKLOADS=montecarlo", "PARLAB_BENCH_SLEEP=0", NULL };
    snprintf(log, sizeof log, "%s/%s.log", tmpdir, tag);
    struct bench_run r;
    if (run_bench(env, 0, log, &r))
        return NULL;
    if (!r.exited || r.status != 0) {
        show_log(log);
        return NULL;
    }
    snprintf(path, sizeof path, "%s/latest/warnings.txt", res);
    *warnings = slurp(path, NULL);
    snprintf(path, sizeof path, "%s/latest/cores-rows.csv", res);
    return slurp(path, NULL);
}

/* At a size with no recorded answer, seq's run recomputes it once (check=independent) and
 * the timed runs compare with it (--expect), so that hyperfine never times the
 * recomputation. Where nothing recomputes it (--check-limit 0), every row says
 * unchecked, the sweep still completes, and the run warns that those points were timed,
 * not verified. */
static void test_unrecorded_size(void)
{
    if (!bench_ready())
        return;
    char *warn, buf[64];
    char *csv = unrecorded_sweep("unrecorded", "", &warn);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    int v = col_of(csv, "verified"), ck = col_of(csv, "check"), n = col_of(csv, "size");
    CU_ASSERT_FATAL(v >= 0 && ck >= 0 && n >= 0 && count_lines(csv) > 1);
    for (int i = 0; i < count_lines(csv) - 1; i++) {
        const char *l = data_line(csv, i);
        CU_ASSERT_STRING_EQUAL(field(l, n, buf, sizeof buf), "200001");
        CU_ASSERT_STRING_EQUAL(field(l, v, buf, sizeof buf), "yes");
        CU_ASSERT_STRING_EQUAL(field(l, ck, buf, sizeof buf), "expect");
    }
    CU_ASSERT(!warn || !strstr(warn, "unchecked"));
    free(csv);
    free(warn);

    csv = unrecorded_sweep("unchecked", "--check-limit 0", &warn);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_FATAL(count_lines(csv) > 1);
    for (int i = 0; i < count_lines(csv) - 1; i++) {
        const char *l = data_line(csv, i);
        CU_ASSERT_STRING_EQUAL(field(l, v, buf, sizeof buf), "unchecked");
        CU_ASSERT_STRING_EQUAL(field(l, ck, buf, sizeof buf), "over-limit");
    }
    CU_ASSERT_PTR_NOT_NULL(warn && strstr(warn, "montecarlo at -n 200001") &&
                           strstr(warn, "verified=unchecked"));
    free(csv);
    free(warn);
}

/* With one CPU there is one core count: speedups still come out, the fit says it cannot. */
static void test_one_cpu(void)
{
    if (!bench_ready())
        return;
    char res[PATH_MAX + 8];
    snprintf(res, sizeof res, "%s/one", tmpdir);
    static char e_res[PATH_MAX + 30], e_bin[PATH_MAX + 10];
    snprintf(e_res, sizeof e_res, "PARLAB_RESULTS=%s", res);
    snprintf(e_bin, sizeof e_bin, "PARLAB=%s", parlab_bin());
    const char *env[] = { e_res, e_bin, "PARLAB_BENCH_TINY=1", "PARLAB_BENCH_WORKLOADS=primes",
                          "PARLAB_BENCH_SLEEP=0", NULL };
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/one.log", tmpdir);
    struct bench_run r;
    CU_ASSERT_EQUAL_FATAL(run_bench(env, 1, log, &r), 0);
    if (!r.exited || r.status != 0)
        show_log(log);
    CU_ASSERT_FATAL(r.exited && r.status == 0);
    char path[PATH_MAX + 64], buf[64];
    snprintf(path, sizeof path, "%s/latest/cores.csv", res);
    char *csv = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    int cv = col_of(csv, "value");
    int rows = count_lines(csv) - 1;
    const char *runners[MAX_RUNNERS];
    CU_ASSERT_EQUAL(rows, listed_runners(runners));
    for (int i = 0; i < rows; i++)
        CU_ASSERT_STRING_EQUAL(field(data_line(csv, i), cv, buf, sizeof buf), "1");
    free(csv);
    snprintf(path, sizeof path, "%s/latest/amdahl.csv", res);
    csv = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_EQUAL(count_lines(csv) - 1, rows);
    for (int i = 0; i < rows; i++)   /* no serial fraction without a second core */
        CU_ASSERT_STRING_EQUAL(field(data_line(csv, i), 2, buf, sizeof buf), "");
    free(csv);
    snprintf(path, sizeof path, "%s/latest/plots/primes-speedup.png", res);
    check_png(path);
    snprintf(path, sizeof path, "%s/latest/index.html", res);
    char *html = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "only 1 CPU"));
    CU_ASSERT_PTR_NOT_NULL(strstr(html, "no fit"));
    free(html);
}

/* PARLAB_BENCH_START sweeps fork's pool under each start method as a runner of its own
 * (fork-forkserver, fork-spawn), each point verified; an unknown method stops at once. */
static void test_start_methods_swept(void)
{
    if (!bench_ready())
        return;
    char res[PATH_MAX + 8];
    snprintf(res, sizeof res, "%s/start", tmpdir);
    static char e_res[PATH_MAX + 30], e_bin[PATH_MAX + 10];
    snprintf(e_res, sizeof e_res, "PARLAB_RESULTS=%s", res);
    snprintf(e_bin, sizeof e_bin, "PARLAB=%s", parlab_bin());
    const char *env[] = { e_res, e_bin, "PARLAB_BENCH_TINY=1", "PARLAB_BENCH_WORKLOADS=primes",
                          "PARLAB_BENCH_SLEEP=0", "PARLAB_BENCH_RUNNERS=fork",
                          "PARLAB_BENCH_START=fork forkserver spawn", NULL };
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/start.log", tmpdir);
    struct bench_run r;
    CU_ASSERT_EQUAL_FATAL(run_bench(env, 1, log, &r), 0);
    if (!r.exited || r.status != 0)
        show_log(log);
    CU_ASSERT_FATAL(r.exited && r.status == 0);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/latest/cores.csv", res);
    char *csv = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\nprimes,fork,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\nprimes,fork-forkserver,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\nprimes,fork-spawn,"));
    free(csv);
    snprintf(path, sizeof path, "%s/latest/commands.txt", res);
    char *cmds = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(cmds && strstr(cmds, "-r fork --start spawn"));
    free(cmds);

    const char *bad[] = { e_res, e_bin, "PARLAB_BENCH_TINY=1", "PARLAB_BENCH_START=vfork", NULL };
    CU_ASSERT_EQUAL_FATAL(run_bench(bad, 1, log, &r), 0);
    char *out = slurp(log, NULL);
    CU_ASSERT(r.exited && r.status != 0);
    CU_ASSERT_PTR_NOT_NULL(out && strstr(out, "vfork is not a start method"));
    free(out);
}

/* mpi's points (an external runner) are timed by parlab's rows, not by hyperfine around the
 * process: one command of R repeats in one mpirun, seq taking turns with it at the core
 * sweep (--baseline); its raw export says so, and samples.csv has both roles. Where mpi is
 * built. */
static void test_mpi_points_from_rows(void)
{
    char why[300];
    const struct runner *mpi = runner_find("mpi");
    if (!bench_ready() || !mpi || !runner_usable(mpi, why, sizeof why))
        return;
    char res[PATH_MAX + 8];
    snprintf(res, sizeof res, "%s/mpi", tmpdir);
    static char e_res[PATH_MAX + 30], e_bin[PATH_MAX + 10];
    snprintf(e_res, sizeof e_res, "PARLAB_RESULTS=%s", res);
    snprintf(e_bin, sizeof e_bin, "PARLAB=%s", parlab_bin());
    const char *env[] = { e_res, e_bin, "PARLAB_BENCH_TINY=1", "PARLAB_BENCH_WORKLOADS=primes",
                          "PARLAB_BENCH_SLEEP=0", "PARLAB_BENCH_RUNNERS=mpi", NULL };
    char log[PATH_MAX + 16];
    snprintf(log, sizeof log, "%s/mpi.log", tmpdir);
    struct bench_run r;
    CU_ASSERT_EQUAL_FATAL(run_bench(env, 1, log, &r), 0);
    if (!r.exited || r.status != 0)
        show_log(log);
    CU_ASSERT_FATAL(r.exited && r.status == 0);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/latest/cores.csv", res);
    char *csv = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(csv && strstr(csv, "\nprimes,mpi,cores,1,"));
    free(csv);
    snprintf(path, sizeof path, "%s/latest/raw/cores/cores-primes-mpi-1.json", res);
    char *raw = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(raw && strstr(raw, "parlab rows (wall_s)") && strstr(raw, "--baseline"));
    free(raw);
    snprintf(path, sizeof path, "%s/latest/samples.csv", res);
    char *smp = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL(smp && strstr(smp, "\ncores,primes,mpi,1,point,1,") &&
                           strstr(smp, "\ncores,primes,mpi,1,control,1,"));
    free(smp);
}

/* Benches started in the same second each claim a run folder of their own: six at once,
 * with a parlab whose runs fail at once, leave six .partial folders, each with its own
 * single failure in warnings.txt (not one shared folder with the others' lines). */
static void test_same_second_runs_apart(void)
{
    if (!tools_present())
        return;
    char real[PATH_MAX], script[2 * PATH_MAX + 1024];
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(parlab_bin(), real));
    snprintf(script, sizeof script,
             "set -u; d=$(mktemp -d /tmp/parlab-claim-XXXXXX) || exit 9\n"
             "printf '#!/bin/sh\\n[ \"$1\" = run ] && exit 70\\nexec %s \"$@\"\\n' > $d/p\n"
             "chmod +x $d/p\n"
             "for i in 1 2 3 4 5 6; do PARLAB=$d/p PARLAB_RESULTS=$d/res PARLAB_BENCH_TINY=1 "
             "PARLAB_BENCH_SLEEP=0 PARLAB_BENCH_WORKLOADS=primes bash scripts/bench.sh "
             "> $d/log$i 2>&1 & done; wait\n"
             "n=0; bad=0\n"
             "for f in $d/res/*.partial; do n=$((n + 1)); "
             "[ \"$(grep -c FAILED $f/warnings.txt)\" = 1 ] || bad=$((bad + 1)); done\n"
             "echo \"folders=$n shared=$bad\"; ls $d/res; rm -rf $d\n", real);
    char *argv[] = { "bash", "-c", script, NULL };
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 60, &r), 0);
    int ok = r.exited && r.status == 0 && strstr(r.out, "folders=6 shared=0");
    if (!ok)
        fprintf(stderr, "\n  six benches at once: %s%s", r.out, r.err);
    CU_ASSERT(ok);
}

/* Ctrl-C (SIGINT to the whole process group) during a sweep says the run was interrupted,
 * with exit 130, instead of blaming the point it was at as FAILED. */
static void test_interrupted_sweep(void)
{
    if (!tools_present())
        return;
    char dir[] = "/tmp/parlab-int-XXXXXX", log[64], e_res[64], e_bin[PATH_MAX + 10];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(log, sizeof log, "%s/log", dir);
    snprintf(e_res, sizeof e_res, "PARLAB_RESULTS=%s/res", dir);
    snprintf(e_bin, sizeof e_bin, "PARLAB=%s", parlab_bin());
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        putenv(e_res);
        putenv(e_bin);
        putenv("PARLAB_BENCH_TINY=1");
        putenv("PARLAB_BENCH_SLEEP=0");
        putenv("PARLAB_BENCH_WORKLOADS=primes");
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        signal(SIGINT, SIG_DFL);
        alarm(BENCH_TIMEOUT_S);
        execlp("bash", "bash", "scripts/bench.sh", (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    /* Wait until the sweep has begun (its first "[1/" line), then press Ctrl-C at once:
     * the tiny sweep's 28 points take about a second on a quiet machine, and a Ctrl-C
     * that came after the last one would find nothing to interrupt. */
    for (int i = 0; i < 3000; i++) {
        char *t = slurp(log, NULL);
        int begun = t && strstr(t, "[1/");
        free(t);
        if (begun)
            break;
        usleep(5 * 1000);
    }
    kill(-pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    kill(-pid, SIGKILL);
    char *out = slurp(log, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 130 && strstr(out, "bench: interrupted") &&
             !strstr(out, "FAILED") && strstr(out, "results so far are in");
    if (!ok)
        fprintf(stderr, "\n  interrupted bench: status %d\n%s", st, out);
    CU_ASSERT(ok);
    free(out);
    char rm[128];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(rm), 0);
}

/* ---- make bench on a fresh machine: what its deps step installs is used ------------------ */

/* A machine where Open MPI is not installed when make reads the Makefile: a PATH of its own
 * (every program of ours but those of Open MPI), where deps.sh's apt-get is a stand-in that
 * "installs" libopenmpi-dev by linking the real mpicc in, and never mpirun. `make bench`
 * then runs a tiny bench (primes, seq and mpi, no Python peers) with its binaries in a
 * folder of their own (PARLAB=DIR/bin/parlab; the objects of build/ are reused). */
static char mkb_dir[64];
static int mkb_state;   /* 0 not run, 1 ran (checked by each test), 2 skipped, -1 could not */
static struct bench_run mkb_run;

static void mkb_cleanup(void)
{
    if (mkb_dir[0] && !getenv("PARLAB_KEEP_BENCH")) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", mkb_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "\ntest_bench: could not remove %s\n", mkb_dir);
    }
}

static int make_bench_ready(void)
{
    if (mkb_state)
        return mkb_state == 1;
    const char *san = getenv("PARLAB_SAN");
    if (san && *san) {
        fprintf(stderr, "\ntest_bench: SKIPPED make bench with Open MPI installed by it: "
                        "sanitizer builds leave mpi out\n");
        mkb_state = 2;
        return 0;
    }
    if (!tools_present() || !on_path("mpicc") || !on_path("make")) {
        fprintf(stderr, "\ntest_bench: SKIPPED make bench with Open MPI installed by it: "
                        "no mpicc or make here (scripts/deps.sh test)\n");
        mkb_state = 2;
        return 0;
    }
    mkb_state = -1;
    snprintf(mkb_dir, sizeof mkb_dir, "/tmp/parlab-mkb-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(mkb_dir));
    atexit(mkb_cleanup);
    static const char setup[] =
        "d=$1; p=$d/path; mkdir -p \"$p\" \"$d/bin\" \"$d/res\" || exit 1\n"
        "mpicc=$(command -v mpicc) || exit 1\n"
        "cat > \"$p/apt-get\" <<EOF\n"
        "#!/bin/sh\n"
        "for a; do [ \"\\$a\" = libopenmpi-dev ] && ln -sf '$mpicc' '$p/mpicc'; done; exit 0\n"
        "EOF\n"
        "cat > \"$p/dpkg-query\" <<EOF\n"
        "#!/bin/sh\n"
        "for a; do pkg=\\$a; done\n"
        "[ \"\\$pkg\" = libopenmpi-dev ] && [ ! -e '$p/mpicc' ] && exit 1\n"
        "printf 'install ok installed'\n"
        "EOF\n"
        "printf '#!/bin/sh\\n[ \"$1\" = -n ] && shift\\nexec \"$@\"\\n' > \"$p/sudo\"\n"
        "chmod +x \"$p/apt-get\" \"$p/dpkg-query\" \"$p/sudo\" || exit 1\n"
        "IFS=:\n"
        "for dir in $PATH; do\n"
        "  for f in \"$dir\"/*; do\n"
        "    n=${f##*/}\n"
        "    case $n in mpi*|orte*|prte*|opal*|ompi*) continue ;; esac\n"
        "    if [ -x \"$f\" ] && [ ! -d \"$f\" ] && [ ! -e \"$p/$n\" ]; then ln -s \"$f\" \"$p/$n\" || exit 1; fi\n"
        "  done\n"
        "done\n";
    struct cmd_result c;
    char *argv[] = { "bash", "-c", (char *)setup, "bash", mkb_dir, NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 60, &c), 0);
    if (!c.exited || c.status != 0)
        fprintf(stderr, "\nfake PATH: %s%s\n", c.out, c.err);
    CU_ASSERT_FATAL(c.exited && c.status == 0);
    char path[128];
    snprintf(path, sizeof path, "%s/path/mpicc", mkb_dir);
    CU_ASSERT_FATAL(access(path, F_OK) != 0);   /* no mpicc when make reads the Makefile */
    snprintf(path, sizeof path, "%s/path/mpirun", mkb_dir);
    CU_ASSERT_FATAL(access(path, F_OK) != 0);

    static char e_path[128], e_res[128], a_parlab[128];
    snprintf(e_path, sizeof e_path, "PATH=%s/path", mkb_dir);
    snprintf(e_res, sizeof e_res, "PARLAB_RESULTS=%s/res", mkb_dir);
    snprintf(a_parlab, sizeof a_parlab, "PARLAB=%s/bin/parlab", mkb_dir);
    const char *env[] = { e_path, e_res, "PARLAB_BENCH_TINY=1", "PARLAB_BENCH_WORKLOADS=primes",
                          "PARLAB_BENCH_SLEEP=0", "PARLAB_BENCH_RUNNERS=seq mpi",
                          "PARLAB_SWEEP_PYTHON=0", "PARLAB_BENCH_REFERENCE=none", NULL };
    char *mk[] = { "make", "--no-print-directory", "bench", a_parlab, NULL };
    char log[128];
    snprintf(log, sizeof log, "%s/make.log", mkb_dir);
    CU_ASSERT_EQUAL_FATAL(run_bench_argv(mk, env, 0, log, &mkb_run), 0);
    if (!mkb_run.exited || mkb_run.status != 0)
        show_log(log);
    mkb_state = 1;
    return 1;
}

/* The deps step installed Open MPI after make had read the Makefile: bin/parlab-mpi is
 * built all the same, in the same make bench. */
static void test_make_bench_builds_mpi(void)
{
    if (!make_bench_ready())
        return;
    CU_ASSERT(mkb_run.exited && mkb_run.status == 0);
    char path[128];
    snprintf(path, sizeof path, "%s/make.log", mkb_dir);
    char *log = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    CU_ASSERT_PTR_NOT_NULL(strstr(log, "installing libopenmpi-dev"));   /* deps.sh did, this run */
    free(log);
    snprintf(path, sizeof path, "%s/bin/parlab-mpi", mkb_dir);
    CU_ASSERT_EQUAL(access(path, X_OK), 0);
    snprintf(path, sizeof path, "%s/bin/parlab", mkb_dir);
    CU_ASSERT_EQUAL(access(path, X_OK), 0);
}

/* Line by line, in place (the newlines become NULs): lines[] and their count. */
static int split_lines(char *t, char **lines, int max)
{
    int n = 0;
    for (char *p = t; *p && n < max;) {
        lines[n++] = p;
        p += strcspn(p, "\n");
        if (*p)
            *p++ = '\0';
    }
    return n;
}

/* The bench's first line (what it sweeps) and its last (the report) name each part left
 * out, with why: mpi, which has no mpirun here, and Python's peers, turned off. Only make's
 * and deps.sh's lines come before the first. */
static void test_bench_names_left_out(void)
{
    if (!make_bench_ready())
        return;
    CU_ASSERT_FATAL(mkb_run.exited && mkb_run.status == 0);
    char path[128];
    snprintf(path, sizeof path, "%s/make.log", mkb_dir);
    char *log = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(log);
    static char *lines[20000];
    int n = split_lines(log, lines, 20000), first = -1, last = n - 1;
    for (int i = 0; i < n && first < 0; i++) {
        if (!strncmp(lines[i], "# parlab bench (tiny)", 21))
            first = i;
        else   /* nothing of the bench's before it: no "bench: warning", no "# ..." */
            CU_ASSERT(strncmp(lines[i], "bench:", 6) && strncmp(lines[i], "# ", 2));
    }
    while (last > 0 && !*lines[last])
        last--;
    CU_ASSERT_FATAL(first >= 0 && last > first);
    static const char *const want[] = {
        "left out: ", "mpi runner (mpirun is not in PATH", "Python's peers (PARLAB_SWEEP_PYTHON=0)"
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(lines[first], want[i]) || !strstr(lines[last], want[i]))
            fprintf(stderr, "\n  no '%s' in\n  first: %s\n  last: %s\n", want[i], lines[first], lines[last]);
        CU_ASSERT_PTR_NOT_NULL(strstr(lines[first], want[i]));
        CU_ASSERT_PTR_NOT_NULL(strstr(lines[last], want[i]));
    }
    CU_ASSERT(!strncmp(lines[last], "# done: ", 8));
    free(log);
    /* and in the run: left-out.txt, one part a line, and the warnings the report shows */
    snprintf(path, sizeof path, "%s/res/latest/left-out.txt", mkb_dir);
    char *lo = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(lo);
    CU_ASSERT_EQUAL(count_lines(lo), 2);
    free(lo);
    snprintf(path, sizeof path, "%s/res/latest/warnings.txt", mkb_dir);
    char *w = slurp(path, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(w);
    CU_ASSERT_PTR_NOT_NULL(strstr(w, "left out: mpi runner (mpirun is not in PATH"));
    free(w);
}

/* ---- make reference: scripts/reference.sh on the tiny run --------------------------------- */

/* scripts/reference.sh RUN REFDIR with "K=V" settings (NULL-terminated) through env(1). */
static int reference_sh(struct cmd_result *r, const char *run, const char *refdir, const char *const *kv)
{
    char *argv[16];
    int n = 0;
    argv[n++] = "env";
    for (int i = 0; kv[i] && n < 10; i++)
        argv[n++] = (char *)kv[i];
    argv[n++] = "bash";
    argv[n++] = "scripts/reference.sh";
    argv[n++] = (char *)run;
    argv[n++] = (char *)refdir;
    argv[n] = NULL;
    return run_cmd(argv, 120, r);
}

static int sh(const char *fmt, ...)
{
    char cmd[4 * PATH_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    return system(cmd);
}

/* A run other than a default bench, a bad MACHINE and a disturbed run are refused in one
 * line (64, 64, 1); FORCE=1 takes them. What is written is what results/README.md says a
 * reference holds, and it replaces the old folder whole. */
static void test_reference_from_run(void)
{
    if (!bench_ready())
        return;
    struct cmd_result r;
    char refdir[PATH_MAX], dest[PATH_MAX + 16], p[PATH_MAX + 64], busy[PATH_MAX];
    snprintf(refdir, sizeof refdir, "%s/reference", tmpdir);
    snprintf(dest, sizeof dest, "%s/m1", refdir);

    /* the tiny run is not a default bench */
    const char *none[] = { "MACHINE=m1", NULL };
    CU_ASSERT_EQUAL_FATAL(reference_sh(&r, latest, refdir, none), 0);
    CU_ASSERT(r.exited && r.status == 64);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "tiny"));
    CU_ASSERT_FALSE(is_dir(dest));

    const char *bad[] = { "FORCE=1", "MACHINE=../up", NULL };
    CU_ASSERT_EQUAL_FATAL(reference_sh(&r, latest, refdir, bad), 0);
    CU_ASSERT(r.exited && r.status == 64);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);

    /* a default run that was disturbed: refused (1), unless FORCE=1 */
    snprintf(busy, sizeof busy, "%s/busy-run", tmpdir);
    CU_ASSERT_EQUAL_FATAL(sh("cp -a '%s' '%s' && sed -i 's/^mode=.*/mode=default/' '%s/bench.conf' && "
                             "echo 'busy: 3 of 9 points disturbed' > '%s/trust.txt'",
                             latest, busy, busy, busy), 0);
    CU_ASSERT_EQUAL_FATAL(reference_sh(&r, busy, refdir, none), 0);
    CU_ASSERT(r.exited && r.status == 1);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "disturbed"));
    CU_ASSERT_FALSE(is_dir(dest));

    /* FORCE=1: written, and an older folder of the same name is replaced whole */
    CU_ASSERT_EQUAL_FATAL(sh("mkdir -p '%s' && echo old > '%s/stale.txt'", dest, dest), 0);
    const char *force[] = { "FORCE=1", "MACHINE=m1", NULL };
    CU_ASSERT_EQUAL_FATAL(reference_sh(&r, latest, refdir, force), 0);
    if (!r.exited || r.status != 0)
        fprintf(stderr, "\n  reference.sh: %s%s", r.out, r.err);
    CU_ASSERT_FATAL(r.exited && r.status == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "now holds"));
    snprintf(p, sizeof p, "%s/stale.txt", dest);
    CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
    static const char *const kept[] = { "bench.conf", "machine.json", "results.json", "cores.csv",
                                        "samples.csv", "trust.txt", "index.html", "plots",
                                        "left-out.txt" };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", dest, kept[i]);
        if (access(p, F_OK))
            fprintf(stderr, "\n  reference lacks %s\n", kept[i]);
        CU_ASSERT_EQUAL(access(p, F_OK), 0);
    }
    snprintf(p, sizeof p, "%s/logs", dest);
    CU_ASSERT_FALSE(is_dir(p));
    /* hyperfine's JSON kept, its per-point CSV copies not */
    CU_ASSERT_EQUAL(sh("ls '%s'/raw/*/*.json > /dev/null 2>&1", dest), 0);
    CU_ASSERT_NOT_EQUAL(sh("ls '%s'/raw/*/*.csv > /dev/null 2>&1", dest), 0);
    CU_ASSERT_EQUAL(sh("grep -qx 'reference=' '%s/bench.conf'", dest), 0);
    snprintf(p, sizeof p, "%s/index.html", dest);
    char *html = slurp(p, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(html);
    CU_ASSERT_PTR_NULL(strstr(html, ">logs/</a>"));   /* rewritten: lists only what is there */
    free(html);
    CU_ASSERT_NOT_EQUAL(sh("ls -a '%s' | grep -q '^\\.m1\\.'", refdir), 0);   /* nothing left aside */
}

/* The bench's rounds: a group of points timed in turns with their control comes back as one
 * export per point (verdict.py split): its own runs first, the control's second, every
 * run's other-CPU figure kept; seq's own point (no control) alone; a command the rounds do
 * not hold is refused. verdict.py serve answers requests in turn from one process, a bad
 * one with its code and the next still served. */
static void test_group_rounds_split(void)
{
    char dir[] = "/tmp/parlab-split-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    char p[PATH_MAX + 64], req[4 * PATH_MAX];
    static const char *const round[2] = {
        "{\"results\": [{\"command\": \"ctl\", \"times\": [2.0], \"user\": 1, \"system\": 0},"
        " {\"command\": \"a\", \"times\": [1.0], \"user\": 1, \"system\": 0},"
        " {\"command\": \"b\", \"times\": [0.5], \"user\": 1, \"system\": 0}]}\n",
        "{\"results\": [{\"command\": \"b\", \"times\": [0.6], \"user\": 1, \"system\": 0},"
        " {\"command\": \"a\", \"times\": [1.1], \"user\": 1, \"system\": 0},"
        " {\"command\": \"ctl\", \"times\": [2.2], \"user\": 1, \"system\": 0}]}\n",
    };
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/r%d.json", dir, i + 1);
        CU_ASSERT_EQUAL_FATAL(write_file(p, round[i], 0644), 0);
    }
    /* split; a bogus command; a point the rounds lack; a speedup after them */
    snprintf(req, sizeof req,
             "14\nsplit\n0.1 0.5\n%s/r1.json\n%s/r2.json\n--\n%s/A.json\na\nctl\n%s/B.json\nb\nctl\n"
             "%s/C.json\nctl\n\n"
             "1\nbogus\n"
             "8\nsplit\n0.1 0.5\n%s/r1.json\n%s/r2.json\n--\n%s/Z.json\nzzz\nctl\n"
             "6\nspeedup\n2.0\n2.2\n/\n1.0\n1.1\n",
             dir, dir, dir, dir, dir, dir, dir, dir);
    snprintf(p, sizeof p, "%s/requests", dir);
    CU_ASSERT_EQUAL_FATAL(write_file(p, req, 0644), 0);
    struct cmd_result r;
    char script[2 * PATH_MAX];
    const char *py = getenv("PYTHON") && *getenv("PYTHON") ? getenv("PYTHON") : "/usr/bin/python3";
    snprintf(script, sizeof script, "'%s' scripts/verdict.py serve < '%s/requests'", py, dir);
    char *argv[] = { "sh", "-c", script, NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 60, &r), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_STRING_EQUAL(r.out, "0.30 0.50\n\x1e" "0\n\x1e" "64\n\x1e" "64\n"
                                  "2× (2 runs: too few for an interval)\n\x1e" "0\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "zzz"));
    CU_ASSERT_EQUAL(sh("jq -e '.interleaved and (.results | length == 2) and .results[0].command == \"a\""
                       " and .results[0].times == [1.0, 1.1] and .results[1].command == \"ctl\""
                       " and .results[1].times == [2.0, 2.2] and .results[0].other_cpu == [0.1, 0.5]'"
                       " '%s/A.json' > /dev/null", dir), 0);
    CU_ASSERT_EQUAL(sh("jq -e '(.results | length == 2) and .results[0].times == [0.5, 0.6]"
                       " and .results[0].mean == 0.55' '%s/B.json' > /dev/null", dir), 0);
    CU_ASSERT_EQUAL(sh("jq -e '(.results | length == 1) and .results[0].command == \"ctl\"'"
                       " '%s/C.json' > /dev/null", dir), 0);
    CU_ASSERT_EQUAL(sh("rm -rf '%s'", dir), 0);
}

CU_TestInfo tests_bench[] = {
    { "Karp-Flatt serial fraction on known speedups", test_karpflatt_known },
    { "scripts read CSVs by their header and JSON with jq, text writes ±, … and × (planted violations caught)",
      test_scripts_read_by_name },
    { "tiny sweep: tidy CSVs, raw samples with the interleaved control, trust lines", test_tiny_sweep_csvs },
    { "tiny sweep: machine.json", test_tiny_sweep_machine },
    { "a group's rounds as one export per point; verdict.py serve answers in turn", test_group_rounds_split },
    { "REPEAT or WAIT_QUIET not a positive number: one line, exit 64", test_bad_repeat_wait },
    { "tiny sweep: every PNG drawn", test_tiny_sweep_plots },
    { "tiny sweep: index.html references every plot", test_tiny_sweep_report },
    { "a crashing point stops the sweep, latest stays", test_failing_point_stops },
    { "one CPU: one core count, no Amdahl fit", test_one_cpu },
    { "PARLAB_BENCH_START sweeps the start methods", test_start_methods_swept },
    { "mpi points: timed by parlab's rows in one mpirun, seq interleaved", test_mpi_points_from_rows },
    { "an unrecorded size: recomputed once, or unchecked and warned", test_unrecorded_size },
    { "benches started in the same second claim separate folders", test_same_second_runs_apart },
    { "Ctrl-C during a sweep says interrupted, exit 130", test_interrupted_sweep },
    { "make bench: Open MPI its deps step installs is built in the same make", test_make_bench_builds_mpi },
    { "the bench's first and last lines name each part left out and why", test_bench_names_left_out },
    { "reference.sh: refusals in one line (64, 1), FORCE=1, trimmed, replaced whole", test_reference_from_run },
    CU_TEST_INFO_NULL,
};
