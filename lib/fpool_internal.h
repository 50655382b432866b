/* fpool_internal.h: what the three files of the fpool_/tpool_ libraries share: fpool.c
 * (pools, map, ending), fpool_future.c (submitted calls, callbacks) and fpool_iter.c (imap,
 * map_async). Private to lib/. */
#ifndef PARLAB_FPOOL_INTERNAL_H
#define PARLAB_FPOOL_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fpool.h"
#include "pool.h"
#include "shm.h"

/* What a submitted call carries ahead of its input, inside the engine's POOL_ARG_MAX. */
struct fp_call {
    fpool_fn fn;            /* a function of the program (POOL_CODE in the worker) */
    struct fp_shared *sh;   /* shared: valid in every worker, however it started */
    uint64_t id;
    uint32_t in_size, out_size;
};
_Static_assert(sizeof(struct fp_call) + FPOOL_ARG_MAX <= POOL_ARG_MAX, "FPOOL_ARG_MAX");
_Static_assert(FPOOL_OUT_MAX <= POOL_ARG_MAX, "FPOOL_OUT_MAX");

/* Per worker, one cache line: the call it is running, or -1, so that a crash can be
 * reported by task number. Written by the worker, read by the parent after it died. */
struct fp_slot {
    alignas(64) _Atomic int64_t call;
};

/*
 * State the workers read, in one MAP_SHARED mapping made before they start, so that
 * forked workers see the parent's later writes to it. The parent writes the map fields
 * before pool_map publishes the round (the engine's release/acquire orders them), and
 * `pool` before any work is queued.
 */
struct fp_shared {
    struct pool *pool;               /* the parent's: workers compare it, never follow it */
    fpool_init_fn init;              /* the initializer and its argument */
    void *init_arg;
    int flush;                       /* workers are processes: flush stdout per task */
    _Atomic uint64_t next_id;        /* call numbers, drawn by whoever submits */
    _Atomic uint32_t cancel;         /* terminate: calls not yet started are dropped */
    fpool_fn fn;                     /* the current map round: fn or star */
    fpool_star_fn star;
    const unsigned char *in;
    unsigned char *out;
    int *err;
    size_t in_size, out_size;
    struct fp_slot w[];
};

/*
 * The pool as the creating process sees it. A forked worker has a copy made while
 * fpool_create ran: it reaches the engine through sh (shared), never through fields
 * written after the fork.
 */
struct fpool {
    enum pool_kind kind;
    unsigned workers;
    pid_t creator;
    _Atomic int closed;
    int crashed;                     /* this process saw a worker die: */
    struct pool_error crash;         /* the first death, by this library's task numbers */
    fpool_init_fn init;
    void *init_arg;
    struct fp_shared *sh;
    size_t sh_len;
    /* The lock guards the list of futures that still hold an engine future, and the
     * discard count. Thread-pool workers submit too, so every list change takes it; it
     * is never held while waiting for a result. */
    pthread_mutex_t lock;
    struct fpool_future *live;
    unsigned discarded;
};

struct fpool_future {
    struct fpool *owner;             /* NULL once detached from its pool */
    struct pool_future *pf;          /* NULL once the result is stored below */
    struct fpool_future *prev, *next;
    uint64_t id;
    enum pool_kind kind;
    int by_worker;                   /* submitted by a task: that task collects it */
    int discarded;
    int rc;                          /* the stored result, when pf is NULL */
    /* apply_async: callbacks, run once when the result is stored (fire), by whichever
     * parent thread stores it; pool_owned: no caller holds f, so it is freed after them. */
    fpool_callback_fn cb;
    fpool_error_callback_fn ecb;
    void *cb_arg;
    int pool_owned, fired;
    struct pool_error err;
    size_t out_size;
    alignas(max_align_t) unsigned char out[FPOOL_OUT_MAX];
};

/* Why the last failed call of this thread failed (fpool_strerror). */
extern __thread char fpool__why[256];
/* Returns rc, after recording why the call fails in this thread: `return fpool__fail(...)`. */
int fpool__fail(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns nothing: puts *e in this library's task numbers (map_base: the first input of
 * the round, or -1 outside a map) and describes it in fpool__why. */
void fpool__describe_crash(struct fpool *fp, struct pool_error *e, long map_base);
/* Returns nothing: takes f off fp's list of live futures. Caller holds fp->lock. */
void fpool__list_del(struct fpool *fp, struct fpool_future *f);
/* Returns nothing: stores a finished call's result rc (and e) in f and fires its callbacks. */
void fpool__store(struct fpool_future *f, int rc, const struct pool_error *e);

/* Returns the engine's pool under fp. */
static inline struct pool *engine(const struct fpool *fp)
{
    return fp->sh->pool;
}

#endif
