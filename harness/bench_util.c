/* bench_util.c: option checks and job helpers that overhead, share and pitfall share, so
 * each measures the same way. */
#define _GNU_SOURCE
#include "bench_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "parse.h"

int bench_opt_pool(const char *opt, const char *val, enum pool_kind *out)
{
    if (strcmp(val, "fork") == 0)
        *out = POOL_FORK;
    else if (strcmp(val, "thread") == 0)
        *out = POOL_THREAD;
    else
        return die(PARLAB_EXIT_USAGE, "%s %s: unknown runner (fork, thread)", opt, val);
    return 0;
}

int bench_job_open(struct bench_job *bj, const struct workload *wl, uint64_t size,
                   size_t tasks, unsigned workers, enum sched_kind sched, size_t chunk)
{
    memset(bj, 0, sizeof *bj);
    if (!tasks)
        tasks = wl->default_tasks ? wl->default_tasks : (size_t)size;
    bj->job = (struct job){ .wl = wl, .size = size, .tasks = tasks, .steps = 1, .seed = 1,
                            .io_ms = 1 };
    bj->plan = (struct plan){ .workers = workers, .cores = cpus_allowed(), .schedule = sched,
                              .chunk = chunk, .loops = 1 };
    if (wl->setup && wl->setup(&bj->job))
        return errno ? -errno : -EINVAL;
    bj->set_up = 1;
    bj->slots_len = tasks * sizeof(struct partial);
    bj->slots = job_shared_alloc(bj->slots_len);
    if (!bj->slots) {
        int e = -errno;
        bench_job_close(bj);
        return e;
    }
    return 0;
}

void bench_job_close(struct bench_job *bj)
{
    if (bj->slots)
        job_shared_free(bj->slots, bj->slots_len);
    bj->slots = NULL;
    if (bj->set_up && bj->job.wl->teardown)
        bj->job.wl->teardown(&bj->job);
    bj->set_up = 0;
}

int bench_job_run(struct bench_job *bj, const struct runner *r, struct bench_sample *smp,
                  struct outcome *oc)
{
    struct rusage u0, u1;
    *oc = (struct outcome){ 0 };
    usage_now(&u0);
    uint64_t t0 = runner_now_ns();
    int rc = r->run(&bj->job, &bj->plan, bj->slots, oc);
    uint64_t t1 = runner_now_ns();
    usage_now(&u1);
    if (rc) {
        if (!oc->code)
            oc->code = PARLAB_EXIT_SOFTWARE;
        return -1;
    }
    *smp = (struct bench_sample){
        .wall_ns = (double)(t1 - t0),
        .user_s = tv_seconds(u1.ru_utime) - tv_seconds(u0.ru_utime),
        .sys_s = tv_seconds(u1.ru_stime) - tv_seconds(u0.ru_stime),
        .vol_cs = u1.ru_nvcsw - u0.ru_nvcsw,
        .invol_cs = u1.ru_nivcsw - u0.ru_nivcsw,
        .minflt = u1.ru_minflt - u0.ru_minflt,
    };
    return 0;
}

int bench_job_result(struct bench_job *bj, char *buf, size_t n, char *why, size_t wn)
{
    struct partial total;
    const struct workload *wl = bj->job.wl;
    size_t bad;
    why[0] = '\0';
    if (job_combine(&bj->job, bj->slots, &total, &bad)) {
        snprintf(buf, n, "error");
        snprintf(why, wn, "task %zu reported error %d", bad, bj->slots[bad].err);
        return 0;
    }
    wl->format(&bj->job, &total, buf, n);
    return wl->verify(&bj->job, &total, why, wn);
}

/* A map task: the same per-task work as the fork and thread runners do. */
static void bench_pool_task(void *ctx, uint64_t step, size_t task, unsigned worker)
{
    struct bench_job *bj = ctx;
    runner_exec_task(&bj->job, &bj->plan, (unsigned)step, task, worker, bj->slots);
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
    (void)madvise(bj->slots, bj->slots_len, MADV_POPULATE_WRITE);
}

struct pool *bench_pool_start(enum pool_kind kind, struct bench_job *bj, int warm,
                              struct outcome *oc)
{
    struct pool_error e;
    char why[200];
    int err = 0;
    struct pool *p = pool_create(kind, bj->plan.workers, NULL, NULL, 0, &err, NULL);
    if (!p) {
        outcome_fail(oc, PARLAB_EXIT_OS, "cannot start %u %s workers: %s", bj->plan.workers,
                     kind == POOL_FORK ? "process" : "thread", strerror(-err));
        return NULL;
    }
    /* Static with one task per worker: each worker populates the slots once (Linux 5.14+). */
    if (warm && pool_map(p, bj->plan.workers, SCHED_STATIC, 0, bench_populate_task, bj, 0, &e))
        goto fail;
    for (int i = 0; i < warm; i++)
        if (pool_map(p, bj->job.tasks, bj->plan.schedule, bj->plan.chunk, bench_pool_task, bj,
                     0, &e))
            goto fail;
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
    uint64_t t0 = runner_now_ns();
    if (pool_map(p, bj->job.tasks, bj->plan.schedule, bj->plan.chunk, bench_pool_task, bj, 0,
                 &e)) {
        pool_error_str(&e, pool_kind_of(p), why, sizeof why);
        return outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "%s", why);
    }
    *ns = (double)(runner_now_ns() - t0);
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
