/* test_faults.c: planted faults, signals, the parent's death and resource limits end a
 * run quickly, with the right status and message, and leave nothing behind: no worker
 * alive or unreaped, no new /dev/shm entry. parlab runs in its own process group, so
 * "nothing left" is "no process in that group". */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "util.h"
#include "../harness/harness.h"
#include "../lib/pool.h"
#include "../lib/shm.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* /dev/shm's entries that a parlab run could leave: all but Python multiprocessing's
 * semaphores (sem.mp-*), which no parlab process makes and other programs leave there. */
static int shm_entries(void)
{
    DIR *d = opendir("/dev/shm");
    int n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.' && strncmp(e->d_name, "sem.mp-", 7) != 0;
    closedir(d);
    return n;
}

/* Wait up to 10 s for process group pg to be empty. 1 if it is. Returns as soon as it is:
 * the bound only gives a busy machine time to let the last processes die. */
static int group_gone(pid_t pg)
{
    for (int i = 0; i < 1000; i++) {
        if (kill(-pg, 0) < 0 && errno == ESRCH)
            return 1;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Wait up to 10 s until no process of group pg is running (zombies, which only init can
 * reap once their parent is gone, count as ended). 1 if none runs. */
static int group_dead(pid_t pg)
{
    for (int i = 0; i < 1000; i++) {
        if (procs_in(PROCS_GROUP, pg, 0, 0) == 0)
            return 1;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Wait up to 30 s until process pid catches sig (its SigCgt in /proc): parlab installs its
 * handlers first thing in main(), but on a busy machine exec and start-up may take longer
 * than any fixed pause. A signal sent before that kills it by default, which is correct
 * but not what a test of the handlers is about. 1 once it catches sig. */
static int wait_caught(pid_t pid, int sig)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    for (int i = 0; i < 3000; i++) {
        FILE *f = fopen(path, "r");
        unsigned long long mask = 0;
        int got = 0;
        while (f && fgets(line, sizeof line, f))
            if (sscanf(line, "SigCgt: %llx", &mask) == 1) {
                got = 1;
                break;
            }
        if (f)
            fclose(f);
        if (!f)
            return 0;   /* gone already */
        if (got && (mask >> (sig - 1) & 1))
            return 1;
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

struct launched {
    pid_t pid;
    int errfd;
    double t0;
};

/* Start parlab in a new process group, stderr to a pipe, with an alarm guard. */
static struct launched launch(char *const args[], unsigned alarm_s, int as_nobody_nproc)
{
    struct launched l = { 0 };
    int pe[2];
    char *argv[32] = { (char *)parlab_bin() };
    for (int i = 0; args[i]; i++)
        argv[i + 1] = args[i];
    if (pipe(pe))
        return l;
    l.t0 = now_s();
    l.pid = fork();
    if (l.pid == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(pe[1], 2);
        close(pe[0]);
        if (as_nobody_nproc) {
            /* root ignores RLIMIT_NPROC: become an unprivileged user first */
            if (geteuid() == 0 && (setgroups(0, NULL) || setgid(65534) || setuid(65534)))
                _exit(120);
            struct rlimit rl = { (rlim_t)as_nobody_nproc, (rlim_t)as_nobody_nproc };
            if (setrlimit(RLIMIT_NPROC, &rl))
                _exit(121);
        }
        alarm(alarm_s);
        execv(argv[0], argv);
        _exit(127);
    }
    setpgid(l.pid, l.pid);
    close(pe[1]);
    l.errfd = pe[0];
    return l;
}

/* Wait for it; returns the wait status, fills err, the elapsed seconds. */
static int finish(struct launched *l, char *err, size_t n, double *secs)
{
    size_t len = 0;
    ssize_t k;
    while ((k = read(l->errfd, err + len, n - 1 - len)) > 0)
        len += (size_t)k;
    err[len] = '\0';
    close(l->errfd);
#ifdef __SANITIZE_ADDRESS__
    strip_asan_stack_warning(err);
#endif
    int st;
    while (waitpid(l->pid, &st, 0) < 0 && errno == EINTR)
        ;
    *secs = now_s() - l->t0;
    return st;
}

struct fault_case {
    const char *runner, *inject;
    int status;               /* expected exit status */
    const char *needle;       /* in the one-line message */
    const char *start;        /* --start, or NULL */
};

static const struct fault_case faults[] = {
    { "fork", "segv@3", 70, "task 3 (worker pid", NULL },
    { "fork", "kill@3", 70, "killed by SIGKILL", NULL },
    { "fork", "exit@3", 70, "exited with status 3", NULL },
    { "fork", "hang@3", 70, "ran past the task timeout", NULL },
    { "fork", "error@3", 70, "task 3 reported error 5", NULL },
    { "fork", "segv@3", 70, "task 3 (worker pid", "forkserver" },
    { "fork", "kill@3", 70, "killed by SIGKILL", "forkserver" },
    { "fork", "exit@3", 70, "exited with status 3", "forkserver" },
    { "fork", "hang@3", 70, "ran past the task timeout", "forkserver" },
    { "fork", "error@3", 70, "task 3 reported error 5", "forkserver" },
    { "fork", "segv@3", 70, "task 3 (worker pid", "spawn" },
    { "fork", "kill@3", 70, "killed by SIGKILL", "spawn" },
    { "fork", "exit@3", 70, "exited with status 3", "spawn" },
    { "fork", "hang@3", 70, "ran past the task timeout", "spawn" },
    { "fork", "error@3", 70, "task 3 reported error 5", "spawn" },
    { "process", "segv@3", 70, "killed by SIGSEGV", NULL },
    { "process", "kill@3", 70, "killed by SIGKILL", NULL },
    { "process", "exit@3", 70, "exited with status 3", NULL },
    { "process", "hang@3", 70, "ran past the task timeout", NULL },
    { "process", "error@3", 70, "task 3 reported error 5", NULL },
    { "thread", "segv@3", 70, "task 3 crashed the whole process with SIGSEGV", NULL },
    { "thread", "hang@3", 70, "ran past the 0.5 s task timeout", NULL },
    { "thread", "error@3", 70, "task 3 reported error 5", NULL },
    { "thread", "kill@3", 64, "would end the whole process", NULL },
    { "omp", "segv@3", 70, "task 3 crashed the whole process with SIGSEGV", NULL },
    { "omp", "hang@3", 70, "ran past the 0.5 s task timeout", NULL },
    { "omp", "exit@3", 64, "would end the whole process", NULL },
    { "seq", "segv@3", 70, "crashed the whole process", NULL },
    { "seq", "hang@3", 70, "ran past the 0.5 s task timeout", NULL },
    { "epoll", "segv@3", 70, "crashed the whole process", NULL },
    { "epoll", "hang@3", 70, "task 3", NULL },
    { "epoll", "error@3", 70, "task 3 reported error 5", NULL },
};

static void test_planted_faults(void)
{
    int shm0 = shm_entries();
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        const struct fault_case *f = &faults[i];
        if (!runner_find(f->runner))
            continue;
        char *args[] = { "run", "-w", "primes", "-r", (char *)f->runner, "-n", "200000",
                         "-t", "16", "-j", "3", "--inject", (char *)f->inject,
                         "--task-timeout", "0.5", f->start ? "--start" : NULL,
                         (char *)f->start, NULL };
        struct launched l = launch(args, 10, 0);
        char err[1024];
        double secs;
        int st = finish(&l, err, sizeof err, &secs);
        int ok = WIFEXITED(st) && WEXITSTATUS(st) == f->status && strstr(err, f->needle) &&
                 count_lines(err) == 1 && secs < (strstr(f->inject, "hang") ? 2.5 : 2.0);
        int gone = group_gone(l.pid);
        if (!ok || !gone)
            fprintf(stderr, "\n  %s --start %s --inject %s: status %d, %.2f s, left behind %d: %s",
                    f->runner, f->start ? f->start : "-", f->inject, st, secs, !gone, err);
        CU_ASSERT(ok);
        CU_ASSERT(gone);
    }
    CU_ASSERT_EQUAL(shm_entries(), shm0);
}

/* --inject KIND@TASK:STEP strikes on that step; an error only on the last (earlier slots
 * are overwritten), and a step past the job's is refused. */
static void test_inject_step(void)
{
    static const struct { const char *inject; int status; const char *needle; } t[] = {
        { "exit@2:2", 70, "exited with status 3" }, { "segv@0:1", 70, "SIGSEGV" },
        { "error@1:2", 70, "reported error 5" }, { "error@1:1", 64, "last step" },
        { "segv@1:3", 64, "no such step" }, { "segv@1:", 64, "step" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct cmd_result r;
        run_parlab(&r, 20, "run", "-w", "nbody", "-r", "fork", "-n", "40", "-t", "4", "-j", "2",
                   "--steps", "3", "--inject", t[i].inject, (char *)NULL);
        int ok = r.exited && r.status == t[i].status && strstr(r.err, t[i].needle) &&
                 count_lines(r.err) == 1;
        if (!ok)
            fprintf(stderr, "\n  --inject %s: status %d: %s", t[i].inject, r.status, r.err);
        CU_ASSERT(ok);
    }
}

/* A task timeout far longer than any task never fires, however many short tasks run: a
 * worker may stamp a task's start after the watcher read the clock, and the difference
 * must not wrap to a huge "elapsed" time. Many tiny tasks make that window frequent. */
static void test_timeout_no_false_alarm(void)
{
    static const char *const cases[][8] = {
        { "-w", "noop", "-r", "fork", "-n", "4M", NULL },
        { "-w", "sumsq", "-r", "fork", "-t", "100000", NULL },
        { "-w", "noop", "-r", "thread", "-n", "1M", NULL },
        { "-w", "noop", "-r", "epoll", "-n", "1M", "--loops" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int rep = 0; rep < 3; rep++) {
            char *args[16] = { "run" };
            int n = 1;
            for (int k = 0; k < 8 && cases[i][k]; k++)
                args[n++] = (char *)cases[i][k];
            if (strcmp(args[n - 1], "--loops") == 0)
                args[n++] = "2";
            char *tail[] = { "-j", "2", "--task-timeout", "30", "--format", "csv", NULL };
            for (int k = 0; tail[k]; k++)
                args[n++] = tail[k];
            args[n] = NULL;
            if (!runner_find(args[4]))
                continue;
            struct launched l = launch(args, 60, 0);
            char err[1024];
            double secs;
            int st = finish(&l, err, sizeof err, &secs);
            int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && !*err;
            if (!ok)
                fprintf(stderr, "\n  %s %s %s %s --task-timeout 30: status %d: %s", args[2],
                        args[4], args[5], args[6], st, err);
            CU_ASSERT(ok);
            CU_ASSERT(group_gone(l.pid));
        }
}

/* SIGINT and SIGTERM during a run stop every runner promptly with 130 or 143: tasks that
 * wait 60 s end within 10 s, ten times the 1 s it took idle, so that a busy machine
 * cannot fail it. ThreadSanitizer holds an asynchronous signal until the thread leaves
 * its blocking call or its runtime polls (about a second): there the bound is wider. */
#ifdef __SANITIZE_THREAD__
#define SIGNAL_LIMIT_S 25.0
#else
#define SIGNAL_LIMIT_S 10.0
#endif
static void test_signals_stop_runs(void)
{
    static const int sigs[] = { SIGINT, SIGTERM };
    for (const struct runner *const *r = runner_registry; *r; r++) {
        char why[300];
        if (!runner_usable(*r, why, sizeof why))
            continue;   /* mpi where Open MPI is missing, or in a sanitizer build */
        for (int k = 0; k < 2; k++) {
            char *args[] = { "run", "-w", "sleep", "-r", (char *)(*r)->name, "-t", "8", "-j",
                             "2", "--io-ms", "60000", NULL };
            struct launched l = launch(args, 120, 0);
            struct timespec ts = { 0, 300 * 1000 * 1000 };
            CU_ASSERT(wait_caught(l.pid, sigs[k]));
            nanosleep(&ts, NULL);          /* let the workers start and sleep */
            double t = now_s();
            kill(l.pid, sigs[k]);
            char err[512];
            double secs;
            int st = finish(&l, err, sizeof err, &secs);
            double took = now_s() - t;
            int want = 128 + sigs[k];
            int ok = WIFEXITED(st) && WEXITSTATUS(st) == want && took < SIGNAL_LIMIT_S &&
                     strstr(err, "interrupted");
            int gone = group_gone(l.pid);
            if (!ok || !gone)
                fprintf(stderr, "\n  %s signal %d: status %d after %.2f s, left %d: %s",
                        (*r)->name, sigs[k], st, took, !gone, err);
            CU_ASSERT(ok);
            CU_ASSERT(gone);
        }
    }
}

/* A worker failing while a stop signal lands in another thread (loopback's server thread
 * in parlab takes it as readily as the main thread): exactly one line, the failure's or
 * the signal's, and not one process of the run left at once, not even a zombie for PID 1
 * (a worker the main thread forked while the handler swept). Many early moments. */
static void test_failure_meets_signal(void)
{
    static const struct { const char *runner, *loops, *inject; int sig; } cases[] = {
        { "fork", "1", "kill@6", SIGHUP },
        { "epoll", "4", "segv@8", SIGINT },
    };
    int bad = 0;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int i = 0; i < 40; i++) {
            char *args[] = { "run", "-w", "loopback", "-r", (char *)cases[c].runner, "-n", "13",
                             "-j", "8", "--io-ms", "4", "--format", "csv", "--inject",
                             (char *)cases[c].inject, NULL, NULL, NULL };
            if (strcmp(cases[c].runner, "epoll") == 0) {
                args[15] = "--loops";
                args[16] = (char *)cases[c].loops;
            }
            struct launched l = launch(args, 10, 0);
            struct timespec ts = { 0, (i % 20) * 250 * 1000 + 200 * 1000 };
            nanosleep(&ts, NULL);
            kill(l.pid, cases[c].sig);
            char err[1024];
            double secs;
            int st = finish(&l, err, sizeof err, &secs);
            int code = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
            int ok = (code == 70 || code == 128 + cases[c].sig || code == -cases[c].sig) &&
                     (code < 0 || (count_lines(err) == 1 && strncmp(err, "parlab: ", 8) == 0));
            int gone = kill(-l.pid, 0) < 0 && errno == ESRCH;   /* at once: zombies count */
            if (!ok || !gone) {
                fprintf(stderr, "\n  %s %s, signal %d: status %d, left %d: %s",
                        cases[c].runner, cases[c].inject, cases[c].sig, code, !gone, err);
                kill(-l.pid, SIGKILL);
                bad++;
            }
        }
    CU_ASSERT_EQUAL(bad, 0);
}

/* The lines of err but overhead's progress lines ("[i/N ...", for steps that ended before
 * the signal): its message lines. */
static int message_lines(const char *err)
{
    int n = 0;
    for (const char *l = err; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n'))
        n += !(l[0] == '[' && l[1] >= '0' && l[1] <= '9') && l[strcspn(l, "\n")] == '\n';
    return n;
}

/* The other commands end the same way: share, pitfall and overhead fork and start
 * threads too, and a signal stops them with one line, 128+sig and no worker left. */
static void test_signals_stop_experiments(void)
{
    static const char *const cmds[][3] = {
        { "share", NULL }, { "pitfall", "cow", NULL }, { "overhead", NULL },
    };
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        for (int k = 0; k < 3; k++) {
            struct launched l = launch((char *const *)cmds[i], 60, 0);
            struct timespec ts = { 0, (100 + 150 * k) * 1000 * 1000 };
            CU_ASSERT(wait_caught(l.pid, sigs[k]));
            nanosleep(&ts, NULL);
            kill(l.pid, sigs[k]);
            char err[512];
            double secs;
            int st = finish(&l, err, sizeof err, &secs);
            int ok = WIFEXITED(st) && WEXITSTATUS(st) == 128 + sigs[k] &&
                     strstr(err, "interrupted") && message_lines(err) == 1;
            int gone = group_dead(l.pid);
            if (!ok || !gone)
                fprintf(stderr, "\n  %s %s, signal %d: status %d, left %d: %s", cmds[i][0],
                        cmds[i][1] ? cmds[i][1] : "", sigs[k], st, !gone, err);
            CU_ASSERT(ok);
            CU_ASSERT(gone);
        }
}

/* A loop process of epoll --loops killed while its async tasks wait is reported with
 * them, not as dying "between tasks". */
static void test_loop_killed_in_flight(void)
{
    if (!runner_find("epoll"))
        return;
    char *args[] = { "run", "-w", "sleep", "-r", "epoll", "--loops", "2", "-n", "8", "--io-ms",
                     "60000", NULL };
    struct launched l = launch(args, 120, 0);
    char path[64], kids[256] = "";
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", l.pid, l.pid);
    for (int i = 0; i < 1500 && !*kids; i++) {   /* the loop process, once forked */
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        FILE *f = fopen(path, "r");
        if (f) {
            if (!fgets(kids, sizeof kids, f))
                kids[0] = '\0';
            fclose(f);
        }
    }
    /* Its tasks are waiting by now: they wait 60 s, so a second's pause leaves a busy
     * machine time to start them and still finds them in flight. */
    struct timespec ts = { 1, 0 };
    nanosleep(&ts, NULL);
    pid_t kid = (pid_t)atol(kids);
    CU_ASSERT_FATAL(kid > 0);
    kill(kid, SIGKILL);
    char err[512];
    double secs;
    int st = finish(&l, err, sizeof err, &secs);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 70 && strstr(err, "4 tasks in flight") &&
             strstr(err, "SIGKILL") && count_lines(err) == 1;
    if (!ok)
        fprintf(stderr, "\n  epoll --loops 2, a loop killed: status %d: %s", st, err);
    CU_ASSERT(ok);
    CU_ASSERT(group_gone(l.pid));
}

/* If the parent is SIGKILLed its worker processes exit promptly (within 10 s; their tasks
 * would wait 60 s). */
static void test_parent_sigkill(void)
{
    static const char *const runners[] = { "fork", "process", "epoll", "fork", "fork" };
    static const char *const starts[] = { NULL, NULL, NULL, "forkserver", "spawn" };
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++) {
        if (!runner_find(runners[i]))
            continue;
        char *args[] = { "run", "-w", "sleep", "-r", (char *)runners[i], "-t", "4", "-j", "2",
                         "--io-ms", "60000", strcmp(runners[i], "epoll") ? NULL : "--loops",
                         "2", NULL, NULL, NULL };
        if (starts[i]) {
            args[11] = "--start";
            args[12] = (char *)starts[i];
        }
        struct launched l = launch(args, 120, 0);
        struct timespec ts = { 0, 300 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        kill(l.pid, SIGKILL);
        char err[256];
        double secs;
        finish(&l, err, sizeof err, &secs);
        int gone = group_dead(l.pid);   /* waits up to 10 s */
        if (!gone)
            fprintf(stderr, "\n  %s: workers outlived a SIGKILLed parent", runners[i]);
        CU_ASSERT(gone);
    }
}

/* fork or pthread_create failing part way: exit 71 naming the error, workers reaped. */
static void test_nproc_limit(void)
{
    static const char *const runners[] = { "fork", "thread", "process", "omp", "epoll", "fork", "fork" };
    static const char *const starts[] = { NULL, NULL, NULL, NULL, NULL, "forkserver", "spawn" };
    for (size_t i = 0; i < sizeof runners / sizeof runners[0]; i++) {
        char *args[] = { "run", "-w", "primes", "-r", (char *)runners[i], "-n", "100000",
                         "-j", "16", "-t", "32", strcmp(runners[i], "epoll") ? NULL : "--loops",
                         "16", NULL, NULL, NULL };
        if (starts[i]) {
            args[11] = "--start";
            args[12] = (char *)starts[i];
        }
        struct launched l = launch(args, 60, 4);
        char err[512];
        double secs;
        int st = finish(&l, err, sizeof err, &secs);
        if (WIFEXITED(st) && WEXITSTATUS(st) >= 120 && WEXITSTATUS(st) <= 121) {
            fprintf(stderr, "\n  cannot drop privileges to test RLIMIT_NPROC: skipped");
            return;
        }
        /* omp: libgomp's own words come inside parlab's one line */
        int ok = WIFEXITED(st) && WEXITSTATUS(st) == 71 && strncmp(err, "parlab: ", 8) == 0 &&
                 (strstr(err, "Resource temporarily unavailable") || strstr(err, "cannot start")) &&
                 count_lines(err) == 1 && secs < 20.0;   /* no retry loop: 10x its 2 s */
        int gone = group_gone(l.pid);
        if (!ok || !gone)
            fprintf(stderr, "\n  %s under RLIMIT_NPROC: status %d, left %d: %s", runners[i], st,
                    !gone, err);
        CU_ASSERT(ok);
        CU_ASSERT(gone);
    }
}

/* mmap failing: the address-space limit leaves no room for the trace buffer (noop's
 * results are folded per worker and take no room). */
static void test_mmap_failure(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    /* The sanitizers reserve terabytes of address space: RLIMIT_AS cannot apply. */
    fprintf(stderr, "\n  skipped under a sanitizer (it needs unlimited address space)");
    return;
#endif
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        struct cmd_result r;
        alarm(20);
        /* 4M tasks need 128 MiB of trace rows; allow the binary far less. */
        struct rlimit rl = { 96u << 20, 96u << 20 };
        setrlimit(RLIMIT_AS, &rl);
        /* A new path (a device such as /dev/null is refused as a trace): the run fails
         * before anything is written, so nothing is left there. */
        char path[64];
        snprintf(path, sizeof path, "/tmp/parlab-rlimit-as-%ld.csv", (long)getpid());
        run_parlab(&r, 10, "run", "-w", "noop", "-r", "seq", "-t", "4000000", "--repeat", "1",
                   "--warmup", "0", "--trace", path, (char *)NULL);
        int left = access(path, F_OK) == 0;
        unlink(path);
        _exit(r.exited && r.status == 71 && strstr(r.err, "mmap") && !left ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* --start: an unknown method, or a runner without start methods, is refused in one line
 * (64); under spawn a binary that cannot run (a path that is not there; a copy of parlab
 * deleted while seq runs first under --baseline, before the pool starts) is named in one
 * line (71), with nothing left behind. */
static void test_start_methods_refused(void)
{
    static const struct { const char *runner, *start; int status; const char *needle; } t[] = {
        { "fork", "bogus", 64, "fork, forkserver, spawn" },
        { "thread", "spawn", 64, "has no start methods" },
        { "epoll", "fork", 64, "has no start methods" },
        { "seq", "forkserver", 64, "has no start methods" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct cmd_result r;
        run_parlab(&r, 20, "run", "-w", "primes", "-r", t[i].runner, "-n", "1000", "--start",
                   t[i].start, (char *)NULL);
        int ok = r.exited && r.status == t[i].status && strstr(r.err, t[i].needle) &&
                 count_lines(r.err) == 1;
        if (!ok)
            fprintf(stderr, "\n  -r %s --start %s: status %d: %s", t[i].runner, t[i].start,
                    r.status, r.err);
        CU_ASSERT(ok);
    }

    /* A path that is not there ($PARLAB_SPAWN_EXE is for tests only). */
    setenv("PARLAB_SPAWN_EXE", "/nonexistent/parlab", 1);
    char *args[] = { "run", "-w", "primes", "-r", "fork", "-n", "1000", "--start", "spawn", NULL };
    struct launched l = launch(args, 10, 0);
    unsetenv("PARLAB_SPAWN_EXE");
    char err[512];
    double secs;
    int st = finish(&l, err, sizeof err, &secs);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 71 && strstr(err, "/nonexistent/parlab") &&
             count_lines(err) == 1;
    if (!ok)
        fprintf(stderr, "\n  spawn from a missing binary: status %d: %s", st, err);
    CU_ASSERT(ok);
    CU_ASSERT(group_gone(l.pid));

    /* A copy of parlab, deleted after it started and before its pool does. */
    char dir[] = "/tmp/parlab-exe-XXXXXX", exe[64], cmd[256];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    snprintf(exe, sizeof exe, "%s/parlab", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", parlab_bin(), exe);
    CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
    pid_t pid;
    int pe[2];
    CU_ASSERT_FATAL(pipe(pe) == 0);
    pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        dup2(pe[1], 2);
        close(pe[0]);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 1);
        alarm(10);
        execl(exe, exe, "run", "-w", "sleep", "-t", "2", "-j", "1", "--io-ms", "400",
              "--baseline", "--repeat", "1", "--warmup", "0", "-r", "fork", "--start", "spawn",
              (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    close(pe[1]);
    struct timespec ts = { 0, 300 * 1000 * 1000 };   /* seq takes 800 ms */
    nanosleep(&ts, NULL);
    unlink(exe);
    rmdir(dir);
    struct launched d = { .pid = pid, .errfd = pe[0], .t0 = now_s() };
    st = finish(&d, err, sizeof err, &secs);
    ok = WIFEXITED(st) && WEXITSTATUS(st) == 71 && strstr(err, exe) && count_lines(err) == 1;
    if (!ok)
        fprintf(stderr, "\n  spawn from a deleted binary: status %d: %s", st, err);
    CU_ASSERT(ok);
    CU_ASSERT(group_gone(pid));
}

/* The number of memfds this process holds (/proc/self/fd links named "/memfd:..."). */
static int memfds_open(void)
{
    DIR *d = opendir("/proc/self/fd");
    char path[300], to[256];
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t k = readlink(path, to, sizeof to - 1);
        if (k > 0) {
            to[k] = '\0';
            n += strncmp(to, "/memfd:", 7) == 0;
        }
    }
    closedir(d);
    return n;
}

/* Under every start method a pool whose worker crashes, and one that ends well, leave no
 * memfd, no shared region and no child behind (in a child process, whose children are
 * only these). */
static void test_start_methods_leave_nothing(void)
{
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        alarm(20);
        int fds0 = memfds_open(), live0 = shm_live(), bad = 0;
        for (int m = 0; m < POOL_START__COUNT; m++) {
            for (int crash = 0; crash < 2; crash++) {
                struct job job = { .wl = wl_find("primes"), .size = 20000, .tasks = 8,
                                   .steps = 1, .seed = 1 };
                struct plan plan = { .workers = 2, .cores = 2, .schedule = SCHED_DYNAMIC,
                                     .start = (unsigned)m,
                                     .inject = crash ? INJECT_SEGV : INJECT_NONE,
                                     .inject_task = 3 };
                if (m == POOL_START_FORKSERVER && pool_forkserver_start())
                    bad |= 1;   /* as parlab run does: before the job's memory exists */
                struct partial *slots = job_shared_alloc(job.tasks * sizeof *slots);
                struct outcome oc = { 0 };
                int rc = runner_find("fork")->run(&job, &plan, slots, &oc);
                job_shared_free(slots, job.tasks * sizeof *slots);
                pool_forkserver_stop();
                if ((rc != 0) != crash || (crash && !strstr(oc.msg, "SIGSEGV")))
                    bad |= 1;
            }
        }
        if (memfds_open() != fds0 || shm_live() != live0)
            bad |= 2;
        if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
            bad |= 4;
        _exit(bad);
    }
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st))
        fprintf(stderr, "\n  start methods: status %d (1 outcome, 2 memfds, 4 children)", st);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

CU_TestInfo tests_faults[] = {
    { "every start method leaves no memfd, region or child", test_start_methods_leave_nothing },
    { "--start refused: unknown, no start methods, a binary that cannot run",
      test_start_methods_refused },
    { "planted faults end with the task named", test_planted_faults },
    { "--inject KIND@TASK:STEP strikes on that step", test_inject_step },
    { "a long task timeout never fires on short tasks", test_timeout_no_false_alarm },
    { "SIGINT and SIGTERM stop every runner", test_signals_stop_runs },
    { "share, pitfall and overhead stop on a signal", test_signals_stop_experiments },
    { "a failing worker and a signal in another thread: one line, nothing left",
      test_failure_meets_signal },
    { "a killed event loop is reported with its tasks in flight", test_loop_killed_in_flight },
    { "workers die with a SIGKILLed parent", test_parent_sigkill },
    { "fork/thread failing under RLIMIT_NPROC", test_nproc_limit },
    { "mmap failing under RLIMIT_AS", test_mmap_failure },
    CU_TEST_INFO_NULL,
};
