/* oversubscribe.c: `parlab pitfall oversubscribe`: more workers than CPUs on CPU-bound
 * work: the time and the context switches at 1×, 2×, 8× and 32× the CPUs. */
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

#define NFACTORS 4

/* What the run showed, from its own numbers: the time and the involuntary context
 * switches at the most workers against W = the CPUs. */
static void oversub_verdict(struct exp_opts *o, int k, const struct stats *wall,
                            const struct stats *inv)
{
    const struct stats *w1 = &wall[0], *wn = &wall[NFACTORS - 1];
    const struct stats *c1 = &inv[0], *cn = &inv[NFACTORS - 1];
    char a[48], b[48], x[48], y[48];
    int dt = stats_differ(wn, w1), dc = stats_differ(cn, c1);
    stats_fmt_value(a, sizeof a, w1->mean, UNIT_NS);
    stats_fmt_value(b, sizeof b, wn->mean, UNIT_NS);
    stats_fmt_value(x, sizeof x, c1->mean, UNIT_COUNT);
    stats_fmt_value(y, sizeof y, cn->mean, UNIT_COUNT);
    exp_note(&o->tab, "%s: 32× the CPUs took %s against %s at 1× (%.2f×): %s", exp_kind_name(k),
             b, a, wn->mean / w1->mean,
             dt > 0 ? "slower: more workers than CPUs only added cost"
             : dt == 0 ? "no gain, within the noise: more workers than CPUs did not help"
                       : "FASTER, so the expected effect did not show here (is the run too "
                         "short, or were the CPUs busy with other work at 1×?)");
    exp_note(&o->tab, "%s: involuntary context switches %s at 1×, %s at 32×: %s",
             exp_kind_name(k), x, y,
             dc > 0 ? "the workers took turns on the CPUs"
                    : "they did not rise beyond the noise, so the turn-taking did not show "
                      "(a run shorter than a time slice has few switches; raise -n)");
}

static int pf_oversubscribe(struct exp_opts *o, struct outcome *oc)
{
    static const unsigned factors[NFACTORS] = { 1, 2, 8, 32 };
    unsigned cores = cpus_allowed();
    const struct workload *wl = wl_find("primes");
    size_t tasks = 4u * 32u * cores;      /* the same job at every W: enough tasks for all */

    if (!wl)
        return outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "pitfall: no primes workload");
    exp_begin(o, "oversubscribe: primes N=%llu in %zu tasks (dynamic) on %u CPUs, W = 1×, 2×, "
              "8×, 32× the CPUs; wall time and context switches over %d runs",
              (unsigned long long)o->size, tasks, cores, o->R);
    for (int k = 0; k < 2; k++) {
        if (!(o->kinds & (1 << k)))
            continue;
        const struct runner *r = runner_find(exp_kind_name(k));
        struct stats ws[NFACTORS], cs[NFACTORS];
        for (size_t f = 0; f < NFACTORS; f++) {
            unsigned W = factors[f] * cores;
            struct bench_job bj;
            double wall[EXP_MAX_REPEAT], inv[EXP_MAX_REPEAT], vol[EXP_MAX_REPEAT];
            int e = bench_job_open(&bj, wl, o->size, tasks, W, SCHED_DYNAMIC, 0);
            if (e)
                return outcome_fail(oc, PARLAB_EXIT_OS, "pitfall oversubscribe: setup: %s",
                                    strerror(-e));
            for (int i = 0; i < o->R; i++) {
                struct bench_sample s;
                char res[128];
                struct outcome wrong;
                if (bench_job_run(&bj, r, &s, oc)) {
                    bench_job_close(&bj);
                    return exp_fail_in(oc, "pitfall oversubscribe: %s W=%u: ", r->name, W);
                }
                if (bench_job_check(&bj, NULL, res, sizeof res, &wrong))
                    exp_wrong(&o->tab, "primes %s W=%u: %s", r->name, W, wrong.msg);
                wall[i] = s.wall_ns;
                inv[i] = (double)s.invol_cs;
                vol[i] = (double)s.vol_cs;
            }
            bench_job_close(&bj);
            stats_of(wall, o->R, &ws[f]);
            stats_of(inv, o->R, &cs[f]);
            struct exp_fig main = { "wall", UNIT_NS, wall, o->R };
            struct exp_fig extra[] = { { "involuntary cs", UNIT_COUNT, inv, o->R },
                                       { "voluntary cs", UNIT_COUNT, vol, o->R } };
            exp_emit(o, "oversub", W, ws[f].mean / ws[0].mean, &main, extra, 2, NULL,
                     "%s W=%u (%u× CPUs)", r->name, W, factors[f]);
        }
        oversub_verdict(o, k, ws, cs);
    }
    exp_note(&o->tab, "ratio: mean wall time against W = the CPUs (the wall includes starting "
             "the W workers); cs: context switches. Beyond the noise means the min … max "
             "ranges do not overlap and the means differ by more than 5%%.");
    return 0;
}

const struct experiment exp_oversubscribe = {
    .name = "oversubscribe", .command = "pitfall",
    .summary = "1×, 2×, 8×, 32× as many workers as CPUs on CPU work: time and context switches",
    .opts = EO_RUNNER | EO_SIZE | EO_REPEAT, .default_kinds = 1, .run = pf_oversubscribe,
};
