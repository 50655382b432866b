/* clock.h: the one clock every worker shares, thread or process. */
#ifndef PARLAB_CLOCK_H
#define PARLAB_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Returns CLOCK_MONOTONIC in ns: comparable across the threads and processes of a run. */
static inline uint64_t clock_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
