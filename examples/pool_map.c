/* pool_map.c: Python's Pool().map(square, range(1, 9)). The inputs are copied to the
 * worker processes and the results copied back in input order, whichever worker ran
 * which item. */
#include <stdio.h>
#include "fpool.h"

/* Runs in a worker process: reads one int, writes one int. */
static int square(const void *in, void *out)
{
    int x = *(const int *)in;
    *(int *)out = x * x;
    return 0;
}

int main(void)
{
    enum { N = 8 };
    int in[N], out[N];
    for (int i = 0; i < N; i++)
        in[i] = i + 1;

    struct fpool *pool = fpool_create(0, NULL, NULL);   /* 0: one worker per usable CPU */
    if (!pool) {
        fprintf(stderr, "pool_map: %s\n", fpool_strerror());
        return 1;
    }
    int rc = fpool_map(pool, square, in, sizeof in[0], out, sizeof out[0], N, 0);
    fpool_close(pool);
    fpool_join(pool);
    if (rc) {
        fprintf(stderr, "pool_map: %s\n", fpool_strerror());
        return 1;
    }
    for (int i = 0; i < N; i++)
        printf("%d%c", out[i], i + 1 < N ? ' ' : '\n');
    return 0;
}
