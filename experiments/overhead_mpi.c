/* overhead_mpi.c: `parlab overhead`'s mpi rows, where the mpi runner is built: what
 * starting ranks with mpirun costs (timed from here), then the one-way latency of a
 * ping-pong between two ranks and the farm's per-task cost, over shared memory and over
 * TCP on loopback (the stand-in for two machines). The ranks measure what this file asks
 * for (`parlab-mpi overhead`, mpi/wire.h) and send the samples back; the rows and what
 * they conclude are made here. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>
#include "overhead.h"
#include "../mpi/launcher.h"

/* The launcher's failure, in the experiment's terms, into o->oc. Returns -1. */
static int mpi_fail(struct ov *o, const struct outcome *oc)
{
    return outcome_fail(&o->oc, oc->code ? oc->code : PARLAB_EXIT_SOFTWARE, "overhead: mpi: %s",
                        oc->msg);
}

/* One row of R samples (v) in o's table. */
static void row(struct ov *o, const double *v, unsigned workers, const char *note,
                const char *what, const char *over)
{
    struct exp_row r = { .section = "mpi", .workers = workers, .unit = UNIT_NS, .ratio = NAN };
    snprintf(r.what, sizeof r.what, "%s%s", what, over);
    snprintf(r.note, sizeof r.note, "%s", note);
    stats_of(v, o->R, &r.st);
    exp_row(&o->tab, &r);
}

/* The ranks' samples over one transport (tcp: 0 shared memory, 1 TCP), as rows. The
 * static row, which sends no messages, is the shared-memory run's only. Returns 0, or -1
 * with o->oc filled. */
static int ranks_rows(struct ov *o, unsigned ranks, int tcp)
{
    static const enum sched_kind scheds[] = { SCHED_DYNAMIC, SCHED_STATIC };
    size_t tasks = o->quick ? 20000 : 200000;
    int k = o->quick ? 2000 : 20000, ns = tcp ? 1 : 2;
    char rep[16], trips[16], ntasks[24];
    snprintf(rep, sizeof rep, "%d", o->R);
    snprintf(trips, sizeof trips, "%d", k);
    snprintf(ntasks, sizeof ntasks, "%zu", tasks);
    char *args[] = { "overhead", rep, trips, ntasks, (char *)sched_name(scheds[0]),
                     ns > 1 ? (char *)sched_name(scheds[1]) : NULL, NULL };
    struct outcome oc = { 0 };
    void *res = NULL;
    size_t len = 0;
    setenv(MPI_ENV_TRANSPORT, tcp ? "tcp" : "shm", 1);
    if (mpi_spawn_simple(ranks, args, &res, &len, &oc))
        return mpi_fail(o, &oc);
    struct mpi_measure_hdr h;
    if (len < sizeof h || (memcpy(&h, res, sizeof h), h.magic != MPI_MEASURE_MAGIC) ||
        h.repeat != (uint64_t)o->R || h.rows != 1 + (uint64_t)ns ||
        len != sizeof h + h.rows * h.repeat * sizeof(double)) {
        free(res);
        return outcome_fail(&o->oc, PARLAB_EXIT_SOFTWARE, "overhead: mpi: the ranks' samples "
                            "are not what was asked for");
    }
    const double *v = (const double *)(const void *)((const char *)res + sizeof h);
    const char *over = tcp ? " over TCP" : "";
    char note[200];
    snprintf(note, sizeof note, "%d round trips between ranks 0 and 1, %s", k,
             tcp ? "TCP on loopback" : "shared memory");
    row(o, v, 2, note, "mpi ping-pong one way (8 B)", over);
    for (int s = 0; s < ns; s++) {
        snprintf(note, sizeof note, "%zu noop tasks on %llu ranks, set-up and gather included",
                 tasks, (unsigned long long)h.ranks);
        row(o, v + (size_t)(1 + s) * (size_t)o->R, (unsigned)h.ranks, note,
            scheds[s] == SCHED_DYNAMIC ? "mpi farm dynamic chunk 1 per task"
                                       : "mpi static per task (no messages)", over);
    }
    if (h.pingpong_bad)
        exp_wrong(&o->tab, "overhead: mpi ping-pong%s: the replies did not add up", over);
    if (h.lost_runs)
        exp_wrong(&o->tab, "overhead: mpi%s: %llu farm runs lost tasks", over,
                  (unsigned long long)h.lost_runs);
    free(res);
    return 0;
}

int ov_section_mpi(struct ov *o)
{
    struct exp_table *tab = &o->tab;
    const struct runner *mpi = runner_find("mpi");
    char why[300];
    struct outcome oc = { 0 };
    unsigned ranks = cpus_allowed() > 2 ? cpus_allowed() : 2;
    if (!mpi || !runner_usable(mpi, why, sizeof why)) {
        exp_note(tab, "mpi: %s; its rows are left out", mpi ? why : "no mpi runner");
        return 0;
    }
    char *start[] = { "start", NULL };
    for (int i = 0; i < o->R; i++) {
        uint64_t t0 = clock_now_ns();
        if (mpi_spawn_simple(ranks, start, NULL, NULL, &oc))
            return mpi_fail(o, &oc);
        o->v[i] = (double)(clock_now_ns() - t0);
    }
    char what[96];
    snprintf(what, sizeof what, "mpirun start+barrier+exit of %u ranks", ranks);
    row(o, o->v, ranks, "what parlab run -r mpi pays once per command (start_s), before any "
        "task", what, "");

    /* The ranks' rows over shared memory, then over TCP on loopback, whatever
     * PARLAB_MPI_TRANSPORT says, which is put back afterwards. */
    const char *was = getenv(MPI_ENV_TRANSPORT);
    char *keep = was ? strdup(was) : NULL;
    int st = 0;
    for (int tcp = 0; tcp < 2 && !st; tcp++)
        st = ranks_rows(o, ranks, tcp);
    if (keep)
        setenv(MPI_ENV_TRANSPORT, keep, 1);
    else
        unsetenv(MPI_ENV_TRANSPORT);
    free(keep);
    return st;
}
