/* apply_async.c: Python's pool.apply_async(f, (i,)) for several i, then collecting the
 * results as they complete (concurrent.futures.as_completed). Tasks take different
 * times, so they finish in an order that changes from run to run; the results are
 * sorted before printing so that the output does not. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "fpool.h"

/* Runs in a worker: the later the task, the quicker it is. */
static int slow_square(const void *in, void *out)
{
    int x = *(const int *)in;
    struct timespec ts = { 0, (long)(10 - x) * 2000000L };
    nanosleep(&ts, NULL);
    *(int *)out = x * x;
    return 0;
}

static int by_value(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    enum { N = 10 };
    struct fpool_future *futures[N];
    int results[N], count = 0;

    struct fpool *pool = fpool_create(0, NULL, NULL);
    if (!pool) {
        fprintf(stderr, "apply_async: %s\n", fpool_strerror());
        return 1;
    }
    for (int i = 0; i < N; i++) {
        futures[i] = fpool_submit(pool, slow_square, &i, sizeof i, sizeof(int));
        if (!futures[i]) {
            fprintf(stderr, "apply_async: %s\n", fpool_strerror());
            fpool_terminate(pool);
            return 1;
        }
    }
    /* Take whichever is done next; a collected slot becomes NULL. */
    long i;
    while ((i = fpool_as_completed(futures, N, -1)) >= 0) {
        int rc = fpool_future_get(futures[i], &results[count], 0);
        futures[i] = NULL;
        if (rc) {
            fprintf(stderr, "apply_async: %s\n", fpool_strerror());
            fpool_terminate(pool);
            return 1;
        }
        count++;
    }
    if (i != -ENOENT) {   /* -ENOENT: every future collected */
        fprintf(stderr, "apply_async: %s\n", fpool_strerror());
        fpool_terminate(pool);
        return 1;
    }
    fpool_close(pool);
    fpool_join(pool);

    qsort(results, (size_t)count, sizeof results[0], by_value);
    for (int k = 0; k < count; k++)
        printf("%d%c", results[k], k + 1 < count ? ' ' : '\n');
    printf("count %d\n", count);
    return 0;
}
