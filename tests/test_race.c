/* test_race.c: `parlab race`: every order of small cases walked through the interpreter
 * (the fixed versions never lose an update, the racy ones do, and the lost updates named
 * are exactly expected - final), the command's trace and reveal for known orders, seeds
 * that replay, and bad input ending in one line and exit 64. */
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "../experiments/race.h"

/* What a walk over every order found. */
struct walk {
    unsigned orders, lossy, bad;
    unsigned max_lost;
    char lossy_order[128];    /* the first order that lost an update */
    /* also called on each finished order (after check_leaf), when set */
    void (*leaf)(const struct race_run *r, struct walk *wk);
    unsigned checked, stride; /* for leaf */
};

/* The checks on one finished order: the analysis agrees with the count, and each lost
 * update's story holds together (its store, the last store holding it, the store after
 * that one, built on a read from before it). */
static void check_leaf(struct race_run *r, struct walk *wk)
{
    unsigned dropped = 0;
    int ok = race_finish(r) == 0 && r->expected == (long)(r->spec.workers * r->spec.increments)
             && (long)r->nlost == r->expected - r->final && r->nsteps == r->total;
    for (unsigned i = 0; i < r->nsteps; i++)
        dropped += r->steps[i].dropped;
    ok = ok && dropped == r->nlost;
    for (unsigned i = 0; ok && i < r->nlost; i++) {
        const struct race_lost *l = &r->lost[i];
        const struct race_step *over = &r->steps[l->overwritten_at - 1];
        ok = l->stored_at <= l->held_until && l->held_until < l->overwritten_at &&
             l->stale_load_at < l->held_until && over->op == RACE_STORE && over->stale > 0 &&
             r->steps[l->stale_load_at - 1].op == RACE_LOAD &&
             r->steps[l->stale_load_at - 1].worker == over->worker;
    }
    if (r->spec.fixed)
        ok = ok && r->nlost == 0 && r->final == r->expected;
    if (!ok && wk->bad++ == 0)
        fprintf(stderr, "\n  %s%s order %s: final %ld, expected %ld, %u named lost",
                race_case_info(r->spec.c)->name, r->spec.fixed ? " fixed" : "", r->order,
                r->final, r->expected, r->nlost);
    wk->orders++;
    if (r->nlost) {
        if (wk->lossy++ == 0)
            snprintf(wk->lossy_order, sizeof wk->lossy_order, "%s", r->order);
        if (r->nlost > wk->max_lost)
            wk->max_lost = r->nlost;
    }
}

/* Every order from stack[depth] on: each runnable worker's step in turn, depth first. */
static void walk(struct race_run *stack, unsigned depth, struct walk *wk)
{
    struct race_run *r = &stack[depth];
    uint32_t m = race_runnable(r);
    char why[160];
    if (!m) {
        check_leaf(r, wk);
        if (wk->leaf)
            wk->leaf(r, wk);
        return;
    }
    for (unsigned w = 0; w < r->spec.workers; w++)
        if (m >> w & 1) {
            race_copy(&stack[depth + 1], r);
            if (race_step(&stack[depth + 1], w, why, sizeof why) != 0 && wk->bad++ == 0)
                fprintf(stderr, "\n  a runnable worker refused: %s", why);
            walk(stack, depth + 1, wk);
        }
}

/* Walk every order of spec; wk's leaf and stride stay, its counts start from 0. */
static void walk_all(const struct race_spec *spec, struct walk *wk)
{
    struct race_run first;
    void (*leaf)(const struct race_run *, struct walk *) = wk->leaf;
    unsigned stride = wk->stride;
    memset(wk, 0, sizeof *wk);
    wk->leaf = leaf;
    wk->stride = stride;
    CU_ASSERT_EQUAL_FATAL(race_init(&first, spec), 0);
    unsigned n = first.total + 1;
    struct race_run *stack = calloc(n, sizeof *stack);
    CU_ASSERT_FATAL(stack != NULL);
    for (unsigned i = 0; i < n; i++)
        CU_ASSERT_EQUAL_FATAL(race_init(&stack[i], spec), 0);
    walk(stack, 0, wk);
    for (unsigned i = 0; i < n; i++)
        race_free(&stack[i]);
    race_free(&first);
    free(stack);
}

/* 2 workers x 2 increments, every order of every case: the racy version loses an update
 * under some order, the fixed version under none, and the lost updates named are
 * expected - final each time. Without a lock every interleaving is an order: C(2k, k) of
 * them for k steps a worker. */
static void test_every_order(void)
{
    for (int c = 0; c < RACE__COUNT; c++)
        for (int fixed = 0; fixed < 2; fixed++) {
            struct race_spec spec = { (enum race_case)c, fixed, 2, 2 };
            struct walk wk = { 0 };
            walk_all(&spec, &wk);
            const char *name = race_case_info(spec.c)->name;
            if (wk.bad || (!fixed && !wk.lossy) || (fixed && wk.lossy))
                fprintf(stderr, "\n  %s%s: %u orders, %u lossy, %u bad", name,
                        fixed ? " fixed" : "", wk.orders, wk.lossy, wk.bad);
            CU_ASSERT_EQUAL(wk.bad, 0);
            CU_ASSERT(fixed ? wk.lossy == 0 : wk.lossy > 0);
            /* 2 lost at most, and some order loses 2: the last store is a second
             * increment's, whose load came after its worker's first store: it writes 2 or more */
            CU_ASSERT_EQUAL(wk.max_lost, fixed ? 0u : 2u);
            if (spec.c != RACE_ARRAY && !fixed) {
                CU_ASSERT_EQUAL(wk.orders, 924);   /* C(12, 6): 3 steps x 2 increments each */
                /* only the 6 orders that run each load .. store whole keep every update */
                CU_ASSERT_EQUAL(wk.lossy, 918);
            }
            if (spec.c == RACE_COUNTER && fixed)
                CU_ASSERT_EQUAL(wk.orders, 6);     /* C(4, 2): one atomic step each */
            if (fixed && spec.c != RACE_COUNTER)
                CU_ASSERT_EQUAL(wk.orders, 6);     /* the 4 critical sections, A's twice */
            /* more workers, one increment: still some order loses, none when fixed */
            struct race_spec three = { (enum race_case)c, fixed, 3, 1 };
            walk_all(&three, &wk);
            CU_ASSERT_EQUAL(wk.bad, 0);
            CU_ASSERT(fixed ? wk.lossy == 0 : wk.max_lost == 2);
        }
}

/* The command on one known order of the counter: A stores 1 at step 4, B's store of 1 at
 * step 6 was built on its read of 0 at step 2, so A's first update is lost; final 3 of 4. */
static void test_known_order_reveal(void)
{
    static struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 30, "race", "--case", "counter", "--order",
                                     "ABAABBAAABBB", "--reveal", (char *)NULL), 0);
    CU_ASSERT(r.exited && r.status == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "final count 3, expected 4"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, ": 1 update lost"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "A #1's update (its store at step 4) was overwritten "
                                         "at step 6 by B #1's store of 1,\n#     built on its "
                                         "read of 0 at step 2: a stale read, taken before step "
                                         "4's store\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "stale: its read (step 2) missed 1 store"));
    CU_ASSERT_EQUAL(count_lines(r.out), 4 + 12 + 1 + 2);  /* head, steps, count, 1 lost */
    /* Without --reveal the count, but not which update or why. */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 30, "race", "--order", "ABAABBAAABBB", (char *)NULL), 0);
    CU_ASSERT(r.exited && r.status == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "final count 3, expected 4"));
    CU_ASSERT_PTR_NULL(strstr(r.out, "overwritten"));
    CU_ASSERT_PTR_NULL(strstr(r.out, "stale"));
    /* The array's write outside the lock: both read 0 under the lock, both write 1. */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 30, "race", "--case", "array", "-n", "1", "--order",
                                     "AAAABBBBAB", "--reveal", (char *)NULL), 0);
    CU_ASSERT(r.exited && r.status == 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "final count 1, expected 2 (2 workers x 1 increment): "
                                         "1 update lost"));
    /* Its fix under a lock cannot take that order: B waits while A holds the lock. */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 30, "race", "--case", "array", "--fixed", "-n", "1",
                                     "--order", "AAAABBBBAB", (char *)NULL), 0);
    CU_ASSERT(r.exited && r.status == 64);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "step 5: B waits for the lock A holds"));
}

/* The command's JSON summary of an order (with --reveal), parsed; NULL if it failed. */
static json_t *race_json(const struct race_spec *spec, const char *order)
{
    static struct cmd_result r;
    char j[8], n[8];
    snprintf(j, sizeof j, "%u", spec->workers);
    snprintf(n, sizeof n, "%u", spec->increments);
    char *argv[] = { (char *)parlab_bin(), "race", "--case",
                     (char *)race_case_info(spec->c)->name, "-j", j, "-n", n, "--order",
                     (char *)order, "--reveal", "--format", "json",
                     spec->fixed ? "--fixed" : NULL, NULL };
    if (run_cmd(argv, 30, &r) != 0 || !r.exited || r.status != 0)
        return NULL;
    return json_loads(r.out, 0, NULL);
}

/* One order through the command: its lost count is expected - final, the lost updates
 * it lists are that many, and all agree with the interpreter's. Every stride-th order. */
static void command_agrees(const struct race_run *r, struct walk *wk)
{
    if ((wk->orders - 1) % wk->stride)
        return;
    json_t *doc = race_json(&r->spec, r->order), *sum = json_object_get(doc, "summary");
    long lost = json_integer_value(json_object_get(sum, "lost"));
    long exp = json_integer_value(json_object_get(sum, "expected"));
    long fin = json_integer_value(json_object_get(sum, "final"));
    json_t *named = json_object_get(sum, "lost_updates");
    CU_ASSERT_PTR_NOT_NULL(doc);
    CU_ASSERT(json_is_array(named));
    CU_ASSERT_EQUAL(lost, exp - fin);
    CU_ASSERT_EQUAL((long)json_array_size(named), lost);
    CU_ASSERT_EQUAL(exp, r->expected);
    CU_ASSERT_EQUAL(fin, r->final);
    CU_ASSERT_EQUAL(lost, (long)r->nlost);
    for (size_t i = 0; i < json_array_size(named) && i < r->nlost; i++)
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(named, i),
                                                           "overwritten_at")),
                        (long)r->lost[i].overwritten_at);
    json_decref(doc);
    wk->checked++;
}

/* Every case and version: about 20 orders spread over all of them, through the command. */
static void test_command_reports_lost(void)
{
    for (int c = 0; c < RACE__COUNT; c++)
        for (int fixed = 0; fixed < 2; fixed++) {
            struct race_spec spec = { (enum race_case)c, fixed, 2, 2 };
            struct walk wk = { 0 };
            walk_all(&spec, &wk);       /* how many orders there are */
            wk.stride = wk.orders / 20 + 1;
            wk.leaf = command_agrees;
            walk_all(&spec, &wk);
            CU_ASSERT(wk.checked >= 6);
            CU_ASSERT_EQUAL(wk.bad, 0);
        }
}

/* A seed replays: the same trace twice, and the same as its printed order; a run without
 * one prints the seed that replays it. */
static void test_seed_replays(void)
{
    static struct cmd_result a, b, c;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&a, 30, "race", "--case", "array", "-j", "3", "-n", "3",
                                     "--seed", "12345", "--format", "json", (char *)NULL), 0);
    CU_ASSERT_EQUAL_FATAL(run_parlab(&b, 30, "race", "--case", "array", "-j", "3", "-n", "3",
                                     "--seed", "12345", "--format", "json", (char *)NULL), 0);
    CU_ASSERT(a.status == 0 && b.status == 0);
    json_t *da = json_loads(a.out, 0, NULL), *db = json_loads(b.out, 0, NULL);
    CU_ASSERT_FATAL(da && db);
    CU_ASSERT(json_equal(json_object_get(da, "rows"), json_object_get(db, "rows")));
    CU_ASSERT(json_equal(json_object_get(da, "summary"), json_object_get(db, "summary")));
    const char *order = json_string_value(json_object_get(json_object_get(da, "summary"),
                                                          "order"));
    CU_ASSERT_FATAL(order != NULL);
    CU_ASSERT_EQUAL(strlen(order), 45u);      /* 3 workers x 3 increments x 5 steps */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&c, 30, "race", "--case", "array", "-j", "3", "-n", "3",
                                     "--order", order, "--format", "json", (char *)NULL), 0);
    json_t *dc = json_loads(c.out, 0, NULL);
    CU_ASSERT_FATAL(dc != NULL);
    CU_ASSERT(json_equal(json_object_get(da, "rows"), json_object_get(dc, "rows")));
    /* another seed, another order (these two differ) */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&b, 30, "race", "--case", "array", "-j", "3", "-n", "3",
                                     "--seed", "12346", "--format", "json", (char *)NULL), 0);
    json_decref(db);
    db = json_loads(b.out, 0, NULL);
    CU_ASSERT_FATAL(db != NULL);
    CU_ASSERT_STRING_NOT_EQUAL(order, json_string_value(json_object_get(
                                   json_object_get(db, "summary"), "order")));
    json_decref(da);
    json_decref(db);
    json_decref(dc);
    /* no seed given: one is drawn and printed with the line that replays it */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&a, 30, "race", "-j", "4", (char *)NULL), 0);
    CU_ASSERT_EQUAL(a.status, 0);
    static const char say[] = "# replay: parlab race --case counter -j 4 -n 2 --seed ";
    const char *rp = strstr(a.out, say);
    CU_ASSERT_FATAL(rp != NULL);
    rp += strlen(say);
    char seed[32];
    snprintf(seed, sizeof seed, "%.*s", (int)strcspn(rp, "\n"), rp);
    CU_ASSERT_EQUAL_FATAL(run_parlab(&b, 30, "race", "-j", "4", "--seed", seed, (char *)NULL), 0);
    CU_ASSERT_STRING_EQUAL(a.out, b.out);
}

/* Bad input: one line on stderr, nothing on stdout, exit 64. */
static void test_bad_input(void)
{
    static const struct {
        const char *args[8];
        const char *says;
    } bad[] = {
        { { "--order", "ABAC" }, "step 4 names C, but there are 2 workers (A to B)" },
        { { "--order", "AAAAAAA" }, "step 7: A has taken all its 6 steps" },
        { { "--order", "ABABBBAAAABBB" }, "step 13: B has taken all its 6 steps" },
        { { "--order", "ABAB" }, "it ends after 4 steps; 8 more are needed (A 4, B 4)" },
        { { "--order", "" }, "it ends after 0 steps" },
        { { "--order", "AB-" }, "step 3 is '-', not a worker's letter (A to B)" },
        { { "--case", "array", "--order", "AB" }, "step 2: B waits for the lock A holds" },
        { { "--seed", "-1" }, "--seed -1" },
        { { "--seed", "x" }, "--seed x" },
        { { "--seed", "9007199254740992" }, "--seed 9007199254740992" },
        { { "-j", "1" }, "-j 1" },
        { { "-j", "27" }, "-j 27" },
        { { "-n", "0" }, "-n 0" },
        { { "-n", "101" }, "-n 101" },
        { { "--order", "AB", "--seed", "1" }, "--order or --seed, not both" },
        { { "--case", "countr" }, "did you mean 'counter'?" },
        { { "--revael" }, "did you mean '--reveal'?" },
        { { "--format", "jsno" }, "did you mean 'json'?" },
        { { "extra" }, "unexpected argument 'extra'" },
        { { "--order" }, "--order needs a value" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[12] = { (char *)parlab_bin(), "race" };
        int n = 2;
        for (int k = 0; bad[i].args[k]; k++)
            argv[n++] = (char *)bad[i].args[k];
        static struct cmd_result r;
        CU_ASSERT_EQUAL_FATAL(run_cmd(argv, 10, &r), 0);
        strip_asan_stack_warning(r.err);
        int ok = r.exited && r.status == 64 && count_lines(r.err) == 1 && r.out[0] == '\0' &&
                 strncmp(r.err, "parlab: ", 8) == 0 && strstr(r.err, bad[i].says);
        if (!ok)
            fprintf(stderr, "\n  case %zu: exit %d/%d, stderr: %s  want: %s", i, r.exited,
                    r.status, r.err, bad[i].says);
        CU_ASSERT(ok);
    }
}

/* The command is in parlab's help (so in the man page) and in the completion, with its
 * cases after --case. */
static void test_listed(void)
{
    static struct cmd_result r;
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 10, "--help", (char *)NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\n  race "));
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 10, "race", "--help", (char *)NULL), 0);
    CU_ASSERT(r.exited && r.status == 0 && strstr(r.out, "usage: parlab race"));
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 10, "completion", "bash", (char *)NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "--case) COMPREPLY=($(compgen -W \"counter manager "
                                         "array\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "        race) COMPREPLY=($(compgen -W \" --case"));
}

CU_TestInfo tests_race[] = {
    { "every order of 2x2 and 3x1: racy loses, fixed never, lost = expected - final",
      test_every_order },
    { "a known order: the trace, the count and --reveal", test_known_order_reveal },
    { "the command's lost count is the interpreter's, order by order", test_command_reports_lost },
    { "a seed replays, and a run without one prints its seed", test_seed_replays },
    { "bad input: one line, exit 64", test_bad_input },
    { "in the help and the completion", test_listed },
    CU_TEST_INFO_NULL,
};
