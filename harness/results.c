/* results.c: a slot per task, or one fold per worker (see results.h). */
#include "results.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

/* Fold slots[0..tasks) in task order into *total, then the workload's finish(). Returns
 * 0, or -1 with *bad the first task that reported an error. */
static int combine_slots(const struct job *job, const struct partial *slots,
                         struct partial *total, size_t *bad)
{
    *total = (struct partial){ 0 };
    for (size_t t = 0; t < job->tasks; t++) {
        if (slots[t].err) {
            *bad = t;
            return -1;
        }
        job->wl->combine(total, &slots[t]);
    }
    if (job->wl->finish)
        job->wl->finish(job, total);
    return 0;
}

int results_open(struct results *rs, const struct job *job, struct plan *plan,
                 enum results_mode mode)
{
    memset(rs, 0, sizeof *rs);
    if (mode == RESULTS_AUTO && (job->wl->flags & WL_COMBINE_ANY_ORDER)) {
        /* Every index a runner may pass as `worker`: its workers, or its loops. */
        rs->nfold = plan->workers > plan->loops ? plan->workers : plan->loops;
        if (rs->nfold == 0)
            rs->nfold = 1;
        rs->len = rs->nfold * sizeof *rs->fold;
        if (!(rs->fold = job_shared_alloc(rs->len)))
            return -errno;
        results_reset(rs);
        plan->fold = rs->fold;
        return 0;
    }
    rs->len = job->tasks * sizeof *rs->slots;
    if (!(rs->slots = job_shared_alloc(rs->len)))
        return -errno;
    plan->fold = NULL;
    return 0;
}

void results_reset(struct results *rs)
{
    for (unsigned w = 0; w < rs->nfold; w++)
        rs->fold[w] = (struct task_fold){ .err_task = SIZE_MAX };
}

int results_combine(const struct results *rs, const struct job *job, struct partial *total,
                    size_t *bad, int *err)
{
    if (rs->slots) {
        if (combine_slots(job, rs->slots, total, bad)) {
            *err = rs->slots[*bad].err;
            return -1;
        }
        return 0;
    }
    *total = (struct partial){ 0 };
    *bad = SIZE_MAX;
    for (unsigned w = 0; w < rs->nfold; w++) {
        if (rs->fold[w].err_task < *bad) {
            *bad = rs->fold[w].err_task;
            *err = rs->fold[w].err;
        }
        job->wl->combine(total, &rs->fold[w].acc);
    }
    if (*bad != SIZE_MAX)
        return -1;
    if (job->wl->finish)
        job->wl->finish(job, total);
    return 0;
}

void results_close(struct results *rs, struct plan *plan)
{
    if (rs->slots)
        job_shared_free(rs->slots, rs->len);
    if (rs->fold)
        job_shared_free(rs->fold, rs->len);
    if (plan && plan->fold == rs->fold)
        plan->fold = NULL;
    memset(rs, 0, sizeof *rs);
}
