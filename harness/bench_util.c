/* bench_util.c: option checks and job helpers that overhead, share and pitfall share, so
 * each measures the same way. */
#define _GNU_SOURCE
#include "bench_util.h"
#include "suggest.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "parse.h"

int bench_opt_pool(const char *opt, const char *val, enum pool_kind *out, struct outcome *oc)
{
    static const char *const kinds[] = { "fork", "thread", NULL };
    char hint[96];
    if (strcmp(val, "fork") == 0)
        *out = POOL_FORK;
    else if (strcmp(val, "thread") == 0)
        *out = POOL_THREAD;
    else
        return fail_msg(oc, PARLAB_EXIT_USAGE, "%s %s: unknown runner%s (fork, thread)", opt,
                        val, suggest_from(val, kinds, hint, sizeof hint));
    return 0;
}

int bench_job_open(struct bench_job *bj, const struct workload *wl, uint64_t size,
                   size_t tasks, unsigned workers, enum sched_kind sched, size_t chunk)
{
    struct outcome oc;
    if (!tasks)
        tasks = wl->split == WL_SPLIT_ITEMS ? (size_t)size : wl->default_tasks;
    struct job job = { .wl = wl, .size = size, .tasks = tasks, .steps = 1, .seed = 1,
                       .io_ms = 1 };
    struct plan plan = { .workers = workers, .cores = cpus_allowed(), .schedule = sched,
                         .chunk = chunk, .loops = 1 };
    return job_open(bj, &job, &plan, 0, 0, &oc);
}

void bench_job_close(struct bench_job *bj)
{
    job_close(bj);
}

int bench_job_run(struct bench_job *bj, const struct runner *r, struct bench_sample *smp,
                  struct outcome *oc)
{
    return job_exec(bj, r, smp, oc);
}

int bench_job_check(struct bench_job *bj, const char *want, char *buf, size_t n,
                    struct outcome *wrong)
{
    struct job_result res;
    struct outcome oc;
    if (job_answer(bj, &res, &oc)) {
        snprintf(buf, n, "error");
        return outcome_fail(wrong, PARLAB_EXIT_WRONG, "wrong result error: %s", oc.msg);
    }
    snprintf(buf, n, "%s", res.result);
    if (res.verified == VERIFIED_WRONG ||
        (res.verified == VERIFIED_SEQ && want && strcmp(res.result, want) != 0))
        return outcome_fail(wrong, PARLAB_EXIT_WRONG, "wrong result %s%s%s", res.result,
                            res.why[0] ? ": " : "", res.why);
    return 0;
}

/* A map task: the same per-task work as the fork and thread runners do. */
static void bench_pool_task(void *ctx, uint64_t step, size_t task, unsigned worker)
{
    struct bench_job *bj = ctx;
    runner_exec_task(&bj->job, &bj->plan, (unsigned)step, task, worker, results_slots(&bj->rs));
}

/*
 * A map task that maps every result slot into the calling worker's page tables, writable,
 * without changing a byte. A forked worker faults on each page of shared memory the first
 * time it touches it, and with chunks the pages it touches change from map to map: without
 * this, a "warm" map still pays page faults that a thread pool paid once.
 */
static void bench_populate_task(void *ctx, uint64_t unused, size_t task, unsigned worker)
{
    struct bench_job *bj = ctx;
    (void)unused, (void)task, (void)worker;
    /* Best effort: where the kernel lacks it the warm maps fault the pages in instead. */
    if (bj->rs.slots)
        (void)madvise(bj->rs.slots, bj->rs.len, MADV_POPULATE_WRITE);
}

struct pool *bench_pool_start(enum pool_kind kind, struct bench_job *bj, int warm,
                              struct outcome *oc)
{
    struct pool_error e;
    char why[200];
    struct pool *p;
    int err = pool_open(&p, pool_ops_of(kind), bj->plan.workers, NULL);
    if (err) {
        outcome_fail(oc, PARLAB_EXIT_OS, "cannot start %u %s workers: %s", bj->plan.workers,
                     pool_ops_of(kind)->what, strerror(-err));
        return NULL;
    }
    /* Static with one task per worker: each worker populates the slots once (Linux 5.14+). */
    if (warm && pool_map(p, bj->plan.workers, SCHED_STATIC, 0, bench_populate_task, bj, 0, &e))
        goto fail;
    for (int i = 0; i < warm; i++) {
        results_reset(&bj->rs);
        if (pool_map(p, bj->job.tasks, bj->plan.schedule, bj->plan.chunk, bench_pool_task, bj,
                     0, &e))
            goto fail;
    }
    return p;
fail:
    pool_error_str(&e, kind, why, sizeof why);
    pool_destroy(p);
    outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "%s", why);
    return NULL;
}

int bench_pool_time(struct pool *p, struct bench_job *bj, double *ns, struct outcome *oc)
{
    struct pool_error e;
    char why[200];
    results_reset(&bj->rs);
    uint64_t t0 = clock_now_ns();
    if (pool_map(p, bj->job.tasks, bj->plan.schedule, bj->plan.chunk, bench_pool_task, bj, 0,
                 &e)) {
        pool_error_str(&e, pool_kind_of(p), why, sizeof why);
        return outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "%s", why);
    }
    *ns = (double)(clock_now_ns() - t0);
    return 0;
}

int bench_pool_maps(enum pool_kind kind, struct bench_job *bj, int warm, int repeat,
                    double *ns, struct outcome *oc)
{
    struct pool *p = bench_pool_start(kind, bj, warm, oc);
    if (!p)
        return -1;
    for (int i = 0; i < repeat; i++)
        if (bench_pool_time(p, bj, &ns[i], oc)) {
            pool_destroy(p);
            return -1;
        }
    pool_destroy(p);
    return 0;
}

int bench_mem_kib(long *rss_kib, long *pss_kib)
{
    char line[256];
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        return -errno;
    *rss_kib = *pss_kib = -1;
    while (fgets(line, sizeof line, f)) {
        long v;
        if (sscanf(line, "Rss: %ld kB", &v) == 1)
            *rss_kib = v;
        else if (sscanf(line, "Pss: %ld kB", &v) == 1)
            *pss_kib = v;
    }
    fclose(f);
    return *rss_kib >= 0 && *pss_kib >= 0 ? 0 : -ENODATA;
}

void bench_pause_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}
