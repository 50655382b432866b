/* tpool.h: a pool of worker threads with the same API as fpool.h (Python's
 * multiprocessing.pool.ThreadPool, or ThreadPoolExecutor), for comparing the two.
 *
 * What differs from fpool: workers share the caller's memory, so map reads `in` and
 * writes `out` where they are (no copy, no rounds) and a pointer in an input is valid
 * anywhere; a task that crashes takes the whole process with it (no -ECHILD); and
 * tpool_terminate cannot kill a running task, so it drops the queued calls and waits
 * for the running ones. Everything else (contracts, errors, who may call) is as
 * documented in fpool.h, with tpool_ for fpool_. The function and argument types are
 * fpool's.
 */
#ifndef PARLAB_TPOOL_H
#define PARLAB_TPOOL_H

#include "fpool.h"

struct tpool;
struct tpool_future;

typedef fpool_init_fn tpool_init_fn;
typedef fpool_fn tpool_fn;
typedef fpool_star_fn tpool_star_fn;
#define TPOOL_ARGS FPOOL_ARGS
#define TPOOL_ARG_MAX FPOOL_ARG_MAX
#define TPOOL_OUT_MAX FPOOL_OUT_MAX

/* The tpool_ functions are the fpool_ ones with threads for workers: each returns what
 * its fpool_ counterpart returns (fpool.h).
 * Start `workers` threads (0: the CPUs this process may use), each running init(arg, w)
 * once, and wait for them. Returns the pool, or NULL with errno on failure. */
struct tpool *tpool_create(unsigned workers, tpool_init_fn init, void *arg);
unsigned tpool_workers(const struct tpool *p);

/* Pool.map / Pool.starmap: results in input order; see fpool_map. */
int tpool_map(struct tpool *p, tpool_fn fn, const void *in, size_t in_size, void *out,
              size_t out_size, size_t n, size_t chunksize);
int tpool_starmap(struct tpool *p, tpool_star_fn fn, const struct fpool_args *in,
                  void *out, size_t out_size, size_t n, size_t chunksize);

/* Futures; see fpool_submit, fpool_future_get and fpool_as_completed. */
struct tpool_future *tpool_submit(struct tpool *p, tpool_fn fn, const void *in,
                                  size_t in_size, size_t out_size);
int tpool_future_get(struct tpool_future *f, void *out, int timeout_ms);
int tpool_future_done(const struct tpool_future *f);
uint64_t tpool_future_id(const struct tpool_future *f);
void tpool_future_discard(struct tpool_future *f);
long tpool_as_completed(struct tpool_future *const fs[], size_t n, int timeout_ms);

/* close, join (frees p), terminate (frees p); see fpool_close, fpool_join,
 * fpool_terminate. */
void tpool_close(struct tpool *p);
int tpool_join(struct tpool *p);
void tpool_terminate(struct tpool *p);

/* The last failure in the calling thread; see fpool_strerror. */
const char *tpool_strerror(void);

#endif
