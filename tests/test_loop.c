/* test_loop.c: the event loop (timers in deadline order, 10,000 timers on one fd, fd
 * watches, deferred callbacks, stop) and the epoll runner built on it (seq's answers,
 * static blocks per loop, overlapping waits, a crashed loop process named and reaped). */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "../lib/loop.h"
#include "../runners/runner.h"
#include "../harness/results.h"

/* Every test body runs in a forked child under alarm(), since a broken loop hangs rather
 * than fails; CHECK reports the first false condition on stderr and exits 1. */
#define CHECK(c)                                                                          \
    do {                                                                                  \
        if (!(c)) {                                                                       \
            fprintf(stderr, "\n  %s:%d: check failed: %s", __FILE__, __LINE__, #c);       \
            _exit(1);                                                                     \
        }                                                                                 \
    } while (0)

/* Run body() in a child with alarm(secs). Returns 1 if it exited 0. */
static int in_child(void (*body)(void), unsigned secs)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        alarm(secs);
        body();
        _exit(0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    if (WIFSIGNALED(st))
        fprintf(stderr, "\n  test child killed by signal %d%s", WTERMSIG(st),
                WTERMSIG(st) == SIGALRM ? " (timed out)" : "");
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3;   /* ".", ".." and the DIR's own fd */
}

/* ---- timers ---- */

struct fired {
    uint64_t order[16];
    int n;
};

struct tmark {
    struct fired *f;
    uint64_t tag, due;
};

static void on_mark(struct loop *l, uint64_t id, void *arg)
{
    struct tmark *m = arg;
    (void)l, (void)id;
    CHECK(clock_now_ns() >= m->due);       /* never early */
    m->f->order[m->f->n++] = m->tag;
}

static void body_timer_order(void)
{
    static const uint64_t ms[] = { 30, 5, 20, 1, 15, 10, 25 };
    struct fired f = { .n = 0 };
    struct tmark marks[7];
    uint64_t ids[7];
    struct loop *l;
    CHECK(loop_open(&l) == 0);
    for (int i = 0; i < 7; i++) {
        marks[i] = (struct tmark){ &f, ms[i], clock_now_ns() + ms[i] * 1000000u };
        ids[i] = loop_add_timer(l, ms[i] * 1000000u, on_mark, &marks[i]);
        CHECK(ids[i] != 0);
    }
    CHECK(loop_timer_count(l) == 7);
    CHECK(loop_cancel_timer(l, ids[2]) == 0);      /* the 20 ms one never fires */
    CHECK(loop_cancel_timer(l, ids[2]) == -ENOENT);
    CHECK(loop_run(l) == 0);                       /* returns once nothing is left */
    static const uint64_t want[] = { 1, 5, 10, 15, 25, 30 };
    CHECK(f.n == 6);
    for (int i = 0; i < 6; i++)
        CHECK(f.order[i] == want[i]);
    CHECK(loop_cancel_timer(l, ids[0]) == -ENOENT);   /* it ran: its id is stale */
    CHECK(loop_timer_count(l) == 0);
    loop_destroy(l);
}

static void test_timer_order(void)
{
    CU_ASSERT(in_child(body_timer_order, 10));
}

/* ---- 10,000 timers, one fd, under a low fd limit ---- */

struct many {
    uint64_t max_lo;          /* the latest earliest-possible deadline fired so far */
    unsigned fired, out_of_order;
};

/* A timer's true deadline lies in [lo, hi]: lo, the clock read before adding it, plus
 * its delay; hi, a reading of the loop's clock after the one its delay counts from (its
 * first after the add: loop_add_timer), plus the delay. hi is 0 until the test sees the
 * loop's clock move on from add_now, its value at the add. */
struct many_timer {
    struct many *m;
    uint64_t lo, hi, d, add_now;
};

enum { MANY_N = 10000 };
static struct many_timer many_tm[MANY_N];

/* Give hi to every timer whose add the loop's clock has moved on from. */
static void many_close(struct loop *l, void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < MANY_N; i++)
        if (!many_tm[i].hi && loop_now(l) != many_tm[i].add_now)
            many_tm[i].hi = loop_now(l) + many_tm[i].d;
}

static void on_many(struct loop *l, uint64_t id, void *arg)
{
    struct many_timer *t = arg;
    (void)id;
    if (!t->hi)
        many_close(l, NULL);
    CHECK(t->hi != 0);                /* it fired: the loop read its clock since the add */
    CHECK(clock_now_ns() >= t->lo);
    /* Deadline order means this deadline is at least every earlier one. */
    if (t->hi < t->m->max_lo)
        t->m->out_of_order++;
    if (t->lo > t->m->max_lo)
        t->m->max_lo = t->lo;
    t->m->fired++;
}

static void body_many_timers(void)
{
    enum { N = MANY_N };
    struct rlimit rl = { 64, 64 };       /* far fewer fds than timers */
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    struct many m = { 0 };
    struct many_timer *tm = many_tm;
    int before = open_fds();
    struct loop *l;
    CHECK(loop_open(&l) == 0);
    int with_loop = open_fds();
    uint64_t t0 = clock_now_ns();
    for (unsigned i = 0; i < N; i++) {
        /* delays spread over 0..50 ms in 5 us steps, added in scrambled order */
        uint64_t d = (uint64_t)((i * 7919u) % N) * 5000u;
        tm[i] = (struct many_timer){ .m = &m, .lo = clock_now_ns() + d, .d = d,
                                     .add_now = loop_now(l) };
        CHECK(loop_add_timer(l, d, on_many, &tm[i]) != 0);
    }
    /* The first iteration reads the clock, runs what is due, then this: hi is exact. */
    CHECK(loop_defer(l, many_close, NULL) == 0);
    CHECK(open_fds() == with_loop);           /* timers take no fds */
    CHECK(with_loop - before <= 2);           /* the epoll fd and the one timerfd */
    CHECK(loop_timer_count(l) == N);
    CHECK(loop_run(l) == 0);
    CHECK(m.fired == N);
    CHECK(m.out_of_order == 0);
    /* Never early; the upper bound only catches a loop that waits far past its last
     * timer (10 s: ten times the old bound, load-proof). */
    uint64_t took = clock_now_ns() - t0;
    CHECK(took >= 49u * 1000000u && took < 10000u * 1000000ull);
    loop_destroy(l);
}

static void test_many_timers(void)
{
    CU_ASSERT(in_child(body_many_timers, 60));
}

/* ---- random delays, cancellations and timers added from callbacks ---- */

/*
 * Timers of a few repeated delays (which share lanes) and of random ones (which overflow
 * to the heap), some cancelled before the run, some cancelled by other timers' callbacks,
 * and more added from callbacks. Each must fire once, never early and in deadline order
 * (ties in the order added), unless it was cancelled: then never.
 */
enum { RT_FIRST = 6000, RT_MAX = 12000 };

struct rtest;

struct rtimer {
    struct rtest *r;
    uint64_t lo, hi;          /* its deadline lies in [lo, hi]: the clock before the add
                                 plus d; a loop clock reading after the one d counts from,
                                 plus d (0 until seen: rt_close) */
    uint64_t d, add_now;      /* its delay, and the loop's clock at the add */
    uint64_t id, seq;         /* seq: the order added */
    int state;                /* 0 pending, 1 fired, 2 cancelled */
};

struct rtest {
    struct rtimer t[RT_MAX];
    struct rtimer *open[RT_MAX];   /* added, hi not known yet */
    unsigned nopen;
    int churn;                 /* one delay (one lane), two timers added per callback */
    unsigned n, fired, cancelled, out_of_order, early, twice;
    uint64_t max_lo;           /* the latest earliest-possible deadline fired so far */
    uint64_t rng;
};

static uint64_t rt_rand(struct rtest *r)
{
    r->rng ^= r->rng << 13;   /* xorshift64: reproducible */
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return r->rng;
}

static void on_rtimer(struct loop *l, uint64_t id, void *arg);

static uint64_t rt_delay(struct rtest *r)
{
    static const uint64_t fixed_us[] = { 0, 1000, 3000, 3000, 7000, 20000 };
    uint64_t x = rt_rand(r);
    if (r->churn)
        return 2000000u;
    if (x % 3)                                  /* two in three: a repeated delay */
        return fixed_us[(x >> 8) % 6] * 1000u;
    return (x >> 16) % 30000000u;               /* else any delay up to 30 ms */
}

static void rt_add(struct loop *l, struct rtest *r)
{
    if (r->n == RT_MAX)
        return;
    struct rtimer *t = &r->t[r->n];
    uint64_t d = rt_delay(r);
    t->r = r;
    t->seq = r->n++;
    t->lo = clock_now_ns() + d;
    t->hi = 0;
    t->d = d;
    t->add_now = loop_now(l);
    t->id = loop_add_timer(l, d, on_rtimer, t);
    CHECK(t->id != 0);
    r->open[r->nopen++] = t;
}

/* Give hi to each timer whose add the loop's clock has moved on from (its deadline counts
 * from the first reading after the add; this one is that or later). */
static void rt_close(struct loop *l, struct rtest *r)
{
    unsigned k = 0;
    for (unsigned i = 0; i < r->nopen; i++) {
        struct rtimer *t = r->open[i];
        if (loop_now(l) != t->add_now)
            t->hi = loop_now(l) + t->d;
        else
            r->open[k++] = t;
    }
    r->nopen = k;
}

/* Deferred twice, so that it runs an iteration later, after the loop's next reading and
 * close to it. */
static void rt_close_later(struct loop *l, void *arg)
{
    rt_close(l, arg);
}

static void rt_close_soon(struct loop *l, void *arg)
{
    CHECK(loop_defer(l, rt_close_later, arg) == 0);
}

static void rt_cancel_one(struct loop *l, struct rtest *r)
{
    struct rtimer *t = &r->t[rt_rand(r) % r->n];
    int rc = loop_cancel_timer(l, t->id);
    CHECK(rc == (t->state == 0 ? 0 : -ENOENT));   /* a fired or cancelled id is stale */
    if (rc == 0) {
        t->state = 2;
        r->cancelled++;
    }
}

static void on_rtimer(struct loop *l, uint64_t id, void *arg)
{
    struct rtimer *t = arg;
    struct rtest *r = t->r;
    uint64_t now = clock_now_ns();
    rt_close(l, r);
    CHECK(t->hi != 0);                          /* it fired: the clock was read since */
    CHECK(t->id == id);
    CHECK(t->state != 2);                       /* a cancelled timer never fires */
    if (t->state)
        r->twice++;
    t->state = 1;
    r->fired++;
    if (now < t->lo)
        r->early++;
    /* Deadline order: nothing fired before it had a deadline surely after its own. */
    if (t->hi < r->max_lo)
        r->out_of_order++;
    if (t->lo > r->max_lo)
        r->max_lo = t->lo;
    uint64_t x = rt_rand(r);
    if (x % 4 == 0 || r->churn)
        rt_add(l, r);                           /* a timer added from a callback */
    if (x % 8 == 1 || r->churn)
        rt_add(l, r);
    if (x % 5 == 2)
        rt_cancel_one(l, r);                    /* a pending (or finished) one, cancelled */
    if (r->nopen)
        CHECK(loop_defer(l, rt_close_soon, r) == 0);
}

static void rt_run(int churn)
{
    static struct rtest r;
    r = (struct rtest){ .rng = 0x9e3779b97f4a7c15u, .churn = churn };
    struct loop *l;
    CHECK(loop_open(&l) == 0);
    unsigned first = churn ? RT_FIRST / 6 : RT_FIRST;
    for (unsigned i = 0; i < first; i++)
        rt_add(l, &r);
    /* Churn cancels most of its lane first, out of order: the lane is compacted. */
    for (unsigned i = 0; i < (churn ? first : first / 10); i++)
        rt_cancel_one(l, &r);
    CHECK(loop_timer_count(l) == r.n - r.cancelled);
    CHECK(loop_defer(l, rt_close_later, &r) == 0);   /* after the first reading */
    CHECK(loop_run(l) == 0);
    CHECK(r.n > RT_FIRST);                      /* callbacks did add timers */
    CHECK(r.early == 0);
    CHECK(r.out_of_order == 0);
    CHECK(r.twice == 0);
    CHECK(r.fired + r.cancelled == r.n);        /* every timer fired or was cancelled */
    for (unsigned i = 0; i < r.n; i++)
        CHECK(r.t[i].state != 0 && loop_cancel_timer(l, r.t[i].id) == -ENOENT);
    CHECK(loop_timer_count(l) == 0);
    loop_destroy(l);
}

static void body_random_timers(void)
{
    rt_run(0);
}

/* One delay: a single lane, most of it cancelled at random before the run, then its ring
 * wraps (timers fire from its head as callbacks append) and grows while wrapped. */
static void body_lane_churn(void)
{
    rt_run(1);
}

static void test_random_timers(void)
{
    CU_ASSERT(in_child(body_random_timers, 30));
    CU_ASSERT(in_child(body_lane_churn, 30));
}

/* Equal delays are FIFO: timers of one delay added in a row fire in the order added, even
 * with other delays in between and some of them cancelled. */
static struct {
    unsigned order[64], n;
} fifo;
static char fifo_arg[64];   /* timer i's arg is &fifo_arg[i] */

static void on_fifo_tag(struct loop *l, uint64_t id, void *arg)
{
    (void)l, (void)id;
    fifo.order[fifo.n++] = (unsigned)((char *)arg - fifo_arg);
}

static void body_fifo_ties(void)
{
    struct loop *l;
    uint64_t ids[64];
    CHECK(loop_open(&l) == 0);
    fifo.n = 0;
    /* 48 timers: even ones 4 ms, odd ones of 12 other delays (more than the lanes) */
    for (unsigned i = 0; i < 48; i++) {
        uint64_t d = i % 2 ? (uint64_t)(1 + (i / 2) % 12) * 250000u : 4000000u;
        ids[i] = loop_add_timer(l, d, on_fifo_tag, &fifo_arg[i]);
        CHECK(ids[i] != 0);
    }
    CHECK(loop_cancel_timer(l, ids[10]) == 0);
    CHECK(loop_cancel_timer(l, ids[11]) == 0);
    CHECK(loop_run(l) == 0);
    CHECK(fifo.n == 46);
    int last_even = -1;
    for (unsigned k = 0; k < fifo.n; k++) {
        unsigned i = fifo.order[k];
        CHECK(i != 10 && i != 11);
        if (i % 2 == 0) {
            CHECK((int)i > last_even);         /* the 4 ms ones in the order added */
            last_even = (int)i;
        }
    }
    loop_destroy(l);
}

static void test_fifo_ties(void)
{
    CU_ASSERT(in_child(body_fifo_ties, 10));
}

/* More distinct callbacks than a lane record can name (255): the timers past them go to
 * the heap, and every timer still runs its own callback, once, in the order added. */
enum { MANY_CBS = 300 };
static struct {
    unsigned order[MANY_CBS + 1], n, wrong;
} many;

static void many_fired(void *arg, unsigned which)
{
    if ((unsigned)((char *)arg - fifo_arg) != which % 64)
        many.wrong++;
    if (many.n <= MANY_CBS)
        many.order[many.n++] = which;
}

#define CBF(n) static void cbf_##n(struct loop *l, uint64_t id, void *arg) \
    { (void)l, (void)id; many_fired(arg, n - 100); }
#define CB10(p) CBF(p##0) CBF(p##1) CBF(p##2) CBF(p##3) CBF(p##4) CBF(p##5) CBF(p##6) \
    CBF(p##7) CBF(p##8) CBF(p##9)
#define CB100(p) CB10(p##0) CB10(p##1) CB10(p##2) CB10(p##3) CB10(p##4) CB10(p##5) \
    CB10(p##6) CB10(p##7) CB10(p##8) CB10(p##9)
CB100(1) CB100(2) CB100(3)
#define CBA(n) cbf_##n,
#define CBA10(p) CBA(p##0) CBA(p##1) CBA(p##2) CBA(p##3) CBA(p##4) CBA(p##5) CBA(p##6) \
    CBA(p##7) CBA(p##8) CBA(p##9)
#define CBA100(p) CBA10(p##0) CBA10(p##1) CBA10(p##2) CBA10(p##3) CBA10(p##4) CBA10(p##5) \
    CBA10(p##6) CBA10(p##7) CBA10(p##8) CBA10(p##9)
static const loop_timer_fn many_cbs[MANY_CBS] = { CBA100(1) CBA100(2) CBA100(3) };

static void body_many_callbacks(void)
{
    struct loop *l;
    CHECK(loop_open(&l) == 0);
    many.n = many.wrong = 0;
    uint64_t ids[MANY_CBS];
    for (unsigned i = 0; i < MANY_CBS; i++) {     /* one delay: they fire in the order added */
        ids[i] = loop_add_timer(l, 2000000u, many_cbs[i], &fifo_arg[i % 64]);
        CHECK(ids[i] != 0);
    }
    CHECK(loop_cancel_timer(l, ids[7]) == 0);     /* one of the lane's */
    CHECK(loop_cancel_timer(l, ids[280]) == 0);   /* one of the heap's */
    CHECK(loop_cancel_timer(l, ids[280]) == -ENOENT);
    CHECK(loop_timer_count(l) == MANY_CBS - 2);
    CHECK(loop_run(l) == 0);
    CHECK(many.n == MANY_CBS - 2);
    CHECK(many.wrong == 0);
    for (unsigned k = 0, want = 0; k < many.n; k++, want++) {
        want += want == 7 || want == 280;
        CHECK(many.order[k] == want);
    }
    loop_destroy(l);
}

static void test_many_callbacks(void)
{
    CU_ASSERT(in_child(body_many_callbacks, 10));
}

/* ---- the loop's clock: a delay counts from its next reading (loop.h) ---- */

/* A timer added from a callback that then keeps the loop busy, one in the lane and one
 * in the heap (a callback the table has no room for), and one added before loop_run()
 * that then waits: each fires no earlier than its add plus its delay, and, as loop.h
 * states, its delay counts from the loop's next reading, after the busy part; it is
 * late by no more than that part (plus 1 s for a loaded machine). */
enum { LATE_D = 5000000, LATE_BUSY = 20000000 };
static struct {
    uint64_t add[3], busy_end[3], fired[3];
} late;

static void on_late(struct loop *l, uint64_t id, void *arg)
{
    (void)l, (void)id;
    late.fired[(char *)arg - fifo_arg] = clock_now_ns();
}

/* The same, but a callback of its own: it comes when the table is full. */
static void on_late_heap(struct loop *l, uint64_t id, void *arg)
{
    on_late(l, id, arg);
}

static void late_busy(struct loop *l, void *arg)
{
    (void)arg;
    late.add[0] = clock_now_ns();
    CHECK(loop_add_timer(l, LATE_D, on_late, &fifo_arg[0]) != 0);
    /* on_late and 254 more fill the loop's table of 255: the next timer goes to the heap */
    for (unsigned i = 0; i < 254; i++)
        CHECK(loop_add_timer(l, 1, many_cbs[i], &fifo_arg[i % 64]) != 0);
    late.add[1] = clock_now_ns();
    CHECK(loop_add_timer(l, LATE_D, on_late_heap, &fifo_arg[1]) != 0);
    while (clock_now_ns() - late.add[0] < LATE_BUSY)
        ;
    late.busy_end[0] = late.busy_end[1] = clock_now_ns();
}

static void body_late_bound(void)
{
    struct loop *l;
    CHECK(loop_open(&l) == 0);
    late.add[2] = clock_now_ns();
    CHECK(loop_add_timer(l, LATE_D, on_late, &fifo_arg[2]) != 0);
    struct timespec ts = { 0, LATE_BUSY };
    while (nanosleep(&ts, &ts))
        ;
    late.busy_end[2] = clock_now_ns();
    CHECK(loop_defer(l, late_busy, NULL) == 0);
    CHECK(loop_run(l) == 0);
    for (int i = 0; i < 3; i++) {
        CHECK(late.fired[i] >= late.add[i] + LATE_D);                 /* never early */
        CHECK(late.fired[i] >= late.busy_end[i] + LATE_D);            /* from the next reading */
        CHECK(late.fired[i] <= late.busy_end[i] + LATE_D + 1000000000u);
    }
    loop_destroy(l);
}

static void test_late_bound(void)
{
    CU_ASSERT(in_child(body_late_bound, 20));
}

/* ---- fd watches ---- */

struct pipe_ctx {
    int rd, wr;
    int reads;
    char got;
};

static void on_readable(struct loop *l, int fd, unsigned events, void *arg)
{
    struct pipe_ctx *p = arg;
    CHECK(events & LOOP_READABLE);
    CHECK(read(fd, &p->got, 1) == 1);
    p->reads++;
    CHECK(loop_unwatch(l, fd) == 0);
}

static void on_write_later(struct loop *l, uint64_t id, void *arg)
{
    struct pipe_ctx *p = arg;
    (void)l, (void)id;
    CHECK(write(p->wr, "x", 1) == 1);
}

static void body_pipe_fd(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    struct pipe_ctx p = { fds[0], fds[1], 0, 0 };
    struct loop *l;
    CHECK(loop_open(&l) == 0);
    CHECK(loop_watch_fd(l, p.rd, LOOP_READABLE, on_readable, &p) == 0);
    CHECK(loop_watch_fd(l, p.rd, LOOP_READABLE, on_readable, &p) == -EEXIST);
    CHECK(loop_watch_count(l) == 1);
    uint64_t t0 = clock_now_ns();   /* before the call: the delay counts from it */
    CHECK(loop_add_timer(l, 2000000u, on_write_later, &p) != 0);
    CHECK(loop_run(l) == 0);       /* the watch is gone after the read: nothing left */
    CHECK(clock_now_ns() - t0 >= 2000000u);
    CHECK(p.reads == 1);
    CHECK(p.got == 'x');
    CHECK(loop_watch_count(l) == 0);
    CHECK(loop_unwatch(l, p.rd) == -ENOENT);
    loop_destroy(l);
    close(fds[0]);
    close(fds[1]);
}

static void test_pipe_fd(void)
{
    CU_ASSERT(in_child(body_pipe_fd, 10));
}

/* ---- deferred callbacks: the next iteration, after a poll ---- */

struct trail {
    char s[16];
    int n;
    int fd;
};

static void on_b(struct loop *l, void *arg)
{
    struct trail *t = arg;
    (void)l;
    t->s[t->n++] = 'B';
}

static void on_a(struct loop *l, void *arg)
{
    struct trail *t = arg;
    t->s[t->n++] = 'A';
    CHECK(loop_defer(l, on_b, t) == 0);
}

static void on_fd_f(struct loop *l, int fd, unsigned events, void *arg)
{
    struct trail *t = arg;
    char c;
    (void)events;
    CHECK(read(fd, &c, 1) == 1);
    t->s[t->n++] = 'F';
    loop_unwatch(l, fd);
}

static void body_defer(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0);
    CHECK(write(fds[1], "y", 1) == 1);         /* readable from the start */
    struct trail t = { .n = 0, .fd = fds[0] };
    struct loop *l;
    CHECK(loop_open(&l) == 0);
    CHECK(loop_watch_fd(l, fds[0], LOOP_READABLE, on_fd_f, &t) == 0);
    CHECK(loop_defer(l, on_a, &t) == 0);
    CHECK(loop_run(l) == 0);
    /* A runs, defers B; the loop polls (the fd fires) before B: "AFB". */
    t.s[t.n] = '\0';
    CHECK(strcmp(t.s, "AFB") == 0);
    loop_destroy(l);
    close(fds[0]);
    close(fds[1]);
}

static void test_defer(void)
{
    CU_ASSERT(in_child(body_defer, 10));
}

/* ---- stop ---- */

struct ticker {
    int ticks, stop_at;
};

static void on_tick(struct loop *l, uint64_t id, void *arg)
{
    struct ticker *k = arg;
    (void)id;
    k->ticks++;
    CHECK(loop_add_timer(l, 100000u, on_tick, k) != 0);    /* repeats forever */
    if (k->ticks == k->stop_at)
        loop_stop(l);
}

static void never(struct loop *l, void *arg)
{
    (void)l, (void)arg;
    CHECK(!"a callback deferred after loop_stop ran in the same run");
}

static void on_tick_then_defer(struct loop *l, uint64_t id, void *arg)
{
    on_tick(l, id, arg);
    struct ticker *k = arg;
    if (k->ticks == k->stop_at)
        CHECK(loop_defer(l, never, NULL) == 0);
}

static void body_stop(void)
{
    struct ticker k = { 0, 3 };
    struct loop *l;
    CHECK(loop_open(&l) == 0);
    CHECK(loop_add_timer(l, 100000u, on_tick_then_defer, &k) != 0);
    CHECK(loop_run(l) == 1);                 /* stopped, though a timer is pending */
    CHECK(k.ticks == 3);                     /* and `never` did not run */
    CHECK(loop_timer_count(l) == 1);
    loop_destroy(l);                         /* frees the pending timer and callback */
    /* A later loop_run carries on with what is pending. */
    CHECK(loop_open(&l) == 0);
    k = (struct ticker){ 0, 5 };
    CHECK(loop_add_timer(l, 100000u, on_tick, &k) != 0);
    CHECK(loop_run(l) == 1);
    CHECK(k.ticks == 5);
    k.stop_at = 8;
    CHECK(loop_run(l) == 1);
    CHECK(k.ticks == 8);
    loop_destroy(l);
}

static void test_stop(void)
{
    CU_ASSERT(in_child(body_stop, 10));
}

/* ---- the epoll runner ---- */

static void test_runner_equals_seq(void)
{
    static const struct job_spec specs[] = {
        { .workload = "primes", .size = 100000, .tasks = 13 },
        { .workload = "sumsq", .size = 100000, .tasks = 7 },
        { .workload = "montecarlo", .size = 100000, .tasks = 9 },
        { .workload = "mandelbrot", .size = 2500, .tasks = 5 },
        { .workload = "nbody", .size = 120, .tasks = 7, .steps = 3 },
        { .workload = "noop", .size = 40, .tasks = 40 },
        { .workload = "sleep", .size = 30, .tasks = 30, .io_ms = 3 },
    };
    const struct runner *ep = runner_find("epoll");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ep);
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        struct job_spec s = specs[i];
        char want[200], got[200];
        int v;
        s.runner = "seq";
        s.seed = 3;
        s.schedule = SCHED_STATIC;
        CU_ASSERT_EQUAL_FATAL(job_run(&s, 60, want, sizeof want, &v), 0);
        for (unsigned loops = 1; loops <= 3; loops++)
            for (int sc = 0; sc < SCHED__COUNT; sc++) {
                if (!(ep->schedules & SCHED_BIT(sc)))
                    continue;
                for (size_t chunk = 0; chunk <= 2; chunk += 2) {
                    struct job_spec t = s;
                    t.runner = "epoll";
                    t.loops = loops;
                    t.schedule = (enum sched_kind)sc;
                    t.chunk = chunk;
                    int rc = job_run(&t, 60, got, sizeof got, &v);
                    if (rc || strcmp(got, want))
                        fprintf(stderr, "\n  %s epoll --loops %u -s %s -c %zu: got '%s', seq '%s'",
                                t.workload, loops, sched_name(t.schedule), chunk, got, want);
                    CU_ASSERT_EQUAL(rc, 0);
                    CU_ASSERT_STRING_EQUAL(got, want);
                }
            }
    }
}

/* Run wl under epoll in this (child) process with a trace; CHECK the answer count. */
static struct trace_rec *run_traced(const char *wl, size_t tasks, unsigned steps,
                                    unsigned loops, enum sched_kind sc, unsigned io_ms,
                                    uint64_t *wall_ns)
{
    const struct runner *ep = runner_find("epoll");
    const struct workload *w = wl_find(wl);
    CHECK(ep != NULL && w != NULL);
    struct job job = { .wl = w, .size = tasks, .tasks = tasks, .steps = steps, .seed = 1,
                       .io_ms = io_ms };
    struct plan plan = { .workers = 1, .cores = 1, .schedule = sc, .loops = loops };
    struct outcome oc = { 0 };
    struct partial *slots = job_shared_alloc(tasks * sizeof *slots);
    plan.trace = job_shared_alloc(tasks * steps * sizeof *plan.trace);
    CHECK(slots && plan.trace);
    CHECK(!w->setup || w->setup(&job) == 0);
    uint64_t t0 = clock_now_ns();
    int rc = ep->run(&job, &plan, slots, &oc);
    if (wall_ns)
        *wall_ns = clock_now_ns() - t0;
    if (rc)
        fprintf(stderr, "\n  epoll run failed: %s", oc.msg);
    CHECK(rc == 0);
    for (size_t t = 0; t < tasks; t++)
        CHECK(slots[t].count == 1 && slots[t].err == 0);
    CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);   /* every loop reaped */
    return plan.trace;
}

static void body_static_blocks(void)
{
    enum { T = 10, S = 2, L = 3 };
    struct trace_rec *tr = run_traced("noop", T, 1, L, SCHED_STATIC, 0, NULL);
    for (unsigned w = 0; w < L; w++) {
        size_t lo, hi;
        sched_static_block(T, L, w, &lo, &hi);
        for (size_t t = lo; t < hi; t++)
            CHECK(tr[t].task == t && tr[t].worker == w && tr[t].end_ns >= tr[t].start_ns);
    }
    /* Steps on the async path: T*S rows, every loop past step 0 before any starts 1. */
    tr = run_traced("sleep", T, S, L, SCHED_DYNAMIC, 2, NULL);
    uint64_t last_end0 = 0, first_start1 = UINT64_MAX;
    for (size_t i = 0; i < (size_t)T * S; i++) {
        CHECK(tr[i].task == i % T && tr[i].step == i / T && tr[i].worker < L);
        CHECK(tr[i].end_ns - tr[i].start_ns >= 2000000u);   /* it really waited */
        if (tr[i].step == 0 && tr[i].end_ns > last_end0)
            last_end0 = tr[i].end_ns;
        if (tr[i].step == 1 && tr[i].start_ns < first_start1)
            first_start1 = tr[i].start_ns;
    }
    CHECK(last_end0 <= first_start1);
}

static void test_static_blocks_and_steps(void)
{
    CU_ASSERT(in_child(body_static_blocks, 20));
}

static void body_waits_overlap(void)
{
    uint64_t wall;
    struct rlimit rl = { 64, 64 };
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    /* 2000 tasks of 50 ms, one loop: overlapped, not 100 s. The bound is ten times the
     * 0.5 s it takes idle, so that a busy machine cannot fail it; 20 times under serial. */
    run_traced("sleep", 2000, 1, 1, SCHED_STATIC, 50, &wall);
    CHECK(wall >= 50u * 1000000u && wall < 5000u * 1000000u);
}

static void test_waits_overlap(void)
{
    CU_ASSERT(in_child(body_waits_overlap, 60));
}

/* A workload whose tasks wait on fds: each makes a pipe with a byte in it, and resumes
 * three times, re-arming the pipe twice, before it closes both ends. */
static int pipe_start(const struct job *job, unsigned step, size_t task, struct task_io *io,
                      struct partial *out)
{
    int fds[2];
    (void)job, (void)step, (void)task;
    if (pipe(fds) || write(fds[1], "p", 1) != 1) {
        *out = (struct partial){ .err = errno ? errno : EIO };
        return TASK_DONE;
    }
    *out = (struct partial){ 0 };
    io->fd = fds[0];
    io->ctx = (uint64_t)fds[1];
    return TASK_WAIT;
}

static int pipe_resume(const struct job *job, unsigned step, size_t task, struct task_io *io,
                       struct partial *out)
{
    char c;
    (void)job, (void)step, (void)task;
    if (read(io->fd, &c, 1) != 1)
        out->err = EIO;
    if (++out->count < 3 && !out->err && write((int)io->ctx, "p", 1) == 1)
        return TASK_WAIT;
    close(io->fd);
    close((int)io->ctx);
    return TASK_DONE;
}

static void pipe_blocking(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    (void)job, (void)step, (void)task;
    *out = (struct partial){ .count = 3 };
}

static const struct workload wl_pipes = {
    .name = "pipes", .kind = WL_IO, .run_task = pipe_blocking, .start_task = pipe_start,
    .resume_task = pipe_resume, .combine = wl_combine_add,
};

/* The same, folded per loop: what a task counts between its waits must be kept for it. */
static const struct workload wl_pipes_fold = {
    .name = "pipes", .kind = WL_IO, .run_task = pipe_blocking, .start_task = pipe_start,
    .resume_task = pipe_resume, .combine = wl_combine_add, .flags = WL_COMBINE_ANY_ORDER,
};

static void body_fd_waits_folded(void)
{
    enum { T = 60 };
    const struct runner *ep = runner_find("epoll");
    CHECK(ep != NULL);
    for (unsigned loops = 1; loops <= 2; loops++) {
        struct job job = { .wl = &wl_pipes_fold, .size = T, .tasks = T, .steps = 1 };
        struct plan plan = { .workers = 1, .cores = 1, .schedule = SCHED_DYNAMIC, .chunk = 7,
                             .loops = loops };
        struct outcome oc = { 0 };
        struct results rs;
        struct partial total;
        size_t bad;
        int err;
        CHECK(results_open(&rs, &job, &plan, RESULTS_AUTO) == 0 && plan.fold != NULL);
        if (ep->run(&job, &plan, results_slots(&rs), &oc))
            fprintf(stderr, "\n  epoll run failed: %s", oc.msg);
        CHECK(oc.code == 0);
        CHECK(results_combine(&rs, &job, &total, &bad, &err) == 0);
        CHECK(total.count == 3u * T && total.err == 0);   /* 1 + 1 + 1 across two waits */
        results_close(&rs, &plan);
    }
}

static void test_fd_waits_folded(void)
{
    CU_ASSERT(in_child(body_fd_waits_folded, 20));
}

static void body_fd_waits(void)
{
    enum { T = 60 };
    const struct runner *ep = runner_find("epoll");
    CHECK(ep != NULL);
    for (unsigned loops = 1; loops <= 2; loops++) {
        struct job job = { .wl = &wl_pipes, .size = T, .tasks = T, .steps = 1 };
        struct plan plan = { .workers = 1, .cores = 1, .schedule = SCHED_DYNAMIC, .chunk = 7,
                             .loops = loops };
        struct outcome oc = { 0 };
        struct partial *slots = job_shared_alloc(T * sizeof *slots);
        CHECK(slots != NULL);
        int before = open_fds();   /* after the slots: shared memory holds its memfd open */
        if (ep->run(&job, &plan, slots, &oc))
            fprintf(stderr, "\n  epoll run failed: %s", oc.msg);
        CHECK(oc.code == 0);
        for (size_t t = 0; t < T; t++)
            CHECK(slots[t].count == 3 && slots[t].err == 0);
        CHECK(open_fds() == before);              /* no pipe, pidfd or loop fd leaked */
        job_shared_free(slots, T * sizeof *slots);
    }
}

static void test_fd_waits(void)
{
    CU_ASSERT(in_child(body_fd_waits, 20));
}

static void body_crash_named(void)
{
    const struct runner *ep = runner_find("epoll");
    const struct workload *w = wl_find("primes");
    CHECK(ep != NULL && w != NULL);
    struct job job = { .wl = w, .size = 20000, .tasks = 8, .steps = 1, .seed = 1 };
    /* static over 2 loops: tasks 4..7 belong to the forked loop */
    struct plan plan = { .workers = 1, .cores = 1, .schedule = SCHED_STATIC, .loops = 2,
                         .inject = INJECT_SEGV, .inject_task = 6 };
    struct outcome oc = { 0 };
    struct partial *slots = job_shared_alloc(job.tasks * sizeof *slots);
    CHECK(slots != NULL);
    CHECK(ep->run(&job, &plan, slots, &oc) == -1);
    CHECK(oc.code == PARLAB_EXIT_SOFTWARE);
    if (!strstr(oc.msg, "task 6 (worker pid") || !strstr(oc.msg, "killed by SIGSEGV"))
        fprintf(stderr, "\n  message: %s", oc.msg);
    CHECK(strstr(oc.msg, "task 6 (worker pid") != NULL);
    CHECK(strstr(oc.msg, "killed by SIGSEGV") != NULL);
    CHECK(waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD);   /* nothing left behind */
}

static void test_crash_named(void)
{
    CU_ASSERT(in_child(body_crash_named, 20));
}

CU_TestInfo tests_loop[] = {
    { "timers fire in deadline order, cancelled ones never", test_timer_order },
    { "a delay counts from the loop's next clock reading: never early, late as stated",
      test_late_bound },
    { "10,000 timers on one timerfd under ulimit -n 64", test_many_timers },
    { "random delays, cancels and timers added from callbacks; one churning lane", test_random_timers },
    { "timers of one delay fire in the order added", test_fifo_ties },
    { "300 distinct callbacks: each timer runs its own, in order", test_many_callbacks },
    { "a watched pipe fd fires once and unwatches", test_pipe_fd },
    { "a deferred callback waits for the next iteration", test_defer },
    { "loop_stop returns 1 and a later run carries on", test_stop },
    { "epoll runner equals seq, loops 1-3, static/dynamic", test_runner_equals_seq },
    { "static blocks per loop; steps wait for every loop", test_static_blocks_and_steps },
    { "2000 waits of 50 ms overlap on one loop", test_waits_overlap },
    { "tasks waiting on fds resume, re-arm and finish", test_fd_waits },
    { "folded: what a task wrote before it waited is kept", test_fd_waits_folded },
    { "a crashed loop process is named and reaped", test_crash_named },
    CU_TEST_INFO_NULL,
};
