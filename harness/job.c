/* job.c: the one job lifecycle (job.h): set up, run, combine, verify, tear down. From
 * job_exec, r->run() is where a runner takes over. */
#define _GNU_SOURCE
#include "job.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>

#include "harness.h"

int job_open(struct job_ctx *c, const struct job *job, const struct plan *plan,
             unsigned flags, unsigned watchers, struct outcome *oc)
{
    const struct workload *wl = job->wl;
    int e;

    memset(c, 0, sizeof *c);
    c->job = *job;
    c->plan = *plan;
    c->plan.trace = NULL;
    c->plan.watch = NULL;
    c->plan.fold = NULL;
    errno = 0;
    if (wl->setup && wl->setup(&c->job)) {
        e = errno ? -errno : -EINVAL;
        outcome_fail(oc, PARLAB_EXIT_OS, "%s: setup for N=%llu: %s", wl->name,
                     (unsigned long long)c->job.size, strerror(-e));
        return e;
    }
    c->set_up = 1;
    e = results_open(&c->rs, &c->job, &c->plan,
                     flags & JOB_SLOTS ? RESULTS_SLOTS : RESULTS_AUTO);
    if (e) {
        outcome_fail(oc, PARLAB_EXIT_OS, "mmap of the results: %s", strerror(-e));
        goto err;
    }
    c->rs_open = 1;
    if (flags & JOB_TRACE) {
        c->trace_len = c->job.tasks * c->job.steps * sizeof(struct trace_rec);
        if (!(c->plan.trace = job_shared_alloc(c->trace_len))) {
            e = -errno;
            outcome_fail(oc, PARLAB_EXIT_OS, "mmap of the trace buffer: %s", strerror(errno));
            goto err;
        }
    }
    if (watchers) {
        c->watchers = watchers;
        c->watch_len = watchers * sizeof(struct task_watch);
        if (!(c->plan.watch = job_shared_alloc(c->watch_len))) {
            e = -errno;
            outcome_fail(oc, PARLAB_EXIT_OS, "mmap of the task watch: %s", strerror(errno));
            goto err;
        }
        for (unsigned w = 0; w < watchers; w++)
            c->plan.watch[w].task = -1;
    }
    return 0;

err:
    job_close(c);
    return e;
}

int job_exec(struct job_ctx *c, const struct runner *r, struct job_sample *smp,
             struct outcome *oc)
{
    struct rusage u0, u1;
    int e;

    *oc = (struct outcome){ 0 };
    if (c->watchers && (e = guard_watch_start(&c->plan, c->watchers)) != 0)
        return outcome_fail(oc, PARLAB_EXIT_OS, "task-timeout watchdog: %s", strerror(-e));
    results_reset(&c->rs);   /* before the clock: folds start empty */
    double busy0 = machine_busy_s();   /* outside the clock: the meter is not timed */
    usage_now(&u0);
    uint64_t t0 = clock_now_ns();
    int rc = r->run(&c->job, &c->plan, results_slots(&c->rs), oc);
    uint64_t t1 = clock_now_ns();
    usage_now(&u1);
    double busy1 = machine_busy_s();
    if (c->watchers)
        guard_watch_stop();
    if (rc) {
        if (!oc->code)
            oc->code = PARLAB_EXIT_SOFTWARE;
        return -1;
    }
    /* A runner that times the job where its workers are (mpi's ranks) says how long it
     * took there; the clock here would add what it cost to reach them. */
    *smp = (struct job_sample){
        .start_ns = t0,
        .wall_ns = oc->job_wall_s > 0 ? oc->job_wall_s * 1e9 : (double)(t1 - t0),
        .start_s = oc->start_s,
        .user_s = tv_seconds(u1.ru_utime) - tv_seconds(u0.ru_utime) + oc->away_user_s,
        .sys_s = tv_seconds(u1.ru_stime) - tv_seconds(u0.ru_stime) + oc->away_sys_s,
        .max_rss_kb = u1.ru_maxrss > oc->away_maxrss_kb ? u1.ru_maxrss : oc->away_maxrss_kb,
        .vol_cs = u1.ru_nvcsw - u0.ru_nvcsw,
        .invol_cs = u1.ru_nivcsw - u0.ru_nivcsw,
        .minflt = u1.ru_minflt - u0.ru_minflt,
    };
    smp->other_cpu = NAN;
    if (busy0 >= 0 && busy1 >= 0 && t1 > t0) {   /* over the interval the meter read */
        double other = (busy1 - busy0 - smp->user_s - smp->sys_s) / ((double)(t1 - t0) / 1e9);
        smp->other_cpu = other > 0 ? other : 0;
    }
    return 0;
}

/* verify()'s return (workload.h: 0, -1, WL_UNCHECKED or another -errno) as a verdict. */
static int verdict_of(int v)
{
    return v == 0 ? VERIFIED_YES : v == -1 ? VERIFIED_WRONG
           : v == WL_UNCHECKED ? VERIFIED_UNCHECKED : VERIFIED_SEQ;
}

int job_answer(struct job_ctx *c, struct job_result *res, struct outcome *oc)
{
    const struct workload *wl = c->job.wl;
    struct partial total;
    size_t bad;
    int err;

    memset(res, 0, sizeof *res);
    if (c->hook)
        c->hook(c, JOB_AT_RESULTS, NULL, c->hook_arg);
    if (results_combine(&c->rs, &c->job, &total, &bad, &err)) {
        res->bad_task = (long)bad;
        res->bad_err = err;
        return outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "task %zu reported error %d (%s)", bad,
                            err, strerror(err));
    }
    res->bad_task = -1;
    if (c->hook)
        c->hook(c, JOB_AT_TOTAL, &total, c->hook_arg);
    wl->format(&c->job, &total, res->result, sizeof res->result);
    if (wl->describe)
        wl->describe(&c->job, &total, res->detail, sizeof res->detail);
    else
        snprintf(res->detail, sizeof res->detail, "%s", res->result);
    res->verified = verdict_of(wl->verify(&c->job, &total, res->why, sizeof res->why));
    return 0;
}

void job_set_hook(struct job_ctx *c, job_hook_fn fn, void *arg)
{
    c->hook = fn;
    c->hook_arg = arg;
}

void job_close(struct job_ctx *c)
{
    job_shared_free(c->plan.watch, c->watch_len);
    job_shared_free(c->plan.trace, c->trace_len);
    if (c->rs_open)
        results_close(&c->rs, &c->plan);
    c->rs_open = 0;
    c->plan.watch = NULL;
    c->plan.trace = NULL;
    c->watchers = 0;
    if (c->set_up && c->job.wl->teardown)
        c->job.wl->teardown(&c->job);
    c->set_up = 0;
}
