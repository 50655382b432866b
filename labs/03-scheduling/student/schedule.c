/* schedule.c: your scheduling policy for lab 3, step 6: which tasks a worker runs next.
 * `make lab-3` builds this file and runs it as `-s student` beside static, dynamic and
 * guided (same runs, same table, same timeline); `make lab-3-check` checks that it runs
 * every task exactly once, then grades its time against dynamic's. The contract is in
 * lib/student.h (struct claim_state).
 *
 * This first version is the naive one: each worker takes one block of consecutive tasks,
 * as -s static does. It is right, and on primes it is as slow as static: the worker with
 * the top block (the expensive tasks) finishes long after the others. Make it as fast as
 * dynamic. */
#include "student.h"

int student_claim(struct claim_state *c, size_t *lo, size_t *hi)
{
    if (*c->mine)                 /* this worker has had its block: it is done */
        return 0;
    *c->mine = 1;
    size_t per = (c->n + c->workers - 1) / c->workers;
    *lo = c->worker * per;
    *hi = *lo + per < c->n ? *lo + per : c->n;
    return *lo < *hi;             /* with more workers than tasks, the last get none */
}
