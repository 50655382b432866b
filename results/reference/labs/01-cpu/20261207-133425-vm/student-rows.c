/* rows.c, the model answer of lab 1, step 7 (for instructors; KEY.md says why): interleave
 * the rows, task t rendering rows t, t + T, t + 2T ... Costly rows (through the set, in
 * the middle of the image) are then shared out evenly whatever the number of tasks, where
 * bands of rows give the middle tasks most of the work. */
#include "student.h"

size_t student_rows(size_t task, size_t tasks, size_t height, size_t *rows)
{
    size_t k = 0;
    for (size_t r = task; r < height; r += tasks)
        rows[k++] = r;
    return k;
}
