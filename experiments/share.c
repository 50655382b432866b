/* share.c: `parlab share`: the ways to add up one count across workers, each timed under
 * fork and thread workers (share_measure.c) and checked against the count it should
 * reach, then the order of their means against the expected one. One experiment of the
 * table in registry.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <string.h>

#include "share.h"
#include "../harness/suggest.h"
#include "../lib/student.h"

/* --method M[,M...]: set a bit per method named. Returns 0, or -1 with oc filled (64). */
static int parse_methods(const char *arg, int *chosen, struct outcome *oc)
{
    const char *p = arg;
    do {
        size_t len = strcspn(p, ",");
        int found = 0;
        for (int m = 0; m < SHARE__COUNT; m++)
            if (strlen(share_methods[m].name) == len &&
                strncmp(share_methods[m].name, p, len) == 0) {
                *chosen |= 1 << m;
                found = 1;
            }
        if (!found) {
            char word[64], hint[96];
            struct suggest sg;
            snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), p);
            suggest_init(&sg, word);
            for (int m = 0; m < SHARE__COUNT; m++)
                suggest_add(&sg, share_methods[m].name);
            return fail_msg(oc, PARLAB_EXIT_USAGE, "--method %s: unknown method '%.*s'%s (none, "
                            "lock, atomic, local, padded, unpadded, pipe, manager, student)",
                            arg, (int)len, p, suggest_hint(&sg, hint, sizeof hint));
        }
        p += len;
    } while (*p++ == ',');
    return 0;
}

static void share_help(FILE *f)
{
    fprintf(f,
        "  W workers each add 1 to a count N times; every way of combining the counts is\n"
        "  timed (ns per increment as a worker sees it: its wall time / N, over R runs)\n"
        "  and its final count is checked against W x N.\n"
        "  methods (default: all):\n");
    for (int m = 0; m < SHARE__COUNT; m++)
        fprintf(f, "    %-9s %s\n", share_methods[m].name, share_methods[m].summary);
    fprintf(f, "  exit status: 0 every synchronised method counted exactly, 1 one did not\n");
}

/* The expected order of the means, fastest first; "<<" marks a gap of at least 2x. */
static const struct { enum share_method m; int gap; } order[] = {
    { SHARE_LOCAL, 0 }, { SHARE_ATOMIC, 0 }, { SHARE_LOCK, 0 }, { SHARE_PIPE, 1 }, { SHARE_MANAGER, 0 },
};

/* One line per runner: the means in the expected order, and where it did not hold. */
static void share_order(struct exp_opts *o, int k, const double mean[SHARE__COUNT][2])
{
    char line[400], buf[48];
    size_t len = 0;
    const char *broke = NULL, *after = NULL;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        enum share_method m = order[i].m;
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s %s", i == 0 ? ""
                                : order[i].gap ? " << " : " < ", share_methods[m].name,
                                stats_fmt_value(buf, sizeof buf, mean[m][k], UNIT_NS));
        if (len >= sizeof line)
            len = sizeof line - 1;
        if (i > 0 && !broke) {
            double prev = mean[order[i - 1].m][k];
            if (!(mean[m][k] > prev * (order[i].gap ? 2 : 1))) {
                broke = share_methods[m].name;
                after = share_methods[order[i - 1].m].name;
            }
        }
    }
    if (!broke)
        exp_note(&o->tab, "%s: %s (means): the expected order holds", exp_kind_name(k), line);
    else
        exp_note(&o->tab, "%s: %s (means): NOT the expected order: %s was not %s than %s "
                 "here", exp_kind_name(k), line, broke,
                 strcmp(broke, "pipe") == 0 ? "twice or more slower" : "slower", after);
}

/*
 * The options only share reads: --method into o->methods (a bit per method, 0: all), and
 * --student: --method student needs --student FILE.so defining student_count, which is
 * loaded here, and --student needs --method student. Returns 0, or -1 with oc filled (64).
 */
static int share_check(struct exp_opts *o, struct outcome *oc)
{
    o->methods = 0;
    if (o->method && parse_methods(o->method, &o->methods, oc))
        return -1;
    if (!(o->methods & (1 << SHARE_STUDENT)))
        return o->student ? fail_msg(oc, PARLAB_EXIT_USAGE, "--student %s: nothing runs it "
                                     "without --method student", o->student) : 0;
    if (!o->student)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--method student: give the count with "
                        "--student FILE.so (make lab-4 builds labs/04-sharing/student/count.c "
                        "into one)");
    struct outcome lo;
    if (student_load(o->student, &lo))
        return fail_msg(oc, lo.code, "--student %s: %s", o->student, lo.msg);
    if (!student_count_fn)
        return fail_msg(oc, PARLAB_EXIT_USAGE, "--method student: %s defines no student_count",
                        student_source());
    return 0;
}

static int share_run(struct exp_opts *o, struct outcome *oc)
{
    int chosen = o->methods, R = o->R;   /* chosen: bit per method, 0: all (share_check) */
    unsigned W = o->workers;

    double ns[EXP_MAX_REPEAT], fin[EXP_MAX_REPEAT], mean[SHARE__COUNT][2];
    exp_begin(o, "share: W = %u workers each add 1 N times; time per increment as a worker "
              "sees it (its wall time / N) over R = %d runs", W, R);
    for (int m = 0; m < SHARE__COUNT; m++)
        mean[m][0] = mean[m][1] = NAN;
    for (int m = 0; m < SHARE__COUNT; m++) {
        if (chosen ? !(chosen & (1 << m)) : m == SHARE_STUDENT)
            continue;
        uint64_t n = o->ops_set ? o->ops : share_methods[m].default_ops;
        uint64_t expect = n * W;
        for (int k = 0; k < 2; k++) {
            if (!(o->kinds & (1 << k)))
                continue;
            enum pool_kind pk = k == 0 ? POOL_FORK : POOL_THREAD;
            if (share_measure(share_methods[m].name, pk, W, n, R, ns, fin, oc))
                return -1;
            struct exp_row r = { .section = share_methods[m].name, .workers = W, .unit = UNIT_NS,
                                 .ratio = NAN };
            snprintf(r.what, sizeof r.what, "%s W=%u N=%llu", exp_kind_name(k), W,
                     (unsigned long long)n);
            stats_of(ns, R, &r.st);
            mean[m][k] = r.st.mean;
            struct exp_row fr = { .section = share_methods[m].name, .workers = W, .unit = UNIT_COUNT };
            snprintf(fr.what, sizeof fr.what, "%s final count (expected %llu)", exp_kind_name(k),
                     (unsigned long long)expect);
            stats_of(fin, R, &fr.st);
            fr.ratio = fr.st.mean / (double)expect;
            int exact = fr.st.min == (double)expect && fr.st.max == (double)expect;
            if (exact) {
                snprintf(r.note, sizeof r.note, "count %llu = expected%s",
                         (unsigned long long)expect, R > 1 ? " in every run" : "");
            } else {
                double lost[EXP_MAX_REPEAT];
                struct stats ls;
                char fs[64], lsb[64];
                for (int i = 0; i < R; i++)
                    lost[i] = (double)expect - fin[i];
                stats_of(lost, R, &ls);
                snprintf(r.note, sizeof r.note, "count %s of %llu: lost %s (%.0f%%)",
                         stats_fmt_mean_sd(fs, sizeof fs, &fr.st, UNIT_COUNT),
                         (unsigned long long)expect, stats_fmt_mean_sd(lsb, sizeof lsb, &ls, UNIT_COUNT),
                         100.0 * ls.mean / (double)expect);
            }
            if (!exact && m == SHARE_STUDENT) {
                int bad = 0;
                for (int i = 0; i < R; i++)
                    bad += fin[i] != (double)expect;
                exp_wrong(&o->tab, "%s: student_count under %s: counted %.0f, expected %llu, "
                          "in %d of %d runs: %s", student_source(), exp_kind_name(k),
                          fr.st.min != (double)expect ? fr.st.min : fr.st.max,
                          (unsigned long long)expect, bad, R, fr.st.min < (double)expect
                          ? "short: updates lost to a race, or never made"
                          : "more than was added");
            } else if (!exact && m != SHARE_NONE) {
                exp_wrong(&o->tab, "share %s %s: counted %.0f, expected %llu",
                          share_methods[m].name, exp_kind_name(k),
                          fr.st.min != (double)expect ? fr.st.min : fr.st.max,
                          (unsigned long long)expect);
            }
            if (m == SHARE_NONE && exact)
                snprintf(r.note + strlen(r.note), sizeof r.note - strlen(r.note),
                         ": no update was lost this time (the race did not show; "
                         "more --ops or workers make it likelier)");
            exp_row(&o->tab, &r);
            if (o->tab.fmt != OUT_TEXT)
                exp_row(&o->tab, &fr);
        }
    }
    if (!chosen)
        for (int k = 0; k < 2; k++)
            if (o->kinds & (1 << k))
                share_order(o, k, (const double (*)[2])mean);
    return 0;
}

const struct experiment exp_share = {
    .name = "share", .command = "share",
    .summary = "ways to combine a count across workers: none, lock, atomic, local, pipe, manager",
    .opts = EO_METHOD | EO_RUNNER | EO_WORKERS | EO_OPS | EO_REPEAT | EO_STUDENT,
    .default_kinds = 3, .max_workers = MAX_SHARE_WORKERS,
    .help = share_help, .check = share_check, .run = share_run,
};
