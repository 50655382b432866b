/* loop.c: the event loop behind loop.h: epoll for fds, timers in sorted lanes and a
 * min-heap feeding one timerfd, and a FIFO of deferred callbacks. The only file that
 * calls epoll_*. */
#define _GNU_SOURCE
#include "loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#define NO_POS UINT32_MAX

struct watch {
    loop_io_fn cb;
    void *arg;
    unsigned events;       /* 0: not watched */
    uint64_t since;        /* the poll count when watched: skip events older than it */
};

/*
 * Timers. A record lives in a slot of loop->timers (48 bytes), and is either in one of
 * LANES lanes or in a binary min-heap, all ordered by (deadline, seq).
 *
 * A lane is a doubly linked FIFO whose deadlines never decrease, so appending and
 * unlinking cost O(1) and its head is its earliest timer. Timers added with one delay
 * have rising deadlines (the clock only moves forward), so a million 100 ms waits fill
 * one lane and never touch the heap: the idea of Node.js's per-duration timer lists,
 * without a table of durations. A timer that fits no lane's tail (a shorter delay than
 * every lane holds, with every lane taken) goes to the heap, which keeps any mix of
 * delays correct at O(log n). The next timer is the least of the lane heads and the
 * heap's top.
 */
#define LANES 8
#define IN_LANE 0x80000000u   /* pos: IN_LANE | lane; else the heap index */

struct timer {
    uint64_t deadline;     /* CLOCK_MONOTONIC ns */
    uint64_t seq;          /* order added: breaks deadline ties, FIFO */
    loop_timer_fn cb;
    void *arg;
    uint32_t gen;          /* bumped on each reuse of the slot: part of the id */
    uint32_t pos;          /* heap index, IN_LANE | lane, or NO_POS when the slot is free */
    uint32_t prev, next;   /* lane neighbours (NO_POS at the ends); next: the free list */
};

struct lane {
    uint32_t head, tail;   /* NO_POS when empty */
};

struct defer {
    loop_defer_fn cb;
    void *arg;
};

/*
 * The clock a new timer's deadline counts from. A delay counts from the call, so every
 * loop_add_timer needs the time, and clock_gettime costs 23 ns in a VM (the vDSO's
 * ordered TSC read and its arithmetic): a third of the time to start a million waits.
 * Where the kernel's own clocksource is the TSC, CLOCK_MONOTONIC is a linear function of
 * it, so the loop reads the TSC alone (10 ns) and scales it from a (clock, TSC) pair at
 * most 1 ms old, with a ratio taken over at least 2 ms of the loop's own clock readings
 * and refined as the loop lives on. A pair is kept only when its two TSC reads around
 * clock_gettime are within 1,000 ticks (no preemption between them). What that leaves
 * uncertain (half the pair's width, the ratio's error over 1 ms: well under a
 * microsecond either way) sits in the middle of LOOP_CLOCK_SLACK_NS: such a deadline lies
 * between the call's time plus the delay and LOOP_CLOCK_SLACK_NS later, so a timer never
 * fires early, and never later than the slack for this reason. Elsewhere (another
 * clocksource, another architecture, the loop's first 2 ms) a deadline reads
 * clock_gettime.
 */
struct tsc_clock {
    int usable;               /* the clocksource is the TSC */
    uint64_t cal_ns, cal_tsc; /* the first good pair: the ratio's start */
    uint64_t base_ns, base_tsc;
    uint64_t mult;            /* ns per tick, 32.32 fixed point; 0 until calibrated */
    uint64_t span;            /* ticks in 1 ms: how far from base a reading may scale */
};

struct loop {
    int epfd, tfd;
    uint64_t now;
    int stop;
    int running;
    uint64_t polls;               /* epoll_wait calls so far */

    struct watch *watch;          /* indexed by fd */
    int watch_cap;
    unsigned nwatch;

    struct timer *timers;
    uint32_t timer_cap, free_head;
    uint32_t ntimers;             /* pending, in lanes and heap */
    struct lane lane[LANES];
    uint32_t *heap;
    uint32_t nheap, heap_cap;
    uint64_t timer_seq;
    uint64_t armed;               /* deadline the timerfd is set to; 0 when disarmed */

    struct defer *dq;             /* ring buffer */
    size_t dq_head, dq_len, dq_cap;

    struct epoll_event *ev;
    int ev_cap;
    void *data;                   /* loop_set_data */
    struct tsc_clock tsc;
};

static uint64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
/* A (clock, TSC) pair taken together, or 0 if the thread was held up between the reads. */
static int tsc_pair(uint64_t *ns, uint64_t *tsc)
{
    uint64_t t0 = __rdtsc();
    *ns = clock_ns();
    uint64_t t1 = __rdtsc();
    if (t1 < t0 || t1 - t0 > 1000)
        return 0;
    *tsc = t0 + (t1 - t0) / 2;
    return 1;
}

static int tsc_is_clocksource(void)
{
    char buf[16] = "";
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (!f)
        return 0;
    int ok = fgets(buf, sizeof buf, f) && !strcmp(buf, "tsc\n");
    fclose(f);
    return ok;
}

static void tsc_open(struct tsc_clock *c)
{
    *c = (struct tsc_clock){ .usable = tsc_is_clocksource() };
    if (c->usable && !tsc_pair(&c->cal_ns, &c->cal_tsc))
        c->cal_ns = 0;
}

/* The clock, read for real: the loop's own readings, which also move the TSC's base and
 * refine its ratio. */
static uint64_t clock_now(struct loop *l)
{
    struct tsc_clock *c = &l->tsc;
    uint64_t ns, tsc;
    if (!c->usable || !tsc_pair(&ns, &tsc))
        return clock_ns();
    if (!c->cal_ns) {
        c->cal_ns = ns;
        c->cal_tsc = tsc;
    } else if (ns - c->cal_ns >= 2000000u && tsc > c->cal_tsc) {
        double per_tick = (double)(ns - c->cal_ns) / (double)(tsc - c->cal_tsc);
        c->mult = (uint64_t)(per_tick * 4294967296.0);
        c->span = (uint64_t)(1e6 / per_tick);
    }
    c->base_ns = ns;
    c->base_tsc = tsc;
    return ns;
}

/* The time a new deadline counts from: a scaled TSC reading plus half the slack, or the
 * clock. */
static uint64_t deadline_now(struct loop *l)
{
    struct tsc_clock *c = &l->tsc;
    if (c->mult) {
        uint64_t d = __rdtsc() - c->base_tsc;
        /* The reading is off by under a microsecond either way: put it in the middle of
         * the slack, so the deadline lies between the call and the slack after it. */
        if (d <= c->span)
            return c->base_ns + ((d * c->mult) >> 32) + LOOP_CLOCK_SLACK_NS / 2;
    }
    return clock_now(l);
}
#else
static void tsc_open(struct tsc_clock *c)
{
    *c = (struct tsc_clock){ 0 };
}

static uint64_t clock_now(struct loop *l)
{
    (void)l;
    return clock_ns();
}

static uint64_t deadline_now(struct loop *l)
{
    (void)l;
    return clock_ns();
}
#endif

int loop_open(struct loop **out)
{
    struct loop *l = calloc(1, sizeof *l);
    int e;
    *out = NULL;
    if (!l)
        return -ENOMEM;
    l->epfd = l->tfd = -1;
    l->free_head = NO_POS;
    for (int i = 0; i < LANES; i++)
        l->lane[i] = (struct lane){ NO_POS, NO_POS };
    l->ev_cap = 64;
    l->ev = malloc((size_t)l->ev_cap * sizeof *l->ev);
    if (!l->ev) {
        e = ENOMEM;
        goto err;
    }
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        e = errno;
        goto err;
    }
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->tfd < 0) {
        e = errno;
        goto err;
    }
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = l->tfd };
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->tfd, &ev) < 0) {
        e = errno;
        goto err;
    }
    tsc_open(&l->tsc);
    l->now = clock_now(l);
    *out = l;
    return 0;
err:
    loop_destroy(l);
    return -e;
}

void loop_destroy(struct loop *l)
{
    if (!l)
        return;
    if (l->tfd >= 0)
        close(l->tfd);
    if (l->epfd >= 0)
        close(l->epfd);
    free(l->watch);
    free(l->timers);
    free(l->heap);
    free(l->dq);
    free(l->ev);
    free(l);
}

uint64_t loop_now(const struct loop *l)
{
    return l->now;
}

void loop_set_data(struct loop *l, void *data)
{
    l->data = data;
}

void *loop_data(const struct loop *l)
{
    return l->data;
}

unsigned loop_watch_count(const struct loop *l)
{
    return l->nwatch;
}

unsigned loop_timer_count(const struct loop *l)
{
    return l->ntimers;
}

void loop_stop(struct loop *l)
{
    l->stop = 1;
}

/* ---- fds ---- */

static uint32_t to_epoll(unsigned events)
{
    return (events & LOOP_READABLE ? EPOLLIN : 0u) | (events & LOOP_WRITABLE ? EPOLLOUT : 0u);
}

int loop_watch_fd(struct loop *l, int fd, unsigned events, loop_io_fn cb, void *arg)
{
    if (fd < 0 || !cb || !(events & (LOOP_READABLE | LOOP_WRITABLE)))
        return fd < 0 ? -EBADF : -EINVAL;
    if (fd == l->tfd || fd == l->epfd)
        return -EEXIST;
    if (fd >= l->watch_cap) {
        int cap = l->watch_cap ? l->watch_cap : 64;
        while (cap <= fd)
            cap *= 2;
        struct watch *w = realloc(l->watch, (size_t)cap * sizeof *w);
        if (!w)
            return -ENOMEM;
        memset(w + l->watch_cap, 0, (size_t)(cap - l->watch_cap) * sizeof *w);
        l->watch = w;
        l->watch_cap = cap;
    }
    if (l->watch[fd].events)
        return -EEXIST;
    struct epoll_event ev = { .events = to_epoll(events), .data.fd = fd };
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    l->watch[fd] = (struct watch){ cb, arg, events & (LOOP_READABLE | LOOP_WRITABLE), l->polls };
    l->nwatch++;
    return 0;
}

int loop_unwatch(struct loop *l, int fd)
{
    if (fd < 0 || fd >= l->watch_cap || !l->watch[fd].events)
        return -ENOENT;
    /* The fd may already be closed by a careless caller; the record goes either way. */
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    l->watch[fd].events = 0;
    l->nwatch--;
    return 0;
}

/* ---- timers: lanes and a heap of slots, ordered by (deadline, seq) ---- */

static int timer_less(const struct loop *l, uint32_t a, uint32_t b)
{
    const struct timer *x = &l->timers[a], *y = &l->timers[b];
    return x->deadline < y->deadline || (x->deadline == y->deadline && x->seq < y->seq);
}

static void heap_set(struct loop *l, uint32_t i, uint32_t slot)
{
    l->heap[i] = slot;
    l->timers[slot].pos = i;
}

static void sift_up(struct loop *l, uint32_t i)
{
    uint32_t slot = l->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!timer_less(l, slot, l->heap[parent]))
            break;
        heap_set(l, i, l->heap[parent]);
        i = parent;
    }
    heap_set(l, i, slot);
}

static void sift_down(struct loop *l, uint32_t i)
{
    uint32_t slot = l->heap[i], n = l->nheap;
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && timer_less(l, l->heap[c + 1], l->heap[c]))
            c++;
        if (!timer_less(l, l->heap[c], slot))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, slot);
}

/* Put slot `slot` (deadline and seq set) in a lane or the heap. 0 or -ENOMEM. */
static int timer_insert(struct loop *l, uint32_t slot)
{
    struct timer *t = &l->timers[slot];
    int best = -1, empty = -1;
    /* The lane whose tail is latest but not after t: appending keeps it sorted, and
     * choosing the closest tail leaves the other lanes for other delays. */
    for (int i = 0; i < LANES; i++) {
        uint32_t tail = l->lane[i].tail;
        if (tail == NO_POS) {
            if (empty < 0)
                empty = i;
        } else if (!timer_less(l, slot, tail) &&
                   (best < 0 || timer_less(l, l->lane[best].tail, tail))) {
            best = i;
        }
    }
    if (best < 0)
        best = empty;
    if (best >= 0) {
        struct lane *ln = &l->lane[best];
        t->pos = IN_LANE | (uint32_t)best;
        t->prev = ln->tail;
        t->next = NO_POS;
        if (ln->tail == NO_POS)
            ln->head = slot;
        else
            l->timers[ln->tail].next = slot;
        ln->tail = slot;
        return 0;
    }
    if (l->nheap == l->heap_cap) {
        uint32_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        uint32_t *h = realloc(l->heap, (size_t)cap * sizeof *h);
        if (!h)
            return -ENOMEM;
        l->heap = h;
        l->heap_cap = cap;
    }
    l->heap[l->nheap] = slot;
    t->pos = l->nheap++;
    sift_up(l, t->pos);
    return 0;
}

/* Take slot `slot` out of its lane or the heap and put it on the free list. */
static void timer_remove(struct loop *l, uint32_t slot)
{
    struct timer *t = &l->timers[slot];
    if (t->pos & IN_LANE) {
        struct lane *ln = &l->lane[t->pos & ~IN_LANE];
        if (t->prev == NO_POS)
            ln->head = t->next;
        else
            l->timers[t->prev].next = t->next;
        if (t->next == NO_POS)
            ln->tail = t->prev;
        else
            l->timers[t->next].prev = t->prev;
    } else {
        uint32_t i = t->pos, last = l->heap[--l->nheap];
        if (i != l->nheap) {
            heap_set(l, i, last);
            sift_down(l, i);
            sift_up(l, l->timers[last].pos);
        }
    }
    l->ntimers--;
    t->pos = NO_POS;
    t->gen++;
    t->next = l->free_head;
    l->free_head = slot;
}

/* The slot of the earliest pending timer, or NO_POS. */
static uint32_t timer_first(const struct loop *l)
{
    uint32_t first = l->nheap ? l->heap[0] : NO_POS;
    for (int i = 0; i < LANES; i++) {
        uint32_t h = l->lane[i].head;
        if (h != NO_POS && (first == NO_POS || timer_less(l, h, first)))
            first = h;
    }
    return first;
}

static uint64_t timer_id(const struct loop *l, uint32_t slot)
{
    return (uint64_t)l->timers[slot].gen << 32 | (uint64_t)(slot + 1);
}

uint64_t loop_add_timer(struct loop *l, uint64_t delay_ns, loop_timer_fn cb, void *arg)
{
    if (l->free_head == NO_POS) {
        uint32_t cap = l->timer_cap ? l->timer_cap * 2 : 64;
        if (cap >= IN_LANE || l->timer_cap >= cap) {
            errno = ENOMEM;
            return 0;
        }
        struct timer *t = realloc(l->timers, (size_t)cap * sizeof *t);
        if (!t) {
            errno = ENOMEM;
            return 0;
        }
        l->timers = t;
        for (uint32_t s = cap; s-- > l->timer_cap;) {
            t[s] = (struct timer){ .pos = NO_POS, .next = l->free_head };
            l->free_head = s;
        }
        l->timer_cap = cap;
    }
    uint32_t slot = l->free_head;
    struct timer *t = &l->timers[slot];
    uint64_t now = deadline_now(l);
    t->deadline = delay_ns > UINT64_MAX - now ? UINT64_MAX : now + delay_ns;
    t->seq = l->timer_seq++;
    t->cb = cb;
    t->arg = arg;
    uint32_t next_free = t->next;
    if (timer_insert(l, slot)) {
        t->pos = NO_POS;
        errno = ENOMEM;
        return 0;
    }
    l->free_head = next_free;
    l->ntimers++;
    return timer_id(l, slot);
}

int loop_cancel_timer(struct loop *l, uint64_t id)
{
    uint64_t low = id & 0xffffffffu;
    if (low == 0 || low > l->timer_cap)
        return -ENOENT;
    uint32_t slot = (uint32_t)(low - 1);
    if (l->timers[slot].pos == NO_POS || timer_id(l, slot) != id)
        return -ENOENT;
    timer_remove(l, slot);
    return 0;
}

/* Run the timers due at l->now that were added before this pass began. */
static void run_timers(struct loop *l)
{
    uint64_t before = l->timer_seq;
    while (l->ntimers && !l->stop) {
        uint32_t slot = timer_first(l);
        struct timer *t = &l->timers[slot];
        if (t->deadline > l->now || t->seq >= before)
            break;
        uint64_t id = timer_id(l, slot);
        loop_timer_fn cb = t->cb;
        void *arg = t->arg;
        timer_remove(l, slot);
        cb(l, id, arg);
    }
}

/* Point the timerfd at the earliest deadline, or disarm it. One syscall per change, so
 * adding 10,000 timers in one callback costs one timerfd_settime. */
static int arm_timerfd(struct loop *l)
{
    uint32_t first = timer_first(l);
    uint64_t want = first != NO_POS ? l->timers[first].deadline : 0;
    if (want == l->armed)
        return 0;
    /* want == 0 disarms. A deadline is never 0: it is at least the clock when added. */
    struct itimerspec its = { .it_value = { (time_t)(want / 1000000000u),
                                            (long)(want % 1000000000u) } };
    if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        return -errno;
    l->armed = want;
    return 0;
}

/* ---- deferred callbacks: a growable ring, a power of two long ---- */

int loop_defer(struct loop *l, loop_defer_fn cb, void *arg)
{
    if (l->dq_len == l->dq_cap) {
        size_t cap = l->dq_cap ? l->dq_cap * 2 : 64;
        struct defer *d = malloc(cap * sizeof *d);
        if (!d)
            return -ENOMEM;
        for (size_t i = 0; i < l->dq_len; i++)
            d[i] = l->dq[(l->dq_head + i) & (l->dq_cap - 1)];
        free(l->dq);
        l->dq = d;
        l->dq_head = 0;
        l->dq_cap = cap;
    }
    l->dq[(l->dq_head + l->dq_len) & (l->dq_cap - 1)] = (struct defer){ cb, arg };
    l->dq_len++;
    return 0;
}

static void run_deferred(struct loop *l)
{
    /* Only those queued before this pass: the rest wait for the next iteration. */
    for (size_t n = l->dq_len; n > 0 && !l->stop; n--) {
        struct defer d = l->dq[l->dq_head];
        l->dq_head = (l->dq_head + 1) & (l->dq_cap - 1);
        l->dq_len--;
        d.cb(l, d.arg);
    }
}

/* ---- the loop ---- */

static unsigned from_epoll(uint32_t e, unsigned watched)
{
    unsigned r = (e & EPOLLIN ? LOOP_READABLE : 0u) | (e & EPOLLOUT ? LOOP_WRITABLE : 0u);
    /* An error or hang-up wakes whoever watches, so a reader sees the EOF or error. */
    if (e & (EPOLLERR | EPOLLHUP))
        r |= LOOP_ERROR | watched;
    return r;
}

/* Wait for fds (or the timerfd) and run the ready callbacks. 0 or -errno. */
static int poll_fds(struct loop *l, int timeout_ms)
{
    /* A timer already due (the loop is behind its timers, as while a million of them
     * come due) needs no timerfd: poll without blocking and run it in the next
     * iteration. Arming costs a syscall and, in a VM, a trap to the host to program its
     * timer: tens of microseconds each here, once per iteration. */
    if (timeout_ms != 0 && l->ntimers) {
        uint32_t first = timer_first(l);
        if (first != NO_POS && l->timers[first].deadline <= clock_now(l))
            timeout_ms = 0;
    }
    if (timeout_ms != 0) {
        int e = arm_timerfd(l);
        if (e)
            return e;
    }
    int n = epoll_wait(l->epfd, l->ev, l->ev_cap, timeout_ms);
    l->polls++;
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    l->now = clock_now(l);
    for (int i = 0; i < n && !l->stop; i++) {
        int fd = l->ev[i].data.fd;
        if (fd == l->tfd) {
            uint64_t ticks;
            if (read(l->tfd, &ticks, sizeof ticks) == (ssize_t)sizeof ticks)
                l->armed = 0;   /* it fired: it is disarmed now */
            continue;
        }
        struct watch *w = &l->watch[fd];
        /* Unwatched by an earlier callback of this batch, or watched anew after the
         * wait returned: this event is not for the current watcher. */
        if (!w->events || w->since == l->polls)
            continue;
        unsigned ev = from_epoll(l->ev[i].events, w->events) & (w->events | LOOP_ERROR);
        if (ev)
            w->cb(l, fd, ev, w->arg);
    }
    if (n == l->ev_cap) {   /* a full batch: take more next time */
        struct epoll_event *bigger = realloc(l->ev, (size_t)l->ev_cap * 2 * sizeof *bigger);
        if (bigger) {
            l->ev = bigger;
            l->ev_cap *= 2;
        }
    }
    return 0;
}

int loop_run(struct loop *l)
{
    int rc = 0;
    if (l->running)
        return -EBUSY;
    l->running = 1;
    l->stop = 0;
    for (;;) {
        if (l->stop) {
            rc = 1;
            break;
        }
        if (l->nwatch == 0 && l->ntimers == 0 && l->dq_len == 0)
            break;
        /* The clock only when a timer may be due: reading it costs more than a deferred
         * callback that runs a task (20-30 ns in a VM), and a loop that only feeds
         * tasks would spend most of its time here. */
        if (l->ntimers) {
            l->now = clock_now(l);
            run_timers(l);
        }
        run_deferred(l);
        if (l->stop)
            continue;
        if (l->nwatch == 0 && l->dq_len > 0)
            continue;   /* nothing to poll: the timers are checked by the clock above */
        if (l->nwatch == 0 && l->ntimers == 0)
            continue;   /* nothing left: the check at the top returns */
        int e = poll_fds(l, l->dq_len > 0 ? 0 : -1);
        if (e) {
            rc = e;
            break;
        }
    }
    l->running = 0;
    return rc;
}
