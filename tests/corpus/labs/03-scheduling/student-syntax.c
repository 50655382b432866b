/* A planted compile error for the tests: a missing semicolon. */
#include "student.h"

int student_claim(struct claim_state *c, size_t *lo, size_t *hi)
{
    *lo = 0
    *hi = c->n;
    return 0;
}
