/* common.c: what every runner shares: schedule names, the clock, task execution with
 * tracing and planted faults, static blocks, and error reports. */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const sched_names[SCHED__COUNT] = { "static", "dynamic", "guided" };

const char *sched_name(enum sched_kind s)
{
    return (unsigned)s < SCHED__COUNT ? sched_names[s] : "?";
}

int sched_parse(const char *s, enum sched_kind *out)
{
    for (int i = 0; i < SCHED__COUNT; i++)
        if (strcmp(s, sched_names[i]) == 0) {
            *out = (enum sched_kind)i;
            return 0;
        }
    return -1;
}

uint64_t runner_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The task this thread is running, for the crash handler's message. */
static __thread long runner_current_task = -1;

long runner_task_of_thread(void)
{
    return runner_current_task;
}

#define MAX_CHILDREN 8192
static _Atomic int children[MAX_CHILDREN];
static _Atomic int children_hi;   /* slots at and above it were never used */

void runner_child_add(pid_t pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++) {
        int zero = 0;
        if (atomic_compare_exchange_strong(&children[i], &zero, (int)pid)) {
            int hi = atomic_load(&children_hi);
            while (hi < i + 1 && !atomic_compare_exchange_weak(&children_hi, &hi, i + 1))
                ;
            return;
        }
    }
}

void runner_child_del(pid_t pid)
{
    int hi = atomic_load(&children_hi);
    for (int i = 0; i < hi; i++) {
        int p = (int)pid;
        if (atomic_compare_exchange_strong(&children[i], &p, 0))
            return;
    }
}

void runner_kill_children(void)
{
    int hi = atomic_load(&children_hi);
    for (int i = 0; i < hi; i++) {
        int pid = atomic_load(&children[i]);
        if (pid > 0)
            kill(pid, SIGKILL);
    }
    for (int i = 0; i < hi; i++) {
        int pid = atomic_exchange(&children[i], 0);
        if (pid > 0)
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
    }
}

void runner_child_init(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGBUS, SIGFPE, SIGILL };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        signal(sigs[i], SIG_DFL);
    /* The siblings in the inherited table are not this child's to kill. */
    int hi = atomic_load_explicit(&children_hi, memory_order_relaxed);
    for (int i = 0; i < hi; i++)
        atomic_store_explicit(&children[i], 0, memory_order_relaxed);
    atomic_store_explicit(&children_hi, 0, memory_order_relaxed);
}

static void plant_fault(enum inject_kind k, struct partial *out)
{
    switch (k) {
    case INJECT_SEGV: {
        /* A real invalid write, not raise(): page 0 is never mapped. Not NULL itself,
         * so that the undefined-behaviour sanitizer lets the fault happen. */
        volatile uintptr_t addr = 64;
        *(volatile int *)addr = 1;
        break;
    }
    case INJECT_KILL:
        raise(SIGKILL);
        break;
    case INJECT_EXIT:
        _exit(3);
    case INJECT_HANG:
        for (;;)
            pause();
    case INJECT_ERROR:
        out->err = 5; /* EIO: reported through the result path */
        break;
    default:
        break;
    }
}

void runner_exec_task(const struct job *job, const struct plan *plan, unsigned step,
                      size_t task, unsigned worker, struct partial *slots)
{
    uint64_t t0 = plan->trace ? runner_now_ns() : 0;
    /* Crashes strike on the first step; a reported error on the last, whose partials are
     * the ones the harness reads. */
    unsigned at = plan->inject_step ? plan->inject_step - 1
                  : plan->inject == INJECT_ERROR ? job->steps - 1 : 0;
    int planted = plan->inject != INJECT_NONE && task == plan->inject_task && step == at;
    runner_current_task = (long)task;
    if (plan->watch) {
        atomic_store_explicit(&plan->watch[worker].start_ns, runner_now_ns(), memory_order_relaxed);
        atomic_store_explicit(&plan->watch[worker].task, (long)task, memory_order_release);
    }
    if (planted && plan->inject != INJECT_ERROR)
        plant_fault(plan->inject, &slots[task]);
    job->wl->run_task(job, step, task, &slots[task]);
    if (planted && plan->inject == INJECT_ERROR)
        plant_fault(plan->inject, &slots[task]);
    runner_current_task = -1;
    if (plan->watch)
        atomic_store_explicit(&plan->watch[worker].task, -1, memory_order_release);
    if (plan->trace) {
        struct trace_rec *r = &plan->trace[(size_t)step * job->tasks + task];
        r->task = (uint32_t)task;
        r->worker = worker;
        r->step = step;
        r->start_ns = t0;
        r->end_ns = runner_now_ns();
    }
}

pid_t runner_fork_worker(void)
{
    pid_t parent = getpid();
    sigset_t stops, old;
    fflush(NULL);
    /* A signal between fork() and runner_child_add() would end us with an untracked
     * child: hold the stopping signals until it is in the table (and, in the child,
     * until the inherited handlers are gone). */
    sigemptyset(&stops);
    sigaddset(&stops, SIGINT);
    sigaddset(&stops, SIGTERM);
    sigaddset(&stops, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stops, &old);
    pid_t pid = fork();
    if (pid > 0)
        runner_child_add(pid);
    if (pid == 0)
        runner_child_init();
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (pid != 0)
        return pid;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)    /* the parent died before prctl took effect */
        _exit(1);
    return 0;
}

void runner_death_str(char *buf, size_t n, long task, pid_t pid, int sig, int exit_status)
{
    char who[64], how[64];
    if (task >= 0)
        snprintf(who, sizeof who, "task %ld (worker pid %ld)", task, (long)pid);
    else
        snprintf(who, sizeof who, "worker pid %ld, between tasks,", (long)pid);
    if (sig)
        snprintf(how, sizeof how, "killed by SIG%s", sigabbrev_np(sig));
    else
        snprintf(how, sizeof how, "exited with status %d", exit_status);
    snprintf(buf, n, "%s %s", who, how);
}

void sched_static_block(size_t n, unsigned workers, unsigned w, size_t *lo, size_t *hi)
{
    /* OpenMP's static split: the first n % W workers take one extra task. */
    size_t q = n / workers, r = n % workers;
    *lo = (size_t)w * q + (w < r ? w : r);
    *hi = *lo + q + (w < r ? 1 : 0);
}

int outcome_fail(struct outcome *out, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->msg, sizeof out->msg, fmt, ap);
    va_end(ap);
    out->code = code;
    return -1;
}
