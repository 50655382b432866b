/* bench_util.h: what the measuring commands (overhead, share, pitfall) share: option
 * checks and a way to run a job. Their table printer is experiments/table.c. */
#ifndef PARLAB_BENCH_UTIL_H
#define PARLAB_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include "harness.h"
#include "results.h"
#include "parse.h"
#include "../lib/pool.h"

#define BENCH_MAX_REPEAT 1000u

/* -r/--runner for the pool commands: fork|thread. Returns 0, or -1 with oc filled (64:
 * parse.h's convention). */
int bench_opt_pool(const char *opt, const char *val, enum pool_kind *out, struct outcome *oc);

/*
 * A job ready to run, as `parlab run` builds one: the workload set up, result slots in
 * shared memory, and a plan for W workers. These are the job lifecycle of job.h
 * (job_open, job_exec, job_answer, job_close) under the names the measuring commands
 * have always used: struct bench_job is struct job_ctx, struct bench_sample is
 * struct job_sample.
 */
#define bench_job job_ctx
#define bench_sample job_sample

/* Set up wl at size with tasks tasks (0: the workload's default) for W workers.
 * 0, or -errno with nothing left to close. Parent only. */
int bench_job_open(struct bench_job *bj, const struct workload *wl, uint64_t size,
                   size_t tasks, unsigned workers, enum sched_kind sched, size_t chunk);
/* Free what bench_job_open took. Safe to call twice. */
void bench_job_close(struct bench_job *bj);

/* Run the job once under r. 0, or -1 with oc filled. Parent only. */
int bench_job_run(struct bench_job *bj, const struct runner *r, struct bench_sample *smp,
                  struct outcome *oc);
/* Combine the slots in task order and check them, writing the result token into buf.
 * Where verify() has no check, want (another run's token, or NULL: nothing to compare)
 * decides. Returns 0 when the answer is right, or -1 with wrong filled ("wrong result
 * TOKEN: why"). */
int bench_job_check(struct bench_job *bj, const char *want, char *buf, size_t n,
                    struct outcome *wrong);

/*
 * On one pool of `kind` with the job's W workers: when warm > 0, every worker first maps
 * all result slots into its page tables (a forked worker otherwise faults on pages new to
 * it whenever the tasks it claims change), then `warm` untimed maps of the job's tasks
 * under its schedule and chunk, then `repeat` timed maps, their wall times in ns[]. The
 * pool is made after bj, so forked workers see bj. 0, or -1 with oc filled. Parent only.
 */
int bench_pool_maps(enum pool_kind kind, struct bench_job *bj, int warm, int repeat,
                    double *ns, struct outcome *oc);
/* The two halves of bench_pool_maps, to interleave pools with other measurements: start a
 * warm pool (NULL with oc filled), and time one map (0, or -1 with oc filled; the pool is
 * then broken: pool_destroy it). Parent only. */
struct pool *bench_pool_start(enum pool_kind kind, struct bench_job *bj, int warm,
                              struct outcome *oc);
int bench_pool_time(struct pool *p, struct bench_job *bj, double *ns, struct outcome *oc);

/* Resident and proportional set size of this process (smaps_rollup), in KiB. 0, or -errno. */
int bench_mem_kib(long *rss_kib, long *pss_kib);

/* Sleep ms milliseconds, interruptions resumed (lets spinning OpenMP threads go idle
 * between measurements). Returns nothing: it cannot fail. */
void bench_pause_ms(unsigned ms);

#endif
