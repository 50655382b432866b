/* test_verify.c: every workload's verify() rejects a wrong total (the answer off by one,
 * one task dropped, one step skipped) at a size where it can vouch for the right one, and
 * `parlab run` exits 1 when a task is dropped on purpose (--inject drop@T). */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "util.h"
#include "../harness/job.h"
#include "../workloads/reference.h"
#include "../workloads/workload.h"

/* One job per kind of check. tasks are few enough that none is empty. limit: the job's
 * check_limit_s (0: the default). */
struct vcase {
    const char *wl, *check;
    uint64_t size;
    size_t tasks;
    unsigned steps;
    uint64_t seed;
    int exact;   /* the check pins the answer down: any change to the token must fail */
    double limit;
};
/* No independent recomputation (--check-limit 0). */
#define TINY_LIMIT (-1.0)
/* The cases: each kind of check a workload has, at a size that reaches it; then every
 * other workload of the registry at its sizes.test (all_cases). */
static const struct vcase checks[] = {
    { "primes", "known", 100000, 7, 1, 1, 1, 0 },
    { "primes", "sieve", 30011, 7, 1, 1, 1, 0 },
    { "sumsq", "closed-form", 100000, 7, 1, 1, 1, 0 },
    { "montecarlo", "recorded", 200000, 7, 1, 1, 1, 0 },
    /* off the recorded sizes the answer is recomputed (workloads/reference.c) */
    { "montecarlo", "independent", 50000, 7, 1, 3, 1, 0 },
    { "mandelbrot", "recorded", 2500, 7, 1, 0, 1, 0 },
    { "mandelbrot", "independent", 4096, 7, 1, 0, 1, 0 },
    { "nbody", "recorded", 60, 7, 3, 7, 1, 0 },
    { "nbody", "independent", 50, 7, 3, 1, 1, 0 },
    /* over the limit: unchecked, never verified; but a lost point, row or body-step
     * still fails, through the counts the tasks report */
    { "montecarlo", "over-limit", 50000, 7, 1, 3, 0, TINY_LIMIT },
    { "mandelbrot", "over-limit", 4096, 7, 1, 0, 0, TINY_LIMIT },
    { "nbody", "over-limit", 50, 7, 3, 1, 0, TINY_LIMIT },
    { "noop", "task-count", 100, 100, 1, 1, 1, 0 },
    { "sleep", "task-count", 10, 10, 1, 1, 1, 0 },
};
#define MAX_CASES 64
static struct vcase cases[MAX_CASES];

/* Fill cases[]: checks[], then a case for each workload of the registry that checks[]
 * does not name (a new one included), at its test size and default steps, with the check
 * it names there. Returns how many. */
static size_t all_cases(void)
{
    static size_t n;
    if (n)
        return n;
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        cases[n++] = checks[i];
    for (const struct workload *const *w = wl_registry; *w && n < MAX_CASES; w++) {
        int named = 0;
        for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
            named |= strcmp(checks[i].wl, (*w)->name) == 0;
        if (named)
            continue;
        struct vcase c = { .wl = (*w)->name, .size = (*w)->sizes.test, .steps = (*w)->default_steps,
                           .seed = 7, .exact = 1 };
        c.tasks = (*w)->split == WL_SPLIT_ITEMS ? (size_t)c.size : (c.size < 7 ? (size_t)c.size : 7);
        struct job job = { .wl = *w, .size = c.size, .tasks = c.tasks, .steps = c.steps,
                           .seed = c.seed };
        c.check = wl_check_name(&job, NULL);
        cases[n++] = c;
    }
    return n;
}
#define NCASES all_cases()

/* A job run in this process under seq, through the job lifecycle (harness/job.h), with a
 * slot per task kept (JOB_SLOTS) so that the hook below can tamper with what the run left
 * before it is combined again. */
struct ran {
    struct job_ctx c;
    struct partial total;       /* the last answer's total, as verify() saw it */
};

/* What the hook plants: a task's partial left out (drop >= 0), the job claiming more steps
 * than it ran (steps), a total of the test's own (total). */
struct tamper {
    long drop;
    unsigned steps;
    const struct partial *total;
    struct partial *seen;
};

static void plant(struct job_ctx *c, enum job_at at, struct partial *total, void *arg)
{
    struct tamper *t = arg;
    if (at == JOB_AT_RESULTS) {
        if (t->drop >= 0)
            job_slots(c)[t->drop] = (struct partial){ 0 };
        if (t->steps)
            c->job.steps = t->steps;
        return;
    }
    if (t->total)
        *total = *t->total;
    *t->seen = *total;
}

/* Run `steps_run` steps of a job of `steps` steps (it then claims all of them); in step
 * `drop_step`, task `drop` (-1: none) does no work and leaves its slot zeroed, as a runner
 * that lost it would (--inject drop). 0 or -1. */
static int run_job(struct ran *r, const struct workload *wl, uint64_t size, size_t tasks,
                   unsigned steps, uint64_t seed, unsigned steps_run, long drop,
                   unsigned drop_step, double limit)
{
    struct job job = { .wl = wl, .size = size, .tasks = tasks, .steps = steps_run,
                       .seed = seed, .io_ms = 1, .check_limit_s = limit };
    struct plan plan = { .workers = 1, .cores = 1, .schedule = SCHED_STATIC, .loops = 1,
                         .inject = drop >= 0 ? INJECT_DROP : INJECT_NONE,
                         .inject_task = drop >= 0 ? (size_t)drop : 0,
                         .inject_step = drop_step + 1 };
    struct outcome oc = { 0 };
    struct job_sample smp;
    struct job_result res;
    if (job_open(&r->c, &job, &plan, JOB_SLOTS, 0, &oc))
        return -1;
    struct tamper t = { .drop = -1, .steps = steps, .seen = &r->total };
    job_set_hook(&r->c, plant, &t);
    if (job_exec(&r->c, runner_find("seq"), &smp, &oc) || job_answer(&r->c, &res, &oc)) {
        job_close(&r->c);
        return -1;
    }
    job_set_hook(&r->c, NULL, NULL);   /* t is gone; the claim of steps stays in c.job */
    return 0;
}

/* The answer again, with t planted (NULL: as it ran): its verdict (VERIFIED_*); the token
 * in tok when given. */
static int answer(struct ran *r, struct tamper *t, char *tok, size_t n)
{
    struct tamper none = { .drop = -1 };
    struct job_result res;
    struct outcome oc = { 0 };
    if (!t)
        t = &none;
    t->seen = &r->total;
    job_set_hook(&r->c, plant, t);
    if (job_answer(&r->c, &res, &oc))
        return -100;
    if (tok)
        snprintf(tok, n, "%s", res.result);
    return res.verified;
}

/* The verdict on total t. */
static int verify(struct ran *r, const struct partial *t)
{
    struct partial mine = *t;   /* t may be r->total, which the answer overwrites */
    return answer(r, &(struct tamper){ .drop = -1, .total = &mine }, NULL, 0);
}

/* The verdict with task `drop`'s partial left out of combine. */
static int verify_dropped(struct ran *r, long drop)
{
    return answer(r, &(struct tamper){ .drop = drop }, NULL, 0);
}

static void done(struct ran *r)
{
    job_close(&r->c);
}

static int run_case(struct ran *r, const struct vcase *c, unsigned steps_run, long drop,
                    unsigned drop_step)
{
    const struct workload *wl = wl_find(c->wl);
    CU_ASSERT_PTR_NOT_NULL_FATAL(wl);
    return run_job(r, wl, c->size, c->tasks, c->steps, c->seed, steps_run, drop, drop_step,
                   c->limit);
}

static void report(const struct vcase *c, const char *what, int v)
{
    if (v != VERIFIED_WRONG)
        fprintf(stderr, "\n  %s N=%llu (%s): %s gave the verdict %d, want wrong (%d)", c->wl,
                (unsigned long long)c->size, c->check, what, v, VERIFIED_WRONG);
}

/* The baseline every mutation departs from: the right total verifies, by the named check
 * (or, over the limit, is unchecked: never verified). */
static void test_right_total(void)
{
    for (size_t i = 0; i < NCASES; i++) {
        struct ran r;
        CU_ASSERT_EQUAL_FATAL(run_case(&r, &cases[i], cases[i].steps, -1, 0), 0);
        CU_ASSERT_EQUAL(answer(&r, NULL, NULL, 0),
                        strcmp(cases[i].check, "over-limit") ? VERIFIED_YES : VERIFIED_UNCHECKED);
        CU_ASSERT_STRING_EQUAL(wl_check_name(&r.c.job, NULL), cases[i].check);
        done(&r);
    }
}

/* Where the check is exact, any change of one unit in a field that the printed answer
 * shows must fail. */
static void test_off_by_one(void)
{
    for (size_t i = 0; i < NCASES; i++) {
        const struct vcase *c = &cases[i];
        if (!c->exact)
            continue;
        struct ran r;
        char good[200], bad[200];
        int shown = 0;
        CU_ASSERT_EQUAL_FATAL(run_case(&r, c, c->steps, -1, 0), 0);
        struct partial right = r.total;
        answer(&r, NULL, good, sizeof good);
        for (int f = 0; f < 3; f++)
            for (int d = -1; d <= 1; d += 2) {
                struct partial t = right;
                if (f == 0)
                    t.count += (uint64_t)(int64_t)d;
                else if (f == 1)
                    t.sum += (unsigned __int128)(__int128)d;
                else
                    t.hash += (uint64_t)(int64_t)d;
                int v = answer(&r, &(struct tamper){ .drop = -1, .total = &t }, bad,
                               sizeof bad);
                if (strcmp(good, bad) == 0)
                    continue;
                shown++;
                report(c, bad, v);
                CU_ASSERT_EQUAL(v, VERIFIED_WRONG);
            }
        CU_ASSERT(shown >= 2);   /* the printed answer is one of the fields */
        done(&r);
    }
}

/* A task lost by the runner: its partial never combined, or its slot left empty. */
static void test_dropped_task(void)
{
    for (size_t i = 0; i < NCASES; i++) {
        const struct vcase *c = &cases[i];
        struct ran r;
        long mid = (long)(c->tasks / 2);
        CU_ASSERT_EQUAL_FATAL(run_case(&r, c, c->steps, -1, 0), 0);
        int v = verify_dropped(&r, mid);
        report(c, "a partial left out of combine", v);
        CU_ASSERT_EQUAL(v, VERIFIED_WRONG);
        done(&r);
        /* the task skipped in the first step: for n-body its bodies fall a step behind */
        CU_ASSERT_EQUAL_FATAL(run_case(&r, c, c->steps, mid, 0), 0);
        v = answer(&r, NULL, NULL, 0);
        report(c, "a task skipped in step 0", v);
        CU_ASSERT_EQUAL(v, VERIFIED_WRONG);
        done(&r);
    }
}

/* A simulation that did S-1 of its S steps. */
static void test_skipped_step(void)
{
    int stepped = 0;
    for (size_t i = 0; i < NCASES; i++) {
        const struct vcase *c = &cases[i];
        if (c->steps < 2)
            continue;
        struct ran r;
        CU_ASSERT_EQUAL_FATAL(run_case(&r, c, c->steps - 1, -1, 0), 0);
        int v = answer(&r, NULL, NULL, 0);
        report(c, "one step skipped", v);
        CU_ASSERT_EQUAL(v, VERIFIED_WRONG);
        done(&r);
        stepped++;
    }
    CU_ASSERT(stepped >= 2);
}

/* Monte Carlo: one point lost per task moves the hits by less than one standard error,
 * so only the count of tested points can show it; it must, at both kinds of size. */
static void test_montecarlo_point_per_task(void)
{
    for (size_t i = 0; i < NCASES; i++) {
        const struct vcase *c = &cases[i];
        if (strcmp(c->wl, "montecarlo") != 0)
            continue;
        struct ran r;
        CU_ASSERT_EQUAL_FATAL(run_case(&r, c, 1, -1, 0), 0);
        struct partial t = r.total;
        t.sum -= c->tasks;
        t.count -= c->tasks * 3 / 4;
        int v = verify(&r, &t);
        report(c, "one point per task lost", v);
        CU_ASSERT_EQUAL(v, VERIFIED_WRONG);
        done(&r);
    }
}

/* Every workload in the registry, at its own default size, steps and seed, vouches for
 * its answer itself (never "only seq can tell") and rejects the total with a task left
 * out. */
static void test_every_workload_at_its_default(void)
{
    for (const struct workload *const *w = wl_registry; *w; w++) {
        size_t tasks = (*w)->split == WL_SPLIT_ITEMS ? (size_t)(*w)->default_size : (*w)->default_tasks;
        unsigned steps = (*w)->default_steps;
        struct ran r;
        CU_ASSERT_EQUAL_FATAL(run_job(&r, *w, (*w)->default_size, tasks, steps, 1, steps, -1, 0, 0), 0);
        int v = answer(&r, NULL, NULL, 0);
        if (v != VERIFIED_YES)
            fprintf(stderr, "\n  %s at its default N=%llu: verdict %d, want yes (%s)",
                    (*w)->name, (unsigned long long)(*w)->default_size, v,
                    wl_check_name(&r.c.job, NULL));
        CU_ASSERT_EQUAL(v, VERIFIED_YES);
        CU_ASSERT_EQUAL(verify_dropped(&r, (long)(tasks / 2)), VERIFIED_WRONG);
        done(&r);
    }
}

/* The whole path, under every runner: a runner loses a task (--inject drop@T), verify()
 * notices, exit 1. */
static void test_cli_planted_wrong_answer(void)
{
    for (size_t i = 0; i < NCASES; i++) {
        const struct vcase *c = &cases[i];
        char n[32], t[32], s[32], seed[32], at[32], f[200];
        snprintf(n, sizeof n, "%llu", (unsigned long long)c->size);
        snprintf(t, sizeof t, "%zu", c->tasks);
        snprintf(s, sizeof s, "%u", c->steps);
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)c->seed);
        snprintf(at, sizeof at, "drop@%zu", c->tasks / 2);
        for (const struct runner *const *rn = runner_registry; *rn; rn++) {
            char why[300];
            if (!runner_usable(*rn, why, sizeof why))
                continue;   /* mpi where Open MPI is not built in (sanitizer builds) */
            struct cmd_result res;
            CU_ASSERT_EQUAL_FATAL(run_parlab(&res, 60, "run", "-w", c->wl, "-r", (*rn)->name,
                                             "-n", n, "-t", t, "-j", "2", "--seed", seed,
                                             "--io-ms", "1", "--inject", at, "--format", "csv",
                                             "--check-limit", c->limit < 0 ? "0" : "30",
                                             c->steps > 1 ? "--steps" : (char *)NULL, s,
                                             (char *)NULL), 0);
            if (res.status != 1)
                fprintf(stderr, "\n  %s -r %s --inject %s: exit %d, want 1: %s", c->wl,
                        (*rn)->name, at, res.status, res.err);
            CU_ASSERT_EQUAL(res.exited, 1);
            CU_ASSERT_EQUAL(res.status, 1);
            CU_ASSERT_STRING_EQUAL(csv_field(res.out, 1, 17, f, sizeof f), "no");
            CU_ASSERT_STRING_EQUAL(csv_field(res.out, 1, 18, f, sizeof f), c->check);
            CU_ASSERT_PTR_NOT_NULL(strstr(res.err, "wrong result"));
        }
    }
}

/* The recomputation's estimate from the size alone: under the 30 s default up to about
 * 7.5e9 points, 3e7 pixels or 3.3e9 pair-steps, and the job's own limit moves the line. */
static void test_limit_from_size(void)
{
    static const struct { const char *wl; uint64_t size; unsigned steps; double limit;
                          const char *check; } lc[] = {
        { "montecarlo", 1000000001, 1, 0, "independent" },
        { "montecarlo", 10000000001, 1, 0, "over-limit" },
        { "montecarlo", 10000000001, 1, 100, "independent" },
        { "mandelbrot", 10000001, 1, 0, "independent" },
        { "mandelbrot", 100000001, 1, 0, "over-limit" },
        { "nbody", 10001, 10, 0, "independent" },
        { "nbody", 100001, 10, 0, "over-limit" },
        { "nbody", 10001, 10, 1, "over-limit" },
        { "nbody", 10001, 10, -1, "over-limit" },   /* --check-limit 0 */
    };
    for (size_t i = 0; i < sizeof lc / sizeof lc[0]; i++) {
        struct job job = { .wl = wl_find(lc[i].wl), .size = lc[i].size, .tasks = 1,
                           .steps = lc[i].steps, .seed = 5, .check_limit_s = lc[i].limit };
        CU_ASSERT_PTR_NOT_NULL_FATAL(job.wl);
        const char *how = NULL, *got = wl_check_name(&job, &how);
        if (strcmp(got, lc[i].check) != 0)
            fprintf(stderr, "\n  %s N=%llu limit %g: check %s, want %s (estimate %.1f s)",
                    lc[i].wl, (unsigned long long)lc[i].size, lc[i].limit, got, lc[i].check,
                    ref_cost_s(&job));
        CU_ASSERT_STRING_EQUAL(got, lc[i].check);
        CU_ASSERT_PTR_NOT_NULL(how);
    }
}

/* A right answer that nothing recomputed: exit 0, but "unchecked" in every format, with
 * its reason, and never "yes"; --expect settles it. */
static void test_cli_unchecked(void)
{
    struct cmd_result r;
    char f[64];
    const char *base[] = { "run", "-w", "montecarlo", "-r", "thread", "-j", "2", "-n", "54321",
                           "--repeat", "1", "--check-limit", "0" };
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, base[0], base[1], base[2], base[3], base[4],
                                     base[5], base[6], base[7], base[8], base[9], base[10],
                                     base[11], base[12], "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.exited, 1);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 17, f, sizeof f), "unchecked");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 18, f, sizeof f), "over-limit");
    char result[64];
    csv_field(r.out, 1, 16, result, sizeof result);

    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, base[0], base[1], base[2], base[3], base[4],
                                     base[5], base[6], base[7], base[8], base[9], base[10],
                                     base[11], base[12], (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "verified: unchecked"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "--check-limit 0"));
    CU_ASSERT_PTR_NULL(strstr(r.out, "verified: yes"));

    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, base[0], base[1], base[2], base[3], base[4],
                                     base[5], base[6], base[7], base[8], base[9], base[10],
                                     base[11], base[12], "--format", "json", (char *)NULL), 0);
    json_t *doc = json_loads(r.out, 0, NULL), *row;
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    row = json_array_get(json_object_get(doc, "rows"), 0);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(row, "verified")), "unchecked");
    json_decref(doc);

    /* the default limit recomputes it: verified, independently */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, base[0], base[1], base[2], base[3], base[4],
                                     base[5], base[6], base[7], base[8], base[9], base[10],
                                     "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 17, f, sizeof f), "yes");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 18, f, sizeof f), "independent");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 16, f, sizeof f), result);

    /* --expect with the right answer vouches for it; with another, exit 1 */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, base[0], base[1], base[2], base[3], base[4],
                                     base[5], base[6], base[7], base[8], base[9], base[10],
                                     "--expect", result, "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 0);
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 17, f, sizeof f), "yes");
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 18, f, sizeof f), "expect");
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, base[0], base[1], base[2], base[3], base[4],
                                     base[5], base[6], base[7], base[8], base[9], base[10],
                                     "--expect", "42", "--format", "csv", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 1);
    CU_ASSERT_STRING_EQUAL(csv_field(r.out, 1, 17, f, sizeof f), "no");

    /* a limit that is not a number of seconds is refused before any work */
    CU_ASSERT_EQUAL_FATAL(run_parlab(&r, 60, "run", "-w", "montecarlo", "-r", "seq",
                                     "--check-limit", "soon", (char *)NULL), 0);
    CU_ASSERT_EQUAL(r.status, 64);
    CU_ASSERT_STRING_EQUAL(r.out, "");
}

CU_TestInfo tests_verify[] = {
    { "the recomputation's limit follows the size", test_limit_from_size },
    { "an answer nothing recomputed is unchecked, never yes", test_cli_unchecked },
    { "the right total verifies, by the named check", test_right_total },
    { "an answer off by one fails where the check is exact", test_off_by_one },
    { "a dropped task fails", test_dropped_task },
    { "a skipped step fails", test_skipped_step },
    { "montecarlo: one lost point per task fails", test_montecarlo_point_per_task },
    { "every workload vouches at its default size", test_every_workload_at_its_default },
    { "parlab run exits 1 on a planted wrong answer", test_cli_planted_wrong_answer },
    CU_TEST_INFO_NULL,
};
