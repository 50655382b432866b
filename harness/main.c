/* main.c: the parlab command line: a table of subcommands, usage and exit statuses. */
#include <stdio.h>
#include <string.h>
#include "harness.h"

int cmd_list(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: parlab list\n  the workloads and runners, one a line, with a summary\n");
        return 0;
    }
    if (argc > 1)
        return die(PARLAB_EXIT_USAGE, "list: unexpected argument '%s'", argv[1]);
    static const char *const kinds[] = { "cpu", "io", "none" };
    printf("workloads:\n");
    for (const struct workload *const *w = wl_registry; *w; w++)
        printf("  %-12s %-4s %s\n", (*w)->name, kinds[(*w)->kind], (*w)->summary);
    printf("runners:\n");
    for (const struct runner *const *r = runner_registry; *r; r++)
        printf("  %-12s %s\n", (*r)->name, (*r)->summary);
    return 0;
}

const struct command commands[] = {
    { "list", "list the workloads and runners, one a line", cmd_list },
    { "run", "run a workload under a runner, verified and timed", cmd_run },
    { "overhead", "what each building block costs: fork, threads, pools, dispatch, wake-ups, locks", cmd_overhead },
    { "share", "ways to combine a count across workers: none, lock, atomic, local, pipe, manager", cmd_share },
    { "pitfall", "the classic mistakes, run and measured (parlab pitfall lists them)", cmd_pitfall },
    { NULL, NULL, NULL },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: parlab COMMAND [options]\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(f, "  %-10s %s\n", c->name, c->summary);
    fprintf(f, "\n  parlab run -w primes -r thread -n 2M --repeat 5\n"
               "  parlab COMMAND --help   options of one command\n"
               "  -h, --help     this help      -V, --version  the version\n");
}

int main(int argc, char **argv)
{
    guard_install();   /* first: a signal in the first milliseconds ends the run cleanly too */
    if (argc < 2) {
        usage(stderr);
        return PARLAB_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("parlab %s\n", PARLAB_VERSION);
        return 0;
    }
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0) {
            int rc = c->fn(argc - 1, argv + 1);
            guard_exiting();   /* a signal during exit (atexit, sanitizers) changes nothing */
            return rc;
        }
    return die(PARLAB_EXIT_USAGE, "unknown command '%s' (parlab --help)", argv[1]);
}
