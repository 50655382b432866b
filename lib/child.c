/* child.c: the table of child processes, the stop signals, forking a worker, and how a
 * worker's death reads (child.h). */
#define _GNU_SOURCE
#include "child.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CHILDREN 8192
static _Atomic int children[MAX_CHILDREN];
static _Atomic int children_hi;   /* slots at and above it were never used */

void child_add(pid_t pid)
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

void child_del(pid_t pid)
{
    int hi = atomic_load(&children_hi);
    for (int i = 0; i < hi; i++) {
        int p = (int)pid;
        if (atomic_compare_exchange_strong(&children[i], &p, 0))
            return;
    }
}

/* The ending closes the table (children_closed): a thread between child_signals_hold()
 * and child_signals_release() (forking) finishes adding its child first, and then no
 * thread starts a fork. Without this, the main thread could fork a worker just after a
 * handler in another thread (loopback's server) had killed and swept the others. */
static _Atomic int children_closed, forking;

void child_kill_all(void)
{
    atomic_store(&children_closed, 1);
    uint64_t until = clock_now_ns() + 500 * 1000 * 1000;   /* bounded: it may be us */
    while (atomic_load(&forking) > 0 && clock_now_ns() < until) {
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

void child_reap_strays(int spare_tracked, double limit_s)
{
    uint64_t end = clock_now_ns() + (uint64_t)(limit_s * 1e9);
    for (;;) {
        int left = sweep_children(spare_tracked);
        if (left < 0) {   /* no list of children: reap what has ended, at least */
            while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
            return;
        }
        if (left == 0 || clock_now_ns() > end)
            return;
        struct timespec ms = { 0, 1000 * 1000 };
        nanosleep(&ms, NULL);
    }
}

void child_init(void)
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


void child_setup(pid_t parent, const sigset_t *held)
{
    child_init();            /* the parent's handlers go before its signals come in */
    child_signals_release(held);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)    /* the parent died before prctl took effect */
        _exit(1);
}

void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

/* The thread that takes the stop signals itself, or 0 (stop_taker). */
static _Atomic pid_t taker;

void stop_taker(int on)
{
    atomic_store(&taker, on ? (pid_t)syscall(SYS_gettid) : 0);
}

int stop_redirect(int sig)
{
    pid_t tid = atomic_load(&taker);
    if (!tid || tid == (pid_t)syscall(SYS_gettid))
        return 0;
    return syscall(SYS_tgkill, getpid(), tid, sig) == 0;
}

void child_signals_hold(sigset_t *old)
{
    sigset_t stops;
    stop_signals(&stops);
    pthread_sigmask(SIG_BLOCK, &stops, old);
    atomic_fetch_add(&forking, 1);
    if (atomic_load(&children_closed)) {   /* the run is ending in another thread */
        atomic_fetch_sub(&forking, 1);
        for (;;)
            pause();   /* until that thread's _exit */
    }
}

void child_signals_release(const sigset_t *old)
{
    atomic_fetch_sub(&forking, 1);
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

pid_t child_fork(void)
{
    pid_t parent = getpid();
    sigset_t old;
    fflush(NULL);
    child_signals_hold(&old);   /* until the child is in the table: see child.h */
    pid_t pid = fork();
    if (pid == 0) {
        child_setup(parent, &old);
        return 0;
    }
    if (pid > 0)
        child_add(pid);
    int e = errno;
    child_signals_release(&old);
    errno = e;
    return pid < 0 ? -e : pid;
}

void child_death_str(char *buf, size_t n, long task, pid_t pid, int sig, int exit_status)
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
