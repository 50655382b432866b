/* sync.h: futex waits and wakes on 32-bit words that may live in memory shared between
 * processes (so the non-private futex ops), the one primitive both pools block on. */
#ifndef PARLAB_SYNC_H
#define PARLAB_SYNC_H

/* Memory written by different workers sits at least this far apart (false sharing). */
#define PARLAB_CACHELINE 64

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep while *word == expect, at most timeout_ns (0: no limit). Returns 0 when woken or
 * the word differed, -ETIMEDOUT, or -EINTR. Any thread or process may call it. */
static inline int sync_wait(_Atomic uint32_t *word, uint32_t expect, uint64_t timeout_ns)
{
    struct timespec ts, *tp = NULL;
    if (timeout_ns) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000u);
        ts.tv_nsec = (long)(timeout_ns % 1000000000u);
        tp = &ts;
    }
    if (syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expect, tp, NULL, 0) == 0)
        return 0;
    if (errno == EAGAIN)
        return 0;
    return -errno;
}

/* Wake up to n sleepers on word (INT_MAX: all). */
static inline void sync_wake(_Atomic uint32_t *word, int n)
{
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, n, NULL, NULL, 0);
}

#endif
