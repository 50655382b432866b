/* bench_cmd.c: `parlab bench`: the whole bench (scripts/bench.sh) from wherever parlab is,
 * an installed copy included: the scripts are looked up beside the binary, in
 * ../share/parlab/scripts (make install) or ../scripts (the source tree), and run with
 * PARLAB naming this very binary and the run folders under ./results. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "parse.h"
#include "suggest.h"

static void bench_usage(FILE *f)
{
    fprintf(f,
        "usage: parlab bench [--quick | --full]\n"
        "  sweep every workload and runner over the core counts and worker counts, then\n"
        "  plot and write the report: ./results/<date>-<time>-<host>/index.html, with\n"
        "  ./results/latest pointing at it (PARLAB_RESULTS=DIR for another folder)\n"
        "  --quick  fewer runs, smaller sizes (about 3 minutes on 2 cores)\n"
        "  --full   larger sizes, more runs, every core count\n"
        "  needs hyperfine, gnuplot, jq and awk (scripts/deps.sh bench installs them)\n");
}

/* The folder of this binary, resolved (a symlink to it finds the real one). Returns 0,
 * or -errno (-ENOENT where the link reads empty or without a folder). */
static int self_dir(char *dir, size_t n, char *exe, size_t en)
{
    ssize_t len = readlink("/proc/self/exe", exe, en - 1);
    if (len <= 0)
        return len < 0 && errno ? -errno : -ENOENT;
    exe[len] = '\0';
    snprintf(dir, n, "%s", exe);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -ENOENT;
    *slash = '\0';
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    static const char *const opts[] = { "--quick", "--full", "--help", NULL };
    char *args[4];
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            bench_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--quick") && strcmp(argv[i], "--full")) {
            char hint[96];
            return die(PARLAB_EXIT_USAGE, "bench: unknown option '%s'%s (parlab bench --help)",
                       argv[i], suggest_from(argv[i], opts, hint, sizeof hint));
        }
        if (n > 1)
            return die(PARLAB_EXIT_USAGE, "bench: one of --quick and --full");
        args[n++] = argv[i];
    }
    args[n] = NULL;

    char dir[PATH_MAX], exe[PATH_MAX], script[PATH_MAX + 64], cwd[PATH_MAX], res[PATH_MAX + 16];
    int e = self_dir(dir, sizeof dir, exe, sizeof exe);
    if (e)
        return die(PARLAB_EXIT_OS, "bench: cannot find this binary (/proc/self/exe): %s",
                   strerror(-e));
    static const char *const places[] = { "../share/parlab/scripts", "../scripts" };
    int found = 0;
    for (size_t i = 0; i < sizeof places / sizeof places[0] && !found; i++) {
        snprintf(script, sizeof script, "%s/%s/bench.sh", dir, places[i]);
        found = access(script, X_OK) == 0;
    }
    if (!found)
        return die(PARLAB_EXIT_SOFTWARE, "bench: no bench.sh in %s/../share/parlab/scripts or "
                   "%s/../scripts (make install puts it there)", dir, dir);
    if (!getcwd(cwd, sizeof cwd))
        return die(PARLAB_EXIT_OS, "bench: the current directory: %s", strerror(errno));
    const char *why;
    if (parse_path(cwd, &why) || strchr(cwd, ' ') || strchr(exe, ' '))
        return die(PARLAB_EXIT_USAGE, "bench: '%s': %s", strchr(exe, ' ') ? exe : cwd,
                   parse_path(cwd, &why) ? why : "a path with spaces (hyperfine splits on them)");
    snprintf(res, sizeof res, "%s/results", cwd);
    const char *given = getenv("PARLAB_RESULTS");
    if ((!given || !*given) && setenv("PARLAB_RESULTS", res, 1))
        return die(PARLAB_EXIT_OS, "bench: setenv: %s", strerror(errno));
    if (setenv("PARLAB", exe, 1))
        return die(PARLAB_EXIT_OS, "bench: setenv: %s", strerror(errno));
    args[0] = script;
    fflush(NULL);
    execv(script, args);
    return die(PARLAB_EXIT_OS, "bench: cannot run %s: %s", script, strerror(errno));
}
