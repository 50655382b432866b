/* future.h: calls submitted to a pool, each with a future for its result: the engine of
 * Pool.apply_async and ProcessPoolExecutor.submit. Included by pool.h; the error
 * convention is pool.h's (0 or -errno). */
#ifndef PARLAB_FUTURE_H
#define PARLAB_FUTURE_H

#include <stddef.h>

struct pool;
struct pool_error;
struct pool_future;

/* A submitted call: reads `in`, writes `out`, returns 0 or a positive error code (the C
 * counterpart of a raised exception). */
typedef int (*pool_call_fn)(const void *in, void *out);

#define POOL_ARG_MAX 240      /* bytes of a submitted call's input or output */
#define POOL_FUTURES 1024     /* calls in flight at once */

/*
 * Queue fn(in, out) to run on some worker. Returns 0 with *out set, or -EAGAIN (POOL_FUTURES are
 * in flight), -EINVAL (in_len or out_len exceed POOL_ARG_MAX), -EPIPE (the pool is
 * broken). A worker may submit to its own pool.
 */
int pool_call(struct pool_future **out, struct pool *p, pool_call_fn fn, const void *in,
              size_t in_len, size_t out_len);
/* The older form of pool_call, kept for its callers: returns the future, or NULL with
 * errno. */
struct pool_future *pool_submit(struct pool *p, pool_call_fn fn, const void *in,
                                size_t in_len, size_t out_len);
/*
 * Wait up to timeout_ms (<0: forever) for the future. Returns 0 with out filled, a
 * positive error the call returned, -ETIMEDOUT or -EDEADLK (when every worker would be
 * waiting on futures of its own pool; the call is still queued), or -ECHILD when its
 * worker died (e describes it). After -ETIMEDOUT and -EDEADLK the future stays valid;
 * after anything else it is released.
 */
int pool_future_get(struct pool_future *f, void *out, int timeout_ms, struct pool_error *e);
/* Returns 1 once the future has a result (get will not block), else 0. In the parent of a process
 * pool it also reaps dead workers, failing their futures. */
int pool_future_done(struct pool_future *f);

#endif
