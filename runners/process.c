/* process.c: one fork() per task (the seed's Process(...).start()/join()), at most W
 * alive at once. No pool: every task pays for a process, which is the lesson. */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct child {
    pid_t pid;
    size_t task;
    uint64_t start_ns;
};

static void kill_all(struct child *c, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (c[i].pid > 0) {
            kill(c[i].pid, SIGKILL);
            waitpid(c[i].pid, NULL, 0);
            child_del(c[i].pid);
            c[i].pid = 0;
        }
}

/* Wait for one child of ours. With a timeout, poll so an overdue task can be killed.
 * Returns its pid, with *status and its *slot (*timed_out: 1 if it was killed for its
 * timeout), or -errno. */
static pid_t reap_one(struct child *c, unsigned n, const struct plan *plan, int *status,
                      unsigned *slot, int *timed_out)
{
    *timed_out = 0;
    for (;;) {
        pid_t pid = waitpid(-1, status, plan->task_timeout_s > 0 ? WNOHANG : 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            return -errno;
        if (pid > 0) {
            for (unsigned i = 0; i < n; i++)
                if (c[i].pid == pid) {
                    child_del(pid);
                    *slot = i;
                    return pid;
                }
            continue; /* not one of ours */
        }
        uint64_t now = clock_now_ns(), limit = (uint64_t)(plan->task_timeout_s * 1e9);
        for (unsigned i = 0; i < n; i++)
            if (c[i].pid > 0 && now - c[i].start_ns >= limit) {
                kill(c[i].pid, SIGKILL);
                waitpid(c[i].pid, status, 0);
                child_del(c[i].pid);
                *slot = i;
                *timed_out = 1;
                return c[i].pid;
            }
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
}

static int process_run(struct job *job, const struct plan *plan, struct partial *slots,
                     struct outcome *out)
{
    unsigned W = plan->workers;
    struct child *c = calloc(W, sizeof *c);

    if (!c)
        return outcome_fail(out, PARLAB_EXIT_OS, "process: out of memory");
    for (unsigned s = 0; s < job->steps; s++) {
        size_t next = 0, finished = 0;
        unsigned alive = 0;
        while (finished < job->tasks) {
            while (alive < W && next < job->tasks) {
                unsigned i = 0;
                while (c[i].pid > 0)
                    i++;
                pid_t pid = child_fork();
                if (pid < 0) {
                    kill_all(c, W);
                    free(c);
                    return outcome_fail(out, PARLAB_EXIT_OS, "process: fork for task %zu: %s",
                                        next, strerror((int)-pid));
                }
                if (pid == 0) {
                    runner_exec_task(job, plan, s, next, i, slots);
                    fflush(NULL);
                    _exit(0);
                }
                c[i] = (struct child){ pid, next, clock_now_ns() };
                next++;
                alive++;
            }
            int st, timed_out;
            unsigned i = 0;
            pid_t pid = reap_one(c, W, plan, &st, &i, &timed_out);
            if (pid < 0) {
                kill_all(c, W);
                free(c);
                return outcome_fail(out, PARLAB_EXIT_OS, "process: waitpid: %s", strerror(-pid));
            }
            size_t task = c[i].task;
            c[i].pid = 0;
            alive--;
            finished++;
            if (timed_out || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                kill_all(c, W);
                free(c);
                if (timed_out)
                    return outcome_fail(out, PARLAB_EXIT_SOFTWARE,
                                        "task %zu (worker pid %ld) ran past the task timeout; worker killed",
                                        task, (long)pid);
                char why[160];
                child_death_str(why, sizeof why, (long)task, pid,
                                 WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                                 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
                return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "%s", why);
            }
        }
    }
    free(c);
    return 0;
}

const struct runner runner_process = {
    .name = "process",
    .summary = "one fork() per task, at most W alive (Process per task): what a pool saves",
    .schedules = SCHED_BIT(SCHED_DYNAMIC),
    .default_schedule = SCHED_DYNAMIC,
    .flags = RUNNER_PARALLEL | RUNNER_PROCESSES | RUNNER_OWN_TIMEOUT,
    .run = process_run,
};
