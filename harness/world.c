/* world.c: `parlab world start|stop|status`: Open MPI ranks started once and kept for many
 * runs (mpi/world.c does the work). With PARLAB_MPI_WORLD set to a world's folder,
 * `parlab run -r mpi -j N` hands its job to those ranks instead of starting mpirun, so a
 * run pays no MPI start-up: what a cluster's resident launcher saves. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "parse.h"
#include "suggest.h"
#include "../mpi/launcher.h"

static void usage(FILE *f)
{
    fprintf(f,
        "usage: parlab world start -j N [--cores K] [--idle S]\n"
        "       parlab world stop [--stale] [DIR]\n"
        "       parlab world status [--format text|json] [DIR]\n"
        "  start: start N mpi ranks once and print the line that points parlab run at them:\n"
        "           eval \"$(parlab world start -j 2)\"   # sets %s\n"
        "           parlab run -w primes -r mpi -j 2     # runs on those ranks\n"
        "         the world ends after S seconds without a job (default 600, 0: never), when\n"
        "         stopped, or when a job in it fails (a rank dies, a task times out, a run\n"
        "         is interrupted while its job runs)\n"
        "  stop, status: the world in DIR (default $%s); each first checks that DIR is a\n"
        "         world parlab started (its marker, token, keeper and ranks), else refuses\n"
        "         and touches nothing\n"
        "  stop --stale: also remove a stale world (its keeper was killed): only the files\n"
        "         parlab made there, by name\n", MPI_ENV_WORLD, MPI_ENV_WORLD);
}

int cmd_world(int argc, char **argv)
{
    if (argc < 2)
        return die(PARLAB_EXIT_USAGE, "world: start, stop or status? (parlab world --help)");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    struct outcome out = { 0 };
    const char *what = argv[1];
    if (!strcmp(what, "stop") || !strcmp(what, "status")) {
        const char *dir = NULL;
        int stale = 0, json = 0;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(what, "stop") && !strcmp(argv[i], "--stale") && !stale)
                stale = 1;
            else if (!strcmp(what, "status") && !strcmp(argv[i], "--format") && i + 1 < argc) {
                const char *f = argv[++i];
                static const char *const fmts[] = { "text", "json", NULL };
                char hint[96];
                if (strcmp(f, "text") && strcmp(f, "json"))
                    return die(PARLAB_EXIT_USAGE, "--format %s: unknown format%s (text, json)", f,
                               suggest_from(f, fmts, hint, sizeof hint));
                json = !strcmp(f, "json");
            } else if (argv[i][0] == '-' || dir)
                return die(PARLAB_EXIT_USAGE, "world %s: unexpected '%s' (parlab world --help)",
                           what, argv[i]);
            else
                dir = argv[i];
        }
        int from_env = !dir;
        if (!dir) {
            const char *d = getenv(MPI_ENV_WORLD);
            dir = d && *d ? d : NULL;
        }
        if (!dir)
            return die(PARLAB_EXIT_USAGE, "world %s: which world? give its folder, or set %s",
                       what, MPI_ENV_WORLD);
        const char *why;
        if (parse_path(dir, &why))
            return die(PARLAB_EXIT_USAGE, "world %s '%s'%s: %s", what, dir,
                       from_env ? " (from " MPI_ENV_WORLD ")" : "", why);
        if (!strcmp(what, "status")) {
            unsigned ranks;
            if (mpi_world_status(dir, &ranks, &out))
                return die(out.code, "%s", out.msg);
            if (json)
                json_document(stdout, "world-status",
                              json_pack("[{s:s, s:i}]", "world", dir, "ranks", (int)ranks),
                              json_pack("{s:i, s:i}", "worlds", 1, "ranks", (int)ranks));
            else
                printf("%s: a world of %u ranks\n", dir, ranks);
            return 0;
        }
        int rc = mpi_world_stop(dir, stale, &out);
        if (rc < 0)
            return die(out.code, "%s", out.msg);
        if (rc > 0)
            fprintf(stderr, "# the mpi world at %s has ended; the folder stays: it holds files "
                    "parlab did not make\n", dir);
        else
            fprintf(stderr, "# the mpi world at %s has ended\n", dir);
        return 0;
    }
    if (strcmp(what, "start")) {
        static const char *const actions[] = { "start", "stop", "status", NULL };
        char hint[96];
        return die(PARLAB_EXIT_USAGE, "world: unknown action '%s'%s (start, stop or status)",
                   what, suggest_from(what, actions, hint, sizeof hint));
    }
    uint64_t ranks = 0, idle = 600, cores = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc;
        if ((!strcmp(a, "-j") || !strcmp(a, "--workers")) && v)
            rc = parse_opt_count("-j", v, 1, 4096, &ranks, &out);
        else if (!strcmp(a, "--idle") && v)
            rc = parse_opt_count("--idle", v, 0, 86400 * 7, &idle, &out);
        else if (!strcmp(a, "--cores") && v)
            rc = parse_opt_count("--cores", v, 1, 4096, &cores, &out);
        else
            return die(PARLAB_EXIT_USAGE, "world start: unknown or incomplete option '%s' "
                       "(parlab world --help)", a);
        if (rc)
            return die(out.code, "%s", out.msg);
        i++;
    }
    if (!ranks)
        return die(PARLAB_EXIT_USAGE, "world start: -j N, the rank count, is needed");
    if (cores && cores_option(cores, &out))
        return die(out.code, "%s", out.msg);
    char dir[4096];
    pid_t keeper;
    if (mpi_world_start((unsigned)ranks, (int)idle, dir, sizeof dir, &keeper, &out))
        return die(out.code, "%s", out.msg);
    printf("export %s='%s'\n", MPI_ENV_WORLD, dir);
    int e = out_flushed(stdout);
    if (e) {   /* nobody can find this world: end it rather than leave it running */
        mpi_world_stop(dir, 0, &out);
        return die(PARLAB_EXIT_IO, "writing standard output: %s; the world it started is "
                   "stopped", strerror(-e));
    }
    fprintf(stderr, "# a world of %llu mpi ranks on %u CPUs (keeper pid %d); it ends after "
            "%llu s without a job, or with: parlab world stop\n", (unsigned long long)ranks,
            cpus_allowed(), (int)keeper, (unsigned long long)idle);
    return 0;
}
