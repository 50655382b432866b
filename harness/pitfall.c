/* pitfall.c: `parlab pitfall NAME`: the classic mistakes of multiprocessing, each run and
 * measured: too many workers, copy-on-write, false sharing, deadlocks, pointers that do
 * not survive a fork, and chunk sizes. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "../runners/sync.h"

/* Options a pitfall may take; each pitfall names those it accepts. */
enum {
    PO_RUNNER = 1 << 0, PO_WORKERS = 1 << 1, PO_SIZE = 1 << 2, PO_TASKS = 1 << 3,
    PO_OPS = 1 << 4, PO_MB = 1 << 5, PO_REPEAT = 1 << 6, PO_FORMAT = 1 << 7,
    PO_LOCK_MS = 1 << 8,
};

struct pf_opts {
    int kinds;               /* bit 0 fork, bit 1 thread */
    int kinds_set;
    unsigned workers;
    uint64_t size, tasks, ops, mb, lock_ms;
    int R;
    struct bench_table tab;
};

struct pitfall {
    const char *name, *summary;
    unsigned opts;           /* PO_* it accepts */
    int default_kinds;
    int (*run)(struct pf_opts *o);
};

/* A figure shown with others on one text line; in CSV every figure is its own row. */
struct fig {
    const char *label;
    enum bench_unit unit;
    double *v;
    int n;
};

/*
 * Print `main` as the row's figure and `extra` in its note (text), or each as a CSV row
 * named "<what> <label>". The sample arrays are sorted.
 */
static void pf_emit(struct pf_opts *o, const char *section, unsigned workers, double ratio,
                    const struct fig *main, const struct fig *extra, int nextra,
                    const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static void pf_emit(struct pf_opts *o, const char *section, unsigned workers, double ratio,
                    const struct fig *main, const struct fig *extra, int nextra,
                    const char *fmt, ...)
{
    struct bench_row r = { .section = section, .workers = workers, .unit = main->unit,
                           .ratio = ratio };
    char what[72];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(r.what, sizeof r.what, "%s%s%.20s", what, main->label[0] ? " " : "", main->label);
    bench_stat_of(main->v, main->n, &r.st);
    size_t len = 0;
    for (int i = 0; i < nextra; i++) {
        struct bench_stat s;
        char buf[80];
        bench_stat_of(extra[i].v, extra[i].n, &s);
        if (o->tab.fmt == OUT_CSV)
            continue;
        len += (size_t)snprintf(r.note + len, len < sizeof r.note ? sizeof r.note - len : 0,
                                "%s%s %s", i ? ", " : "", extra[i].label,
                                bench_fmt_stat(buf, sizeof buf, &s, extra[i].unit));
        if (len >= sizeof r.note)
            len = sizeof r.note - 1;
    }
    bench_table_row(&o->tab, &r);
    if (o->tab.fmt != OUT_CSV)
        return;
    for (int i = 0; i < nextra; i++) {
        struct bench_row x = { .section = section, .workers = workers, .unit = extra[i].unit,
                               .ratio = NAN };
        snprintf(x.what, sizeof x.what, "%s %.20s", what, extra[i].label);
        bench_stat_of(extra[i].v, extra[i].n, &x.st);
        bench_table_row(&o->tab, &x);
    }
}

static const char *kind_name(int k)
{
    return k == 0 ? "fork" : "thread";
}

static double median_copy(const double *v, int n)
{
    double tmp[BENCH_MAX_REPEAT * 4];
    struct bench_stat s;
    if (n > (int)(sizeof tmp / sizeof tmp[0]))
        n = (int)(sizeof tmp / sizeof tmp[0]);
    memcpy(tmp, v, (size_t)n * sizeof *tmp);
    bench_stat_of(tmp, n, &s);
    return s.median;
}

/* ---- oversubscribe ----------------------------------------------------------------- */

static int pf_oversubscribe(struct pf_opts *o)
{
    static const unsigned factors[] = { 1, 2, 8, 32 };
    unsigned cores = cpus_allowed();
    const struct workload *wl = wl_find("primes");
    size_t tasks = 4u * 32u * cores;      /* the same job at every W: enough tasks for all */
    int wrong = 0;

    if (!wl)
        return die(PARLAB_EXIT_SOFTWARE, "pitfall: no primes workload");
    bench_table_note(&o->tab, "oversubscribe: primes N=%llu in %zu tasks (dynamic) on %u CPUs, "
                     "W = 1x, 2x, 8x, 32x the CPUs; wall time and context switches, median "
                     "[min .. max] of %d runs", (unsigned long long)o->size, tasks, cores, o->R);
    for (int k = 0; k < 2; k++) {
        if (!(o->kinds & (1 << k)))
            continue;
        const struct runner *r = runner_find(kind_name(k));
        double base = NAN;
        for (size_t f = 0; f < sizeof factors / sizeof factors[0]; f++) {
            unsigned W = factors[f] * cores;
            struct bench_job bj;
            double wall[BENCH_MAX_REPEAT], inv[BENCH_MAX_REPEAT], vol[BENCH_MAX_REPEAT];
            int e = bench_job_open(&bj, wl, o->size, tasks, W, SCHED_DYNAMIC, 0);
            if (e)
                return die(PARLAB_EXIT_OS, "pitfall oversubscribe: setup: %s", strerror(-e));
            for (int i = 0; i < o->R; i++) {
                struct bench_sample s;
                struct outcome oc;
                char res[128], why[256];
                if (bench_job_run(&bj, r, &s, &oc)) {
                    bench_job_close(&bj);
                    return die(oc.code, "pitfall oversubscribe: %s W=%u: %s", r->name, W, oc.msg);
                }
                if (bench_job_result(&bj, res, sizeof res, why, sizeof why) == 0) {
                    wrong = 1;
                    fprintf(stderr, "parlab: primes %s W=%u: wrong result %s: %s\n", r->name,
                            W, res, why);
                }
                wall[i] = s.wall_ns;
                inv[i] = (double)s.invol_cs;
                vol[i] = (double)s.vol_cs;
            }
            bench_job_close(&bj);
            double m = median_copy(wall, o->R);
            if (f == 0)
                base = m;
            struct fig main = { "wall", BU_NS, wall, o->R };
            struct fig extra[] = { { "involuntary cs", BU_COUNT, inv, o->R },
                                   { "voluntary cs", BU_COUNT, vol, o->R } };
            pf_emit(o, "oversub", W, m / base, &main, extra, 2, "%s W=%u (%ux CPUs)", r->name,
                    W, factors[f]);
        }
    }
    bench_table_note(&o->tab, "ratio: median wall time against W = the CPUs (the wall "
                     "includes starting the W workers). CPU-bound work gains nothing from more "
                     "workers than CPUs: they take turns, each turn an involuntary context "
                     "switch, and each worker costs a start and its memory.");
    return wrong ? PARLAB_EXIT_WRONG : 0;
}

/* ---- cow --------------------------------------------------------------------------- */

enum { COW_FORKED, COW_READ, COW_W25, COW_W50, COW_W100, COW__PHASES };
static const char *const cow_phase[COW__PHASES] = {
    "after fork", "read all", "wrote 25%", "wrote 50%", "wrote 100%",
};

struct cow_rec {
    double faults, rss_kib, pss_kib, ns;
};

struct cow_shm {
    pthread_barrier_t step;          /* the children move from phase to phase together */
    _Atomic int err;
    struct cow_rec rec[];            /* [child][phase] of the current repeat */
};

static void cow_record(struct cow_rec *r, uint64_t t0)
{
    struct rusage ru;
    long rss = -1, pss = -1;
    r->ns = (double)(runner_now_ns() - t0);
    getrusage(RUSAGE_SELF, &ru);     /* a forked child's counts start at zero */
    bench_mem_kib(&rss, &pss);
    r->faults = (double)ru.ru_minflt;
    r->rss_kib = (double)rss;
    r->pss_kib = (double)pss;
}

/* A child: read the parent's array, then write it a quarter at a time, recording the
 * minor faults (copies), RSS and PSS after each phase. Never returns. */
static void cow_child(struct cow_shm *s, unsigned w, char *mem, size_t bytes)
{
    struct cow_rec *rec = &s->rec[(size_t)w * COW__PHASES];
    volatile uint64_t sink = 0;
    uint64_t t0 = runner_now_ns();

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(120);                      /* a sibling that died would leave us at the barrier */
    cow_record(&rec[COW_FORKED], t0);
    pthread_barrier_wait(&s->step);

    t0 = runner_now_ns();
    uint64_t sum = 0;
    for (size_t i = 0; i < bytes; i += sizeof(uint64_t))
        sum += *(const uint64_t *)(mem + i);
    sink = sum;
    cow_record(&rec[COW_READ], t0);
    pthread_barrier_wait(&s->step);

    size_t done = 0;
    for (int p = COW_W25; p <= COW_W100; p++) {
        size_t upto = p == COW_W25 ? bytes / 4 : p == COW_W50 ? bytes / 2 : bytes;
        t0 = runner_now_ns();
        memset(mem + done, (int)(w + 1), upto - done);
        done = upto;
        cow_record(&rec[p], t0);
        pthread_barrier_wait(&s->step);
    }
    (void)sink;
    _exit(0);
}

static int pf_cow(struct pf_opts *o)
{
    size_t bytes = (size_t)o->mb << 20;
    unsigned W = o->workers;
    int R = o->R, n = R * (int)W, rc = 0;
    size_t shm_len = sizeof(struct cow_shm) + (size_t)W * COW__PHASES * sizeof(struct cow_rec);
    double *all = calloc((size_t)n * COW__PHASES * 4 + (size_t)n, sizeof *all);
    double *forkns = all ? all + (size_t)n * COW__PHASES * 4 : NULL;
    pid_t *pids = calloc(W, sizeof *pids);
    struct cow_shm *s = job_shared_alloc(shm_len);
    char *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (!all || !pids || !s || mem == MAP_FAILED) {
        rc = die(PARLAB_EXIT_OS, "pitfall cow: %zu MiB: %s", bytes >> 20, strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < bytes; i += 4096)
        mem[i] = (char)(i >> 12);    /* touched: resident and in this process's page tables */

    bench_table_note(&o->tab, "cow: a %llu MiB array written by the parent, then %u forked "
                     "children read it all and write it a quarter at a time; minor faults "
                     "(cumulative since fork), RSS and PSS of a child: median [min .. max] of "
                     "%d runs x %u children", (unsigned long long)o->mb, W, R, W);
    for (int r = 0; r < R && !rc; r++) {
        pthread_barrierattr_t ba;
        pthread_barrierattr_init(&ba);
        pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
        pthread_barrier_init(&s->step, &ba, W);
        pthread_barrierattr_destroy(&ba);
        unsigned started = 0;
        for (; started < W; started++) {
            uint64_t t0 = runner_now_ns();
            pid_t pid = fork();
            if (pid < 0) {
                rc = die(PARLAB_EXIT_OS, "pitfall cow: fork: %s", strerror(errno));
                break;
            }
            if (pid == 0)
                cow_child(s, started, mem, bytes);
            forkns[r * (int)W + (int)started] = (double)(runner_now_ns() - t0);
            runner_child_add(pid);   /* after the timing: a signal ending us reaps it too */
            pids[started] = pid;
        }
        for (unsigned w = 0; w < started; w++) {
            int st;
            if (rc)
                kill(pids[w], SIGKILL);
            while (waitpid(pids[w], &st, 0) < 0 && errno == EINTR)
                ;
            runner_child_del(pids[w]);
            if (!rc && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
                rc = die(PARLAB_EXIT_SOFTWARE, "pitfall cow: child %u (pid %ld) %s", w,
                         (long)pids[w], WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "failed");
        }
        pthread_barrier_destroy(&s->step);
        for (unsigned w = 0; w < W && !rc; w++)
            for (int p = 0; p < COW__PHASES; p++) {
                const struct cow_rec *c = &s->rec[(size_t)w * COW__PHASES + (size_t)p];
                size_t i = ((size_t)p * 4) * (size_t)n + (size_t)(r * (int)W + (int)w);
                all[i] = c->faults;
                all[i + (size_t)n] = c->rss_kib;
                all[i + 2 * (size_t)n] = c->pss_kib;
                all[i + 3 * (size_t)n] = c->ns;
            }
    }
    if (rc)
        goto out;
    struct fig fk = { "", BU_NS, forkns, n };
    pf_emit(o, "cow", W, NAN, &fk, NULL, 0, "fork() of the %llu MiB parent",
            (unsigned long long)o->mb);
    for (int p = 0; p < COW__PHASES; p++) {
        double *base = all + (size_t)p * 4 * (size_t)n;
        struct fig main = { "minor faults", BU_COUNT, base, n };
        struct fig extra[] = { { "RSS", BU_KIB, base + n, n }, { "PSS", BU_KIB, base + 2 * n, n },
                               { "time", BU_NS, base + 3 * n, n } };
        size_t written = p <= COW_READ ? 0 : p == COW_W25 ? bytes / 4 : p == COW_W50 ? bytes / 2 : bytes;
        pf_emit(o, "cow", W, NAN, &main, extra, 3, "%s (%zu pages written)", cow_phase[p],
                written / 4096);
    }
    bench_table_note(&o->tab, "reading shares: no faults and PSS about %llu/%u MiB. Writing "
                     "copies: one fault and one new 4 KiB page per page written, so PSS grows "
                     "towards the whole array in every child.", (unsigned long long)o->mb, W + 1);
out:
    if (mem != MAP_FAILED)
        munmap(mem, bytes);
    if (s)
        job_shared_free(s, shm_len);
    free(pids);
    free(all);
    return rc;
}

/* ---- false sharing ----------------------------------------------------------------- */

static int pf_false_sharing(struct pf_opts *o)
{
    double ns[BENCH_MAX_REPEAT], fin[BENCH_MAX_REPEAT];
    bench_table_note(&o->tab, "false-sharing: %u workers each add 1 to their own counter %llu "
                     "times; ns per increment, median [min .. max] of %d runs", o->workers,
                     (unsigned long long)o->ops, o->R);
    if (o->workers < 2)
        bench_table_note(&o->tab, "with one worker no line is shared: both layouts cost the same");
    for (int k = 0; k < 2; k++) {
        if (!(o->kinds & (1 << k)))
            continue;
        double padded = NAN;
        for (int u = 0; u < 2; u++) {
            struct outcome oc = { 0 };
            const char *m = u ? "unpadded" : "padded";
            if (share_measure(m, k ? POOL_THREAD : POOL_FORK, o->workers, o->ops, o->R, ns, fin,
                              &oc))
                return die(oc.code, "%s", oc.msg);
            for (int i = 0; i < o->R; i++)
                if (fin[i] != (double)o->ops * o->workers)
                    return die(PARLAB_EXIT_WRONG, "pitfall false-sharing: %s counted %.0f, "
                               "expected %llu", m, fin[i],
                               (unsigned long long)o->ops * o->workers);
            double med = median_copy(ns, o->R);
            if (!u)
                padded = med;
            struct fig main = { "", BU_NS, ns, o->R };
            pf_emit(o, "false-sh", o->workers, med / padded, &main, NULL, 0, "%s %s (%s)", kind_name(k), m,
                    u ? "all in one cache line" : "a cache line each");
        }
    }
    bench_table_note(&o->tab, "ratio: against padded. The counters are private to each worker; "
                     "only their cache line is shared, and each write takes the line away "
                     "from the other core.");
    return 0;
}

/* ---- deadlock ---------------------------------------------------------------------- */

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
        uint64_t until = runner_now_ns() + 1000000000u;   /* at most 1 s to line up */
        while ((n = atomic_load(&a.s->arrived)) < a.s->workers && runner_now_ns() < until)
            sync_wait(&a.s->arrived, n, 10000000u);
    }
    r.lined_up = atomic_load(&a.s->arrived) >= a.s->workers;
    uint64_t t0 = runner_now_ns();
    struct pool_future *f = pool_submit(a.p, dl_inner, NULL, 0, sizeof v);
    if (!f)
        return errno ? errno : EAGAIN;
    r.rc = pool_future_get(f, &v, 2000, &e);
    r.ns = (double)(runner_now_ns() - t0);
    if (r.rc == -EDEADLK || r.rc == -ETIMEDOUT)
        r.inner = f;                 /* still valid: the parent, outside the pool, gets it */
    memcpy(out, &r, sizeof r);
    return 0;
}

/* Part one: W outer calls on a pool of W. 0, or an exit status with the message printed. */
static int dl_self_submit(struct pf_opts *o, int k)
{
    enum pool_kind kind = k ? POOL_THREAD : POOL_FORK;
    unsigned W = o->workers;
    struct dl_shm *s = job_shared_alloc(sizeof *s);
    double ns[BENCH_MAX_REPEAT];
    int hits = 0, others_done = 0, others = 0, rc = 0;
    struct pool_future **f = calloc(W, sizeof *f);

    if (!s || !f) {
        rc = die(PARLAB_EXIT_OS, "pitfall deadlock: %s", strerror(errno));
        goto out;
    }
    s->workers = W;
    for (int r = 0; r < o->R && !rc; r++) {
        int err = 0, seen = 0;
        atomic_store(&s->arrived, 0);
        struct pool *p = pool_create(kind, W, NULL, NULL, 0, &err, NULL);
        if (!p) {
            rc = die(PARLAB_EXIT_OS, "pitfall deadlock: %u %s workers: %s", W, kind_name(k),
                     strerror(-err));
            break;
        }
        struct dl_in in = { p, s };
        for (unsigned i = 0; i < W; i++)
            if (!(f[i] = pool_submit(p, dl_outer, &in, sizeof in, sizeof(struct dl_out)))) {
                rc = die(PARLAB_EXIT_SOFTWARE, "pitfall deadlock: pool_submit: %s", strerror(errno));
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
                rc = die(PARLAB_EXIT_SOFTWARE, "pitfall deadlock: outer call %u: %s %s", i,
                         g < 0 ? strerror(-g) : "returned an error", why);
                break;
            }
            if (!out.lined_up)
                bench_table_note(&o->tab, "%s: run %d: the workers did not all line up in 1 s",
                                 kind_name(k), r + 1);
            if (out.inner) {
                /* The queued inner call runs once a worker is free; the parent is no
                 * worker, so it may wait for it (and so releases the future). */
                int v = 0, g2 = pool_future_get(out.inner, &v, 2000, &e);
                if (g2 != 0 || v != 7) {
                    rc = die(PARLAB_EXIT_SOFTWARE, "pitfall deadlock: the inner call left "
                             "behind gave %d (%s)", g2, g2 < 0 ? strerror(-g2) : "its value");
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
            rc = die(PARLAB_EXIT_SOFTWARE, "pitfall deadlock: %s pool: %d of %u outer calls got "
                     "-EDEADLK, expected 1", kind_name(k), seen, W);
        }
    }
    if (!rc) {
        struct fig main = { "", BU_NS, ns, hits };
        char note[160];
        pf_emit(o, "deadlock", W, NAN, &main, NULL, 0, "%s pool: get() on its own pool -> -EDEADLK",
                kind_name(k));
        snprintf(note, sizeof note, "%s pool W=%u: in %d of %d runs one outer call got "
                 "-EDEADLK (%s); %d of the %d others completed once its worker was free",
                 kind_name(k), W, hits, o->R, strerror(EDEADLK), others_done, others);
        bench_table_note(&o->tab, "%s", note);
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
    uint64_t t0 = runner_now_ns();
    int rc = pthread_mutex_timedlock(second, &until);
    s->waited_ns[task] = (double)(runner_now_ns() - t0);
    s->rc[task] = rc;
    if (rc == 0)
        pthread_mutex_unlock(second);
    if (s->inverted)
        pthread_barrier_wait(&s->both);   /* no one lets go before both have tried */
    pthread_mutex_unlock(first);
}

/* Part two: two workers, two locks. 0, or an exit status with the message printed. */
static int dl_lock_order(struct pf_opts *o, int k)
{
    enum pool_kind kind = k ? POOL_THREAD : POOL_FORK;
    struct dl_shm *s = job_shared_alloc(sizeof *s);
    struct dl_shm *ctx = s;          /* made before the pool: every worker has this pointer */
    double waited[2][BENCH_MAX_REPEAT * 2];
    int timeouts[2] = { 0, 0 }, n[2] = { 0, 0 }, rc = 0, err = 0;
    pthread_mutexattr_t ma;
    pthread_barrierattr_t ba;

    if (!s)
        return die(PARLAB_EXIT_OS, "pitfall deadlock: %s", strerror(errno));
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
        rc = die(PARLAB_EXIT_OS, "pitfall deadlock: 2 %s workers: %s", kind_name(k), strerror(-err));
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
                rc = die(PARLAB_EXIT_SOFTWARE, "pitfall deadlock: lock order: %s", why);
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
    struct fig inv_fig = { "", BU_NS, waited[1], n[1] };
    pf_emit(o, "deadlock", 2, NAN, &inv_fig, NULL, 0, "%s: a->b and b->a: timedlock waited",
            kind_name(k));
    bench_table_note(&o->tab, "%s: lock-order inversion caught: %d of %d attempts gave up with "
                     "ETIMEDOUT after %u ms (worker 0 held a and wanted b; worker 1 held b and "
                     "wanted a)", kind_name(k), timeouts[1], n[1], s->lock_ms);
    struct fig ok_fig = { "", BU_NS, waited[0], n[0] };
    pf_emit(o, "deadlock", 2, NAN, &ok_fig, NULL, 0, "%s: the fix, a->b in both: waited",
            kind_name(k));
    bench_table_note(&o->tab, "%s: one lock order for everyone: %d of %d got both locks",
                     kind_name(k), n[0] - timeouts[0], n[0]);
    if (timeouts[1] != n[1] || timeouts[0] != 0)
        rc = die(PARLAB_EXIT_SOFTWARE, "pitfall deadlock: lock order: %d of %d inverted attempts "
                 "timed out (expected all), %d of %d ordered ones (expected none)", timeouts[1],
                 n[1], timeouts[0], n[0]);
out:
    pthread_barrier_destroy(&s->both);
    pthread_mutex_destroy(&s->a);
    pthread_mutex_destroy(&s->b);
    job_shared_free(s, sizeof *s);
    return rc;
}

static int pf_deadlock(struct pf_opts *o)
{
    int rc;
    bench_table_note(&o->tab, "deadlock: (1) on a pool of %u, every worker runs a task that "
                     "submits to the same pool and waits for it: nobody is left to run what "
                     "they wait for. Python's Pool hangs; pool_future_get returns -EDEADLK. "
                     "Time from get() to the error, median [min .. max] of %d runs.",
                     o->workers, o->R);
    for (int k = 0; k < 2; k++)
        if ((o->kinds & (1 << k)) && (rc = dl_self_submit(o, k)))
            return rc;
    bench_table_note(&o->tab, "deadlock: (2) two workers take two locks in opposite orders; "
                     "pthread_mutex_timedlock (%llu ms) turns the hang into ETIMEDOUT",
                     (unsigned long long)o->lock_ms);
    for (int k = 0; k < 2; k++)
        if ((o->kinds & (1 << k)) && (rc = dl_lock_order(o, k)))
            return rc;
    return 0;
}

/* ---- pickling ---------------------------------------------------------------------- */

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

static int pk_case(struct pf_opts *o, struct pool *p, enum pool_kind kind, struct pk_ctx *c,
                   pool_task_fn fn, uint64_t arg, const char *what, uint32_t want,
                   int expect_right)
{
    unsigned W = o->workers;
    struct pool_error e;
    double v[1024];
    if (pool_map(p, W, SCHED_STATIC, 0, fn, c, arg, &e)) {
        char why[200];
        pool_error_str(&e, kind, why, sizeof why);
        return die(PARLAB_EXIT_SOFTWARE, "pitfall pickling: %s: %s", what, why);
    }
    int right = 0;
    for (unsigned w = 0; w < W; w++) {
        v[w] = (double)c->seen[w];
        right += c->seen[w] == want;
    }
    struct fig main = { "", BU_COUNT, v, (int)W };
    pf_emit(o, "pickling", W, NAN, &main, NULL, 0, "%s %s", kind_name(kind == POOL_THREAD), what);
    bench_table_note(&o->tab, "  %u of %u workers read %u%s", (unsigned)right, W, want,
                     right == (int)W ? "" : right ? " (some did not)" : ": each read its own stale copy");
    if ((right == (int)W) != expect_right)
        return die(PARLAB_EXIT_SOFTWARE, "pitfall pickling: %s: %d of %u workers read %u, "
                   "expected %s", what, right, W, want, expect_right ? "all" : "none");
    return 0;
}

static int pf_pickling(struct pf_opts *o)
{
    unsigned W = o->workers;
    size_t seen_len = W * sizeof(uint64_t);
    int rc = 0, err = 0;
    struct pk_ctx c = { 0 };
    struct rlimit nocore = { 0, 0 };
    struct pool *p = NULL;
    struct record *late = MAP_FAILED;

    if (W > 1024)
        W = o->workers = 1024;
    bench_table_note(&o->tab, "pickling: the parent sets a record's value to %u after the pool "
                     "started (it was %u before); each of %u workers reads it and reports the value "
                     "it saw (median [min .. max] over the workers)", PICKLE_MAGIC, PICKLE_OLD, W);
    c.early = malloc(sizeof *c.early);
    c.shared = job_shared_alloc(sizeof *c.shared);
    c.seen = job_shared_alloc(seen_len);
    if (!c.early || !c.shared || !c.seen) {
        rc = die(PARLAB_EXIT_OS, "pitfall pickling: %s", strerror(errno));
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
            rc = die(PARLAB_EXIT_OS, "pitfall pickling: %u %s workers: %s", W, kind_name(k),
                     strerror(-err));
            break;
        }
        /* After the workers exist: */
        c.early->value = PICKLE_MAGIC;
        c.shared->value = PICKLE_MAGIC;
        struct record msg = { .value = PICKLE_MAGIC, .name = "serialised" };
        memcpy(pool_arena(p, NULL), &msg, sizeof msg);

        rc = pk_case(o, p, kind, &c, pk_read_ptr, (uint64_t)(uintptr_t)c.early,
                     "pointer to heap, set after start", PICKLE_MAGIC, kind == POOL_THREAD);
        if (!rc)
            rc = pk_case(o, p, kind, &c, pk_read_ptr, (uint64_t)(uintptr_t)c.shared,
                         "fix 1: shared memory made before start", PICKLE_MAGIC, 1);
        if (!rc)
            rc = pk_case(o, p, kind, &c, pk_read_arena, (uint64_t)(uintptr_t)pool_arena(p, NULL),
                         "fix 2: record serialised into arena", PICKLE_MAGIC, 1);
        if (rc)
            break;

        /* Memory mapped after the fork: the address does not exist in a forked worker. */
        late = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (late == MAP_FAILED) {
            rc = die(PARLAB_EXIT_OS, "pitfall pickling: mmap: %s", strerror(errno));
            break;
        }
        late->value = PICKLE_MAGIC;
        struct pool_error e;
        int mrc = pool_map(p, W, SCHED_STATIC, 0, pk_read_ptr, &c, (uint64_t)(uintptr_t)late, &e);
        if (kind == POOL_FORK) {
            char why[200];
            if (mrc == 0) {
                rc = die(PARLAB_EXIT_SOFTWARE, "pitfall pickling: a forked worker read memory "
                         "mapped after the fork and did not crash");
            } else {
                pool_error_str(&e, kind, why, sizeof why);
                bench_table_note(&o->tab, "fork pointer to memory mapped after the fork: %s "
                                 "(the address is not mapped in the worker; the pool reports "
                                 "the crash and stops)", why);
                if (e.cause != POOL_CRASHED || e.signal != SIGSEGV)
                    rc = die(PARLAB_EXIT_SOFTWARE, "pitfall pickling: expected SIGSEGV, got: %s", why);
            }
        } else if (mrc != 0) {
            rc = die(PARLAB_EXIT_SOFTWARE, "pitfall pickling: a thread could not read its "
                     "own process's memory");
        } else {
            int right = 0;
            double v[1024];
            for (unsigned w = 0; w < W; w++) {
                v[w] = (double)c.seen[w];
                right += c.seen[w] == PICKLE_MAGIC;
            }
            struct fig main = { "", BU_COUNT, v, (int)W };
            pf_emit(o, "pickling", W, NAN, &main, NULL, 0,
                    "thread pointer to memory mapped after start");
            bench_table_note(&o->tab, "  %d of %u threads read %u: one address space",
                             right, W, PICKLE_MAGIC);
        }
        munmap(late, 4096);
        late = MAP_FAILED;
        pool_destroy(p);
        p = NULL;
    }
    if (!rc)
        bench_table_note(&o->tab, "a pointer is an address in one process. Hand workers values "
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

/* ---- chunking ---------------------------------------------------------------------- */

static int chunk_sweep(struct pf_opts *o, int k, const char *wlname, uint64_t size,
                       size_t tasks, int per_task)
{
#define NCHUNK 10
    static const size_t chunks[NCHUNK] = { 1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 0 };
    const struct workload *wl = wl_find(wlname);
    enum pool_kind kind = k ? POOL_THREAD : POOL_FORK;
    double ns[NCHUNK][BENCH_MAX_REPEAT], med[NCHUNK];
    size_t chunk[NCHUNK];
    size_t nc = 0, best = 0;
    struct bench_job bj;
    int e;

    if (!wl)
        return die(PARLAB_EXIT_SOFTWARE, "pitfall chunking: no %s workload", wlname);
    if ((e = bench_job_open(&bj, wl, size, tasks, o->workers, SCHED_DYNAMIC, 1)))
        return die(PARLAB_EXIT_OS, "pitfall chunking: %s setup: %s", wlname, strerror(-e));
    for (size_t i = 0; i < NCHUNK; i++) {
        struct outcome oc;
        char res[128], why[256];
        /* The sizes up to one chunk per worker, which is that last one. */
        size_t last = (tasks + o->workers - 1) / o->workers;
        chunk[i] = i < NCHUNK - 1 && chunks[i] < last ? chunks[i] : last;
        bj.plan.chunk = chunk[i];
        if (bench_pool_maps(kind, &bj, 1, o->R, ns[i], &oc)) {
            bench_job_close(&bj);
            return die(oc.code, "pitfall chunking: %s", oc.msg);
        }
        if (bench_job_result(&bj, res, sizeof res, why, sizeof why) == 0) {
            bench_job_close(&bj);
            return die(PARLAB_EXIT_WRONG, "pitfall chunking: %s chunk %zu: wrong result %s: %s",
                       wlname, chunks[i], res, why);
        }
        if (per_task)
            for (int r = 0; r < o->R; r++)
                ns[i][r] /= (double)tasks;
        med[i] = median_copy(ns[i], o->R);
        if (med[i] < med[best])
            best = i;
        nc = i + 1;
        if (chunk[i] == last)
            break;
    }
    bench_job_close(&bj);
    for (size_t i = 0; i < nc; i++) {
        struct fig main = { per_task ? "per task" : "wall", BU_NS, ns[i], o->R };
        pf_emit(o, "chunking", o->workers, med[i] / med[best], &main, NULL, 0,
                "%s %s chunk %zu%s", kind_name(k), wlname, chunk[i],
                chunk[i] * o->workers >= tasks ? " (1 per worker)" : i == best ? " (best)" : "");
    }
    bench_table_note(&o->tab, "%s %s: the sweet spot is chunk %zu (ratio: against it)",
                     kind_name(k), wlname, chunk[best]);
    return 0;
}

static int pf_chunking(struct pf_opts *o)
{
    /* Tasks of a few numbers each, so that a claim per task is a visible share. */
    size_t ptasks = o->size / 4 < (1u << 20) ? (size_t)(o->size / 4) : (1u << 20);
    int rc;
    if (ptasks < 1)
        ptasks = 1;
    bench_table_note(&o->tab, "chunking: dynamic schedule on a warm pool of %u, chunk = tasks "
                     "per claim. noop: %llu tasks, time per task; primes N=%llu in %zu tasks: "
                     "wall. Median [min .. max] of %d maps.", o->workers,
                     (unsigned long long)o->tasks, (unsigned long long)o->size, ptasks, o->R);
    for (int k = 0; k < 2; k++) {
        if (!(o->kinds & (1 << k)))
            continue;
        if ((rc = chunk_sweep(o, k, "noop", o->tasks, (size_t)o->tasks, 1)))
            return rc;
        if ((rc = chunk_sweep(o, k, "primes", o->size, ptasks, 0)))
            return rc;
    }
    bench_table_note(&o->tab, "small chunks pay a claim per task; big chunks leave workers "
                     "idle while one finishes a costly chunk (primes grow dearer with N)");
    return 0;
}

/* ---- the command ------------------------------------------------------------------- */

static const struct pitfall pitfalls[] = {
    { "oversubscribe", "1x, 2x, 8x, 32x as many workers as CPUs on CPU work: time and context switches",
      PO_RUNNER | PO_SIZE | PO_REPEAT | PO_FORMAT, 1, pf_oversubscribe },
    { "cow", "fork shares memory until it is written: reading is free, writing copies pages",
      PO_MB | PO_WORKERS | PO_REPEAT | PO_FORMAT, 1, pf_cow },
    { "false-sharing", "private counters in one cache line slow each other down; pad them",
      PO_RUNNER | PO_WORKERS | PO_OPS | PO_REPEAT | PO_FORMAT, 3, pf_false_sharing },
    { "deadlock", "a task waiting on its own pool (-EDEADLK), and locks taken in opposite orders",
      PO_RUNNER | PO_WORKERS | PO_REPEAT | PO_LOCK_MS | PO_FORMAT, 3, pf_deadlock },
    { "pickling", "a pointer made in the parent after the fork means nothing in a worker",
      PO_RUNNER | PO_WORKERS | PO_FORMAT, 3, pf_pickling },
    { "chunking", "dispatch cost against chunk size on noop and primes: the sweet spot",
      PO_RUNNER | PO_WORKERS | PO_SIZE | PO_TASKS | PO_REPEAT | PO_FORMAT, 1, pf_chunking },
    { NULL, NULL, 0, 0, NULL },
};

static void pitfall_usage(FILE *f)
{
    fprintf(f, "usage: parlab pitfall NAME [options]\n  the classic mistakes, run and measured:\n");
    for (const struct pitfall *p = pitfalls; p->name; p++)
        fprintf(f, "  %-14s %s\n", p->name, p->summary);
    fprintf(f,
        "options (each pitfall takes those that apply to it):\n"
        "  -r, --runner R    fork | thread (default: the pitfall's own, often both)\n"
        "  -j, --workers W   workers or children (default: the CPUs this process may use)\n"
        "  -n, --size N      primes size (oversubscribe, chunking; default 2M)\n"
        "  -t, --tasks T     noop tasks (chunking; default 1M)\n"
        "      --ops N       increments per worker (false-sharing; default 5M)\n"
        "      --mb M        array size in MiB (cow; default 256)\n"
        "      --lock-ms MS  lock wait before giving up (deadlock; default 100)\n"
        "      --repeat R    runs per figure (default 3)\n"
        "      --format F    text | csv\n");
}

enum { OPT_OPS = 256, OPT_MB, OPT_REPEAT, OPT_FORMAT, OPT_LOCK_MS };

static int pf_parse(const struct pitfall *pf, int argc, char **argv, struct pf_opts *o)
{
    static const struct option opts[] = {
        { "runner", required_argument, 0, 'r' }, { "workers", required_argument, 0, 'j' },
        { "size", required_argument, 0, 'n' }, { "tasks", required_argument, 0, 't' },
        { "ops", required_argument, 0, OPT_OPS }, { "mb", required_argument, 0, OPT_MB },
        { "repeat", required_argument, 0, OPT_REPEAT }, { "format", required_argument, 0, OPT_FORMAT },
        { "lock-ms", required_argument, 0, OPT_LOCK_MS }, { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    static const struct { int c; unsigned bit; } need[] = {
        { 'r', PO_RUNNER }, { 'j', PO_WORKERS }, { 'n', PO_SIZE }, { 't', PO_TASKS },
        { OPT_OPS, PO_OPS }, { OPT_MB, PO_MB }, { OPT_REPEAT, PO_REPEAT },
        { OPT_FORMAT, PO_FORMAT }, { OPT_LOCK_MS, PO_LOCK_MS },
    };
    enum out_format fmt = OUT_TEXT;
    uint64_t v;
    int c, st;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":r:j:n:t:h", opts, NULL)) != -1) {
        for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
            if (need[i].c == c && !(pf->opts & need[i].bit)) {
                const char *name = "?";
                for (const struct option *op = opts; op->name; op++)
                    if (op->val == c)
                        name = op->name;
                return die(PARLAB_EXIT_USAGE, "--%s %s: pitfall %s takes no such option", name,
                           optarg ? optarg : "", pf->name);
            }
        st = 0;
        switch (c) {
        case 'r': {
            enum pool_kind k;
            if ((st = bench_opt_pool("--runner", optarg, &k)))
                return st;
            o->kinds = k == POOL_FORK ? 1 : 2;
            break;
        }
        case 'j':
            st = parse_opt_count("-j", optarg, 1, pf->run == pf_pickling ? 1024 : 4096, &v);
            o->workers = (unsigned)v;
            break;
        case 'n': st = parse_opt_count("-n", optarg, 1000, 1000000000ull, &o->size); break;
        case 't': st = parse_opt_count("-t", optarg, 1, 1u << 24, &o->tasks); break;
        case OPT_OPS: st = parse_opt_count("--ops", optarg, 1, 10000000000ull, &o->ops); break;
        case OPT_MB: st = parse_opt_count("--mb", optarg, 1, 1u << 16, &o->mb); break;
        case OPT_LOCK_MS: st = parse_opt_count("--lock-ms", optarg, 1, 60000, &o->lock_ms); break;
        case OPT_REPEAT:
            st = parse_opt_count("--repeat", optarg, 1, BENCH_MAX_REPEAT, &v);
            o->R = (int)v;
            break;
        case OPT_FORMAT: st = bench_opt_format(optarg, &fmt); break;
        case 'h': pitfall_usage(stdout); return 0;
        default: return bench_opt_bad("pitfall", c, argv, optind);
        }
        if (st)
            return st;
    }
    if (optind < argc)
        return die(PARLAB_EXIT_USAGE, "unexpected argument '%s' (parlab pitfall --help)",
                   argv[optind]);
    o->tab.fmt = fmt;
    return -1;
}

int cmd_pitfall(int argc, char **argv)
{
    const struct pitfall *pf = NULL;
    struct machine m;
    int st;

    if (argc < 2) {
        printf("pitfalls (parlab pitfall NAME):\n");
        for (const struct pitfall *p = pitfalls; p->name; p++)
            printf("  %-14s %s\n", p->name, p->summary);
        return 0;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        pitfall_usage(stdout);
        return 0;
    }
    for (const struct pitfall *p = pitfalls; p->name; p++)
        if (strcmp(p->name, argv[1]) == 0)
            pf = p;
    if (!pf)
        return die(PARLAB_EXIT_USAGE, "pitfall %s: unknown pitfall (parlab pitfall lists them)",
                   argv[1]);

    struct pf_opts o = { .kinds = pf->default_kinds, .workers = cpus_allowed(), .size = 2000000,
                         .tasks = 1000000, .ops = 5000000, .mb = 256, .lock_ms = 100, .R = 3 };
    if ((st = pf_parse(pf, argc - 1, argv + 1, &o)) >= 0)
        return st;
    machine_read(&m);
    o.tab.f = stdout;
    o.tab.command = "pitfall";
    o.tab.host = m.host;
    if (o.tab.fmt == OUT_TEXT) {
        machine_print(stdout, &m);
        bench_table_load(&o.tab, "at the start");
        bench_table_note(&o.tab, "%-8s %-46s %30s %8s  %s", "section", "what",
                         "median [min .. max]", "ratio", "note");
    }
    return pf->run(&o);
}
