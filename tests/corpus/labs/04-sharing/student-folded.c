/* A planted fold for the tests: a count of the worker's own, exact, but the compiler turns
 * the loop into one add of n, so no increment is made one at a time. The check that the
 * increments were made one by one must fail it. */
#include "student.h"

void student_count(struct shared_counter *c, unsigned worker, unsigned workers, uint64_t n)
{
    uint64_t mine = 0;
    (void)worker, (void)workers;
    for (uint64_t i = 0; i < n; i++)
        mine++;
    __atomic_fetch_add(&c->total, mine, __ATOMIC_RELAXED);
}
