/* initializer.c: Python's Pool(4, initializer=load_config, initargs=(text,)). Each worker
 * loads the config once, before its first task, into its own global; every task it runs
 * then uses it. A counter in shared memory shows the initializer ran once per worker,
 * not once per task. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "fpool.h"

struct config_src {
    char text[32];             /* what a real program would read from a file */
    _Atomic int loads;         /* how many times load_config ran, across processes */
};

static int scale;              /* per worker process: set by load_config */

/* Runs once in each worker, before it takes work. */
static void load_config(void *arg, unsigned worker)
{
    struct config_src *src = arg;
    (void)worker;
    if (sscanf(src->text, "scale=%d", &scale) != 1)
        scale = 1;
    atomic_fetch_add(&src->loads, 1);
}

static int scaled(const void *in, void *out)
{
    *(int *)out = *(const int *)in * scale;
    return 0;
}

int main(void)
{
    enum { WORKERS = 4, N = 8 };
    int in[N], out[N];

    /* Shared, so that the workers' increments reach the parent. */
    struct config_src *src = mmap(NULL, sizeof *src, PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (src == MAP_FAILED) {
        perror("initializer: mmap");
        return 1;
    }
    strcpy(src->text, "scale=3");
    for (int i = 0; i < N; i++)
        in[i] = i + 1;

    struct fpool *pool = fpool_create(WORKERS, load_config, src);
    if (!pool) {
        fprintf(stderr, "initializer: %s\n", fpool_strerror());
        return 1;
    }
    int rc = fpool_map(pool, scaled, in, sizeof in[0], out, sizeof out[0], N, 1);
    fpool_close(pool);
    fpool_join(pool);
    if (rc) {
        fprintf(stderr, "initializer: %s\n", fpool_strerror());
        return 1;
    }
    printf("config loaded %d times by %d workers\n", atomic_load(&src->loads), WORKERS);
    for (int i = 0; i < N; i++)
        printf("%d%c", out[i], i + 1 < N ? ' ' : '\n');
    printf("scale in the parent: %d\n", scale);   /* 0: the parent never loaded it */
    munmap(src, sizeof *src);
    return 0;
}
