/* count.c: your count for lab 4, step 7: every worker adds n to one shared total, at once.
 * `make lab-4` builds this file and runs it as `parlab share --method student`: first 20
 * runs that must each end with total = workers x n, then 5 runs in turns with the atomic
 * method, the reference your time is graded against. The contract is in lib/student.h
 * (struct shared_counter).
 *
 * This first version is the one from step 1: a load, an add and a store, with nothing to
 * stop two workers from interleaving them. It runs, and it is wrong: fix it (a lock, an
 * atomic, or a count of the worker's own added once), then make it as fast as atomic. */
#include "student.h"

void student_count(struct shared_counter *c, unsigned worker, unsigned workers, uint64_t n)
{
    (void)worker, (void)workers;
    for (uint64_t i = 0; i < n; i++)
        c->total = c->total + 1;
}
