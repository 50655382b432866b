/* test_io.c: output that cannot be stored is never reported as written (exit 74, one
 * line), on /dev/full for every command and on a full tmpfs for --trace; and what parlab
 * is given is checked before any work: --expect against the shape of the workload's own
 * answers, paths without control characters, --trace's folder (64, 71 or 74). */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"
#include "../harness/harness.h"
#include "../harness/parse.h"

/* `parlab ARGS...` with stdout on /dev/full (through sh, so that run_cmd still captures
 * stderr), in env extra (NAME=VALUE or NULL). */
static int run_full(struct cmd_result *r, unsigned timeout_s, const char *extra,
                    const char *const *args)
{
    char *argv[40] = { "/bin/sh", "-c",
                       extra ? "export \"$1\"; shift; exec \"$0\" \"$@\" >/dev/full"
                             : "exec \"$0\" \"$@\" >/dev/full",
                       (char *)parlab_bin() };
    int n = 4;
    if (extra)
        argv[n++] = (char *)extra;
    for (int k = 0; args[k] && n < 39; k++)
        argv[n++] = (char *)args[k];
    argv[n] = NULL;
    return run_cmd(argv, timeout_s, r);
}

/* exit 74 and exactly one line, which names standard output. */
static int lost_one_line(const struct cmd_result *r)
{
    return r->exited && r->status == PARLAB_EXIT_IO && count_lines(r->err) == 1 &&
           strncmp(r->err, "parlab: writing standard output: ", 33) == 0;
}

static const char *const full_cases[][16] = {
    { "list" },
    { "list", "--format", "csv" },
    { "run", "-w", "noop", "-r", "thread", "-n", "100" },
    { "run", "-w", "noop", "-r", "thread", "-n", "100", "--format", "csv" },
    { "run", "-w", "noop", "-r", "thread", "-n", "100", "--format", "json" },
    { "run", "-w", "primes", "-r", "fork", "-n", "1000", "--repeat", "1", "--warmup", "0",
      "--format", "json" },
    { "overhead", "--quick", "--repeat", "1" },
    { "overhead", "--quick", "--repeat", "1", "--format", "csv" },
    { "share", "-j", "2", "--ops", "1000", "--repeat", "1", "--method", "lock,atomic" },
    { "share", "-j", "2", "--ops", "1000", "--repeat", "1", "--format", "csv" },
    { "share", "-j", "2", "--ops", "1000", "--repeat", "1", "--format", "json" },
    { "list", "--format", "json" },
    { "pitfall" },
    { "pitfall", "cow", "--mb", "1", "--repeat", "1", "-j", "1" },
    { "--help" },
    { "--version" },
    { "run", "--help" },
    { "share", "--help" },
    { "world", "--help" },
};

/* Every command, its output on /dev/full: exit 74 with one line, never 0. */
static void test_dev_full_every_command(void)
{
    for (size_t i = 0; i < sizeof full_cases / sizeof full_cases[0]; i++) {
        struct cmd_result r;
        CU_ASSERT_EQUAL_FATAL(run_full(&r, 120, NULL, full_cases[i]), 0);
        strip_asan_stack_warning(r.err);
        if (!lost_one_line(&r))
            fprintf(stderr, "\n  parlab %s %s ... >/dev/full: %s %d, stderr: %s", full_cases[i][0],
                    full_cases[i][1] ? full_cases[i][1] : "", r.exited ? "exit" : "signal",
                    r.status, r.err);
        CU_ASSERT(lost_one_line(&r));
    }
}

/* A world's status on /dev/full is lost output too; a world whose export line is lost is
 * stopped at once (nobody could find it), and nothing of it is left. */
static void test_dev_full_world(void)
{
    char bin[4200], tmp[] = "/tmp/parlab-io-world-XXXXXX", env[64], world[4200];
    snprintf(bin, sizeof bin, "%s-mpi", parlab_bin());
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "\n  skipped: no %s (Open MPI's mpicc is not installed)", bin);
        return;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmp));
    snprintf(env, sizeof env, "TMPDIR=%s", tmp);
    struct cmd_result r;
    static const char *const start[] = { "world", "start", "-j", "1", "--idle", "60", NULL };
    CU_ASSERT_EQUAL_FATAL(run_full(&r, 60, env, start), 0);
    if (!lost_one_line(&r))
        fprintf(stderr, "\n  world start >/dev/full: %d %d: %s", r.exited, r.status, r.err);
    CU_ASSERT(lost_one_line(&r));
    char cmd[200];
    snprintf(cmd, sizeof cmd, "exit $(ls -A '%s' | wc -l)", tmp);
    int left = system(cmd);
    CU_ASSERT(WIFEXITED(left) && WEXITSTATUS(left) == 0);   /* the world's folder is gone */

    /* A live world, its status on /dev/full. */
    char *sargv[] = { "/usr/bin/env", env, (char *)parlab_bin(), "world", "start", "-j", "1",
                      "--idle", "60", NULL };
    CU_ASSERT_EQUAL_FATAL(run_cmd(sargv, 60, &r), 0);
    char *q1 = strchr(r.out, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
    if (r.status != 0 || !q2) {
        fprintf(stderr, "\n  world start: %d: %s", r.status, r.err);
        CU_FAIL("world start");
        return;
    }
    snprintf(world, sizeof world, "%.*s", (int)(q2 - q1 - 1), q1 + 1);
    const char *const status[] = { "world", "status", world, NULL };
    CU_ASSERT_EQUAL(run_full(&r, 30, NULL, status), 0);
    if (!lost_one_line(&r))
        fprintf(stderr, "\n  world status >/dev/full: %d %d: %s", r.exited, r.status, r.err);
    CU_ASSERT(lost_one_line(&r));
    run_parlab(&r, 30, "world", "stop", world, (char *)NULL);
    CU_ASSERT(r.exited && r.status == 0);
    rmdir(tmp);
}

/* --expect: the workload's own answer, at its test size, always passes the check; a
 * value that no run of it could give is refused. */
static void test_expect_shape_of_own_answers(void)
{
    for (const struct workload *const *w = wl_registry; *w; w++) {
        const struct workload *wl = *w;
        struct job_spec s = { .workload = wl->name, .runner = "seq", .size = wl->sizes.test,
                              .tasks = wl->split == WL_SPLIT_ITEMS ? wl->sizes.test
                                                                   : wl->default_tasks,
                              .steps = wl->default_steps, .seed = 1, .io_ms = 1 };
        char token[200], why[300];
        int verified;
        CU_ASSERT_EQUAL_FATAL(job_run(&s, 60, token, sizeof token, &verified), 0);
        struct job job = { .wl = wl, .size = s.size, .tasks = s.tasks, .steps = s.steps,
                           .seed = 1, .io_ms = 1 };
        int rc = parse_expect(&job, token, why, sizeof why);
        if (rc)
            fprintf(stderr, "\n  %s: its own answer %s refused: %s", wl->name, token, why);
        CU_ASSERT_EQUAL(rc, 0);
        /* Never an answer: a letter no answer holds, a leading zero, one digit past the
         * widest (decimal) or one short of it (padded). */
        static const char *const never[] = { "x", "0x1", "00", "1 2", "1,2", "-1", "1.5" };
        for (size_t k = 0; k < sizeof never / sizeof never[0]; k++) {
            rc = parse_expect(&job, never[k], why, sizeof why);
            if (rc == 0)
                fprintf(stderr, "\n  %s: --expect '%s' accepted", wl->name, never[k]);
            CU_ASSERT_EQUAL(rc, -EINVAL);
        }
    }
}

/* Each refused before any work or output: exit 64, nothing on stdout, one line. */
static void test_values_refused(void)
{
    static char big[5001], longnum[80];
    memset(big, '7', 5000);
    memset(longnum, '0', 60);
    memcpy(longnum, "segv@", 5);
    strcpy(longnum + 60, "3");
    static const struct {
        const char *args[16];
        const char *env, *needle;
    } t[] = {
        { { "run", "-w", "primes", "-r", "seq", "--expect", "" }, NULL, "--expect : empty" },
        { { "run", "-w", "primes", "-r", "seq", "--expect", "\n" }, NULL, "--expect \\n" },
        { { "run", "-w", "primes", "-r", "seq", "--expect", "1\t2" }, NULL, "one token" },
        { { "run", "-w", "primes", "-r", "seq", "--expect", big }, NULL, "too long" },
        { { "run", "-w", "primes", "-r", "seq", "--expect", "ff" }, NULL, "whole number" },
        { { "run", "-w", "primes", "-r", "seq", "--expect", "018" }, NULL, "no leading zeros" },
        { { "run", "-w", "sumsq", "-r", "seq", "--expect",
            "340282366920938463463374607431768211456" }, NULL, "at most 39 digits" },
        { { "run", "-w", "nbody", "-r", "seq", "--expect", "12345" }, NULL, "16 hex digits" },
        { { "run", "-w", "nbody", "-r", "seq", "--expect", "0123456789ABCDEF" }, NULL, "hex" },
        { { "run", "-w", "loopback", "-r", "seq", "--expect", "12" }, NULL, "':'" },
        { { "run", "-w", "noop", "-r", "seq", "--trace", "a\nb" }, NULL, "control characters" },
        { { "run", "-w", "noop", "-r", "seq", "--trace", "" }, NULL, "empty file name" },
        { { "run", "-w", "noop", "-r", "seq", "--trace", "/nonexistent-parlab/t.csv" }, NULL,
          "does not exist" },
        { { "run", "-w", "noop", "-r", "seq", "-n", "10", "--inject", longnum }, NULL,
          "too long" },
        { { "world", "status", "a\nb" }, NULL, "control characters" },
        { { "world", "stop" }, "PARLAB_MPI_WORLD=x\ty", "PARLAB_MPI_WORLD" },
        { { "run", "-w", "primes", "-r", "mpi", "-j", "1" }, "PARLAB_MPI_WORLD=a\nb",
          "PARLAB_MPI_WORLD='a\\nb'" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *argv[24];
        int n = 0;
        if (t[i].env) {
            argv[n++] = "/usr/bin/env";
            argv[n++] = (char *)t[i].env;
        }
        argv[n++] = (char *)parlab_bin();
        for (int k = 0; t[i].args[k]; k++)
            argv[n++] = (char *)t[i].args[k];
        argv[n] = NULL;
        struct cmd_result r;
        CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 30, &r), 0);
        int ok = r.exited && r.status == PARLAB_EXIT_USAGE && !r.out[0] &&
                 count_lines(r.err) == 1 && strstr(r.err, t[i].needle);
        if (!ok)
            fprintf(stderr, "\n  case %zu (%s): %d %d, stdout %zu bytes, stderr: %s", i,
                    t[i].needle, r.exited, r.status, strlen(r.out), r.err);
        CU_ASSERT(ok);
    }
}

/* A wrong answer is told once, whatever the repeats; an answer --expect matches passes. */
static void test_wrong_told_once(void)
{
    struct cmd_result r;
    run_parlab(&r, 60, "run", "-w", "primes", "-r", "thread", "-n", "1000", "--repeat", "3",
               "--warmup", "1", "--expect", "167", (char *)NULL);
    CU_ASSERT(r.exited && r.status == PARLAB_EXIT_WRONG);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "wrong result"));
    run_parlab(&r, 60, "run", "-w", "sumsq", "-r", "fork", "-n", "1000", "-t", "4", "--repeat",
               "3", "--inject", "drop@1", "--baseline", (char *)NULL);
    CU_ASSERT(r.exited && r.status == PARLAB_EXIT_WRONG);
    CU_ASSERT_EQUAL(count_lines(r.err), 1);
    run_parlab(&r, 60, "run", "-w", "primes", "-r", "thread", "-n", "1000", "--expect", "168",
               (char *)NULL);
    CU_ASSERT(r.exited && r.status == 0);
}

/* What a folder holds, names sorted and joined by spaces, in buf. */
static const char *listing(const char *dir, char *buf, size_t n)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | tr '\\n' ' '", dir);
    FILE *p = popen(cmd, "r");
    buf[0] = '\0';
    if (p) {
        size_t k = fread(buf, 1, n - 1, p);
        buf[k] = '\0';
        pclose(p);
    }
    return buf;
}

/* In a child with its own mount namespace: --trace on a full tmpfs exits 74 with one line
 * and leaves the old trace as it was; on a read-only one, 71. The child exits 0 if all
 * held, 77 if no tmpfs could be mounted here, else the number of the check that failed. */
static int trace_on_tmpfs(const char *dir)
{
    static const char old[] = "task,worker,step,start_ns,end_ns\n0,0,0,1,2\n";
    char path[300], fill[300], buf[4096];
    struct cmd_result r;
    if (unshare(CLONE_NEWNS) || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
        mount("tmpfs", dir, "tmpfs", 0, "size=64k,mode=0700"))
        return 77;
    snprintf(path, sizeof path, "%s/t.csv", dir);
    snprintf(fill, sizeof fill, "%s/fill", dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(old, f) < 0 || fclose(f))
        return 2;
    int fd = open(fill, O_WRONLY | O_CREAT, 0600);
    memset(buf, 'x', sizeof buf);
    while (fd >= 0 && write(fd, buf, sizeof buf) > 0)
        ;
    close(fd);
    /* 20,000 rows, about 500 KiB: the few bytes a page holds cannot take them. */
    run_parlab(&r, 30, "run", "-w", "noop", "-r", "seq", "-n", "20000", "--repeat", "1",
               "--warmup", "0", "--trace", path, (char *)NULL);
    strip_asan_stack_warning(r.err);
    if (!r.exited || r.status != PARLAB_EXIT_IO || count_lines(r.err) != 1 ||
        !strstr(r.err, "No space left on device")) {
        fprintf(stderr, "\n  --trace on a full tmpfs: %d %d: %s", r.exited, r.status, r.err);
        return 3;
    }
    if (read_small(path, buf, sizeof buf) || strcmp(buf, old) != 0)
        return 4;
    if (strcmp(listing(dir, buf, sizeof buf), "fill t.csv ") != 0) {
        fprintf(stderr, "\n  left in the full tmpfs: %s", buf);
        return 5;
    }
    /* Room again: the same run replaces the file whole. */
    unlink(fill);
    run_parlab(&r, 30, "run", "-w", "noop", "-r", "seq", "-n", "1000", "--repeat", "1",
               "--warmup", "0", "--trace", path, (char *)NULL);
    if (r.status != 0 || read_small(path, buf, sizeof buf) || strncmp(buf, old, 33) != 0 ||
        !strcmp(buf, old))
        return 6;
    if (umount(dir) || mount("tmpfs", dir, "tmpfs", MS_RDONLY, "size=64k"))
        return 7;
    run_parlab(&r, 30, "run", "-w", "noop", "-r", "seq", "-n", "10", "--trace", path,
               (char *)NULL);
    if (!r.exited || r.status != PARLAB_EXIT_OS || count_lines(r.err) != 1 ||
        !strstr(r.err, "Read-only file system")) {
        fprintf(stderr, "\n  --trace on a read-only tmpfs: %d %d: %s", r.exited, r.status, r.err);
        return 8;
    }
    umount(dir);
    return 0;
}

/* Run check(dir) in a child (alarm-guarded) on a fresh empty folder, which the child
 * mounts a tmpfs on in its own mount namespace: 0 passes, 77 skips (no tmpfs here). The
 * folder must be empty afterwards (the tmpfs was the child's). */
static void on_tmpfs(int (*check)(const char *dir), unsigned limit_s)
{
    char dir[] = "/tmp/parlab-io-tmpfs-XXXXXX";
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        alarm(limit_s);
        _exit(check(dir));
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        fprintf(stderr, "\n  skipped: no tmpfs could be mounted here (needs root and mount "
                "namespaces)");
    else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fprintf(stderr, "\n  tmpfs check %d failed", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    CU_ASSERT(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 77));
    CU_ASSERT_EQUAL(rmdir(dir), 0);
}

static void test_trace_full_and_readonly(void)
{
    on_tmpfs(trace_on_tmpfs, 120);
}

/* In a child with its own mount namespace: a tiny bench whose results folder is a full
 * tmpfs exits 74 with one line naming the run folder, and publishes nothing (no latest).
 * The child exits 0 if all held, 77 if no tmpfs could be mounted, else the failed check. */
static int bench_on_tmpfs(const char *dir)
{
    char env[300], buf[4096];
    struct cmd_result *r = calloc(1, sizeof *r);
    if (!r)
        return 1;
    if (unshare(CLONE_NEWNS) || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
        mount("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0700"))
        return 77;
    snprintf(env, sizeof env, "%s", parlab_bin());
    setenv("PARLAB", env, 1);
    setenv("PARLAB_RESULTS", dir, 1);
    setenv("PARLAB_BENCH_TINY", "1", 1);
    setenv("PARLAB_BENCH_WORKLOADS", "primes", 1);
    setenv("PARLAB_BENCH_RUNNERS", "thread", 1);
    setenv("PARLAB_BENCH_SLEEP", "0", 1);
    char *argv[] = { "bash", "scripts/bench.sh", NULL };
    if (run_cmd(argv, 600, r) != 0)
        return 2;
    if (!r->exited || r->status != PARLAB_EXIT_IO || !strstr(r->err, "bench: writing ") ||
        !strstr(r->err, "no space left on device")) {
        fprintf(stderr, "\n  bench on a full tmpfs: %d %d: %.300s", r->exited, r->status,
                r->err);
        return 3;
    }
    snprintf(env, sizeof env, "%s/latest", dir);
    if (access(env, F_OK) == 0 || !strstr(listing(dir, buf, sizeof buf), ".partial"))
        return 4;   /* nothing published: the run stays .partial, latest is not made */
    umount(dir);
    free(r);
    return 0;
}

static void test_bench_full_tmpfs(void)
{
    on_tmpfs(bench_on_tmpfs, 900);
}

/* A folder the OS will not write in is the system's refusal (71), not a usage error:
 * as an unprivileged user in a folder only root may write in, and in /proc. */
static void test_trace_folder_refused(void)
{
    struct cmd_result r;
    run_parlab(&r, 10, "run", "-w", "noop", "-r", "seq", "-n", "10", "--trace", "/proc/t.csv",
               (char *)NULL);
    CU_ASSERT(r.exited && r.status == PARLAB_EXIT_OS && count_lines(r.err) == 1);
    if (geteuid() != 0) {
        fprintf(stderr, "\n  skipped the unwritable folder: not root, cannot become another user");
        return;
    }
    char dir[] = "/tmp/parlab-io-ro-XXXXXX", path[64];
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    chmod(dir, 0755);
    snprintf(path, sizeof path, "%s/t.csv", dir);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        alarm(30);
        if (setgid(65534) || setuid(65534))
            _exit(77);
        run_parlab(&r, 10, "run", "-w", "noop", "-r", "seq", "-n", "10", "--trace", path,
                   (char *)NULL);
        if (!r.exited || r.status != PARLAB_EXIT_OS || count_lines(r.err) != 1)
            fprintf(stderr, "\n  --trace in an unwritable folder: %d %d: %s", r.exited,
                    r.status, r.err);
        _exit(r.exited && r.status == PARLAB_EXIT_OS && count_lines(r.err) == 1 ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77)
        fprintf(stderr, "\n  skipped the unwritable folder: cannot become nobody");
    else
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT_EQUAL(rmdir(dir), 0);   /* nothing was made in it */
}

CU_TestInfo tests_io[] = {
    { "every command's output on /dev/full: exit 74, one line", test_dev_full_every_command },
    { "world start and status on /dev/full", test_dev_full_world },
    { "--expect: the workload's own answers pass, others are refused",
      test_expect_shape_of_own_answers },
    { "bad --expect, paths and values: exit 64 before any work", test_values_refused },
    { "a wrong answer is told once", test_wrong_told_once },
    { "--trace on a full tmpfs: 74, the old file kept; read-only: 71",
      test_trace_full_and_readonly },
    { "--trace in a folder the OS will not write in: 71", test_trace_folder_refused },
    { "a bench whose results folder fills up: 74, one line, nothing published",
      test_bench_full_tmpfs },
    CU_TEST_INFO_NULL,
};
