/* deadlock.c: `parlab pitfall deadlock`: a task that waits on its own pool, and two locks
 * taken in opposite orders, each turned from a hang into an error that is measured. */
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

struct dl_shm {
    _Atomic uint32_t arrived;        /* outer calls running, for the start line */
    unsigned workers;
    pthread_mutex_t a, b;            /* lock-order demo, process-shared */
    pthread_barrier_t both;
    int inverted;                    /* 1: task 1 takes b then a */
    unsigned lock_ms;
    int rc[2];                       /* what pthread_mutex_timedlock returned */
    double waited_ns[2];
};

struct dl_in {
    struct pool *p;                  /* the pool the call runs on: valid in every worker */
    struct dl_shm *s;
};

struct dl_out {
    int rc;                          /* pool_future_get on the inner call */
    int lined_up;                    /* every worker was in an outer call */
    double ns;                       /* how long that get took */
    struct pool_future *inner;       /* after -EDEADLK: still queued, for the parent to get */
};

static int dl_inner(const void *in, void *out)
{
    (void)in;
    *(int *)out = 7;
    return 0;
}

/* An outer call: once every worker runs one, submit an inner call to the same pool and
 * wait for it: the pattern that hangs a Python Pool. */
static int dl_outer(const void *in, void *out)
{
    struct dl_in a;
    struct dl_out r = { 0 };
    struct pool_error e;
    int v = 0;
    memcpy(&a, in, sizeof a);
    uint32_t n = atomic_fetch_add(&a.s->arrived, 1) + 1;
    if (n >= a.s->workers) {
        sync_wake(&a.s->arrived, INT_MAX);
    } else {
        uint64_t until = clock_now_ns() + 1000000000u;   /* at most 1 s to line up */
        while ((n = atomic_load(&a.s->arrived)) < a.s->workers && clock_now_ns() < until)
            sync_wait(&a.s->arrived, n, 10000000u);
    }
    r.lined_up = atomic_load(&a.s->arrived) >= a.s->workers;
    uint64_t t0 = clock_now_ns();
    struct pool_future *f = pool_submit(a.p, dl_inner, NULL, 0, sizeof v);
    if (!f)
        return errno ? errno : EAGAIN;
    r.rc = pool_future_get(f, &v, 2000, &e);
    r.ns = (double)(clock_now_ns() - t0);
    if (r.rc == -EDEADLK || r.rc == -ETIMEDOUT)
        r.inner = f;                 /* still valid: the parent, outside the pool, gets it */
    memcpy(out, &r, sizeof r);
    return 0;
}

/* Part one: W outer calls on a pool of W. Returns 0, or -1 with oc filled. */
static int dl_self_submit(struct exp_opts *o, int k, struct outcome *oc)
{
    enum pool_kind kind = k ? POOL_THREAD : POOL_FORK;
    unsigned W = o->workers;
    struct dl_shm *s = job_shared_alloc(sizeof *s);
    double ns[EXP_MAX_REPEAT];
    int hits = 0, others_done = 0, others = 0, rc = 0;
    struct pool_future **f = calloc(W, sizeof *f);

    if (!s || !f) {
        rc = outcome_fail(oc, PARLAB_EXIT_OS, "pitfall deadlock: %s", strerror(errno));
        goto out;
    }
    s->workers = W;
    for (int r = 0; r < o->R && !rc; r++) {
        int err = 0, seen = 0;
        atomic_store(&s->arrived, 0);
        struct pool *p = pool_create(kind, W, NULL, NULL, 0, &err, NULL);
        if (!p) {
            rc = outcome_fail(oc, PARLAB_EXIT_OS, "pitfall deadlock: %u %s workers: %s", W,
                              exp_kind_name(k), strerror(-err));
            break;
        }
        struct dl_in in = { p, s };
        for (unsigned i = 0; i < W; i++)
            if (!(f[i] = pool_submit(p, dl_outer, &in, sizeof in, sizeof(struct dl_out)))) {
                rc = outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "pitfall deadlock: pool_submit: %s",
                                  strerror(errno));
                break;
            }
        for (unsigned i = 0; i < W && !rc; i++) {
            struct dl_out out;
            struct pool_error e;
            int g = pool_future_get(f[i], &out, 5000, &e);
            if (g) {
                char why[200] = "";
                if (g == -ECHILD)
                    pool_error_str(&e, kind, why, sizeof why);
                rc = outcome_fail(oc, PARLAB_EXIT_SOFTWARE,
                                  "pitfall deadlock: outer call %u: %s %s", i,
                                  g < 0 ? strerror(-g) : "returned an error", why);
                break;
            }
            if (!out.lined_up)
                exp_note(&o->tab, "%s: run %d: the workers did not all line up in 1 s",
                         exp_kind_name(k), r + 1);
            if (out.inner) {
                /* The queued inner call runs once a worker is free; the parent is no
                 * worker, so it may wait for it (and so releases the future). */
                int v = 0, g2 = pool_future_get(out.inner, &v, 2000, &e);
                if (g2 != 0 || v != 7) {
                    rc = outcome_fail(oc, PARLAB_EXIT_SOFTWARE,
                                      "pitfall deadlock: the inner call left "
                                      "behind gave %d (%s)", g2,
                                      g2 < 0 ? strerror(-g2) : "its value");
                    break;
                }
            }
            if (out.rc == -EDEADLK) {
                ns[hits++] = out.ns;
                seen++;
            } else {
                others++;
                others_done += out.rc == 0;
            }
        }
        pool_destroy(p);
        if (!rc && seen != 1) {
            rc = outcome_fail(oc, PARLAB_EXIT_SOFTWARE,
                              "pitfall deadlock: %s pool: %d of %u outer calls got "
                              "-EDEADLK, expected 1", exp_kind_name(k), seen, W);
        }
    }
    if (!rc) {
        struct exp_fig main = { "", UNIT_NS, ns, hits };
        char note[160];
        exp_emit(o, "deadlock", W, NAN, &main, NULL, 0, NULL, "%s pool: get() on its own pool -> -EDEADLK",
                 exp_kind_name(k));
        snprintf(note, sizeof note, "%s pool W=%u: in %d of %d runs one outer call got "
                 "-EDEADLK (%s); %d of the %d others completed once its worker was free",
                 exp_kind_name(k), W, hits, o->R, strerror(EDEADLK), others_done, others);
        exp_note(&o->tab, "%s", note);
    }
out:
    free(f);
    if (s)
        job_shared_free(s, sizeof *s);
    return rc;
}

/* A lock-order task: task 0 takes a then b; task 1 takes b then a when inverted. Inverted,
 * both hold their first lock before either asks for the second (a barrier), so the
 * inversion always bites and the timeout turns the hang into an error. In one order the
 * barrier would itself deadlock (the second task waits for a, held at the barrier), and no
 * order is needed: whoever gets a first gets b too. */
static void dl_lock_task(void *ctx, uint64_t arg, size_t task, unsigned worker)
{
    struct dl_shm *s = *(struct dl_shm **)ctx;
    pthread_mutex_t *first = task == 0 || !s->inverted ? &s->a : &s->b;
    pthread_mutex_t *second = first == &s->a ? &s->b : &s->a;
    struct timespec until;
    (void)arg, (void)worker;

    pthread_mutex_lock(first);
    if (s->inverted)
        pthread_barrier_wait(&s->both);
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += s->lock_ms / 1000;
    until.tv_nsec += (long)(s->lock_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    uint64_t t0 = clock_now_ns();
    int rc = pthread_mutex_timedlock(second, &until);
    s->waited_ns[task] = (double)(clock_now_ns() - t0);
    s->rc[task] = rc;
    if (rc == 0)
        pthread_mutex_unlock(second);
    if (s->inverted)
        pthread_barrier_wait(&s->both);   /* no one lets go before both have tried */
    pthread_mutex_unlock(first);
}

/* Part two: two workers, two locks. Returns 0, or -1 with oc filled. */
static int dl_lock_order(struct exp_opts *o, int k, struct outcome *oc)
{
    enum pool_kind kind = k ? POOL_THREAD : POOL_FORK;
    struct dl_shm *s = job_shared_alloc(sizeof *s);
    struct dl_shm *ctx = s;          /* made before the pool: every worker has this pointer */
    double waited[2][EXP_MAX_REPEAT * 2];
    int timeouts[2] = { 0, 0 }, n[2] = { 0, 0 }, rc = 0, err = 0;
    pthread_mutexattr_t ma;
    pthread_barrierattr_t ba;

    if (!s)
        return outcome_fail(oc, PARLAB_EXIT_OS, "pitfall deadlock: %s", strerror(errno));
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutex_init(&s->a, &ma);
    pthread_mutex_init(&s->b, &ma);
    pthread_mutexattr_destroy(&ma);
    pthread_barrierattr_init(&ba);
    pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
    pthread_barrier_init(&s->both, &ba, 2);
    pthread_barrierattr_destroy(&ba);
    s->lock_ms = (unsigned)o->lock_ms;

    struct pool *p = pool_create(kind, 2, NULL, NULL, 0, &err, NULL);
    if (!p) {
        rc = outcome_fail(oc, PARLAB_EXIT_OS, "pitfall deadlock: 2 %s workers: %s",
                          exp_kind_name(k), strerror(-err));
        goto out;
    }
    for (int inv = 1; inv >= 0 && !rc; inv--) {
        s->inverted = inv;
        for (int r = 0; r < o->R; r++) {
            struct pool_error e;
            s->rc[0] = s->rc[1] = -1;
            /* Static, no chunk: task 0 on worker 0, task 1 on worker 1, at the same time. */
            if (pool_map(p, 2, SCHED_STATIC, 0, dl_lock_task, &ctx, 0, &e)) {
                char why[200];
                pool_error_str(&e, kind, why, sizeof why);
                rc = outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "pitfall deadlock: lock order: %s",
                                  why);
                break;
            }
            for (int t = 0; t < 2; t++) {
                waited[inv][n[inv]++] = s->waited_ns[t];
                timeouts[inv] += s->rc[t] == ETIMEDOUT;
            }
        }
    }
    pool_destroy(p);
    if (rc)
        goto out;
    struct exp_fig inv_fig = { "", UNIT_NS, waited[1], n[1] };
    exp_emit(o, "deadlock", 2, NAN, &inv_fig, NULL, 0, NULL, "%s: a->b and b->a: timedlock waited",
             exp_kind_name(k));
    exp_note(&o->tab, "%s: lock-order inversion caught: %d of %d attempts gave up with "
             "ETIMEDOUT after %u ms (worker 0 held a and wanted b; worker 1 held b and "
             "wanted a)", exp_kind_name(k), timeouts[1], n[1], s->lock_ms);
    struct exp_fig ok_fig = { "", UNIT_NS, waited[0], n[0] };
    exp_emit(o, "deadlock", 2, NAN, &ok_fig, NULL, 0, NULL, "%s: the fix, a->b in both: waited",
             exp_kind_name(k));
    exp_note(&o->tab, "%s: one lock order for everyone: %d of %d got both locks",
             exp_kind_name(k), n[0] - timeouts[0], n[0]);
    if (timeouts[1] != n[1] || timeouts[0] != 0)
        rc = outcome_fail(oc, PARLAB_EXIT_SOFTWARE,
                          "pitfall deadlock: lock order: %d of %d inverted attempts "
                          "timed out (expected all), %d of %d ordered ones (expected none)",
                          timeouts[1], n[1], timeouts[0], n[0]);
out:
    pthread_barrier_destroy(&s->both);
    pthread_mutex_destroy(&s->a);
    pthread_mutex_destroy(&s->b);
    job_shared_free(s, sizeof *s);
    return rc;
}

static int pf_deadlock(struct exp_opts *o, struct outcome *oc)
{
    int rc;
    exp_begin(o, "deadlock: (1) on a pool of %u, every worker runs a task that "
                     "submits to the same pool and waits for it: nobody is left to run what "
                     "they wait for. Python's Pool hangs; pool_future_get returns -EDEADLK. "
                     "Time from get() to the error over %d runs.",
                     o->workers, o->R);
    for (int k = 0; k < 2; k++)
        if ((o->kinds & (1 << k)) && (rc = dl_self_submit(o, k, oc)))
            return rc;
    exp_note(&o->tab, "deadlock: (2) two workers take two locks in opposite orders; "
             "pthread_mutex_timedlock (%llu ms) turns the hang into ETIMEDOUT",
             (unsigned long long)o->lock_ms);
    for (int k = 0; k < 2; k++)
        if ((o->kinds & (1 << k)) && (rc = dl_lock_order(o, k, oc)))
            return rc;
    return 0;
}

const struct experiment exp_deadlock = {
    .name = "deadlock", .command = "pitfall",
    .summary = "a task waiting on its own pool (-EDEADLK), and locks taken in opposite orders",
    .opts = EO_RUNNER | EO_WORKERS | EO_REPEAT | EO_LOCK_MS, .default_kinds = 3,
    .run = pf_deadlock,
};
