/* starmap.c: Python's Pool().starmap(power, [(2, 3), (3, 2), (10, 2)]). C has no tuples:
 * each tuple is a struct fpool_args, a count and an array of union arguments, and the
 * function reads the members it expects. */
#include <stdio.h>
#include "fpool.h"

static int power(unsigned argc, const union fpool_arg *argv, void *out)
{
    if (argc != 2)
        return 22;   /* EINVAL: the wrong number of arguments, like Python's TypeError */
    long r = 1;
    for (long k = 0; k < argv[1].i; k++)
        r *= argv[0].i;
    *(long *)out = r;
    return 0;
}

int main(void)
{
    struct fpool_args args[] = {
        FPOOL_ARGS({ .i = 2 }, { .i = 3 }),
        FPOOL_ARGS({ .i = 3 }, { .i = 2 }),
        FPOOL_ARGS({ .i = 10 }, { .i = 2 }),
    };
    enum { N = sizeof args / sizeof args[0] };
    long out[N];

    struct fpool *pool = fpool_create(0, NULL, NULL);
    if (!pool) {
        fprintf(stderr, "starmap: %s\n", fpool_strerror());
        return 1;
    }
    int rc = fpool_starmap(pool, power, args, out, sizeof out[0], N, 0);
    fpool_close(pool);
    fpool_join(pool);
    if (rc) {
        fprintf(stderr, "starmap: %s\n", fpool_strerror());
        return 1;
    }
    for (int i = 0; i < N; i++)
        printf("%ld%c", out[i], i + 1 < N ? ' ' : '\n');
    return 0;
}
