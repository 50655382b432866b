/* overhead_mpi.c: `parlab overhead`'s mpi rows, where the mpi runner is built: what
 * starting ranks with mpirun costs (timed from here), then the one-way latency of a
 * ping-pong between two ranks and the farm's per-task cost, measured by parlab-mpi under
 * mpirun and printed by its rank 0 in this table's format. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>
#include "overhead.h"
#include "../runners/mpi.h"

int ov_section_mpi(struct ov *o)
{
    struct exp_table *tab = &o->tab;
    int repeat = o->R, quick = o->quick;
    const struct runner *mpi = runner_find("mpi");
    char why[300], rep[16];
    struct outcome oc = { 0 };
    unsigned ranks = cpus_allowed() > 2 ? cpus_allowed() : 2;
    double *v = calloc((size_t)repeat, sizeof *v);
    if (!v)
        return die(PARLAB_EXIT_OS, "out of memory");
    if (!mpi || !runner_usable(mpi, why, sizeof why)) {
        exp_note(tab, "mpi: %s; its rows are left out", mpi ? why : "no mpi runner");
        free(v);
        return 0;
    }
    char *start[] = { "start", NULL };
    for (int i = 0; i < repeat; i++) {
        uint64_t t0 = runner_now_ns();
        if (mpi_spawn_simple(ranks, start, &oc))
            goto fail;
        v[i] = (double)(runner_now_ns() - t0);
    }
    struct exp_row r = { .section = "mpi", .workers = ranks, .unit = UNIT_NS, .ratio = NAN };
    snprintf(r.what, sizeof r.what, "mpirun start+barrier+exit of %u ranks", ranks);
    snprintf(r.note, sizeof r.note, "what parlab run -r mpi pays once per command (start_s), "
             "before any task");
    stats_of(v, repeat, &r.st);
    exp_row(tab, &r);

    snprintf(rep, sizeof rep, "%d", repeat);
    /* Rank 0 prints its rows to parlab's stdout, in text or CSV; for JSON they come as CSV
     * into a file and join the document's rows here. */
    int json = tab->fmt == OUT_JSON;
    char *rows[] = { "overhead", "--repeat", rep, "--format", tab->fmt == OUT_TEXT ? "text" : "csv",
                     quick ? "--quick" : NULL, NULL };
    FILE *tmp = NULL;
    int saved = -1;
    if (json) {
        fflush(stdout);
        if (!(tmp = tmpfile()) || (saved = dup(STDOUT_FILENO)) < 0 ||
            dup2(fileno(tmp), STDOUT_FILENO) < 0) {
            int e = errno;
            if (saved >= 0)
                close(saved);
            if (tmp)
                fclose(tmp);
            free(v);
            return die(PARLAB_EXIT_OS, "overhead: mpi: a file for the ranks' rows: %s",
                       strerror(e));
        }
    }
    /* The ranks' rows over shared memory, then over TCP on loopback (the stand-in for two
     * machines), whatever PARLAB_MPI_TRANSPORT says, which is put back afterwards. */
    const char *was = getenv(MPI_ENV_TRANSPORT);
    char *keep = was ? strdup(was) : NULL;
    int rc = 0;
    static const char *const transports[] = { "shm", "tcp" };
    for (int t = 0; t < 2 && !rc; t++) {
        setenv(MPI_ENV_TRANSPORT, transports[t], 1);
        rc = mpi_spawn_simple(ranks, rows, &oc);
        fflush(tab->f);
    }
    if (keep)
        setenv(MPI_ENV_TRANSPORT, keep, 1);
    else
        unsetenv(MPI_ENV_TRANSPORT);
    free(keep);
    if (json) {
        dup2(saved, STDOUT_FILENO);
        close(saved);
        char line[1024];
        rewind(tmp);
        while (fgets(line, sizeof line, tmp))
            exp_row_from_csv(tab, line);
        fclose(tmp);
    }
    if (rc)
        goto fail;
    free(v);
    return 0;
fail:
    free(v);
    return die(oc.code ? oc.code : PARLAB_EXIT_SOFTWARE, "overhead: mpi: %s", oc.msg);
}
