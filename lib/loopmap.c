/* loopmap.c: a job's steps over L event loops in L processes (loopmap.h): the claims and
 * the feed, the step barrier, and loop 0's watch over the others. */
#define _GNU_SOURCE
#include "loopmap.h"

#include <errno.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "shm.h"
#include "sync.h"

/* MONITOR_NS (child.h): how often the first loop looks for ended loop processes that no
 * pidfd reports (when pidfd_open failed, e.g. out of fds under a low ulimit -n). */

/* What one loop publishes about itself: a cache line each, so loops never share one. */
struct lm_slot {
    alignas(PARLAB_CACHELINE) _Atomic long cur_task;  /* task whose callback runs, or -1 */
    _Atomic uint32_t steps_done;                       /* steps this loop has finished */
    _Atomic uint32_t in_flight;                        /* waiting tasks it has */
};

/*
 * Shared by every loop process. The first loop (the calling process) is the coordinator:
 * it alone writes `next` between steps and `released`; the others only claim from
 * `next`, write their own slot, and read `released`.
 */
struct lm_shm {
    alignas(PARLAB_CACHELINE) _Atomic size_t next;     /* dynamic: next unclaimed task */
    alignas(PARLAB_CACHELINE) _Atomic uint32_t released;  /* futex: steps loops may run */
    _Atomic uint32_t fail_claimed;                     /* the first failure wins */
    _Atomic uint32_t fail_set;                         /* fail_code/fail_msg are written */
    int fail_code;
    char fail_msg[200];
    struct lm_slot slot[];
};

struct lm_child {
    pid_t pid;
    int pidfd;        /* -1: watched by the monitor timer instead */
    int alive;        /* not reaped yet */
};

struct loopmap {
    const struct loopmap_spec *s;
    struct lm_shm *shm;
    struct loop *loop;
    unsigned k, L;           /* this loop, and how many there are */
    unsigned step;
    int failed;              /* this process recorded a failure: stop */

    /* this step's claims */
    size_t cur, hi;          /* claimed and not yet started: [cur, hi) */
    size_t claims;           /* claims made this step (static) */
    int fed;                 /* no more claims this step */
    size_t pending;          /* tasks waiting */

    /* the coordinator only (k == 0 and L > 1) */
    struct lm_child *kids;   /* kids[1..L-1] */
    int evfd;                /* the others write 1 here after each step */
    int self_done;           /* this loop finished the step */
    int step_over;           /* every loop finished the step */
    uint64_t monitor_id;
};

void loopmap_fail(struct loopmap *m, int code, const char *fmt, ...)
{
    struct lm_shm *s = m->shm;
    uint32_t zero = 0;
    if (atomic_compare_exchange_strong(&s->fail_claimed, &zero, 1)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->fail_msg, sizeof s->fail_msg, fmt, ap);
        va_end(ap);
        s->fail_code = code;
        atomic_store_explicit(&s->fail_set, 1, memory_order_release);
    }
    m->failed = 1;
    if (m->loop)
        loop_stop(m->loop);
}

struct loopmap *loopmap_of(struct loop *loop)
{
    return loop_data(loop);
}

void *loopmap_ctx(const struct loopmap *m)
{
    return m->s->ctx;
}

struct loop *loopmap_loop(const struct loopmap *m)
{
    return m->loop;
}

void loopmap_set_current(struct loopmap *m, long task)
{
    atomic_store_explicit(&m->shm->slot[m->k].cur_task, task, memory_order_release);
}

/* Claim the next range of this step's tasks for this loop: 1 and [*lo, *hi), or 0. The
 * rules are OpenMP's, as in the pools: static without a chunk is one contiguous block per
 * loop; static with a chunk deals chunks round-robin; dynamic takes chunks (default 1)
 * from the shared counter. */
static int claim(struct loopmap *m, size_t *lo, size_t *hi)
{
    size_t n = m->s->tasks, c = m->s->chunk, l;
    if (m->s->sched != SCHED_STATIC) {
        c = c ? c : 1;
        l = atomic_fetch_add_explicit(&m->shm->next, c, memory_order_relaxed);
    } else if (c == 0) {
        if (m->claims++)
            return 0;
        sched_static_block(n, m->L, m->k, lo, hi);
        return *lo < *hi;
    } else {
        l = (m->k + m->claims++ * m->L) * c;
    }
    if (l >= n)
        return 0;
    *lo = l;
    *hi = n - l > c ? l + c : n;
    return 1;
}

static void check_barrier(struct loopmap *m);

/* This loop's part of the step may be over: all claimed, nothing waiting. */
static void step_check(struct loopmap *m)
{
    if (!m->fed || m->pending || m->self_done)
        return;
    m->self_done = 1;
    if (m->kids)
        check_barrier(m);
    /* A loop without others to wait for runs out of work and loop_run returns. */
}

void loopmap_task_done(struct loopmap *m)
{
    m->pending--;
    atomic_store_explicit(&m->shm->slot[m->k].in_flight, (uint32_t)m->pending,
                          memory_order_relaxed);
    step_check(m);
}

void loopmap_task_waits(struct loopmap *m)
{
    m->pending++;
    atomic_store_explicit(&m->shm->slot[m->k].in_flight, (uint32_t)m->pending,
                          memory_order_relaxed);
}

/* Hand task t to the caller (fn, ctx: the spec's), with t published as this loop's
 * current task meanwhile. */
static inline void run_task(struct loopmap *m, loopmap_task_fn fn, void *ctx, size_t t)
{
    _Atomic long *cur = &m->shm->slot[m->k].cur_task;
    atomic_store_explicit(cur, (long)t, memory_order_release);
    fn(m, ctx, m->step, m->k, t);
    atomic_store_explicit(cur, -1, memory_order_release);
}

/* ---- the feeder: one deferred callback that claims work and re-defers itself ---- */

static void feed(struct loop *loop, void *arg)
{
    struct loopmap *m = arg;
    loopmap_task_fn fn = m->s->task;
    void *ctx = m->s->ctx;
    if (m->failed)
        return;
    if (m->cur == m->hi && !claim(m, &m->cur, &m->hi)) {
        m->fed = 1;
        step_check(m);
        return;
    }
    if (m->s->async) {
        /* Every task of the claim starts now and waits in the loop. Starting one is
         * short, so one feed makes up to LOOPMAP_FEED claims (each still of the
         * schedule's chunk) before the loop polls again: a loop iteration per task would
         * cost more than the task. */
        for (unsigned c = 0; !m->failed; ) {
            while (m->cur < m->hi && !m->failed)
                run_task(m, fn, ctx, m->cur++);
            if (++c == LOOPMAP_FEED || m->failed || !claim(m, &m->cur, &m->hi))
                break;
        }
    } else {
        /* CPU tasks run to completion, one per callback, so that the loop polls its fds
         * and timers between tasks (the task itself blocks the loop while it runs). With
         * nothing to poll (no fd watched, no timer pending: a lone loop on CPU work), a
         * return to the loop between tasks only costs time, so up to LOOPMAP_FEED tasks
         * run in this callback, each still claimed by the schedule's rules. */
        unsigned batch = loop_watch_count(loop) || loop_timer_count(loop) ? 1 : LOOPMAP_FEED;
        for (unsigned i = 0;;) {
            run_task(m, fn, ctx, m->cur++);
            if (++i == batch || m->failed ||
                (m->cur == m->hi && !claim(m, &m->cur, &m->hi)))
                break;
        }
    }
    if (!m->failed && loop_defer(loop, feed, m))
        loopmap_fail(m, PARLAB_EXIT_OS, "event loop %u: out of memory", m->k);
}

/* Run this loop's share of step `step` until the loop stops or runs out of work.
 * Returns 0, or -1 if a failure was recorded. */
static int run_step(struct loopmap *m, unsigned step)
{
    m->step = step;
    m->cur = m->hi = 0;
    m->claims = 0;
    m->fed = 0;
    m->pending = 0;
    atomic_store_explicit(&m->shm->slot[m->k].in_flight, 0, memory_order_relaxed);
    m->self_done = 0;
    m->step_over = 0;
    if (loop_defer(m->loop, feed, m)) {
        loopmap_fail(m, PARLAB_EXIT_OS, "event loop %u: out of memory", m->k);
        return -1;
    }
    while (!m->failed && !(m->kids ? m->step_over : m->self_done)) {
        int rc = loop_run(m->loop);
        if (rc < 0) {
            loopmap_fail(m, PARLAB_EXIT_OS, "event loop %u: epoll_wait: %s", m->k,
                         strerror(-rc));
            break;
        }
        if (rc == 0 && !m->failed && !(m->kids ? m->step_over : m->self_done)) {
            loopmap_fail(m, PARLAB_EXIT_SOFTWARE, "event loop %u ran out of work in step %u",
                         m->k, step);
            break;
        }
    }
    return m->failed ? -1 : 0;
}

/* This process's loop, with the map as its data: what the callbacks of waiting tasks
 * find it by (loopmap_of). 0 or -errno. */
static int lm_loop_open(struct loopmap *m)
{
    int e = loop_open(&m->loop);
    if (!e)
        loop_set_data(m->loop, m);
    return e;
}

/* ---- the other loops, in their own processes ---- */

static _Noreturn void child_main(struct loopmap *m)
{
    int e = lm_loop_open(m);
    if (e) {
        loopmap_fail(m, PARLAB_EXIT_OS, "event loop %u: cannot create: %s", m->k, strerror(-e));
        _exit(1);
    }
    struct lm_shm *s = m->shm;
    for (unsigned step = 0; step < m->s->steps; step++) {
        uint32_t g;
        while ((g = atomic_load_explicit(&s->released, memory_order_acquire)) <= step)
            sync_wait(&s->released, g, 0);
        if (run_step(m, step))
            _exit(1);
        atomic_store_explicit(&s->slot[m->k].steps_done, step + 1, memory_order_release);
        uint64_t one = 1;
        if (write(m->evfd, &one, sizeof one) != (ssize_t)sizeof one)
            _exit(1);
    }
    loop_destroy(m->loop);
    _exit(0);
}

/* ---- the coordinator: the calling process is loop 0 and watches the others ---- */

/* Every loop has finished the step: stop the coordinator's loop so it can release the
 * next step. Called whenever a loop may have finished (its own, an eventfd, a reap). */
static void check_barrier(struct loopmap *m)
{
    if (!m->self_done || m->step_over)
        return;
    for (unsigned k = 1; k < m->L; k++)
        if (atomic_load_explicit(&m->shm->slot[k].steps_done, memory_order_acquire) <=
            m->step)
            return;
    m->step_over = 1;
    loop_stop(m->loop);
}

static void kid_unwatch(struct loopmap *m, struct lm_child *c)
{
    if (c->pidfd >= 0) {
        if (m->loop)
            loop_unwatch(m->loop, c->pidfd);
        close(c->pidfd);
        c->pidfd = -1;
    }
}

/* Judge how loop k's process ended (it has been reaped with status st). */
static void judge_exit(struct loopmap *m, unsigned k, int st)
{
    struct lm_shm *s = m->shm;
    pid_t pid = m->kids[k].pid;
    long task = atomic_load(&s->slot[k].cur_task);
    uint32_t done = atomic_load_explicit(&s->slot[k].steps_done, memory_order_acquire);

    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
        if (done < m->s->steps)
            loopmap_fail(m, PARLAB_EXIT_SOFTWARE,
                         "event loop %u (worker pid %ld) exited before finishing step %u", k,
                         (long)pid, done);
        else
            check_barrier(m);
        return;
    }
    if (WIFEXITED(st) && WEXITSTATUS(st) == 1 &&
        atomic_load_explicit(&s->fail_set, memory_order_acquire)) {
        m->failed = 1;   /* it recorded why itself */
        loop_stop(m->loop);
        return;
    }
    char why[160];
    uint32_t waiting = atomic_load_explicit(&s->slot[k].in_flight, memory_order_relaxed);
    child_death_str(why, sizeof why, task, pid, WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    if (task < 0 && waiting > 0) {   /* not between tasks: its async tasks were waiting */
        const char *how = strstr(why, "between tasks, ");
        loopmap_fail(m, PARLAB_EXIT_SOFTWARE,
                     "event loop %u (worker pid %ld) with %u tasks in flight %s", k, (long)pid,
                     waiting, how ? how + strlen("between tasks, ") : why);
        return;
    }
    loopmap_fail(m, PARLAB_EXIT_SOFTWARE, "%s", why);
}

/* Reap loop k if it has ended (flags: 0 to wait, WNOHANG to look). */
static void reap_kid(struct loopmap *m, unsigned k, int flags)
{
    struct lm_child *c = &m->kids[k];
    int st;
    pid_t p;
    if (!c->alive)
        return;
    while ((p = waitpid(c->pid, &st, flags)) < 0 && errno == EINTR)
        ;
    if (p == 0)
        return;
    if (p > 0)
        child_del(c->pid);
    c->alive = 0;
    kid_unwatch(m, c);
    if (p < 0)
        loopmap_fail(m, PARLAB_EXIT_OS, "waitpid for event loop %u (pid %ld): %s", k,
                     (long)c->pid, strerror(errno));
    else
        judge_exit(m, k, st);
}

static void on_pidfd(struct loop *loop, int fd, unsigned events, void *arg)
{
    struct loopmap *m = arg;
    (void)loop, (void)events;
    for (unsigned k = 1; k < m->L; k++)
        if (m->kids[k].pidfd == fd) {
            reap_kid(m, k, WNOHANG);
            return;
        }
}

static void on_arrival(struct loop *loop, int fd, unsigned events, void *arg)
{
    uint64_t n;
    (void)loop, (void)events;
    if (read(fd, &n, sizeof n) < 0 && errno != EAGAIN)
        loopmap_fail(arg, PARLAB_EXIT_OS, "read of the step eventfd: %s", strerror(errno));
    else
        check_barrier(arg);
}

/* Look for loop processes that ended without a pidfd to say so. It runs between the
 * coordinator's own callbacks, so a long task there delays it. */
static void on_monitor(struct loop *loop, uint64_t id, void *arg)
{
    struct loopmap *m = arg;
    (void)id;
    m->monitor_id = 0;
    for (unsigned k = 1; k < m->L && !m->failed; k++)
        if (m->kids[k].pidfd < 0)
            reap_kid(m, k, WNOHANG);
    if (!m->failed) {
        m->monitor_id = loop_add_timer(loop, MONITOR_NS, on_monitor, m);
        if (!m->monitor_id)
            loopmap_fail(m, PARLAB_EXIT_OS, "event loop 0: cannot add a timer: %s",
                         strerror(errno));
    }
}

static void kill_kids(struct loopmap *m)
{
    for (unsigned k = 1; k < m->L; k++) {
        struct lm_child *c = &m->kids[k];
        if (c->alive) {
            kill(c->pid, SIGKILL);
            while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
                ;
            child_del(c->pid);
            c->alive = 0;
        }
        kid_unwatch(m, c);
    }
}

/* Fork loops 1..L-1. Returns 0, or -1 with the failure recorded (and none left). */
static int start_kids(struct loopmap *m)
{
    for (unsigned k = 1; k < m->L; k++) {
        pid_t pid = child_fork();   /* tracked: a signal ending us reaps it too */
        if (pid < 0) {
            int e = (int)-pid;
            kill_kids(m);
            loopmap_fail(m, PARLAB_EXIT_OS, "epoll: fork for event loop %u of %u: %s", k,
                         m->L, strerror(e));
            return -1;
        }
        if (pid == 0) {
            m->k = k;
            m->kids = NULL;
            child_main(m);
        }
        m->kids[k] = (struct lm_child){ .pid = pid, .pidfd = -1, .alive = 1 };
    }
    return 0;
}

/* Watch the other loops: a pidfd per process where possible, else the monitor timer. */
static int watch_kids(struct loopmap *m)
{
    int need_monitor = 0;
    int e = loop_watch_fd(m->loop, m->evfd, LOOP_READABLE, on_arrival, m);
    if (e) {
        loopmap_fail(m, PARLAB_EXIT_OS, "epoll: watch the step eventfd: %s", strerror(-e));
        return -1;
    }
    for (unsigned k = 1; k < m->L; k++) {
        struct lm_child *c = &m->kids[k];
        c->pidfd = pidfd_open(c->pid, 0);
        if (c->pidfd >= 0 && loop_watch_fd(m->loop, c->pidfd, LOOP_READABLE, on_pidfd, m)) {
            close(c->pidfd);
            c->pidfd = -1;
        }
        if (c->pidfd < 0)
            need_monitor = 1;   /* out of fds (ulimit -n), or no pidfd in this kernel */
    }
    if (need_monitor) {
        m->monitor_id = loop_add_timer(m->loop, MONITOR_NS, on_monitor, m);
        if (!m->monitor_id) {
            loopmap_fail(m, PARLAB_EXIT_OS, "epoll: cannot add a timer: %s", strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* The steps in loop 0, releasing the others after each. -1 once a failure is recorded. */
static int coordinate(struct loopmap *m)
{
    /* The loop is made after the forks, so no other process shares its epoll set. */
    int e = lm_loop_open(m);
    if (e) {
        loopmap_fail(m, PARLAB_EXIT_OS, "epoll: cannot create the event loop: %s", strerror(-e));
        return -1;
    }
    if (m->kids && watch_kids(m))
        return -1;
    for (unsigned step = 0; step < m->s->steps; step++) {
        if (run_step(m, step))
            return -1;
        if (step + 1 == m->s->steps)
            break;
        /* Every loop is past step `step` and waits: reset the claims, then release. */
        atomic_store_explicit(&m->shm->next, 0, memory_order_relaxed);
        if (m->kids) {
            atomic_store_explicit(&m->shm->released, step + 2, memory_order_release);
            sync_wake(&m->shm->released, INT_MAX);
        }
    }
    /* The others exit after their last step: reap them and judge how they ended. */
    for (unsigned k = 1; m->kids && k < m->L && !m->failed; k++)
        reap_kid(m, k, 0);
    return 0;
}

int loopmap_run(const struct loopmap_spec *s, struct outcome *out)
{
    unsigned L = s->loops;
    size_t shm_len = sizeof(struct lm_shm) + (size_t)L * sizeof(struct lm_slot);
    struct loopmap m = { .s = s, .L = L, .evfd = -1 };
    int rc = 0;

    m.shm = shm_map(shm_len, SHM_POPULATE);
    if (!m.shm)
        return outcome_fail(out, PARLAB_EXIT_OS, "epoll: mmap of %zu bytes: %s", shm_len,
                            strerror(errno));
    for (unsigned k = 0; k < L; k++)
        atomic_store(&m.shm->slot[k].cur_task, -1);
    atomic_store(&m.shm->released, 1);   /* step 0 may start at once */
    if (L > 1) {
        m.kids = calloc(L, sizeof *m.kids);
        m.evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (!m.kids || m.evfd < 0) {
            rc = outcome_fail(out, PARLAB_EXIT_OS, "epoll: %s",
                              m.kids ? strerror(errno) : "out of memory");
            goto out;
        }
        for (unsigned k = 0; k < L; k++)
            m.kids[k].pidfd = -1;
    }
    if (!m.kids || !start_kids(&m))
        coordinate(&m);
out:
    if (m.kids)
        kill_kids(&m);      /* only those still alive: after a failure, or none */
    if (atomic_load_explicit(&m.shm->fail_set, memory_order_acquire))
        rc = outcome_fail(out, m.shm->fail_code, "%s", m.shm->fail_msg);
    else if (m.failed && !rc)
        rc = outcome_fail(out, PARLAB_EXIT_SOFTWARE, "epoll: an event loop failed");
    loop_destroy(m.loop);
    if (m.evfd >= 0)
        close(m.evfd);
    free(m.kids);
    shm_unmap(m.shm, shm_len);
    return rc;
}
