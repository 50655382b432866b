/* tpool.c: the thread pool library: fpool.c's implementation with threads for workers.
 *
 * struct tpool and struct tpool_future are never defined: a tpool pointer is an fpool
 * made by fpool__create(1, ...), given its own type so that the compiler keeps thread
 * pools and process pools apart in programs that use both. Only this file converts. */
#include "tpool.h"

#include <errno.h>
#include <stdlib.h>

static struct fpool *F(struct tpool *p)
{
    return (struct fpool *)(void *)p;
}

static const struct fpool *CF(const struct tpool *p)
{
    return (const struct fpool *)(const void *)p;
}

static struct fpool_future *FF(struct tpool_future *f)
{
    return (struct fpool_future *)(void *)f;
}

struct tpool *tpool_create(unsigned workers, tpool_init_fn init, void *arg)
{
    return (struct tpool *)(void *)fpool__create(1, workers, init, arg);
}

unsigned tpool_workers(const struct tpool *p)
{
    return fpool_workers(CF(p));
}

int tpool_map(struct tpool *p, tpool_fn fn, const void *in, size_t in_size, void *out,
              size_t out_size, size_t n, size_t chunksize)
{
    return fpool_map(F(p), fn, in, in_size, out, out_size, n, chunksize);
}

int tpool_starmap(struct tpool *p, tpool_star_fn fn, const struct fpool_args *in,
                  void *out, size_t out_size, size_t n, size_t chunksize)
{
    return fpool_starmap(F(p), fn, in, out, out_size, n, chunksize);
}

struct tpool_future *tpool_submit(struct tpool *p, tpool_fn fn, const void *in,
                                  size_t in_size, size_t out_size)
{
    return (struct tpool_future *)(void *)fpool_submit(F(p), fn, in, in_size, out_size);
}

int tpool_future_get(struct tpool_future *f, void *out, int timeout_ms)
{
    return fpool_future_get(FF(f), out, timeout_ms);
}

int tpool_future_done(const struct tpool_future *f)
{
    return fpool_future_done((const struct fpool_future *)(const void *)f);
}

uint64_t tpool_future_id(const struct tpool_future *f)
{
    return fpool_future_id((const struct fpool_future *)(const void *)f);
}

void tpool_future_discard(struct tpool_future *f)
{
    fpool_future_discard(FF(f));
}

long tpool_as_completed(struct tpool_future *const fs[], size_t n, int timeout_ms)
{
    /* Converted one by one: reading the caller's array as fpool pointers would break
     * the aliasing rules. */
    struct fpool_future *small[64] = { 0 }, **ff = n <= 64 ? small : malloc(n * sizeof *ff);
    long rc;
    if (!ff)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++)
        ff[i] = FF(fs[i]);
    rc = fpool_as_completed(ff, n, timeout_ms);
    if (ff != small)
        free(ff);
    return rc;
}

void tpool_close(struct tpool *p)
{
    fpool_close(F(p));
}

int tpool_join(struct tpool *p)
{
    return fpool_join(F(p));
}

void tpool_terminate(struct tpool *p)
{
    fpool_terminate(F(p));
}

const char *tpool_strerror(void)
{
    return fpool_strerror();
}
