/* launch.c: one mpirun started from bin/parlab and watched until it ends: its output kept
 * for the reason of a failure, the stopping signals forwarded, --task-timeout enforced
 * from the board, the ranks it leaves killed and reaped, and its end judged into the run's
 * outcome. The session, a world's keeper and `parlab overhead` all start mpirun here. */
#define _GNU_SOURCE
#include "mpirun.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void log_append(struct mpirun_log *l, const char *p, size_t n)
{
    if (n >= sizeof l->buf) {
        p += n - (sizeof l->buf - 1);
        n = sizeof l->buf - 1;
    }
    if (l->len + n >= sizeof l->buf) {
        size_t drop = l->len + n - (sizeof l->buf - 1);
        memmove(l->buf, l->buf + drop, l->len - drop);
        l->len -= drop;
    }
    memcpy(l->buf + l->len, p, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

/* Read mpirun's report of the first rank that failed: "process rank 1 with PID 0 on node
 * vm exited on signal 9 (Killed)", or "Process name: [[2619,1],1]" and "Exit code: 3". */
static void parse_log(const struct mpirun_log *l, struct mpirun_end *e)
{
    const char *p;
    int rank, sig, code;
    if ((p = strstr(l->buf, "process rank ")) &&
        sscanf(p, "process rank %d with PID %*d on node %*s exited on signal %d", &rank, &sig) == 2) {
        e->rank = rank;
        e->sig = sig;
        return;
    }
    if ((p = strstr(l->buf, "Process name: [[")) &&
        sscanf(p, "Process name: [[%*d,%*d],%d]", &rank) == 1) {
        e->rank = rank;
        if ((p = strstr(p, "Exit code:")) && sscanf(p, "Exit code: %d", &code) == 1)
            e->exit_code = code;
    }
}

/* The first line of l that says something (not a ---- rule or blank), for an mpirun that
 * failed in a way parse_log does not know. */
void mpi__first_line(const struct mpirun_log *l, char *out, size_t n)
{
    const char *p = l->buf;
    out[0] = '\0';
    while (*p) {
        size_t len = strcspn(p, "\n");
        const char *q = p;
        while (q < p + len && (*q == ' ' || *q == '\t'))
            q++;
        if (q < p + len && *q != '-' && *q != '*') {
            size_t k = (size_t)(p + len - q);
            snprintf(out, n, "%.*s", (int)(k < n ? k : n - 1), q);
            return;
        }
        p += len + (p[len] == '\n');
    }
}

/* Kill the ranks whose pids are on the board: a pid is taken only while it is a child of
 * mpirun, or ours once mpirun is gone (a rank that ended long ago may have left its pid
 * to another process). */
static void board_kill(struct task_watch *board, unsigned ranks, pid_t mpirun_pid)
{
    int *pids = mpi_board_pids(board, ranks);
    for (unsigned r = 0; r < ranks; r++) {
        pid_t parent;
        if (pids[r] > 1 && mpi_proc_stat(pids[r], NULL, NULL, &parent, NULL) == 0 &&
            (parent == getpid() || parent == mpirun_pid))
            kill(pids[r], SIGKILL);
    }
}

/* Stop a launched job: the ranks at once, then mpirun with SIGTERM, which notices, cleans
 * up its files and exits. */
void mpi__stop_job(pid_t mpirun_pid, struct task_watch *board, unsigned ranks)
{
    if (board)
        board_kill(board, ranks, mpirun_pid);
    kill(mpirun_pid, SIGTERM);
}

/*
 * Start mpirun with args (args[0] is mpirun's path) in dir: its stdout goes to ours when
 * pass_stdout, else with its stderr into log. SIGINT, SIGTERM and SIGHUP stay held in
 * this thread until mpi__launch_end(); mpi__launch_step() passes one that was taken on to mpirun.
 * 0, or -errno if it could not be started.
 */
int mpi__launch_start(struct launched *L, char *const args[], const char *dir,
                      struct task_watch *board, unsigned ranks, int pass_stdout,
                      struct mpirun_log *log, struct mpirun_end *e)
{
    sigset_t stops;
    int fd[2];
    *L = (struct launched){ .fd = -1, .board = board, .ranks = ranks, .log = log, .e = e };
    *e = (struct mpirun_end){ .rank = -1, .timed_out = -1 };
    stop_signals(&stops);
    /* Test-only (tests/test_mpi.c): PARLAB_MPI_TEST_LAUNCHES=FILE gets a line per mpirun
     * started, so that a test can count them. */
    const char *count = getenv("PARLAB_MPI_TEST_LAUNCHES");
    if (count && *count) {
        int cfd = open(count, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (cfd >= 0) {
            (void)!write(cfd, "mpirun\n", 7);
            close(cfd);
        }
    }
    if (pipe2(fd, O_CLOEXEC))
        return -errno;
    /* Ranks whose mpirun is gone (it exits after a rank fails, or is killed) come to us,
     * not to PID 1, so that we kill and reap them: nothing of the run outlives it, not
     * even a zombie for a slow init to collect. */
    prctl(PR_GET_CHILD_SUBREAPER, &L->was_subreaper);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    child_signals_hold(&L->old);   /* until mpirun is tracked */
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        prctl(PR_SET_CHILD_SUBREAPER, L->was_subreaper);
        child_signals_release(&L->old);
        close(fd[0]);
        close(fd[1]);
        return -err;
    }
    if (pid > 0) {
        child_add(pid);   /* a crash or a signal in another thread kills it too */
        /* The fork is over; the stopping signals stay held here for the whole run (one
         * that comes in the gap ends the run through the guard, which kills mpirun). */
        child_signals_release(&L->old);
        pthread_sigmask(SIG_BLOCK, &stops, NULL);
    }
    if (pid == 0) {
        /* mpirun stops its ranks and cleans up on SIGTERM: it gets one if we die. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        child_init();
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        if (!pass_stdout)
            dup2(fd[1], 1);
        dup2(fd[1], 2);
        char sub[PATH_MAX + 16];
        snprintf(sub, sizeof sub, "%s/" MPI_OMPI_SUB, dir);
        mpi_settings_apply(sub);
        setenv(MPI_ENV_DIR, dir, 1);   /* the board and result files: the folder itself */
        child_signals_release(&L->old);
        pthread_sigmask(SIG_UNBLOCK, &stops, NULL);   /* mpirun stops on SIGTERM */
        execv(args[0], args);
        dprintf(2, "parlab: cannot run %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    L->pid = pid;
    L->fd = fd[0];
    return 0;
}

/*
 * One look at a launched mpirun, waiting up to wait_ms for its output or for extra_fd
 * (-1: none) to be readable: keep what it printed; sig (0: none), a stopping signal taken
 * meanwhile, stops the job and mpirun, as does a task past the board's timeout; a job
 * stopped 0.3 s ago whose mpirun has not gone is killed. 1 once mpirun has ended, else 0.
 */
int mpi__launch_step(struct launched *L, int sig, int wait_ms, int extra_fd)
{
    struct pollfd pfd[2] = { { .fd = L->fd, .events = POLLIN },
                             { .fd = extra_fd, .events = POLLIN } };
    if (L->done)
        return 1;
    int k = poll(pfd, 2, wait_ms);
    if (k > 0 && L->fd >= 0 && pfd[0].revents) {
        char buf[4096];
        ssize_t r = read(L->fd, buf, sizeof buf);
        if (r > 0)
            log_append(L->log, buf, (size_t)r);
        else if (r == 0 || errno != EINTR) {
            close(L->fd);
            L->fd = -1;
        }
    }
    if (sig > 0 && !L->e->stopped_by) {
        L->e->stopped_by = sig;
        mpi__stop_job(L->pid, L->board, L->ranks);
        L->term_at = clock_now_ns();
    }
    uint64_t limit = (uint64_t)(L->timeout_s * 1e9);
    if (limit && L->board && !L->term_at) {
        uint64_t now = clock_now_ns();
        for (unsigned r = 0; r < L->ranks; r++) {
            long t = atomic_load_explicit(&L->board[r].task, memory_order_acquire);
            uint64_t t0 = atomic_load_explicit(&L->board[r].start_ns, memory_order_relaxed);
            if (t >= 0 && now > t0 && now - t0 >= limit) {
                L->e->timed_out = t;
                L->e->timed_rank = (int)r;
                mpi__stop_job(L->pid, L->board, L->ranks);
                L->term_at = now;
                break;
            }
        }
    }
    /* Ranks that were still starting when the job was stopped go as they appear. */
    if (L->term_at && L->board)
        board_kill(L->board, L->ranks, L->pid);
    /* mpirun has 0.3 s to stop (it takes a second when stopped while still starting the
     * ranks); then it is killed. Its ranks come back to us and are killed in mpi__launch_end(),
     * and its files are in the run's folder, which goes anyway. */
    if (L->term_at && clock_now_ns() - L->term_at > 300000000ull) {
        kill(L->pid, SIGKILL);
        L->term_at = UINT64_MAX / 2;
    }
    if (waitpid(L->pid, &L->status, WNOHANG) == L->pid)
        L->done = 1;
    return L->done;
}

/* After mpi__launch_step() said mpirun has ended: whatever it left (ranks still starting or
 * being stopped, ranks it did not reap) is now ours: kill and reap it all before the
 * run's folder goes; read the rest of its output and judge how it ended into *L->e. */
void mpi__launch_end(struct launched *L)
{
    sigset_t stops;
    stop_signals(&stops);
    child_del(L->pid);
    child_reap_strays(1, 2.0);
    prctl(PR_SET_CHILD_SUBREAPER, L->was_subreaper);
    if (L->fd >= 0) {   /* what is left in the pipe */
        char buf[4096];
        ssize_t k;
        int fl = fcntl(L->fd, F_GETFL);
        fcntl(L->fd, F_SETFL, fl | O_NONBLOCK);
        while ((k = read(L->fd, buf, sizeof buf)) > 0)
            log_append(L->log, buf, (size_t)k);
        close(L->fd);
        L->fd = -1;
    }
    L->e->status = L->status;
    parse_log(L->log, L->e);
    /* Signals that arrived meanwhile were forwarded; drop them before unblocking. */
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&stops, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, &L->old, NULL);
}

/*
 * Start mpirun with args (args[0] is mpirun's path) in dir and wait for it: SIGINT,
 * SIGTERM and SIGHUP held for the whole run, one that arrives forwarded to mpirun as
 * SIGTERM, which stops its ranks and removes its files, and reported in e->stopped_by;
 * board watched for --task-timeout. mpirun's stdout goes to ours when pass_stdout, else
 * with its stderr into log. 0, or -errno if it could not be started.
 */
int mpi__launch(char *const args[], const char *dir, struct task_watch *board,
                unsigned ranks, double timeout_s, int pass_stdout, struct mpirun_log *log,
                struct mpirun_end *e)
{
    struct launched L;
    sigset_t stops;
    int err = mpi__launch_start(&L, args, dir, board, ranks, pass_stdout, log, e);
    if (err)
        return err;
    L.timeout_s = timeout_s;
    stop_signals(&stops);
    for (;;) {
        struct timespec zero = { 0, 0 };
        int sig = sigtimedwait(&stops, NULL, &zero);
        if (mpi__launch_step(&L, sig, 10, -1))
            break;
    }
    mpi__launch_end(&L);
    return 0;
}

/* Turn how mpirun ended into the run's outcome. 0 if every rank finished. */
int mpi__judge(const struct mpirun_end *e, const struct mpirun_log *log,
               struct task_watch *board, unsigned ranks, double timeout_s,
               struct outcome *out)
{
    if (e->stopped_by)
        return outcome_fail(out, 128 + e->stopped_by, "interrupted by SIG%s; mpirun stopped "
                            "the ranks and their files were removed", sigabbrev_np(e->stopped_by));
    if (e->timed_out >= 0)
        return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "task %ld (rank %d) ran past the %g s "
                            "task timeout; mpirun stopped every rank, remaining tasks dropped",
                            e->timed_out, e->timed_rank, timeout_s);
    if (WIFEXITED(e->status) && WEXITSTATUS(e->status) == 0)
        return 0;
    const char *bind = mpi_transport() == 1 ? strstr(log->buf, "bind() failed") : NULL;
    if (bind) {   /* Open MPI's TCP transport found no port: the OS's refusal, not a rank's */
        size_t len = strcspn(bind, "\n");
        return outcome_fail(out, PARLAB_EXIT_OS, "mpi: the TCP transport (%s=tcp) cannot "
                            "bind: %.*s", MPI_ENV_TRANSPORT, (int)(len < 120 ? len : 120), bind);
    }
    if (e->rank >= 0 && (unsigned)e->rank < ranks) {
        long task = board ? atomic_load(&board[e->rank].task) : -1;
        int pid = board ? mpi_board_pids(board, ranks)[e->rank] : 0;
        char who[96], how[64];
        if (task >= 0)
            snprintf(who, sizeof who, "task %ld (rank %d, pid %d)", task, e->rank, pid);
        else
            snprintf(who, sizeof who, "rank %d (pid %d), between tasks,", e->rank, pid);
        if (e->sig)
            snprintf(how, sizeof how, "killed by SIG%s", sigabbrev_np(e->sig));
        else
            snprintf(how, sizeof how, "exited with status %d", e->exit_code);
        return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "%s %s; mpirun stopped the other "
                            "ranks, remaining tasks dropped", who, how);
    }
    char line[200];
    const char *p = strstr(log->buf, "parlab: ");
    if (p) {   /* a rank said why itself */
        size_t len = strcspn(p + 8, "\n");
        snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), p + 8);
        return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "%s", line);
    }
    mpi__first_line(log, line, sizeof line);
    if (WIFSIGNALED(e->status))
        return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "mpirun killed by SIG%s%s%s",
                            sigabbrev_np(WTERMSIG(e->status)), *line ? ": " : "", line);
    return outcome_fail(out, PARLAB_EXIT_OS, "mpirun failed (status %d)%s%s",
                        WEXITSTATUS(e->status), *line ? ": " : "", line);
}

void mpi__arg_add(char **args, int *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (*n < MPI_ARGS_MAX - 1 && vasprintf(&args[*n], fmt, ap) >= 0)
        (*n)++;
    va_end(ap);
    args[*n] = NULL;
}

/* mpirun's own options: the rank count, and --oversubscribe when there are more ranks
 * than the CPUs this process may use (as the other runners start more workers). */
void mpi__mpirun_head(char **args, int *n, const char *mpirun, unsigned ranks)
{
    mpi__arg_add(args, n, "%s", mpirun);
    mpi__arg_add(args, n, "-np");
    mpi__arg_add(args, n, "%u", ranks);
    if (ranks > mpi__cpus())
        mpi__arg_add(args, n, "--oversubscribe");
}

void mpi__args_free(char **args, int n)
{
    for (int i = 0; i < n; i++)
        free(args[i]);
}

/* The file at path, whole, into a malloc'd *buf of *len bytes; returns 0, or -1 with out
 * filled. */
static int slurp(const char *path, void **buf, size_t *len, struct outcome *out)
{
    FILE *f = fopen(path, "rb");
    char *b = NULL;
    long n = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (b = malloc((size_t)n + 1)) && fread(b, 1, (size_t)n, f) == (size_t)n) {
        fclose(f);
        *buf = b;
        *len = (size_t)n;
        return 0;
    }
    int err = errno;
    if (f)
        fclose(f);
    free(b);
    return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "mpi: rank 0 left no result (%s)",
                        strerror(err ? err : EIO));
}

int mpi_spawn_simple(unsigned ranks, char *const extra[], void **result, size_t *result_len,
                     struct outcome *out)
{
    char exe[PATH_MAX], mpirun[PATH_MAX], dir[PATH_MAX], path[PATH_MAX + 16];
    char *args[MPI_ARGS_MAX];
    int n = 0, rc, e;
    if (mpi__transport_check(out))
        return -1;
    if (mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, out))
        return -1;
    sigset_t before;
    struct task_watch *none;
    if (mpi__run_dir_open(dir, sizeof dir, 0, &none, &before, out))
        return -1;
    mpi__mpirun_head(args, &n, mpirun, ranks);
    mpi__arg_add(args, &n, "%s", exe);
    for (int i = 0; extra[i]; i++)
        mpi__arg_add(args, &n, "%s", extra[i]);
    struct mpirun_log *log = calloc(1, sizeof *log);
    struct mpirun_end end;
    if (!log)
        rc = outcome_fail(out, PARLAB_EXIT_OS, "out of memory");
    else if ((e = mpi__launch(args, dir, NULL, ranks, 0, 1, log, &end)))
        rc = outcome_fail(out, PARLAB_EXIT_OS, "cannot start %s: %s", mpirun, strerror(-e));
    else
        rc = mpi__judge(&end, log, NULL, ranks, 0, out);
    if (!rc && result) {
        snprintf(path, sizeof path, "%s/result", dir);
        rc = slurp(path, result, result_len, out);
    }
    free(log);
    mpi__args_free(args, n);
    mpi__run_dir_close(dir, none, 0, &before);
    return rc;
}

/* Read rank 0's result file into slots, the trace and the job's state, and the job's time
 * on the ranks into out->job_wall_s. 0, or -1. */
int mpi__read_result(const char *path, struct job *job, const struct plan *plan,
                     struct partial *slots, struct outcome *out)
{
    FILE *f = fopen(path, "rb");
    struct mpi_result_hdr h;
    int ok = 0;
    if (!f)
        return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "mpi: rank 0 left no result (%s)",
                            strerror(errno));
    size_t rows = plan->trace ? job->tasks * job->steps : 0, want = 0;
    for (size_t t = 0; t < job->tasks; t++)
        want += mpi_task_state_len(job, job->steps - 1, t);
    if (fread(&h, sizeof h, 1, f) == 1 && h.magic == MPI_RESULT_MAGIC && h.tasks == job->tasks &&
        h.steps == job->steps && h.trace_rows == rows && h.state_bytes == want &&
        fread(slots, sizeof *slots, job->tasks, f) == job->tasks &&
        (!rows || fread(plan->trace, sizeof *plan->trace, rows, f) == rows)) {
        ok = 1;
        if (want) {
            char *buf = malloc(want);
            ok = buf && fread(buf, 1, want, f) == want;
            for (size_t t = 0, at = 0; ok && t < job->tasks; t++)
                at += mpi_task_state_copy(job, job->steps - 1, t, buf + at, 0);
            free(buf);
        }
    }
    fclose(f);
    if (ok)
        out->job_wall_s = (double)h.wall_ns / 1e9;
    return ok ? 0 : outcome_fail(out, PARLAB_EXIT_SOFTWARE, "mpi: rank 0's result file is "
                                 "not what this job expects");
}
