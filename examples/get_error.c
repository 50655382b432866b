/* get_error.c: a task that fails, caught where its result is asked for. Python's
 *
 *     r = pool.apply_async(parse, ("x7",))
 *     try:
 *         r.get()
 *     except ValueError as e:
 *         print("caught at get():", e)
 *
 * A worker does not print or end on a task's error: the exception travels back with the
 * result and is raised by get(). In C the task returns an error code instead of raising;
 * fpool_future_get returns it, and fpool_strerror() names the task. The other tasks'
 * results are unharmed, and the pool goes on taking work (a task's error is not a crash:
 * compare a worker killed, which breaks the pool). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "fpool.h"

/* Runs in a worker: a decimal number, or EINVAL for anything else (ValueError). */
static int parse(const void *in, void *out)
{
    const char *s = in;
    long v = 0;
    if (!*s)
        return EINVAL;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return EINVAL;
        v = v * 10 + (*s - '0');
    }
    *(long *)out = v;
    return 0;
}

int main(int argc, char **argv)
{
    fpool_worker_entry(argc, argv);
    static const char *const inputs[] = { "12", "x7", "305" };
    struct fpool_future *f[3];
    struct fpool *pool = fpool_create(2, NULL, NULL);
    if (!pool) {
        fprintf(stderr, "get_error: %s\n", fpool_strerror());
        return 1;
    }
    for (int i = 0; i < 3; i++)
        if (!(f[i] = fpool_submit(pool, parse, inputs[i], strlen(inputs[i]) + 1, sizeof(long)))) {
            fprintf(stderr, "get_error: %s\n", fpool_strerror());
            fpool_terminate(pool);
            return 1;
        }
    for (int i = 0; i < 3; i++) {
        long v = 0;
        int rc = fpool_future_get(f[i], &v, -1);
        if (rc == 0)
            printf("parse(\"%s\") = %ld\n", inputs[i], v);
        else if (rc > 0)   /* the task's own error: the exception */
            printf("parse(\"%s\") failed, caught at get(): %s\n", inputs[i], fpool_strerror());
        else {             /* the pool's trouble, not the task's */
            fprintf(stderr, "get_error: %s\n", fpool_strerror());
            fpool_terminate(pool);
            return 1;
        }
    }
    /* The pool is not broken by a task's error. */
    long v = 0;
    struct fpool_future *g = fpool_submit(pool, parse, "42", 3, sizeof v);
    int rc = g ? fpool_future_get(g, &v, -1) : -1;
    printf("the pool still works: parse(\"42\") = %ld\n", rc == 0 ? v : -1);
    fpool_close(pool);
    return fpool_join(pool) == 0 && rc == 0 ? 0 : 1;
}
