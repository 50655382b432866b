/* pool_runner.h: the one run() that the fork and thread runners share. */
#ifndef PARLAB_POOL_RUNNER_H
#define PARLAB_POOL_RUNNER_H
#include "../lib/pool.h"
int pool_runner_run(enum pool_kind kind, struct job *job, const struct plan *plan,
                    struct partial *slots, struct outcome *out);
#endif
