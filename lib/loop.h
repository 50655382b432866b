/* loop.h: a small single-threaded event loop (fd watches, timers, deferred callbacks),
 * in the manner of redis ae.c and libuv. Every epoll call of parlab lives behind it. */
#ifndef PARLAB_LOOP_H
#define PARLAB_LOOP_H

#include <stdint.h>

/*
 * One loop belongs to one thread: every function below must be called from the thread
 * that runs the loop (callbacks included), never from another thread or a signal
 * handler. A loop made before fork() is not usable in the child (the epoll set and
 * timerfd would be shared with the parent); make one per process.
 *
 * One iteration of loop_run, like libuv's:
 *   1. run the timers that are due (earliest deadline first, ties in the order added);
 *   2. run the callbacks deferred before this iteration began (FIFO);
 *   3. poll the fds (timeout 0 if deferred work is waiting, else until the next event),
 *      and run the callback of each ready fd.
 * Timers sit in sorted FIFO lanes (timers of one delay: O(1) to add and run, O(log n) to
 * cancel, 24 bytes each) and a binary min-heap for the rest, so any mix of delays is right
 * and a million equal waits are cheap. The earliest deadline arms a single timerfd in the epoll set, with
 * nanosecond precision, so a million pending timers cost one fd.
 */

struct loop;

#define LOOP_READABLE 0x1u
#define LOOP_WRITABLE 0x2u
#define LOOP_ERROR    0x4u   /* reported only: error or hang-up on the fd */

/* An fd is ready: `events` is a mask of LOOP_READABLE, LOOP_WRITABLE and LOOP_ERROR.
 * Level-triggered: the callback runs again next iteration while the fd stays ready. */
typedef void (*loop_io_fn)(struct loop *loop, int fd, unsigned events, void *arg);
/* A timer's deadline passed. The timer is already removed; its id is no longer valid. */
typedef void (*loop_timer_fn)(struct loop *loop, uint64_t id, void *arg);
/* A deferred callback, run once. */
typedef void (*loop_defer_fn)(struct loop *loop, void *arg);

/* Errors follow lib/pool.h: 0 or -errno, objects through an out parameter. */

/* Make a loop: 0 with *out set, or -errno (-EMFILE, -ENOMEM, ...). The caller frees it
 * with loop_destroy(). */
int loop_open(struct loop **out);

/*
 * Call cb(loop, fd, events, arg) whenever fd is ready for `events` (LOOP_READABLE
 * and/or LOOP_WRITABLE). Returns 0, -EEXIST if fd is already watched, or another
 * -errno from epoll_ctl. The loop never closes fd: the caller still owns it, and must
 * loop_unwatch() it before closing it. A watched fd keeps loop_run() running.
 */
int loop_watch_fd(struct loop *loop, int fd, unsigned events, loop_io_fn cb, void *arg);

/* Stop watching fd. Safe from any callback, including fd's own; a ready event of fd
 * that this iteration has not delivered yet is dropped. Returns 0 or -ENOENT. */
int loop_unwatch(struct loop *loop, int fd);

/*
 * Call cb(loop, id, arg) once, delay_ns nanoseconds (CLOCK_MONOTONIC) after the loop's
 * clock, which it reads once per iteration (libuv's uv_now), not per timer. The deadline
 * is delay_ns after the loop's first clock reading that follows the call: never earlier
 * than the call's own time plus delay_ns, and later than it by at most the time from the
 * call to that reading, which is the rest of the callback that adds the timer and of the
 * callbacks that run after it in the same pass, or, for a timer added outside
 * loop_run(), the time until loop_run() starts. The callback runs when the loop next
 * finds the clock at or past the deadline: as late again as the loop is busy elsewhere. Returns the timer's id (> 0), or 0 with errno = ENOMEM (EINVAL when
 * cb is NULL). A timer added from a timer callback never runs in the same pass, so a zero
 * delay cannot starve the loop. A pending timer keeps loop_run() running.
 */
uint64_t loop_add_timer(struct loop *loop, uint64_t delay_ns, loop_timer_fn cb, void *arg);

/* Remove a pending timer. Returns 0, or -ENOENT if it already ran or was cancelled. A
 * stale id is harmless: a lane timer's id is never given again, and a heap timer's carries
 * its slot's reuse count, so it could only match again after that one slot had been
 * reused 2^31 times. */
int loop_cancel_timer(struct loop *loop, uint64_t id);

/*
 * Run cb(loop, arg) once, on the next iteration (node's setImmediate): callbacks deferred
 * from a deferred callback wait for the following iteration, so the loop polls its fds
 * and timers between them. Returns 0, or -ENOMEM. Pending callbacks keep loop_run()
 * running.
 */
int loop_defer(struct loop *loop, loop_defer_fn cb, void *arg);

/*
 * Run until nothing is left (no watched fd, no timer, no deferred callback): returns 0;
 * or until loop_stop(): returns 1; or until epoll fails: returns -errno. What is still
 * pending stays pending, and a later loop_run() carries on with it. Not reentrant: from
 * a callback of the same loop it returns -EBUSY.
 */
int loop_run(struct loop *loop);

/* Returns nothing: makes loop_run() return 1 after the callback that calls this returns. */
void loop_stop(struct loop *loop);

/* Returns the loop's clock, CLOCK_MONOTONIC in ns (the same clock as clock_now_ns), as last
 * read: at the start of an iteration that had timers pending, before a poll that may
 * block on them, or after a poll. The timers added since then count from its next
 * reading (loop_add_timer). */
uint64_t loop_now(const struct loop *loop);

/* The caller's own pointer, kept for its callbacks, as libuv's uv_loop_set_data:
 * callbacks that all need one context need not each carry it. loop_set_data returns
 * nothing; loop_data returns the pointer (NULL until set). */
void loop_set_data(struct loop *loop, void *data);
void *loop_data(const struct loop *loop);
/* Return how many fds are watched and timers pending (for tests and bookkeeping). */
unsigned loop_watch_count(const struct loop *loop);
unsigned loop_timer_count(const struct loop *loop);

/* Returns nothing: frees the loop and whatever is still pending, without running it. Must not be called
 * from inside loop_run(). Watched fds stay open: they belong to the caller. */
void loop_destroy(struct loop *loop);

#endif
