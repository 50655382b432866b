/* bench_util.c: samples and their spread, the row printer, option checks and job
 * helpers that overhead, share and pitfall share, so each measures the same way. */
#define _GNU_SOURCE
#include "bench_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "parse.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile of sorted v by linear interpolation (type 7, as R and numpy do). */
static double quantile(const double *v, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)pos;
    if (i >= n - 1)
        return v[n - 1];
    return v[i] + (pos - i) * (v[i + 1] - v[i]);
}

void bench_stat_of(double *v, int n, struct bench_stat *s)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s->n = n;
    s->min = v[0];
    s->max = v[n - 1];
    s->median = quantile(v, n, 0.5);
    s->q1 = quantile(v, n, 0.25);
    s->q3 = quantile(v, n, 0.75);
}

/* The scale and unit name for a value of magnitude m. */
static const char *scale_for(double m, enum bench_unit u, double *div)
{
    *div = 1;
    m = fabs(m);
    switch (u) {
    case BU_NS:
        if (m >= 1e9) { *div = 1e9; return "s"; }
        if (m >= 1e6) { *div = 1e6; return "ms"; }
        if (m >= 1e3) { *div = 1e3; return "us"; }
        return "ns";
    case BU_KIB:
        if (m >= 1024 * 1024) { *div = 1024 * 1024; return "GiB"; }
        if (m >= 1024) { *div = 1024; return "MiB"; }
        return "KiB";
    case BU_X:
        return "x";
    default:
        return "";
    }
}

/* Decimals that give about three significant digits at magnitude m (already scaled). */
static int decimals_for(double m, enum bench_unit u)
{
    m = fabs(m);
    if (u == BU_COUNT)
        return m != floor(m) && m < 100 ? 1 : 0;
    return m < 10 ? 2 : m < 100 ? 1 : 0;
}

char *bench_fmt_value(char *buf, size_t n, double v, enum bench_unit u)
{
    double div;
    const char *name = scale_for(v, u, &div);
    snprintf(buf, n, "%.*f%s%s", decimals_for(v / div, u), v / div, *name ? " " : "", name);
    return buf;
}

char *bench_fmt_stat(char *buf, size_t n, const struct bench_stat *s, enum bench_unit u)
{
    double div;
    const char *name = scale_for(s->median, u, &div);
    int d = decimals_for(s->median / div, u);
    if (u == BU_COUNT && (s->min != floor(s->min) || s->max != floor(s->max)) && d == 0)
        d = 1;
    snprintf(buf, n, "%.*f [%.*f .. %.*f]%s%s", d, s->median / div, d, s->min / div, d,
             s->max / div, *name ? " " : "", name);
    return buf;
}

static const char *unit_csv(enum bench_unit u)
{
    static const char *const names[] = { "ns", "x", "count", "KiB" };
    return names[u];
}

/* Keep a CSV field well formed whatever it holds. */
static void csv_clean(char *dst, size_t n, const char *src)
{
    size_t j = 0;
    for (size_t i = 0; src && src[i] && j + 1 < n; i++)
        dst[j++] = (src[i] == ',' || src[i] == '"' || (unsigned char)src[i] < 32) ? ';' : src[i];
    dst[j] = '\0';
}

void bench_table_row(struct bench_table *t, const struct bench_row *r)
{
    char what[128], host[80], stat[96], ratio[32] = "";
    if (t->fmt == OUT_CSV) {
        if (!t->started)
            fprintf(t->f, "command,section,what,workers,unit,median,min,max,q1,q3,repeat,"
                          "ratio,host\n");
        csv_clean(what, sizeof what, r->what);
        csv_clean(host, sizeof host, t->host);
        if (!isnan(r->ratio))
            snprintf(ratio, sizeof ratio, "%.4g", r->ratio);
        fprintf(t->f, "%s,%s,%s,%u,%s,%.10g,%.10g,%.10g,%.10g,%.10g,%d,%s,%s\n", t->command,
                r->section, what, r->workers, unit_csv(r->unit), r->st.median, r->st.min,
                r->st.max, r->st.q1, r->st.q3, r->st.n, ratio, host);
    } else {
        bench_fmt_stat(stat, sizeof stat, &r->st, r->unit);
        if (!isnan(r->ratio))
            snprintf(ratio, sizeof ratio, "%6.2fx", r->ratio);
        fprintf(t->f, "%-10s %-46s %30s %8s  %s\n", r->section, r->what, stat, ratio,
                r->note);
    }
    t->started = 1;
    fflush(t->f);
}

void bench_table_note(struct bench_table *t, const char *fmt, ...)
{
    va_list ap;
    if (t->fmt == OUT_CSV)
        return;
    fputs("# ", t->f);
    va_start(ap, fmt);
    vfprintf(t->f, fmt, ap);
    va_end(ap);
    fputc('\n', t->f);
    fflush(t->f);
}

void bench_table_load(struct bench_table *t, const char *when)
{
    double l1, l5, l15;
    FILE *f = fopen("/proc/loadavg", "r");
    if (!f)
        return;
    if (fscanf(f, "%lf %lf %lf", &l1, &l5, &l15) == 3)
        bench_table_note(t, "load average %s: %.2f %.2f %.2f (1, 5, 15 min); work from other "
                         "processes on these CPUs widens the spreads", when, l1, l5, l15);
    fclose(f);
}

int bench_opt_format(const char *val, enum out_format *out)
{
    if (strcmp(val, "text") == 0)
        *out = OUT_TEXT;
    else if (strcmp(val, "csv") == 0)
        *out = OUT_CSV;
    else
        return die(PARLAB_EXIT_USAGE, "--format %s: unknown format (text, csv)", val);
    return 0;
}

int bench_opt_pool(const char *opt, const char *val, enum pool_kind *out)
{
    if (strcmp(val, "fork") == 0)
        *out = POOL_FORK;
    else if (strcmp(val, "thread") == 0)
        *out = POOL_THREAD;
    else
        return die(PARLAB_EXIT_USAGE, "%s %s: unknown runner (fork, thread)", opt, val);
    return 0;
}

int bench_opt_bad(const char *command, int c, char **argv, int optind_now)
{
    if (c == ':')
        return die(PARLAB_EXIT_USAGE, "option %s needs a value", argv[optind_now - 1]);
    return die(PARLAB_EXIT_USAGE, "unknown option '%s' (parlab %s --help)",
               argv[optind_now - 1], command);
}

int bench_job_open(struct bench_job *bj, const struct workload *wl, uint64_t size,
                   size_t tasks, unsigned workers, enum sched_kind sched, size_t chunk)
{
    memset(bj, 0, sizeof *bj);
    if (!tasks)
        tasks = wl->default_tasks ? wl->default_tasks : (size_t)size;
    bj->job = (struct job){ .wl = wl, .size = size, .tasks = tasks, .steps = 1, .seed = 1,
                            .io_ms = 1 };
    bj->plan = (struct plan){ .workers = workers, .cores = cpus_allowed(), .schedule = sched,
                              .chunk = chunk, .loops = 1 };
    if (wl->setup && wl->setup(&bj->job))
        return errno ? -errno : -EINVAL;
    bj->set_up = 1;
    int e = results_open(&bj->rs, &bj->job, &bj->plan, RESULTS_AUTO);
    if (e) {
        bench_job_close(bj);
        return e;
    }
    return 0;
}

void bench_job_close(struct bench_job *bj)
{
    results_close(&bj->rs, &bj->plan);
    if (bj->set_up && bj->job.wl->teardown)
        bj->job.wl->teardown(&bj->job);
    bj->set_up = 0;
}

int bench_job_run(struct bench_job *bj, const struct runner *r, struct bench_sample *smp,
                  struct outcome *oc)
{
    struct rusage u0, u1;
    *oc = (struct outcome){ 0 };
    usage_now(&u0);
    results_reset(&bj->rs);
    uint64_t t0 = runner_now_ns();
    int rc = r->run(&bj->job, &bj->plan, results_slots(&bj->rs), oc);
    uint64_t t1 = runner_now_ns();
    usage_now(&u1);
    if (rc) {
        if (!oc->code)
            oc->code = PARLAB_EXIT_SOFTWARE;
        return -1;
    }
    *smp = (struct bench_sample){
        .wall_ns = (double)(t1 - t0),
        .user_s = tv_seconds(u1.ru_utime) - tv_seconds(u0.ru_utime),
        .sys_s = tv_seconds(u1.ru_stime) - tv_seconds(u0.ru_stime),
        .vol_cs = u1.ru_nvcsw - u0.ru_nvcsw,
        .invol_cs = u1.ru_nivcsw - u0.ru_nivcsw,
        .minflt = u1.ru_minflt - u0.ru_minflt,
    };
    return 0;
}

int bench_job_result(struct bench_job *bj, char *buf, size_t n, char *why, size_t wn)
{
    struct partial total;
    const struct workload *wl = bj->job.wl;
    size_t bad;
    why[0] = '\0';
    int err;
    if (results_combine(&bj->rs, &bj->job, &total, &bad, &err)) {
        snprintf(buf, n, "error");
        snprintf(why, wn, "task %zu reported error %d", bad, err);
        return 0;
    }
    wl->format(&bj->job, &total, buf, n);
    return wl->verify(&bj->job, &total, why, wn);
}

/* A map task: the same per-task work as the fork and thread runners do. */
static void bench_pool_task(void *ctx, uint64_t step, size_t task, unsigned worker)
{
    struct bench_job *bj = ctx;
    runner_exec_task(&bj->job, &bj->plan, (unsigned)step, task, worker, results_slots(&bj->rs));
}

/*
 * A map task that maps every result slot into the calling worker's page tables, writable,
 * without changing a byte. A forked worker faults on each page of shared memory the first
 * time it touches it, and with chunks the pages it touches change from map to map: without
 * this, a "warm" map still pays page faults that a thread pool paid once.
 */
static void bench_populate_task(void *ctx, uint64_t unused, size_t task, unsigned worker)
{
    struct bench_job *bj = ctx;
    (void)unused, (void)task, (void)worker;
    /* Best effort: where the kernel lacks it the warm maps fault the pages in instead. */
    if (bj->rs.slots)
        (void)madvise(bj->rs.slots, bj->rs.len, MADV_POPULATE_WRITE);
}

struct pool *bench_pool_start(enum pool_kind kind, struct bench_job *bj, int warm,
                              struct outcome *oc)
{
    struct pool_error e;
    char why[200];
    int err = 0;
    struct pool *p = pool_create(kind, bj->plan.workers, NULL, NULL, 0, &err, NULL);
    if (!p) {
        outcome_fail(oc, PARLAB_EXIT_OS, "cannot start %u %s workers: %s", bj->plan.workers,
                     kind == POOL_FORK ? "process" : "thread", strerror(-err));
        return NULL;
    }
    /* Static with one task per worker: each worker populates the slots once (Linux 5.14+). */
    if (warm && pool_map(p, bj->plan.workers, SCHED_STATIC, 0, bench_populate_task, bj, 0, &e))
        goto fail;
    for (int i = 0; i < warm; i++) {
        results_reset(&bj->rs);
        if (pool_map(p, bj->job.tasks, bj->plan.schedule, bj->plan.chunk, bench_pool_task, bj,
                     0, &e))
            goto fail;
    }
    return p;
fail:
    pool_error_str(&e, kind, why, sizeof why);
    pool_destroy(p);
    outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "%s", why);
    return NULL;
}

int bench_pool_time(struct pool *p, struct bench_job *bj, double *ns, struct outcome *oc)
{
    struct pool_error e;
    char why[200];
    results_reset(&bj->rs);
    uint64_t t0 = runner_now_ns();
    if (pool_map(p, bj->job.tasks, bj->plan.schedule, bj->plan.chunk, bench_pool_task, bj, 0,
                 &e)) {
        pool_error_str(&e, pool_kind_of(p), why, sizeof why);
        return outcome_fail(oc, PARLAB_EXIT_SOFTWARE, "%s", why);
    }
    *ns = (double)(runner_now_ns() - t0);
    return 0;
}

int bench_pool_maps(enum pool_kind kind, struct bench_job *bj, int warm, int repeat,
                    double *ns, struct outcome *oc)
{
    struct pool *p = bench_pool_start(kind, bj, warm, oc);
    if (!p)
        return -1;
    for (int i = 0; i < repeat; i++)
        if (bench_pool_time(p, bj, &ns[i], oc)) {
            pool_destroy(p);
            return -1;
        }
    pool_destroy(p);
    return 0;
}

int bench_mem_kib(long *rss_kib, long *pss_kib)
{
    char line[256];
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        return -errno;
    *rss_kib = *pss_kib = -1;
    while (fgets(line, sizeof line, f)) {
        long v;
        if (sscanf(line, "Rss: %ld kB", &v) == 1)
            *rss_kib = v;
        else if (sscanf(line, "Pss: %ld kB", &v) == 1)
            *pss_kib = v;
    }
    fclose(f);
    return *rss_kib >= 0 && *pss_kib >= 0 ? 0 : -ENODATA;
}

void bench_pause_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}
