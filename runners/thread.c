/* thread.c: a persistent pthread pool (ThreadPoolExecutor without a GIL). Read top to
 * bottom: pthread_create() starts each worker, which runs the worker loop, and
 * pthread_join() ends it. The scheduling is lib/pool.c's, the same as fork's; only how
 * workers start and share memory differs (threads share all of it). */
#include "runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "../lib/pool.h"

struct thread_arg {
    struct pool *p;
    unsigned w;
};

static void *thread_main(void *arg)
{
    struct thread_arg a = *(struct thread_arg *)arg;
    free(arg);
    pool_worker_main(a.p, a.w);      /* the worker loop, until the pool closes */
    return NULL;
}

static int thread_start(struct pool *p, unsigned w, struct pool_handle *h)
{
    struct thread_arg *a = malloc(sizeof *a);
    if (!a)
        return -ENOMEM;
    *a = (struct thread_arg){ p, w };
    *h = (struct pool_handle){ 0 };
    int e = pthread_create(&h->thread, NULL, thread_main, a);
    if (e) {
        free(a);
        return -e;
    }
    return 0;
}

/* A thread cannot die alone (a crash takes the process), so it has ended only when
 * joined. */
static int thread_reap(struct pool_handle *h, int block, int *status)
{
    if (!block)
        return 0;
    pthread_join(h->thread, NULL);
    *status = 0;
    return 1;
}

const struct pool_ops pool_threads = {
    .kind = POOL_THREAD,
    .what = "thread",
    .start = thread_start,
    .reap = thread_reap,
    .kill = NULL,   /* a thread cannot be stopped alone */
};

static int thread_run(struct job *job, const struct plan *plan, struct partial *slots,
                      struct outcome *out)
{
    return runner_pool_run(&pool_threads, job, plan, slots, out);
}

const struct runner runner_thread = {
    .name = "thread",
    .summary = "persistent pthread pool, same scheduler as fork (ThreadPoolExecutor, no GIL)",
    .schedules = SCHED_ALL | SCHED_BIT(SCHED_STUDENT),   /* -s student: lab 3 */
    .default_schedule = SCHED_DYNAMIC,
    .flags = RUNNER_PARALLEL,
    .run = thread_run,
};
