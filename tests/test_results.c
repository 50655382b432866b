/* test_results.c: folded results (a partial per worker) give the same bits as a slot per
 * task, under every runner and workload, and name the same failed task. Each run goes
 * through the job lifecycle; its hook reads the total. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../harness/job.h"

/* The hook: the total as combined and finished (zeroed padding, so that memcmp compares
 * only fields). */
static void keep_total(struct job_ctx *c, enum job_at at, struct partial *total, void *arg)
{
    struct partial *keep = arg;
    (void)c;
    if (at == JOB_AT_TOTAL) {
        keep->sum = total->sum;
        keep->count = total->count;
        keep->value = total->value;
        keep->hash = total->hash;
        keep->err = total->err;
    }
}

/* One run of wl under r through the job lifecycle (harness/job.h), its results folded
 * (flags 0) or a slot per task (JOB_SLOTS): the total, and job_answer's return with the
 * failed task in *bad and its error in *err. Runs in the calling process: call it from a
 * child. */
static int run_mode(const struct workload *wl, const struct runner *r, unsigned flags,
                    enum inject_kind inject, struct partial *total, size_t *bad, int *err)
{
    uint64_t size = wl->split == WL_SPLIT_ITEMS ? 23 : wl->sizes.test;
    struct job job = { .wl = wl, .size = size, .tasks = 23, .seed = 3, .io_ms = 1,
                       .steps = wl->stepped ? 3 : 1 };
    struct plan plan = { .workers = 2, .cores = 2, .schedule = r->default_schedule,
                         .chunk = 2, .loops = r->flags & RUNNER_HAS_LOOPS ? 2 : 1,
                         .inject = inject, .inject_task = 17 };
    struct job_ctx c;
    struct job_sample smp;
    struct job_result res;
    struct outcome oc = { 0 };
    if (job_open(&c, &job, &plan, flags, 0, &oc))
        return -101;
    if ((flags & JOB_SLOTS) != (c.plan.fold == NULL ? JOB_SLOTS : 0)) {
        job_close(&c);
        return -102;
    }
    memset(total, 0, sizeof *total);   /* after an error the total is not defined */
    job_set_hook(&c, keep_total, total);
    if (job_exec(&c, r, &smp, &oc)) {
        fprintf(stderr, "\n  %s %s: %s", wl->name, r->name, oc.msg);
        job_close(&c);
        return -103;
    }
    int rc = job_answer(&c, &res, &oc);
    *bad = rc ? (size_t)res.bad_task : 0;
    *err = rc ? res.bad_err : 0;
    job_close(&c);
    return rc;
}

/* In a child with alarm(): every runner x workload, folded and slotted, equal bits. */
static int compare_all(enum inject_kind inject)
{
    int bad_cases = 0;
    for (const struct workload *const *w = wl_registry; *w; w++) {
        if (!((*w)->flags & WL_COMBINE_ANY_ORDER))
            continue;
        for (const struct runner *const *r = runner_registry; *r; r++) {
            char why[300];
            if (!runner_usable(*r, why, sizeof why))
                continue;   /* mpi where Open MPI is not built in */
            struct partial a, b;
            size_t bad_a, bad_b;
            int err_a, err_b;
            int ra = run_mode(*w, *r, 0, inject, &a, &bad_a, &err_a);
            int rb = run_mode(*w, *r, JOB_SLOTS, inject, &b, &bad_b, &err_b);
            int same = ra == rb && memcmp(&a, &b, sizeof a) == 0 &&
                       (ra != -1 || (bad_a == bad_b && err_a == err_b));
            int want = inject == INJECT_ERROR ? ra == -1 && bad_a == 17 && err_a == 5 : ra == 0;
            if (!same || !want) {
                fprintf(stderr, "\n  %s %s: folded rc %d task %zu err %d count %llu, slots rc %d "
                        "task %zu err %d count %llu", (*w)->name, (*r)->name, ra, bad_a, err_a,
                        (unsigned long long)a.count, rb, bad_b, err_b,
                        (unsigned long long)b.count);
                bad_cases++;
            }
        }
    }
    return bad_cases;
}

static int in_child(enum inject_kind inject)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        alarm(60);
        _exit(compare_all(inject) ? 1 : 0);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_fold_equals_slots(void)
{
    CU_ASSERT(in_child(INJECT_NONE));
}

static void test_fold_names_error(void)
{
    CU_ASSERT(in_child(INJECT_ERROR));
}

/* The mpi ranks' way: no runner, the tasks run by the caller into job_slots(), then
 * job_answer; the same token and verdict as a runner's run, for every workload. */
static void test_answer_without_runner(void)
{
    for (const struct workload *const *w = wl_registry; *w; w++) {
        uint64_t size = (*w)->split == WL_SPLIT_ITEMS ? 23 : (*w)->sizes.test;
        struct job job = { .wl = *w, .size = size, .tasks = 23, .seed = 3, .io_ms = 1,
                           .steps = (*w)->stepped ? 3 : 1 };
        struct plan plan = { .workers = 1, .cores = 1, .schedule = SCHED_STATIC, .loops = 1 };
        struct job_ctx c;
        struct job_sample smp;
        struct job_result mine, seq;
        struct outcome oc = { 0 };
        CU_ASSERT_EQUAL_FATAL(job_open(&c, &job, &plan, JOB_SLOTS, 0, &oc), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(job_slots(&c));
        for (unsigned st = 0; st < c.job.steps; st++)
            for (size_t t = 0; t < c.job.tasks; t++)
                runner_exec_task(&c.job, &c.plan, st, t, 0, job_slots(&c));
        CU_ASSERT_EQUAL(job_answer(&c, &mine, &oc), 0);
        job_close(&c);
        CU_ASSERT_EQUAL_FATAL(job_open(&c, &job, &plan, 0, 0, &oc), 0);
        CU_ASSERT_EQUAL(job_exec(&c, runner_find("seq"), &smp, &oc), 0);
        CU_ASSERT_EQUAL(job_answer(&c, &seq, &oc), 0);
        job_close(&c);
        CU_ASSERT_STRING_EQUAL(mine.result, seq.result);
        CU_ASSERT_EQUAL(mine.verified, seq.verified);
        CU_ASSERT_EQUAL(mine.verified, VERIFIED_YES);
        if (mine.verified != VERIFIED_YES || strcmp(mine.result, seq.result) != 0)
            fprintf(stderr, "\n  %s: %s (%d) by hand, %s (%d) under seq: %s", (*w)->name,
                    mine.result, mine.verified, seq.result, seq.verified, mine.why);
    }
}

static void test_modes(void)
{
    /* Every workload of the registry folds; a slot per task stays available. */
    for (const struct workload *const *w = wl_registry; *w; w++)
        CU_ASSERT((*w)->flags & WL_COMBINE_ANY_ORDER);
}

CU_TestInfo tests_results[] = {
    { "folded results equal a slot per task, bit for bit", test_fold_equals_slots },
    { "a task's error is named the same folded or not", test_fold_names_error },
    { "every registered workload may fold", test_modes },
    { "tasks run by the caller (the mpi ranks' way) answer as a runner's", test_answer_without_runner },
    CU_TEST_INFO_NULL,
};
