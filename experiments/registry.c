/* registry.c: the table of experiments, and the one option parser and command entry that
 * `parlab share`, `parlab pitfall NAME` and `parlab overhead` share. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "experiment.h"
#include "../harness/suggest.h"

const struct experiment *const exp_registry[] = {
    &exp_share,
    &exp_oversubscribe, &exp_cow, &exp_false_sharing, &exp_deadlock, &exp_pickling,
    &exp_chunking,
    &exp_overhead,
    NULL,
};

enum { OPT_OPS = 256, OPT_MB, OPT_REPEAT, OPT_FORMAT, OPT_LOCK_MS, OPT_METHOD, OPT_QUICK,
       OPT_STUDENT };

static const struct option long_opts[] = {
    { "runner", required_argument, 0, 'r' }, { "workers", required_argument, 0, 'j' },
    { "size", required_argument, 0, 'n' }, { "tasks", required_argument, 0, 't' },
    { "ops", required_argument, 0, OPT_OPS }, { "mb", required_argument, 0, OPT_MB },
    { "repeat", required_argument, 0, OPT_REPEAT }, { "format", required_argument, 0, OPT_FORMAT },
    { "lock-ms", required_argument, 0, OPT_LOCK_MS }, { "method", required_argument, 0, OPT_METHOD },
    { "quick", no_argument, 0, OPT_QUICK }, { "help", no_argument, 0, 'h' },
    { "student", required_argument, 0, OPT_STUDENT },
    { 0, 0, 0, 0 },
};

const struct option *exp_options(void)
{
    return long_opts;
}

/* Each option: the EO_ bit an experiment must name to take it, and its help line. */
static const struct {
    int c;
    unsigned bit;
    const char *spelling, *help;
} opt_info[] = {
    { OPT_METHOD, EO_METHOD, "    --method M[,M...]", "the methods to time (default: all)" },
    { 'r', EO_RUNNER, "-r, --runner R", "fork | thread (default: the experiment's own, often both)" },
    { 'j', EO_WORKERS, "-j, --workers W", "workers or children (default: the CPUs this process may use)" },
    { 'n', EO_SIZE, "-n, --size N", "primes size (default 2M)" },
    { 't', EO_TASKS, "-t, --tasks T", "noop tasks (default 1M)" },
    { OPT_OPS, EO_OPS, "    --ops N", "increments per worker (default: the experiment's own)" },
    { OPT_MB, EO_MB, "    --mb M", "array size in MiB (default 256)" },
    { OPT_LOCK_MS, EO_LOCK_MS, "    --lock-ms MS", "lock wait before giving up (default 100)" },
    { OPT_REPEAT, EO_REPEAT, "    --repeat R", "runs (samples) per figure" },
    { OPT_QUICK, EO_QUICK, "    --quick", "smaller sizes (for tests): every row, less time" },
    { OPT_STUDENT, EO_STUDENT, "    --student FILE.so", "a lab's student code, built by make lab-N" },
};

static int default_repeat(const struct experiment *e)
{
    return e->default_repeat ? e->default_repeat : 3;
}

/* The options taken by any experiment of `command`, with their help. */
static void options_help(FILE *f, unsigned bits, int repeat)
{
    for (size_t i = 0; i < sizeof opt_info / sizeof opt_info[0]; i++) {
        if (!(bits & opt_info[i].bit))
            continue;
        fprintf(f, "  %-22s %s", opt_info[i].spelling, opt_info[i].help);
        if (opt_info[i].c == OPT_REPEAT && repeat)
            fprintf(f, " (default %d)", repeat);
        fputc('\n', f);
    }
    fprintf(f, "  %-22s %s\n  %-22s %s\n", "    --format F", "text | csv (one header line, "
            "then one row per figure) | json", "-h, --help", "this help");
}

static void exp_usage(FILE *f, const struct experiment *e)
{
    fprintf(f, "usage: parlab %s%s%s [options]\n  %s\n", e->command,
            strcmp(e->command, e->name) ? " " : "", strcmp(e->command, e->name) ? e->name : "",
            e->summary);
    if (e->help)
        e->help(f);
    fprintf(f, "options:\n");
    options_help(f, e->opts, default_repeat(e));
    fprintf(f, "text output: each figure as mean ± σ and min … max of its runs; "
               "csv: raw numbers, times in ns\n");
}

/* `parlab COMMAND` with several experiments: the list, then the options they take. */
static void group_usage(FILE *f, const char *command)
{
    unsigned bits = 0;
    fprintf(f, "usage: parlab %s NAME [options]\n  the experiments (parlab %s NAME --help "
               "for one):\n", command, command);
    for (const struct experiment *const *e = exp_registry; *e; e++)
        if (strcmp((*e)->command, command) == 0) {
            fprintf(f, "  %-14s %s\n", (*e)->name, (*e)->summary);
            bits |= (*e)->opts;
        }
    fprintf(f, "options (each takes those that apply to it):\n");
    options_help(f, bits, 3);
}

/* Parse argv (argv[0] is the command or the experiment's name) into o. Returns 0 to run
 * the experiment, PARSE_HELP for --help, or -1 with oc filled (64). */
static int parse(const struct experiment *e, int argc, char **argv, struct exp_opts *o,
                 struct outcome *oc)
{
    unsigned maxw = e->max_workers ? e->max_workers : 4096;
    uint64_t v = 0;
    int c, st;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":r:j:n:t:h", long_opts, NULL)) != -1) {
        if (c == ':')
            return fail_msg(oc, PARLAB_EXIT_USAGE, "option %s needs a value",
                            argv[optind - 1]);
        if (c == '?')
            return suggest_unknown_option(argv[optind - 1], optopt, long_opts, e->command, oc);
        for (size_t i = 0; i < sizeof opt_info / sizeof opt_info[0]; i++)
            if (opt_info[i].c == c && !(e->opts & opt_info[i].bit)) {
                const char *name = "?";
                for (const struct option *op = long_opts; op->name; op++)
                    if (op->val == c)
                        name = op->name;
                return fail_msg(oc, PARLAB_EXIT_USAGE, "--%s %s: %s%s%s takes no such option",
                                name, optarg ? optarg : "",
                                strcmp(e->command, e->name) ? e->command : "",
                                strcmp(e->command, e->name) ? " " : "", e->name);
            }
        st = 0;
        switch (c) {
        case 'r': {
            enum pool_kind k;
            if (!(st = bench_opt_pool("--runner", optarg, &k, oc)))
                o->kinds = k == POOL_FORK ? 1 : 2;
            break;
        }
        case 'j':
            st = parse_opt_count("-j", optarg, 1, maxw, &v, oc);
            o->workers = (unsigned)v;
            break;
        case 'n': st = parse_opt_count("-n", optarg, 1000, 1000000000ull, &o->size, oc); break;
        case 't': st = parse_opt_count("-t", optarg, 1, 1u << 24, &o->tasks, oc); break;
        case OPT_OPS:
            st = parse_opt_count("--ops", optarg, 1, 10000000000ull, &o->ops, oc);
            o->ops_set = 1;
            break;
        case OPT_MB: st = parse_opt_count("--mb", optarg, 1, 1u << 16, &o->mb, oc); break;
        case OPT_LOCK_MS:
            st = parse_opt_count("--lock-ms", optarg, 1, 60000, &o->lock_ms, oc);
            break;
        case OPT_REPEAT:
            st = parse_opt_count("--repeat", optarg, 1, EXP_MAX_REPEAT, &v, oc);
            o->R = (int)v;
            break;
        case OPT_FORMAT: st = out_format_opt(optarg, &o->tab.fmt, oc); break;
        case OPT_METHOD: o->method = optarg; break;
        case OPT_QUICK: o->quick = 1; break;
        case OPT_STUDENT: o->student = optarg; break;
        case 'h': return PARSE_HELP;
        default:
            return suggest_unknown_option(argv[optind - 1], optopt, long_opts, e->command, oc);
        }
        if (st)
            return st;
    }
    if (optind < argc)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "unexpected argument '%s' (parlab %s --help)",
                        argv[optind], e->command);
    return 0;
}

/* Parse, then run e: the defaults every experiment starts from, then its own. The one
 * place an experiment's failure is printed and its exit status chosen (the command
 * layer, as its name says). */
static int cmd_exp_run(const struct experiment *e, int argc, char **argv)
{
    struct exp_opts o = { .kinds = e->default_kinds ? e->default_kinds : 3,
                          .workers = cpus_allowed(), .size = 2000000, .tasks = 1000000,
                          .ops = 5000000, .mb = 256, .lock_ms = 100, .R = default_repeat(e) };
    struct outcome oc = { 0 };
    int st;
    o.tab = (struct exp_table){ .f = stdout, .fmt = OUT_TEXT, .command = e->command,
                                .experiment = e->name };
    st = parse(e, argc, argv, &o, &oc);
    if (st == PARSE_HELP) {
        exp_usage(stdout, e);
        return 0;
    }
    if (st)
        return die(oc.code, "%s", oc.msg);
    unsigned maxw = e->max_workers ? e->max_workers : 4096;
    if (o.workers > maxw)          /* the CPUs of a big machine, past what e can take */
        o.workers = maxw;
    machine_read(&o.machine);
    o.tab.host = o.machine.host;
    /* The experiment's own options, checked where its run begins: a refusal there has
     * always ended a JSON run with its (empty) document, as any failed run does. */
    if ((e->check && e->check(&o, &oc)) || e->run(&o, &oc))
        st = die(oc.code, "%s", oc.msg);
    else
        st = o.tab.wrong ? PARLAB_EXIT_WRONG : PARLAB_EXIT_OK;
    exp_end(&o.tab);   /* JSON: the document, with the rows so far after a failure too */
    return st;
}

/* `parlab COMMAND [NAME] [options]`: COMMAND is one experiment (share, overhead) or names
 * a group of them (pitfall), one of which NAME picks. */
static int cmd_exp(const char *command, int argc, char **argv)
{
    const struct experiment *one = NULL;
    for (const struct experiment *const *e = exp_registry; *e; e++)
        if (strcmp((*e)->command, command) == 0 && strcmp((*e)->name, command) == 0)
            one = *e;
    if (one)
        return cmd_exp_run(one, argc, argv);
    if (argc < 2) {
        printf("%s experiments (parlab %s NAME):\n", command, command);
        for (const struct experiment *const *e = exp_registry; *e; e++)
            if (strcmp((*e)->command, command) == 0)
                printf("  %-14s %s\n", (*e)->name, (*e)->summary);
        return 0;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        group_usage(stdout, command);
        return 0;
    }
    for (const struct experiment *const *e = exp_registry; *e; e++)
        if (strcmp((*e)->command, command) == 0 && strcmp((*e)->name, argv[1]) == 0)
            return cmd_exp_run(*e, argc - 1, argv + 1);
    struct suggest sg;
    char hint[96];
    suggest_init(&sg, argv[1]);
    for (const struct experiment *const *e = exp_registry; *e; e++)
        if (strcmp((*e)->command, command) == 0)
            suggest_add(&sg, (*e)->name);
    return die(PARLAB_EXIT_USAGE, "unknown %s '%s'%s (parlab %s lists them)", command, argv[1],
               suggest_hint(&sg, hint, sizeof hint), command);
}

int cmd_share(int argc, char **argv)
{
    return cmd_exp("share", argc, argv);
}

int cmd_pitfall(int argc, char **argv)
{
    return cmd_exp("pitfall", argc, argv);
}

int cmd_overhead(int argc, char **argv)
{
    return cmd_exp("overhead", argc, argv);
}
