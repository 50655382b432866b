/* main.c: the parlab command line: a table of subcommands, usage and exit statuses. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "suggest.h"
#include "../lib/pool.h"

static void csv_size(uint64_t v)
{
    if (v)
        printf("%llu", (unsigned long long)v);
    putchar(',');
}

/* A CSV field in double quotes, quotes doubled (RFC 4180). */
static void csv_quoted(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"')
            putchar('"');
        putchar(*s);
    }
    printf("\"\n");
}

/* Print the registry for scripts: one row per workload, then one per runner (docs/cli.md: the
 * columns). Returns nothing: a failed write shows when main closes stdout (out_finish). */
static void list_csv(void)
{
    static const char *const kinds[] = { "cpu", "io", "none" };
    static const struct { unsigned flag; const char *name; } flags[] = {
        { RUNNER_PARALLEL, "parallel" }, { RUNNER_PROCESSES, "processes" },
        { RUNNER_OWN_TIMEOUT, "own-timeout" }, { RUNNER_HAS_LOOPS, "loops" },
        { RUNNER_EXTERNAL, "external" },
    };
    char why[300];
    printf("type,name,kind,default_size,min_size,max_size,default_tasks,default_steps,"
           "test_size,tiny_size,quick_size,bench_size,full_size,tiny_args,bench_args,check,"
           "schedules,flags,weak_size,unit,ladder,summary\n");
    for (const struct workload *const *w = wl_registry; *w; w++) {
        const struct workload *wl = *w;
        printf("workload,%s,%s,", wl->name, kinds[wl->kind]);
        csv_size(wl->default_size);
        csv_size(wl->min_size);
        csv_size(wl->max_size);
        if (wl->split == WL_SPLIT_ITEMS)
            printf("size,");
        else
            csv_size(wl->default_tasks);
        csv_size(wl->default_steps);
        csv_size(wl->sizes.test);
        csv_size(wl->sizes.tiny);
        csv_size(wl->sizes.quick);
        csv_size(wl->sizes.bench);
        csv_size(wl->sizes.full);
        /* make compare's ladder, for the workloads it times (CPU) or that set one (noop) */
        uint64_t ladder[WL_LADDER_MAX];
        int nl = wl->kind == WL_CPU || wl->ladder ? wl_ladder(wl, ladder, WL_LADDER_MAX) : 0;
        printf("%s,%s,%s,,%s,", wl->tiny_args ? wl->tiny_args : "",
               wl->bench_args ? wl->bench_args : "", wl->check,
               wl_flag_names(wl, why, sizeof why));
        csv_size(wl->sizes.weak);
        printf("%s,", wl->unit ? wl->unit : "");
        for (int i = 0; i < nl; i++)
            printf("%s%llu", i ? " " : "", (unsigned long long)ladder[i]);
        putchar(',');
        csv_quoted(wl->summary);
    }
    for (const struct runner *const *r = runner_registry; *r; r++) {
        const char *sep = "";
        if (!runner_usable(*r, why, sizeof why))
            continue;   /* not built here (the text form says how to get it) */
        printf("runner,%s,,,,,,,,,,,,,,,", (*r)->name);
        for (int k = 0; k < SCHED__COUNT; k++)
            if ((*r)->schedules & SCHED_BIT(k)) {
                printf("%s%s", sep, sched_name((enum sched_kind)k));
                sep = " ";
            }
        putchar(',');
        sep = "";
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
            if ((*r)->flags & flags[i].flag) {
                printf("%s%s", sep, flags[i].name);
                sep = " ";
            }
        printf(",,,,");
        csv_quoted((*r)->summary);
    }
}

/* A size for JSON: null where the workload has none (0). */
static json_t *json_size(uint64_t v)
{
    return v ? json_integer((json_int_t)v) : json_null();
}

/* Print the registry as one document (kind "list"): the CSV's rows, each field typed, and
 * the runners that cannot run here too, with why (usable false). Returns nothing, as
 * list_csv. */
static void list_json(void)
{
    static const char *const kinds[] = { "cpu", "io", "none" };
    static const struct { unsigned flag; const char *name; } flags[] = {
        { RUNNER_PARALLEL, "parallel" }, { RUNNER_PROCESSES, "processes" },
        { RUNNER_OWN_TIMEOUT, "own-timeout" }, { RUNNER_HAS_LOOPS, "loops" },
        { RUNNER_EXTERNAL, "external" },
    };
    json_t *rows = json_array();
    int nw = 0, nr = 0, usable = 0;
    char why[300];
    for (const struct workload *const *w = wl_registry; *w; w++, nw++) {
        const struct workload *wl = *w;
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "type", "workload", "name", wl->name,
                              "kind", kinds[wl->kind], "summary", wl->summary);
        json_object_set_new(o, "default_size", json_size(wl->default_size));
        json_object_set_new(o, "min_size", json_size(wl->min_size));
        json_object_set_new(o, "max_size", json_size(wl->max_size));
        /* items workloads: one task per item, so the task count is the size */
        json_object_set_new(o, "default_tasks", wl->split == WL_SPLIT_ITEMS
                            ? json_string("size") : json_size(wl->default_tasks));
        json_object_set_new(o, "default_steps", json_size(wl->default_steps));
        json_t *sizes = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "test",
                                  json_size(wl->sizes.test), "tiny", json_size(wl->sizes.tiny),
                                  "quick", json_size(wl->sizes.quick), "bench",
                                  json_size(wl->sizes.bench), "full", json_size(wl->sizes.full),
                                  "weak", json_size(wl->sizes.weak));
        json_object_set_new(o, "sizes", sizes);
        json_object_set_new(o, "tiny_args", json_string(wl->tiny_args ? wl->tiny_args : ""));
        json_object_set_new(o, "bench_args", json_string(wl->bench_args ? wl->bench_args : ""));
        json_object_set_new(o, "check", json_string(wl->check));
        json_t *fl = json_array(), *lad = json_array();
        uint64_t ladder[WL_LADDER_MAX];
        int nl = wl->kind == WL_CPU || wl->ladder ? wl_ladder(wl, ladder, WL_LADDER_MAX) : 0;
        for (char *f = strtok(wl_flag_names(wl, why, sizeof why), " "); f; f = strtok(NULL, " "))
            json_array_append_new(fl, json_string(f));
        for (int i = 0; i < nl; i++)
            json_array_append_new(lad, json_integer((json_int_t)ladder[i]));
        json_object_set_new(o, "flags", fl);
        json_object_set_new(o, "unit", wl->unit ? json_string(wl->unit) : json_null());
        if (nl > 0) {
            json_object_set_new(o, "ladder", lad);
        } else {
            json_decref(lad);
            json_object_set_new(o, "ladder", json_null());
        }
        json_array_append_new(rows, o);
    }
    for (const struct runner *const *r = runner_registry; *r; r++, nr++) {
        int ok = runner_usable(*r, why, sizeof why);
        json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "type", "runner", "name", (*r)->name,
                              "summary", (*r)->summary, "usable", ok);
        json_t *sch = json_array(), *fl = json_array();
        for (int k = 0; k < SCHED__COUNT; k++)
            if ((*r)->schedules & SCHED_BIT(k))
                json_array_append_new(sch, json_string(sched_name((enum sched_kind)k)));
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
            if ((*r)->flags & flags[i].flag)
                json_array_append_new(fl, json_string(flags[i].name));
        json_object_set_new(o, "schedules", sch);
        json_object_set_new(o, "flags", fl);
        json_object_set_new(o, "why", ok ? json_null() : json_string(why));
        usable += ok;
        json_array_append_new(rows, o);
    }
    json_document(stdout, "list", rows,
                  json_pack("{s:i, s:i, s:i}", "workloads", nw, "runners", nr, "usable_runners",
                            usable));
}

int cmd_list(int argc, char **argv)
{
    static const char *const kinds[] = { "cpu", "io", "none" };
    enum out_format fmt_kind = OUT_TEXT;
    char why[300];
    for (int i = 1; i < argc; i++) {
        const char *fmt = NULL;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: parlab list [--format text|csv|json]\n"
                   "  the workloads and runners, one a line, with a summary;\n"
                   "  csv: one row each with the sizes and flags scripts use (docs/cli.md);\n"
                   "  json: the same as one document (results/README.md)\n");
            return 0;
        }
        if (strncmp(argv[i], "--format=", 9) == 0)
            fmt = argv[i] + 9;
        else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
            fmt = argv[++i];
        else if (strcmp(argv[i], "--format") == 0)
            return die(PARLAB_EXIT_USAGE, "option --format needs a value");
        else
            return die(PARLAB_EXIT_USAGE, "list: unexpected argument '%s'", argv[i]);
        struct outcome oc = { 0 };
        if (out_format_opt(fmt, &fmt_kind, &oc))
            return die(oc.code, "%s", oc.msg);
    }
    for (const struct workload *const *w = wl_registry; *w; w++)
        if (wl_check(*w, why, sizeof why))
            return die(PARLAB_EXIT_SOFTWARE, "%s (workloads/%s.c)", why, (*w)->name);
    if (fmt_kind == OUT_CSV) {
        list_csv();
        return 0;
    }
    if (fmt_kind == OUT_JSON) {
        list_json();
        return 0;
    }
    printf("workloads:\n");
    for (const struct workload *const *w = wl_registry; *w; w++)
        printf("  %-12s %-4s %s\n", (*w)->name, kinds[(*w)->kind], (*w)->summary);
    printf("runners:\n");
    for (const struct runner *const *r = runner_registry; *r; r++)
        if (runner_usable(*r, why, sizeof why))
            printf("  %-12s %s\n", (*r)->name, (*r)->summary);
    /* Runners that cannot run here follow, unindented, so that scripts reading the
     * indented lines see only runners they can use. */
    for (const struct runner *const *r = runner_registry; *r; r++)
        if (!runner_usable(*r, why, sizeof why))
            printf("%s runner: %s\n", (*r)->name, why);
    return 0;
}

const struct command commands[] = {
    { "list", "list the workloads and runners, one a line", cmd_list },
    { "run", "run a workload under a runner, verified and timed", cmd_run },
    { "overhead", "what each building block costs: fork, threads, pools, dispatch, wake-ups, locks", cmd_overhead },
    { "share", "ways to combine a count across workers: none, lock, atomic, local, pipe, manager", cmd_share },
    { "pitfall", "the classic mistakes, run and measured (parlab pitfall lists them)", cmd_pitfall },
    { "race", "the lost update step by step, in an order you choose: counter, manager, array", cmd_race },
    { "world", "mpi ranks started once and kept for many runs: start, stop, status", cmd_world },
    { "bench", "the whole bench: sweeps, plots and a report in ./results", cmd_bench },
    { "completion", "a bash completion for parlab: parlab completion bash", cmd_completion },
    { NULL, NULL, NULL },
};

static void usage(FILE *f)
{
    fprintf(f, "usage: parlab COMMAND [options]\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(f, "  %-12s %s\n", c->name, c->summary);
    fprintf(f, "\noptions:\n"
               "  -h, --help     this help\n"
               "  -V, --version  the version and the commit it was built from\n"
               "\nexamples:\n"
               "  parlab run -w primes -r thread -n 2M --repeat 5\n"
               "  parlab COMMAND --help   the options of one command\n");
}

/* A runner that cannot return (libgomp calls exit()) ends the process through here. */
static void main_fatal(int code, const char *msg)
{
    fflush(stdout);
    die(code, "%s", msg);
    _exit(code);
}

int main(int argc, char **argv)
{
    pool_worker_entry(argc, argv);   /* a spawned pool worker runs there and never returns */
    guard_install();   /* first: a signal in the first milliseconds ends the run cleanly too */
    outcome_fatal_hook = main_fatal;
    if (argc < 2) {
        usage(stderr);
        return PARLAB_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return out_finish(0);
    }
    if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        print_version(stdout);
        return out_finish(0);
    }
    for (const struct command *c = commands; c->name; c++)
        if (strcmp(argv[1], c->name) == 0) {
            /* Every command's output is checked here, once: what it printed must have
             * reached stdout (a full disk, /dev/full), or the exit status says it did not. */
            int rc = out_finish(c->fn(argc - 1, argv + 1));
            guard_exiting();   /* a signal during exit (atexit, sanitizers) changes nothing */
            return rc;
        }
    struct suggest sg;
    char hint[96];
    suggest_init(&sg, argv[1]);
    for (const struct command *c = commands; c->name; c++)
        suggest_add(&sg, c->name);
    if (argv[1][0] == '-') {   /* a mistyped --help or --version */
        suggest_add(&sg, "--help");
        suggest_add(&sg, "--version");
        return die(PARLAB_EXIT_USAGE, "unknown option '%s'%s (parlab --help)", argv[1],
                   suggest_hint(&sg, hint, sizeof hint));
    }
    return die(PARLAB_EXIT_USAGE, "unknown command '%s'%s (parlab --help)", argv[1],
               suggest_hint(&sg, hint, sizeof hint));
}
