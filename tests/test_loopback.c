/* test_loopback.c: the loopback I/O workload leaves nothing behind (no fd, no server
 * thread, no child), after a clean run and after a worker is killed mid-run; its verify()
 * refuses a missing reply or a wrong payload; the event loop really overlaps the waits. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "util.h"
#include "../harness/harness.h"

/* Entries in a /proc/self folder (fds or threads), less "." and "..". */
static int proc_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - (strcmp(dir, "/proc/self/fd") == 0);   /* opendir's own fd */
}

/* Threads of this process named as the loopback server names its own. */
static int server_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        char path[300], comm[32] = "";
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f) {
            n += fgets(comm, sizeof comm, f) && strncmp(comm, "parlab-loopback", 15) == 0;
            fclose(f);
        }
    }
    closedir(d);
    return n;
}

/*
 * In a child with an alarm: count fds and threads, run loopback under `runner` (with a
 * fault planted at task 5 when `inject` is set), tear down, count again. The child exits
 * 0 if the run went as expected and everything it opened is closed and reaped, else a
 * code saying what was wrong.
 */
static int run_and_count(const char *runner, enum inject_kind inject, unsigned loops,
                         enum sched_kind sched, size_t inject_task)
{
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        int fds0 = proc_entries("/proc/self/fd");
        const struct workload *wl = wl_find("loopback");
        const struct runner *r = runner_find(runner);
        if (!wl || !r)
            _exit(10);
        struct job job = { .wl = wl, .size = 40, .tasks = 40, .steps = 1, .seed = 3,
                           .io_ms = 30 };
        struct plan plan = { .workers = 3, .cores = 2, .schedule = sched, .loops = loops,
                             .inject = inject, .inject_task = inject_task };
        struct outcome oc = { 0 };
        struct job_ctx c;
        struct job_sample smp;
        struct job_result res;
        if (job_open(&c, &job, &plan, 0, 0, &oc))
            _exit(11);
        if (server_threads() != 1)
            _exit(12);                         /* the server thread runs */
        int rc = job_exec(&c, r, &smp, &oc);
        if (inject ? rc == 0 || oc.code != 70 : rc != 0)
            _exit(14);
        if (!inject && (job_answer(&c, &res, &oc) || res.verified != VERIFIED_YES))
            _exit(15);
        job_close(&c);
        if (proc_entries("/proc/self/fd") != fds0)
            _exit(16);
        if (server_threads() != 0)   /* (OpenMP keeps its own pool threads: not counted) */
            _exit(17);
        if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
            _exit(18);
        _exit(0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static void test_loopback_clean(void)
{
    char why[300];
    for (const struct runner *const *r = runner_registry; *r; r++) {
        if (!runner_usable(*r, why, sizeof why))
            continue;   /* mpi where Open MPI is not built in (sanitizer builds) */
        int st = run_and_count((*r)->name, INJECT_NONE, (*r)->flags & RUNNER_HAS_LOOPS ? 2 : 1,
                               (*r)->default_schedule, 0);
        if (st)
            fprintf(stderr, "\n  loopback %s: child status %d", (*r)->name, st);
        CU_ASSERT_EQUAL(st, 0);
    }
}

/* A worker process killed in the middle: the run fails with 70, the server still stops,
 * and its sockets, the dead worker's and the others' are all gone. Under epoll the kill
 * must land in the second loop (a child), never in loop 0, which is the calling process:
 * a static split of 40 tasks over 2 loops gives loop 1 tasks 20..39; loop 0 then has
 * requests in flight when the run fails, whose sockets teardown() must close. */
static void test_loopback_fault(void)
{
    static const struct { const char *runner; unsigned loops; enum sched_kind sched;
                          size_t task; } cases[] = {
        { "fork", 1, SCHED_DYNAMIC, 5 }, { "process", 1, SCHED_DYNAMIC, 5 },
        { "epoll", 2, SCHED_STATIC, 25 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!runner_find(cases[i].runner))
            continue;
        int st = run_and_count(cases[i].runner, INJECT_KILL, cases[i].loops, cases[i].sched,
                               cases[i].task);
        if (st)
            fprintf(stderr, "\n  loopback %s kill@%zu: child status %d", cases[i].runner,
                    cases[i].task, st);
        CU_ASSERT_EQUAL(st, 0);
    }
}

/* The whole program, killed mid-run from outside: nothing of its process tree outlives it.
 * A subreaper child adopts whatever parlab's workers would orphan, so this looks only at
 * our own tree. */
static void test_loopback_killed_from_outside(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        alarm(20);
        if (prctl(PR_SET_CHILD_SUBREAPER, 1))
            _exit(10);
        pid_t p = fork();
        if (p == 0) {
            int devnull = open("/dev/null", O_RDWR);
            dup2(devnull, 1);
            dup2(devnull, 2);
            execl(parlab_bin(), "parlab", "run", "-w", "loopback", "-r", "fork", "-j", "3",
                  "-n", "30", "--io-ms", "2000", (char *)NULL);
            _exit(127);
        }
        struct timespec ts = { 0, 300 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        kill(p, SIGKILL);
        /* Reap parlab, then whatever it left: workers die with their parent (within a
         * second); anything still here after 3 s is left behind. */
        for (int i = 0; i < 300; i++) {
            pid_t w = waitpid(-1, NULL, WNOHANG);
            if (w < 0 && errno == ECHILD)
                _exit(0);
            nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
        }
        _exit(11);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* verify() is the check, not a formality: one reply short or one payload bit off fails. */
static void test_loopback_verify_refuses(void)
{
    const struct workload *wl = wl_find("loopback");
    CU_ASSERT_FATAL(wl != NULL);
    char tok[200];
    int v;
    struct job_spec s = { .workload = "loopback", .runner = "thread", .size = 12, .tasks = 12,
                          .workers = 4, .seed = 9, .io_ms = 1 };
    CU_ASSERT_EQUAL_FATAL(job_run(&s, 20, tok, sizeof tok, &v), 0);
    CU_ASSERT_EQUAL(v, 1);
    /* rebuild the total from the token "count:sum" and tamper with it */
    struct job job = { .wl = wl, .size = 12, .tasks = 12, .steps = 1, .seed = 9 };
    struct partial t = { 0 };
    char why[256];
    unsigned long long count;
    char *colon = strchr(tok, ':');
    CU_ASSERT_FATAL(colon != NULL && sscanf(tok, "%llu", &count) == 1);
    t.count = count;
    for (const char *c = colon + 1; *c >= '0' && *c <= '9'; c++)
        t.sum = t.sum * 10 + (unsigned)(*c - '0');
    CU_ASSERT_EQUAL(wl->verify(&job, &t, why, sizeof why), 0);
    t.count--;
    CU_ASSERT_EQUAL(wl->verify(&job, &t, why, sizeof why), -1);
    CU_ASSERT(strstr(why, "11 replies for 12 tasks") != NULL);
    t.count++;
    t.sum ^= 1;
    CU_ASSERT_EQUAL(wl->verify(&job, &t, why, sizeof why), -1);
    CU_ASSERT(strstr(why, "payload sum") != NULL);
    job.seed = 10;   /* another seed's replies are not these */
    t.sum ^= 1;
    CU_ASSERT_EQUAL(wl->verify(&job, &t, why, sizeof why), -1);
}

/* One event loop keeps every request in flight: 200 requests of 1 s take well under the
 * 200 s one at a time would, and under the 1 s × 200 / 4 a pool of 4 would need: the
 * bound, 25 s, is half that, and some twenty times the 1.1 s it takes, so that a busy
 * machine slows the run without failing it. */
static void test_loopback_overlaps(void)
{
    struct cmd_result *r = malloc(sizeof *r);
    CU_ASSERT_FATAL(r != NULL);
    CU_ASSERT_EQUAL_FATAL(run_parlab(r, 120, "run", "-w", "loopback", "-r", "epoll", "-n",
                                     "200", "--io-ms", "1000", "--repeat", "1", "--warmup",
                                     "0", "--format", "csv", NULL), 0);
    char f[64];
    CU_ASSERT(r->exited && r->status == 0);
    CU_ASSERT_STRING_EQUAL(csv_field(r->out, 1, 17, f, sizeof f), "yes");
    double wall = atof(csv_field(r->out, 1, 10, f, sizeof f));
    CU_ASSERT(wall >= 1.0 && wall < 25.0);
    CU_ASSERT_EQUAL(run_parlab(r, 10, "run", "-w", "loopback", "-r", "seq", "-n", "9000",
                               NULL), 0);
    CU_ASSERT(r->exited && r->status == 64 && strstr(r->err, "loopback") != NULL);
    free(r);
}

CU_TestInfo tests_loopback[] = {
    { "a clean run closes every socket and stops the server", test_loopback_clean },
    { "a killed worker: exit 70, nothing left open", test_loopback_fault },
    { "parlab killed from outside leaves no process", test_loopback_killed_from_outside },
    { "verify refuses a missing reply or a wrong payload", test_loopback_verify_refuses },
    { "the event loop overlaps the waits; the count is bounded", test_loopback_overlaps },
    CU_TEST_INFO_NULL,
};
