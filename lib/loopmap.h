/* loopmap.h: a job's steps run by L event loops, one per process (the nginx model): the
 * event-loop counterpart of pool_run, behind the epoll runner. The calling process is
 * loop 0 and the coordinator; loops 1..L-1 are forked. Each loop claims tasks (static
 * blocks or a shared dynamic counter) from a deferred "feed" callback that re-defers
 * itself, so the loop polls between claims, and hands each task to the caller's task
 * callback, which runs it or starts it waiting on the loop (an fd, a timer). The others
 * report the end of each step on an eventfd and their exit on a pidfd, both watched by
 * loop 0's own loop, and sleep on a futex until loop 0 releases the next step, so no loop
 * starts step s+1 before all finished step s.
 *
 * Failures. A loop process that dies is reaped at once and named with its current task
 * (loopmap_set_current); the others are killed and reaped. Any loop may record the run's
 * failure (loopmap_fail: the first one wins), which loop 0 turns into the outcome. */
#ifndef PARLAB_LOOPMAP_H
#define PARLAB_LOOPMAP_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "outcome.h"
#include "schedule.h"

/* One loop process's view of the run, given to every callback. */
struct loopmap;

/*
 * Run or start task t of step `step` in loop `loop` (ctx: the spec's). Returns nothing:
 * a task that now waits on the loop says so with loopmap_task_waits(), and once it
 * finishes, loopmap_task_done(). A task that fails calls loopmap_fail().
 */
typedef void (*loopmap_task_fn)(struct loopmap *m, void *ctx, unsigned step, unsigned loop,
                                size_t t);

struct loopmap_spec {
    unsigned loops;           /* >= 1, at most tasks */
    unsigned steps;
    size_t tasks;
    enum sched_kind sched;    /* SCHED_STATIC or SCHED_DYNAMIC */
    size_t chunk;             /* 0: the schedule's default */
    int async;                /* tasks may wait: a feed starts up to LOOPMAP_FEED claims */
    loopmap_task_fn task;
    void *ctx;                /* the caller's, for its callbacks (loopmap_ctx); memory that
                                 exists before the run, so each loop process has a copy */
};

/* Claims of async tasks one feed callback makes (or CPU tasks it runs, with nothing to
 * poll) before the loop polls again. */
#define LOOPMAP_FEED 256u

/*
 * Run every step of s. Returns 0, or -1 with out filled: the failure a loop recorded, or
 * PARLAB_EXIT_OS when a loop cannot start, PARLAB_EXIT_SOFTWARE when a loop process died
 * or left a step unfinished. Leaves no loop process behind. Parent only.
 */
int loopmap_run(const struct loopmap_spec *s, struct outcome *out);

/* For the callbacks, in the loop's own process. */
/* Returns the loopmap whose loop this is (the loop's data): for fd and timer callbacks. */
struct loopmap *loopmap_of(struct loop *loop);
/* Returns spec->ctx. */
void *loopmap_ctx(const struct loopmap *m);
/* Returns this process's loop. */
struct loop *loopmap_loop(const struct loopmap *m);
/* Returns nothing: publishes the task whose callback this loop runs, or -1, for the report
 * of a loop process that dies. The feed publishes it around each task callback. */
void loopmap_set_current(struct loopmap *m, long task);
/* Returns nothing: the task being started now waits on the loop. */
void loopmap_task_waits(struct loopmap *m);
/* Returns nothing: a task that waited has finished (this loop's part of the step may be
 * over). */
void loopmap_task_done(struct loopmap *m);
/* Returns nothing: records the run's failure (the first one of any loop wins) and stops
 * this loop. */
void loopmap_fail(struct loopmap *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
