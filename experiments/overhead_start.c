/* overhead_start.c: `parlab overhead` rows "start", "process", "thread": fork+exit+wait
 * from a small and a large parent, fork+exec, pthread_create, the first OpenMP region and
 * the start-up of a fork and a thread pool, and the process pool under each start method
 * (fork, forkserver, spawn): its start and a task's cost. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "overhead.h"

/* ---- processes and threads ------------------------------------------------------ */

/* R samples of fork()+_exit(0)+waitpid(), each the mean of k. 0 or -errno. Any process. */
static int measure_fork_wait(double *v, int R, int k)
{
    for (int r = 0; r < R; r++) {
        uint64_t t0 = clock_now_ns();
        for (int i = 0; i < k; i++) {
            pid_t pid = fork();
            if (pid < 0)
                return -errno;
            if (pid == 0)
                _exit(0);
            child_add(pid);   /* a few ns against fork's ~100 us: no zombie if a signal ends us */
            while (waitpid(pid, NULL, 0) < 0)
                if (errno != EINTR)
                    return -errno;
            child_del(pid);
        }
        v[r] = (double)(clock_now_ns() - t0) / k;
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
    pid_t pid = child_fork();   /* tracked: a signal ending us reaps it too */
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
    child_del(pid);
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
        uint64_t t0 = clock_now_ns();
        for (int i = 0; i < k; i++) {
            int st;
            pid_t pid = fork();
            if (pid < 0)
                return -errno;
            if (pid == 0) {
                execl("/bin/true", "true", (char *)NULL);
                _exit(127);
            }
            child_add(pid);
            while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                    return -errno;
            child_del(pid);
            if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return -ENOEXEC;
        }
        v[r] = (double)(clock_now_ns() - t0) / k;
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
        uint64_t t0 = clock_now_ns();
        for (int i = 0; i < k; i++) {
            pthread_t t;
            int e = pthread_create(&t, NULL, empty_thread, NULL);
            if (e)
                return -e;
            pthread_join(t, NULL);
        }
        v[r] = (double)(clock_now_ns() - t0) / k;
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

/* The same under a start method's ops (lib/start.c). */
static int measure_pool_ready_ops(const struct pool_ops *ops, unsigned W, double *v, int R)
{
    for (int r = 0; r < R; r++) {
        uint64_t ready = 0;
        struct pool_config cfg = { .ready_ns = &ready };
        struct pool *p;
        int err = pool_open(&p, ops, W, &cfg);
        if (err)
            return err;
        pool_destroy(p);
        v[r] = (double)ready;
    }
    return 0;
}

/* The forkserver's own start: the fork of a server from this process (stopped untimed). */
static int measure_forkserver_start(double *v, int R)
{
    for (int r = 0; r < R; r++) {
        uint64_t t0 = clock_now_ns();
        int err = pool_forkserver_start();
        v[r] = (double)(clock_now_ns() - t0);
        pool_forkserver_stop();
        if (err)
            return err;
    }
    return 0;
}

static void empty_task(void *ctx, uint64_t arg, size_t task, unsigned worker)
{
    (void)ctx, (void)arg, (void)task, (void)worker;
}

/* Per task of a map of n empty tasks (dynamic, chunk 1) on a warm pool started by ops:
 * what a task costs once the workers run, whatever started them. */
static int measure_pool_task(const struct pool_ops *ops, unsigned W, size_t n, double *v, int R)
{
    struct pool *p;
    struct pool_error e;
    int err = pool_open(&p, ops, W, NULL);
    if (err)
        return err;
    err = pool_map(p, n, SCHED_DYNAMIC, 1, empty_task, NULL, 0, &e) ? -ECHILD : 0;
    for (int r = 0; r < R && !err; r++) {
        uint64_t t0 = clock_now_ns();
        if (pool_map(p, n, SCHED_DYNAMIC, 1, empty_task, NULL, 0, &e))
            err = -ECHILD;
        v[r] = (double)(clock_now_ns() - t0) / (double)n;
    }
    pool_destroy(p);
    return err;
}

/* Each start method of the process pool side by side: the pool's start and a task's
 * cost, as ratios to fork's (multiprocessing.set_start_method's three). */
static int start_methods(struct ov *o)
{
    size_t n = o->quick ? 2000 : 20000;
    double ready[POOL_START__COUNT], task[POOL_START__COUNT];
    int e;
    if ((e = measure_forkserver_start(o->v, o->R)))
        return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: forkserver start: %s", strerror(-e));
    ov_emit(o, "start", 1, UNIT_NS, NAN, "forked once, before any job",
            "forkserver: the server's own start");
    for (int m = 0; m < POOL_START__COUNT; m++) {
        const char *name = pool_start_name((enum pool_start)m);
        if (m == POOL_START_FORKSERVER && (e = pool_forkserver_start()))
            return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: forkserver start: %s",
                            strerror(-e));
        e = measure_pool_ready_ops(pool_ops_start((enum pool_start)m), o->W, o->v, o->R);
        if (e) {
            pool_forkserver_stop();
            return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: %s pool of %u: %s", name, o->W,
                            strerror(-e));
        }
        ready[m] = ov_mean(o);
        ov_emit(o, "start", o->W, UNIT_NS, m ? ready[m] / ready[0] : NAN,
                m == POOL_START_SPAWN ? "exec of parlab per worker"
                : m == POOL_START_FORKSERVER ? "server already up" : "ratio: to start fork",
                "pool ready W=%u, --start %s", o->W, name);
        e = measure_pool_task(pool_ops_start((enum pool_start)m), o->W, n, o->v, o->R);
        pool_forkserver_stop();
        if (e)
            return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: %s pool tasks: %s", name,
                            strerror(-e));
        task[m] = ov_mean(o);
        ov_emit(o, "dispatch", o->W, UNIT_NS, m ? task[m] / task[0] : NAN, "empty tasks",
                "fork pool --start %s dynamic chunk 1 per task", name);
    }
    o->start_ready_ns[0] = ready[0];
    o->start_ready_ns[1] = ready[1];
    o->start_ready_ns[2] = ready[2];
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
    uint64_t t0 = clock_now_ns();
#pragma omp parallel num_threads(W)
    {
        OMP_ORDER_ACQUIRE(&order);
#pragma omp atomic
        seen++;
        OMP_ORDER_RELEASE(&order);
    }
    OMP_ORDER_ACQUIRE(&order);
    v[0] = (double)(clock_now_ns() - t0);
    return seen == (int)W ? 0 : -ESRCH;
}

int ov_section_processes(struct ov *o)
{
    int k = o->quick ? 4 : 20, e;
    struct big_parent big = { .bytes = (o->quick ? 16u : 100u) << 20, .k = o->quick ? 2 : 10 };

    /* First, while this process has never entered an OpenMP region. */
    for (int r = 0; r < o->R; r++)
        if ((e = in_child(omp_first_region, &o->W, &o->v[r], 1)))
            return fail_msg(&o->oc, PARLAB_EXIT_OS,
                            "overhead: omp first parallel region in a child: %s", strerror(-e));
    ov_emit(o, "start", o->W, UNIT_NS, NAN, "threads start inside", "omp first parallel region W=%u",
         o->W);

    if ((e = measure_fork_wait(o->v, o->R, k)))
        return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: fork: %s", strerror(-e));
    ov_emit(o, "process", 1, UNIT_NS, NAN, "", "fork+exit+wait (small parent)");
    if ((e = in_child(big_parent_fork, &big, o->v, o->R)))
        return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: fork from a %zu MiB parent: %s",
                        big.bytes >> 20, strerror(-e));
    ov_emit(o, "process", 1, UNIT_NS, NAN, "page tables are copied", "fork+exit+wait (%zu MiB touched parent)",
         big.bytes >> 20);
    if ((e = measure_fork_exec(o->v, o->R, o->quick ? 2 : 10)))
        return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: fork+exec /bin/true: %s",
                        strerror(-e));
    ov_emit(o, "process", 1, UNIT_NS, NAN, "", "fork+exec /bin/true+wait");
    if ((e = measure_thread_create(o->v, o->R, o->quick ? 20 : 200)))
        return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: pthread_create: %s", strerror(-e));
    ov_emit(o, "thread", 1, UNIT_NS, NAN, "", "pthread_create+join");

    if ((e = measure_pool_ready(POOL_FORK, o->W, o->v, o->R)))
        return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: fork pool of %u: %s", o->W,
                        strerror(-e));
    {
        struct stats s;
        stats_of(o->v, o->R, &s);
        o->fork_ready_ns = s.mean;
    }
    ov_emit(o, "start", o->W, UNIT_NS, NAN, "pool_create ready_ns", "fork pool ready W=%u", o->W);
    if ((e = measure_pool_ready(POOL_THREAD, o->W, o->v, o->R)))
        return fail_msg(&o->oc, PARLAB_EXIT_OS, "overhead: thread pool of %u: %s", o->W,
                        strerror(-e));
    ov_emit(o, "start", o->W, UNIT_NS, NAN, "pool_create ready_ns", "thread pool ready W=%u", o->W);
    return start_methods(o);
}
