/* apply_async.c: Python's
 *
 *     results = [pool.apply_async(slow_square, (i,), callback=arrived) for i in range(10)]
 *     print([r.get() for r in results])
 *
 * The callback runs as each result comes in, so it sees the order the tasks finished in;
 * get() on the list sees the order they were submitted in. Task 0 sleeps 300 ms and the
 * others 10 ms, so on two workers task 0 arrives last: the two orders differ. (fpool runs callbacks
 * in the parent when asked: fpool_poll is Python's result-handler thread.) The tutorial's
 * own example sorted its results, which hides exactly this. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "fpool.h"

enum { N = 10 };

/* Runs in a worker: task 0 is slow, the rest quick. */
static int slow_square(const void *in, void *out)
{
    int x = *(const int *)in;
    struct timespec ts = { 0, x == 0 ? 300000000L : 10000000L };
    nanosleep(&ts, NULL);
    *(int *)out = x * x;
    return 0;
}

static int arrival[N], arrived_n;

/* The callback: in the parent, with the result; arg is the task's number. */
static void arrived(const void *result, void *arg)
{
    (void)result;
    arrival[arrived_n++] = (int)(intptr_t)arg;
}

int main(int argc, char **argv)
{
    fpool_worker_entry(argc, argv);   /* the __main__ guard (needed under spawn) */
    struct fpool_future *futures[N];
    struct fpool *pool = fpool_create(2, NULL, NULL);
    if (!pool) {
        fprintf(stderr, "apply_async: %s\n", fpool_strerror());
        return 1;
    }
    printf("submitted:");
    for (int i = 0; i < N; i++) {
        if (fpool_apply_async(pool, slow_square, &i, sizeof i, sizeof(int), arrived, NULL,
                              (void *)(intptr_t)i, &futures[i])) {
            fprintf(stderr, "apply_async: %s\n", fpool_strerror());
            fpool_terminate(pool);
            return 1;
        }
        printf(" %d", i);
    }
    printf("\n");
    /* The result handler: each callback as its result comes in. */
    if (fpool_poll(pool, -1) != N) {
        fprintf(stderr, "apply_async: %s\n", fpool_strerror());
        fpool_terminate(pool);
        return 1;
    }
    printf("arrived:  ");
    for (int k = 0; k < arrived_n; k++)
        printf(" %d", arrival[k]);
    printf("\nget() in submission order:");
    for (int i = 0; i < N; i++) {
        int r;
        if (fpool_future_get(futures[i], &r, -1)) {
            fprintf(stderr, "apply_async: %s\n", fpool_strerror());
            fpool_terminate(pool);
            return 1;
        }
        printf(" %d", r);
    }
    int differ = 0;
    for (int k = 0; k < N; k++)
        differ |= arrival[k] != k;
    printf("\narrival order %s submission order\n", differ ? "differs from" : "is the same as");
    fpool_close(pool);
    return fpool_join(pool) ? 1 : 0;
}
