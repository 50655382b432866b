/* overhead_speedup.c: `parlab overhead` rows "speedup": every runner under every schedule
 * it honours against seq, on primes and mandelbrot, round by round. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "overhead.h"

/* ---- speedups ---------------------------------------------------------------------- */

#define MAX_CONFIGS 32

/*
 * The speedup of every runner under every schedule it honours, on primes and mandelbrot.
 * Each round runs seq once and then every configuration once, and a speedup sample is
 * the round's seq time over the configuration's: the two saw the same machine, which on
 * a shared one matters more than anything else here.
 */
int ov_section_speedup(struct ov *o)
{
    static const char *const names[OV_SPEEDUP_WORKLOADS] = { "primes", "mandelbrot" };
    uint64_t sizes[2] = { o->quick ? 100000 : 2000000, o->quick ? 40000 : 1000000 };
    const struct runner *seq = runner_find("seq");
    struct { const struct runner *r; enum sched_kind s; } cf[MAX_CONFIGS];
    static double wall[MAX_CONFIGS][EXP_MAX_REPEAT];
    double base[EXP_MAX_REPEAT];
    struct outcome oc;
    struct bench_sample smp;
    char ref[128], note[200], size[32], ws[96];
    struct outcome wrong;
    int n = 0;

    if (!seq)
        return 0;
    for (const struct runner *const *rp = runner_registry; *rp; rp++)
        for (int s = 0; s < SCHED__COUNT && n < MAX_CONFIGS; s++)
            if (*rp != seq && !((*rp)->flags & RUNNER_EXTERNAL) &&   /* mpi: its own rows */
                ((*rp)->schedules & SCHED_BIT(s)))
                cf[n].r = *rp, cf[n++].s = (enum sched_kind)s;

    for (int w = 0; w < OV_SPEEDUP_WORKLOADS; w++) {
        const struct workload *wl = wl_find(names[w]);
        struct bench_job bj;
        int e, best = -1;
        double best_s = 0;
        if (!wl) {
            progress_step(&o->prog, "speedup: no workload %s in this build", names[w]);
            continue;
        }
        if ((e = bench_job_open(&bj, wl, sizes[w], 0, o->W, SCHED_STATIC, 0)))
            return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: %s setup: %s", wl->name,
                            strerror(-e));
        snprintf(size, sizeof size, "%llu", (unsigned long long)sizes[w]);
        ref[0] = '\0';
        for (int i = 0; i < o->R; i++) {
            bj.plan.schedule = seq->default_schedule;
            if (bench_job_run(&bj, seq, &smp, &oc))
                goto fail;
            base[i] = smp.wall_ns;
            if (i == 0 && bench_job_check(&bj, NULL, ref, sizeof ref, &wrong))
                exp_wrong(&o->tab, "%s seq: %s", wl->name, wrong.msg);
            for (int c = 0; c < n; c++) {
                bj.plan.schedule = cf[c].s;
                if (bench_job_run(&bj, cf[c].r, &smp, &oc))
                    goto fail;
                wall[c][i] = smp.wall_ns;
                ov_check_answer(o, &bj, cf[c].r->name, ref);
                if (cf[c].r->flags & RUNNER_PARALLEL)
                    bench_pause_ms(20);     /* let spinning OpenMP threads go to sleep */
            }
        }
        memcpy(o->v, base, (size_t)o->R * sizeof *base);
        double base_mean = ov_mean(o);
        snprintf(note, sizeof note, "the baseline; result %s", ref);
        ov_emit(o, "speedup", 1, UNIT_NS, NAN, note, "%s N=%s seq wall", wl->name, size);
        for (int c = 0; c < n; c++) {
            struct stats st;
            stats_of(wall[c], o->R, &st);
            snprintf(note, sizeof note, "wall %s", stats_fmt_summary(ws, sizeof ws, &st, UNIT_NS));
            for (int i = 0; i < o->R; i++)
                o->v[i] = base[i] / wall[c][i];
            ov_emit(o, "speedup", o->W, UNIT_X, NAN, note, "%s N=%s %s %s", wl->name, size,
                 cf[c].r->name, sched_name(cf[c].s));
            if (best < 0 || base_mean / st.mean > best_s)
                best = c, best_s = base_mean / st.mean;
        }
        /* The best configuration's speedup (seq's mean over its) with its 95% interval. */
        if (best >= 0)
            progress_step(&o->prog, "speedup on %s N=%s: best of %d, %s %s %s", wl->name, size, n,
                          cf[best].r->name, sched_name(cf[best].s),
                          stats_fmt_speedup(ws, sizeof ws, base, o->R, wall[best], o->R));
        else
            progress_step(&o->prog, "speedup on %s N=%s: no runner beside seq", wl->name, size);
        bench_job_close(&bj);
        continue;
fail:
        bench_job_close(&bj);
        return fail_msg(&o->oc, oc.code, "overhead: %s: %s", wl->name, oc.msg);
    }
    return 0;
}
