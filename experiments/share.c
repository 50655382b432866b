/* share.c: `parlab share`: the ways to add up one count across workers (multiprocessing's
 * Value, Value with get_lock, per-worker results, Pipe, Manager), each timed under fork
 * and thread workers and checked against the count it should reach. One experiment of the
 * table in registry.c. */
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

#include "experiment.h"
#include "../harness/suggest.h"
#include "../lib/student.h"
#include "../lib/sync.h"

enum method { M_NONE, M_LOCK, M_ATOMIC, M_LOCAL, M_PADDED, M_UNPADDED, M_PIPE, M_MANAGER,
              M_STUDENT, M__COUNT };

static const struct {
    const char *name, *summary;
    uint64_t default_ops;      /* per worker: the slow ones get fewer */
} methods[M__COUNT] = {
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

#define MAX_SHARE_WORKERS 1024u

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
    enum method m;
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

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
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
    case M_NONE:
        none_increments(&s->counter, n);
        break;
    case M_LOCK:
        for (uint64_t i = 0; i < n; i++) {
            pthread_mutex_lock(&s->lock);
            s->counter = s->counter + 1;
            pthread_mutex_unlock(&s->lock);
        }
        break;
    case M_ATOMIC:
        for (uint64_t i = 0; i < n; i++)
            atomic_fetch_add_explicit(&s->acounter, 1, memory_order_relaxed);
        break;
    case M_LOCAL: {
        uint64_t x = 0;
        for (uint64_t i = 0; i < n; i++) {
            x++;
            __asm__ volatile("" : "+r"(x));   /* one add per increment, not n at once */
        }
        c->padded[task].v = x;
        break;
    }
    case M_PADDED:
    case M_UNPADDED: {
        volatile uint64_t *p = c->m == M_PADDED ? &c->padded[task].v : &c->unpadded[task];
        for (uint64_t i = 0; i < n; i++)
            *p = *p + 1;
        break;
    }
    case M_PIPE: {
        uint64_t one = 1, end = PIPE_END;
        for (uint64_t i = 0; i < n; i++)
            if (write_all(c->wfd[task], &one, sizeof one)) {
                atomic_store(&s->err, errno ? errno : EIO);
                break;
            }
        if (write_all(c->wfd[task], &end, sizeof end))
            atomic_store(&s->err, errno ? errno : EIO);
        break;
    }
    case M_STUDENT:
        student_count_fn(&s->student, (unsigned)task, c->workers, n);
        break;
    case M_MANAGER: {
        char req = '+', ack;
        for (uint64_t i = 0; i < n; i++) {
            ssize_t k;
            if (write_all(c->wfd[task], &req, 1)) {
                atomic_store(&s->err, errno ? errno : EIO);
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
    if (c->m != M_PIPE && c->m != M_MANAGER)
        return 0;

    c->wfd = malloc(W * sizeof *c->wfd);
    c->pfd = malloc(W * sizeof *c->pfd);
    if (!c->wfd || !c->pfd)
        return -ENOMEM;
    for (unsigned w = 0; w < W; w++)
        c->wfd[w] = c->pfd[w] = -1;
    for (unsigned w = 0; w < W; w++) {
        int fd[2];
        if (c->m == M_PIPE ? pipe2(fd, O_CLOEXEC) : socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fd))
            return -errno;
        if (c->m == M_PIPE) {
            c->pfd[w] = fd[0];
            c->wfd[w] = fd[1];
        } else {
            c->wfd[w] = fd[0];
            c->pfd[w] = fd[1];
        }
    }
    if (c->m == M_PIPE)
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
    int st;
    if (write_all(c->ctl[0], &cmd, 1))
        return -errno;
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

static enum method method_find(const char *name)
{
    for (int m = 0; m < M__COUNT; m++)
        if (strcmp(methods[m].name, name) == 0)
            return (enum method)m;
    return M__COUNT;
}

/* One repeat: fresh state, a fresh pool, one map of W tasks, the count. -1 with oc. */
static int share_once(enum method m, enum pool_kind kind, unsigned W, uint64_t ops,
                      double *ns_per_op, uint64_t *final, struct outcome *oc)
{
    struct share_ctx c = { .m = m, .workers = W, .ops = ops };
    struct collector col = { .c = &c };
    struct pool_error pe;
    pthread_t ct;
    int ct_running = 0, err = 0, rc = -1;
    char why[200];

    if ((err = ctx_init(&c))) {
        outcome_fail(oc, PARLAB_EXIT_OS, "share %s: setting up: %s", methods[m].name,
                     strerror(-err));
        goto out;
    }
    struct pool *p = pool_create(kind, W, NULL, NULL, 0, &err, NULL);
    if (!p) {
        outcome_fail(oc, PARLAB_EXIT_OS, "share: cannot start %u %s workers: %s", W,
                     kind == POOL_FORK ? "process" : "thread", strerror(-err));
        goto out;
    }
    if (m == M_PIPE) {
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
        outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "share %s: %s", methods[m].name, why);
        goto out;
    }
    pool_destroy(p);
    if (ct_running) {
        pthread_join(ct, NULL);
        ct_running = 0;
    }
    if ((err = atomic_load(&c.shm->err)) || (err = col.err)) {
        outcome_fail(oc, PARLAB_EXIT_OS, "share %s: a worker's I/O failed: %s",
                     methods[m].name, strerror(err));
        goto out;
    }
    uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
    for (unsigned w = 0; w < W; w++) {
        lo = c.times[w].t0 < lo ? c.times[w].t0 : lo;
        hi = c.times[w].t1 > hi ? c.times[w].t1 : hi;
    }
    *ns_per_op = (double)(hi - lo) / (double)ops;
    switch (m) {
    case M_NONE: case M_LOCK: sum = c.shm->counter; break;
    case M_ATOMIC: sum = atomic_load(&c.shm->acounter); break;
    case M_LOCAL: case M_PADDED:
        for (unsigned w = 0; w < W; w++)
            sum += c.padded[w].v;
        break;
    case M_UNPADDED:
        for (unsigned w = 0; w < W; w++)
            sum += c.unpadded[w];
        break;
    case M_PIPE: sum = col.sum; break;
    case M_STUDENT: sum = c.shm->student.total; break;
    case M_MANAGER:
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
    enum method m = method_find(method);
    if (m == M__COUNT)
        return outcome_fail(oc, PARLAB_EXIT_USAGE, "share: no method '%s'", method);
    for (int r = 0; r < repeat; r++) {
        uint64_t f;
        if (share_once(m, kind, workers, ops, &ns_per_op[r], &f, oc))
            return -1;
        finals[r] = (double)f;
    }
    return 0;
}

/* ---- the experiment ---------------------------------------------------------------- */

/* --method M[,M...]: set a bit per method named. 0, or the usage error printed. */
static int parse_methods(const char *arg, int *chosen)
{
    const char *p = arg;
    do {
        size_t len = strcspn(p, ",");
        int found = 0;
        for (int m = 0; m < M__COUNT; m++)
            if (strlen(methods[m].name) == len && strncmp(methods[m].name, p, len) == 0) {
                *chosen |= 1 << m;
                found = 1;
            }
        if (!found) {
            char word[64], hint[96];
            struct suggest sg;
            snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), p);
            suggest_init(&sg, word);
            for (int m = 0; m < M__COUNT; m++)
                suggest_add(&sg, methods[m].name);
            return die(PARLAB_EXIT_USAGE, "--method %s: unknown method '%.*s'%s (none, lock, "
                       "atomic, local, padded, unpadded, pipe, manager, student)", arg, (int)len, p,
                       suggest_hint(&sg, hint, sizeof hint));
        }
        p += len;
    } while (*p++ == ',');
    return 0;
}

static void share_help(FILE *f)
{
    fprintf(f,
        "  W workers each add 1 to a count N times; every way of combining the counts is\n"
        "  timed (ns per increment as a worker sees it: its wall time / N, over R runs)\n"
        "  and its final count is checked against W x N.\n"
        "  methods (default: all):\n");
    for (int m = 0; m < M__COUNT; m++)
        fprintf(f, "    %-9s %s\n", methods[m].name, methods[m].summary);
    fprintf(f, "  exit status: 0 every synchronised method counted exactly, 1 one did not\n");
}

/* The expected order of the means, fastest first; "<<" marks a gap of at least 2x. */
static const struct { enum method m; int gap; } order[] = {
    { M_LOCAL, 0 }, { M_ATOMIC, 0 }, { M_LOCK, 0 }, { M_PIPE, 1 }, { M_MANAGER, 0 },
};

/* One line per runner: the means in the expected order, and where it did not hold. */
static void share_order(struct exp_opts *o, int k, const double mean[M__COUNT][2])
{
    char line[400], buf[48];
    size_t len = 0;
    const char *broke = NULL, *after = NULL;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        enum method m = order[i].m;
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s %s", i == 0 ? ""
                                : order[i].gap ? " << " : " < ", methods[m].name,
                                stats_fmt_value(buf, sizeof buf, mean[m][k], UNIT_NS));
        if (len >= sizeof line)
            len = sizeof line - 1;
        if (i > 0 && !broke) {
            double prev = mean[order[i - 1].m][k];
            if (!(mean[m][k] > prev * (order[i].gap ? 2 : 1))) {
                broke = methods[m].name;
                after = methods[order[i - 1].m].name;
            }
        }
    }
    if (!broke)
        exp_note(&o->tab, "%s: %s (means): the expected order holds", exp_kind_name(k), line);
    else
        exp_note(&o->tab, "%s: %s (means): NOT the expected order: %s was not %s than %s "
                 "here", exp_kind_name(k), line, broke,
                 strcmp(broke, "pipe") == 0 ? "twice or more slower" : "slower", after);
}

/* --method student needs --student FILE.so defining student_count, and --student needs
 * --method student. 0, or the usage error printed. */
static int share_student(const struct exp_opts *o, int chosen)
{
    char why[300];
    if (!(chosen & (1 << M_STUDENT)))
        return o->student ? die(PARLAB_EXIT_USAGE, "--student %s: nothing runs it without "
                                "--method student", o->student) : 0;
    if (!o->student)
        return die(PARLAB_EXIT_USAGE, "--method student: give the count with --student FILE.so "
                   "(make lab-4 builds labs/04-sharing/student/count.c into one)");
    if (student_load(o->student, why, sizeof why))
        return die(PARLAB_EXIT_USAGE, "--student %s: %s", o->student, why);
    if (!student_count_fn)
        return die(PARLAB_EXIT_USAGE, "--method student: %s defines no student_count",
                   student_source());
    return 0;
}

static int share_run(struct exp_opts *o)
{
    int chosen = 0, st, R = o->R, wrong = 0;   /* chosen: bit per method, 0: all */
    unsigned W = o->workers;
    if (o->method && (st = parse_methods(o->method, &chosen)))
        return st;
    if ((st = share_student(o, chosen)))
        return st;

    double ns[EXP_MAX_REPEAT], fin[EXP_MAX_REPEAT], mean[M__COUNT][2];
    exp_begin(o, "share: W = %u workers each add 1 N times; time per increment as a worker "
              "sees it (its wall time / N) over R = %d runs", W, R);
    for (int m = 0; m < M__COUNT; m++)
        mean[m][0] = mean[m][1] = NAN;
    for (int m = 0; m < M__COUNT; m++) {
        if (chosen ? !(chosen & (1 << m)) : m == M_STUDENT)
            continue;
        uint64_t n = o->ops_set ? o->ops : methods[m].default_ops;
        uint64_t expect = n * W;
        for (int k = 0; k < 2; k++) {
            if (!(o->kinds & (1 << k)))
                continue;
            enum pool_kind pk = k == 0 ? POOL_FORK : POOL_THREAD;
            struct outcome oc = { 0 };
            if (share_measure(methods[m].name, pk, W, n, R, ns, fin, &oc))
                return die(oc.code, "%s", oc.msg);
            struct exp_row r = { .section = methods[m].name, .workers = W, .unit = UNIT_NS,
                                 .ratio = NAN };
            snprintf(r.what, sizeof r.what, "%s W=%u N=%llu", exp_kind_name(k), W,
                     (unsigned long long)n);
            stats_of(ns, R, &r.st);
            mean[m][k] = r.st.mean;
            struct exp_row fr = { .section = methods[m].name, .workers = W, .unit = UNIT_COUNT };
            snprintf(fr.what, sizeof fr.what, "%s final count (expected %llu)", exp_kind_name(k),
                     (unsigned long long)expect);
            stats_of(fin, R, &fr.st);
            fr.ratio = fr.st.mean / (double)expect;
            int exact = fr.st.min == (double)expect && fr.st.max == (double)expect;
            if (exact) {
                snprintf(r.note, sizeof r.note, "count %llu = expected%s",
                         (unsigned long long)expect, R > 1 ? " in every run" : "");
            } else {
                double lost[EXP_MAX_REPEAT];
                struct stats ls;
                char fs[64], lsb[64];
                for (int i = 0; i < R; i++)
                    lost[i] = (double)expect - fin[i];
                stats_of(lost, R, &ls);
                snprintf(r.note, sizeof r.note, "count %s of %llu: lost %s (%.0f%%)",
                         stats_fmt_mean_sd(fs, sizeof fs, &fr.st, UNIT_COUNT),
                         (unsigned long long)expect, stats_fmt_mean_sd(lsb, sizeof lsb, &ls, UNIT_COUNT),
                         100.0 * ls.mean / (double)expect);
            }
            if (!exact && m == M_STUDENT) {
                int bad = 0;
                for (int i = 0; i < R; i++)
                    bad += fin[i] != (double)expect;
                wrong = 1;
                fprintf(stderr, "parlab: %s: student_count under %s: counted %.0f, expected %llu, "
                        "in %d of %d runs: %s\n", student_source(), exp_kind_name(k),
                        fr.st.min != (double)expect ? fr.st.min : fr.st.max,
                        (unsigned long long)expect, bad, R, fr.st.min < (double)expect
                        ? "short: updates lost to a race, or never made" : "more than was added");
            } else if (!exact && m != M_NONE) {
                wrong = 1;
                fprintf(stderr, "parlab: share %s %s: counted %.0f, expected %llu\n",
                        methods[m].name, exp_kind_name(k),
                        fr.st.min != (double)expect ? fr.st.min : fr.st.max,
                        (unsigned long long)expect);
            }
            if (m == M_NONE && exact)
                snprintf(r.note + strlen(r.note), sizeof r.note - strlen(r.note),
                         ": no update was lost this time (the race did not show; "
                         "more --ops or workers make it likelier)");
            exp_row(&o->tab, &r);
            if (o->tab.fmt != OUT_TEXT)
                exp_row(&o->tab, &fr);
        }
    }
    if (!chosen)
        for (int k = 0; k < 2; k++)
            if (o->kinds & (1 << k))
                share_order(o, k, (const double (*)[2])mean);
    return wrong ? PARLAB_EXIT_WRONG : PARLAB_EXIT_OK;
}

const struct experiment exp_share = {
    .name = "share", .command = "share",
    .summary = "ways to combine a count across workers: none, lock, atomic, local, pipe, manager",
    .opts = EO_METHOD | EO_RUNNER | EO_WORKERS | EO_OPS | EO_REPEAT | EO_STUDENT,
    .default_kinds = 3, .max_workers = MAX_SHARE_WORKERS,
    .help = share_help, .run = share_run,
};
