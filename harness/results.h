/* results.h: where a run's task results live: a slot per task, or one fold per worker when
 * the workload's combine allows it (WL_COMBINE_ANY_ORDER), and how they become the total. */
#ifndef PARLAB_RESULTS_H
#define PARLAB_RESULTS_H

#include "../runners/runner.h"

struct results {
    struct partial *slots;    /* one per task, or NULL when folding */
    struct task_fold *fold;   /* one per worker or loop when folding, else NULL */
    unsigned nfold;
    size_t len;               /* bytes of the shared mapping */
};

enum results_mode { RESULTS_AUTO, RESULTS_SLOTS };

/*
 * Allocate the results of `job` for `plan` in shared memory (forked workers write them)
 * and point plan->fold at the folds when folding. RESULTS_AUTO folds when the workload is
 * WL_COMBINE_ANY_ORDER; RESULTS_SLOTS always keeps a slot per task. 0 or -errno. Parent.
 */
int results_open(struct results *rs, const struct job *job, struct plan *plan,
                 enum results_mode mode);
/* Ready for a run: folds start empty. Slots need nothing (every task overwrites its own). */
void results_reset(struct results *rs);
/* The slots to pass to runner->run: NULL when folding. */
static inline struct partial *results_slots(const struct results *rs) { return rs->slots; }
/*
 * Combine the last step's partials into *total (slots in task order; folds in worker
 * order, the same bits by WL_COMBINE_ANY_ORDER), then the workload's finish(). Returns 0,
 * or -1 with *bad the lowest task that reported an error and *err that error.
 */
int results_combine(const struct results *rs, const struct job *job, struct partial *total,
                    size_t *bad, int *err);
void results_close(struct results *rs, struct plan *plan);

#endif
