/* overhead.c: `parlab overhead`: what each building block of parallel code costs, side by
 * side in one run on one machine: starting processes and threads, starting pools,
 * dispatching a task, waking another thread, a lock and an atomic, and what all that
 * leaves of the speedup on real workloads. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"
#include "../runners/sync.h"

struct ov {
    int R;
    int quick;
    unsigned W;
    struct bench_table tab;
    double *v;                 /* R samples of the figure being measured */
    double omp_task_ns;        /* omp dynamic,1 per-task median: the dispatch yardstick */
    double thread_task_ns, fork_task_ns, fork_ready_ns;
    double thread_ratio, fork_ratio;  /* against omp: median of the per-round ratios */
    int wrong;                 /* a run gave a wrong answer */
};

/* Print the R samples in o->v as one row. ratio: NAN for none. */
static void emit(struct ov *o, const char *section, unsigned workers, enum bench_unit u,
                 double ratio, const char *note, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static void emit(struct ov *o, const char *section, unsigned workers, enum bench_unit u,
                 double ratio, const char *note, const char *fmt, ...)
{
    struct bench_row r = { .section = section, .workers = workers, .unit = u, .ratio = ratio };
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r.what, sizeof r.what, fmt, ap);
    va_end(ap);
    snprintf(r.note, sizeof r.note, "%s", note ? note : "");
    bench_stat_of(o->v, o->R, &r.st);
    bench_table_row(&o->tab, &r);
}

/* ---- processes and threads ------------------------------------------------------ */

/* R samples of fork()+_exit(0)+waitpid(), each the mean of k. 0 or -errno. Any process. */
static int measure_fork_wait(double *v, int R, int k)
{
    for (int r = 0; r < R; r++) {
        uint64_t t0 = runner_now_ns();
        for (int i = 0; i < k; i++) {
            pid_t pid = fork();
            if (pid < 0)
                return -errno;
            if (pid == 0)
                _exit(0);
            runner_child_add(pid);   /* a few ns against fork's ~100 us: no zombie if a signal ends us */
            while (waitpid(pid, NULL, 0) < 0)
                if (errno != EINTR)
                    return -errno;
            runner_child_del(pid);
        }
        v[r] = (double)(runner_now_ns() - t0) / k;
    }
    return 0;
}

/* What a child measures: fill v[0..R) and return 0 or -errno. */
typedef int (*child_measure_fn)(void *arg, double *v, int R);

/*
 * Run fn in a forked child so that what it changes (a 100 MiB heap, OpenMP's threads)
 * stays out of this process; the R samples come back over a pipe. 0, or -errno (-ECHILD
 * when the child failed). Parent only.
 */
static int in_child(child_measure_fn fn, void *arg, double *v, int R)
{
    int fd[2], st, rc = 0;
    if (pipe(fd))
        return -errno;
    pid_t pid = runner_fork_worker();   /* tracked: a signal ending us reaps it too */
    if (pid < 0) {
        rc = -errno;
        close(fd[0]);
        close(fd[1]);
        return rc;
    }
    if (pid == 0) {
        close(fd[0]);
        int e = fn(arg, v, R);
        if (e == 0 && write(fd[1], v, (size_t)R * sizeof *v) != (ssize_t)((size_t)R * sizeof *v))
            e = -EIO;
        _exit(e ? 1 : 0);
    }
    close(fd[1]);
    size_t want = (size_t)R * sizeof *v, got = 0;
    while (got < want) {
        ssize_t k = read(fd[0], (char *)v + got, want - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd[0]);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    runner_child_del(pid);
    if (got != want || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        rc = -ECHILD;
    return rc;
}

struct big_parent {
    size_t bytes;
    int k;
};

/* In a child: grow to a touched heap of `bytes`, then time fork+exit+wait from there. */
static int big_parent_fork(void *arg, double *v, int R)
{
    struct big_parent *b = arg;
    char *mem = malloc(b->bytes);
    if (!mem)
        return -ENOMEM;
    for (size_t i = 0; i < b->bytes; i += 4096)
        mem[i] = (char)i;            /* touched: every page is resident and mapped */
    int rc = measure_fork_wait(v, R, b->k);
    free(mem);
    return rc;
}

static int measure_fork_exec(double *v, int R, int k)
{
    for (int r = 0; r < R; r++) {
        uint64_t t0 = runner_now_ns();
        for (int i = 0; i < k; i++) {
            int st;
            pid_t pid = fork();
            if (pid < 0)
                return -errno;
            if (pid == 0) {
                execl("/bin/true", "true", (char *)NULL);
                _exit(127);
            }
            runner_child_add(pid);
            while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                    return -errno;
            runner_child_del(pid);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return -ENOEXEC;
        }
        v[r] = (double)(runner_now_ns() - t0) / k;
    }
    return 0;
}

static void *empty_thread(void *arg)
{
    return arg;
}

static int measure_thread_create(double *v, int R, int k)
{
    for (int r = 0; r < R; r++) {
        uint64_t t0 = runner_now_ns();
        for (int i = 0; i < k; i++) {
            pthread_t t;
            int e = pthread_create(&t, NULL, empty_thread, NULL);
            if (e)
                return -e;
            pthread_join(t, NULL);
        }
        v[r] = (double)(runner_now_ns() - t0) / k;
    }
    return 0;
}

/* pool_create's own ready time: from the call until every worker waits for work. */
static int measure_pool_ready(enum pool_kind kind, unsigned W, double *v, int R)
{
    for (int r = 0; r < R; r++) {
        int err = 0;
        uint64_t ready = 0;
        struct pool *p = pool_create(kind, W, NULL, NULL, 0, &err, &ready);
        if (!p)
            return err;
        pool_destroy(p);
        v[r] = (double)ready;
    }
    return 0;
}

/* In a fresh child that has never run OpenMP: the first parallel region, thread start-up
 * included. One sample per child. */
static int omp_first_region(void *arg, double *v, int R)
{
    unsigned W = *(unsigned *)arg;
    static int seen;     /* static: nothing of this frame is captured (see runners/omp.c) */
    static char order;   /* the address OMP_ORDER_* name */
    (void)R;
    seen = 0;
    OMP_ORDER_RELEASE(&order);
    uint64_t t0 = runner_now_ns();
#pragma omp parallel num_threads(W)
    {
        OMP_ORDER_ACQUIRE(&order);
#pragma omp atomic
        seen++;
        OMP_ORDER_RELEASE(&order);
    }
    OMP_ORDER_ACQUIRE(&order);
    v[0] = (double)(runner_now_ns() - t0);
    return seen == (int)W ? 0 : -ESRCH;
}

static int section_processes(struct ov *o)
{
    int k = o->quick ? 4 : 20, e;
    struct big_parent big = { .bytes = (o->quick ? 16u : 100u) << 20, .k = o->quick ? 2 : 10 };

    /* First, while this process has never entered an OpenMP region. */
    for (int r = 0; r < o->R; r++)
        if ((e = in_child(omp_first_region, &o->W, &o->v[r], 1)))
            return die(PARLAB_EXIT_OS, "overhead: omp first parallel region in a child: %s",
                       strerror(-e));
    emit(o, "start", o->W, BU_NS, NAN, "threads start inside", "omp first parallel region W=%u",
         o->W);

    if ((e = measure_fork_wait(o->v, o->R, k)))
        return die(PARLAB_EXIT_OS, "overhead: fork: %s", strerror(-e));
    emit(o, "process", 1, BU_NS, NAN, "", "fork+exit+wait (small parent)");
    if ((e = in_child(big_parent_fork, &big, o->v, o->R)))
        return die(PARLAB_EXIT_OS, "overhead: fork from a %zu MiB parent: %s", big.bytes >> 20,
                   strerror(-e));
    emit(o, "process", 1, BU_NS, NAN, "page tables are copied", "fork+exit+wait (%zu MiB touched parent)",
         big.bytes >> 20);
    if ((e = measure_fork_exec(o->v, o->R, o->quick ? 2 : 10)))
        return die(PARLAB_EXIT_OS, "overhead: fork+exec /bin/true: %s", strerror(-e));
    emit(o, "process", 1, BU_NS, NAN, "", "fork+exec /bin/true+wait");
    if ((e = measure_thread_create(o->v, o->R, o->quick ? 20 : 200)))
        return die(PARLAB_EXIT_OS, "overhead: pthread_create: %s", strerror(-e));
    emit(o, "thread", 1, BU_NS, NAN, "", "pthread_create+join");

    if ((e = measure_pool_ready(POOL_FORK, o->W, o->v, o->R)))
        return die(PARLAB_EXIT_OS, "overhead: fork pool of %u: %s", o->W, strerror(-e));
    {
        struct bench_stat s;
        double tmp[BENCH_MAX_REPEAT];
        memcpy(tmp, o->v, (size_t)o->R * sizeof *tmp);
        bench_stat_of(tmp, o->R, &s);
        o->fork_ready_ns = s.median;
    }
    emit(o, "start", o->W, BU_NS, NAN, "pool_create ready_ns", "fork pool ready W=%u", o->W);
    if ((e = measure_pool_ready(POOL_THREAD, o->W, o->v, o->R)))
        return die(PARLAB_EXIT_OS, "overhead: thread pool of %u: %s", o->W, strerror(-e));
    emit(o, "start", o->W, BU_NS, NAN, "pool_create ready_ns", "thread pool ready W=%u", o->W);
    return 0;
}

/* ---- dispatch ---------------------------------------------------------------------- */

/* Check the job's answer after a run; a wrong one is counted, not fatal. */
static void check_answer(struct ov *o, struct bench_job *bj, const char *runner,
                         const char *want)
{
    char res[128], why[256];
    int v = bench_job_result(bj, res, sizeof res, why, sizeof why);
    if (v == 0 || (v < 0 && want && strcmp(res, want) != 0)) {
        o->wrong = 1;
        fprintf(stderr, "parlab: %s %s: wrong result %s%s%s\n", bj->job.wl->name, runner, res,
                *why ? ": " : "", why);
    }
}

/* R timed runs of the job under r after `warm` untimed ones: wall ns in o->v. */
static int runner_samples(struct ov *o, struct bench_job *bj, const struct runner *r, int warm,
                          const char *want)
{
    struct outcome oc;
    struct bench_sample smp;
    for (int i = 0; i < warm + o->R; i++) {
        if (bench_job_run(bj, r, &smp, &oc))
            return die(oc.code, "overhead: %s %s: %s", bj->job.wl->name, r->name, oc.msg);
        check_answer(o, bj, r->name, want);
        if (i >= warm)
            o->v[i - warm] = smp.wall_ns;
    }
    if (r->flags & RUNNER_PARALLEL)
        bench_pause_ms(20);     /* let spinning OpenMP threads go to sleep */
    return 0;
}

static void per_task(struct ov *o, size_t tasks)
{
    for (int i = 0; i < o->R; i++)
        o->v[i] /= (double)tasks;
}

static double median_of(const struct ov *o)
{
    double tmp[BENCH_MAX_REPEAT];
    struct bench_stat s;
    memcpy(tmp, o->v, (size_t)o->R * sizeof *tmp);
    bench_stat_of(tmp, o->R, &s);
    return s.median;
}

/* Emit x[r] / y[r] over the rounds as a row of its own and return its median: a ratio
 * that load drifting between rounds leaves alone, since both samples of a round saw the
 * same machine. */
static double emit_ratio(struct ov *o, const double *x, const double *y, const char *what)
{
    for (int i = 0; i < o->R; i++)
        o->v[i] = x[i] / y[i];
    double m = median_of(o);
    emit(o, "dispatch", o->W, BU_X, NAN, "per-round ratio, then median", "%s / omp per task",
         what);
    return m;
}

/* Copy R samples into o->v, per task. */
static void take(struct ov *o, const double *v, size_t tasks)
{
    for (int i = 0; i < o->R; i++)
        o->v[i] = v[i] / (double)tasks;
}

/*
 * Per-task cost on noop tasks, dynamic chunk 1. The omp, thread, fork and epoll samples are
 * taken in turn, one of each per round, so that load from elsewhere on the machine falls
 * on all of them alike; the pools stay warm throughout.
 */
static int section_dispatch(struct ov *o)
{
    const struct workload *noop = wl_find("noop");
    const struct runner *omp = runner_find("omp"), *ep = runner_find("epoll");
    const struct runner *spawn = runner_find("spawn");
    size_t tasks = o->quick ? 100000 : 1000000, spawn_tasks = o->quick ? 100 : 2000;
    double s_omp[BENCH_MAX_REPEAT], s_thr[BENCH_MAX_REPEAT], s_fork[BENCH_MAX_REPEAT],
        s_ep[BENCH_MAX_REPEAT];
    struct pool *tp = NULL, *fp = NULL;
    struct bench_job bj;
    struct bench_sample smp;
    struct outcome oc = { 0 };
    int e, st = 0;
    char note[160];

    if (!noop)
        return die(PARLAB_EXIT_SOFTWARE, "overhead: no noop workload");
    if ((e = bench_job_open(&bj, noop, tasks, tasks, o->W, SCHED_DYNAMIC, 1)))
        return die(PARLAB_EXIT_OS, "overhead: %zu noop slots: %s", tasks, strerror(-e));
    enum sched_kind ep_sched = ep && !(ep->schedules & SCHED_BIT(SCHED_DYNAMIC))
                                   ? ep->default_schedule : SCHED_DYNAMIC;

    /* The pools first, while no OpenMP thread exists to be copied into a fork. */
    if (!(tp = bench_pool_start(POOL_THREAD, &bj, 1, &oc)) ||
        !(fp = bench_pool_start(POOL_FORK, &bj, 1, &oc)))
        goto fail;
    check_answer(o, &bj, "fork", NULL);
    if (omp && bench_job_run(&bj, omp, &smp, &oc))           /* warm: OpenMP's threads */
        goto fail;
    bj.plan.schedule = ep_sched;
    if (ep && bench_job_run(&bj, ep, &smp, &oc))
        goto fail;
    bj.plan.schedule = SCHED_DYNAMIC;
    for (int r = 0; r < o->R; r++) {
        if (omp) {
            if (bench_job_run(&bj, omp, &smp, &oc))
                goto fail;
            s_omp[r] = smp.wall_ns;
            check_answer(o, &bj, "omp", NULL);
            bench_pause_ms(20);      /* OpenMP's idle threads spin for a while: let them sleep */
        }
        if (bench_pool_time(tp, &bj, &s_thr[r], &oc))
            goto fail;
        check_answer(o, &bj, "thread", NULL);
        if (bench_pool_time(fp, &bj, &s_fork[r], &oc))
            goto fail;
        check_answer(o, &bj, "fork", NULL);
        if (ep) {
            bj.plan.schedule = ep_sched;
            if (bench_job_run(&bj, ep, &smp, &oc))
                goto fail;
            bj.plan.schedule = SCHED_DYNAMIC;
            s_ep[r] = smp.wall_ns;
            check_answer(o, &bj, "epoll", NULL);
        }
    }
    pool_destroy(tp);
    pool_destroy(fp);
    tp = fp = NULL;

    snprintf(note, sizeof note, "%zu noop tasks, warm, in turn with the others", tasks);
    if (omp) {
        take(o, s_omp, tasks);
        o->omp_task_ns = median_of(o);
        emit(o, "dispatch", o->W, BU_NS, NAN, note, "omp dynamic chunk 1 per task");
    } else {
        bench_table_note(&o->tab, "omp: not built; dispatch ratios are left out");
    }
    take(o, s_thr, tasks);
    o->thread_task_ns = median_of(o);
    emit(o, "dispatch", o->W, BU_NS, NAN, note, "thread pool dynamic chunk 1 per task");
    take(o, s_fork, tasks);
    o->fork_task_ns = median_of(o);
    emit(o, "dispatch", o->W, BU_NS, NAN, note, "fork pool dynamic chunk 1 per task");
    if (ep) {
        take(o, s_ep, tasks);
        snprintf(note, sizeof note, "%zu noop tasks, one loop, %s", tasks, sched_name(ep_sched));
        emit(o, "dispatch", 1, BU_NS, NAN, note, "epoll loop per task");
    } else {
        bench_table_note(&o->tab, "epoll: runner not built yet (parlab list does not show it); "
                                  "its dispatch row is skipped");
    }
    if (omp) {
        o->thread_ratio = emit_ratio(o, s_thr, s_omp, "thread pool");
        o->fork_ratio = emit_ratio(o, s_fork, s_omp, "fork pool");
        if (ep)
            emit_ratio(o, s_ep, s_omp, "epoll loop");
    }
    bench_job_close(&bj);

    if (spawn) {
        if ((e = bench_job_open(&bj, noop, spawn_tasks, spawn_tasks, o->W, SCHED_DYNAMIC, 1)))
            return die(PARLAB_EXIT_OS, "overhead: noop slots: %s", strerror(-e));
        if ((st = runner_samples(o, &bj, spawn, 0, NULL))) {
            bench_job_close(&bj);
            return st;
        }
        per_task(o, spawn_tasks);
        snprintf(note, sizeof note, "%zu noop tasks, a fork each", spawn_tasks);
        if (o->omp_task_ns > 0)
            snprintf(note + strlen(note), sizeof note - strlen(note),
                     "; %.3g x the omp median", median_of(o) / o->omp_task_ns);
        emit(o, "dispatch", o->W, BU_NS, NAN, note, "spawn per task");
        bench_job_close(&bj);
    }
    return 0;
fail:
    if (tp)
        pool_destroy(tp);
    if (fp)
        pool_destroy(fp);
    bench_job_close(&bj);
    return die(oc.code ? oc.code : PARLAB_EXIT_SOFTWARE, "overhead: dispatch: %s", oc.msg);
}

/* ---- wake-ups ---------------------------------------------------------------------- */

enum wake_kind { WAKE_PIPE, WAKE_EVENTFD, WAKE_EPOLL, WAKE_FUTEX };

/* Two channels: ping (main -> echo) and pong (echo -> main). */
struct pingpong {
    enum wake_kind kind;
    int ping[2], pong[2];       /* pipe: [0] read end, [1] write end; eventfd: both same */
    int ep_ping, ep_pong;       /* epoll instances watching ping[0] and pong[0] */
    _Atomic uint32_t seq;       /* futex: odd after a ping, even after a pong */
    long rounds;
    int err;
};

static int pp_signal(struct pingpong *p, int *ch)
{
    if (p->kind == WAKE_PIPE) {
        char c = 1;
        return write(ch[1], &c, 1) == 1 ? 0 : -errno;
    }
    uint64_t one = 1;
    return write(ch[1], &one, 8) == 8 ? 0 : -errno;
}

static int pp_wait(struct pingpong *p, int *ch, int ep)
{
    if (p->kind == WAKE_EPOLL) {
        struct epoll_event ev;
        int n;
        while ((n = epoll_wait(ep, &ev, 1, -1)) < 0 && errno == EINTR)
            ;
        if (n != 1)
            return -errno;
    }
    if (p->kind == WAKE_PIPE) {
        char c;
        return read(ch[0], &c, 1) == 1 ? 0 : -errno;
    }
    uint64_t v;
    return read(ch[0], &v, 8) == 8 ? 0 : -errno;
}

/* The echo side: answer every ping with a pong. */
static void *pp_echo(void *arg)
{
    struct pingpong *p = arg;
    for (long i = 0; i < p->rounds && !p->err; i++) {
        if (p->kind == WAKE_FUTEX) {
            uint32_t s;
            while (((s = atomic_load(&p->seq)) & 1) == 0)
                sync_wait(&p->seq, s, 0);
            atomic_store(&p->seq, s + 1);
            sync_wake(&p->seq, 1);
            continue;
        }
        int e = pp_wait(p, p->ping, p->ep_ping);
        if (!e)
            e = pp_signal(p, p->pong);
        if (e)
            p->err = e;
    }
    return NULL;
}

static int pp_round(struct pingpong *p)
{
    if (p->kind == WAKE_FUTEX) {
        uint32_t s = atomic_fetch_add(&p->seq, 1) + 1;   /* now odd */
        sync_wake(&p->seq, 1);
        while (atomic_load(&p->seq) == s)
            sync_wait(&p->seq, s, 0);
        return 0;
    }
    int e = pp_signal(p, p->ping);
    return e ? e : pp_wait(p, p->pong, p->ep_pong);
}

static int pp_open(struct pingpong *p)
{
    p->ping[0] = p->ping[1] = p->pong[0] = p->pong[1] = p->ep_ping = p->ep_pong = -1;
    if (p->kind == WAKE_FUTEX)
        return 0;
    if (p->kind == WAKE_PIPE) {
        if (pipe(p->ping) || pipe(p->pong))
            return -errno;
        return 0;
    }
    p->ping[0] = p->ping[1] = eventfd(0, EFD_CLOEXEC);
    p->pong[0] = p->pong[1] = eventfd(0, EFD_CLOEXEC);
    if (p->ping[0] < 0 || p->pong[0] < 0)
        return -errno;
    if (p->kind == WAKE_EPOLL) {
        struct epoll_event ev = { .events = EPOLLIN };
        p->ep_ping = epoll_create1(EPOLL_CLOEXEC);
        p->ep_pong = epoll_create1(EPOLL_CLOEXEC);
        if (p->ep_ping < 0 || p->ep_pong < 0 ||
            epoll_ctl(p->ep_ping, EPOLL_CTL_ADD, p->ping[0], &ev) ||
            epoll_ctl(p->ep_pong, EPOLL_CTL_ADD, p->pong[0], &ev))
            return -errno;
    }
    return 0;
}

static void pp_close(struct pingpong *p)
{
    int fds[] = { p->ping[0], p->ping[1], p->pong[0], p->pong[1], p->ep_ping, p->ep_pong };
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
        if (fds[i] < 0)
            continue;
        for (size_t j = i + 1; j < sizeof fds / sizeof fds[0]; j++)
            if (fds[j] == fds[i])
                fds[j] = -1;        /* an eventfd is both ends: close it once */
        close(fds[i]);
    }
}

/* R samples of the round trip over `kind` between this thread and an echo thread. */
static int measure_wake(enum wake_kind kind, double *v, int R, long k)
{
    struct pingpong p = { .kind = kind, .rounds = 100 + (long)R * k };
    pthread_t t;
    int e = pp_open(&p);
    if (e)
        goto out;
    if ((e = -pthread_create(&t, NULL, pp_echo, &p)))
        goto out;
    for (long i = 0; i < 100 && !e; i++)    /* warm: both threads running, caches hot */
        e = pp_round(&p);
    for (int r = 0; r < R && !e; r++) {
        uint64_t t0 = runner_now_ns();
        for (long i = 0; i < k && !e; i++)
            e = pp_round(&p);
        v[r] = (double)(runner_now_ns() - t0) / (double)k;
    }
    if (e) {
        /* Unblock the echo thread before joining it. */
        p.err = e;
        pp_signal(&p, p.ping);
    }
    pthread_join(t, NULL);
    if (!e)
        e = p.err;
out:
    pp_close(&p);
    return e;
}

/* ---- locks and atomics ------------------------------------------------------------- */

struct contend {
    pthread_mutex_t lock;
    pthread_barrier_t start;
    alignas(PARLAB_CACHELINE) _Atomic uint64_t counter;
    alignas(PARLAB_CACHELINE) uint64_t plain;       /* guarded by lock */
    long k;
    int atomic;
    uint64_t t0[2], t1[2];
};

struct contend_arg {
    struct contend *c;
    int me;
};

static void contend_ops(struct contend *c)
{
    if (c->atomic) {
        for (long i = 0; i < c->k; i++)
            atomic_fetch_add_explicit(&c->counter, 1, memory_order_relaxed);
    } else {
        for (long i = 0; i < c->k; i++) {
            pthread_mutex_lock(&c->lock);
            c->plain++;
            pthread_mutex_unlock(&c->lock);
        }
    }
}

static void *contend_thread(void *arg)
{
    struct contend_arg *a = arg;
    struct contend *c = a->c;
    pthread_barrier_wait(&c->start);
    c->t0[a->me] = runner_now_ns();
    contend_ops(c);
    c->t1[a->me] = runner_now_ns();
    return NULL;
}

/*
 * R samples of one lock/unlock pair (or one fetch_add) as a thread sees it: alone, or
 * with a second thread doing the same. The counts are checked: a lost increment here
 * would mean a broken lock.
 */
static int measure_contend(int atomic, int threads, double *v, int R, long k)
{
    struct contend c = { .k = k, .atomic = atomic };
    int e = 0;
    pthread_mutex_init(&c.lock, NULL);
    pthread_barrier_init(&c.start, NULL, (unsigned)threads);
    for (int r = 0; r < R && !e; r++) {
        c.plain = 0;
        atomic_store(&c.counter, 0);
        if (threads == 1) {
            uint64_t t0 = runner_now_ns();
            contend_ops(&c);
            v[r] = (double)(runner_now_ns() - t0) / (double)k;
        } else {
            pthread_t t[2];
            struct contend_arg a[2] = { { &c, 0 }, { &c, 1 } };
            int made = 0;
            for (; made < 2; made++)
                if ((e = -pthread_create(&t[made], NULL, contend_thread, &a[made])))
                    break;
            if (made < 2) {
                /* The barrier would wait for ever: this is an OS failure, end here. */
                if (made == 1)
                    pthread_cancel(t[0]);
                for (int i = 0; i < made; i++)
                    pthread_join(t[i], NULL);
                break;
            }
            pthread_join(t[0], NULL);
            pthread_join(t[1], NULL);
            uint64_t lo = c.t0[0] < c.t0[1] ? c.t0[0] : c.t0[1];
            uint64_t hi = c.t1[0] > c.t1[1] ? c.t1[0] : c.t1[1];
            v[r] = (double)(hi - lo) / (double)k;
        }
        uint64_t got = atomic ? atomic_load(&c.counter) : c.plain;
        if (got != (uint64_t)threads * (uint64_t)k)
            e = -EPROTO;
    }
    pthread_barrier_destroy(&c.start);
    pthread_mutex_destroy(&c.lock);
    return e;
}

static int section_sync(struct ov *o)
{
    static const char *const wake_names[] = { "pipe", "eventfd", "epoll (eventfd)", "futex" };
    long rt = o->quick ? 200 : 2000, k1 = o->quick ? 100000 : 1000000, k2 = o->quick ? 20000 : 200000;
    int e;

    for (int w = WAKE_PIPE; w <= WAKE_FUTEX; w++) {
        if ((e = measure_wake((enum wake_kind)w, o->v, o->R, rt)))
            return die(PARLAB_EXIT_OS, "overhead: %s round trip: %s", wake_names[w], strerror(-e));
        emit(o, "wake", 2, BU_NS, NAN, "ping-pong, two threads", "round trip over %s",
             wake_names[w]);
    }
    for (int atomic = 0; atomic < 2; atomic++)
        for (int threads = 1; threads <= 2; threads++) {
            if ((e = measure_contend(atomic, threads, o->v, o->R, threads == 1 ? k1 : k2)))
                return die(e == -EPROTO ? PARLAB_EXIT_SOFTWARE : PARLAB_EXIT_OS,
                           "overhead: %s with %d threads: %s",
                           atomic ? "fetch_add" : "mutex", threads,
                           e == -EPROTO ? "increments were lost" : strerror(-e));
            emit(o, "sync", (unsigned)threads, BU_NS, NAN,
                 threads == 1 ? "per op, one thread" : "per op as each thread sees it",
                 "%s %s", atomic ? "atomic fetch_add" : "mutex lock+unlock",
                 threads == 1 ? "uncontended" : "contended by 2 threads");
        }
    return 0;
}

/* ---- speedups ---------------------------------------------------------------------- */

#define MAX_CONFIGS 32

/*
 * The speedup of every runner under every schedule it honours, on primes and mandelbrot.
 * Each round runs seq once and then every configuration once, and a speedup sample is
 * the round's seq time over the configuration's: the two saw the same machine, which on
 * a shared one matters more than anything else here.
 */
static int section_speedup(struct ov *o)
{
    static const char *const names[] = { "primes", "mandelbrot" };
    uint64_t sizes[2] = { o->quick ? 100000 : 2000000, o->quick ? 40000 : 1000000 };
    const struct runner *seq = runner_find("seq");
    struct { const struct runner *r; enum sched_kind s; } cf[MAX_CONFIGS];
    static double wall[MAX_CONFIGS][BENCH_MAX_REPEAT];
    double base[BENCH_MAX_REPEAT];
    struct outcome oc;
    struct bench_sample smp;
    char ref[128], why[256], note[160], size[32], ws[64];
    int n = 0;

    if (!seq)
        return 0;
    for (const struct runner *const *rp = runner_registry; *rp; rp++)
        for (int s = 0; s < SCHED__COUNT && n < MAX_CONFIGS; s++)
            if (*rp != seq && ((*rp)->schedules & SCHED_BIT(s)))
                cf[n].r = *rp, cf[n++].s = (enum sched_kind)s;

    for (int w = 0; w < 2; w++) {
        const struct workload *wl = wl_find(names[w]);
        struct bench_job bj;
        int e;
        if (!wl)
            continue;
        if ((e = bench_job_open(&bj, wl, sizes[w], 0, o->W, SCHED_STATIC, 0)))
            return die(PARLAB_EXIT_OS, "overhead: %s setup: %s", wl->name, strerror(-e));
        snprintf(size, sizeof size, "%llu", (unsigned long long)sizes[w]);
        ref[0] = '\0';
        for (int i = 0; i < o->R; i++) {
            bj.plan.schedule = seq->default_schedule;
            if (bench_job_run(&bj, seq, &smp, &oc))
                goto fail;
            base[i] = smp.wall_ns;
            if (i == 0 && bench_job_result(&bj, ref, sizeof ref, why, sizeof why) == 0) {
                o->wrong = 1;
                fprintf(stderr, "parlab: %s seq: wrong result: %s\n", wl->name, why);
            }
            for (int c = 0; c < n; c++) {
                bj.plan.schedule = cf[c].s;
                if (bench_job_run(&bj, cf[c].r, &smp, &oc))
                    goto fail;
                wall[c][i] = smp.wall_ns;
                check_answer(o, &bj, cf[c].r->name, ref);
                if (cf[c].r->flags & RUNNER_PARALLEL)
                    bench_pause_ms(20);     /* let spinning OpenMP threads go to sleep */
            }
        }
        memcpy(o->v, base, (size_t)o->R * sizeof *base);
        snprintf(note, sizeof note, "the baseline; result %s", ref);
        emit(o, "speedup", 1, BU_NS, NAN, note, "%s N=%s seq wall", wl->name, size);
        for (int c = 0; c < n; c++) {
            struct bench_stat st;
            memcpy(o->v, wall[c], (size_t)o->R * sizeof *base);
            bench_stat_of(o->v, o->R, &st);
            snprintf(note, sizeof note, "wall %s", bench_fmt_stat(ws, sizeof ws, &st, BU_NS));
            for (int i = 0; i < o->R; i++)
                o->v[i] = base[i] / wall[c][i];
            emit(o, "speedup", o->W, BU_X, NAN, note, "%s N=%s %s %s", wl->name, size,
                 cf[c].r->name, sched_name(cf[c].s));
        }
        bench_job_close(&bj);
        continue;
fail:
        bench_job_close(&bj);
        return die(oc.code, "overhead: %s: %s", wl->name, oc.msg);
    }
    return 0;
}

/* ---- the command ------------------------------------------------------------------- */

static void overhead_usage(FILE *f)
{
    fprintf(f,
        "usage: parlab overhead [--repeat R] [--format text|csv] [--quick]\n"
        "  what each building block costs, at W = the CPUs this process may use:\n"
        "  fork, fork+exec, pthread_create, pool start-up, per-task dispatch (thread, fork,\n"
        "  omp, epoll, spawn; also as a ratio to omp dynamic,1), wake-up round trips,\n"
        "  mutex and atomic costs, and the speedup of every runner and schedule.\n"
        "  Each figure is the median [min .. max] of R samples.\n"
        "      --repeat R    samples per figure (default 5)\n"
        "      --format F    text | csv\n"
        "      --quick       smaller sizes (for tests): every row, less time\n"
        "  -h, --help        this help\n");
}

/* The figures the project aims at, against what this run measured. */
static void targets(struct ov *o)
{
    struct bench_table *t = &o->tab;
    if (o->omp_task_ns > 0) {
        double rt = o->thread_ratio, rf = o->fork_ratio;
        bench_table_note(t, "target: thread dispatch <= 1.0x omp dynamic,1: %.2fx, %s", rt,
                         rt <= 1.0 ? "met" : "missed");
        bench_table_note(t, "target: fork dispatch <= 1.3x omp dynamic,1: %.2fx, %s", rf,
                         rf <= 1.3 ? "met" : "missed");
    }
    if (o->W == 2)
        bench_table_note(t, "target: fork pool ready <= 0.5 ms at W=2: %.3f ms, %s",
                         o->fork_ready_ns / 1e6, o->fork_ready_ns <= 5e5 ? "met" : "missed");
    else
        bench_table_note(t, "target: fork pool ready <= 0.5 ms is set for W=2; here W=%u", o->W);
}

enum { OPT_REPEAT = 256, OPT_FORMAT, OPT_QUICK };

int cmd_overhead(int argc, char **argv)
{
    static const struct option opts[] = {
        { "repeat", required_argument, 0, OPT_REPEAT },
        { "format", required_argument, 0, OPT_FORMAT },
        { "quick", no_argument, 0, OPT_QUICK },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    struct ov o = { .R = 5, .omp_task_ns = NAN, .thread_ratio = NAN, .fork_ratio = NAN };
    enum out_format fmt = OUT_TEXT;
    struct machine m;
    uint64_t val;
    int c, st;

    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_REPEAT:
            if ((st = parse_opt_count("--repeat", optarg, 1, BENCH_MAX_REPEAT, &val)))
                return st;
            o.R = (int)val;
            break;
        case OPT_FORMAT:
            if ((st = bench_opt_format(optarg, &fmt)))
                return st;
            break;
        case OPT_QUICK: o.quick = 1; break;
        case 'h': overhead_usage(stdout); return 0;
        default: return bench_opt_bad("overhead", c, argv, optind);
        }
    }
    if (optind < argc)
        return die(PARLAB_EXIT_USAGE, "unexpected argument '%s' (parlab overhead --help)",
                   argv[optind]);

    machine_read(&m);
    o.W = cpus_allowed();
    o.v = calloc((size_t)o.R, sizeof *o.v);
    if (!o.v)
        return die(PARLAB_EXIT_OS, "out of memory");
    o.tab = (struct bench_table){ .f = stdout, .fmt = fmt, .command = "overhead", .host = m.host };
    if (fmt == OUT_TEXT) {
        machine_print(stdout, &m);
        bench_table_note(&o.tab, "overhead: W = %u (the CPUs this process may use), R = %d "
                         "samples per figure: median [min .. max]%s", o.W, o.R,
                         o.quick ? "; --quick sizes" : "");
        bench_table_note(&o.tab, "%-8s %-46s %30s %8s  %s", "section", "what",
                         "median [min .. max]", "", "note");
    }
    bench_table_load(&o.tab, "at the start");
    st = section_processes(&o);
    if (!st)
        st = section_dispatch(&o);
    if (!st)
        st = section_sync(&o);
    if (!st)
        st = section_speedup(&o);
    if (!st) {
        targets(&o);
        bench_table_load(&o.tab, "at the end");
    }
    free(o.v);
    if (st)
        return st;
    return o.wrong ? PARLAB_EXIT_WRONG : PARLAB_EXIT_OK;
}
