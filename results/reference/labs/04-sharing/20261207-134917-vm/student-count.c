/* count.c, the model answer of lab 4, step 7 (for instructors; KEY.md says why): count in
 * a variable of the worker's own, which no other worker touches, and add it to the shared
 * total once, atomically. One atomic add per worker instead of one per increment: no
 * update is lost, and no cache line moves between cores while counting. */
#include "student.h"

void student_count(struct shared_counter *c, unsigned worker, unsigned workers, uint64_t n)
{
    uint64_t mine = 0;
    (void)worker, (void)workers;
    for (uint64_t i = 0; i < n; i++) {
        mine++;
        STUDENT_KEEP(mine);   /* one add per increment: the compiler may not make it mine = n */
    }
    __atomic_fetch_add(&c->total, mine, __ATOMIC_RELAXED);
}
