/* chunking.c: `parlab pitfall chunking`: dispatch cost against chunk size on a warm pool,
 * on noop and on primes: small chunks pay a claim per task, big ones leave workers idle. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "experiment.h"
#include "../lib/sync.h"

/* What one sweep showed, from its own rows: the cost of the smallest chunk against the
 * best, and (where the work is imbalanced) of one chunk per worker against the best. */
static void chunk_verdict(struct exp_opts *o, int k, const char *wlname, const struct stats *st,
                          const size_t *chunk, size_t nc, size_t best, int imbalanced)
{
    const char *who = exp_kind_name(k);
    exp_note(&o->tab, "%s %s: the sweet spot is chunk %zu (ratio: mean against it)", who,
             wlname, chunk[best]);
    if (best == 0)
        exp_note(&o->tab, "%s %s: chunk %zu was the best, so the cost of a claim per task did "
                 "NOT show here", who, wlname, chunk[0]);
    else
        exp_note(&o->tab, "%s %s: chunk %zu took %.2f× the best: %s", who, wlname, chunk[0],
                 st[0].mean / st[best].mean, stats_differ(&st[0], &st[best]) > 0
                     ? "a claim per task is a visible cost"
                     : "within the noise, so the claim cost did NOT show here");
    if (!imbalanced || nc < 2)
        return;
    size_t last = nc - 1;
    if (best == last)
        exp_note(&o->tab, "%s %s: one chunk per worker was the best, so the idle wait for the "
                 "costliest chunk did NOT show here", who, wlname);
    else
        exp_note(&o->tab, "%s %s: one chunk per worker (%zu) took %.2f× the best: %s", who,
                 wlname, chunk[last], st[last].mean / st[best].mean,
                 stats_differ(&st[last], &st[best]) > 0
                     ? "workers sat idle while the costliest chunk finished (primes grow "
                       "dearer with N)"
                     : "within the noise, so the imbalance did NOT show here");
}

/* One sweep of chunk sizes on wl. Returns 0 (a wrong result is said with exp_wrong,
 * and ends the sweep), or -1 with oc filled. */
static int chunk_sweep(struct exp_opts *o, int k, const char *wlname, uint64_t size,
                       size_t tasks, int per_task, struct outcome *oc)
{
#define NCHUNK 10
    static const size_t chunks[NCHUNK] = { 1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 0 };
    const struct workload *wl = wl_find(wlname);
    enum pool_kind kind = k ? POOL_THREAD : POOL_FORK;
    double ns[NCHUNK][EXP_MAX_REPEAT];
    struct stats st[NCHUNK];
    size_t chunk[NCHUNK];
    size_t nc = 0, best = 0;
    struct bench_job bj;
    int e;

    if (!wl)
        return outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "pitfall chunking: no %s workload",
                            wlname);
    if ((e = bench_job_open(&bj, wl, size, tasks, o->workers, SCHED_DYNAMIC, 1)))
        return outcome_fail(oc, PARLAB_EXIT_OS, "pitfall chunking: %s setup: %s", wlname,
                            strerror(-e));
    for (size_t i = 0; i < NCHUNK; i++) {
        char res[128];
        struct outcome wrong;
        /* The sizes up to one chunk per worker, which is that last one. */
        size_t last = (tasks + o->workers - 1) / o->workers;
        chunk[i] = i < NCHUNK - 1 && chunks[i] < last ? chunks[i] : last;
        bj.plan.chunk = chunk[i];
        if (bench_pool_maps(kind, &bj, 1, o->R, ns[i], oc)) {
            bench_job_close(&bj);
            return exp_fail_in(oc, "pitfall chunking: ");
        }
        if (bench_job_check(&bj, NULL, res, sizeof res, &wrong)) {
            bench_job_close(&bj);
            exp_wrong(&o->tab, "pitfall chunking: %s chunk %zu: %s", wlname, chunks[i],
                      wrong.msg);
            return 0;
        }
        if (per_task)
            for (int r = 0; r < o->R; r++)
                ns[i][r] /= (double)tasks;
        stats_of(ns[i], o->R, &st[i]);
        if (st[i].mean < st[best].mean)
            best = i;
        nc = i + 1;
        if (chunk[i] == last)
            break;
    }
    bench_job_close(&bj);
    for (size_t i = 0; i < nc; i++) {
        struct exp_fig main = { per_task ? "per task" : "wall", UNIT_NS, ns[i], o->R };
        exp_emit(o, "chunking", o->workers, st[i].mean / st[best].mean, &main, NULL, 0, NULL,
                 "%s %s chunk %zu%s", exp_kind_name(k), wlname, chunk[i],
                 chunk[i] * o->workers >= tasks ? " (1 per worker)" : i == best ? " (best)" : "");
    }
    chunk_verdict(o, k, wlname, st, chunk, nc, best, !per_task);
    return 0;
}

static int pf_chunking(struct exp_opts *o, struct outcome *oc)
{
    /* Tasks of a few numbers each, so that a claim per task is a visible share. */
    size_t ptasks = o->size / 4 < (1u << 20) ? (size_t)(o->size / 4) : (1u << 20);
    int rc;
    if (ptasks < 1)
        ptasks = 1;
    exp_begin(o, "chunking: dynamic schedule on a warm pool of %u, chunk = tasks per claim. "
              "noop: %llu tasks, time per task; primes N=%llu in %zu tasks: wall. Over %d maps.", o->workers,
                     (unsigned long long)o->tasks, (unsigned long long)o->size, ptasks, o->R);
    for (int k = 0; k < 2; k++) {
        if (!(o->kinds & (1 << k)))
            continue;
        if ((rc = chunk_sweep(o, k, "noop", o->tasks, (size_t)o->tasks, 1, oc)) || o->tab.wrong)
            return rc;
        if ((rc = chunk_sweep(o, k, "primes", o->size, ptasks, 0, oc)) || o->tab.wrong)
            return rc;
    }
    return 0;
}

const struct experiment exp_chunking = {
    .name = "chunking", .command = "pitfall",
    .summary = "dispatch cost against chunk size on noop and primes: the sweet spot",
    .opts = EO_RUNNER | EO_WORKERS | EO_SIZE | EO_TASKS | EO_REPEAT, .default_kinds = 1,
    .run = pf_chunking,
};
