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
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define NO_POS UINT32_MAX

struct watch {
    loop_io_fn cb;
    void *arg;
    unsigned events;       /* 0: not watched */
    uint64_t since;        /* the poll count when watched: skip events older than it */
};

/*
 * Timers, ordered by (deadline, seq): seq counts the timers added, so ties fire in the
 * order added. Most sit in one of LANES lanes, the rest in a binary min-heap.
 *
 * A lane is a FIFO ring of 24-byte records whose deadlines never decrease, so adding one
 * is an append and its head is its earliest timer. Timers added with one delay have
 * rising deadlines (the clock only moves forward), so a million 100 ms waits fill one
 * lane and never touch the heap: the idea of Node.js's per-duration timer lists, without
 * a table of durations. A record names its callback by an index into a small table of
 * the loop's callbacks (a loop has a handful; a timer whose callback finds the table full
 * goes to the heap). A lane timer's id is its lane and its seq, which no other timer
 * ever has. The ring is sorted by seq, so a cancel finds its record by binary search and
 * marks it dead (index 0); dead records at either end go at once, and a lane holding more
 * dead records than live ones is compacted in order, so it never holds more than twice
 * its live timers (plus 64). A timer that fits no lane's tail (a shorter delay than every
 * lane holds, with every lane taken) goes to the heap, whose slots carry a reuse count
 * for their ids, and which keeps any mix of delays correct at O(log n). The next timer is
 * the least of the lane heads and the heap's top.
 */
#define LANES 8
#define LANE_SHIFT 60                  /* a lane timer's id: lane << 60 | (seq + 1) */
#define HEAP_ID (UINT64_C(1) << 63)    /* a heap timer's id: HEAP_ID | gen << 32 | (slot + 1) */
#define SLOTS_MAX 0x80000000u          /* records per lane, and heap slots */

struct rec {               /* a timer as the heap keeps it, and as it is added and run */
    uint64_t deadline;     /* CLOCK_MONOTONIC ns */
    uint64_t seq;          /* order added: breaks deadline ties, FIFO */
    loop_timer_fn cb;
    void *arg;
};

#define CB_BITS 8
#define CB_MAX ((1u << CB_BITS) - 1)           /* callbacks a loop's lanes can name */
#define LANE_SEQ_END (UINT64_C(1) << 56)       /* timers from this seq on go to the heap */

struct lrec {              /* a timer as a lane keeps it */
    uint64_t deadline;
    void *arg;
    uint64_t key;          /* seq << CB_BITS | its callback's index in loop->cbs (0: dead) */
};

struct lane {
    struct lrec *r;        /* a ring of cap records (a power of two, or 0) */
    uint32_t cap, head;
    uint32_t len;          /* records from head on, dead ones included */
    uint32_t live;
    uint32_t ready;        /* r[0, ready) has been written or populated */
};

/* Records populated at once ahead of a growing lane (256 KiB). */
#define POPULATE_RECS 8192u

struct hslot {
    struct rec t;
    uint32_t gen;          /* bumped on each reuse of the slot: part of the id */
    uint32_t pos;          /* heap index, or NO_POS when the slot is free */
    uint32_t next;         /* the free list */
};

struct defer {
    loop_defer_fn cb;
    void *arg;
};

/*
 * The clock a new timer's deadline counts from: the loop's time, l->now, read once per
 * iteration (libuv's uv_now), not per timer: clock_gettime costs 23 ns in a VM whose
 * clocksource is not the TSC, a sixth of the time to start a million waits. A timer added
 * at time c gets l->now + delay, which is early by c - l->now. So at the loop's next
 * clock reading T (clock_now), every lane record added since the last one (its seq >=
 * l->fresh_seq: a suffix of each lane in l->lanes_fresh) moves later by T - l->now, to
 * T + delay: never before c + delay, since T >= c, and late by T - c, the rest of the
 * iteration that added it (loop.h). Appending keeps a lane sorted, and so does moving its
 * whole suffix later by one amount. The heap's timers added since (l->fh) move too, each
 * sifted down. No timer is judged due before that reading: run_timers() and the
 * timerfd's arming each come after one.
 */
struct fresh_slot {
    uint32_t slot;
    uint64_t seq;          /* the timer's: the slot may have been freed and reused since */
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

    uint32_t ntimers;             /* pending, in lanes and heap */
    struct lane lane[LANES];
    uint32_t lanes_used;          /* bit i: lane i holds a record */
    struct hslot *hs;             /* the heap's timers */
    uint32_t hs_cap, hs_free;
    uint32_t *heap;               /* slots of hs, a min-heap */
    uint32_t nheap, heap_cap;
    uint64_t timer_seq;
    loop_timer_fn cbs[CB_MAX + 1];   /* what lane records call; [0] unused */
    uint32_t ncbs, cb_last;
    uint64_t armed;               /* deadline the timerfd is set to; 0 when disarmed */

    struct defer *dq;             /* ring buffer */
    size_t dq_head, dq_len, dq_cap;

    struct epoll_event *ev;
    int ev_cap;
    void *data;                   /* loop_set_data */
    uint32_t lanes_fresh;         /* bit i: lane i has records added since l->now was read */
    uint64_t fresh_seq;           /* timer_seq when l->now was read */
    struct fresh_slot *fh;        /* heap timers added since then */
    uint32_t nfh, fh_cap;
};

static uint64_t clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int loop_open(struct loop **out)
{
    struct loop *l = calloc(1, sizeof *l);
    int e;
    *out = NULL;
    if (!l)
        return -ENOMEM;
    l->epfd = l->tfd = -1;
    l->hs_free = NO_POS;
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
    l->now = clock_ns();
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
    for (int i = 0; i < LANES; i++)
        free(l->lane[i].r);
    free(l->hs);
    free(l->heap);
    free(l->fh);
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

/* ---- timers: lanes of records and a heap of slots, ordered by (deadline, seq) ---- */

static int rec_less(const struct rec *x, const struct rec *y)
{
    return x->deadline < y->deadline || (x->deadline == y->deadline && x->seq < y->seq);
}

static uint64_t lrec_seq(const struct lrec *x)
{
    return x->key >> CB_BITS;
}

static unsigned lrec_cb(const struct lrec *x)
{
    return (unsigned)(x->key & CB_MAX);
}

/* A lane record as a struct rec. */
static struct rec lrec_get(const struct loop *l, const struct lrec *x)
{
    return (struct rec){ x->deadline, lrec_seq(x), l->cbs[lrec_cb(x)], x->arg };
}

/* The i-th record of a lane, counted from its head. */
static struct lrec *lane_at(const struct lane *ln, uint32_t i)
{
    return &ln->r[(ln->head + i) & (ln->cap - 1)];
}

/* cb's index in loop->cbs, added on first use; 0 when the table is full. */
static unsigned cb_index(struct loop *l, loop_timer_fn cb)
{
    if (l->cbs[l->cb_last] == cb)
        return l->cb_last;
    for (unsigned i = 1; i <= l->ncbs; i++)
        if (l->cbs[i] == cb)
            return l->cb_last = i;
    if (l->ncbs == CB_MAX)
        return 0;
    l->cbs[++l->ncbs] = cb;
    return l->cb_last = l->ncbs;
}

/* Drop the dead records at both ends of lane i, and mark it unused once it is empty. */
static void lane_trim(struct loop *l, int i)
{
    struct lane *ln = &l->lane[i];
    while (ln->len && !lrec_cb(lane_at(ln, 0))) {
        ln->head = (ln->head + 1) & (ln->cap - 1);
        ln->len--;
    }
    while (ln->len && !lrec_cb(lane_at(ln, ln->len - 1)))
        ln->len--;
    if (!ln->len) {
        ln->head = 0;
        l->lanes_used &= ~(1u << i);
    }
}

/*
 * Fault in the next POPULATE_RECS records of a lane's fresh memory in one call, ahead of
 * the appends that would otherwise fault on each page: a million waits write 24 MB of
 * records, and a page populated in a batch costs about two thirds of one faulted on
 * first write here (docs/decisions.md, Performance). A failure leaves the pages to fault.
 */
static void lane_populate(struct lane *ln)
{
    uint32_t end = ln->cap - ln->ready > POPULATE_RECS ? ln->ready + POPULATE_RECS : ln->cap;
#ifdef MADV_POPULATE_WRITE
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)&ln->r[ln->ready] + page - 1) & ~(page - 1);
    uintptr_t e = (uintptr_t)&ln->r[end] & ~(page - 1);
    if (ln->cap >= POPULATE_RECS && e > a)
        madvise((void *)a, e - a, MADV_POPULATE_WRITE);
#endif
    ln->ready = end;
}

/* Append t, whose callback is cbs[cbi], to lane i: its tail must not be after t. 0 or
 * -ENOMEM. */
static int lane_push(struct loop *l, int i, const struct rec *t, unsigned cbi)
{
    struct lane *ln = &l->lane[i];
    if (ln->len == ln->cap) {
        uint32_t cap = ln->cap ? ln->cap * 2 : 64;
        if (cap > SLOTS_MAX || cap <= ln->cap)
            return -ENOMEM;
        struct lrec *r = realloc(ln->r, (size_t)cap * sizeof *r);
        if (!r)
            return -ENOMEM;
        /* A full ring that had wrapped: its records at [0, head) follow the others. */
        memcpy(r + ln->cap, r, (size_t)ln->head * sizeof *r);
        ln->r = r;
        ln->ready = ln->cap + ln->head;   /* it was full: all of it written */
        ln->cap = cap;
    }
    if (((ln->head + ln->len) & (ln->cap - 1)) >= ln->ready)
        lane_populate(ln);
    *lane_at(ln, ln->len) = (struct lrec){ t->deadline, t->arg, t->seq << CB_BITS | cbi };
    ln->len++;
    ln->live++;
    l->lanes_used |= 1u << i;
    return 0;
}

/* Take live record t out of lane i: it is marked dead (its seq kept, so the ring stays
 * sorted), and dead records at the lane's ends go. */
static void lane_kill(struct loop *l, int i, struct lrec *t)
{
    t->key &= ~(uint64_t)CB_MAX;
    l->lane[i].live--;
    l->ntimers--;
    lane_trim(l, i);
}

/* Cancel the timer of lane i with this seq. 0 or -ENOENT. */
static int lane_cancel(struct loop *l, int i, uint64_t seq)
{
    struct lane *ln = &l->lane[i];
    uint32_t lo = 0, hi = ln->len;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (lrec_seq(lane_at(ln, mid)) < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    struct lrec *t = lo < ln->len ? lane_at(ln, lo) : NULL;
    if (!t || lrec_seq(t) != seq || !lrec_cb(t))
        return -ENOENT;
    lane_kill(l, i, t);
    uint32_t dead = ln->len - ln->live;
    if (dead > ln->live && dead >= 64) {   /* compact, in order: k <= j throughout */
        uint32_t k = 0;
        for (uint32_t j = 0; j < ln->len; j++) {
            struct lrec *x = lane_at(ln, j);
            if (lrec_cb(x))
                *lane_at(ln, k++) = *x;
        }
        ln->len = k;
    }
    return 0;
}

static int heap_less(const struct loop *l, uint32_t a, uint32_t b)
{
    return rec_less(&l->hs[a].t, &l->hs[b].t);
}

static void heap_set(struct loop *l, uint32_t i, uint32_t slot)
{
    l->heap[i] = slot;
    l->hs[slot].pos = i;
}

static void sift_up(struct loop *l, uint32_t i)
{
    uint32_t slot = l->heap[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!heap_less(l, slot, l->heap[parent]))
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
        if (c + 1 < n && heap_less(l, l->heap[c + 1], l->heap[c]))
            c++;
        if (!heap_less(l, l->heap[c], slot))
            break;
        heap_set(l, i, l->heap[c]);
        i = c;
    }
    heap_set(l, i, slot);
}

static uint64_t heap_id(const struct loop *l, uint32_t slot)
{
    return HEAP_ID | (uint64_t)(l->hs[slot].gen & 0x7fffffffu) << 32 | (uint64_t)(slot + 1);
}

/* Put t in the heap: its id, or 0 (out of memory). */
static uint64_t heap_push(struct loop *l, const struct rec *t)
{
    if (l->hs_free == NO_POS) {
        uint32_t cap = l->hs_cap ? l->hs_cap * 2 : 64;
        if (cap > SLOTS_MAX || cap <= l->hs_cap)
            return 0;
        struct hslot *h = realloc(l->hs, (size_t)cap * sizeof *h);
        if (!h)
            return 0;
        l->hs = h;
        for (uint32_t s = cap; s-- > l->hs_cap;) {
            h[s] = (struct hslot){ .pos = NO_POS, .next = l->hs_free };
            l->hs_free = s;
        }
        l->hs_cap = cap;
    }
    if (l->nheap == l->heap_cap) {
        uint32_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        uint32_t *h = realloc(l->heap, (size_t)cap * sizeof *h);
        if (!h)
            return 0;
        l->heap = h;
        l->heap_cap = cap;
    }
    uint32_t slot = l->hs_free;
    l->hs_free = l->hs[slot].next;
    l->hs[slot].t = *t;
    l->heap[l->nheap] = slot;
    l->hs[slot].pos = l->nheap++;
    sift_up(l, l->hs[slot].pos);
    return heap_id(l, slot);
}

/* Take slot `slot` out of the heap and put it on the free list. */
static void heap_remove(struct loop *l, uint32_t slot)
{
    struct hslot *h = &l->hs[slot];
    uint32_t i = h->pos, last = l->heap[--l->nheap];
    if (i != l->nheap) {
        heap_set(l, i, last);
        sift_down(l, i);
        sift_up(l, l->hs[last].pos);
    }
    l->ntimers--;
    h->pos = NO_POS;
    h->gen++;
    h->next = l->hs_free;
    l->hs_free = slot;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
    return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

/* Put t (its deadline counted from l->now, its seq set) in a lane or the heap: its id,
 * or 0 (out of memory). */
static uint64_t timer_insert(struct loop *l, const struct rec *t)
{
    int best = -1;
    struct rec best_tail = { 0 };
    /* The lane whose tail is latest but not after t: appending keeps it sorted, and
     * choosing the closest tail leaves the other lanes for other delays. Else an empty
     * lane, else the heap. */
    for (uint32_t m = l->lanes_used; m; m &= m - 1) {
        int i = __builtin_ctz(m);
        struct rec tail = lrec_get(l, lane_at(&l->lane[i], l->lane[i].len - 1));
        if (!rec_less(t, &tail) && (best < 0 || rec_less(&best_tail, &tail))) {
            best = i;
            best_tail = tail;
        }
    }
    if (best < 0 && l->lanes_used != (1u << LANES) - 1)
        best = __builtin_ctz(~l->lanes_used);
    unsigned cbi = best >= 0 && t->seq < LANE_SEQ_END ? cb_index(l, t->cb) : 0;
    if (!cbi) {
        if (l->nfh == l->fh_cap) {
            uint32_t cap = l->fh_cap ? l->fh_cap * 2 : 64;
            struct fresh_slot *f = cap > l->fh_cap ? realloc(l->fh, cap * sizeof *f) : NULL;
            if (!f)
                return 0;
            l->fh = f;
            l->fh_cap = cap;
        }
        uint64_t id = heap_push(l, t);
        if (id)
            l->fh[l->nfh++] = (struct fresh_slot){ (uint32_t)(id & 0xffffffffu) - 1, t->seq };
        return id;
    }
    if (lane_push(l, best, t, cbi))
        return 0;
    l->lanes_fresh |= 1u << best;
    return (uint64_t)best << LANE_SHIFT | (t->seq + 1);
}

/* The earliest pending timer, into *first, and where it is: lane *where, or -1 for the
 * heap's top. 0 when none is pending. A used lane's head is always live (lane_trim). */
static int timer_first(const struct loop *l, struct rec *first, int *where)
{
    int found = l->nheap > 0;
    if (found)
        *first = l->hs[l->heap[0]].t;
    *where = -1;
    for (uint32_t m = l->lanes_used; m; m &= m - 1) {
        int i = __builtin_ctz(m);
        struct rec h = lrec_get(l, lane_at(&l->lane[i], 0));
        if (!found || rec_less(&h, first)) {
            *first = h;
            *where = i;
            found = 1;
        }
    }
    return found;
}

/* Read the clock into l->now, and move the lane records added since the last reading to
 * count from it (the comment above struct loop). The time. */
static uint64_t clock_now(struct loop *l)
{
    uint64_t t = clock_ns();
    if (t < l->now)
        t = l->now;   /* never back: a record must not move earlier */
    uint64_t d = t - l->now;
    for (uint32_t m = l->lanes_fresh; m && d; m &= m - 1) {
        struct lane *ln = &l->lane[__builtin_ctz(m)];
        for (uint32_t j = ln->len; j-- > 0;) {
            struct lrec *x = lane_at(ln, j);
            if (lrec_seq(x) < l->fresh_seq)
                break;
            x->deadline = add_sat(x->deadline, d);
        }
    }
    for (uint32_t i = 0; i < l->nfh && d; i++) {
        struct hslot *h = &l->hs[l->fh[i].slot];
        if (h->pos != NO_POS && h->t.seq == l->fh[i].seq) {
            h->t.deadline = add_sat(h->t.deadline, d);
            sift_down(l, h->pos);
        }
    }
    l->nfh = 0;
    l->lanes_fresh = 0;
    l->fresh_seq = l->timer_seq;
    return l->now = t;
}

uint64_t loop_add_timer(struct loop *l, uint64_t delay_ns, loop_timer_fn cb, void *arg)
{
    uint64_t id = 0;
    struct rec t = { .deadline = add_sat(l->now, delay_ns), .seq = l->timer_seq, .cb = cb,
                     .arg = arg };
    if (!cb) {
        errno = EINVAL;
        return 0;
    }
    if (l->ntimers == UINT32_MAX || !(id = timer_insert(l, &t))) {
        errno = ENOMEM;
        return 0;
    }
    l->timer_seq++;
    l->ntimers++;
    return id;
}

int loop_cancel_timer(struct loop *l, uint64_t id)
{
    if (id & HEAP_ID) {
        uint64_t low = id & 0xffffffffu;
        if (low == 0 || low > l->hs_cap)
            return -ENOENT;
        uint32_t slot = (uint32_t)(low - 1);
        if (l->hs[slot].pos == NO_POS || heap_id(l, slot) != id)
            return -ENOENT;
        heap_remove(l, slot);
        return 0;
    }
    uint64_t seq1 = id & ((UINT64_C(1) << LANE_SHIFT) - 1);
    if (seq1 == 0)
        return -ENOENT;
    return lane_cancel(l, (int)(id >> LANE_SHIFT), seq1 - 1);
}

/* Run the timers due at l->now that were added before this pass began. */
static void run_timers(struct loop *l)
{
    uint64_t before = l->timer_seq;
    while (l->ntimers && !l->stop) {
        int where;
        struct rec due;
        if (!timer_first(l, &due, &where) || due.deadline > l->now || due.seq >= before)
            break;
        uint64_t id;
        if (where >= 0) {
            id = (uint64_t)where << LANE_SHIFT | (due.seq + 1);
            lane_kill(l, where, lane_at(&l->lane[where], 0));
        } else {
            uint32_t slot = l->heap[0];
            id = heap_id(l, slot);
            heap_remove(l, slot);
        }
        due.cb(l, id, due.arg);
    }
}

/* Point the timerfd at the earliest deadline, or disarm it. One syscall per change, so
 * adding 10,000 timers in one callback costs one timerfd_settime. */
static int arm_timerfd(struct loop *l)
{
    int where;
    struct rec first;
    uint64_t want = timer_first(l, &first, &where) ? first.deadline : 0;
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
        int where;
        struct rec first;
        if (timer_first(l, &first, &where) && first.deadline <= clock_now(l))
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
