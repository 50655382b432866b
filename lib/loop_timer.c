/* loop_timer.c: the event loop's timers (loop.h): sorted FIFO lanes and a binary min-heap,
 * ordered by (deadline, seq), whose earliest deadline arms the loop's one timerfd. The
 * layout and why are in the comment above LANES in loop_internal.h. */
#define _GNU_SOURCE
#include "loop_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

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
int loop__timer_first(const struct loop *l, struct rec *first, int *where)
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
uint64_t loop__clock(struct loop *l)
{
    uint64_t t = clock_now_ns();
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
void loop__run_timers(struct loop *l)
{
    uint64_t before = l->timer_seq;
    while (l->ntimers && !l->stop) {
        int where;
        struct rec due;
        if (!loop__timer_first(l, &due, &where) || due.deadline > l->now || due.seq >= before)
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
int loop__arm_timerfd(struct loop *l)
{
    int where;
    struct rec first;
    uint64_t want = loop__timer_first(l, &first, &where) ? first.deadline : 0;
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
