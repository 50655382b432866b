/* test_mpi.c: the mpi runner: every workload and schedule at 1, 2 and 4 ranks gives the seq
 * answer (one mpirun per rank count, running a batch); `parlab run -r mpi` with state and
 * trace; a crashed, killed or stuck rank, Ctrl-C and bad input end the run with the right
 * status and one line; and nothing is left: no process of the run, nothing in the run's
 * TMPDIR, no Open MPI file in /dev/shm; a command's warm-up and repeats run in one mpirun,
 * its start reported once, each repeat verified on its own. Skipped, saying so, where Open
 * MPI is missing. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "util.h"
#include "../mpi/launcher.h"

static char tmpdir[] = "/tmp/parlab-test-mpi-XXXXXX";
static char mpi_exe[PATH_MAX], mpirun[PATH_MAX];
static char *old_tmpdir;   /* TMPDIR before this suite, restored after it */

/* 1 if Open MPI and parlab-mpi are here; else says why, once, and returns 0. */
static int have_mpi(void)
{
    static int known = -1;
    char why[PATH_MAX + 200], exe[PATH_MAX];
    struct outcome out = { 0 };
    if (known >= 0)
        return known;
    unsetenv(MPI_ENV_WORLD);   /* the launcher's runs, whatever world the caller has */
    const char *bin = parlab_bin();
    const char *slash = strrchr(bin, '/');
    snprintf(mpi_exe, sizeof mpi_exe, "%.*sparlab-mpi", slash ? (int)(slash - bin + 1) : 0, bin);
    known = access(mpi_exe, X_OK) == 0 &&
            mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, &out) == 0;
    snprintf(why, sizeof why, "%s", out.msg);
    if (access(mpi_exe, X_OK) != 0)
        snprintf(why, sizeof why, "%s is not built (Open MPI's mpicc missing, or a sanitizer "
                 "build)", mpi_exe);
    if (!known)
        fprintf(stderr, "\n  mpi tests SKIPPED: %s\n", why);
    else if (!mkdtemp(tmpdir))
        known = 0;
    else {
        const char *t = getenv("TMPDIR");
        if (t)
            old_tmpdir = strdup(t);
        setenv("TMPDIR", tmpdir, 1);   /* the runs' folders go here: checked empty after */
    }
    return known;
}

/* Nothing of a run left: its TMPDIR is empty and /dev/shm holds no Open MPI segment. */
static int nothing_left(void)
{
    int n = tmpdir_leftovers(tmpdir);
    /* Every run here sends Open MPI's segments into its own folder; one in /dev/shm would
     * mean a setting did not take. Only mpi runs create these names. */
    DIR *d = opendir("/dev/shm");
    for (struct dirent *e; d && (e = readdir(d));)
        if (strstr(e->d_name, "vader") || strstr(e->d_name, "ompi")) {
            fprintf(stderr, "\n  Open MPI file in /dev/shm: %s", e->d_name);
            n++;
        }
    if (d)
        closedir(d);
    return n == 0;
}

/* mpirun -np N parlab-mpi batch FILE over every workload: seq first, then mpi under each
 * schedule (and chunk 3); every mpi row must give seq's token and be verified. */
static void matrix_at(int ranks)
{
    char path[PATH_MAX], np[16];
    snprintf(path, sizeof path, "%s/batch.txt", tmpdir);
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    int rows = 0;
    for (const struct workload *const *w = wl_registry; *w; w++) {
        char base[200];
        snprintf(base, sizeof base, "-w %s -n %llu -t 13 --seed 7 --io-ms 2 --repeat 1 --warmup 0 --format csv%s",
                 (*w)->name, (unsigned long long)(*w)->sizes.test,
                 (*w)->stepped ? " --steps 3" : "");
        if ((*w)->split == WL_SPLIT_ITEMS)   /* one task per item: -n is the task count */
            snprintf(base, sizeof base, "-w %s -n 13 --io-ms 2 --repeat 1 --warmup 0 --format csv", (*w)->name);
        fprintf(f, "%s -r seq\n", base);
        for (int s = 0; s < SCHED__COUNT; s++)
            fprintf(f, "%s -s %s\n%s -s %s -c 3\n", base, sched_name((enum sched_kind)s), base,
                    sched_name((enum sched_kind)s));
        rows += 1 + 2 * SCHED__COUNT;
    }
    fclose(f);
    snprintf(np, sizeof np, "%d", ranks);
    mpi_settings_apply(tmpdir);
    struct cmd_result *r = calloc(1, sizeof *r);
    char *argv[] = { mpirun, "-np", np, "--oversubscribe", mpi_exe, "batch", path, NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 120, r), 0);
    unlink(path);
    if (r->status != 0)
        fprintf(stderr, "\n  batch at %d ranks: status %d: %.600s", ranks, r->status, r->err);
    CU_ASSERT_EQUAL(r->status, 0);
    /* Rows: workload,size,runner,...,result(16),verified(17). */
    char want[200] = "", cur[160] = "";
    int got = 0, bad = 0;
    for (char *line = strtok(r->out, "\n"); line; line = strtok(NULL, "\n")) {
        char fld[20][160];
        int n = 0;
        if (!strncmp(line, "workload,", 9))
            continue;
        for (char *p = line; n < 20; n++) {
            size_t len = strcspn(p, ",");
            snprintf(fld[n], sizeof fld[n], "%.*s", (int)len, p);
            if (!p[len]) {
                n++;
                break;
            }
            p += len + 1;
        }
        if (n < 17)
            continue;
        got++;
        if (!strcmp(fld[2], "seq")) {
            snprintf(want, sizeof want, "%s", fld[15]);
            snprintf(cur, sizeof cur, "%s", fld[0]);
            continue;
        }
        if (strcmp(fld[0], cur) || strcmp(fld[15], want) || strcmp(fld[16], "yes") ||
            strtol(fld[3], NULL, 10) != ranks) {
            fprintf(stderr, "\n  %d ranks: %s %s -s %s -c %s: got %s (%s, workers %s), seq %s",
                    ranks, fld[0], fld[2], fld[6], fld[7], fld[15], fld[16], fld[3], want);
            bad++;
        }
    }
    CU_ASSERT_EQUAL(got, rows);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(nothing_left());
    free(r);
}

static void test_matrix_ranks(void)
{
    if (!have_mpi())
        return;
    matrix_at(1);
    matrix_at(2);
    matrix_at(4);
}

/* parlab run -r mpi: n-body's state comes back (its hash is seq's), the trace has a row
 * per task and step with ranks as workers, and the list shows the runner. */
static void test_launcher(void)
{
    if (!have_mpi())
        return;
    struct cmd_result *r = calloc(1, sizeof *r), *s = calloc(1, sizeof *s);
    char trace[PATH_MAX], a[64], b[64];
    run_parlab(s, 60, "run", "--repeat", "1", "--warmup", "0", "-w", "nbody", "-r", "seq", "-n", "50", "-t", "7", "--steps", "3",
               "--format", "csv", (char *)NULL);
    CU_ASSERT_EQUAL(s->status, 0);
    snprintf(trace, sizeof trace, "%s.trace.csv", tmpdir);
    run_parlab(r, 60, "run", "--repeat", "1", "--warmup", "0", "-w", "nbody", "-r", "mpi", "-j", "3", "-n", "50", "-t", "7",
               "--steps", "3", "-s", "dynamic", "--trace", trace, "--format", "csv", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 1, 16, a, sizeof a), csv_field(s->out, 1, 16, b, sizeof b));
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 1, 4, a, sizeof a), "3");
    FILE *f = fopen(trace, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char line[200];
    int rows = 0, badrow = 0;
    unsigned task, worker, step;
    unsigned long long t0, t1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%u,%u,%u,%llu,%llu", &task, &worker, &step, &t0, &t1) == 5) {
            rows++;
            badrow += task >= 7 || worker >= 3 || step >= 3 || t1 < t0;
        }
    fclose(f);
    unlink(trace);
    CU_ASSERT_EQUAL(rows, 7 * 3);
    CU_ASSERT_EQUAL(badrow, 0);
    run_parlab(r, 30, "list", (char *)NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "\n  mpi "));
    CU_ASSERT(nothing_left());
    free(r);
    free(s);
}

/* A rank that dies after its part was delivered (Open MPI 4.1's MPI_Finalize fault, planted
 * here at ranks 0 and 1) leaves a verified run with one note naming it; one that dies
 * during a task still fails with exit 70; nothing is left either way. */
static void test_finalize_crash(void)
{
    if (!have_mpi())
        return;
    struct cmd_result *r = calloc(1, sizeof *r);
    for (int rank = 0; rank < 2; rank++) {
        char v[8];
        snprintf(v, sizeof v, "%d", rank);
        setenv("PARLAB_MPI_TEST_FINALIZE_CRASH", v, 1);
        run_parlab(r, 60, "run", "-w", "primes", "-r", "mpi", "-j", "2", "-n", "30000",
                   "--repeat", "1", "--warmup", "0", "--format", "csv", (char *)NULL);
        CU_ASSERT_EQUAL(r->status, 0);
        CU_ASSERT_EQUAL(count_lines(r->err), 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "inside MPI_Finalize"));
        CU_ASSERT_PTR_NOT_NULL(strstr(r->out, ",yes,"));
        CU_ASSERT(nothing_left());
        run_parlab(r, 60, "run", "-w", "primes", "-r", "mpi", "-j", "2", "-n", "30000",
                   "--repeat", "1", "--warmup", "0", "--inject", "segv@3", (char *)NULL);
        CU_ASSERT_EQUAL(r->status, 70);
        CU_ASSERT_PTR_NULL(strstr(r->err, "inside MPI_Finalize"));
        CU_ASSERT(nothing_left());
    }
    unsetenv("PARLAB_MPI_TEST_FINALIZE_CRASH");
    free(r);
}

/* Started by hand: mpirun -np 3 parlab-mpi run, output as parlab run's, with 3 workers. */
static void test_direct(void)
{
    if (!have_mpi())
        return;
    struct cmd_result *r = calloc(1, sizeof *r);
    char buf[64];
    mpi_settings_apply(tmpdir);
    char *argv[] = { mpirun, "-np", "3", "--oversubscribe", mpi_exe, "run", "--warmup", "0", "-w", "sumsq",
                     "-n", "300000", "--repeat", "2", "--format", "csv", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 60, r), 0);
    CU_ASSERT_EQUAL(r->status, 0);
    CU_ASSERT_EQUAL(count_lines(r->out), 3);
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 1, 3, buf, sizeof buf), "mpi");
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 1, 4, buf, sizeof buf), "3");
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 1, 17, buf, sizeof buf), "yes");
    /* -j must agree with the ranks mpirun started. */
    char *bad[] = { mpirun, "-np", "2", mpi_exe, "run", "-w", "sumsq", "-j", "5", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(bad, 60, r), 0);
    CU_ASSERT_EQUAL(r->status, 64);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "-j 5: mpirun started 2 ranks"));
    CU_ASSERT(nothing_left());
    free(r);
}

/* A planted fault: exit 70 and one line naming the task and the rank. */
static void fault_case(const char *inject, const char *want, const char *timeout)
{
    struct cmd_result *r = calloc(1, sizeof *r);
    if (timeout)
        run_parlab(r, 60, "run", "--repeat", "1", "--warmup", "0", "-w", "primes", "-r", "mpi", "-j", "2", "-n", "50000",
                   "--inject", inject, "--task-timeout", timeout, "--format", "csv", (char *)NULL);
    else
        run_parlab(r, 60, "run", "--repeat", "1", "--warmup", "0", "-w", "primes", "-r", "mpi", "-j", "2", "-n", "50000",
                   "--inject", inject, "--format", "csv", (char *)NULL);
    if (r->status != 70 || !strstr(r->err, want) || count_lines(r->err) != 1)
        fprintf(stderr, "\n  --inject %s: status %d: %s", inject, r->status, r->err);
    CU_ASSERT_EQUAL(r->status, 70);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->err, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "rank "));
    CU_ASSERT_EQUAL(count_lines(r->err), 1);
    CU_ASSERT(r->secs < 20);
    CU_ASSERT(nothing_left());
    free(r);
}

static void test_faults(void)
{
    if (!have_mpi())
        return;
    fault_case("segv@3", "task 3 (rank", NULL);
    fault_case("kill@5", "task 5 (rank", NULL);
    fault_case("hang@2", "task 2 (rank", "1");
}

/* Ctrl-C: SIGINT to parlab and the ranks' group, as a terminal sends it: exit 130, and no
 * process of the group is left (mpirun and its ranks stay in parlab's group). */
static void test_interrupt(void)
{
    if (!have_mpi())
        return;
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);
        alarm(60);
        int null = open("/dev/null", 1);
        dup2(null, 1);
        dup2(null, 2);
        execl(parlab_bin(), "parlab", "run", "--repeat", "1", "--warmup", "0", "-w", "primes", "-r", "mpi", "-j", "2", "-n",
              "50000", "--inject", "hang@1", (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    struct timespec ts = { 2, 0 };
    nanosleep(&ts, NULL);
    kill(-pid, SIGINT);
    int st;
    waitpid(pid, &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 130);
    int gone = 0;
    for (int i = 0; i < 200 && !gone; i++) {
        gone = kill(-pid, 0) < 0 && errno == ESRCH;
        struct timespec t = { 0, 25 * 1000 * 1000 };
        if (!gone)
            nanosleep(&t, NULL);
    }
    if (!gone)
        kill(-pid, SIGKILL);
    CU_ASSERT(gone);
    CU_ASSERT(nothing_left());
}

/* A rank that exits, dies or is stopped with the run (a signal at a random moment): once
 * parlab has exited, no process of its session is left, not even a zombie. mpirun exits
 * after a failed rank without reaping the ranks it stopped; they must come back to parlab
 * and be reaped there, not wait for PID 1. Each run in a session of its own. */
static void orphan_case(const char *inject, int sig, long delay_ms)
{
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        setsid();
        alarm(60);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        if (inject)
            execl(parlab_bin(), "parlab", "run", "--repeat", "1", "--warmup", "0", "-w",
                  "primes", "-r", "mpi", "-j", "4", "-n", "975", "-t", "13", "-s", "guided",
                  "--inject", inject, (char *)NULL);
        else
            execl(parlab_bin(), "parlab", "run", "--repeat", "1", "--warmup", "0", "-w",
                  "sleep", "-r", "mpi", "-j", "4", "-n", "400", "--io-ms", "5", (char *)NULL);
        _exit(127);
    }
    if (sig) {
        struct timespec ts = { delay_ms / 1000, delay_ms % 1000 * 1000000L };
        nanosleep(&ts, NULL);
        kill(pid, sig);
    }
    int st;
    waitpid(pid, &st, 0);
    /* A signal may come after a quick run's end: then it was verified (0). One that lands
     * before parlab has installed its handlers ends it by that signal, which a correct
     * program may do too: what this case asserts is that nothing is left behind. */
    int want = sig ? 128 + sig : 70;
    CU_ASSERT((WIFEXITED(st) && (WEXITSTATUS(st) == want || (sig && WEXITSTATUS(st) == 0))) ||
              (sig && WIFSIGNALED(st) && WTERMSIG(st) == sig));
    CU_ASSERT_EQUAL(procs_in(PROCS_SESSION, pid, 1, 1), 0);   /* zombies too */
    CU_ASSERT(nothing_left());
}

static void test_orphans(void)
{
    if (!have_mpi())
        return;
    for (int i = 0; i < 3; i++) {
        orphan_case("exit@7", 0, 0);
        orphan_case("kill@3", 0, 0);
        orphan_case("segv@11", 0, 0);
    }
    static const long delays[] = { 5, 60, 250, 700 };
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        orphan_case(NULL, SIGHUP, delays[i]);
        orphan_case(NULL, SIGTERM, delays[i]);
    }
}

/* Bad MPI input: too many ranks for the machine (64, before mpirun starts) and no mpirun
 * (71): one line each. */
static void test_bad_input(void)
{
    if (!have_mpi())
        return;
    struct cmd_result *r = calloc(1, sizeof *r);
    run_parlab(r, 30, "run", "-w", "noop", "-r", "mpi", "-j", "4000", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 64);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "ranks per CPU"));
    CU_ASSERT_EQUAL(count_lines(r->err), 1);
    char *path = strdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", "/nonexistent", 1);
    run_parlab(r, 30, "run", "-w", "noop", "-r", "mpi", "-j", "2", (char *)NULL);
    setenv("PATH", path, 1);
    free(path);
    CU_ASSERT_EQUAL(r->status, 71);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "mpirun is not in PATH"));
    CU_ASSERT_EQUAL(count_lines(r->err), 1);
    /* A TMPDIR with a newline: one line before anything is printed or made, exit 64. */
    char *tmp = strdup(getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp"), bad[PATH_MAX];
    snprintf(bad, sizeof bad, "%s/a\nb", tmp);
    CU_ASSERT_EQUAL(mkdir(bad, 0700), 0);
    setenv("TMPDIR", bad, 1);
    run_parlab(r, 30, "run", "-w", "noop", "-r", "mpi", "-j", "2", (char *)NULL);
    setenv("TMPDIR", tmp, 1);
    CU_ASSERT_EQUAL(r->status, 64);
    CU_ASSERT_EQUAL(r->out[0], '\0');
    CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "TMPDIR has a control character"));
    CU_ASSERT_EQUAL(count_lines(r->err), 1);
    CU_ASSERT_EQUAL(rmdir(bad), 0);   /* nothing made in it */
    free(tmp);
    CU_ASSERT(nothing_left());
    free(r);
}

/* ---- worlds: parlab world start|stop|status, and runs on a world's ranks ---------------- */

/* The keeper's pid its world's marker names, or 0. */
static pid_t world_keeper_of(const char *dir)
{
    char path[PATH_MAX + 16], buf[512];
    int keeper = 0;
    snprintf(path, sizeof path, "%s/world", dir);
    const char *k = read_small(path, buf, sizeof buf) == 0 ? strstr(buf, "\nkeeper ") : NULL;
    if (!k || sscanf(k, "\nkeeper %d", &keeper) != 1)
        keeper = 0;
    return keeper;
}

/* Start a world of `ranks` ranks: its folder in dir and its keeper's pid, or 0. */
static pid_t world_start(int ranks, const char *idle, char *dir, size_t n)
{
    struct cmd_result *r = calloc(1, sizeof *r);
    char j[16];
    pid_t keeper = 0;
    snprintf(j, sizeof j, "%d", ranks);
    run_parlab(r, 60, "world", "start", "-j", j, "--idle", idle, (char *)NULL);
    const char *q = strstr(r->out, "PARLAB_MPI_WORLD='");
    if (r->status != 0 || !q) {
        fprintf(stderr, "\n  world start: status %d: %s%s", r->status, r->out, r->err);
    } else {
        q += strlen("PARLAB_MPI_WORLD='");
        snprintf(dir, n, "%.*s", (int)strcspn(q, "'"), q);
        keeper = world_keeper_of(dir);
    }
    CU_ASSERT_EQUAL(r->status, 0);
    CU_ASSERT(keeper > 0);
    CU_ASSERT_EQUAL(count_lines(r->out), 1);
    free(r);
    return keeper;
}

/* The world's keeper and everything of its session are gone (reaped here: this suite is a
 * subreaper while worlds run, as PID 1 would be), and so is its folder. */
static int world_gone(pid_t keeper, const char *dir)
{
    int gone = 0;
    for (int i = 0; i < 3000 && !gone; i++) {   /* 30 s: mpirun under load is slow to notice */
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        gone = procs_in(PROCS_SESSION, keeper, 1, 0) == 0 && access(dir, F_OK) != 0;
        if (!gone) {
            struct timespec t = { 0, 10 * 1000 * 1000 };
            nanosleep(&t, NULL);
        }
    }
    if (!gone)
        fprintf(stderr, "\n  world %s (keeper %d) still there", dir, (int)keeper);
    procs_in(PROCS_SESSION, keeper, 1, 1);
    return gone;
}

/* `parlab ARGS...` in the background with its output dropped (alarm-guarded): its pid. */
static pid_t spawn_quiet(const char *arg, ...)
{
    char *argv[32];
    int n = 0;
    va_list ap;
    argv[n++] = "parlab";
    argv[n++] = (char *)arg;
    va_start(ap, arg);
    for (char *a; n < 31 && (a = va_arg(ap, char *));)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        alarm(60);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execv(parlab_bin(), argv);
        _exit(127);
    }
    return pid;
}

/* A run on the world gives seq's answer, verified, with the world's 2 ranks as workers
 * (n-body: its state comes back from the ranks). */
static void world_run_matches(const char *w, const char *n, const char *steps)
{
    struct cmd_result *r = calloc(1, sizeof *r), *s = calloc(1, sizeof *s);
    char a[64], b[64];
    run_parlab(s, 60, "run", "--repeat", "1", "--warmup", "0", "-w", w, "-r", "seq", "-n", n,
               "-t", "7", "--steps", steps, "--format", "csv", (char *)NULL);
    run_parlab(r, 60, "run", "--repeat", "2", "--warmup", "0", "-w", w, "-r", "mpi", "-j", "2",
               "-n", n, "-t", "7", "--steps", steps, "--format", "csv", (char *)NULL);
    if (r->status != 0)
        fprintf(stderr, "\n  %s on the world: status %d: %s", w, r->status, r->err);
    CU_ASSERT_EQUAL(r->status, 0);
    CU_ASSERT_EQUAL(count_lines(r->out), 3);
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 1, 16, a, sizeof a), csv_field(s->out, 1, 16, b, sizeof b));
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 2, 17, a, sizeof a), "yes");
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 2, 4, a, sizeof a), "2");
    free(r);
    free(s);
}

/* A job that cannot finish ends the world: exit 70 (or 130) and one line; then nothing of
 * the world is left, and a run pointed at it says there is no world. */
static void world_fault(const char *inject, const char *timeout, const char *want)
{
    char dir[PATH_MAX];
    pid_t keeper = world_start(2, "60", dir, sizeof dir);
    if (!keeper)
        return;
    setenv(MPI_ENV_WORLD, dir, 1);
    struct cmd_result *r = calloc(1, sizeof *r);
    run_parlab(r, 60, "run", "--repeat", "1", "--warmup", "0", "-w", "primes", "-r", "mpi", "-j",
               "2", "-n", "50000", "--inject", inject, "--task-timeout", timeout, (char *)NULL);
    if (r->status != 70 || !strstr(r->err, want) || count_lines(r->err) != 1)
        fprintf(stderr, "\n  world, --inject %s: status %d: %s", inject, r->status, r->err);
    CU_ASSERT_EQUAL(r->status, 70);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->err, want));
    CU_ASSERT_EQUAL(count_lines(r->err), 1);
    CU_ASSERT(world_gone(keeper, dir));
    run_parlab(r, 30, "run", "-w", "noop", "-r", "mpi", "-j", "2", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 71);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "no mpi world there"));
    unsetenv(MPI_ENV_WORLD);
    free(r);
}

static void test_world(void)
{
    if (!have_mpi())
        return;
    int was = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &was);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    char dir[PATH_MAX];
    struct cmd_result *r = calloc(1, sizeof *r);
    pid_t keeper = world_start(2, "60", dir, sizeof dir);
    if (keeper) {
        setenv(MPI_ENV_WORLD, dir, 1);
        world_run_matches("sumsq", "300000", "1");
        world_run_matches("nbody", "50", "3");
        run_parlab(r, 30, "world", "status", (char *)NULL);
        CU_ASSERT_EQUAL(r->status, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "a world of 2 ranks"));
        /* the world's rank count and CPUs are the run's: else one line and 64 */
        run_parlab(r, 30, "run", "-w", "noop", "-r", "mpi", "-j", "3", (char *)NULL);
        CU_ASSERT_EQUAL(r->status, 64);
        CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "has 2 ranks"));
        CU_ASSERT_EQUAL(count_lines(r->err), 1);
        CU_ASSERT_STRING_EQUAL(r->out, "");   /* the one line comes before any header */
        /* three runs at once: rank 0 takes them in turn, each gets its own answer */
        pid_t kids[3];
        for (int i = 0; i < 3; i++) {
            if ((kids[i] = fork()) == 0) {
                alarm(60);
                char log[PATH_MAX + 32];
                snprintf(log, sizeof log, "%s.kid%d", tmpdir, i);
                int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                dup2(fd, 1);
                dup2(fd, 2);
                execl(parlab_bin(), "parlab", "run", "-w", "primes", "-n", "200000", "-r",
                      "mpi", "-j", "2", "--repeat", "2", (char *)NULL);
                _exit(127);
            }
        }
        for (int i = 0; i < 3; i++) {
            int st = -1;
            char log[PATH_MAX + 32];
            if (kids[i] > 0)
                waitpid(kids[i], &st, 0);
            snprintf(log, sizeof log, "%s.kid%d", tmpdir, i);
            if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
                char *t = slurp(log, NULL);
                fprintf(stderr, "\n  run %d of 3 at once: status %d: %s", i, st, t ? t : "");
                free(t);
            }
            unlink(log);
            CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        /* A run interrupted while it waits its turn leaves; the world goes on. */
        pid_t a = spawn_quiet("run", "-w", "sleep", "-n", "20", "--io-ms", "100", "-r", "mpi",
                              "-j", "2", "--repeat", "1", "--warmup", "0", (char *)NULL);
        struct timespec ts = { 0, 200 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        pid_t b = spawn_quiet("run", "-w", "primes", "-r", "mpi", "-j", "2", "--repeat", "1",
                              "--warmup", "0", (char *)NULL);
        ts.tv_nsec = 300 * 1000 * 1000;
        nanosleep(&ts, NULL);
        kill(b, SIGINT);
        int sa = -1, sb = -1;
        waitpid(b, &sb, 0);
        waitpid(a, &sa, 0);
        CU_ASSERT(WIFEXITED(sb) && WEXITSTATUS(sb) == 130);
        CU_ASSERT(WIFEXITED(sa) && WEXITSTATUS(sa) == 0);
        run_parlab(r, 60, "run", "-w", "primes", "-r", "mpi", "-j", "2", "--repeat", "1",
                   "--warmup", "0", (char *)NULL);
        CU_ASSERT_EQUAL(r->status, 0);
        run_parlab(r, 30, "world", "stop", (char *)NULL);
        CU_ASSERT_EQUAL(r->status, 0);
        CU_ASSERT(world_gone(keeper, dir));
        run_parlab(r, 30, "world", "status", (char *)NULL);
        CU_ASSERT_EQUAL(r->status, 71);
        unsetenv(MPI_ENV_WORLD);
    }
    world_fault("segv@3", "60", "task 3 (rank");
    world_fault("kill@5", "60", "task 5 (rank");
    world_fault("hang@2", "1", "ran past the 1 s task timeout");
    /* An idle world ends by itself. */
    if ((keeper = world_start(2, "1", dir, sizeof dir)))
        CU_ASSERT(world_gone(keeper, dir));
    /* Bad input: one line, 64 (or 71 where no world is). */
    run_parlab(r, 30, "world", "start", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 64);
    run_parlab(r, 30, "world", "spin", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 64);
    run_parlab(r, 30, "world", "stop", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 64);
    CU_ASSERT_EQUAL(count_lines(r->err), 1);
    run_parlab(r, 30, "world", "stop", "/nonexistent/world", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 71);
    CU_ASSERT_EQUAL(count_lines(r->err), 1);
    /* A TMPDIR too long for a socket's path: refused before anything starts. */
    char longdir[PATH_MAX];
    snprintf(longdir, sizeof longdir, "%s/%0100d", tmpdir, 0);
    CU_ASSERT_EQUAL(mkdir(longdir, 0700), 0);
    setenv("TMPDIR", longdir, 1);
    run_parlab(r, 30, "world", "start", "-j", "2", (char *)NULL);
    setenv("TMPDIR", tmpdir, 1);
    CU_ASSERT_EQUAL(r->status, 64);
    CU_ASSERT_EQUAL(count_lines(r->err), 1);
    CU_ASSERT_EQUAL(rmdir(longdir), 0);   /* nothing left in it */
    prctl(PR_SET_CHILD_SUBREAPER, was);
    CU_ASSERT(nothing_left());
    free(r);
}

/* ---- a world proves it is one: crafted folders are refused and left as they were ------- */

/* What path is, for comparing before and after: its type, mode, owner and size, a regular
 * file's bytes, a link's target, a folder's entries (sorted, recursively), appended to
 * *s. Reads only. */
static void snap_add(char **s, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void snap_add(char **s, size_t *len, const char *fmt, ...)
{
    va_list ap;
    char *part = NULL;
    va_start(ap, fmt);
    int k = vasprintf(&part, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    char *more = realloc(*s, *len + (size_t)k + 1);
    if (more) {
        memcpy(more + *len, part, (size_t)k + 1);
        *s = more;
        *len += (size_t)k;
    }
    free(part);
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void snap(const char *path, char **s, size_t *len, int depth)
{
    struct stat st;
    if (lstat(path, &st)) {
        snap_add(s, len, "%s: none\n", path);
        return;
    }
    snap_add(s, len, "%s: %o uid %u size %lld\n", path, (unsigned)st.st_mode, (unsigned)st.st_uid,
             S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
    if (S_ISLNK(st.st_mode)) {
        char to[PATH_MAX];
        ssize_t k = readlink(path, to, sizeof to - 1);
        snap_add(s, len, "-> %.*s\n", (int)(k > 0 ? k : 0), to);
    } else if (S_ISREG(st.st_mode) && st.st_size < 4096) {
        char buf[4096];
        if (read_small(path, buf, sizeof buf) == 0)
            snap_add(s, len, "%s\n", buf);
    } else if (S_ISDIR(st.st_mode) && depth < 4) {
        struct dirent **e = NULL;
        int n = scandir(path, &e, NULL, name_cmp);
        for (int i = 0; i < n; i++) {
            char sub[PATH_MAX];
            if (strcmp(e[i]->d_name, ".") && strcmp(e[i]->d_name, "..") &&
                snprintf(sub, sizeof sub, "%s/%s", path, e[i]->d_name) < (int)sizeof sub)
                snap(sub, s, len, depth + 1);
            free(e[i]);
        }
        free(e);
    }
}

static char *snapshot(const char *path)
{
    char *s = NULL;
    size_t len = 0;
    snap(path, &s, &len, 0);
    return s;
}

/* A process in a session of its own that only waits (what a crafted keeper points at). */
static pid_t bystander(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        alarm(300);
        for (;;)
            pause();
    }
    return pid;
}

/* pid is our child and still running (not a zombie, not reaped). */
static int alive(pid_t pid)
{
    char state = 0;
    return waitpid(pid, NULL, WNOHANG) == 0 &&
           mpi_proc_stat(pid, NULL, NULL, NULL, &state) == 0 && state != 'Z';
}

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    CU_ASSERT(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    if (fd >= 0)
        close(fd);
}

/* A world's marker as parlab writes it. */
static void marker(const char *dir, const char *token, int keeper, unsigned long long start,
                   int ranks)
{
    char text[512];
    snprintf(text, sizeof text, "parlab-world 1\ntoken %s\nkeeper %d %llu\nranks %d\ncores 2\n",
             token, keeper, start, ranks);
    write_file(dir, "world", text, 0600);
}

/* Copy a file of the real world src into the crafted folder dst. */
static void copy_file(const char *src, const char *dst, const char *name)
{
    char path[PATH_MAX], buf[512];
    snprintf(path, sizeof path, "%s/%s", src, name);
    CU_ASSERT_EQUAL_FATAL(read_small(path, buf, sizeof buf), 0);
    write_file(dst, name, buf, 0600);
}

static int refused_count, untouched_count;

/* `world status DIR`, `world stop DIR` (and with --stale unless stale_is_ok): each exits
 * non-zero with one line, and DIR is as it was. */
static void refused(const char *what, const char *dir, int try_stale)
{
    char *before = snapshot(dir);
    struct cmd_result *r = calloc(1, sizeof *r);
    int ok = 1;
    const char *ways[3][3] = { { "status", dir, NULL }, { "stop", dir, NULL },
                               { "stop", "--stale", dir } };
    for (int i = 0; i < (try_stale ? 3 : 2); i++) {
        run_parlab(r, 60, "world", ways[i][0], ways[i][1], ways[i][2], (char *)NULL);
        int one = r->exited && (r->status == 64 || r->status == 71) && count_lines(r->err) == 1 &&
                  !strncmp(r->err, "parlab: ", 8) && !*r->out;
        if (!one)
            fprintf(stderr, "\n  %s: world %s %s: status %d: %s%s", what, ways[i][0],
                    ways[i][1], r->status, r->out, r->err);
        ok &= one;
    }
    char *after = snapshot(dir);
    int same = before && after && !strcmp(before, after);
    if (!same)
        fprintf(stderr, "\n  %s: changed:\n%s\n  now:\n%s", what, before, after);
    CU_ASSERT(ok);
    CU_ASSERT(same);
    refused_count += ok;
    untouched_count += same;
    free(before);
    free(after);
    free(r);
}

static void rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st))
        return;
    if (S_ISDIR(st.st_mode)) {
        chmod(path, 0700);
        DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
            char sub[PATH_MAX];
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) < (int)sizeof sub)
                rm_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void test_world_crafted(void)
{
    if (!have_mpi())
        return;
    int was = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &was);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    char real[1024], dead[1024], root[1024], c[PATH_MAX], token[64] = "";
    pid_t keeper = world_start(2, "120", real, sizeof real);
    pid_t sleeper = bystander();
    unsigned long long kstart = 0, sstart = 0;
    snprintf(root, sizeof root, "%s/crafted.XXXXXX", tmpdir);
    CU_ASSERT_FATAL(keeper > 0 && sleeper > 0 && mkdtemp(root));
    CU_ASSERT_FATAL(mpi_proc_stat(keeper, &kstart, NULL, NULL, NULL) == 0);
    CU_ASSERT_FATAL(mpi_proc_stat(sleeper, &sstart, NULL, NULL, NULL) == 0);
    {
        char path[PATH_MAX], buf[512];
        snprintf(path, sizeof path, "%s/world", real);
        CU_ASSERT_FATAL(read_small(path, buf, sizeof buf) == 0);
        CU_ASSERT_FATAL(sscanf(buf, "parlab-world 1\ntoken %63s", token) == 1);
    }
    refused_count = untouched_count = 0;

    /* 1. not a world: the old keeper file, pointing at a live process */
    snprintf(c, sizeof c, "%s/notaworld", root);
    mkdir(c, 0700);
    char pidtext[32];
    snprintf(pidtext, sizeof pidtext, "%d\n", (int)sleeper);
    write_file(c, "keeper", pidtext, 0644);
    write_file(c, "precious.txt", "data\n", 0644);
    snprintf(c, sizeof c, "%s/notaworld/sub", root);
    mkdir(c, 0700);
    snprintf(c, sizeof c, "%s/notaworld", root);
    refused("not a world", c, 1);

    /* 2. a foreign owner: otherwise the real world's files */
    snprintf(c, sizeof c, "%s/foreign", root);
    mkdir(c, 0700);
    copy_file(real, c, "world");
    copy_file(real, c, "rank.0");
    copy_file(real, c, "rank.1");
    if (geteuid() == 0) {
        CU_ASSERT_EQUAL(chown(c, 65534, 65534), 0);
        refused("foreign owner", c, 1);
    } else {
        fprintf(stderr, "\n  foreign-owner case SKIPPED: not root, cannot chown");
        refused("foreign owner (not root: a world refused as stale or not live)", c, 0);
    }

    /* 3. a wrong token: the real world's keeper and ranks, another token */
    snprintf(c, sizeof c, "%s/token", root);
    mkdir(c, 0700);
    marker(c, "0123456789abcdef0123456789abcdef", keeper, kstart, 2);
    copy_file(real, c, "rank.0");
    copy_file(real, c, "rank.1");
    refused("wrong token", c, 1);
    /* the right token, but another folder: the ranks name theirs */
    snprintf(c, sizeof c, "%s/copy", root);
    mkdir(c, 0700);
    marker(c, token, keeper, kstart, 2);
    copy_file(real, c, "rank.0");
    copy_file(real, c, "rank.1");
    refused("the real token in another folder", c, 1);

    /* 4. a pid used again: a live process with another start time */
    snprintf(c, sizeof c, "%s/reused", root);
    mkdir(c, 0700);
    marker(c, token, sleeper, sstart + 1, 1);
    refused("reused pid", c, 0);
    /* and an impostor with the right start time, its own "rank" too: no token on its
     * command line */
    snprintf(c, sizeof c, "%s/impostor", root);
    mkdir(c, 0700);
    marker(c, token, sleeper, sstart, 1);
    char rank[64];
    snprintf(rank, sizeof rank, "%d %llu\n", (int)sleeper, sstart);
    write_file(c, "rank.0", rank, 0600);
    refused("live impostor", c, 1);

    /* 5. a symbolic link to the real world, and to a folder */
    snprintf(c, sizeof c, "%s/link", root);
    CU_ASSERT_EQUAL(symlink(real, c), 0);
    refused("symlink to a world", c, 1);
    strcat(c, "/");   /* "link/" names the target: still refused */
    refused("symlink to a world, with a slash", c, 1);
    snprintf(c, sizeof c, "%s/link2", root);
    char to[PATH_MAX];
    snprintf(to, sizeof to, "%s/notaworld", root);
    CU_ASSERT_EQUAL(symlink(to, c), 0);
    refused("symlink to a folder", c, 1);

    /* 6. a file instead of a folder */
    write_file(root, "afile", "parlab-world 1\n", 0600);
    snprintf(c, sizeof c, "%s/afile", root);
    refused("a file", c, 1);

    /* 7. a world whose keeper died: stale, refused without --stale */
    pid_t dk = world_start(2, "120", dead, sizeof dead);
    if (dk > 0) {
        write_file(dead, "precious.txt", "data\n", 0600);
        kill(dk, SIGKILL);
        CU_ASSERT(world_gone(dk, "/nonexistent"));   /* its processes; the folder stays */
        struct cmd_result *r = calloc(1, sizeof *r);
        run_parlab(r, 30, "world", "status", dead, (char *)NULL);
        CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "stale"));
        refused("stale world", dead, 0);
        /* with --stale: parlab's files go, by name; the file parlab did not make stays */
        run_parlab(r, 60, "world", "stop", "--stale", dead, (char *)NULL);
        CU_ASSERT_EQUAL(r->status, 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "did not make"));
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/precious.txt", dead);
        CU_ASSERT_EQUAL(access(path, F_OK), 0);
        snprintf(path, sizeof path, "%s/world", dead);
        CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
        snprintf(path, sizeof path, "%s/rank.0", dead);
        CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
        rm_tree(dead);
        free(r);
    }

    /* 8. an empty folder */
    snprintf(c, sizeof c, "%s/empty", root);
    mkdir(c, 0700);
    refused("empty folder", c, 1);

    /* 9. unreadable: mode 000 (root reads it anyway: the mode is what refuses it), and a
     * marker that is a FIFO (opening it must not hang) */
    snprintf(c, sizeof c, "%s/unreadable", root);
    mkdir(c, 0700);
    copy_file(real, c, "world");
    chmod(c, 0);
    refused("mode 000", c, 1);
    snprintf(c, sizeof c, "%s/fifo", root);
    mkdir(c, 0700);
    char fifo[PATH_MAX];
    snprintf(fifo, sizeof fifo, "%s/fifo/world", root);
    CU_ASSERT_EQUAL(mkfifo(fifo, 0600), 0);
    refused("marker a FIFO", c, 1);

    /* 10. the root of TMPDIR */
    refused("TMPDIR", tmpdir, 1);

    /* Nothing was signalled: the bystander and the real world still run. */
    CU_ASSERT(alive(sleeper));
    CU_ASSERT(alive(keeper) || procs_in(PROCS_SESSION, keeper, 0, 0) > 0);
    struct cmd_result *r = calloc(1, sizeof *r);
    run_parlab(r, 30, "world", "status", real, (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    fprintf(stderr, "\n  crafted folders: %d of %d refusals right, %d of %d untouched",
            refused_count, 15, untouched_count, 15);
    CU_ASSERT_EQUAL(refused_count, 15);
    CU_ASSERT_EQUAL(untouched_count, 15);
    /* The real world still stops, and leaves nothing. */
    run_parlab(r, 60, "world", "stop", real, (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    CU_ASSERT(world_gone(keeper, real));
    kill(sleeper, SIGKILL);
    waitpid(sleeper, NULL, 0);
    rm_tree(root);
    prctl(PR_SET_CHILD_SUBREAPER, was);
    CU_ASSERT(nothing_left());
    free(r);
}

/* A world whose rank 0 is killed is not reported as running. */
static void test_world_rank_killed(void)
{
    if (!have_mpi())
        return;
    int was = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &was);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    char dir[PATH_MAX], path[PATH_MAX + 16], buf[64];
    pid_t keeper = world_start(2, "120", dir, sizeof dir);
    int rank0 = 0;
    snprintf(path, sizeof path, "%s/rank.0", dir);
    if (keeper > 0 && read_small(path, buf, sizeof buf) == 0 && sscanf(buf, "%d", &rank0) == 1) {
        struct cmd_result *r = calloc(1, sizeof *r);
        run_parlab(r, 30, "world", "status", dir, (char *)NULL);
        CU_ASSERT_EQUAL(r->status, 0);
        kill(rank0, SIGKILL);
        char state = 0;
        for (int i = 0; i < 100 && mpi_proc_stat(rank0, NULL, NULL, NULL, &state) == 0 &&
                        state != 'Z'; i++) {
            struct timespec t = { 0, 10 * 1000 * 1000 };
            nanosleep(&t, NULL);
        }
        run_parlab(r, 30, "world", "status", dir, (char *)NULL);
        if (r->status == 0)
            fprintf(stderr, "\n  rank 0 killed, status says: %s", r->out);
        CU_ASSERT_NOT_EQUAL(r->status, 0);
        CU_ASSERT_EQUAL(count_lines(r->err), 1);
        CU_ASSERT(world_gone(keeper, dir));
        free(r);
    }
    prctl(PR_SET_CHILD_SUBREAPER, was);
    CU_ASSERT(nothing_left());
}

/* ---- every mpirun's folder goes, whatever ends the run -------------------------------- */

/* Entries in dir (but . and ..). */
static int entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

/* Start argv in a session of its own with TMPDIR=priv and at most nofile descriptors (0:
 * as we have). */
static pid_t start_in(const char *priv, rlim_t nofile, char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        setsid();
        alarm(60);
        setenv("TMPDIR", priv, 1);
        int null = open("/dev/null", O_RDWR);
        dup2(null, 1);
        dup2(null, 2);
        close(null);
        if (nofile) {
            struct rlimit rl = { nofile, nofile };
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        execv(parlab_bin(), argv);
        _exit(127);
    }
    return pid;
}

/* After pid (a session leader) ended with st: a clean status, no process of its session,
 * nothing in priv. */
static int left_clean(pid_t pid, int st, const char *priv, int sig, const char *what)
{
    int ok_status = (WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 64 ||
                                       WEXITSTATUS(st) == 70 || WEXITSTATUS(st) == 71 ||
                                       (sig && WEXITSTATUS(st) == 128 + sig))) ||
                    (sig && WIFSIGNALED(st) && WTERMSIG(st) == sig);
    int procs = 0;
    for (int i = 0; i < 200 && (procs = procs_in(PROCS_SESSION, pid, 1, 0)); i++) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        struct timespec t = { 0, 10 * 1000 * 1000 };
        nanosleep(&t, NULL);
    }
    procs_in(PROCS_SESSION, pid, 1, 1);
    int left = entries(priv);
    if (!ok_status || procs || left)
        fprintf(stderr, "\n  %s: status %#x, %d processes and %d entries left", what, st,
                procs, left);
    rm_tree(priv);
    mkdir(priv, 0700);
    return ok_status && !procs && !left;
}

static void test_stop_cleans(void)
{
    if (!have_mpi())
        return;
    int was = 0, clean = 0, cases = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &was);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    char priv[PATH_MAX];
    snprintf(priv, sizeof priv, "%s/priv.XXXXXX", tmpdir);
    CU_ASSERT_FATAL(mkdtemp(priv) != NULL);
    /* SIGTERM at 20 moments of overhead's mpi part: from the first mpirun's folder on. */
    char *overhead[] = { "parlab", "overhead", "--quick", "--repeat", "2", NULL };
    for (int i = 0; i < 20; i++) {
        pid_t pid = start_in(priv, 0, overhead);
        int st = 0, seen = 0;
        while (!seen && waitpid(pid, &st, WNOHANG) == 0) {
            seen = entries(priv) > 0;
            struct timespec t = { 0, 1000 * 1000 };
            nanosleep(&t, NULL);
        }
        CU_ASSERT(seen);
        if (seen) {
            long ms = i * 35;
            struct timespec t = { ms / 1000, ms % 1000 * 1000000L };
            nanosleep(&t, NULL);
            kill(pid, SIGTERM);
            waitpid(pid, &st, 0);
        }
        char what[64];
        snprintf(what, sizeof what, "overhead, SIGTERM %d ms into mpi", i * 35);
        clean += left_clean(pid, st, priv, SIGTERM, what);
        cases++;
    }
    /* Too few descriptors: the board file, the pipe or mpirun fails; nothing is left. */
    char *run[] = { "parlab", "run", "-w", "noop", "-r", "mpi", "-j", "2", "-n", "1000",
                    "--repeat", "1", "--warmup", "0", NULL };
    for (rlim_t n = 4; n <= 16; n++) {
        pid_t pid = start_in(priv, n, run);
        int st = 0;
        waitpid(pid, &st, 0);
        char what[64];
        snprintf(what, sizeof what, "run -r mpi at ulimit -n %d", (int)n);
        clean += left_clean(pid, st, priv, 0, what);
        cases++;
    }
    fprintf(stderr, "\n  SIGTERM and fd limits: %d of %d runs left nothing", clean, cases);
    CU_ASSERT_EQUAL(clean, cases);
    rmdir(priv);
    prctl(PR_SET_CHILD_SUBREAPER, was);
    CU_ASSERT(nothing_left());
}

/* ---- one mpirun for a command's warm-up and every repeat ------------------------------- */

/* Lines in the launch log (PARLAB_MPI_TEST_LAUNCHES: a line per mpirun started), which is
 * then removed. */
static int launches(const char *log)
{
    char *t = slurp(log, NULL);
    int n = t ? count_lines(t) : 0;
    free(t);
    unlink(log);
    return n;
}

/* start_s (column 21) of CSV row `row`: its value, 0 when empty. */
static double start_of(const char *csv, int row)
{
    char buf[64];
    csv_field(csv, row, 21, buf, sizeof buf);
    return *buf ? strtod(buf, NULL) : 0;
}

/* A warm-up and three repeats, with --baseline too: one mpirun; the first mpi row says what
 * its start took (more than nothing, less than a minute) and no other row does; every row
 * is verified, and every mpi wall time is there. JSON carries it in one row too; text in
 * one line. */
static void test_one_launch(void)
{
    if (!have_mpi())
        return;
    struct cmd_result *r = calloc(1, sizeof *r);
    char log[PATH_MAX], buf[64];
    snprintf(log, sizeof log, "%s.launches", tmpdir);
    unlink(log);
    setenv("PARLAB_MPI_TEST_LAUNCHES", log, 1);
    run_parlab(r, 120, "run", "-w", "primes", "-r", "mpi", "-j", "2", "-n", "100000",
               "--repeat", "3", "--warmup", "1", "--format", "csv", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    CU_ASSERT_EQUAL(count_lines(r->out), 4);
    CU_ASSERT_EQUAL(launches(log), 1);
    double s1 = start_of(r->out, 1);
    CU_ASSERT(s1 > 0 && s1 < 60);
    CU_ASSERT(start_of(r->out, 2) == 0 && start_of(r->out, 3) == 0);
    for (int i = 1; i <= 3; i++) {
        CU_ASSERT_STRING_EQUAL(csv_field(r->out, i, 17, buf, sizeof buf), "yes");
        CU_ASSERT(strtod(csv_field(r->out, i, 10, buf, sizeof buf), NULL) > 0);
    }
    /* --baseline: seq and mpi take turns; still one mpirun, its start on the first mpi row */
    run_parlab(r, 120, "run", "-w", "primes", "-r", "mpi", "-j", "2", "-n", "100000",
               "--repeat", "3", "--baseline", "--format", "csv", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    CU_ASSERT_EQUAL(count_lines(r->out), 7);
    CU_ASSERT_EQUAL(launches(log), 1);
    int with_start = 0;
    for (int i = 1; i <= 6; i++) {
        const char *runner = csv_field(r->out, i, 3, buf, sizeof buf);
        CU_ASSERT_STRING_EQUAL(runner, i % 2 ? "seq" : "mpi");
        with_start += start_of(r->out, i) > 0;
    }
    CU_ASSERT(start_of(r->out, 2) > 0);
    CU_ASSERT_EQUAL(with_start, 1);
    run_parlab(r, 120, "run", "-w", "primes", "-r", "mpi", "-j", "2", "-n", "100000",
               "--repeat", "2", "--format", "json", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    const char *first = strstr(r->out, "\"start_s\"");
    CU_ASSERT(first && !strstr(first + 1, "\"start_s\""));
    CU_ASSERT_EQUAL(launches(log), 1);
    run_parlab(r, 120, "run", "-w", "primes", "-r", "mpi", "-j", "2", "-n", "100000",
               "--repeat", "2", (char *)NULL);
    CU_ASSERT_EQUAL(r->status, 0);
    first = strstr(r->out, "\nstart   mpi");
    CU_ASSERT(first && !strstr(first + 1, "\nstart "));
    CU_ASSERT_EQUAL(launches(log), 1);
    unsetenv("PARLAB_MPI_TEST_LAUNCHES");
    CU_ASSERT(nothing_left());
    free(r);
}

/* A wrong answer planted in the second job of the one mpirun (PARLAB_MPI_TEST_WRONG_JOB):
 * that repeat's row says no, the others yes, and the run exits 1 with one line. */
static void test_wrong_in_repeat(void)
{
    if (!have_mpi())
        return;
    struct cmd_result *r = calloc(1, sizeof *r);
    char buf[64];
    setenv("PARLAB_MPI_TEST_WRONG_JOB", "2", 1);
    run_parlab(r, 120, "run", "-w", "primes", "-r", "mpi", "-j", "2", "-n", "100000",
               "--repeat", "3", "--warmup", "0", "--format", "csv", (char *)NULL);
    unsetenv("PARLAB_MPI_TEST_WRONG_JOB");
    CU_ASSERT_EQUAL(r->status, 1);
    CU_ASSERT_EQUAL(count_lines(r->out), 4);
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 1, 17, buf, sizeof buf), "yes");
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 2, 17, buf, sizeof buf), "no");
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 3, 17, buf, sizeof buf), "yes");
    CU_ASSERT_EQUAL(count_lines(r->err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->err, "wrong result"));
    CU_ASSERT(nothing_left());
    free(r);
}

/* SIGTERM at moments of a --baseline run, in the mpi repeats and in the seq runs between
 * them (the session's ranks idle then): 143 (or 0 when it had finished), no process of its
 * session left, nothing in its TMPDIR. */
static void test_session_stops(void)
{
    if (!have_mpi())
        return;
    int was = 0, clean = 0, cases = 0;
    prctl(PR_GET_CHILD_SUBREAPER, &was);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    char priv[PATH_MAX];
    snprintf(priv, sizeof priv, "%s/priv.XXXXXX", tmpdir);
    CU_ASSERT_FATAL(mkdtemp(priv) != NULL);
    char *run[] = { "parlab", "run", "-w", "sleep", "-n", "4", "--io-ms", "150", "-r", "mpi",
                    "-j", "2", "--baseline", "--repeat", "4", "--warmup", "0", NULL };
    static const long delays[] = { 300, 900, 1500, 2100, 2700, 3300 };
    for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
        pid_t pid = start_in(priv, 0, run);
        struct timespec t = { delays[i] / 1000, delays[i] % 1000 * 1000000L };
        nanosleep(&t, NULL);
        kill(pid, SIGTERM);
        int st = 0;
        waitpid(pid, &st, 0);
        char what[64];
        snprintf(what, sizeof what, "--baseline, SIGTERM at %ld ms", delays[i]);
        clean += left_clean(pid, st, priv, SIGTERM, what);
        cases++;
    }
    CU_ASSERT_EQUAL(clean, cases);
    rmdir(priv);
    prctl(PR_SET_CHILD_SUBREAPER, was);
    CU_ASSERT(nothing_left());
}

/* Remove the suite's TMPDIR and give later suites the environment they had. */
/* The wire (mpi/wire.h): a request line reads back as the job and plan it was written from,
 * a reply carries the status, the reason and the ranks' figures, and a line of another
 * shape is refused with 64. Needs no Open MPI: both ends are plain C. */
static void test_wire(void)
{
    const struct workload *wl = wl_find("nbody");
    CU_ASSERT_PTR_NOT_NULL_FATAL(wl);
    struct job job = { .wl = wl, .size = 123, .tasks = 7, .steps = 3, .seed = 99, .io_ms = 2,
                       .grain_ns = 5000, .grain_iters = 41 };
    struct trace_rec rec;
    struct plan plan = { .workers = 4, .cores = 2, .schedule = SCHED_GUIDED, .chunk = 3,
                         .trace = &rec, .inject = INJECT_DROP, .inject_task = 5 };
    struct outcome out = { 0 };
    char line[MPI_LINE_MAX], dir[PATH_MAX];
    int len = mpi_job_line(line, sizeof line, "/tmp/some dir-less", &job, &plan, &out);
    CU_ASSERT(len < 0 && out.code == PARLAB_EXIT_USAGE);   /* a blank would split the words */
    len = mpi_job_line(line, sizeof line, "/tmp/parlab-mpi.abc", &job, &plan, &out);
    CU_ASSERT_FATAL(len > 0 && (size_t)len == strlen(line));
    struct mpi_job m;
    CU_ASSERT_EQUAL_FATAL(mpi_job_parse(line, &m, dir, sizeof dir, &out), 0);
    CU_ASSERT_STRING_EQUAL(dir, "/tmp/parlab-mpi.abc");
    struct job j2;
    struct plan p2;
    mpi_job_to(&m, 4, &j2, &p2);
    CU_ASSERT(j2.wl == wl && j2.size == 123 && j2.tasks == 7 && j2.steps == 3 &&
              j2.seed == 99 && j2.io_ms == 2 && j2.grain_ns == 5000 && j2.grain_iters == 41);
    CU_ASSERT(p2.workers == 4 && p2.cores == 2 && p2.schedule == SCHED_GUIDED &&
              p2.chunk == 3 && p2.inject == INJECT_DROP && p2.inject_task == 5 && m.trace == 1);
    struct mpi_job m2;
    mpi_job_from(&m2, &job, &plan);   /* what rank 0 broadcasts under parlab-mpi run */
    CU_ASSERT(m2.wl == m.wl && m2.size == m.size && m2.sched == m.sched && m2.trace == m.trace);
    char quit[] = "quit\n", bad[] = "/tmp/x primes 1 2\n", unknown[MPI_LINE_MAX];
    CU_ASSERT_EQUAL(mpi_job_parse(quit, &m, dir, sizeof dir, &out), 1);
    CU_ASSERT_EQUAL(mpi_job_parse(bad, &m, dir, sizeof dir, &out), -1);
    CU_ASSERT_EQUAL(out.code, PARLAB_EXIT_USAGE);
    snprintf(unknown, sizeof unknown, "/tmp/x nosuch 1 2 1 1 0 static 0 0 0 0 0 0 0\n");
    CU_ASSERT_EQUAL(mpi_job_parse(unknown, &m, dir, sizeof dir, &out), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.msg, "unknown workload nosuch"));

    char reply[MPI_REPLY_MAX];
    struct outcome r = { 0 };
    mpi_reply_format(reply, 0, "ignored", 1.5, 0.25, 4096);
    CU_ASSERT_EQUAL(mpi_reply_parse(reply, "the job", &r), 0);
    CU_ASSERT(r.code == 0 && r.away_user_s == 1.5 && r.away_sys_s == 0.25 &&
              r.away_maxrss_kb == 4096);
    mpi_reply_format(reply, PARLAB_EXIT_OS, "rank 0: result file x: No space\nleft", 0, 0, 0);
    CU_ASSERT_EQUAL(mpi_reply_parse(reply, "the job", &r), PARLAB_EXIT_OS);
    CU_ASSERT_STRING_EQUAL(r.msg, "the job (status 71): rank 0: result file x: No space");
    CU_ASSERT_EQUAL(mpi_reply_parse("0\n", "the job", &r), 0);   /* a quit's reply */
}

static void test_cleanup(void)
{
    if (!have_mpi())
        return;
    CU_ASSERT_EQUAL(rmdir(tmpdir), 0);
    if (old_tmpdir)
        setenv("TMPDIR", old_tmpdir, 1);
    else
        unsetenv("TMPDIR");
    free(old_tmpdir);
    old_tmpdir = NULL;
    unsetenv("OMPI_MCA_orte_tmpdir_base");
    unsetenv("OMPI_MCA_btl_vader_backing_directory");
    unsetenv(MPI_ENV_DIR);
}

CU_TestInfo tests_mpi[] = {
    { "every workload and schedule at 1, 2 and 4 ranks equals seq", test_matrix_ranks },
    { "parlab run -r mpi: n-body state, trace, list", test_launcher },
    { "mpirun -np 3 parlab-mpi run", test_direct },
    { "a crashed, killed or stuck rank: exit 70 naming task and rank", test_faults },
    { "Ctrl-C: exit 130, nothing left", test_interrupt },
    { "a failed or stopped run leaves no rank, not even a zombie", test_orphans },
    { "bad input: too many ranks, no mpirun", test_bad_input },
    { "a rank killed after its part was delivered: verified, with a note", test_finalize_crash },
    { "a kept world: runs equal seq, at once too; faults, idle and stop end it, nothing left", test_world },
    { "world stop and status refuse crafted folders and touch nothing; --stale", test_world_crafted },
    { "a world whose rank 0 was killed is not reported running", test_world_rank_killed },
    { "SIGTERM during overhead's mpi part, and fd limits 4 to 16: nothing left", test_stop_cleans },
    { "a warm-up and the repeats run in one mpirun; its start is reported once", test_one_launch },
    { "a wrong answer in the second repeat of one mpirun fails that repeat", test_wrong_in_repeat },
    { "SIGTERM in a --baseline run, in an mpi repeat or seq between: nothing left", test_session_stops },
    { "the wire: a request line and a reply read back as written, other lines refused", test_wire },
    { "the tests' TMPDIR is left empty", test_cleanup },
    CU_TEST_INFO_NULL,
};
