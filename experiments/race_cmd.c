/* race_cmd.c: `parlab race`: the lost update replayed step by step under an order the
 * student chooses (or one drawn from a printed seed), as OSTEP's x86.py does for its
 * threads: the trace, the final count against the expected one, and with --reveal every
 * lost update with the store that dropped it and the stale read behind that store. The
 * interpreter is race.c; this file is the options and the three output formats. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "race.h"
#include "../harness/harness.h"
#include "../harness/parse.h"
#include "../harness/suggest.h"

enum { OPT_CASE = 256, OPT_FIXED, OPT_ORDER, OPT_SEED, OPT_REVEAL, OPT_FORMAT };

static const struct option long_opts[] = {
    { "case", required_argument, 0, OPT_CASE }, { "fixed", no_argument, 0, OPT_FIXED },
    { "workers", required_argument, 0, 'j' }, { "increments", required_argument, 0, 'n' },
    { "order", required_argument, 0, OPT_ORDER }, { "seed", required_argument, 0, OPT_SEED },
    { "reveal", no_argument, 0, OPT_REVEAL }, { "format", required_argument, 0, OPT_FORMAT },
    { "help", no_argument, 0, 'h' },
    { 0, 0, 0, 0 },
};

const struct option *race_options(void)
{
    return long_opts;
}

/* text on f from column `indent` (the first line's indent already printed), words wrapped
 * before column 88. */
static void wrap(FILE *f, int indent, const char *text)
{
    int col = indent;
    while (*text) {
        int len = (int)strcspn(text, " ");
        if (col > indent && col + 1 + len > 88) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%.*s", len, text);
        col += len;
        text += len;
        text += strspn(text, " ");
    }
    fputc('\n', f);
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: parlab race [--case C] [--fixed] [-j W] [-n N] [--order LETTERS | --seed S]\n"
        "                   [--reveal] [--format text|csv|json]\n"
        "  replay W workers' read-modify-write steps one at a time, in the order you give\n"
        "  (or one drawn from a seed, printed so that it replays), and see who read what,\n"
        "  who wrote what, and the final count against the expected one\n"
        "cases (each step of an increment is one letter of --order):\n");
    for (int c = 0; c < RACE__COUNT; c++) {
        const struct race_case_info *ci = race_case_info((enum race_case)c);
        for (int fixed = 0; fixed < 2; fixed++) {
            enum race_op ops[5];
            unsigned n = race_program((enum race_case)c, fixed, ops);
            fprintf(f, "  %-8s %-7s", fixed ? "" : ci->name, fixed ? "--fixed" : "racy");
            for (unsigned i = 0; i < n; i++)
                fprintf(f, "%s %s", i ? "," : "", race_op_name(ops[i]));
            fprintf(f, "\n%*s", 19, "");
            wrap(f, 19, ci->code[fixed]);
        }
    }
    fprintf(f,
        "options:\n"
        "  --case C             counter | manager | array (default counter)\n"
        "  --fixed              the fixed version: under every order, no update is lost\n"
        "  -j, --workers W      workers, 2 to %d, named A, B, C ... (default 2)\n"
        "  -n, --increments N   increments per worker, 1 to %d (default 2)\n"
        "      --order LETTERS  one letter per step: ABBA is A, then B twice, then A; it names\n"
        "                       every step (each worker: N x its case's steps); a worker that\n"
        "                       waits for a lock another holds cannot be named\n"
        "      --seed S         an order drawn from S (0 to 2^53-1); without --order or --seed,\n"
        "                       from a fresh seed, printed\n"
        "      --reveal         each lost update: the store that dropped it and the stale read\n"
        "                       that store was built on (csv, json: the stale and lost fields)\n"
        "      --format F       text | csv (one header, one row per step) | json\n"
        "  -h, --help           this help\n"
        "exit status: 0 (lost updates are what it shows), 64 usage, 70 a fixed version lost\n"
        "an update (a bug in parlab)\n", RACE_MAX_WORKERS, RACE_MAX_INCREMENTS);
}

struct race_cli {
    struct race_spec spec;
    const char *order;     /* --order, or NULL */
    uint64_t seed;
    int seeded;            /* --seed given */
    int reveal;
    enum out_format fmt;
};

/* A seed for a run with neither --order nor --seed: 9 digits at most, easy to retype. */
static uint64_t fresh_seed(void)
{
    uint64_t s;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s)
        s = (uint64_t)time(NULL) * 1000003u ^ (uint64_t)getpid();
    return s % 1000000000u;
}

/* The options into o. Returns 0 to run, PARSE_HELP for --help, or -1 with oc filled
 * (64). */
static int parse(int argc, char **argv, struct race_cli *o, struct outcome *oc)
{
    uint64_t v = 0;
    int c, st;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":j:n:h", long_opts, NULL)) != -1) {
        st = 0;
        switch (c) {
        case ':':
            return fail_msg(oc, PARLAB_EXIT_USAGE, "option %s needs a value",
                            argv[optind - 1]);
        case OPT_CASE: {
            int k = race_case_find(optarg);
            if (k < 0) {
                static const char *const names[] = { "counter", "manager", "array", NULL };
                char hint[96];
                return fail_msg(oc, PARLAB_EXIT_USAGE,
                                "--case %s: unknown case%s (counter, manager, array)", optarg,
                                suggest_from(optarg, names, hint, sizeof hint));
            }
            o->spec.c = (enum race_case)k;
            break;
        }
        case OPT_FIXED: o->spec.fixed = 1; break;
        case 'j':
            st = parse_opt_count("-j", optarg, 2, RACE_MAX_WORKERS, &v, oc);
            o->spec.workers = (unsigned)v;
            break;
        case 'n':
            st = parse_opt_count("-n", optarg, 1, RACE_MAX_INCREMENTS, &v, oc);
            o->spec.increments = (unsigned)v;
            break;
        case OPT_ORDER: o->order = optarg; break;
        case OPT_SEED:
            st = parse_opt_count("--seed", optarg, 0, RACE_MAX_SEED, &o->seed, oc);
            o->seeded = 1;
            break;
        case OPT_REVEAL: o->reveal = 1; break;
        case OPT_FORMAT: st = out_format_opt(optarg, &o->fmt, oc); break;
        case 'h': return PARSE_HELP;
        default:
            return suggest_unknown_option(argv[optind - 1], optopt, long_opts, "race", oc);
        }
        if (st)
            return st;
    }
    if (optind < argc)
        return fail_msg(oc, PARLAB_EXIT_USAGE,
                        "race: unexpected argument '%s' (parlab race --help)", argv[optind]);
    if (o->order && o->seeded)
        return fail_msg(oc, PARLAB_EXIT_USAGE,
                        "race: --order or --seed, not both: a seed draws an order");
    return 0;
}

/* "parlab race --case counter -j 2 -n 2" and --fixed: what replays this run, less its
 * order or seed. */
static void replay_args(const struct race_cli *o, char *buf, size_t n)
{
    snprintf(buf, n, "parlab race --case %s%s -j %u -n %u", race_case_info(o->spec.c)->name,
             o->spec.fixed ? " --fixed" : "", o->spec.workers, o->spec.increments);
}

/* "A #1": the worker's letter and which of its increments the step belongs to. */
static void who(char *buf, size_t n, unsigned worker, unsigned increment)
{
    snprintf(buf, n, "%c #%u", 'A' + worker, increment);
}

static int has_register(enum race_op op)
{
    return op != RACE_ACQUIRE && op != RACE_RELEASE;
}

/* The text form: the code, the order and how to replay it, the trace, the count. */
static void print_text(const struct race_cli *o, const struct race_run *r)
{
    const struct race_case_info *ci = race_case_info(o->spec.c);
    char again[160], w[16];
    replay_args(o, again, sizeof again);
    printf("# race: %s, %s: %u workers x %u increment%s, %u steps a worker (%u an "
           "increment)\n", ci->name, o->spec.fixed ? "fixed" : "racy", o->spec.workers,
           o->spec.increments, o->spec.increments == 1 ? "" : "s", r->per_worker, r->prog_len);
    printf("# the code: %s\n", ci->code[o->spec.fixed]);
    if (o->order)
        printf("# order: %s\n", r->order);
    else
        printf("# order (seed %llu): %s\n# replay: %s --seed %llu\n",
               (unsigned long long)o->seed, r->order, again, (unsigned long long)o->seed);
    printf("%5s  %-6s  %-34s %8s %8s%s\n", "step", "worker", "does", "register", "shared",
           o->reveal ? "  why" : "");
    for (unsigned i = 0; i < r->nsteps; i++) {
        const struct race_step *s = &r->steps[i];
        char does[80], reg[24] = "-";
        const char *word = ci->word[s->op];
        if (s->op == RACE_LOAD)
            snprintf(does, sizeof does, "%s (reads %ld)", word, s->reg);
        else if (s->op == RACE_STORE || s->op == RACE_FETCH_ADD)
            snprintf(does, sizeof does, "%s (writes %ld)", word, s->shared);
        else
            snprintf(does, sizeof does, "%s", word);
        if (has_register(s->op))
            snprintf(reg, sizeof reg, "%ld", s->reg);
        who(w, sizeof w, s->worker, s->increment);
        printf("%5u  %-6s  %-34s %8s %8ld", i + 1, w, does, reg, s->shared);
        if (o->reveal && s->op == RACE_STORE && s->stale)
            printf("  stale: its read (step %u) missed %u store%s", s->load_at, s->stale,
                   s->stale == 1 ? "" : "s");
        if (o->reveal && s->dropped)
            printf("%s %u update%s lost for good", s->stale ? ";" : "  ", s->dropped,
                   s->dropped == 1 ? "" : "s");
        putchar('\n');
    }
    printf("# final count %ld, expected %ld (%u workers x %u increment%s)", r->final,
           r->expected, o->spec.workers, o->spec.increments, o->spec.increments == 1 ? "" : "s");
    if (!o->reveal) {
        printf("%s\n", r->final == r->expected ? "" : "; --reveal shows which updates were "
               "lost, and why");
        return;
    }
    if (r->nlost == 0) {
        printf(": no update lost%s\n", o->spec.fixed
               ? ": each read-modify-write ran whole, so every store was built on the latest value"
               : " under this order: another order may lose some");
        return;
    }
    printf(": %u update%s lost\n", r->nlost, r->nlost == 1 ? "" : "s");
    for (unsigned i = 0; i < r->nlost; i++) {
        const struct race_lost *l = &r->lost[i];
        const struct race_step *over = &r->steps[l->overwritten_at - 1],
                               *held = &r->steps[l->held_until - 1];
        char by[16];
        who(w, sizeof w, l->worker, l->increment);
        who(by, sizeof by, over->worker, over->increment);
        printf("#   %s's update (its store at step %u", w, l->stored_at);
        if (l->held_until != l->stored_at) {
            char h[16];
            who(h, sizeof h, held->worker, held->increment);
            printf("; last held by %s's store of %ld at step %u", h, held->shared,
                   l->held_until);
        }
        printf(") was overwritten at step %u by %s's store of %ld,\n#     built on its read of "
               "%ld at step %u: a stale read, taken before step %u's store\n",
               l->overwritten_at, by, over->shared, r->steps[l->stale_load_at - 1].reg,
               l->stale_load_at, l->held_until);
    }
}

static void print_csv(const struct race_cli *o, const struct race_run *r)
{
    const char *name = race_case_info(o->spec.c)->name, *version = o->spec.fixed ? "fixed" : "racy";
    printf("case,version,step,worker,increment,op,register,shared,reads_step,stale,lost\n");
    for (unsigned i = 0; i < r->nsteps; i++) {
        const struct race_step *s = &r->steps[i];
        int reads = s->op == RACE_LOAD || s->op == RACE_STORE || s->op == RACE_FETCH_ADD;
        printf("%s,%s,%u,%c,%u,%s,", name, version, i + 1, 'A' + s->worker, s->increment,
               race_op_name(s->op));
        if (has_register(s->op))
            printf("%ld", s->reg);
        printf(",%ld,", s->shared);
        if (reads)
            printf("%u", s->reads);
        putchar(',');
        if (o->reveal && s->op == RACE_STORE)
            printf("%u", s->stale);
        putchar(',');
        if (o->reveal && (s->op == RACE_STORE || s->op == RACE_FETCH_ADD))
            printf("%u", s->dropped);
        putchar('\n');
    }
}

/* An integer field, or null where it does not apply. */
static json_t *int_or_null(int applies, long v)
{
    return applies ? json_integer(v) : json_null();
}

static void print_json(const struct race_cli *o, const struct race_run *r)
{
    const struct race_case_info *ci = race_case_info(o->spec.c);
    json_t *rows = json_array(), *lost = o->reveal ? json_array() : json_null();
    char w[2] = "A";
    for (unsigned i = 0; i < r->nsteps; i++) {
        const struct race_step *s = &r->steps[i];
        int stores = s->op == RACE_STORE || s->op == RACE_FETCH_ADD;
        w[0] = (char)('A' + s->worker);
        json_t *row = json_pack("{s:i, s:s, s:i, s:s}", "step", (int)i + 1, "worker", w,
                                "increment", (int)s->increment, "op", race_op_name(s->op));
        json_object_set_new(row, "register", int_or_null(has_register(s->op), s->reg));
        json_object_set_new(row, "shared", json_integer(s->shared));
        json_object_set_new(row, "reads_step", int_or_null(s->op == RACE_LOAD || stores,
                                                           (long)s->reads));
        json_object_set_new(row, "stale", int_or_null(o->reveal && s->op == RACE_STORE,
                                                      (long)s->stale));
        json_object_set_new(row, "lost", int_or_null(o->reveal && stores, (long)s->dropped));
        json_array_append_new(rows, row);
    }
    for (unsigned i = 0; o->reveal && i < r->nlost; i++) {
        const struct race_lost *l = &r->lost[i];
        const struct race_step *over = &r->steps[l->overwritten_at - 1];
        char by[2] = { (char)('A' + over->worker), '\0' };
        w[0] = (char)('A' + l->worker);
        json_array_append_new(lost, json_pack(
            "{s:s, s:i, s:i, s:i, s:i, s:s, s:i, s:i}", "worker", w, "increment",
            (int)l->increment, "stored_at", (int)l->stored_at, "held_until", (int)l->held_until,
            "overwritten_at", (int)l->overwritten_at, "overwritten_by", by,
            "overwritten_by_increment", (int)over->increment, "stale_read_at",
            (int)l->stale_load_at));
    }
    json_t *sum = json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s}", "case", ci->name,
                            "version", o->spec.fixed ? "fixed" : "racy", "code",
                            ci->code[o->spec.fixed], "workers", (int)o->spec.workers,
                            "increments", (int)o->spec.increments, "steps", (int)r->nsteps,
                            "order", r->order);
    json_object_set_new(sum, "seed", o->order ? json_null() : json_integer((json_int_t)o->seed));
    json_object_set_new(sum, "expected", json_integer(r->expected));
    json_object_set_new(sum, "final", json_integer(r->final));
    json_object_set_new(sum, "lost", json_integer(r->expected - r->final));
    json_object_set_new(sum, "lost_updates", lost);
    json_document(stdout, "race", rows, sum);
}

int cmd_race(int argc, char **argv)
{
    struct race_cli o = { .spec = { .c = RACE_COUNTER, .workers = 2, .increments = 2 },
                          .fmt = OUT_TEXT };
    struct race_run r;
    struct outcome oc = { 0 };
    char why[512];
    int st = parse(argc, argv, &o, &oc);
    if (st == PARSE_HELP) {
        usage(stdout);
        return 0;
    }
    if (st)
        return die(oc.code, "%s", oc.msg);
    if (race_init(&r, &o.spec)) {
        race_free(&r);
        return die(PARLAB_EXIT_OS, "race: %s", strerror(ENOMEM));
    }
    if (o.order) {
        if (race_replay(&r, o.order, why, sizeof why)) {
            race_free(&r);
            return die(PARLAB_EXIT_USAGE, "--order %s: %s", o.order, why);
        }
    } else {
        if (!o.seeded)
            o.seed = fresh_seed();
        race_random(&r, o.seed);
    }
    int e = race_finish(&r);
    if (e) {
        char again[160];
        replay_args(&o, again, sizeof again);
        st = die(e == -ENOMEM ? PARLAB_EXIT_OS : PARLAB_EXIT_SOFTWARE, "race: %s --order %s: "
                 "%s", again, r.order, e == -ENOMEM ? strerror(ENOMEM) : "the count and the "
                 "updates it holds disagree (a bug in parlab)");
        race_free(&r);
        return st;
    }
    if (o.spec.fixed && r.nlost) {
        char again[160];
        replay_args(&o, again, sizeof again);
        st = die(PARLAB_EXIT_SOFTWARE, "race: %s --order %s: the fixed version lost %u "
                 "update%s (a bug in parlab)", again, r.order, r.nlost, r.nlost == 1 ? "" : "s");
        race_free(&r);
        return st;
    }
    if (o.fmt == OUT_CSV)
        print_csv(&o, &r);
    else if (o.fmt == OUT_JSON)
        print_json(&o, &r);
    else
        print_text(&o, &r);
    race_free(&r);
    return 0;
}
