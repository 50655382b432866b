/* overhead_dispatch.c: `parlab overhead` rows "dispatch": the cost of one noop task under
 * the thread and fork pools, omp, the epoll loop and process (a fork per task), and each
 * against omp. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "overhead.h"

/* ---- dispatch ---------------------------------------------------------------------- */

/* R timed runs of the job under r after `warm` untimed ones: wall ns in o->v. */
static int runner_samples(struct ov *o, struct bench_job *bj, const struct runner *r, int warm,
                          const char *want)
{
    struct outcome oc;
    struct bench_sample smp;
    for (int i = 0; i < warm + o->R; i++) {
        if (bench_job_run(bj, r, &smp, &oc))
            return fail_msg(&o->oc, oc.code, "overhead: %s %s: %s", bj->job.wl->name, r->name,
                            oc.msg);
        ov_check_answer(o, bj, r->name, want);
        if (i >= warm)
            o->v[i - warm] = smp.wall_ns;
    }
    if (r->flags & RUNNER_PARALLEL)
        bench_pause_ms(20);     /* let spinning OpenMP threads go to sleep */
    return 0;
}

static void per_task(struct ov *o, size_t tasks)
{
    for (int i = 0; i < o->R; i++)
        o->v[i] /= (double)tasks;
}

/* Emit x[r] / y[r] over the rounds as a row of its own and return its mean: a ratio
 * that load drifting between rounds leaves alone, since both samples of a round saw the
 * same machine. */
static double emit_ratio(struct ov *o, const double *x, const double *y, const char *what)
{
    for (int i = 0; i < o->R; i++)
        o->v[i] = x[i] / y[i];
    double m = ov_mean(o);
    ov_emit(o, "dispatch", o->W, UNIT_X, NAN, "per-round ratio, then the mean", "%s / omp per task",
         what);
    return m;
}

/* Copy R samples into o->v, per task. */
static void take(struct ov *o, const double *v, size_t tasks)
{
    for (int i = 0; i < o->R; i++)
        o->v[i] = v[i] / (double)tasks;
}

/*
 * Per-task cost on noop tasks, dynamic chunk 1. The omp, thread, fork and epoll samples are
 * taken in turn, one of each per round, so that load from elsewhere on the machine falls
 * on all of them alike; the pools stay warm throughout.
 */
int ov_section_dispatch(struct ov *o)
{
    const struct workload *noop = wl_find("noop");
    const struct runner *omp = runner_find("omp"), *ep = runner_find("epoll");
    const struct runner *proc = runner_find("process");
    size_t tasks = o->quick ? 100000 : 1000000, proc_tasks = o->quick ? 100 : 2000;
    double s_omp[EXP_MAX_REPEAT], s_thr[EXP_MAX_REPEAT], s_fork[EXP_MAX_REPEAT],
        s_ep[EXP_MAX_REPEAT];
    struct pool *tp = NULL, *fp = NULL;
    struct bench_job bj;
    struct bench_sample smp;
    struct outcome oc = { 0 };
    int e, st = 0;
    char note[160];

    if (!noop)
        return fail_msg(&o->oc, PARLAB_EXIT_SOFTWARE, "overhead: no noop workload");
    if ((e = bench_job_open(&bj, noop, tasks, tasks, o->W, SCHED_DYNAMIC, 1)))
        return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: %zu noop slots: %s", tasks,
                        strerror(-e));
    enum sched_kind ep_sched = ep && !(ep->schedules & SCHED_BIT(SCHED_DYNAMIC))
                                   ? ep->default_schedule : SCHED_DYNAMIC;

    /* The pools first, while no OpenMP thread exists to be copied into a fork. */
    if (!(tp = bench_pool_start(POOL_THREAD, &bj, 1, &oc)) ||
        !(fp = bench_pool_start(POOL_FORK, &bj, 1, &oc)))
        goto fail;
    ov_check_answer(o, &bj, "fork", NULL);
    if (omp && bench_job_run(&bj, omp, &smp, &oc))           /* warm: OpenMP's threads */
        goto fail;
    bj.plan.schedule = ep_sched;
    if (ep && bench_job_run(&bj, ep, &smp, &oc))
        goto fail;
    bj.plan.schedule = SCHED_DYNAMIC;
    for (int r = 0; r < o->R; r++) {
        if (omp) {
            if (bench_job_run(&bj, omp, &smp, &oc))
                goto fail;
            s_omp[r] = smp.wall_ns;
            ov_check_answer(o, &bj, "omp", NULL);
            bench_pause_ms(20);      /* OpenMP's idle threads spin for a while: let them sleep */
        }
        if (bench_pool_time(tp, &bj, &s_thr[r], &oc))
            goto fail;
        ov_check_answer(o, &bj, "thread", NULL);
        if (bench_pool_time(fp, &bj, &s_fork[r], &oc))
            goto fail;
        ov_check_answer(o, &bj, "fork", NULL);
        if (ep) {
            bj.plan.schedule = ep_sched;
            if (bench_job_run(&bj, ep, &smp, &oc))
                goto fail;
            bj.plan.schedule = SCHED_DYNAMIC;
            s_ep[r] = smp.wall_ns;
            ov_check_answer(o, &bj, "epoll", NULL);
        }
    }
    pool_destroy(tp);
    pool_destroy(fp);
    tp = fp = NULL;

    snprintf(note, sizeof note, "%zu noop tasks, warm, in turn with the others", tasks);
    if (omp) {
        take(o, s_omp, tasks);
        o->omp_task_ns = ov_mean(o);
        ov_emit(o, "dispatch", o->W, UNIT_NS, NAN, note, "omp dynamic chunk 1 per task");
    } else {
        exp_note(&o->tab, "omp: not built; dispatch ratios are left out");
    }
    take(o, s_thr, tasks);
    o->thread_task_ns = ov_mean(o);
    ov_emit(o, "dispatch", o->W, UNIT_NS, NAN, note, "thread pool dynamic chunk 1 per task");
    take(o, s_fork, tasks);
    o->fork_task_ns = ov_mean(o);
    ov_emit(o, "dispatch", o->W, UNIT_NS, NAN, note, "fork pool dynamic chunk 1 per task");
    if (ep) {
        take(o, s_ep, tasks);
        o->epoll_task_ns = ov_mean(o);
        snprintf(note, sizeof note, "%zu noop tasks, one loop, %s", tasks, sched_name(ep_sched));
        ov_emit(o, "dispatch", 1, UNIT_NS, NAN, note, "epoll loop per task");
    } else {
        exp_note(&o->tab, "epoll: runner not built yet (parlab list does not show it); "
                                  "its dispatch row is skipped");
    }
    if (omp) {
        o->thread_ratio = emit_ratio(o, s_thr, s_omp, "thread pool");
        o->fork_ratio = emit_ratio(o, s_fork, s_omp, "fork pool");
        if (ep)
            emit_ratio(o, s_ep, s_omp, "epoll loop");
    }
    bench_job_close(&bj);

    if (proc) {
        if ((e = bench_job_open(&bj, noop, proc_tasks, proc_tasks, o->W, SCHED_DYNAMIC, 1)))
            return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: noop slots: %s", strerror(-e));
        if ((st = runner_samples(o, &bj, proc, 0, NULL))) {
            bench_job_close(&bj);
            return st;
        }
        per_task(o, proc_tasks);
        snprintf(note, sizeof note, "%zu noop tasks, a fork each", proc_tasks);
        if (o->omp_task_ns > 0) {
            char x[32];   /* "13805×", not "1.38e+04×": the ratio's digits, then the sign */
            snprintf(note + strlen(note), sizeof note - strlen(note), "; %s the omp mean",
                     stats_fmt_value(x, sizeof x, ov_mean(o) / o->omp_task_ns, UNIT_X));
        }
        ov_emit(o, "dispatch", o->W, UNIT_NS, NAN, note, "process per task");
        bench_job_close(&bj);
    }
    return 0;
fail:
    if (tp)
        pool_destroy(tp);
    if (fp)
        pool_destroy(fp);
    bench_job_close(&bj);
    return fail_msg(&o->oc, oc.code ? oc.code : PARLAB_EXIT_SOFTWARE, "overhead: dispatch: %s",
                    oc.msg);
}
