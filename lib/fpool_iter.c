/* fpool_iter.c: results as they come, over submitted calls (fpool_future.c): imap and
 * imap_unordered send chunks of items as calls, and map_async runs a map in a thread of
 * the parent. */
#define _GNU_SOURCE
#include "fpool_internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- imap, imap_unordered: chunks of items as submitted calls --------------------------- */

/* A chunk travels in one call: this header, then its items; the result is the items'
 * outputs, then a status byte per item. */
struct chunk_hdr {
    fpool_fn fn;
    uint32_t count, in_size, out_size, pad;
};
#define CHUNK_IN_MAX (FPOOL_ARG_MAX - sizeof(struct chunk_hdr))

/* Runs in a worker: each item of the chunk in turn, as map would. */
static int chunk_task(const void *in, void *out)
{
    struct chunk_hdr h;
    memcpy(&h, in, sizeof h);
    const unsigned char *items = (const unsigned char *)in + sizeof h;
    unsigned char *res = out, *st = res + (size_t)h.count * h.out_size;
    alignas(max_align_t) unsigned char a[CHUNK_IN_MAX], b[FPOOL_OUT_MAX];
    for (uint32_t i = 0; i < h.count; i++) {
        memcpy(a, items + (size_t)i * h.in_size, h.in_size);
        memset(b, 0, h.out_size);
        int rc = POOL_CODE(fpool_fn, h.fn)(a, b);
        memcpy(res + (size_t)i * h.out_size, b, h.out_size);
        rc = rc < 0 ? -rc : rc;
        st[i] = (unsigned char)(rc > 255 ? 255 : rc);
    }
    return 0;
}

#define IMAP_WINDOW 64   /* chunks in flight at once */

struct fpool_iter {
    struct fpool *p;
    fpool_fn fn;
    const unsigned char *in;
    size_t in_size, out_size, n, chunk, chunks;
    int ordered;
    size_t next_submit;                  /* the next chunk to submit */
    size_t head;                         /* ordered: the next chunk to yield */
    size_t consumed;                     /* chunks got back */
    struct fpool_future *fs[IMAP_WINDOW];/* in flight */
    size_t chunk_of[IMAP_WINDOW];        /* and which chunk each one is */
    /* The chunk being yielded: its results, and which item comes next. */
    size_t cur, cur_pos, cur_count;
    int cur_rc;
    alignas(max_align_t) unsigned char cur_out[FPOOL_OUT_MAX];
    int broken;                          /* a chunk failed whole (-ECHILD): stop */
};

static struct fpool_iter *imap_any(struct fpool *p, fpool_fn fn, const void *in,
                                   size_t in_size, size_t out_size, size_t n,
                                   size_t chunksize, int ordered)
{
    if (!fn || in_size == 0 || (n && !in) || in_size > CHUNK_IN_MAX ||
        out_size + 1 > FPOOL_OUT_MAX) {
        fpool__fail(-E2BIG, "imap: an item of %zu + %zu bytes (at most %zu in, %d out), or no input",
             in_size, out_size, CHUNK_IN_MAX, FPOOL_OUT_MAX - 1);
        errno = in_size == 0 || !fn ? EINVAL : E2BIG;
        return NULL;
    }
    /* A chunk is one call: as many items as fit in its input and result. */
    size_t fit = CHUNK_IN_MAX / in_size, fit_out = FPOOL_OUT_MAX / (out_size + 1);
    if (fit_out < fit)
        fit = fit_out;
    if (chunksize == 0)
        chunksize = 1;
    if (chunksize > fit)
        chunksize = fit;
    struct fpool_iter *it = calloc(1, sizeof *it);
    if (!it) {
        fpool__fail(-ENOMEM, "imap: out of memory");
        return NULL;
    }
    *it = (struct fpool_iter){ .p = p, .fn = fn, .in = in, .in_size = in_size,
                               .out_size = out_size, .n = n, .chunk = chunksize,
                               .chunks = (n + chunksize - 1) / chunksize, .ordered = ordered,
                               .cur = SIZE_MAX };
    return it;
}

struct fpool_iter *fpool_imap(struct fpool *p, fpool_fn fn, const void *in, size_t in_size,
                              size_t out_size, size_t n, size_t chunksize)
{
    return imap_any(p, fn, in, in_size, out_size, n, chunksize, 1);
}

struct fpool_iter *fpool_imap_unordered(struct fpool *p, fpool_fn fn, const void *in,
                                        size_t in_size, size_t out_size, size_t n,
                                        size_t chunksize)
{
    return imap_any(p, fn, in, in_size, out_size, n, chunksize, 0);
}

/* Submit chunks until the window is full or none are left. 0 or -errno. In order, chunk
 * c lives in slot c % IMAP_WINDOW and at most IMAP_WINDOW chunks past the head are out;
 * out of order, any free slot. */
static int imap_fill(struct fpool_iter *it)
{
    unsigned char buf[FPOOL_ARG_MAX];
    while (it->next_submit < it->chunks) {
        size_t c = it->next_submit, lo = c * it->chunk, slot;
        if (it->ordered) {
            if (c >= it->head + IMAP_WINDOW)
                break;
            slot = c % IMAP_WINDOW;
        } else {
            for (slot = 0; slot < IMAP_WINDOW && it->fs[slot]; slot++)
                ;
            if (slot == IMAP_WINDOW)
                break;
        }
        size_t k = it->n - lo < it->chunk ? it->n - lo : it->chunk;
        struct chunk_hdr h = { it->fn, (uint32_t)k, (uint32_t)it->in_size,
                               (uint32_t)it->out_size, 0 };
        memcpy(buf, &h, sizeof h);
        memcpy(buf + sizeof h, it->in + lo * it->in_size, k * it->in_size);
        struct fpool_future *f = fpool_submit(it->p, chunk_task, buf,
                                              sizeof h + k * it->in_size,
                                              k * (it->out_size + 1));
        if (!f)
            return -errno;
        it->fs[slot] = f;
        it->chunk_of[slot] = c;
        it->next_submit++;
    }
    return 0;
}

int fpool_iter_next(struct fpool_iter *it, void *out, size_t *index, int timeout_ms)
{
    int rc;
    if (it->broken)
        return fpool__fail(-EPIPE, "imap: the pool broke earlier in this iteration");
    while (it->cur == SIZE_MAX || it->cur_pos == it->cur_count) {
        if (it->consumed == it->chunks)
            return fpool__fail(-ENOENT, "imap: no items left");
        if ((rc = imap_fill(it))) {
            it->broken = rc == -EPIPE;
            return fpool__fail(rc, "imap: submit: %s", strerror(-rc));
        }
        size_t slot;
        if (it->ordered) {   /* the head, however long the others take */
            slot = it->head % IMAP_WINDOW;
        } else {             /* whichever chunk finishes first */
            long i = fpool_as_completed(it->fs, IMAP_WINDOW, timeout_ms);
            if (i < 0)
                return (int)i;
            slot = (size_t)i;
        }
        size_t c = it->chunk_of[slot], lo = c * it->chunk;
        size_t k = it->n - lo < it->chunk ? it->n - lo : it->chunk;
        rc = fpool_future_get(it->fs[slot], it->cur_out, it->ordered ? timeout_ms : 0);
        if (rc == -ETIMEDOUT || rc == -EDEADLK)
            return rc;   /* the chunk stays in flight: call again */
        it->fs[slot] = NULL;
        it->consumed++;
        if (it->ordered)
            it->head++;
        if (rc) {   /* the whole chunk failed: a worker died, or the pool was stopped */
            char why[256];
            snprintf(why, sizeof why, "%s", fpool__why);
            it->broken = 1;
            if (index)
                *index = lo;
            return fpool__fail(rc, "items %zu … %zu: %s", lo, lo + k - 1, why);
        }
        it->cur = c;
        it->cur_pos = 0;
        it->cur_count = k;
    }
    size_t i = it->cur_pos++;
    if (out && it->out_size)
        memcpy(out, it->cur_out + i * it->out_size, it->out_size);
    if (index)
        *index = it->cur * it->chunk + i;
    rc = it->cur_out[it->cur_count * it->out_size + i];
    if (rc)
        return fpool__fail(rc, "item %zu returned error %d (%s)", it->cur * it->chunk + i, rc,
                    strerror(rc));
    return 0;
}

void fpool_iter_free(struct fpool_iter *it)
{
    if (!it)
        return;
    for (size_t i = 0; i < IMAP_WINDOW; i++)
        if (it->fs[i])
            fpool_future_discard(it->fs[i]);
    free(it);
}

/* ---- map_async: map in a thread of the parent ----------------------------------------- */

struct fpool_async {
    struct fpool *p;
    fpool_fn fn;
    const void *in;
    void *out;
    size_t in_size, out_size, n, chunksize;
    fpool_callback_fn cb;
    fpool_error_callback_fn ecb;
    void *arg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done, rc;
    char why[256];
};

static void *map_async_main(void *arg)
{
    struct fpool_async *a = arg;
    int rc = fpool_map(a->p, a->fn, a->in, a->in_size, a->out, a->out_size, a->n, a->chunksize);
    pthread_mutex_lock(&a->lock);
    a->rc = rc;
    snprintf(a->why, sizeof a->why, "%s", rc ? fpool__why : "");
    a->done = 1;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

struct fpool_async *fpool_map_async(struct fpool *p, fpool_fn fn, const void *in,
                                    size_t in_size, void *out, size_t out_size, size_t n,
                                    size_t chunksize, fpool_callback_fn callback,
                                    fpool_error_callback_fn error_callback, void *arg)
{
    struct fpool_async *a = calloc(1, sizeof *a);
    int e;
    if (!a) {
        fpool__fail(-ENOMEM, "map_async: out of memory");
        return NULL;
    }
    *a = (struct fpool_async){ .p = p, .fn = fn, .in = in, .out = out, .in_size = in_size,
                               .out_size = out_size, .n = n, .chunksize = chunksize,
                               .cb = callback, .ecb = error_callback, .arg = arg };
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    if ((e = pthread_create(&a->thread, NULL, map_async_main, a))) {
        pthread_mutex_destroy(&a->lock);
        pthread_cond_destroy(&a->cond);
        free(a);
        fpool__fail(-e, "map_async: cannot start its thread: %s", strerror(e));
        errno = e;
        return NULL;
    }
    return a;
}

int fpool_map_async_get(struct fpool_async *a, int timeout_ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    if (timeout_ms > 0) {
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&a->lock);
    while (!a->done) {
        if (timeout_ms < 0)
            pthread_cond_wait(&a->cond, &a->lock);
        else if (pthread_cond_timedwait(&a->cond, &a->lock, &until) == ETIMEDOUT)
            break;
    }
    int done = a->done;
    pthread_mutex_unlock(&a->lock);
    if (!done)
        return fpool__fail(-ETIMEDOUT, "map_async: not done within %d ms", timeout_ms);
    pthread_join(a->thread, NULL);
    int rc = a->rc;
    snprintf(fpool__why, sizeof fpool__why, "%s", a->why);
    if (rc == 0 && a->cb)
        a->cb(a->out, a->arg);
    else if (rc && a->ecb)
        a->ecb(rc, a->why, a->arg);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    free(a);
    return rc;
}
