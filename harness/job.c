/* job.c: the one job lifecycle (set up, run, combine, finish, verify, tear down) that
 * `parlab run`, the measuring commands and the tests all go through, and the resource
 * accounting it uses. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include "harness.h"

void usage_now(struct rusage *u)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    *u = self;
    u->ru_utime.tv_sec += kids.ru_utime.tv_sec;
    u->ru_utime.tv_usec += kids.ru_utime.tv_usec;
    u->ru_stime.tv_sec += kids.ru_stime.tv_sec;
    u->ru_stime.tv_usec += kids.ru_stime.tv_usec;
    if (kids.ru_maxrss > u->ru_maxrss)
        u->ru_maxrss = kids.ru_maxrss;   /* a peak, not a sum */
    u->ru_nvcsw += kids.ru_nvcsw;
    u->ru_nivcsw += kids.ru_nivcsw;
    u->ru_minflt += kids.ru_minflt;
    u->ru_majflt += kids.ru_majflt;
}

double tv_seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int job_combine(const struct job *job, const struct partial *slots, struct partial *total,
                size_t *bad)
{
    *total = (struct partial){ 0 };
    for (size_t t = 0; t < job->tasks; t++) {
        if (slots[t].err) {
            *bad = t;
            return -1;
        }
        job->wl->combine(total, &slots[t]);
    }
    if (job->wl->finish)
        job->wl->finish(job, total);
    return 0;
}

int job_open(struct job_ctx *c, const struct job *job, const struct plan *plan, int trace,
             unsigned watchers, struct outcome *oc)
{
    const struct workload *wl = job->wl;
    int e;

    memset(c, 0, sizeof *c);
    c->job = *job;
    c->plan = *plan;
    c->plan.trace = NULL;
    c->plan.watch = NULL;
    errno = 0;
    if (wl->setup && wl->setup(&c->job)) {
        e = errno ? -errno : -EINVAL;
        outcome_fail(oc, PARLAB_EXIT_OS, "%s: setup for N=%llu: %s", wl->name,
                     (unsigned long long)c->job.size, strerror(-e));
        return e;
    }
    c->set_up = 1;
    c->slots_len = c->job.tasks * sizeof(struct partial);
    if (!(c->slots = job_shared_alloc(c->slots_len))) {
        e = -errno;
        outcome_fail(oc, PARLAB_EXIT_OS, "mmap of the result slots: %s", strerror(errno));
        goto err;
    }
    if (trace) {
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
    usage_now(&u0);
    uint64_t t0 = runner_now_ns();
    int rc = r->run(&c->job, &c->plan, c->slots, oc);
    uint64_t t1 = runner_now_ns();
    usage_now(&u1);
    if (c->watchers)
        guard_watch_stop();
    if (rc) {
        if (!oc->code)
            oc->code = PARLAB_EXIT_SOFTWARE;
        return -1;
    }
    *smp = (struct job_sample){
        .start_ns = t0,
        .wall_ns = (double)(t1 - t0),
        .user_s = tv_seconds(u1.ru_utime) - tv_seconds(u0.ru_utime),
        .sys_s = tv_seconds(u1.ru_stime) - tv_seconds(u0.ru_stime),
        .max_rss_kb = u1.ru_maxrss,
        .vol_cs = u1.ru_nvcsw - u0.ru_nvcsw,
        .invol_cs = u1.ru_nivcsw - u0.ru_nivcsw,
        .minflt = u1.ru_minflt - u0.ru_minflt,
    };
    return 0;
}

int job_answer(struct job_ctx *c, struct job_result *res, struct outcome *oc)
{
    const struct workload *wl = c->job.wl;
    struct partial total;
    size_t bad;

    memset(res, 0, sizeof *res);
    if (job_combine(&c->job, c->slots, &total, &bad)) {
        res->bad_task = (long)bad;
        return outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "task %zu reported error %d (%s)", bad,
                            c->slots[bad].err, strerror(c->slots[bad].err));
    }
    res->bad_task = -1;
    wl->format(&c->job, &total, res->result, sizeof res->result);
    if (wl->describe)
        wl->describe(&c->job, &total, res->detail, sizeof res->detail);
    else
        snprintf(res->detail, sizeof res->detail, "%s", res->result);
    res->verified = wl->verify(&c->job, &total, res->why, sizeof res->why);
    return 0;
}

void job_close(struct job_ctx *c)
{
    job_shared_free(c->plan.watch, c->watch_len);
    job_shared_free(c->plan.trace, c->trace_len);
    job_shared_free(c->slots, c->slots_len);
    c->plan.watch = NULL;
    c->plan.trace = NULL;
    c->slots = NULL;
    c->watchers = 0;
    if (c->set_up && c->job.wl->teardown)
        c->job.wl->teardown(&c->job);
    c->set_up = 0;
}
