/* pickling.c: `parlab pitfall pickling`: a pointer made in the parent after the fork means
 * nothing in a forked worker; shared memory or a serialised copy does. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "experiment.h"
#include "../lib/sync.h"

#define PICKLE_MAGIC 42u
#define PICKLE_OLD 1u

/* A record the parent hands to workers: by pointer (wrong across fork) or by value. */
struct record {
    uint32_t value;
    char name[28];
};

struct pk_ctx {
    struct record *early;            /* heap, made before the fork, changed after it */
    struct record *shared;           /* shared memory, made before the fork */
    volatile uint64_t *seen;         /* what each worker read (shared memory, one per task) */
};

/* arg: the address to read, as the parent passes it. */
static void pk_read_ptr(void *ctx, uint64_t arg, size_t task, unsigned worker)
{
    struct pk_ctx *c = ctx;
    (void)worker;
    c->seen[task] = ((const struct record *)(uintptr_t)arg)->value;
}

/* Copy the record out of the bytes the parent serialised it into: the pool's arena, which
 * was mapped shared before the workers started (arg is its address). */
static void pk_read_arena(void *ctx, uint64_t arg, size_t task, unsigned worker)
{
    struct pk_ctx *c = ctx;
    struct record r;
    (void)worker;
    memcpy(&r, (const void *)(uintptr_t)arg, sizeof r);
    c->seen[task] = r.value;
}

/* One way of handing a worker a value: map fn over the W workers, show what each read,
 * and check that all (expect_right) or none read want. Returns 0, or -1 with oc filled. */
static int pk_case(struct exp_opts *o, struct pool *p, enum pool_kind kind, struct pk_ctx *c,
                   pool_task_fn fn, uint64_t arg, const char *what, uint32_t want,
                   int expect_right, struct outcome *oc)
{
    unsigned W = o->workers;
    struct pool_error e;
    double v[1024];
    if (pool_map(p, W, SCHED_STATIC, 0, fn, c, arg, &e)) {
        char why[200];
        pool_error_str(&e, kind, why, sizeof why);
        return outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "pitfall pickling: %s: %s", what, why);
    }
    int right = 0;
    for (unsigned w = 0; w < W; w++) {
        v[w] = (double)c->seen[w];
        right += c->seen[w] == want;
    }
    struct exp_fig main = { "", UNIT_COUNT, v, (int)W };
    exp_emit(o, "pickling", W, NAN, &main, NULL, 0, NULL, "%s %s", exp_kind_name(kind == POOL_THREAD), what);
    exp_note(&o->tab, "  %u of %u workers read %u%s", (unsigned)right, W, want,
             right == (int)W ? "" : right ? " (some did not)" : ": each read its own stale copy");
    if ((right == (int)W) != expect_right)
        return outcome_fail(oc, PARLAB_EXIT_SOFTWARE,
                            "pitfall pickling: %s: %d of %u workers read %u, expected %s", what,
                            right, W, want, expect_right ? "all" : "none");
    return 0;
}

static int pf_pickling(struct exp_opts *o, struct outcome *oc)
{
    unsigned W = o->workers;
    size_t seen_len = W * sizeof(uint64_t);
    int rc = 0, err = 0;
    struct pk_ctx c = { 0 };
    struct rlimit nocore = { 0, 0 };
    struct pool *p = NULL;
    struct record *late = MAP_FAILED;

    exp_begin(o, "pickling: the parent sets a record's value to %u after the pool started (it "
              "was %u before); each of %u workers reads it and reports the value it saw (over "
              "the workers)", PICKLE_MAGIC, PICKLE_OLD, W);
    c.early = malloc(sizeof *c.early);
    c.shared = job_shared_alloc(sizeof *c.shared);
    c.seen = job_shared_alloc(seen_len);
    if (!c.early || !c.shared || !c.seen) {
        rc = outcome_fail(oc, PARLAB_EXIT_OS, "pitfall pickling: %s", strerror(errno));
        goto out;
    }
    /* A worker is meant to crash below: no core file for it. */
    setrlimit(RLIMIT_CORE, &nocore);

    for (int k = 0; k < 2 && !rc; k++) {
        enum pool_kind kind = k ? POOL_THREAD : POOL_FORK;
        if (!(o->kinds & (1 << k)))
            continue;
        *c.early = (struct record){ .value = PICKLE_OLD, .name = "before the fork" };
        *c.shared = *c.early;
        p = pool_create(kind, W, NULL, NULL, 4096, &err, NULL);
        if (!p) {
            rc = outcome_fail(oc, PARLAB_EXIT_OS, "pitfall pickling: %u %s workers: %s", W,
                              exp_kind_name(k), strerror(-err));
            break;
        }
        /* After the workers exist: */
        c.early->value = PICKLE_MAGIC;
        c.shared->value = PICKLE_MAGIC;
        struct record msg = { .value = PICKLE_MAGIC, .name = "serialised" };
        memcpy(pool_arena(p, NULL), &msg, sizeof msg);

        rc = pk_case(o, p, kind, &c, pk_read_ptr, (uint64_t)(uintptr_t)c.early,
                     "pointer to heap, set after start", PICKLE_MAGIC, kind == POOL_THREAD, oc);
        if (!rc)
            rc = pk_case(o, p, kind, &c, pk_read_ptr, (uint64_t)(uintptr_t)c.shared,
                         "fix 1: shared memory made before start", PICKLE_MAGIC, 1, oc);
        if (!rc)
            rc = pk_case(o, p, kind, &c, pk_read_arena, (uint64_t)(uintptr_t)pool_arena(p, NULL),
                         "fix 2: record serialised into arena", PICKLE_MAGIC, 1, oc);
        if (rc)
            break;

        /* Memory mapped after the fork: the address does not exist in a forked worker. */
        late = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (late == MAP_FAILED) {
            rc = outcome_fail(oc, PARLAB_EXIT_OS, "pitfall pickling: mmap: %s", strerror(errno));
            break;
        }
        late->value = PICKLE_MAGIC;
        struct pool_error e;
        int mrc = pool_map(p, W, SCHED_STATIC, 0, pk_read_ptr, &c, (uint64_t)(uintptr_t)late, &e);
        if (kind == POOL_FORK) {
            char why[200];
            if (mrc == 0) {
                rc = outcome_fail(oc, PARLAB_EXIT_SOFTWARE,
                                  "pitfall pickling: a forked worker read memory "
                                  "mapped after the fork and did not crash");
            } else {
                pool_error_str(&e, kind, why, sizeof why);
                exp_note(&o->tab, "fork pointer to memory mapped after the fork: %s "
                         "(the address is not mapped in the worker; the pool reports "
                         "the crash and stops)", why);
                if (e.cause != POOL_CRASHED || e.signal != SIGSEGV)
                    rc = outcome_fail(oc, PARLAB_EXIT_SOFTWARE,
                                      "pitfall pickling: expected SIGSEGV, got: %s", why);
            }
        } else if (mrc != 0) {
            rc = outcome_fail(oc, PARLAB_EXIT_SOFTWARE,
                              "pitfall pickling: a thread could not read its "
                              "own process's memory");
        } else {
            int right = 0;
            double v[1024];
            for (unsigned w = 0; w < W; w++) {
                v[w] = (double)c.seen[w];
                right += c.seen[w] == PICKLE_MAGIC;
            }
            struct exp_fig main = { "", UNIT_COUNT, v, (int)W };
            exp_emit(o, "pickling", W, NAN, &main, NULL, 0, NULL,
                     "thread pointer to memory mapped after start");
            exp_note(&o->tab, "  %d of %u threads read %u: one address space",
                     right, W, PICKLE_MAGIC);
        }
        munmap(late, 4096);
        late = MAP_FAILED;
        pool_destroy(p);
        p = NULL;
    }
    if (!rc)
        exp_note(&o->tab, "a pointer is an address in one process. Hand workers values "
                 "(serialise them) or put the data in memory shared before the fork.");
out:
    if (p)
        pool_destroy(p);
    if (late != MAP_FAILED)
        munmap(late, 4096);
    free(c.early);
    if (c.shared)
        job_shared_free(c.shared, sizeof *c.shared);
    if (c.seen)
        job_shared_free((void *)c.seen, seen_len);
    return rc;
}

const struct experiment exp_pickling = {
    .name = "pickling", .command = "pitfall",
    .summary = "a pointer made in the parent after the fork means nothing in a worker",
    .opts = EO_RUNNER | EO_WORKERS, .default_kinds = 3, .max_workers = 1024,
    .run = pf_pickling,
};
