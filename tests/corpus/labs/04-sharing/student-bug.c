/* A planted bug for the tests: an exact method (atomic), but one increment short per
 * worker, in every run. The count check must fail it, naming this file. */
#include "student.h"

void student_count(struct shared_counter *c, unsigned worker, unsigned workers, uint64_t n)
{
    (void)worker, (void)workers;
    for (uint64_t i = 1; i < n; i++)
        __atomic_fetch_add(&c->total, 1, __ATOMIC_RELAXED);
}
