/* guard.c: how a run ends: by its own means, with the one line "parlab: <what>: <why>"
 * that only the commands print (die, complain); or when something goes wrong outside the
 * runner's control: a signal from the user, a crash in a thread of this process, or a
 * task past its timeout. Each ends the process with a one-line reason, after killing and
 * reaping every worker process, so nothing is left behind. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "harness.h"

/* Append c to buf[*n] as one printable piece: control bytes escaped (\n, \t, \xNN), so
 * that a message stays one line whatever a user typed. */
static void put_escaped(char *buf, size_t *n, unsigned char c)
{
    if (c == '\n' || c == '\t' || c == '\r') {
        buf[(*n)++] = '\\';
        buf[(*n)++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
    } else if (c < 0x20 || c == 0x7f) {
        *n += (size_t)sprintf(buf + *n, "\\x%02x", c);
    } else {
        buf[(*n)++] = (char)c;
    }
}

/* Where to cut s[0..n) to keep `keep` bytes at each end, on whole UTF-8 characters: the
 * head's length in *head, the tail's start in *tail. */
static void cut_points(const char *s, size_t n, size_t keep, size_t *head, size_t *tail)
{
    *head = keep;
    *tail = n - keep;
    while (*head > 0 && ((unsigned char)s[*head] & 0xc0) == 0x80)   /* whole UTF-8 */
        (*head)--;
    while (*tail < n && ((unsigned char)s[*tail] & 0xc0) == 0x80)
        (*tail)++;
}

/* The one place that prints "parlab: <what>: <why>" (STYLE: only the CLI layer does). A
 * message that echoes a huge value keeps its head and its tail (the reason) around a
 * note of what was cut. Main thread (static buffers). */
static void vcomplain(const char *fmt, va_list ap)
{
    enum { KEEP = 160 };
    static char raw[16384], esc[4 * sizeof raw];
    size_t n = 0, head, tail;
    vsnprintf(raw, sizeof raw, fmt, ap);
    for (const char *p = raw; *p; p++)
        put_escaped(esc, &n, (unsigned char)*p);
    esc[n] = '\0';
    if (n > 3 * KEEP) {
        cut_points(esc, n, KEEP, &head, &tail);
        fprintf(stderr, "parlab: %.*s[... %zu characters ...]%s\n", (int)head, esc, tail - head,
                esc + tail);
    } else {
        fprintf(stderr, "parlab: %s\n", esc);
    }
}

int fail_msg(struct outcome *oc, int code, const char *fmt, ...)
{
    enum { KEEP = 100 };
    char raw[16384];
    size_t head, tail, n;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    oc->code = code;
    n = strlen(raw);
    if (n < sizeof oc->msg) {
        memcpy(oc->msg, raw, n + 1);
        return -1;
    }
    cut_points(raw, n, KEEP, &head, &tail);
    snprintf(oc->msg, sizeof oc->msg, "%.*s[... %zu characters ...]%s", (int)head, raw,
             tail - head, raw + tail);
    return -1;
}

void complain(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vcomplain(fmt, ap);
    va_end(ap);
}

int die(int code, const char *fmt, ...)
{
    va_list ap;
    guard_exiting();   /* this is the run's one line: a signal now adds no second */
    va_start(ap, fmt);
    vcomplain(fmt, ap);
    va_end(ap);
    return code;
}

static pid_t guard_pid;
/* One ending only: a signal, a crash in another thread and the watchdog may all try to end
 * the run at once; the first to claim it prints its line, the others stay quiet. */
static _Atomic int guard_ending;   /* 0, ENDING_HANDLER or ENDING_EXIT */
enum { ENDING_HANDLER = 1, ENDING_EXIT = 2 };

static int claim_end(void)
{
    int none = 0;
    return atomic_compare_exchange_strong(&guard_ending, &none, ENDING_HANDLER);
}

void guard_exiting(void)
{
    int none = 0;
    /* A handler in another thread holds the ending: it is killing the workers and will
     * print the one line and exit. Printing ours too would make two; wait for its exit. */
    if (!atomic_compare_exchange_strong(&guard_ending, &none, ENDING_EXIT) &&
        none == ENDING_HANDLER)
        for (;;)
            pause();
}
static const char *guard_runner = "?";
/* stderr as it was at start: the handlers write there even while a runner points fd 2
 * elsewhere for a moment (omp, to catch libgomp's words). */
static int guard_errfd = 2;
static char guard_tmp[4096];          /* a file to remove if the run ends here, or "" */
static _Atomic int guard_tmp_set;

/* Async-signal-safe output: append s, or n in decimal, to buf. */
static size_t put_s(char *buf, size_t at, size_t cap, const char *s)
{
    while (*s && at + 1 < cap)
        buf[at++] = *s++;
    buf[at] = '\0';
    return at;
}

static size_t put_l(char *buf, size_t at, size_t cap, long n)
{
    char tmp[24];
    int i = 0;
    if (n < 0) {
        at = put_s(buf, at, cap, "-");
        n = -n;
    }
    do {
        tmp[i++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (i && at + 1 < cap)
        buf[at++] = tmp[--i];
    buf[at] = '\0';
    return at;
}

/* A forked worker inherits these handlers until child_init(); it must die by the
 * signal itself, as its parent expects to see. */
static int not_the_parent(int sig)
{
    if (getpid() == guard_pid)
        return 0;
    signal(sig, SIG_DFL);
    raise(sig);
    return 1;
}

void guard_remove_on_exit(const char *path)
{
    atomic_store(&guard_tmp_set, 0);
    if (path && strlen(path) < sizeof guard_tmp) {
        strcpy(guard_tmp, path);
        atomic_store(&guard_tmp_set, 1);
    }
}

/* What every ending does before its message: stop the workers, drop the temporary file.
 * Then every other child: the mpi runner's ranks, which come back to this process (a
 * child subreaper while mpirun runs) once mpirun is killed, and a worker the main thread
 * forked meanwhile when this handler runs in another thread (loopback's server). */
static void end_run(void)
{
    child_kill_all();
    child_reap_strays(0, 2.0);
    if (atomic_exchange(&guard_tmp_set, 0))
        unlink(guard_tmp);
}

static void on_stop(int sig)
{
    char msg[160];
    size_t n = 0;
    if (not_the_parent(sig) || stop_redirect(sig) || !claim_end())
        return;   /* another ending is under way and will exit, or a runner takes it */
    end_run();
    n = put_s(msg, n, sizeof msg, "parlab: interrupted by SIG");
    n = put_s(msg, n, sizeof msg, sigabbrev_np(sig));
    n = put_s(msg, n, sizeof msg, "; workers stopped and reaped\n");
    (void)!write(guard_errfd, msg, n);
    _exit(128 + sig);
}

static void on_crash(int sig)
{
    char msg[300];
    size_t n = 0;
    long task = runner_task_of_thread();
    if (not_the_parent(sig))
        return;
    /* Another handler is ending the run: wait for its exit (returning would fault again).
     * A crash while the process exits by its own means is still reported. */
    if (!claim_end() && atomic_load(&guard_ending) == ENDING_HANDLER)
        for (;;)
            pause();
    end_run();
    n = put_s(msg, n, sizeof msg, "parlab: ");
    if (task >= 0) {
        n = put_s(msg, n, sizeof msg, "task ");
        n = put_l(msg, n, sizeof msg, task);
        n = put_s(msg, n, sizeof msg, " ");
    }
    n = put_s(msg, n, sizeof msg, "crashed the whole process with SIG");
    n = put_s(msg, n, sizeof msg, sigabbrev_np(sig));
    n = put_s(msg, n, sizeof msg, ": under ");
    n = put_s(msg, n, sizeof msg, guard_runner);
    n = put_s(msg, n, sizeof msg, " the workers share one process (fork and process survive this)\n");
    (void)!write(guard_errfd, msg, n);
    _exit(PARLAB_EXIT_SOFTWARE);
}

void guard_set_runner(const char *runner)
{
    guard_runner = runner;
}

void guard_install(void)
{
    static const int stops[] = { SIGINT, SIGTERM, SIGHUP };
    static const int crashes[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
    struct sigaction sa;
    guard_pid = getpid();
    int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (fd >= 0)
        guard_errfd = fd;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
        sigaction(stops[i], &sa, NULL);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_NODEFER;
    for (size_t i = 0; i < sizeof crashes / sizeof crashes[0]; i++)
        sigaction(crashes[i], &sa, NULL);
}

static struct {
    pthread_t thread;
    _Atomic int stop;
    const struct plan *plan;
    unsigned slots;
} wd;

/* The watchdog thread: a task past the timeout cannot be killed alone in a runner whose
 * workers are threads of this process, so the whole run ends, naming the task. */
static void *watchdog(void *arg)
{
    (void)arg;
    uint64_t limit = (uint64_t)(wd.plan->task_timeout_s * 1e9);
    struct timespec tick = { 0, 10 * 1000 * 1000 };
    while (!atomic_load(&wd.stop)) {
        uint64_t now = clock_now_ns();
        for (unsigned w = 0; w < wd.slots; w++) {
            struct task_watch *tw = &wd.plan->watch[w];
            long t = atomic_load_explicit(&tw->task, memory_order_acquire);
            uint64_t t0 = atomic_load_explicit(&tw->start_ns, memory_order_relaxed);
            if (t < 0 || now < t0 || now - t0 < limit)
                continue;
            if (!claim_end())
                continue;   /* a signal, a crash or main is ending the run: keep quiet */
            end_run();
            fflush(stdout);   /* keep the rows printed so far */
            complain(   /* not die(): this thread already holds the ending */
                "task %ld (worker %u) ran past the %g s task timeout; %s cannot stop one "
                "worker alone, so the run ends and every worker is stopped", t, w,
                wd.plan->task_timeout_s, guard_runner);
            _exit(PARLAB_EXIT_SOFTWARE);
        }
        nanosleep(&tick, NULL);
    }
    return NULL;
}

int guard_watch_start(const struct plan *plan, unsigned slots)
{
    wd.plan = plan;
    wd.slots = slots;
    atomic_store(&wd.stop, 0);
    return -pthread_create(&wd.thread, NULL, watchdog, NULL);
}

void guard_watch_stop(void)
{
    /* Hold the stopping signals until the thread is joined (at most one 10 ms tick): a
     * handler's _exit between its return and the join would leave a finished, unjoined
     * thread, which ThreadSanitizer reports as leaked. */
    sigset_t stops, old;
    stop_signals(&stops);
    pthread_sigmask(SIG_BLOCK, &stops, &old);
    atomic_store(&wd.stop, 1);
    pthread_join(wd.thread, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}
