/* noop.c: tasks that do nothing, so a run measures only what dispatching them costs. */
#include "workload.h"

static void noop_task(const struct job *job, unsigned step, size_t task, struct partial *out)
{
    (void)job, (void)step, (void)task;
    *out = (struct partial){ .count = 1 };
}

const struct workload wl_noop = {
    .name = "noop",
    .summary = "tasks that do nothing: pure dispatch cost (N = the task count)",
    .kind = WL_NONE,
    .default_size = 1000000,
    .split = WL_SPLIT_ITEMS,   /* one task per item: -n and -t both give the task count */
    .default_steps = 1,
    .min_size = 1,
    .max_size = 1ull << 32,
    .sizes = { .test = 1000 },   /* not in the core sweep: it measures dispatch, not CPUs */
    .check = "task-count",
    .check_how = "every task ran exactly once",
    /* the dispatch cost (make compare): up to parlab's 2^22 tasks a run */
    .ladder = "100 200 500 1000 2000 5000 10000 20000 50000 100000 200000 500000 1000000 "
              "2000000 4000000",
    .run_task = noop_task,
    .flags = WL_COMBINE_ANY_ORDER,   /* integer fields only */
    .combine = wl_combine_add,
    .format = wl_format_count,
    .verify = wl_verify_task_count,
};
