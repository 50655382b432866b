/* cow.c: `parlab pitfall cow`: fork shares the parent's memory until a page is written:
 * minor faults, RSS and PSS of forked children as they read and then write it. */
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
    r->ns = (double)(clock_now_ns() - t0);
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
    uint64_t t0 = clock_now_ns();

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    alarm(120);                      /* a sibling that died would leave us at the barrier */
    cow_record(&rec[COW_FORKED], t0);
    pthread_barrier_wait(&s->step);

    t0 = clock_now_ns();
    uint64_t sum = 0;
    for (size_t i = 0; i < bytes; i += sizeof(uint64_t))
        sum += *(const uint64_t *)(mem + i);
    sink = sum;
    cow_record(&rec[COW_READ], t0);
    pthread_barrier_wait(&s->step);

    size_t done = 0;
    for (int p = COW_W25; p <= COW_W100; p++) {
        size_t upto = p == COW_W25 ? bytes / 4 : p == COW_W50 ? bytes / 2 : bytes;
        t0 = clock_now_ns();
        memset(mem + done, (int)(w + 1), upto - done);
        done = upto;
        cow_record(&rec[p], t0);
        pthread_barrier_wait(&s->step);
    }
    (void)sink;
    _exit(0);
}

/* What the run showed, from the means of its own rows: faults per page read and per page
 * written, and how PSS moved. */
static void cow_verdict(struct exp_opts *o, const struct stats *faults, const struct stats *pss,
                        size_t pages)
{
    char a[48], b[48];
    double per_read = (faults[COW_READ].mean - faults[COW_FORKED].mean) / (double)pages;
    double per_write = (faults[COW_W100].mean - faults[COW_READ].mean) / (double)pages;
    int grew = stats_differ(&pss[COW_W100], &pss[COW_READ]) > 0;
    exp_note(&o->tab, "reading %zu pages: %.3f faults per page: %s", pages, per_read,
             per_read < 0.1 ? "the pages stayed shared, nothing was copied"
                            : "reads faulted too, so the sharing did NOT show (a sanitizer "
                              "build, or pages the parent had not touched?)");
    exp_note(&o->tab, "writing them all: %.2f faults per page (one copy each is expected); "
             "PSS %s after reading, %s after writing: %s", per_write,
             stats_fmt_value(a, sizeof a, pss[COW_READ].mean, UNIT_KIB),
             stats_fmt_value(b, sizeof b, pss[COW_W100].mean, UNIT_KIB),
             per_write >= 0.5 && grew ? "every page written was copied into the child"
             : per_write >= 0.5 ? "the faults show, but PSS did not grow beyond the noise"
                                : "fewer faults than pages, so the copying did NOT show as "
                                  "expected (huge pages are copied 512 at a time)");
}

static int pf_cow(struct exp_opts *o, struct outcome *oc)
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
        rc = outcome_fail(oc, PARLAB_EXIT_OS, "pitfall cow: %zu MiB: %s", bytes >> 20,
                          strerror(errno));
        goto out;
    }
    for (size_t i = 0; i < bytes; i += 4096)
        mem[i] = (char)(i >> 12);    /* touched: resident and in this process's page tables */

    exp_begin(o, "cow: a %llu MiB array written by the parent, then %u forked children read it "
              "all and write it a quarter at a time; minor faults (cumulative since fork), RSS "
              "and PSS of a child over %d runs x %u children", (unsigned long long)o->mb, W, R, W);
    for (int r = 0; r < R && !rc; r++) {
        pthread_barrierattr_t ba;
        pthread_barrierattr_init(&ba);
        pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
        pthread_barrier_init(&s->step, &ba, W);
        pthread_barrierattr_destroy(&ba);
        unsigned started = 0;
        for (; started < W; started++) {
            uint64_t t0 = clock_now_ns();
            pid_t pid = fork();
            if (pid < 0) {
                rc = outcome_fail(oc, PARLAB_EXIT_OS, "pitfall cow: fork: %s", strerror(errno));
                break;
            }
            if (pid == 0)
                cow_child(s, started, mem, bytes);
            forkns[r * (int)W + (int)started] = (double)(clock_now_ns() - t0);
            child_add(pid);   /* after the timing: a signal ending us reaps it too */
            pids[started] = pid;
        }
        for (unsigned w = 0; w < started; w++) {
            int st;
            if (rc)
                kill(pids[w], SIGKILL);
            while (waitpid(pids[w], &st, 0) < 0 && errno == EINTR)
                ;
            child_del(pids[w]);
            if (!rc && (!WIFEXITED(st) || WEXITSTATUS(st) != 0))
                rc = outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "pitfall cow: child %u (pid %ld) %s", w,
                                  (long)pids[w],
                                  WIFSIGNALED(st) ? sigabbrev_np(WTERMSIG(st)) : "failed");
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
    struct exp_fig fk = { "", UNIT_NS, forkns, n };
    exp_emit(o, "cow", W, NAN, &fk, NULL, 0, NULL, "fork() of the %llu MiB parent",
             (unsigned long long)o->mb);
    struct stats faults[COW__PHASES], pss[COW__PHASES];
    for (int p = 0; p < COW__PHASES; p++) {
        double *base = all + (size_t)p * 4 * (size_t)n;
        struct exp_fig main = { "minor faults", UNIT_COUNT, base, n };
        struct exp_fig extra[] = { { "RSS", UNIT_KIB, base + n, n },
                                   { "PSS", UNIT_KIB, base + 2 * n, n },
                                   { "time", UNIT_NS, base + 3 * n, n } };
        size_t written = p <= COW_READ ? 0 : p == COW_W25 ? bytes / 4 : p == COW_W50 ? bytes / 2 : bytes;
        exp_emit(o, "cow", W, NAN, &main, extra, 3, &faults[p], "%s (%zu pages written)",
                 cow_phase[p], written / 4096);
        stats_of(base + 2 * n, n, &pss[p]);
    }
    cow_verdict(o, faults, pss, bytes / 4096);
out:
    if (mem != MAP_FAILED)
        munmap(mem, bytes);
    if (s)
        job_shared_free(s, shm_len);
    free(pids);
    free(all);
    return rc;
}

const struct experiment exp_cow = {
    .name = "cow", .command = "pitfall",
    .summary = "fork shares memory until it is written: reading is free, writing copies pages",
    .opts = EO_MB | EO_WORKERS | EO_REPEAT, .default_kinds = 1, .run = pf_cow,
};
