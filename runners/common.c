/* common.c: what every runner shares: schedule names, the clock, task execution with
 * tracing and planted faults, child processes, static blocks, error reports, and one job
 * on a pool (fork and thread). */
#define _GNU_SOURCE
#include "runner.h"
#include "../lib/pool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <string.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const sched_names[SCHED_STUDENT + 1] = { "static", "dynamic", "guided",
                                                            "student" };

const char *sched_name(enum sched_kind s)
{
    return (unsigned)s <= SCHED_STUDENT ? sched_names[s] : "?";
}

int sched_parse(const char *s, enum sched_kind *out)
{
    for (int i = 0; i <= SCHED_STUDENT; i++)
        if (strcmp(s, sched_names[i]) == 0) {
            *out = (enum sched_kind)i;
            return 0;
        }
    return -1;
}

unsigned cpus_allowed(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set))
        return 1;
    return (unsigned)CPU_COUNT(&set);
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

/* The ending closes the table (children_closed): a thread between runner_signals_hold()
 * and runner_signals_release() (forking) finishes adding its child first, and then no
 * thread starts a fork. Without this, the main thread could fork a worker just after a
 * handler in another thread (loopback's server) had killed and swept the others. */
static _Atomic int children_closed, forking;

void runner_kill_children(void)
{
    atomic_store(&children_closed, 1);
    uint64_t until = runner_now_ns() + 500 * 1000 * 1000;   /* bounded: it may be us */
    while (atomic_load(&forking) > 0 && runner_now_ns() < until) {
        struct timespec ms = { 0, 1000 * 1000 };
        nanosleep(&ms, NULL);
    }
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

static int child_tracked(pid_t pid)
{
    int hi = atomic_load(&children_hi);
    for (int i = 0; i < hi; i++)
        if (atomic_load(&children[i]) == (int)pid)
            return 1;
    return 0;
}

/* Kill (SIGKILL) and try to reap (WNOHANG) child pid unless spare_tracked and it is
 * tracked; 1 if it is still there, 0 if it is gone or spared. */
static int sweep_one(pid_t pid, int spare_tracked)
{
    if (pid <= 0 || (spare_tracked && child_tracked(pid)))
        return 0;
    kill(pid, SIGKILL);
    pid_t w;
    while ((w = waitpid(pid, NULL, WNOHANG)) < 0 && errno == EINTR)
        ;
    return w == 0;
}

/* Sweep every child of this process as /proc/self/task/TID/children lists them (a child
 * is listed under the thread that forked it, an adopted orphan under the one that took
 * it in). The number still there, or -1 where /proc cannot list children. Only system
 * calls and no allocation: async-signal-safe. */
static int sweep_children(int spare_tracked)
{
    struct dent { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; };
    char dbuf[2048], path[64], buf[512];
    int left = 0, listed = 0;
    long k;
    int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    while ((k = syscall(SYS_getdents64, dfd, dbuf, sizeof dbuf)) > 0) {
        for (long at = 0; at < k;) {
            struct dent *d = (struct dent *)(void *)(dbuf + at);
            at += d->reclen;
            if (d->name[0] < '0' || d->name[0] > '9')
                continue;
            size_t n = 0;
            for (const char *s = "/proc/self/task/"; *s; s++)
                path[n++] = *s;
            for (const char *s = d->name; *s && n < sizeof path - 10; s++)
                path[n++] = *s;
            for (const char *s = "/children"; *s; s++)
                path[n++] = *s;
            path[n] = '\0';
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;   /* the thread has ended, or no CONFIG_PROC_CHILDREN */
            listed = 1;
            long pid = 0;
            ssize_t r;
            while ((r = read(fd, buf, sizeof buf)) > 0)
                for (ssize_t i = 0; i < r; i++) {   /* "pid pid ... " */
                    if (buf[i] >= '0' && buf[i] <= '9') {
                        pid = pid * 10 + (buf[i] - '0');
                    } else if (pid) {
                        left += sweep_one((pid_t)pid, spare_tracked);
                        pid = 0;
                    }
                }
            if (pid)
                left += sweep_one((pid_t)pid, spare_tracked);
            close(fd);
        }
    }
    close(dfd);
    return listed ? left : -1;
}

void runner_reap_strays(int spare_tracked, double limit_s)
{
    uint64_t end = runner_now_ns() + (uint64_t)(limit_s * 1e9);
    for (;;) {
        int left = sweep_children(spare_tracked);
        if (left < 0) {   /* no list of children: reap what has ended, at least */
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
            return;
        }
        if (left == 0 || runner_now_ns() > end)
            return;
        struct timespec ms = { 0, 1000 * 1000 };
        nanosleep(&ms, NULL);
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
    /* Folding: the partial lives on this worker's stack, a line no other worker writes. */
    struct partial mine, *out = plan->fold ? &mine : &slots[task];
    if (planted && plan->inject != INJECT_ERROR)
        plant_fault(plan->inject, out);
    if (planted && plan->inject == INJECT_DROP)
        *out = (struct partial){ 0 };
    else
        job->wl->run_task(job, step, task, out);
    if (planted && plan->inject == INJECT_ERROR)
        plant_fault(plan->inject, out);
    if (plan->fold)
        runner_task_done(job, plan, step, task, worker, out);
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

void runner_child_setup(pid_t parent, const sigset_t *held)
{
    runner_child_init();            /* the parent's handlers go before its signals come in */
    runner_signals_release(held);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)    /* the parent died before prctl took effect */
        _exit(1);
}

void runner_task_done(const struct job *job, const struct plan *plan, unsigned step,
                      size_t task, unsigned worker, const struct partial *p)
{
    if (!plan->fold || step + 1 != job->steps)
        return;
    struct task_fold *f = &plan->fold[worker];
    /* A worker claims its tasks in rising order, so its first error is its lowest. */
    if (p->err && task < f->err_task) {
        f->err_task = task;
        f->err = p->err;
    }
    job->wl->combine(&f->acc, p);
}

void runner_stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

/* The thread that takes the stop signals itself, or 0 (runner_stop_taker). */
static _Atomic pid_t stop_taker;

void runner_stop_taker(int on)
{
    atomic_store(&stop_taker, on ? (pid_t)syscall(SYS_gettid) : 0);
}

int runner_stop_redirect(int sig)
{
    pid_t tid = atomic_load(&stop_taker);
    if (!tid || tid == (pid_t)syscall(SYS_gettid))
        return 0;
    return syscall(SYS_tgkill, getpid(), tid, sig) == 0;
}

void runner_signals_hold(sigset_t *old)
{
    sigset_t stops;
    runner_stop_signals(&stops);
    pthread_sigmask(SIG_BLOCK, &stops, old);
    atomic_fetch_add(&forking, 1);
    if (atomic_load(&children_closed)) {   /* the run is ending in another thread */
        atomic_fetch_sub(&forking, 1);
        for (;;)
            pause();   /* until that thread's _exit */
    }
}

void runner_signals_release(const sigset_t *old)
{
    atomic_fetch_sub(&forking, 1);
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

pid_t runner_fork_worker(void)
{
    pid_t parent = getpid();
    sigset_t old;
    fflush(NULL);
    runner_signals_hold(&old);   /* until the child is in the table: see runner.h */
    pid_t pid = fork();
    if (pid == 0) {
        runner_child_setup(parent, &old);
        return 0;
    }
    if (pid > 0)
        runner_child_add(pid);
    int e = errno;
    runner_signals_release(&old);
    errno = e;
    return pid;
}

/* A map task of a job: one task as every runner runs it. */
struct pool_job {
    struct job *job;
    const struct plan *plan;
    struct partial *slots;
};

static void pool_job_task(void *ctx, uint64_t step, size_t task, unsigned worker)
{
    struct pool_job *pj = ctx;
    runner_exec_task(pj->job, pj->plan, (unsigned)step, task, worker, pj->slots);
}

/* What a worker of the forkserver or spawn start method is told of the job: it has none
 * of the parent's memory but the shared regions (the slots, folds, trace and watch rows,
 * and a workload's shared state), each at the parent's address. */
struct pool_job_msg {
    struct job job;
    struct plan plan;
    struct partial *slots;
};
_Static_assert(sizeof(struct pool_job_msg) <= POOL_BOOT_MSG_MAX, "POOL_BOOT_MSG_MAX");

/* In such a worker: rebuild the job and make it the context of every map. State that
 * setup() put in shared memory (state_len > 0: n-body's bodies) is the parent's, already
 * mapped; private state (loopback's server) is rebuilt by running setup() here, as every
 * mpi rank does; a workload without setup has none. */
static void pool_job_boot(struct pool *local, const void *msg, size_t len)
{
    struct pool_job_msg *m = malloc(sizeof *m);
    struct pool_job *pj = malloc(sizeof *pj);
    if (!m || !pj || len != sizeof *m)
        runner_fatal(PARLAB_EXIT_OS, "pool worker: cannot rebuild the job");
    memcpy(m, msg, sizeof *m);
    m->job.wl = POOL_CODE(const struct workload *, m->job.wl);
    if (m->job.state_len == 0 && m->job.wl->setup) {
        m->job.state = NULL;
        errno = 0;
        if (m->job.wl->setup(&m->job))
            runner_fatal(PARLAB_EXIT_OS, "pool worker: %s: setup: %s", m->job.wl->name,
                         strerror(errno ? errno : EINVAL));
    }
    *pj = (struct pool_job){ &m->job, &m->plan, m->slots };
    pool_set_local_ctx(local, pj);
}

int runner_pool_run(const struct pool_ops *ops, struct job *job, const struct plan *plan,
                    struct partial *slots, struct outcome *out)
{
    /* Built before the pool, so each forked worker has its own copy at this address. */
    struct pool_job pj = { job, plan, slots };
    struct pool_job_msg msg = { *job, *plan, slots };
    struct pool_config cfg = { .boot = pool_job_boot, .boot_msg = &msg, .boot_len = sizeof msg };
    struct pool_error e;
    struct pool *p;
    char why[200];
    int err;

    if ((err = pool_open(&p, ops, plan->workers, &cfg))) {
        if (ops == &pool_processes_spawn && (err == -ENOENT || err == -EACCES || err == -ENOEXEC))
            return outcome_fail(out, PARLAB_EXIT_OS, "cannot spawn workers from %s: %s",
                                pool_spawn_exe(), strerror(-err));
        return outcome_fail(out, PARLAB_EXIT_OS, "cannot start %u %s workers: %s",
                            plan->workers, ops->what, strerror(-err));
    }
    /* A worker process past its timeout can be killed alone; a thread cannot, so thread
     * runs leave timeouts to the harness's watchdog, which ends the process at once
     * (freeing memory a stuck thread still uses would only crash it). */
    if (ops->kill)
        pool_set_task_timeout(p, plan->task_timeout_s);
    for (unsigned s = 0; s < job->steps; s++) {
        if (pool_map(p, job->tasks, plan->schedule, plan->chunk, pool_job_task, &pj, s, &e)) {
            pool_error_str(&e, ops->kind, why, sizeof why);
            pool_destroy(p);
            /* Policy: fail fast. The pool is shut down and the tasks not yet run are
             * dropped, as ProcessPoolExecutor's BrokenProcessPool does, not rerun. */
            return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "%s; pool shut down, remaining tasks dropped",
                                why);
        }
    }
    pool_destroy(p);
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

void (*runner_fatal_hook)(int code, const char *msg);

void runner_fatal(int code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (runner_fatal_hook)
        runner_fatal_hook(code, msg);
    fflush(stdout);
    fprintf(stderr, "%s\n", msg);
    _exit(code);
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

int runner_usable(const struct runner *r, char *why, size_t n)
{
    return !r->available || r->available(why, n);
}
