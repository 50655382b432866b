/* share_measure.c: the ways `parlab share` adds up one count across workers
 * (multiprocessing's Value, Value with get_lock, per-worker results, Pipe, Manager), each
 * run on a pool of fork or thread workers, timed and counted (share.h). The experiment
 * that prints them is share.c; pitfall false-sharing measures two of them too. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "share.h"
#include "../lib/student.h"
#include "../lib/sync.h"

const struct share_method_info share_methods[SHARE__COUNT] = {
    { "none", "load/add/store on one shared counter, no synchronisation: updates are lost", 20000000 },
    { "lock", "one shared counter under a process-shared pthread mutex (Value.get_lock)", 1000000 },
    { "atomic", "atomic fetch_add on one shared counter", 2000000 },
    { "local", "a private counter per worker, stored once in a padded slot and summed", 20000000 },
    { "padded", "per-worker counters in shared memory, one cache line each", 20000000 },
    { "unpadded", "per-worker counters side by side in one cache line: false sharing", 20000000 },
    { "pipe", "every increment a message over the worker's pipe; the parent sums", 100000 },
    { "manager", "every increment a request to a manager process over a UNIX socket", 20000 },
    { "student", "the student's student_count (--student FILE.so, lab 4); only when named", 2000000 },
};

/* Memory every worker sees, fork or thread: made before the pool starts. */
struct share_shm {
    alignas(PARLAB_CACHELINE) volatile uint64_t counter;     /* none, lock */
    alignas(PARLAB_CACHELINE) _Atomic uint64_t acounter;     /* atomic */
    alignas(PARLAB_CACHELINE) pthread_mutex_t lock;          /* process-shared */
    alignas(PARLAB_CACHELINE) struct shared_counter student; /* its lock process-shared too */
    alignas(PARLAB_CACHELINE) _Atomic uint32_t arrived;      /* the start line (futex) */
    _Atomic int err;                                         /* a worker's I/O error */
};

struct padded_slot {
    alignas(PARLAB_CACHELINE) volatile uint64_t v;
};

struct worker_time {
    alignas(PARLAB_CACHELINE) uint64_t t0, t1;
};

/* What a worker is given. Built in the parent before pool_create, so each forked worker
 * has a copy; the pointers lead into shared memory, the fds into shared files. */
struct share_ctx {
    enum share_method m;
    unsigned workers;
    uint64_t ops;
    struct share_shm *shm;
    struct padded_slot *padded;      /* W slots */
    volatile uint64_t *unpadded;     /* W adjacent counters */
    struct worker_time *times;       /* W */
    size_t shm_len;
    int *wfd;                        /* worker w's pipe write end or socket */
    int *pfd;                        /* the parent's (pipe) or manager's (socket) end */
    int ctl[2];                      /* manager: [0] parent's end, [1] manager's end */
    pid_t manager;
};

/* A spin-wait hint to the CPU: pause on x86, nothing elsewhere. */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/*
 * Everyone starts together. Waiters spin for a while first: a worker woken from a futex
 * starts tens of microseconds after the one that woke it, and short runs would then hardly
 * overlap. Past the spin (more workers than CPUs, or a late worker) they sleep, and the
 * last to arrive wakes them.
 */
static void start_line(struct share_shm *s, unsigned W)
{
    uint32_t a = atomic_fetch_add(&s->arrived, 1) + 1;
    if (a == W) {
        sync_wake(&s->arrived, INT_MAX);
        return;
    }
    uint64_t until = clock_now_ns() + 2000000u;
    for (unsigned i = 1; atomic_load_explicit(&s->arrived, memory_order_acquire) < W; i++) {
        if ((i & 1023) == 0 && clock_now_ns() > until)
            break;
        cpu_relax();
    }
    while ((a = atomic_load(&s->arrived)) < W)
        sync_wait(&s->arrived, a, 0);
}

/* Write all n bytes, across short writes and interruptions. Returns 0, or -errno (-EIO
 * for a write that took nothing). */
static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? -errno : -EIO;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

#define PIPE_END UINT64_MAX

/* One worker's share: ops increments by the method. The task index is the worker's slot. */
/* The race on purpose: a load, an add, a store, so another worker's store in between is
 * overwritten. Its own function so that ThreadSanitizer builds can name it in
 * tests/tsan.supp: the lost updates are what `share --method none` measures. */
__attribute__((noinline)) static void none_increments(volatile uint64_t *p, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        *p = *p + 1;
}

static void share_task(void *arg, uint64_t unused, size_t task, unsigned worker)
{
    struct share_ctx *c = arg;
    struct share_shm *s = c->shm;
    uint64_t n = c->ops;
    (void)unused, (void)worker;

    start_line(s, c->workers);
    uint64_t t0 = clock_now_ns();
    switch (c->m) {
    case SHARE_NONE:
        none_increments(&s->counter, n);
        break;
    case SHARE_LOCK:
        for (uint64_t i = 0; i < n; i++) {
            pthread_mutex_lock(&s->lock);
            s->counter = s->counter + 1;
            pthread_mutex_unlock(&s->lock);
        }
        break;
    case SHARE_ATOMIC:
        for (uint64_t i = 0; i < n; i++)
            atomic_fetch_add_explicit(&s->acounter, 1, memory_order_relaxed);
        break;
    case SHARE_LOCAL: {
        uint64_t x = 0;
        for (uint64_t i = 0; i < n; i++) {
            x++;
            __asm__ volatile("" : "+r"(x));   /* one add per increment, not n at once */
        }
        c->padded[task].v = x;
        break;
    }
    case SHARE_PADDED:
    case SHARE_UNPADDED: {
        volatile uint64_t *p = c->m == SHARE_PADDED ? &c->padded[task].v : &c->unpadded[task];
        for (uint64_t i = 0; i < n; i++)
            *p = *p + 1;
        break;
    }
    case SHARE_PIPE: {
        uint64_t one = 1, end = PIPE_END;
        int e = 0;
        for (uint64_t i = 0; i < n && !e; i++)
            e = write_all(c->wfd[task], &one, sizeof one);
        if (!e)
            e = write_all(c->wfd[task], &end, sizeof end);
        if (e)
            atomic_store(&s->err, -e);
        break;
    }
    case SHARE_STUDENT:
        student_count_fn(&s->student, (unsigned)task, c->workers, n);
        break;
    case SHARE_MANAGER: {
        char req = '+', ack;
        for (uint64_t i = 0; i < n; i++) {
            ssize_t k;
            int e = write_all(c->wfd[task], &req, 1);
            if (e) {
                atomic_store(&s->err, -e);
                break;
            }
            while ((k = read(c->wfd[task], &ack, 1)) < 0 && errno == EINTR)
                ;
            if (k != 1) {
                atomic_store(&s->err, k == 0 ? EPIPE : errno);
                break;
            }
        }
        break;
    }
    default:
        break;
    }
    c->times[task].t0 = t0;
    c->times[task].t1 = clock_now_ns();
}

/* ---- the manager process ------------------------------------------------------------ */

/*
 * The manager: counts every '+' request on any worker socket and acknowledges it, as a
 * Manager proxy's method call returns. On 'g' over the control socket it sends the count
 * and exits. Runs in its own forked process; never returns.
 */
static void manager_main(struct share_ctx *c)
{
    unsigned W = c->workers;
    struct pollfd *fds = calloc(W + 1, sizeof *fds);
    uint64_t count = 0;
    char buf[256];

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!fds)
        _exit(1);
    for (unsigned w = 0; w < W; w++)
        fds[w] = (struct pollfd){ .fd = c->pfd[w], .events = POLLIN };
    fds[W] = (struct pollfd){ .fd = c->ctl[1], .events = POLLIN };
    for (;;) {
        if (poll(fds, W + 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        for (unsigned w = 0; w < W; w++) {
            if (!(fds[w].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t k = read(fds[w].fd, buf, sizeof buf);
            if (k <= 0) {
                fds[w].fd = -1;           /* that worker is gone */
                continue;
            }
            count += (uint64_t)k;
            memset(buf, 'k', (size_t)k);
            if (write_all(fds[w].fd, buf, (size_t)k))
                fds[w].fd = -1;
        }
        if (fds[W].revents) {
            char cmd = 0;
            if (read(fds[W].fd, &cmd, 1) != 1 || cmd != 'g')
                _exit(1);
            _exit(write_all(fds[W].fd, &count, sizeof count) ? 1 : 0);
        }
    }
}

/* ---- the pipe collector (a thread in the parent) ------------------------------------ */

struct collector {
    struct share_ctx *c;
    uint64_t sum;
    _Atomic int stop;
    int err;
};

/* Read W pipes until each has sent its end mark; sum what came. Parent thread. */
static void *collector_main(void *arg)
{
    struct collector *col = arg;
    unsigned W = col->c->workers, open = W;
    struct pollfd *fds = calloc(W, sizeof *fds);
    unsigned char *part = calloc(W, 8);     /* a message split across reads */
    unsigned *have = calloc(W, sizeof *have);
    uint64_t buf[512];

    if (!fds || !part || !have) {
        col->err = ENOMEM;
        goto out;
    }
    for (unsigned w = 0; w < W; w++)
        fds[w] = (struct pollfd){ .fd = col->c->pfd[w], .events = POLLIN };
    while (open && !atomic_load(&col->stop)) {
        int n = poll(fds, W, 100);
        if (n < 0 && errno != EINTR) {
            col->err = errno;
            break;
        }
        for (unsigned w = 0; w < W && n > 0; w++) {
            if (fds[w].fd < 0 || !fds[w].revents)
                continue;
            ssize_t k = read(fds[w].fd, buf, sizeof buf);
            if (k <= 0) {
                col->err = k == 0 ? EPIPE : errno;
                fds[w].fd = -1;
                open--;
                continue;
            }
            for (ssize_t i = 0; i < k; i++) {
                part[w * 8 + have[w]++] = ((unsigned char *)buf)[i];
                if (have[w] < 8)
                    continue;
                uint64_t v;
                memcpy(&v, &part[w * 8], 8);
                have[w] = 0;
                if (v == PIPE_END) {
                    fds[w].fd = -1;
                    open--;
                } else {
                    col->sum += v;
                }
            }
        }
    }
out:
    free(fds);
    free(part);
    free(have);
    return NULL;
}

/* ---- one measurement ---------------------------------------------------------------- */

static void close_fds(int *fd, unsigned n)
{
    for (unsigned i = 0; fd && i < n; i++)
        if (fd[i] >= 0) {
            close(fd[i]);
            fd[i] = -1;
        }
}

static void ctx_free(struct share_ctx *c)
{
    if (c->manager > 0) {
        kill(c->manager, SIGKILL);
        while (waitpid(c->manager, NULL, 0) < 0 && errno == EINTR)
            ;
        child_del(c->manager);
        c->manager = 0;
    }
    close_fds(c->wfd, c->workers);
    close_fds(c->pfd, c->workers);
    close_fds(c->ctl, 2);
    free(c->wfd);
    free(c->pfd);
    c->wfd = c->pfd = NULL;
    if (c->shm) {
        pthread_mutex_destroy(&c->shm->lock);
        pthread_mutex_destroy(&c->shm->student.lock);
        job_shared_free(c->shm, c->shm_len);
    }
    c->shm = NULL;
}

/* Shared memory, the lock, and the channels of the method. 0 or -errno. */
static int ctx_init(struct share_ctx *c)
{
    unsigned W = c->workers;
    size_t head = sizeof(struct share_shm);
    size_t pad = (size_t)W * sizeof(struct padded_slot), tim = (size_t)W * sizeof(struct worker_time);
    size_t unp = ((size_t)W * sizeof(uint64_t) + PARLAB_CACHELINE - 1) & ~(size_t)(PARLAB_CACHELINE - 1);
    pthread_mutexattr_t ma;
    int e;

    c->ctl[0] = c->ctl[1] = -1;
    c->shm_len = head + pad + tim + unp;
    c->shm = job_shared_alloc(c->shm_len);
    if (!c->shm)
        return -errno;
    c->padded = (struct padded_slot *)((char *)c->shm + head);
    c->times = (struct worker_time *)((char *)c->padded + pad);
    c->unpadded = (volatile uint64_t *)((char *)c->times + tim);
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    e = pthread_mutex_init(&c->shm->lock, &ma);
    if (!e && (e = pthread_mutex_init(&c->shm->student.lock, &ma)))
        pthread_mutex_destroy(&c->shm->lock);
    pthread_mutexattr_destroy(&ma);
    if (e) {
        job_shared_free(c->shm, c->shm_len);
        c->shm = NULL;
        return -e;
    }
    if (c->m != SHARE_PIPE && c->m != SHARE_MANAGER)
        return 0;

    c->wfd = malloc(W * sizeof *c->wfd);
    c->pfd = malloc(W * sizeof *c->pfd);
    if (!c->wfd || !c->pfd)
        return -ENOMEM;
    for (unsigned w = 0; w < W; w++)
        c->wfd[w] = c->pfd[w] = -1;
    for (unsigned w = 0; w < W; w++) {
        int fd[2];
        if (c->m == SHARE_PIPE ? pipe2(fd, O_CLOEXEC) : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd))
            return -errno;
        if (c->m == SHARE_PIPE) {
            c->pfd[w] = fd[0];
            c->wfd[w] = fd[1];
        } else {
            c->wfd[w] = fd[0];
            c->pfd[w] = fd[1];
        }
    }
    if (c->m == SHARE_PIPE)
        return 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->ctl))
        return -errno;
    pid_t pid = child_fork();   /* tracked: a signal ending us reaps it too */
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        close_fds(c->wfd, W);
        close(c->ctl[0]);
        manager_main(c);
    }
    c->manager = pid;
    close_fds(c->pfd, W);         /* the manager's ends live in the manager */
    close(c->ctl[1]);
    c->ctl[1] = -1;
    return 0;
}

/* Ask the manager for its count and reap it. 0 or -errno. */
static int manager_count(struct share_ctx *c, uint64_t *out)
{
    char cmd = 'g';
    size_t got = 0;
    int st, e = write_all(c->ctl[0], &cmd, 1);
    if (e)
        return e;
    while (got < sizeof *out) {
        ssize_t k = read(c->ctl[0], (char *)out + got, sizeof *out - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -EPIPE;
        got += (size_t)k;
    }
    while (waitpid(c->manager, &st, 0) < 0 && errno == EINTR)
        ;
    child_del(c->manager);
    c->manager = 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -ECHILD;
}

int share_method_find(const char *name)
{
    for (int m = 0; m < SHARE__COUNT; m++)
        if (strcmp(share_methods[m].name, name) == 0)
            return m;
    return -ENOENT;
}

/* One repeat: fresh state, a fresh pool, one map of W tasks, the count. -1 with oc. */
static int share_once(enum share_method m, enum pool_kind kind, unsigned W, uint64_t ops,
                      double *ns_per_op, uint64_t *final, struct outcome *oc)
{
    struct share_ctx c = { .m = m, .workers = W, .ops = ops };
    struct collector col = { .c = &c };
    struct pool_error pe;
    pthread_t ct;
    int ct_running = 0, err = 0, rc = -1;
    char why[200];

    if ((err = ctx_init(&c))) {
        outcome_fail(oc, PARLAB_EXIT_OS, "share %s: setting up: %s", share_methods[m].name,
                     strerror(-err));
        goto out;
    }
    struct pool *p = pool_create(kind, W, NULL, NULL, 0, &err, NULL);
    if (!p) {
        outcome_fail(oc, PARLAB_EXIT_OS, "share: cannot start %u %s workers: %s", W,
                     kind == POOL_FORK ? "process" : "thread", strerror(-err));
        goto out;
    }
    if (m == SHARE_PIPE) {
        /* Started after the fork workers exist: a thread does not survive fork anyway. */
        if ((err = pthread_create(&ct, NULL, collector_main, &col))) {
            pool_destroy(p);
            outcome_fail(oc, PARLAB_EXIT_OS, "share pipe: collector thread: %s", strerror(err));
            goto out;
        }
        ct_running = 1;
    }
    /* Static with no chunk: task w goes to worker w, so each worker does one share. */
    if (pool_map(p, W, SCHED_STATIC, 0, share_task, &c, 0, &pe)) {
        pool_error_str(&pe, kind, why, sizeof why);
        pool_destroy(p);
        outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "share %s: %s", share_methods[m].name, why);
        goto out;
    }
    pool_destroy(p);
    if (ct_running) {
        pthread_join(ct, NULL);
        ct_running = 0;
    }
    if ((err = atomic_load(&c.shm->err)) || (err = col.err)) {
        outcome_fail(oc, PARLAB_EXIT_OS, "share %s: a worker's I/O failed: %s",
                     share_methods[m].name, strerror(err));
        goto out;
    }
    uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
    for (unsigned w = 0; w < W; w++) {
        lo = c.times[w].t0 < lo ? c.times[w].t0 : lo;
        hi = c.times[w].t1 > hi ? c.times[w].t1 : hi;
    }
    *ns_per_op = (double)(hi - lo) / (double)ops;
    switch (m) {
    case SHARE_NONE: case SHARE_LOCK: sum = c.shm->counter; break;
    case SHARE_ATOMIC: sum = atomic_load(&c.shm->acounter); break;
    case SHARE_LOCAL: case SHARE_PADDED:
        for (unsigned w = 0; w < W; w++)
            sum += c.padded[w].v;
        break;
    case SHARE_UNPADDED:
        for (unsigned w = 0; w < W; w++)
            sum += c.unpadded[w];
        break;
    case SHARE_PIPE: sum = col.sum; break;
    case SHARE_STUDENT: sum = c.shm->student.total; break;
    case SHARE_MANAGER:
        if ((err = manager_count(&c, &sum))) {
            outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "share manager: no count from the manager: %s",
                         strerror(-err));
            goto out;
        }
        break;
    default: break;
    }
    *final = sum;
    rc = 0;
out:
    if (ct_running) {
        atomic_store(&col.stop, 1);
        pthread_join(ct, NULL);
    }
    ctx_free(&c);
    return rc;
}

int share_measure(const char *method, enum pool_kind kind, unsigned workers, uint64_t ops,
                  int repeat, double *ns_per_op, double *finals, struct outcome *oc)
{
    int m = share_method_find(method);
    if (m < 0)
        return outcome_fail(oc, PARLAB_EXIT_USAGE, "share: no method '%s'", method);
    for (int r = 0; r < repeat; r++) {
        uint64_t f;
        if (share_once((enum share_method)m, kind, workers, ops, &ns_per_op[r], &f, oc))
            return -1;
        finals[r] = (double)f;
    }
    return 0;
}
