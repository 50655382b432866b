/* A planted bug for the tests: blocks one task too long, so each overlaps the next (a
 * task claimed twice). The lab's checks must fail it, naming this file. */
#include "student.h"

int student_claim(struct claim_state *c, size_t *lo, size_t *hi)
{
    size_t first = atomic_fetch_add_explicit(c->next, 1, memory_order_relaxed);
    if (first >= c->n)
        return 0;
    *lo = first;
    *hi = first + 2 < c->n ? first + 2 : c->n;
    return 1;
}
