/* A planted bug for the tests: bands one row short, so the last row of every band is never
 * rendered (at any number of tasks). The image check must fail it, naming this file. */
#include "student.h"

size_t student_rows(size_t task, size_t tasks, size_t height, size_t *rows)
{
    size_t per = (height + tasks - 1) / tasks, lo = task * per, hi = lo + per - 1, k = 0;
    if (hi > height)
        hi = height;
    for (size_t r = lo; r < hi; r++)
        rows[k++] = r;
    return k;
}
