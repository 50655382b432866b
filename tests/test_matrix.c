/* test_matrix.c: every runner x every workload x every schedule it honours gives the seq
 * answer (fork's pool under each start method), across shapes: W < T, W > T, W > cores, T = 1, and n-body steps. Also --trace
 * and --cores as a worker sees them. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"
#include "../harness/harness.h"
#include "../lib/pool.h"

struct shape { unsigned workers; size_t tasks; size_t chunk; };
static const struct shape shapes[] = {
    { 2, 13, 0 },   /* W < T, uneven split */
    { 5, 3, 0 },    /* W > T and W > cores: oversubscribed, idle workers */
    { 3, 1, 0 },    /* T = 1 */
    { 2, 17, 4 },   /* explicit chunk */
};

/* 1 if the matrix takes workload `name`: every one of the registry, or those named in
 * PARLAB_TEST_WORKLOADS ("w ...", for a narrow run such as tests/newcomer.sh's). */
static int wanted(const char *name)
{
    const char *only = getenv("PARLAB_TEST_WORKLOADS");
    size_t n = strlen(name);
    if (!only || !*only)
        return 1;
    for (const char *p = only; (p = strstr(p, name)); p += n)
        if ((p == only || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

static void test_matrix(void)
{
    int cases = 0, workloads = 0, named = 0;
    const char *only = getenv("PARLAB_TEST_WORKLOADS");
    if (only && *only)   /* each name a workload of the registry */
        for (const char *p = only; *p; p += strcspn(p, " "), p += strspn(p, " "))
            named += p[0] != ' ';
    for (const struct workload *const *w = wl_registry; *w; w++) {
        if (!wanted((*w)->name))
            continue;
        workloads++;
        for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
            const struct shape *sh = &shapes[si];
            struct job_spec s = { .workload = (*w)->name, .runner = "seq",
                                  .size = (*w)->sizes.test, .tasks = sh->tasks,
                                  .steps = (*w)->stepped ? 3 : 1, .seed = 7,
                                  .workers = 1, .io_ms = 2 };
            if ((*w)->split == WL_SPLIT_ITEMS)   /* one task per item: the shape decides */
                s.size = s.tasks;
            char want[200], got[200];
            int v;
            CU_ASSERT_EQUAL_FATAL(job_run(&s, 60, want, sizeof want, &v), 0);
            CU_ASSERT(v != 0);
            for (const struct runner *const *r = runner_registry; *r; r++) {
                if ((*r)->flags & RUNNER_EXTERNAL)   /* mpi: its own suite, test_mpi.c */
                    continue;
                /* A runner with start methods (fork's pool) runs under each of them. */
                int starts = (*r)->flags & RUNNER_START_METHODS ? POOL_START__COUNT : 1;
                for (int sc = 0; sc < SCHED__COUNT * starts; sc++) {
                    if (!((*r)->schedules & SCHED_BIT(sc % SCHED__COUNT)))
                        continue;
                    struct job_spec t = s;
                    t.runner = (*r)->name;
                    t.workers = sh->workers;
                    t.schedule = (enum sched_kind)(sc % SCHED__COUNT);
                    t.start = (unsigned)(sc / SCHED__COUNT);
                    t.chunk = sh->chunk;
                    t.loops = (*r)->flags & RUNNER_HAS_LOOPS ? (unsigned)(1 + si % 3) : 1;
                    int rc = job_run(&t, 60, got, sizeof got, &v);
                    if (rc || strcmp(got, want) != 0)
                        fprintf(stderr, "\n  %s %s --start %s -s %s -j %u -t %zu -c %zu: got '%s', seq '%s'",
                                t.workload, t.runner, pool_start_name((enum pool_start)t.start),
                                sched_name(t.schedule), t.workers, t.tasks, t.chunk, got, want);
                    CU_ASSERT_EQUAL(rc, 0);
                    CU_ASSERT_STRING_EQUAL(got, want);
                    CU_ASSERT(v != 0);
                    cases++;
                }
            }
        }
    }
    if (named) {
        if (workloads != named)
            fprintf(stderr, "\n  PARLAB_TEST_WORKLOADS='%s': %d of its %d names are workloads of the registry",
                    only, workloads, named);
        CU_ASSERT_EQUAL(workloads, named);
        CU_ASSERT(cases >= 10 * workloads);
        printf("\n  matrix: %d cases of %s\n", cases, only);
    } else {
        CU_ASSERT(cases > 100);
    }
}

static void test_trace_rows(void)
{
    char path[] = "/tmp/parlab-trace-XXXXXX";
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    close(fd);
    /* every runner of the registry built here; mpi's traces are tested in its own suite */
    for (const struct runner *const *rn = runner_registry; *rn; rn++) {
        char why[300];
        if (!runner_usable(*rn, why, sizeof why) || (*rn)->flags & RUNNER_EXTERNAL)
            continue;
        struct cmd_result r;
        run_parlab(&r, 60, "run", "-w", "nbody", "-r", (*rn)->name, "-n", "50", "-t", "6",
                   "--steps", "3", "-j", "2", "--trace", path, "--repeat", "1", "--warmup", "0",
                   "--format", "csv", (char *)NULL);
        CU_ASSERT_EQUAL(r.status, 0);
        FILE *f = fopen(path, "r");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        char line[256];
        int rows = 0, bad = 0;
        CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
        CU_ASSERT_STRING_EQUAL(line, "task,worker,step,start_ns,end_ns\n");
        unsigned task, worker, step;
        unsigned long long t0, t1;
        while (fgets(line, sizeof line, f)) {
            rows++;
            if (sscanf(line, "%u,%u,%u,%llu,%llu", &task, &worker, &step, &t0, &t1) != 5 ||
                task >= 6 || worker >= 2 || step >= 3 || t1 < t0)
                bad++;
        }
        fclose(f);
        CU_ASSERT_EQUAL(rows, 6 * 3);
        CU_ASSERT_EQUAL(bad, 0);
    }
    unlink(path);
}

/* The number of entries in dir other than . and .. */
static int dir_entries(const char *dir)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "exit $(ls -A '%s' | wc -l)", dir);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A run that fails or gives a wrong answer leaves an existing --trace file as it was (it
 * is replaced only by the complete trace of a verified run, and nothing else is left
 * beside it); a symlink, a FIFO or a directory
 * is refused at once with exit 64. */
static void test_trace_kept_on_failure(void)
{
    char dir[] = "/tmp/parlab-trace-XXXXXX", path[64], other[64], buf[4096];
    static const char old[] = "task,worker,step,start_ns,end_ns\n0,0,0,1,2\n";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/t.csv", dir);
    snprintf(other, sizeof other, "%s/other", dir);
    static const char *const failing[][8] = {
        { "-r", "thread", "--cores", "999", NULL },                   /* usage, after the option */
        { "-r", "fork", "--inject", "error@1", NULL },                /* a task reports an error */
        { "-r", "fork", "--inject", "segv@2", NULL },                 /* a worker crashes */
        { "-r", "thread", "--inject", "hang@0", "--task-timeout", "0.2", NULL },
        { "-r", "fork", "--inject", "drop@1", NULL },                 /* a wrong answer */
    };
    for (size_t i = 0; i < sizeof failing / sizeof failing[0]; i++) {
        FILE *f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(old, f);
        fclose(f);
        char *argv[24] = { (char *)parlab_bin(), "run", "-w", "sumsq", "-n", "100000", "-t",
                           "8", "-j", "2", "--trace", path };
        int n = 12;
        for (int k = 0; failing[i][k]; k++)
            argv[n++] = (char *)failing[i][k];
        argv[n] = NULL;
        struct cmd_result r;
        CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 20, &r), 0);
        int kept = read_small(path, buf, sizeof buf) == 0 && strcmp(buf, old) == 0;
        if (!r.exited || r.status == 0 || !kept || dir_entries(dir) != 1)
            fprintf(stderr, "\n  --trace with %s %s %s: status %d, trace %s, %d entries: %s",
                    failing[i][1], failing[i][2], failing[i][3], r.status,
                    kept ? "kept" : "CHANGED", dir_entries(dir), r.err);
        CU_ASSERT(r.exited && r.status != 0);
        CU_ASSERT(kept);
        CU_ASSERT_EQUAL(dir_entries(dir), 1);
    }
    /* Not a regular file or a new path: refused, and nothing is created or blocked on. */
    CU_ASSERT_EQUAL(symlink(other, path) == 0 || (unlink(path) == 0 && symlink(other, path) == 0), 1);
    struct cmd_result r;
    run_parlab(&r, 10, "run", "-w", "noop", "-r", "seq", "-n", "10", "--trace", path, (char *)NULL);
    CU_ASSERT(r.exited && r.status == 64 && count_lines(r.err) == 1);
    CU_ASSERT_EQUAL(access(other, F_OK), -1);      /* the dangling link's target not made */
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
    run_parlab(&r, 10, "run", "-w", "noop", "-r", "seq", "-n", "10", "--trace", path, (char *)NULL);
    if (!r.exited || r.status != 64)
        fprintf(stderr, "\n  --trace FIFO: %s %d: %s", r.exited ? "exit" : "signal", r.status, r.err);
    CU_ASSERT(r.exited && r.status == 64 && count_lines(r.err) == 1);
    unlink(path);
    run_parlab(&r, 10, "run", "-w", "noop", "-r", "seq", "-n", "10", "--trace", dir, (char *)NULL);
    CU_ASSERT(r.exited && r.status == 64 && count_lines(r.err) == 1);
    /* A run that succeeds replaces it whole. */
    run_parlab(&r, 20, "run", "-w", "noop", "-r", "fork", "-n", "10", "-j", "2", "--trace", path,
               (char *)NULL);
    CU_ASSERT(r.exited && r.status == 0);
    CU_ASSERT(read_small(path, buf, sizeof buf) == 0 && count_lines(buf) == 11);
    CU_ASSERT_EQUAL(dir_entries(dir), 1);
    unlink(path);
    rmdir(dir);
}

/* A workload whose answer is the number of CPUs each task may run on. */
static void affinity_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    cpu_set_t set;
    (void)job, (void)step, (void)task;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    *out = (struct partial){ .count = (uint64_t)CPU_COUNT(&set) };
}

static void max_combine(struct partial *acc, const struct partial *p)
{
    if (p->count > acc->count)
        acc->count = p->count;
}

static const struct workload wl_affinity = {
    .name = "affinity", .kind = WL_CPU, .run_task = affinity_task, .combine = max_combine,
};

/* --cores 1 as the harness applies it (cpus_restrict), seen from inside each runner's
 * workers: every worker process or thread may use exactly one CPU. */
static void test_cores_one_in_workers(void)
{
    for (const struct runner *const *r = runner_registry; *r; r++) {
        if ((*r)->flags & RUNNER_EXTERNAL)   /* mpi: --cores reaches ranks, test_mpi.c */
            continue;
        pid_t pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            alarm(30);
            if (cpus_restrict(1))
                _exit(10);
            struct job job = { .wl = &wl_affinity, .size = 8, .tasks = 8, .steps = 1 };
            struct plan plan = { .workers = 4, .cores = 1, .schedule = (*r)->default_schedule,
                                 .loops = 2 };
            struct outcome oc;
            struct partial *slots = job_shared_alloc(8 * sizeof *slots), total = { 0 };
            if ((*r)->run(&job, &plan, slots, &oc))
                _exit(11);
            for (int t = 0; t < 8; t++)
                max_combine(&total, &slots[t]);
            _exit(total.count == 1 ? 0 : 12);
        }
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st))
            fprintf(stderr, "\n  --cores 1 under %s: status %d", (*r)->name, st);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
}

CU_TestInfo tests_matrix[] = {
    { "every runner x workload x schedule equals seq", test_matrix },
    { "--trace writes one row per task and step", test_trace_rows },
    { "--trace is replaced whole or left as it was", test_trace_kept_on_failure },
    { "--cores 1 seen by every worker", test_cores_one_in_workers },
    CU_TEST_INFO_NULL,
};
