/* test_fpool.c: the fpool (process, under each start method) and tpool (thread)
 * libraries, every test run against each: map order across arena rounds and chunk sizes, starmap, futures, get timeouts,
 * initializers, task errors, crashes, deadlock detection, close/join/terminate, and no
 * worker left behind. Each test body runs in a forked child under alarm(), and reports
 * through its exit status (assertions made in a child would be lost). */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../lib/fpool.h"
#include "../lib/tpool.h"
#include "../lib/shm.h"

/* ---- one interface over both libraries, so every test runs against each ---------- */

struct lib {
    const char *name;
    int fork;
    void *(*create)(unsigned workers, fpool_init_fn init, void *arg);
    unsigned (*workers)(void *p);
    int (*map)(void *p, fpool_fn fn, const void *in, size_t in_size, void *out,
               size_t out_size, size_t n, size_t chunksize);
    int (*starmap)(void *p, fpool_star_fn fn, const struct fpool_args *in, void *out,
                   size_t out_size, size_t n, size_t chunksize);
    void *(*submit)(void *p, fpool_fn fn, const void *in, size_t in_size, size_t out_size);
    int (*get)(void *f, void *out, int timeout_ms);
    int (*done)(void *f);
    uint64_t (*id)(void *f);
    void (*discard)(void *f);
    long (*as_completed)(void *const fs[], size_t n, int timeout_ms);
    void (*close)(void *p);
    int (*join)(void *p);
    void (*terminate)(void *p);
    const char *(*why)(void);
};

static void *f_create(unsigned w, fpool_init_fn i, void *a) { return fpool_create(w, i, a); }
static unsigned f_workers(void *p) { return fpool_workers(p); }
static int f_map(void *p, fpool_fn fn, const void *in, size_t is, void *out, size_t os,
                 size_t n, size_t c) { return fpool_map(p, fn, in, is, out, os, n, c); }
static int f_starmap(void *p, fpool_star_fn fn, const struct fpool_args *in, void *out,
                     size_t os, size_t n, size_t c) { return fpool_starmap(p, fn, in, out, os, n, c); }
static void *f_submit(void *p, fpool_fn fn, const void *in, size_t is, size_t os)
{ return fpool_submit(p, fn, in, is, os); }
static int f_get(void *f, void *out, int ms) { return fpool_future_get(f, out, ms); }
static int f_done(void *f) { return fpool_future_done(f); }
static uint64_t f_id(void *f) { return fpool_future_id(f); }
static void f_discard(void *f) { fpool_future_discard(f); }
static long f_as_completed(void *const fs[], size_t n, int ms)
{
    struct fpool_future *t[64];
    for (size_t i = 0; i < n; i++)
        t[i] = fs[i];
    return fpool_as_completed(t, n, ms);
}
static void f_close(void *p) { fpool_close(p); }
static int f_join(void *p) { return fpool_join(p); }
static void f_terminate(void *p) { fpool_terminate(p); }

static void *fs_create(unsigned w, fpool_init_fn i, void *a)
{ return fpool_create_start("forkserver", w, i, a); }
static void *sp_create(unsigned w, fpool_init_fn i, void *a)
{ return fpool_create_start("spawn", w, i, a); }

static void *t_create(unsigned w, fpool_init_fn i, void *a) { return tpool_create(w, i, a); }
static unsigned t_workers(void *p) { return tpool_workers(p); }
static int t_map(void *p, fpool_fn fn, const void *in, size_t is, void *out, size_t os,
                 size_t n, size_t c) { return tpool_map(p, fn, in, is, out, os, n, c); }
static int t_starmap(void *p, fpool_star_fn fn, const struct fpool_args *in, void *out,
                     size_t os, size_t n, size_t c) { return tpool_starmap(p, fn, in, out, os, n, c); }
static void *t_submit(void *p, fpool_fn fn, const void *in, size_t is, size_t os)
{ return tpool_submit(p, fn, in, is, os); }
static int t_get(void *f, void *out, int ms) { return tpool_future_get(f, out, ms); }
static int t_done(void *f) { return tpool_future_done(f); }
static uint64_t t_id(void *f) { return tpool_future_id(f); }
static void t_discard(void *f) { tpool_future_discard(f); }
static long t_as_completed(void *const fs[], size_t n, int ms)
{
    struct tpool_future *t[64];
    for (size_t i = 0; i < n; i++)
        t[i] = fs[i];
    return tpool_as_completed(t, n, ms);
}
static void t_close(void *p) { tpool_close(p); }
static int t_join(void *p) { return tpool_join(p); }
static void t_terminate(void *p) { tpool_terminate(p); }

static const struct lib libs[] = {
    { "fpool", 1, f_create, f_workers, f_map, f_starmap, f_submit, f_get, f_done, f_id,
      f_discard, f_as_completed, f_close, f_join, f_terminate, fpool_strerror },
    { "tpool", 0, t_create, t_workers, t_map, t_starmap, t_submit, t_get, t_done, t_id,
      t_discard, t_as_completed, t_close, t_join, t_terminate, tpool_strerror },
    /* fpool under the other start methods: workers that share only shared memory. */
    { "fpool forkserver", 1, fs_create, f_workers, f_map, f_starmap, f_submit, f_get, f_done,
      f_id, f_discard, f_as_completed, f_close, f_join, f_terminate, fpool_strerror },
    { "fpool spawn", 1, sp_create, f_workers, f_map, f_starmap, f_submit, f_get, f_done, f_id,
      f_discard, f_as_completed, f_close, f_join, f_terminate, fpool_strerror },
};

/* ---- running a body in a child ---------------------------------------------------- */

static const struct lib *L;   /* the library the child is testing */

#define CHECK(c)                                                                          \
    do {                                                                                  \
        if (!(c)) {                                                                       \
            fprintf(stderr, "\n  %s:%d [%s]: %s (last error: %s)\n", __FILE__, __LINE__,  \
                    L->name, #c, L->why());                                               \
            _exit(1);                                                                     \
        }                                                                                 \
    } while (0)

static int no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* Shared memory that outlives the fork, and that forkserver and spawn workers map too
 * (made before the pool): how tasks in worker processes talk to the test. */
static void *shared(size_t n)
{
    return shm_map(n, 0);
}

/* Run body(lib) in a child with a time limit; the child also checks that the pool left
 * no child process behind (the forkserver, once stopped, included). kinds: a bit per
 * entry of libs. */
static void run_for(void (*body)(void), unsigned kinds, unsigned secs)
{
    for (unsigned k = 0; k < sizeof libs / sizeof libs[0]; k++) {
        if (!(kinds & (1u << k)))
            continue;
        fflush(NULL);
        pid_t pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            L = &libs[k];
            alarm(secs);
            body();
            fpool_forkserver_stop();
            CHECK(no_children());
            _exit(0);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st))
            fprintf(stderr, "\n  [%s] test child killed by signal %d%s\n", libs[k].name,
                    WTERMSIG(st), WTERMSIG(st) == SIGALRM ? " (it hung)" : "");
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
}
#define BOTH 0xfu          /* every library and start method */
#define FORK_ONLY 0xdu     /* processes, under each start method */
#define FORK_START 0x1u    /* fpool under fork only: a task that uses the caller's memory */

/* ---- tasks ------------------------------------------------------------------------- */

static int square(const void *in, void *out)
{
    int64_t v = *(const int *)in;
    *(int64_t *)out = v * v;
    return 0;
}

/* A 2 KiB input: the task sums every byte, so a torn or shifted copy shows. */
struct big { int v; unsigned char pad[2044]; };
static int big_task(const void *in, void *out)
{
    const struct big *b = in;
    int64_t sum = 0;
    for (size_t i = 0; i < sizeof b->pad; i++)
        sum += b->pad[i];
    *(int64_t *)out = (int64_t)b->v * 3 + sum;
    return 0;
}

struct sleepy { int ms, v; _Atomic int *started; };
static int sleepy_task(const void *in, void *out)
{
    const struct sleepy *s = in;
    if (s->started)
        atomic_fetch_add(s->started, 1);
    sleep_ms(s->ms);
    *(int *)out = s->v * 10;
    return 0;
}

static int error_task(const void *in, void *out)
{
    int v = *(const int *)in;
    *(int *)out = v + 1;
    if (v == 5)
        return EIO;
    if (v == 9)
        return -EINVAL;   /* negative: taken as EINVAL */
    return 0;
}

static int segv_task(const void *in, void *out)
{
    (void)out;
    if (*(const int *)in == 700) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    return 0;
}

static int power(unsigned argc, const union fpool_arg *argv, void *out)
{
    if (argc != 2)
        return EINVAL;
    int64_t r = 1;
    for (int64_t k = 0; k < argv[1].i; k++)
        r *= argv[0].i;
    *(int64_t *)out = r;
    return 0;
}

static int mixed_sum(unsigned argc, const union fpool_arg *argv, void *out)
{
    double s = 0;
    for (unsigned k = 0; k < argc; k++)
        s += k == 0 ? argv[k].d : (double)argv[k].i;
    *(double *)out = s + 1000.0 * argc;
    return 0;
}

/* ---- tests ------------------------------------------------------------------------- */

static void body_workers_default(void)
{
    cpu_set_t set;
    CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
    void *p = L->create(0, NULL, NULL);
    CHECK(p);
    CHECK(L->workers(p) == (unsigned)CPU_COUNT(&set));
    L->close(p);
    CHECK(L->join(p) == 0);
}

static void test_workers_default(void) { run_for(body_workers_default, BOTH, 20); }

/* More items than one arena round carries, so fpool copies in and out several times. */
static void body_map_rounds(void)
{
    void *p = L->create(2, NULL, NULL);
    CHECK(p);
    size_t round = L->fork ? fpool_map_round(p, sizeof(struct big), sizeof(int64_t)) : 500;
    CHECK(round > 10 && round < 100000);
    size_t n = 3 * round + 5;
    struct big *in = malloc(n * sizeof *in);   /* made after the fork: workers never see it */
    int64_t *out = calloc(n, sizeof *out);
    CHECK(in && out);
    for (size_t i = 0; i < n; i++) {
        in[i].v = (int)(i * 7 + 1);
        memset(in[i].pad, (int)(i & 0xff), sizeof in[i].pad);
    }
    CHECK(L->map(p, big_task, in, sizeof *in, out, sizeof *out, n, 0) == 0);
    for (size_t i = 0; i < n; i++)
        CHECK(out[i] == (int64_t)(i * 7 + 1) * 3 + (int64_t)(i & 0xff) * 2044);
    if (L->fork) {   /* one item bigger than the arena cannot travel */
        size_t huge = FPOOL_ARENA_BYTES + 1;
        unsigned char *h = calloc(1, huge);
        CHECK(h);
        CHECK(L->map(p, square, h, huge, NULL, 0, 1, 0) == -E2BIG);
        free(h);
    }
    CHECK(L->map(p, big_task, in, sizeof *in, out, sizeof *out, 0, 0) == 0);
    free(in);
    free(out);
    L->close(p);
    CHECK(L->join(p) == 0);
}

static void test_map_rounds(void) { run_for(body_map_rounds, BOTH, 30); }

static void body_map_chunks(void)
{
    static const size_t chunks[] = { 0, 1, 3, 64, 999, 1000, 5000 };
    enum { N = 1000 };
    int in[N];
    int64_t out[N];
    void *p = L->create(3, NULL, NULL);
    CHECK(p);
    for (int i = 0; i < N; i++)
        in[i] = i - 300;
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        memset(out, 0xff, sizeof out);
        CHECK(L->map(p, square, in, sizeof in[0], out, sizeof out[0], N, chunks[c]) == 0);
        for (int i = 0; i < N; i++)
            CHECK(out[i] == (int64_t)(i - 300) * (i - 300));
    }
    L->close(p);
    CHECK(L->join(p) == 0);
}

static void test_map_chunks(void) { run_for(body_map_chunks, BOTH, 20); }

static void body_starmap(void)
{
    struct fpool_args jobs[] = {
        FPOOL_ARGS({ .i = 2 }, { .i = 3 }),
        FPOOL_ARGS({ .i = 3 }, { .i = 2 }),
        FPOOL_ARGS({ .i = 10 }, { .i = 2 }),
    };
    int64_t out[3];
    void *p = L->create(2, NULL, NULL);
    CHECK(p);
    CHECK(jobs[0].argc == 2);
    CHECK(L->starmap(p, power, jobs, out, sizeof out[0], 3, 1) == 0);
    CHECK(out[0] == 8 && out[1] == 9 && out[2] == 100);

    /* Tuples of different lengths and member types. */
    struct fpool_args mixed[] = {
        FPOOL_ARGS({ .d = 0.5 }),
        FPOOL_ARGS({ .d = 1.5 }, { .i = 2 }, { .i = 3 }),
        FPOOL_ARGS({ .d = -1 }, { .i = 1 }, { .i = 1 }, { .i = 1 }, { .i = 1 }, { .i = 1 }),
    };
    double d[3];
    CHECK(mixed[2].argc == FPOOL_ARGC_MAX);
    CHECK(L->starmap(p, mixed_sum, mixed, d, sizeof d[0], 3, 0) == 0);
    CHECK(d[0] == 1000.5 && d[1] == 3006.5 && d[2] == 6004.0);

    /* A wrong arity reaches the caller as the task's error code. */
    CHECK(L->starmap(p, power, mixed, d, sizeof d[0], 3, 0) == EINVAL);
    L->close(p);
    CHECK(L->join(p) == 0);
}

static void test_starmap(void) { run_for(body_starmap, BOTH, 20); }

static void body_submit_get(void)
{
    enum { N = 50 };
    void *f[N];
    void *p = L->create(2, NULL, NULL);
    CHECK(p);
    for (int i = 0; i < N; i++) {
        f[i] = L->submit(p, square, &i, sizeof i, sizeof(int64_t));
        CHECK(f[i]);
        CHECK(L->id(f[i]) == (uint64_t)i);   /* task numbers follow submission order */
    }
    for (int i = N - 1; i >= 0; i--) {
        int64_t r = -1;
        CHECK(L->get(f[i], &r, 5000) == 0);
        CHECK(r == (int64_t)i * i);
    }
    /* Sizes past the limits are refused, not truncated. */
    char big[FPOOL_ARG_MAX + 1] = { 0 };
    CHECK(L->submit(p, square, big, sizeof big, 8) == NULL && errno == EINVAL);
    CHECK(L->submit(p, square, big, 4, FPOOL_OUT_MAX + 1) == NULL && errno == EINVAL);
    L->close(p);
    CHECK(L->join(p) == 0);
}

static void test_submit_get(void) { run_for(body_submit_get, BOTH, 20); }

static void body_get_timeout(void)
{
    void *p = L->create(1, NULL, NULL);
    CHECK(p);
    struct sleepy s = { .ms = 400, .v = 7 };
    void *f = L->submit(p, sleepy_task, &s, sizeof s, sizeof(int));
    CHECK(f);
    int r = 0;
    double t0 = now_s();
    CHECK(L->get(f, &r, 30) == -ETIMEDOUT);
    double waited = now_s() - t0;
    CHECK(waited >= 0.025 && waited < 0.3);
    CHECK(r == 0);
    CHECK(!L->done(f));
    CHECK(L->get(f, &r, -1) == 0);   /* the future stayed valid */
    CHECK(r == 70);
    L->close(p);
    CHECK(L->join(p) == 0);
}

static void test_get_timeout(void) { run_for(body_get_timeout, BOTH, 20); }

/* The initializer's view, in shared memory: how often it ran and for which workers. */
struct init_log {
    _Atomic int runs;
    _Atomic unsigned mask;
    int config;
};
static __thread int loaded_config = -1;   /* per worker: its process, or its thread */

static void load_config(void *arg, unsigned worker)
{
    struct init_log *log = arg;
    atomic_fetch_add(&log->runs, 1);
    atomic_fetch_or(&log->mask, 1u << worker);
    loaded_config = log->config + (int)worker;
}

static int read_config(const void *in, void *out)
{
    (void)in;
    *(int *)out = loaded_config;
    return 0;
}

static void body_initializer(void)
{
    struct init_log *log = shared(sizeof *log);
    CHECK(log);
    log->config = 1000;
    void *p = L->create(3, load_config, log);
    CHECK(p);
    CHECK(atomic_load(&log->runs) == 3);   /* create waits for every initializer */
    CHECK(atomic_load(&log->mask) == 7);
    enum { N = 300 };
    int in[N] = { 0 }, out[N];
    CHECK(L->map(p, read_config, in, sizeof in[0], out, sizeof out[0], N, 1) == 0);
    for (int i = 0; i < N; i++)
        CHECK(out[i] >= 1000 && out[i] < 1003);
    for (int i = 0; i < 20; i++) {
        void *f = L->submit(p, read_config, NULL, 0, sizeof(int));
        CHECK(f);
        CHECK(L->get(f, &out[0], -1) == 0 && out[0] >= 1000 && out[0] < 1003);
    }
    CHECK(atomic_load(&log->runs) == 3);   /* once per worker, not per task */
    CHECK(loaded_config == -1);            /* the caller never ran it */
    L->close(p);
    CHECK(L->join(p) == 0);
    munmap(log, sizeof *log);
}

static void test_initializer(void) { run_for(body_initializer, BOTH, 20); }

static void body_task_error(void)
{
    void *p = L->create(2, NULL, NULL);
    CHECK(p);
    int v = 5, r = 0;
    void *f = L->submit(p, error_task, &v, sizeof v, sizeof r);
    CHECK(f);
    CHECK(L->get(f, &r, -1) == EIO);
    CHECK(r == 6);                          /* out is written all the same */
    CHECK(strstr(L->why(), "task 0") && strstr(L->why(), "error 5"));
    v = 9;
    f = L->submit(p, error_task, &v, sizeof v, sizeof r);
    CHECK(f);
    CHECK(L->get(f, &r, -1) == EINVAL);

    /* map: the lowest failing input wins, every other result is still written. */
    enum { N = 20 };
    int in[N], out[N];
    for (int i = 0; i < N; i++)
        in[N - 1 - i] = i;                   /* v = 9 at index 10, v = 5 at index 14 */
    CHECK(L->map(p, error_task, in, sizeof in[0], out, sizeof out[0], N, 1) == EINVAL);
    CHECK(strstr(L->why(), "task 10 "));
    for (int i = 0; i < N; i++)
        CHECK(out[i] == in[i] + 1);
    L->close(p);
    CHECK(L->join(p) == 0);                 /* a task error does not break the pool */
}

static void test_task_error(void) { run_for(body_task_error, BOTH, 20); }

/* A worker process that dies fails its future quickly, names the task and the signal,
 * and breaks the pool; the rest is still reaped. */
static void body_crash_future(void)
{
    void *p = L->create(2, NULL, NULL);
    CHECK(p);
    int ok = 1, bad = 700;
    int64_t r;
    void *f0 = L->submit(p, square, &ok, sizeof ok, sizeof r);
    CHECK(f0 && L->get(f0, &r, -1) == 0);
    void *f1 = L->submit(p, segv_task, &bad, sizeof bad, 0);
    CHECK(f1 && L->id(f1) == 1);
    double t0 = now_s();
    CHECK(L->get(f1, NULL, 10000) == -ECHILD);
    CHECK(now_s() - t0 < 2.0);
    CHECK(strstr(L->why(), "task 1 "));
    CHECK(strstr(L->why(), "SIGSEGV"));
    errno = 0;
    CHECK(L->submit(p, square, &ok, sizeof ok, sizeof r) == NULL && errno == EPIPE);
    CHECK(L->map(p, square, &ok, sizeof ok, &r, sizeof r, 1, 0) == -EPIPE);
    L->close(p);
    CHECK(L->join(p) == -ECHILD);
}

static void test_crash_future(void) { run_for(body_crash_future, FORK_ONLY, 20); }

/* A crash inside a map that spans rounds names the input index, not the round's. */
static void body_crash_map(void)
{
    void *p = L->create(2, NULL, NULL);
    CHECK(p);
    size_t round = fpool_map_round(p, sizeof(struct big), 0);
    CHECK(round > 10 && round < 700);        /* so input 700 is in a later round */
    size_t n = 2 * round + 5 > 800 ? 2 * round + 5 : 800;
    struct big *in = calloc(n, sizeof *in);
    CHECK(in);
    for (size_t i = 0; i < n; i++)
        in[i].v = (int)i;
    double t0 = now_s();
    CHECK(L->map(p, segv_task, in, sizeof *in, NULL, 0, n, 1) == -ECHILD);
    CHECK(now_s() - t0 < 2.0);
    CHECK(strstr(L->why(), "task 700 "));
    CHECK(strstr(L->why(), "SIGSEGV"));
    free(in);
    L->close(p);
    CHECK(L->join(p) == -ECHILD);
}

static void test_crash_map(void) { run_for(body_crash_map, FORK_ONLY, 20); }

/* A task that waits on its own pool: with one worker nobody can run what it waits for. */
struct nest { void *pool; int wait; };
static int nested_task(const void *in, void *out)
{
    const struct nest *n = in;
    int x = 6, *res = out;
    int64_t y = 0;
    void *f = L->submit(n->pool, square, &x, sizeof x, sizeof y);
    if (!f) {
        res[0] = -1000 - errno;
        return 0;
    }
    res[0] = L->get(f, &y, n->wait);
    res[1] = (int)y;
    res[2] = strstr(L->why(), "deadlock") != NULL;
    if (res[0] == -EDEADLK)
        L->discard(f);
    int in1 = 1, out1[1];
    res[3] = L->map(n->pool, square, &in1, sizeof in1, out1, 0, 1, 0);
    return 0;
}

static void body_deadlock(void)
{
    int res[4];
    void *p = L->create(1, NULL, NULL);
    CHECK(p);
    struct nest n = { p, -1 };
    double t0 = now_s();
    void *f = L->submit(p, nested_task, &n, sizeof n, sizeof res);
    CHECK(f);
    CHECK(L->get(f, res, 5000) == 0);
    CHECK(now_s() - t0 < 2.0);
    CHECK(res[0] == -EDEADLK);
    CHECK(res[2] == 1);
    CHECK(res[3] == -EDEADLK);                /* map from a task: refused, not hung */
    /* The pool is still usable afterwards. */
    int x = 4;
    int64_t y;
    f = L->submit(p, square, &x, sizeof x, sizeof y);
    CHECK(f && L->get(f, &y, 5000) == 0 && y == 16);
    L->close(p);
    CHECK(L->join(p) == 0);

    /* With two workers the other one runs the inner call: no false alarm. */
    p = L->create(2, NULL, NULL);
    CHECK(p);
    n.pool = p;
    f = L->submit(p, nested_task, &n, sizeof n, sizeof res);
    CHECK(f);
    CHECK(L->get(f, res, 5000) == 0);
    CHECK(res[0] == 0 && res[1] == 36);
    L->close(p);
    CHECK(L->join(p) == 0);
}

/* ---- apply_async callbacks, imap, imap_unordered, map_async (fpool only) ----------- */

/* An item: its value, how long it sleeps, and whether it crashes its worker. */
struct item { int v, ms, crash; };
static int item_task(const void *in, void *out)
{
    const struct item *it = in;
    if (it->crash) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    sleep_ms(it->ms);
    *(int *)out = it->v * it->v;
    return it->v == 5 ? EIO : 0;
}

/* What the callbacks saw, in the parent. */
static struct {
    int n_ok, n_err, sum, err_rc[16], order[64];
    char why[256];
} seen;
static void on_result(const void *result, void *arg)
{
    seen.order[seen.n_ok + seen.n_err] = (int)(intptr_t)arg;
    seen.n_ok++;
    seen.sum += *(const int *)result;
}
static void on_error(int status, const char *why, void *arg)
{
    seen.order[seen.n_ok + seen.n_err] = (int)(intptr_t)arg;
    if (seen.n_err < 16)
        seen.err_rc[seen.n_err] = status;
    seen.n_err++;
    snprintf(seen.why, sizeof seen.why, "%s", why);
}

/* Callbacks run in the parent once each, as results arrive (fpool_poll): arrival order,
 * not submission order; a task's error goes to error_callback. Then a worker crashes
 * while calls are in flight: join runs error_callback with -ECHILD for every lost call,
 * naming the signal. */
static void body_apply_async(void)
{
    struct fpool *p = L->create(2, NULL, NULL);
    CHECK(p);
    memset(&seen, 0, sizeof seen);
    /* Call 0 sleeps longest, so it arrives after later ones. */
    for (int i = 0; i < 8; i++) {
        struct item it = { i, i == 0 ? 300 : 10, 0 };
        CHECK(fpool_apply_async(p, item_task, &it, sizeof it, sizeof(int), on_result,
                                on_error, (void *)(intptr_t)i, NULL) == 0);
    }
    struct fpool_future *f;
    struct item it9 = { 9, 0, 0 };
    CHECK(fpool_apply_async(p, item_task, &it9, sizeof it9, sizeof(int), on_result, on_error,
                            (void *)(intptr_t)9, &f) == 0);
    int r = 0;
    CHECK(fpool_future_get(f, &r, 5000) == 0 && r == 81);
    CHECK(fpool_poll(p, 10000) == 8);
    CHECK(seen.n_ok == 8 && seen.n_err == 1 && seen.err_rc[0] == EIO);
    CHECK(strstr(seen.why, "error 5"));
    CHECK(seen.sum == 81 + (0 + 1 + 4 + 9 + 16 + 36 + 49));
    CHECK(seen.order[8] == 0 || seen.order[7] == 0);   /* the slow call came in last */
    fpool_close(p);
    CHECK(fpool_join(p) == 0);

    p = L->create(2, NULL, NULL);
    CHECK(p);
    memset(&seen, 0, sizeof seen);
    for (int i = 0; i < 6; i++) {
        struct item it = { 10 + i, 50, i == 2 };
        CHECK(fpool_apply_async(p, item_task, &it, sizeof it, sizeof(int), on_result,
                                on_error, (void *)(intptr_t)i, NULL) == 0);
    }
    fpool_close(p);
    CHECK(fpool_join(p) == -ECHILD);
    CHECK(seen.n_ok + seen.n_err == 6 && seen.n_err >= 1);
    int echild = 0;
    for (int i = 0; i < seen.n_err && i < 16; i++)
        echild += seen.err_rc[i] == -ECHILD;
    CHECK(echild == seen.n_err);
    CHECK(strstr(seen.why, "SIGSEGV"));
}
static void test_apply_async(void) { run_for(body_apply_async, FORK_ONLY, 30); }

/* imap yields in input order, imap_unordered in completion order (item 0 sleeps, so it
 * comes last), every result right, an item's error reported at its place; then a worker
 * crashes mid-iteration: every item before the lost chunk comes in order (imap), the lost
 * chunk is named with its signal, and the iteration ends (-EPIPE). */
static void body_imap(void)
{
    enum { N = 40 };
    struct item in[N];
    struct fpool *p = L->create(2, NULL, NULL);
    CHECK(p);
    for (int ordered = 1; ordered >= 0; ordered--) {
        for (int chunk = 1; chunk <= 4; chunk += 3) {
            for (int i = 0; i < N; i++)
                in[i] = (struct item){ i, i == 0 ? 200 : 1, 0 };
            struct fpool_iter *it = ordered
                ? fpool_imap(p, item_task, in, sizeof in[0], sizeof(int), N, (size_t)chunk)
                : fpool_imap_unordered(p, item_task, in, sizeof in[0], sizeof(int), N,
                                       (size_t)chunk);
            CHECK(it);
            int got[N] = { 0 }, k = 0, rc, first = -1;
            size_t idx;
            int r;
            while ((rc = fpool_iter_next(it, &r, &idx, 10000)) != -ENOENT) {
                CHECK(rc == 0 || (rc == EIO && idx == 5));
                CHECK(idx < N && r == (int)(idx * idx) && !got[idx]);
                CHECK(!ordered || (int)idx == k);
                if (first < 0)
                    first = (int)idx;
                got[idx] = 1;
                k++;
            }
            CHECK(k == N);
            CHECK(ordered ? first == 0 : first != 0);
            fpool_iter_free(it);
        }
    }
    /* The crash: item 25, chunks of 3 (items 24..26 are lost). */
    for (int i = 0; i < N; i++)
        in[i] = (struct item){ i, 2, i == 25 };
    struct fpool_iter *it = fpool_imap(p, item_task, in, sizeof in[0], sizeof(int), N, 3);
    CHECK(it);
    int k = 0, rc, r;
    size_t idx;
    while ((rc = fpool_iter_next(it, &r, &idx, 10000)) == 0 || rc == EIO) {
        CHECK((int)idx == k && r == k * k);
        k++;
    }
    CHECK(rc == -ECHILD && k == 24 && idx == 24);
    CHECK(strstr(fpool_strerror(), "items 24 … 26") && strstr(fpool_strerror(), "SIGSEGV"));
    CHECK(fpool_iter_next(it, &r, &idx, 0) == -EPIPE);
    fpool_iter_free(it);
    fpool_terminate(p);

    /* The same crash under imap_unordered: what comes before it is right, whatever its
     * order; the lost chunk is named; then the iteration is over. */
    p = L->create(2, NULL, NULL);
    CHECK(p);
    it = fpool_imap_unordered(p, item_task, in, sizeof in[0], sizeof(int), N, 3);
    CHECK(it);
    int seen_ok = 0;
    while ((rc = fpool_iter_next(it, &r, &idx, 10000)) == 0 || rc == EIO) {
        CHECK(idx < N && (idx < 24 || idx > 26) && r == (int)(idx * idx));
        seen_ok++;
    }
    CHECK(rc == -ECHILD && seen_ok < N && strstr(fpool_strerror(), "SIGSEGV"));
    CHECK(fpool_iter_next(it, &r, &idx, 0) == -EPIPE);
    fpool_iter_free(it);
    fpool_terminate(p);
}
static void test_imap(void) { run_for(body_imap, FORK_ONLY, 40); }

static struct { int calls, errs, rc; const int *out; } mas;
static void mas_ok(const void *result, void *arg) { (void)arg; mas.calls++; mas.out = result; }
static void mas_err(int status, const char *why, void *arg)
{
    (void)arg;
    mas.errs++;
    mas.rc = status;
    CHECK(strstr(why, "SIGSEGV"));
}

/* map_async runs while the caller goes on; get waits, then its callback sees the results
 * in input order. A crash in it reaches error_callback and get as -ECHILD. */
static void body_map_async(void)
{
    enum { N = 30 };
    struct item in[N];
    int out[N];
    for (int i = 0; i < N; i++)
        in[i] = (struct item){ i + 6, 5, 0 };
    struct fpool *p = L->create(2, NULL, NULL);
    CHECK(p);
    memset(&mas, 0, sizeof mas);
    struct fpool_async *a = fpool_map_async(p, item_task, in, sizeof in[0], out, sizeof out[0],
                                            N, 2, mas_ok, mas_err, NULL);
    CHECK(a);
    CHECK(fpool_map_async_get(a, 10000) == 0);
    CHECK(mas.calls == 1 && mas.errs == 0 && mas.out == out);
    for (int i = 0; i < N; i++)
        CHECK(out[i] == (i + 6) * (i + 6));
    in[17].crash = 1;
    a = fpool_map_async(p, item_task, in, sizeof in[0], out, sizeof out[0], N, 2, mas_ok,
                        mas_err, NULL);
    CHECK(a);
    CHECK(fpool_map_async_get(a, 10000) == -ECHILD);
    CHECK(mas.calls == 1 && mas.errs == 1 && mas.rc == -ECHILD);
    fpool_terminate(p);
}
static void test_map_async(void) { run_for(body_map_async, FORK_ONLY, 30); }

/* A task that uses its own pool holds the caller's pointer to it: only a forked worker
 * (or a thread) has that memory. */
static void test_deadlock(void) { run_for(body_deadlock, 0x3u, 20); }

/* One task on a fresh pool of the given start method with the forkserver already started
 * (the caller's): returns the future's result (0 when out was filled), -1 when the pool
 * could not be made (fpool_strerror says why). The pool and the server are gone after. */
static int one_task_on(const char *method, unsigned workers, fpool_fn fn, const void *in,
                       size_t in_size, void *out, size_t out_size)
{
    struct fpool *p = fpool_create_start(method, workers, NULL, NULL);
    struct fpool_future *f = p ? fpool_submit(p, fn, in, in_size, out_size) : NULL;
    int rc = f ? fpool_future_get(f, out, 5000) : -1;
    if (p) {
        fpool_close(p);
        fpool_join(p);
    }
    fpool_forkserver_stop();
    return rc;
}

/* A forkserver's worker maps each shared region at the parent's address, in a copy of
 * the server: memory the parent freed after the server forked is still there in the
 * copy. The parent frees a mapping the server inherited, makes a region of the same size
 * (the kernel's first choice is the hole just left), and a worker must read it. */
static int sum_region(const void *in, void *out)
{
    const unsigned char *r = *(unsigned char *const *)in;
    unsigned long s = 0;
    for (size_t i = 0; i < (2u << 20); i += 4096)
        s += r[i];
    *(unsigned long *)out = s;
    return 0;
}

static void test_forkserver_stale_address(void)
{
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        alarm(20);
        size_t len = 2u << 20;
        unsigned char *old = mmap(NULL, len, PROT_READ | PROT_WRITE,
                                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (old == MAP_FAILED)
            _exit(2);
        memset(old, 1, len);
        if (fpool_forkserver_start())
            _exit(2);
        munmap(old, len);
        unsigned char *r = shared(len);
        if (!r)
            _exit(2);
        for (size_t i = 0; i < len; i += 4096)
            r[i] = 3;
        unsigned long got = 0;
        int rc = one_task_on("forkserver", 1, sum_region, &r, sizeof r, &got, sizeof got);
        if (rc || got != 3 * (len / 4096))
            fprintf(stderr, "\n  the worker read %lu, not %lu (rc %d) %s", got,
                    (unsigned long)(3 * (len / 4096)), rc, fpool_strerror());
        _exit(rc == 0 && got == 3 * (len / 4096) && no_children() ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A spawned worker lays itself out afresh (ASLR), and its own memory may sit where a
 * region must go: it says so and the pool starts another. Planted once in the first
 * worker to look (PARLAB_TEST_TAKEN names a file it removes). */
static int one(const void *in, void *out)
{
    (void)in;
    *(int *)out = 1;
    return 0;
}

static void test_spawn_address_taken(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/parlab-taken-%ld", (long)getpid());
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        alarm(20);
        FILE *f = fopen(path, "w");
        if (!f)
            _exit(2);
        fclose(f);
        setenv("PARLAB_TEST_TAKEN", path, 1);
        int got = 0, in = 0;
        int rc = one_task_on("spawn", 2, one, &in, sizeof in, &got, sizeof got);
        int planted = access(path, F_OK) != 0;
        unlink(path);
        if (rc || got != 1 || !planted)
            fprintf(stderr, "\n  rc %d, got %d, planted %d: %s", rc, got, planted,
                    fpool_strerror());
        _exit(rc == 0 && got == 1 && planted && no_children() ? 0 : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* What a worker inherits under each start method: fork, the caller's memory as it is at
 * the pool's start; forkserver, as it was when the server forked; spawn, nothing (the
 * program as it was loaded). Python's start methods differ the same way. */
static int marker = 1;
static int read_marker(const void *in, void *out)
{
    (void)in;
    *(int *)out = marker;
    return 0;
}

static void test_start_inheritance(void)
{
    static const struct { const char *method; int want; } t[] = {
        { "fork", 42 }, { "forkserver", 7 }, { "spawn", 1 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        fflush(NULL);
        pid_t pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            alarm(20);
            marker = 7;
            if (fpool_forkserver_start())
                _exit(2);
            marker = 42;
            int got = 0, in = 0;
            int rc = one_task_on(t[i].method, 2, read_marker, &in, sizeof in, &got, sizeof got);
            if (rc || got != t[i].want)
                fprintf(stderr, "\n  %s: the worker read %d, not %d (rc %d)", t[i].method, got,
                        t[i].want, rc);
            _exit(rc == 0 && got == t[i].want && no_children() ? 0 : 1);
        }
        int st;
        waitpid(pid, &st, 0);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    errno = 0;
    CU_ASSERT_PTR_NULL(fpool_create_start("thread", 2, NULL, NULL));
    CU_ASSERT_EQUAL(errno, EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(fpool_strerror(), "fork, forkserver, spawn"));
}

static void body_as_completed(void)
{
    void *p = L->create(2, NULL, NULL);
    CHECK(p);
    struct sleepy slow = { .ms = 500, .v = 1 }, fast = { .ms = 0, .v = 2 };
    void *fs[2];
    fs[0] = L->submit(p, sleepy_task, &slow, sizeof slow, sizeof(int));
    fs[1] = L->submit(p, sleepy_task, &fast, sizeof fast, sizeof(int));
    CHECK(fs[0] && fs[1]);
    int r;
    CHECK(L->as_completed(fs, 2, -1) == 1);     /* submitted second, done first */
    CHECK(L->get(fs[1], &r, 0) == 0 && r == 20);
    fs[1] = NULL;
    CHECK(L->as_completed(fs, 2, 20) == -ETIMEDOUT);
    CHECK(L->as_completed(fs, 2, -1) == 0);
    CHECK(L->done(fs[0]));
    CHECK(L->get(fs[0], &r, 0) == 0 && r == 10);
    fs[0] = NULL;
    CHECK(L->as_completed(fs, 2, -1) == -ENOENT);

    /* Many at once: each collected exactly once, with its own result. */
    enum { N = 40 };
    void *many[N];
    int seen[N] = { 0 };
    for (int i = 0; i < N; i++) {
        struct sleepy s = { .ms = (i * 7) % 5, .v = i };
        many[i] = L->submit(p, sleepy_task, &s, sizeof s, sizeof(int));
        CHECK(many[i]);
    }
    long i;
    int got = 0;
    while ((i = L->as_completed(many, N, 5000)) >= 0) {
        CHECK(L->get(many[i], &r, 0) == 0 && r == (int)i * 10);
        many[i] = NULL;
        seen[i]++;
        got++;
    }
    CHECK(i == -ENOENT && got == N);
    for (int k = 0; k < N; k++)
        CHECK(seen[k] == 1);
    L->close(p);
    CHECK(L->join(p) == 0);
}

static void test_as_completed(void) { run_for(body_as_completed, BOTH, 20); }

static void body_close_join(void)
{
    void *p = L->create(2, NULL, NULL);
    CHECK(p);
    CHECK(L->join(p) == -EINVAL);           /* not closed: refused, pool untouched */
    enum { N = 6 };
    void *f[N];
    for (int i = 0; i < N; i++) {
        struct sleepy s = { .ms = 30, .v = i };
        f[i] = L->submit(p, sleepy_task, &s, sizeof s, sizeof(int));
        CHECK(f[i]);
    }
    void *gone = L->submit(p, sleepy_task, &(struct sleepy){ .ms = 0 }, sizeof(struct sleepy),
                           sizeof(int));
    CHECK(gone);
    L->discard(gone);
    L->close(p);
    int x = 1;
    errno = 0;
    CHECK(L->submit(p, square, &x, sizeof x, 8) == NULL && errno == ESHUTDOWN);
    CHECK(L->map(p, square, &x, sizeof x, NULL, 0, 1, 0) == -ESHUTDOWN);
    CHECK(L->join(p) == 0);                 /* waits for all six, then reaps */
    for (int i = 0; i < N; i++) {            /* results outlive the pool */
        int r = -1;
        CHECK(L->done(f[i]));
        CHECK(L->get(f[i], &r, 0) == 0 && r == i * 10);
    }
}

static void test_close_join(void) { run_for(body_close_join, BOTH, 20); }

/* terminate: a result already in is kept, running calls are killed (processes) or
 * waited for (threads), queued ones never run. */
static void body_terminate(void)
{
    _Atomic int *started = shared(2 * sizeof *started), *queued_ran = started + 1;
    CHECK(started);
    void *p = L->create(2, NULL, NULL);
    CHECK(p);
    int x = 3;
    int64_t y;
    void *early = L->submit(p, square, &x, sizeof x, sizeof y);
    CHECK(early);
    CHECK(L->as_completed(&early, 1, 5000) == 0);
    struct sleepy s = { .ms = L->fork ? 30000 : 200, .v = 1, .started = started };
    void *run1 = L->submit(p, sleepy_task, &s, sizeof s, sizeof(int));
    void *run2 = L->submit(p, sleepy_task, &s, sizeof s, sizeof(int));
    struct sleepy q = { .ms = 0, .v = 2, .started = queued_ran };
    void *queued = L->submit(p, sleepy_task, &q, sizeof q, sizeof(int));
    CHECK(run1 && run2 && queued);
    while (atomic_load(started) < 2)
        sleep_ms(1);
    double t0 = now_s();
    L->terminate(p);
    CHECK(now_s() - t0 < 2.0);
    CHECK(atomic_load(queued_ran) == 0);
    CHECK(L->get(early, &y, 0) == 0 && y == 9);
    int r;
    CHECK(L->get(run1, &r, 0) == -ECANCELED);
    CHECK(L->get(run2, &r, 0) == -ECANCELED);
    CHECK(L->get(queued, &r, 0) == -ECANCELED);
}

static void test_terminate(void) { run_for(body_terminate, BOTH, 20); }

static int say(const void *in, void *out)
{
    (void)out;
    printf("task %d says hi\n", *(const int *)in);   /* buffered: stdout is a file */
    return 0;
}

/* What a task prints to a file or pipe is not lost when its worker process exits. One
 * worker, so that the lines come in task order. */
static void body_task_output(void)
{
    char path[] = "/tmp/parlab-fpool-out-XXXXXX", text[256] = "";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    fflush(stdout);
    CHECK(dup2(fd, STDOUT_FILENO) == STDOUT_FILENO);
    /* Fully buffered with a real buffer, as stdout to a file is by default (the test
     * runner may have made it unbuffered): what is not flushed before _exit is lost. */
    static char buf[BUFSIZ];
    CHECK(setvbuf(stdout, buf, _IOFBF, sizeof buf) == 0);
    void *p = L->create(1, NULL, NULL);
    CHECK(p);
    int in[2] = { 1, 2 };
    CHECK(L->map(p, say, in, sizeof in[0], NULL, 0, 2, 1) == 0);
    void *f = L->submit(p, say, &(int){ 3 }, sizeof(int), 0);
    CHECK(f && L->get(f, NULL, -1) == 0);
    L->close(p);
    CHECK(L->join(p) == 0);
    fflush(stdout);
    ssize_t k = pread(fd, text, sizeof text - 1, 0);
    CHECK(k > 0);
    text[k] = '\0';
    CHECK(strcmp(text, "task 1 says hi\ntask 2 says hi\ntask 3 says hi\n") == 0);
    close(fd);
}

static void test_task_output(void) { run_for(body_task_output, BOTH, 20); }

CU_TestInfo tests_fpool[] = {
    { "workers 0 means the usable CPUs", test_workers_default },
    { "map keeps input order across arena rounds", test_map_rounds },
    { "map keeps input order for every chunk size", test_map_chunks },
    { "starmap unpacks argument tuples", test_starmap },
    { "submit and get, out of order", test_submit_get },
    { "get times out, then succeeds", test_get_timeout },
    { "the initializer runs once per worker", test_initializer },
    { "a task's error code reaches get and map", test_task_error },
    { "a crashed worker fails get with ECHILD within 2 s", test_crash_future },
    { "a crash in a map names the input", test_crash_map },
    { "waiting on your own full pool is EDEADLK", test_deadlock },
    { "as_completed collects in completion order", test_as_completed },
    { "close then join; results outlive the pool", test_close_join },
    { "terminate drops queued calls and reaps", test_terminate },
    { "a task's printf survives its worker", test_task_output },
    { "start methods: what a worker inherits; an unknown method", test_start_inheritance },
    { "forkserver: a region where the server still holds freed memory", test_forkserver_stale_address },
    { "spawn: a worker whose own memory holds a region's address is started again", test_spawn_address_taken },
    { "apply_async: callbacks in arrival order, errors, a crash", test_apply_async },
    { "imap in order, imap_unordered as completed, a crash mid-way", test_imap },
    { "map_async: callback after get, a crash to error_callback", test_map_async },
    CU_TEST_INFO_NULL,
};
