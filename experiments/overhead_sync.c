/* overhead_sync.c: `parlab overhead` rows "wake" and "sync": round trips between two
 * threads over a pipe, an eventfd, epoll and a futex; a mutex and an atomic, alone and
 * contended. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "overhead.h"
#include "../lib/sync.h"

/* ---- wake-ups ---------------------------------------------------------------------- */

enum wake_kind { WAKE_PIPE, WAKE_EVENTFD, WAKE_EPOLL, WAKE_FUTEX };

/* Two channels: ping (main -> echo) and pong (echo -> main). */
struct pingpong {
    enum wake_kind kind;
    int ping[2], pong[2];       /* pipe: [0] read end, [1] write end; eventfd: both same */
    int ep_ping, ep_pong;       /* epoll instances watching ping[0] and pong[0] */
    _Atomic uint32_t seq;       /* futex: odd after a ping, even after a pong */
    long rounds;
    int err;
};

static int pp_signal(struct pingpong *p, int *ch)
{
    if (p->kind == WAKE_PIPE) {
        char c = 1;
        return write(ch[1], &c, 1) == 1 ? 0 : -errno;
    }
    uint64_t one = 1;
    return write(ch[1], &one, 8) == 8 ? 0 : -errno;
}

static int pp_wait(struct pingpong *p, int *ch, int ep)
{
    if (p->kind == WAKE_EPOLL) {
        struct epoll_event ev;
        int n;
        while ((n = epoll_wait(ep, &ev, 1, -1)) < 0 && errno == EINTR)
            ;
        if (n != 1)
            return -errno;
    }
    if (p->kind == WAKE_PIPE) {
        char c;
        return read(ch[0], &c, 1) == 1 ? 0 : -errno;
    }
    uint64_t v;
    return read(ch[0], &v, 8) == 8 ? 0 : -errno;
}

/* The echo side: answer every ping with a pong. */
static void *pp_echo(void *arg)
{
    struct pingpong *p = arg;
    for (long i = 0; i < p->rounds && !p->err; i++) {
        if (p->kind == WAKE_FUTEX) {
            uint32_t s;
            while (((s = atomic_load(&p->seq)) & 1) == 0)
                sync_wait(&p->seq, s, 0);
            atomic_store(&p->seq, s + 1);
            sync_wake(&p->seq, 1);
            continue;
        }
        int e = pp_wait(p, p->ping, p->ep_ping);
        if (!e)
            e = pp_signal(p, p->pong);
        if (e)
            p->err = e;
    }
    return NULL;
}

static int pp_round(struct pingpong *p)
{
    if (p->kind == WAKE_FUTEX) {
        uint32_t s = atomic_fetch_add(&p->seq, 1) + 1;   /* now odd */
        sync_wake(&p->seq, 1);
        while (atomic_load(&p->seq) == s)
            sync_wait(&p->seq, s, 0);
        return 0;
    }
    int e = pp_signal(p, p->ping);
    return e ? e : pp_wait(p, p->pong, p->ep_pong);
}

static int pp_open(struct pingpong *p)
{
    p->ping[0] = p->ping[1] = p->pong[0] = p->pong[1] = p->ep_ping = p->ep_pong = -1;
    if (p->kind == WAKE_FUTEX)
        return 0;
    if (p->kind == WAKE_PIPE) {
        if (pipe(p->ping) || pipe(p->pong))
            return -errno;
        return 0;
    }
    p->ping[0] = p->ping[1] = eventfd(0, EFD_CLOEXEC);
    p->pong[0] = p->pong[1] = eventfd(0, EFD_CLOEXEC);
    if (p->ping[0] < 0 || p->pong[0] < 0)
        return -errno;
    if (p->kind == WAKE_EPOLL) {
        struct epoll_event ev = { .events = EPOLLIN };
        p->ep_ping = epoll_create1(EPOLL_CLOEXEC);
        p->ep_pong = epoll_create1(EPOLL_CLOEXEC);
        if (p->ep_ping < 0 || p->ep_pong < 0 ||
            epoll_ctl(p->ep_ping, EPOLL_CTL_ADD, p->ping[0], &ev) ||
            epoll_ctl(p->ep_pong, EPOLL_CTL_ADD, p->pong[0], &ev))
            return -errno;
    }
    return 0;
}

static void pp_close(struct pingpong *p)
{
    int fds[] = { p->ping[0], p->ping[1], p->pong[0], p->pong[1], p->ep_ping, p->ep_pong };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (fds[i] < 0)
            continue;
        for (size_t j = i + 1; j < sizeof fds / sizeof fds[0]; j++)
            if (fds[j] == fds[i])
                fds[j] = -1;        /* an eventfd is both ends: close it once */
        close(fds[i]);
    }
}

/* R samples of the round trip over `kind` between this thread and an echo thread. */
static int measure_wake(enum wake_kind kind, double *v, int R, long k)
{
    struct pingpong p = { .kind = kind, .rounds = 100 + (long)R * k };
    pthread_t t;
    int e = pp_open(&p);
    if (e)
        goto out;
    if ((e = -pthread_create(&t, NULL, pp_echo, &p)))
        goto out;
    for (long i = 0; i < 100 && !e; i++)    /* warm: both threads running, caches hot */
        e = pp_round(&p);
    for (int r = 0; r < R && !e; r++) {
        uint64_t t0 = clock_now_ns();
        for (long i = 0; i < k && !e; i++)
            e = pp_round(&p);
        v[r] = (double)(clock_now_ns() - t0) / (double)k;
    }
    if (e) {
        /* Unblock the echo thread before joining it. */
        p.err = e;
        pp_signal(&p, p.ping);
    }
    pthread_join(t, NULL);
    if (!e)
        e = p.err;
out:
    pp_close(&p);
    return e;
}

/* ---- locks and atomics ------------------------------------------------------------- */

struct contend {
    pthread_mutex_t lock;
    pthread_barrier_t start;
    _Atomic int arrived;                            /* the spinning start line */
    int cpu[2];                                     /* each thread's CPU, or -1 */
    alignas(PARLAB_CACHELINE) _Atomic uint64_t counter;
    alignas(PARLAB_CACHELINE) uint64_t plain;       /* guarded by lock */
    long k;
    int atomic;
    uint64_t t0[2], t1[2];
};

struct contend_arg {
    struct contend *c;
    int me;
};

static void contend_ops(struct contend *c)
{
    if (c->atomic) {
        for (long i = 0; i < c->k; i++)
            atomic_fetch_add_explicit(&c->counter, 1, memory_order_relaxed);
    } else {
        for (long i = 0; i < c->k; i++) {
            pthread_mutex_lock(&c->lock);
            c->plain++;
            pthread_mutex_unlock(&c->lock);
        }
    }
}

static void *contend_thread(void *arg)
{
    struct contend_arg *a = arg;
    struct contend *c = a->c;
    if (c->cpu[a->me] >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(c->cpu[a->me], &set);
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);   /* best effort */
    }
    pthread_barrier_wait(&c->start);
    /* Spin until both run: a thread the barrier woke may take tens of microseconds to
     * be running, and until it does the other counts alone. */
    atomic_fetch_add(&c->arrived, 1);
    while (c->cpu[a->me] >= 0 && atomic_load(&c->arrived) < 2)
        ;
    c->t0[a->me] = clock_now_ns();
    contend_ops(c);
    c->t1[a->me] = clock_now_ns();
    return NULL;
}

/*
 * R samples of one lock/unlock pair (or one fetch_add) as a thread sees it: alone, or
 * with a second thread doing the same. The counts are checked: a lost increment here
 * would mean a broken lock.
 */
static int measure_contend(int atomic, int threads, double *v, int R, long k)
{
    struct contend c = { .k = k, .atomic = atomic, .cpu = { -1, -1 } };
    int e = 0;
    /*
     * Two threads contend only while both run. Left to the scheduler, the two new threads
     * often shared one CPU for the whole 1-2 ms of the measurement, took turns, and read
     * the uncontended cost (4 ns against 9 here, one run in three). So where this process
     * may use two CPUs, each thread runs on its own, and they start together.
     */
    cpu_set_t allowed;
    if (threads == 2 && sched_getaffinity(0, sizeof allowed, &allowed) == 0 &&
        CPU_COUNT(&allowed) >= 2)
        for (int cpu = 0, n = 0; cpu < CPU_SETSIZE && n < 2; cpu++)
            if (CPU_ISSET(cpu, &allowed))
                c.cpu[n++] = cpu;
    pthread_mutex_init(&c.lock, NULL);
    pthread_barrier_init(&c.start, NULL, (unsigned)threads);
    for (int r = 0; r < R && !e; r++) {
        c.plain = 0;
        atomic_store(&c.counter, 0);
        atomic_store(&c.arrived, 0);
        if (threads == 1) {
            uint64_t t0 = clock_now_ns();
            contend_ops(&c);
            v[r] = (double)(clock_now_ns() - t0) / (double)k;
        } else {
            pthread_t t[2];
            struct contend_arg a[2] = { { &c, 0 }, { &c, 1 } };
            int made = 0;
            for (; made < 2; made++)
                if ((e = -pthread_create(&t[made], NULL, contend_thread, &a[made])))
                    break;
            if (made < 2) {
                /* The barrier would wait for ever: this is an OS failure, end here. */
                if (made == 1)
                    pthread_cancel(t[0]);
                for (int i = 0; i < made; i++)
                    pthread_join(t[i], NULL);
                break;
            }
            pthread_join(t[0], NULL);
            pthread_join(t[1], NULL);
            uint64_t lo = c.t0[0] < c.t0[1] ? c.t0[0] : c.t0[1];
            uint64_t hi = c.t1[0] > c.t1[1] ? c.t1[0] : c.t1[1];
            v[r] = (double)(hi - lo) / (double)k;
        }
        uint64_t got = atomic ? atomic_load(&c.counter) : c.plain;
        if (got != (uint64_t)threads * (uint64_t)k)
            e = -EPROTO;
    }
    pthread_barrier_destroy(&c.start);
    pthread_mutex_destroy(&c.lock);
    return e;
}

int ov_section_sync(struct ov *o)
{
    static const char *const wake_names[] = { "pipe", "eventfd", "epoll (eventfd)", "futex" };
    long rt = o->quick ? 200 : 2000, k1 = o->quick ? 100000 : 1000000, k2 = o->quick ? 20000 : 200000;
    int e;

    for (int w = WAKE_PIPE; w <= WAKE_FUTEX; w++) {
        if ((e = measure_wake((enum wake_kind)w, o->v, o->R, rt)))
            return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: %s round trip: %s",
                            wake_names[w], strerror(-e));
        ov_emit(o, "wake", 2, UNIT_NS, NAN, "ping-pong, two threads", "round trip over %s",
             wake_names[w]);
    }
    for (int atomic = 0; atomic < 2; atomic++)
        for (int threads = 1; threads <= 2; threads++) {
            if ((e = measure_contend(atomic, threads, o->v, o->R, threads == 1 ? k1 : k2)))
                return fail_msg(&o->oc, e == -EPROTO ? PARLAB_EXIT_SOFTWARE : PARLAB_EXIT_OS,
                                "overhead: %s with %d threads: %s",
                                atomic ? "fetch_add" : "mutex", threads,
                                e == -EPROTO ? "increments were lost" : strerror(-e));
            ov_emit(o, "sync", (unsigned)threads, UNIT_NS, NAN,
                 threads == 1 ? "per op, one thread" : "per op as each thread sees it",
                 "%s %s", atomic ? "atomic fetch_add" : "mutex lock+unlock",
                 threads == 1 ? "uncontended" : "contended by 2 threads");
            if (atomic && threads == 2)
                o->atomic2_ns = ov_mean(o);
        }
    return 0;
}
