/* schedule.c: schedule names and static blocks (schedule.h). */
#define _GNU_SOURCE
#include "schedule.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

static const char *const sched_names[SCHED_STUDENT + 1] = { "static", "dynamic", "guided",
                                                            "student" };

const char *sched_name(enum sched_kind s)
{
    return (unsigned)s <= SCHED_STUDENT ? sched_names[s] : "?";
}

int sched_parse(const char *s, enum sched_kind *out)
{
    for (int i = 0; i <= SCHED_STUDENT; i++)
        if (strcmp(s, sched_names[i]) == 0) {
            *out = (enum sched_kind)i;
            return 0;
        }
    return -EINVAL;
}

void sched_static_block(size_t n, unsigned workers, unsigned w, size_t *lo, size_t *hi)
{
    /* OpenMP's static split: the first n % W workers take one extra task. */
    size_t q = n / workers, r = n % workers;
    *lo = (size_t)w * q + (w < r ? w : r);
    *hi = *lo + q + (w < r ? 1 : 0);
}

unsigned cpus_allowed(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set))
        return 1;
    return (unsigned)CPU_COUNT(&set);
}
