/* test_spin.c: the spin workload (tasks of a set duration): its checksum against a plain
 * loop written here, its closed form catching a wrong or missing task, --grain's checks,
 * and a calibrated run verified under every runner. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>
#include "util.h"
#include "../harness/harness.h"

/* The checksum the slow way: every task's LCG chain run step by step, summed mod 2^64. */
static uint64_t by_loop(uint64_t seed, uint64_t tasks, uint64_t steps)
{
    uint64_t sum = 0;
    for (uint64_t t = 0; t < tasks; t++) {
        uint64_t x = seed + t;
        for (uint64_t i = 0; i < steps; i++)
            x = x * 6364136223846793005ull + 1442695040888963407ull;
        sum += x;
    }
    return sum;
}

/* Run every task of a spin job of `steps` steps in-process and fold them; the total. */
static struct partial spin_total(const struct job *job)
{
    struct partial total = { 0 }, p;
    for (size_t t = 0; t < job->tasks; t++) {
        job->wl->run_task(job, 0, t, &p);
        job->wl->combine(&total, &p);
    }
    return total;
}

static void test_closed_form(void)
{
    const struct workload *wl = wl_find("spin");
    CU_ASSERT_PTR_NOT_NULL_FATAL(wl);
    static const struct { uint64_t tasks, steps, seed; } cases[] = {
        { 1, 1, 0 }, { 3, 5, 7 }, { 13, 1000, 1 }, { 64, 4097, UINT64_MAX }, { 2, 1u << 16, 42 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct job job = { .wl = wl, .size = cases[i].tasks, .tasks = cases[i].tasks,
                           .steps = 1, .seed = cases[i].seed, .grain_iters = cases[i].steps };
        CU_ASSERT_EQUAL_FATAL(wl->setup(&job), 0);
        CU_ASSERT_EQUAL(job.grain_iters, cases[i].steps);   /* given: not calibrated again */
        struct partial total = spin_total(&job);
        char why[200] = "", tok[64], want[64];
        CU_ASSERT_EQUAL(total.hash, by_loop(cases[i].seed, cases[i].tasks, cases[i].steps));
        CU_ASSERT_EQUAL(wl->verify(&job, &total, why, sizeof why), 0);
        wl->format(&job, &total, tok, sizeof tok);
        snprintf(want, sizeof want, "%016llx",
                 (unsigned long long)by_loop(cases[i].seed, cases[i].tasks, cases[i].steps));
        CU_ASSERT_STRING_EQUAL(tok, want);
        /* One step more or less, or a task missing, is caught. */
        struct partial off = total;
        off.hash = by_loop(cases[i].seed, cases[i].tasks, cases[i].steps + 1);
        CU_ASSERT_EQUAL(wl->verify(&job, &off, why, sizeof why), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(why, "closed form"));
        off = total;
        off.count--;
        CU_ASSERT_EQUAL(wl->verify(&job, &off, why, sizeof why), -1);
    }
}

static void test_calibration(void)
{
    const struct workload *wl = wl_find("spin");
    struct job small = { .wl = wl, .size = 4, .tasks = 4, .steps = 1, .grain_ns = 1000 };
    struct job big = small;
    big.grain_ns = 1000000;
    CU_ASSERT_EQUAL_FATAL(wl->setup(&small), 0);
    CU_ASSERT_EQUAL_FATAL(wl->setup(&big), 0);
    /* A thousand times the duration is many times the steps, however loaded the machine. */
    CU_ASSERT(small.grain_iters >= 1);
    CU_ASSERT(big.grain_iters > 10 * small.grain_iters);
    /* Without --grain, a fixed step count: the same answer on every run. */
    struct job fixed = { .wl = wl, .size = 4, .tasks = 4, .steps = 1 };
    CU_ASSERT_EQUAL_FATAL(wl->setup(&fixed), 0);
    CU_ASSERT_EQUAL(fixed.grain_iters, 1024);
}

static void test_every_runner(void)
{
    static const char *const runners[] = { "seq", "fork", "thread", "omp", "epoll", "spawn",
                                           "mpi" };
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++) {
        const struct runner *r = runner_find(runners[i]);
        char why[300];
        if (!r || !runner_usable(r, why, sizeof why))
            continue;   /* mpi where Open MPI is not built in */
        struct cmd_result res;
        CU_ASSERT_EQUAL(run_parlab(&res, 60, "run", "-w", "spin", "-r", runners[i], "-n", "300",
                                   "--grain", "2000", "-j", "2", "--repeat", "1", "--format",
                                   "csv", (char *)NULL), 0);
        char v[16];
        if (res.status != 0)
            fprintf(stderr, "\n  spin %s: exit %d: %s", runners[i], res.status, res.err);
        CU_ASSERT_EQUAL(res.status, 0);
        CU_ASSERT_STRING_EQUAL(csv_field(res.out, 1, 17, v, sizeof v), "yes");
    }
    /* A task that skips its work is caught by the closed form: exit 1. */
    struct cmd_result res;
    CU_ASSERT_EQUAL(run_parlab(&res, 60, "run", "-w", "spin", "-r", "fork", "-n", "50",
                               "--grain", "1000", "--inject", "drop@7", "--repeat", "1",
                               "--warmup", "0", (char *)NULL), 0);
    CU_ASSERT_EQUAL(res.status, 1);
}

static void test_grain_refused(void)
{
    static const char *const cases[][4] = {
        { "spin", "0", "at least 1", NULL },
        { "spin", "10000000001", "too large", NULL },
        { "spin", "1x", "--grain", NULL },
        { "primes", "1000", "only spin", NULL },
        { "noop", "1000", "only spin", NULL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cmd_result r;
        CU_ASSERT_EQUAL(run_parlab(&r, 30, "run", "-w", cases[i][0], "-r", "seq", "-n", "10",
                                   "--grain", cases[i][1], "--repeat", "1", (char *)NULL), 0);
        CU_ASSERT(r.exited);
        CU_ASSERT_EQUAL(r.status, 64);
        CU_ASSERT_EQUAL(count_lines(r.err), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.err, cases[i][2]));
        CU_ASSERT_EQUAL(strncmp(r.err, "parlab: ", 8), 0);
        CU_ASSERT_STRING_EQUAL(r.out, "");
    }
    /* 10 s itself is accepted (checked, not run: -n 0 is below spin's minimum size). */
    struct cmd_result r;
    CU_ASSERT_EQUAL(run_parlab(&r, 30, "run", "-w", "spin", "-r", "seq", "-n", "0",
                               "--grain", "10000000000", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 64);
    CU_ASSERT_PTR_NULL(strstr(r.err, "--grain"));
}

/* The Python peer's spin: the same checksum as parlab's at the fixed step count, bit for
 * bit, and a calibrated run verified by its own closed form. */
static void test_python_peer(void)
{
    const char *py = getenv("PYTHON");
    if (!py || !*py)
        py = "/usr/bin/python3";
    if (access(py, X_OK) != 0) {
        CU_FAIL("python3 is missing: sudo apt-get install python3");
        return;
    }
    struct cmd_result c, p;
    char want[32], got[32];
    CU_ASSERT_EQUAL_FATAL(run_parlab(&c, 60, "run", "-w", "spin", "-r", "seq", "-n", "37",
                                     "--seed", "5", "--repeat", "1", "--format", "csv",
                                     (char *)NULL), 0);
    CU_ASSERT_EQUAL(c.status, 0);
    char *a1[] = { (char *)py, "peers/python/parlab_py.py", "run", "-w", "spin", "-r",
                   "py-pool-map1", "-n", "37", "--seed", "5", "--format", "csv", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(a1, 60, &p), 0);
    CU_ASSERT_EQUAL(p.status, 0);
    CU_ASSERT_STRING_EQUAL(csv_field(p.out, 1, 16, got, sizeof got),
                           csv_field(c.out, 1, 16, want, sizeof want));
    CU_ASSERT(strlen(want) == 16);
    char *a2[] = { (char *)py, "peers/python/parlab_py.py", "run", "-w", "spin", "-r",
                   "py-tpe", "-n", "20", "--grain", "50000", "--format", "csv", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(a2, 60, &p), 0);
    CU_ASSERT_EQUAL(p.status, 0);
    CU_ASSERT_STRING_EQUAL(csv_field(p.out, 1, 17, got, sizeof got), "yes");
    char *a3[] = { (char *)py, "peers/python/parlab_py.py", "run", "-w", "noop", "-r",
                   "py-seq", "-n", "20", "--grain", "50000", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(a3, 60, &p), 0);
    CU_ASSERT_EQUAL(p.status, 64);
    CU_ASSERT_EQUAL(count_lines(p.err), 1);
}

/* A folder for scripts/metg.py's files, and the command that reads rows.csv into them. */
struct metg_files {
    char dir[32], rows[96], curve[96], metg[96];
    char *argv[7];
};

static void metg_open(struct metg_files *m)
{
    const char *py = getenv("PYTHON");
    snprintf(m->dir, sizeof m->dir, "/tmp/parlab-metg-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(m->dir));
    snprintf(m->rows, sizeof m->rows, "%s/rows.csv", m->dir);
    snprintf(m->curve, sizeof m->curve, "%s/curve.csv", m->dir);
    snprintf(m->metg, sizeof m->metg, "%s/metg.csv", m->dir);
    char *argv[] = { (char *)(py && *py ? py : "/usr/bin/python3"), "scripts/metg.py", m->rows,
                     m->curve, m->metg, "2", NULL };
    memcpy(m->argv, argv, sizeof argv);
}

static void metg_close(struct metg_files *m)
{
    unlink(m->rows);
    unlink(m->curve);
    unlink(m->metg);
    CU_ASSERT_EQUAL(rmdir(m->dir), 0);
}

/* scripts/metg.py on made-up rows whose efficiency is known: a runner with 1 us of its own
 * per task (E = g / (g + 1 us), so METG(50%) = 1 us and METG(90%) = 9 us), one that never
 * reaches 50%, and one that reaches 90% everywhere. */
static void test_metg_known_curve(void)
{
    struct metg_files m;
    metg_open(&m);
    FILE *f = fopen(m.rows, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fprintf(f, "series,grain_ns,rep,tasks,workers,wall_s,verified\n");
    static const double grains[] = { 100, 316, 1000, 3162, 10000, 31623, 100000, 316228,
                                     1000000, 3162278, 10000000 };
    for (int r = 1; r <= 3; r++) {
        fprintf(f, "a,0,%d,2,2,0,yes\nnever,0,%d,2,2,0,yes\nfine,0,%d,2,2,0,yes\n", r, r, r);
        for (size_t i = 0; i < sizeof grains / sizeof grains[0]; i++) {
            double g = grains[i], T = 1000;
            /* 2 CPUs: wall = T (g + overhead) / 2 */
            fprintf(f, "a,%.0f,%d,1000,2,%.12f,yes\n", g, r, T * (g + 1000) / 2 / 1e9);
            fprintf(f, "never,%.0f,%d,1000,2,%.12f,yes\n", g, r, T * g / 1e9 / 0.8);
            fprintf(f, "fine,%.0f,%d,1000,2,%.12f,yes\n", g, r, T * g / 2 / 1e9 / 0.95);
        }
    }
    fclose(f);
    struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_cmd(m.argv, 60, &r), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    char *csv = slurp(m.metg, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(csv);
    /* a: METG(50%) 1000 ns, METG(90%) 9000 ns (interpolated: within 10%), intervals as
     * narrow (the repeats agree); never: no METG(50%); fine: at most the smallest grain. */
    double m50 = 0, m90 = 0;
    char *line = strstr(csv, "\na,");
    CU_ASSERT_PTR_NOT_NULL_FATAL(line);
    CU_ASSERT_EQUAL(sscanf(line + 3, "%lf,%*f,%*f,,%lf", &m50, &m90), 2);
    CU_ASSERT(m50 > 900 && m50 < 1100);
    CU_ASSERT(m90 > 8100 && m90 < 9900);
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\nnever,,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, ",never,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(csv, "\nfine,100,100,100,at-most,100,"));
    free(csv);
    metg_close(&m);
}

/* Rows for metg.py: each series with a per-task cost of its own (E = g / (g + cost)), 3
 * repeats a grain that agree, every run with OTHER_CPU (the fork series with BUSY_FORK). */
static int write_goal_rows(const char *path, double other, double busy_fork)
{
    static const struct { const char *name; double cost_ns; } series[] = {
        { "fork", 1000 }, { "thread", 500 }, { "omp", 500 }, { "py-pool-map1", 100000 },
    };
    static const double grains[] = { 10, 32, 100, 316, 1000, 3162, 10000, 31623, 100000,
                                     316228, 1000000, 3162278, 10000000 };
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "series,grain_ns,rep,tasks,workers,wall_s,verified,other_cpu\n");
    for (size_t k = 0; k < sizeof series / sizeof series[0]; k++)
        for (int r = 1; r <= 3; r++) {
            double o = k == 0 ? busy_fork : other;
            fprintf(f, "%s,0,%d,2,2,0,yes,%.2f\n", series[k].name, r, o);
            for (size_t i = 0; i < sizeof grains / sizeof grains[0]; i++)
                fprintf(f, "%s,%.0f,%d,1000,2,%.12f,yes,%.2f\n", series[k].name, grains[i], r,
                        1000 * (grains[i] + series[k].cost_ns) / 2 / 1e9, o);
        }
    return fclose(f);
}

/* metg.py's goals on known curves: fork's METG(50%) is 2× OpenMP's (1.99× as interpolated:
 * fails "at most 1.1×" on quiet runs, inconclusive where other processes used the CPUs),
 * thread's equals it (passes), and Python's Pool.map is 100× fork's (97.8×: fails "at
 * least 1,000×"). */
static void test_metg_goals(void)
{
    struct metg_files m;
    struct cmd_result r;
    metg_open(&m);

    CU_ASSERT_EQUAL_FATAL(write_goal_rows(m.rows, 0.01, 0.01), 0);
    CU_ASSERT_EQUAL_FATAL(run_cmd(m.argv, 60, &r), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "fork/omp 1.99× [1.99, 1.99]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "goal: fork's METG(50%) at most 1.1× OpenMP's: fail: "
                                         "fork/omp METG(50%) 1.99× [1.99, 1.99] 95% CI, not < 1.1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "goal: thread's METG(50%) at most 1.1× OpenMP's: pass: "
                                         "thread/omp METG(50%) 1×"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "fork pool's METG(50%): fail: py-pool-map1/fork "
                                         "METG(50%) 97.8×"));
    if (!strstr(r.out, "OpenMP's: fail: fork/omp"))
        fprintf(stderr, "\n  metg.py, quiet: %s%s", r.out, r.err);

    /* the fork series disturbed: its goals cannot fail, the others stand */
    CU_ASSERT_EQUAL_FATAL(write_goal_rows(m.rows, 0.01, 0.9), 0);
    CU_ASSERT_EQUAL_FATAL(run_cmd(m.argv, 60, &r), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NULL(strstr(r.out, ": fail"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "OpenMP's: inconclusive: fork/omp METG(50%) 1.99× "
                                         "[1.99, 1.99] 95% CI, not < 1.1, but machine busy"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "thread's METG(50%) at most 1.1× OpenMP's: pass"));
    if (!strstr(r.out, "OpenMP's: inconclusive: fork/omp"))
        fprintf(stderr, "\n  metg.py, busy fork: %s%s", r.out, r.err);
    metg_close(&m);
}

CU_TestInfo tests_spin[] = {
    { "the checksum equals a plain loop's and the closed form catches an error", test_closed_form },
    { "--grain calibrates more steps for longer tasks; none: a fixed count", test_calibration },
    { "a calibrated run verifies under every runner; a dropped task is caught", test_every_runner },
    { "--grain 0, beyond 10 s, or for another workload: one line, exit 64", test_grain_refused },
    { "python: the peer's spin gives parlab's checksum and checks its own", test_python_peer },
    { "metg.py: METG(50%) and (90%) of a known curve, never, at most", test_metg_known_curve },
    { "metg.py: the goals, with intervals; a disturbed series never fails one", test_metg_goals },
    CU_TEST_INFO_NULL,
};
