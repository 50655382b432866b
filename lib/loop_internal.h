/* loop_internal.h: what loop.c (fds, deferred callbacks, the iteration) and loop_timer.c
 * (timers) share: the loop itself. Private to lib/. */
#ifndef PARLAB_LOOP_INTERNAL_H
#define PARLAB_LOOP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "clock.h"
#include "loop.h"

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

/* loop_timer.c, for loop.c. */
/* Returns the time, after reading the clock into l->now and moving the timers added
 * since the last reading to count from it (the comment above struct loop). */
uint64_t loop__clock(struct loop *l);
/* Returns nothing: runs the timers due at l->now that were added before this pass. */
void loop__run_timers(struct loop *l);
/* Returns 0 once the timerfd is set to the earliest deadline (or disarmed), or -errno. */
int loop__arm_timerfd(struct loop *l);
/* Returns 1 with the earliest pending timer in *first and where it is (lane *where, or
 * -1 for the heap), or 0 when none is pending. */
int loop__timer_first(const struct loop *l, struct rec *first, int *where);

#endif
