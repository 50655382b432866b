/* sleep.c: I/O-bound tasks that each wait --io-ms milliseconds. The blocking form
 * sleeps a worker; the async form asks the event loop for a timer, so thousands of
 * waits overlap on one thread. */
#include <time.h>
#include "workload.h"

static void sleep_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    struct timespec ts = { job->io_ms / 1000, (long)(job->io_ms % 1000) * 1000000L };
    (void)step, (void)task;
    while (nanosleep(&ts, &ts) != 0)
        ;
    *out = (struct partial){ .count = 1 };
}

static int sleep_start(const struct job *job, unsigned step, size_t task, struct task_io *io,
                       struct partial *out)
{
    (void)step, (void)task, (void)out;
    io->fd = -1;
    io->delay_ns = (uint64_t)job->io_ms * 1000000u;
    return TASK_WAIT;
}

static int sleep_resume(const struct job *job, unsigned step, size_t task, struct task_io *io,
                        struct partial *out)
{
    (void)job, (void)step, (void)task, (void)io;
    *out = (struct partial){ .count = 1 };
    return TASK_DONE;
}

const struct workload wl_sleep = {
    .name = "sleep",
    .summary = "each task waits --io-ms ms: timer in the loop, nanosleep elsewhere (I/O)",
    .kind = WL_IO,
    .default_size = 100,
    .split = WL_SPLIT_ITEMS,   /* one task per item: -n and -t both give the task count */
    .default_steps = 1,
    .min_size = 1,
    .max_size = 1000000,
    .sizes = { .test = 8 },   /* not in the core sweep: bench has its own I/O sweep */
    .check = "task-count",
    .check_how = "every task ran exactly once",
    .run_task = sleep_task,
    .start_task = sleep_start,
    .resume_task = sleep_resume,
    .flags = WL_COMBINE_ANY_ORDER,   /* integer fields only */
    .combine = wl_combine_add,
    .format = wl_format_count,
    .verify = wl_verify_task_count,
};
