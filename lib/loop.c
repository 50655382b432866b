/* loop.c: the event loop behind loop.h: epoll for fds, the iteration, and a FIFO of
 * deferred callbacks; the timers (sorted lanes and a min-heap feeding one timerfd) are
 * loop_timer.c. The only file that calls epoll_*. */
#define _GNU_SOURCE
#include "loop_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

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
    l->now = clock_now_ns();
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
        if (loop__timer_first(l, &first, &where) && first.deadline <= loop__clock(l))
            timeout_ms = 0;
    }
    if (timeout_ms != 0) {
        int e = loop__arm_timerfd(l);
        if (e)
            return e;
    }
    int n = epoll_wait(l->epfd, l->ev, l->ev_cap, timeout_ms);
    l->polls++;
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    l->now = loop__clock(l);
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
            l->now = loop__clock(l);
            loop__run_timers(l);
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
