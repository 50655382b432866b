/* schedule.h: OpenMP's loop schedules, as every parallel runner and the pools name and
 * split them, and the CPUs a run may use. */
#ifndef PARLAB_SCHEDULE_H
#define PARLAB_SCHEDULE_H

#include <stddef.h>

/* SCHED__COUNT counts OpenMP's three, which every parallel runner honours; SCHED_STUDENT
 * (`-s student`) is the claim a student wrote in lab 3 (lib/student.h), which only the
 * thread runner honours: loops over SCHED__COUNT leave it out on purpose. */
enum sched_kind { SCHED_STATIC, SCHED_DYNAMIC, SCHED_GUIDED, SCHED__COUNT,
                  SCHED_STUDENT = SCHED__COUNT };
#define SCHED_BIT(s) (1u << (s))
#define SCHED_ALL (SCHED_BIT(SCHED_STATIC) | SCHED_BIT(SCHED_DYNAMIC) | SCHED_BIT(SCHED_GUIDED))

/* Returns the schedule's name ("static", ..., "student"), or "?" for no schedule. */
const char *sched_name(enum sched_kind s);
/* Returns 0 with *out set, or -EINVAL if s names no schedule (it knows "student"). */
int sched_parse(const char *s, enum sched_kind *out);

/* Returns nothing: fills [*lo, *hi), the tasks of n that worker w of `workers` runs under
 * static scheduling without a chunk (OpenMP's split: the first n % workers take one more). */
void sched_static_block(size_t n, unsigned workers, unsigned w, size_t *lo, size_t *hi);

/* Returns the number of CPUs this process may run on (its affinity mask), at least 1: the
 * default worker count. */
unsigned cpus_allowed(void);

#endif
