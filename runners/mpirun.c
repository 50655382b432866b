/* mpirun.c: the mpi runner as bin/parlab sees it: each run starts `mpirun -np W
 * bin/parlab-mpi serve ...`, watches it, and reads the partial results rank 0 leaves in a
 * file, so that combining, verifying and printing stay the harness's, as for every other
 * runner. The ranks' side is runners/mpi.c, built only where mpicc is. */
#define _GNU_SOURCE
#include "mpi.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int (*runner_mpi_world_run)(struct job *job, const struct plan *plan, struct partial *slots,
                            struct outcome *out);

/*
 * Everything parlab tells Open MPI, and why. One table: the launcher applies it to the
 * mpirun it starts, `parlab-mpi env` prints it for running mpirun by hand, and the tests
 * take it from there.
 */
static const struct { const char *name, *value, *why; } mpi_settings[] = {
    { "OMPI_ALLOW_RUN_AS_ROOT", "1",
      "Open MPI refuses to start as root unless told so twice; CI containers run as root" },
    { "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", "the second half of that consent" },
    { "OMPI_MCA_btl_vader_single_copy_mechanism", "none",
      "shared-memory transport: copy through the shared segment, not with CMA "
      "(process_vm_readv), which containers often forbid (ptrace rules)" },
    { "OMPI_MCA_btl", "self,vader",
      "one machine: loopback and shared memory only (no TCP or InfiniBand probing at start)" },
    { "OMPI_MCA_pml", "ob1",
      "one machine: the ob1 message layer over those transports, without probing UCX "
      "(a fifth of a second of every start here)" },
    { "OMPI_MCA_hwloc_base_binding_policy", "none",
      "do not bind ranks to cores: they keep the CPU set parlab runs in (--cores K)" },
    { "OMPI_MCA_shmem", "mmap",
      "OPAL's own shared-memory segments as files in the run's session folder, which parlab "
      "removes, instead of POSIX segments in /dev/shm (shm_open), which a rank killed while "
      "it starts leaves behind as /dev/shm/open_mpi.NNNN" },
    { "OMPI_MCA_opal_signal", "",
      "no Open MPI crash handler: a crashing rank dies by its own signal, which mpirun "
      "reports and parlab names, instead of printing a backtrace" },
};

void mpi_settings_apply(const char *dir)
{
    for (size_t i = 0; i < sizeof mpi_settings / sizeof mpi_settings[0]; i++)
        setenv(mpi_settings[i].name, mpi_settings[i].value, 1);
    if (dir) {
        /* Open MPI's session folder and its shared-memory segments go into the run's own
         * folder, which the launcher removes afterwards whatever happened. */
        setenv("OMPI_MCA_orte_tmpdir_base", dir, 1);
        setenv("OMPI_MCA_btl_vader_backing_directory", dir, 1);
        setenv(MPI_ENV_DIR, dir, 1);
    }
}

void mpi_settings_print(FILE *f)
{
    fprintf(f, "# Open MPI settings parlab uses (eval \"$(bin/parlab-mpi env)\" before mpirun)\n");
    for (size_t i = 0; i < sizeof mpi_settings / sizeof mpi_settings[0]; i++)
        fprintf(f, "export %s='%s'   # %s\n", mpi_settings[i].name, mpi_settings[i].value,
                mpi_settings[i].why);
}

size_t mpi_board_len(unsigned ranks)
{
    return (size_t)ranks * (sizeof(struct task_watch) + sizeof(int));
}

int *mpi_board_pids(struct task_watch *board, unsigned ranks)
{
    return (int *)(void *)(board + ranks);
}

size_t mpi_task_state_copy(const struct job *job, unsigned step, size_t task, void *buf,
                           int to_buf)
{
    struct wl_span sp[WL_MAX_SPANS];
    if (!job->wl->task_writes)
        return 0;
    unsigned k = job->wl->task_writes(job, step, task, sp);
    size_t at = 0;
    for (unsigned i = 0; i < k; i++) {
        char *st = (char *)job->state + sp[i].off;
        if (buf) {
            if (to_buf)
                memcpy((char *)buf + at, st, sp[i].len);
            else
                memcpy(st, (const char *)buf + at, sp[i].len);
        }
        at += sp[i].len;
    }
    return at;
}

size_t mpi_task_state_len(const struct job *job, unsigned step, size_t task)
{
    return mpi_task_state_copy(job, step, task, NULL, 1);
}

/* The CPUs this process may run on (ranks started from here inherit them). */
static unsigned cpus_allowed_count(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set))
        return 1;
    return (unsigned)CPU_COUNT(&set);
}

static int find_in_path(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        if (len && len < n) {
            snprintf(out, n, "%.*s/%s", (int)len, path, name);
            if (access(out, X_OK) == 0)
                return 0;
        }
        path += len + (path[len] == ':');
    }
    return -1;
}

int mpi_find(char *exe, size_t exe_n, char *mpirun, size_t mpirun_n, char *why, size_t n)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) {
        snprintf(why, n, "cannot find this executable (/proc/self/exe): %s", strerror(errno));
        return -1;
    }
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    snprintf(exe, exe_n, "%s/parlab-mpi", self);
    if (access(exe, X_OK) != 0) {
        snprintf(why, n, "the mpi runner is not built (no %s): install Open MPI "
                 "(scripts/deps.sh test, or apt-get install libopenmpi-dev openmpi-bin), "
                 "then make", exe);
        return -1;
    }
    if (find_in_path("mpirun", mpirun, mpirun_n)) {
        snprintf(why, n, "mpirun is not in PATH: install openmpi-bin (scripts/deps.sh test)");
        return -1;
    }
    return 0;
}

static int mpi_available(char *why, size_t n)
{
    char exe[PATH_MAX], mpirun[PATH_MAX];
    return mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, why, n) == 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

/* The run's private folder, $TMPDIR/parlab-mpi.XXXXXX. 0, or -1 with out filled. */
static int make_dir(char *dir, size_t n, struct outcome *out)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, n, "%s/parlab-mpi.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir))
        return 0;
    return outcome_fail(out, PARLAB_EXIT_OS, "mpi: cannot make a folder in $TMPDIR: %s",
                        strerror(errno));
}

/* Ranks this machine will start (oversubscribed up to MPI_MAX_RANKS_PER_CPU). 0, or -1
 * with out filled (64). */
static int ranks_fit(unsigned ranks, struct outcome *out)
{
    if (ranks <= MPI_MAX_RANKS_PER_CPU * cpus_allowed_count())
        return 0;
    return outcome_fail(out, PARLAB_EXIT_USAGE, "-j %u: %u ranks on %u CPUs; the mpi runner "
                        "starts at most %u ranks per CPU (each is a process, and waiting "
                        "ranks poll)", ranks, ranks, cpus_allowed_count(), MPI_MAX_RANKS_PER_CPU);
}

static void remove_dir(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* What mpirun printed, kept for the reason of a failure (the last 16 KiB). */
struct mpirun_log {
    char buf[16384];
    size_t len;
};

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

/* How the launched job ended. */
struct mpirun_end {
    int status;        /* mpirun's wait status */
    int rank;          /* the rank that failed, or -1 */
    int sig;           /* it died by this signal, or 0 */
    int exit_code;     /* else it exited with this status */
    int stopped_by;    /* a signal parlab received and forwarded, or 0 */
    long timed_out;    /* the task past --task-timeout, or -1 */
    int timed_rank;
};

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
static void first_line(const struct mpirun_log *l, char *out, size_t n)
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

/* Stop a launched job: the ranks at once (their pids are on the board), then mpirun with
 * SIGTERM, which notices, cleans up its files and exits. */
static void stop_job(pid_t mpirun_pid, struct task_watch *board, unsigned ranks)
{
    if (board) {
        int *pids = mpi_board_pids(board, ranks);
        for (unsigned r = 0; r < ranks; r++)
            if (pids[r] > 0)
                kill(pids[r], SIGKILL);
    }
    if (mpirun_pid > 0)
        kill(mpirun_pid, SIGTERM);
}

/*
 * Start mpirun with args (args[0] is mpirun's path) in dir, with SIGINT, SIGTERM and
 * SIGHUP held for the whole run: one that arrives is forwarded to mpirun as SIGTERM, which
 * stops its ranks and removes its files, and is reported in e->stopped_by. Watch board
 * for --task-timeout. mpirun's stdout goes to ours when pass_stdout, else with its stderr
 * into log. 0, or -errno if it could not be started.
 */
static int launch(char *const args[], const char *dir, struct task_watch *board,
                  unsigned ranks, double timeout_s, int pass_stdout, struct mpirun_log *log,
                  struct mpirun_end *e)
{
    sigset_t stops, old;
    int fd[2], was_subreaper = 0;
    *e = (struct mpirun_end){ .rank = -1, .timed_out = -1 };
    runner_stop_signals(&stops);
    if (pipe2(fd, O_CLOEXEC))
        return -errno;
    /* Ranks whose mpirun is gone (it exits after a rank fails, or is killed) come to us,
     * not to PID 1, so that we kill and reap them: nothing of the run outlives it, not
     * even a zombie for a slow init to collect. */
    prctl(PR_GET_CHILD_SUBREAPER, &was_subreaper);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    runner_signals_hold(&old);   /* until mpirun is tracked */
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        prctl(PR_SET_CHILD_SUBREAPER, was_subreaper);
        runner_signals_release(&old);
        close(fd[0]);
        close(fd[1]);
        return -err;
    }
    if (pid > 0) {
        runner_child_add(pid);   /* a crash or a signal in another thread kills it too */
        /* The fork is over; the stopping signals stay held here for the whole run (one
         * that comes in the gap ends the run through the guard, which kills mpirun). */
        runner_signals_release(&old);
        pthread_sigmask(SIG_BLOCK, &stops, NULL);
    }
    if (pid == 0) {
        /* mpirun stops its ranks and cleans up on SIGTERM: it gets one if we die. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent)
            _exit(127);
        runner_child_init();
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        if (!pass_stdout)
            dup2(fd[1], 1);
        dup2(fd[1], 2);
        mpi_settings_apply(dir);
        runner_signals_release(&old);
        pthread_sigmask(SIG_UNBLOCK, &stops, NULL);   /* mpirun stops on SIGTERM */
        execv(args[0], args);
        dprintf(2, "parlab: cannot run %s: %s\n", args[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    uint64_t limit = (uint64_t)(timeout_s * 1e9);
    int open_fd = fd[0], done = 0, status = 0;
    uint64_t term_at = 0;
    while (!done) {
        struct pollfd pfd = { .fd = open_fd, .events = POLLIN };
        if (open_fd >= 0 && poll(&pfd, 1, 10) > 0) {
            char buf[4096];
            ssize_t k = read(open_fd, buf, sizeof buf);
            if (k > 0)
                log_append(log, buf, (size_t)k);
            else if (k == 0 || errno != EINTR) {
                close(open_fd);
                open_fd = -1;
            }
        } else if (open_fd < 0) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        struct timespec zero = { 0, 0 };
        int sig = sigtimedwait(&stops, NULL, &zero);
        if (sig > 0 && !e->stopped_by) {
            e->stopped_by = sig;
            stop_job(pid, board, ranks);
            term_at = runner_now_ns();
        }
        if (limit && board && !term_at) {
            uint64_t now = runner_now_ns();
            for (unsigned r = 0; r < ranks; r++) {
                long t = atomic_load_explicit(&board[r].task, memory_order_acquire);
                uint64_t t0 = atomic_load_explicit(&board[r].start_ns, memory_order_relaxed);
                if (t >= 0 && now > t0 && now - t0 >= limit) {
                    e->timed_out = t;
                    e->timed_rank = (int)r;
                    stop_job(pid, board, ranks);
                    term_at = now;
                    break;
                }
            }
        }
        /* Ranks that were still starting when the job was stopped go as they appear. */
        if (term_at && board)
            stop_job(0, board, ranks);
        /* mpirun has 0.3 s to stop (it takes a second when stopped while still starting
         * the ranks); then it is killed. Its ranks come back to us and are killed below,
         * and its files are in the run's folder, which goes anyway. */
        if (term_at && runner_now_ns() - term_at > 300000000ull) {
            kill(pid, SIGKILL);
            term_at = UINT64_MAX / 2;
        }
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            done = 1;
    }
    /* mpirun is gone; whatever it left (ranks still starting or being stopped, ranks it
     * did not reap) is now ours: kill and reap it all before the run's folder goes. */
    runner_child_del(pid);
    runner_reap_strays(1, 2.0);
    prctl(PR_SET_CHILD_SUBREAPER, was_subreaper);
    if (open_fd >= 0) {   /* what is left in the pipe */
        char buf[4096];
        ssize_t k;
        int fl = fcntl(open_fd, F_GETFL);
        fcntl(open_fd, F_SETFL, fl | O_NONBLOCK);
        while ((k = read(open_fd, buf, sizeof buf)) > 0)
            log_append(log, buf, (size_t)k);
        close(open_fd);
    }
    e->status = status;
    parse_log(log, e);
    /* Signals that arrived meanwhile were forwarded; drop them before unblocking. */
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&stops, NULL, &zero) > 0)
        ;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return 0;
}

/* Turn how mpirun ended into the run's outcome. 0 if every rank finished. */
static int judge(const struct mpirun_end *e, const struct mpirun_log *log,
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
    first_line(log, line, sizeof line);
    if (WIFSIGNALED(e->status))
        return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "mpirun killed by SIG%s%s%s",
                            sigabbrev_np(WTERMSIG(e->status)), *line ? ": " : "", line);
    return outcome_fail(out, PARLAB_EXIT_OS, "mpirun failed (status %d)%s%s",
                        WEXITSTATUS(e->status), *line ? ": " : "", line);
}

/* Read rank 0's result file into slots, the trace and the job's state. 0, or -1. */
static int read_result(const char *path, struct job *job, const struct plan *plan,
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
    return ok ? 0 : outcome_fail(out, PARLAB_EXIT_SOFTWARE, "mpi: rank 0's result file is "
                                 "not what this job expects");
}

#define ARGS_MAX 48

static void add_arg(char **args, int *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_arg(char **args, int *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (*n < ARGS_MAX - 1 && vasprintf(&args[*n], fmt, ap) >= 0)
        (*n)++;
    va_end(ap);
    args[*n] = NULL;
}

/* mpirun's own options: the rank count, and --oversubscribe when there are more ranks
 * than the CPUs this process may use (as the other runners start more workers). */
static void mpirun_head(char **args, int *n, const char *mpirun, unsigned ranks)
{
    add_arg(args, n, "%s", mpirun);
    add_arg(args, n, "-np");
    add_arg(args, n, "%u", ranks);
    if (ranks > cpus_allowed_count())
        add_arg(args, n, "--oversubscribe");
}

static void free_args(char **args, int n)
{
    for (int i = 0; i < n; i++)
        free(args[i]);
}

/* The board file in dir, mapped: every rank of the job maps it too. NULL and out filled on
 * failure. */
static struct task_watch *board_create(const char *dir, unsigned ranks, struct outcome *out)
{
    char path[PATH_MAX + 16];
    size_t blen = mpi_board_len(ranks);
    struct task_watch *board = MAP_FAILED;
    snprintf(path, sizeof path, "%s/board", dir);
    int bfd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (bfd >= 0 && ftruncate(bfd, (off_t)blen) == 0)
        board = mmap(NULL, blen, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
    if (bfd >= 0)
        close(bfd);
    if (board == MAP_FAILED) {
        outcome_fail(out, PARLAB_EXIT_OS, "mpi: board file %s: %s", path, strerror(errno));
        return NULL;
    }
    for (unsigned r = 0; r < ranks; r++)
        board[r].task = -1;
    return board;
}

/*
 * A run's private folder under $TMPDIR and its board, made with SIGINT, SIGTERM and
 * SIGHUP held until run_dir_close() has removed them (the mask before in *before): a
 * stopping signal that comes before mpirun starts waits for launch() (or the world's
 * client), which takes it as one during the run, so the folder goes either way; the
 * guard, ending the process from a handler, could not remove a tree. 0, or -1 with out
 * filled, the mask as it was, and nothing left behind.
 */
static int run_dir_open(char *dir, size_t n, unsigned ranks, struct task_watch **board,
                        sigset_t *before, struct outcome *out)
{
    sigset_t stops;
    runner_stop_signals(&stops);
    pthread_sigmask(SIG_BLOCK, &stops, before);
    if (make_dir(dir, n, out)) {
        pthread_sigmask(SIG_SETMASK, before, NULL);
        return -1;
    }
    if (!(*board = board_create(dir, ranks, out))) {
        remove_dir(dir);
        pthread_sigmask(SIG_SETMASK, before, NULL);
        return -1;
    }
    return 0;
}

/* Unmap the board, remove the folder, then let the stopping signals in again (one that
 * came after the run ended ends the process through the guard). */
static void run_dir_close(const char *dir, struct task_watch *board, unsigned ranks,
                          const sigset_t *before)
{
    munmap(board, mpi_board_len(ranks));
    remove_dir(dir);
    pthread_sigmask(SIG_SETMASK, before, NULL);
}

/* The 12 words `parlab-mpi serve` reads (and a world's rank 0, after the client's
 * folder): the job and the plan. */
static void serve_words(char **args, int *n, const struct job *job, const struct plan *plan)
{
    add_arg(args, n, "%s", job->wl->name);
    add_arg(args, n, "%llu", (unsigned long long)job->size);
    add_arg(args, n, "%zu", job->tasks);
    add_arg(args, n, "%u", job->steps);
    add_arg(args, n, "%llu", (unsigned long long)job->seed);
    add_arg(args, n, "%u", job->io_ms);
    add_arg(args, n, "%s", sched_name(plan->schedule));
    add_arg(args, n, "%zu", plan->chunk);
    add_arg(args, n, "%d", (int)plan->inject);
    add_arg(args, n, "%zu", plan->inject_task);
    add_arg(args, n, "%d", plan->trace != NULL);
    add_arg(args, n, "%u", plan->cores);
}

static int world_run(const char *wdir, struct job *job, const struct plan *plan,
                     struct partial *slots, struct outcome *out);

static int mpi_run(struct job *job, const struct plan *plan, struct partial *slots,
                   struct outcome *out)
{
    if (plan->fold) {
        /* The ranks gather a slot per task to rank 0; fold them here, in task order, as
         * the pools fold theirs per worker. */
        struct plan p = *plan;
        size_t len = job->tasks * sizeof *slots;
        struct partial *tmp = job_shared_alloc(len);
        if (!tmp)
            return outcome_fail(out, PARLAB_EXIT_OS, "mmap of %zu result slots: %s",
                                job->tasks, strerror(errno));
        p.fold = NULL;
        int rc = mpi_run(job, &p, tmp, out);
        for (size_t t = 0; !rc && t < job->tasks; t++)
            runner_task_done(job, plan, job->steps - 1, t, 0, &tmp[t]);
        job_shared_free(tmp, len);
        return rc;
    }
    if (runner_mpi_world_run)
        return runner_mpi_world_run(job, plan, slots, out);
    const char *wdir = getenv(MPI_ENV_WORLD);
    if (wdir && *wdir)
        return world_run(wdir, job, plan, slots, out);

    char exe[PATH_MAX], mpirun[PATH_MAX], why[300], dir[PATH_MAX], path[PATH_MAX + 16];
    char *args[ARGS_MAX];
    int n = 0, rc = 0, e;
    unsigned ranks = plan->workers;
    if (mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, why, sizeof why))
        return outcome_fail(out, PARLAB_EXIT_OS, "%s", why);
    if (ranks_fit(ranks, out))
        return -1;
    /* The board, in the run's folder: every rank maps it. */
    sigset_t before;
    struct task_watch *board;
    if (run_dir_open(dir, sizeof dir, ranks, &board, &before, out))
        return -1;

    mpirun_head(args, &n, mpirun, ranks);
    add_arg(args, &n, "%s", exe);
    add_arg(args, &n, "serve");
    serve_words(args, &n, job, plan);

    struct mpirun_log *log = calloc(1, sizeof *log);
    struct mpirun_end end;
    if (!log) {
        rc = outcome_fail(out, PARLAB_EXIT_OS, "out of memory");
        goto done;
    }
    if ((e = launch(args, dir, board, ranks, plan->task_timeout_s, 0, log, &end)))
        rc = outcome_fail(out, PARLAB_EXIT_OS, "cannot start %s: %s", mpirun, strerror(-e));
    else if (!(rc = judge(&end, log, board, ranks, plan->task_timeout_s, out))) {
        snprintf(path, sizeof path, "%s/result", dir);
        rc = read_result(path, job, plan, slots, out);
    }
    free(log);
done:
    free_args(args, n);
    run_dir_close(dir, board, ranks, &before);
    return rc;
}

int mpi_spawn_simple(unsigned ranks, char *const extra[], struct outcome *out)
{
    char exe[PATH_MAX], mpirun[PATH_MAX], why[300], dir[PATH_MAX];
    char *args[ARGS_MAX];
    int n = 0, rc, e;
    if (mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, why, sizeof why))
        return outcome_fail(out, PARLAB_EXIT_OS, "%s", why);
    if (make_dir(dir, sizeof dir, out))
        return -1;
    mpirun_head(args, &n, mpirun, ranks);
    add_arg(args, &n, "%s", exe);
    for (int i = 0; extra[i]; i++)
        add_arg(args, &n, "%s", extra[i]);
    struct mpirun_log *log = calloc(1, sizeof *log);
    struct mpirun_end end;
    if (!log)
        rc = outcome_fail(out, PARLAB_EXIT_OS, "out of memory");
    else if ((e = launch(args, dir, NULL, ranks, 0, 1, log, &end)))
        rc = outcome_fail(out, PARLAB_EXIT_OS, "cannot start %s: %s", mpirun, strerror(-e));
    else
        rc = judge(&end, log, NULL, ranks, 0, out);
    free(log);
    free_args(args, n);
    remove_dir(dir);
    return rc;
}

/* ---- worlds: ranks kept up between runs (parlab world) -------------------------------
 *
 * `parlab world start -j N` starts a keeper: a process of its own session that runs
 * `mpirun -np N parlab-mpi world DIR IDLE_S` as the launcher runs every mpirun (launch():
 * signals forwarded, stray ranks reaped) and, when mpirun ends, writes how (DIR/end) and
 * removes DIR. A run with PARLAB_MPI_WORLD=DIR sends its job to rank 0 over DIR/sock and
 * watches its own board as the launcher does; the ranks were started once, so a run pays
 * no mpirun, MPI_Init or MPI_Finalize. What cannot be undone in a world ends it: a rank
 * that dies, a task past --task-timeout, or a run interrupted while its job runs (a rank
 * cannot leave a task half done); the run that saw it reports it as the launcher would.
 */

/* A small number from the file name in dir, or -1. */
static long world_read(const char *dir, const char *name)
{
    char path[PATH_MAX + 32], buf[32] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = fgets(buf, sizeof buf, f) ? strtol(buf, NULL, 10) : -1;
    fclose(f);
    return v;
}

static int world_write(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    return bad ? -1 : rename(tmp, path);   /* whole, or not there */
}

static int world_connect(const char *dir)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    if (snprintf(a.sun_path, sizeof a.sun_path, "%s/sock", dir) >= (int)sizeof a.sun_path)
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* A process that is gone, or a zombie nobody has reaped yet. */
static int pid_gone(pid_t pid)
{
    char path[64], buf[256];
    if (kill(pid, 0) && errno == ESRCH)
        return 1;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 1;
    char *p = fgets(buf, sizeof buf, f) ? strrchr(buf, ')') : NULL;
    fclose(f);
    return p && p[1] == ' ' && p[2] == 'Z';
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
    nanosleep(&ts, NULL);
}

/* The keeper: run the world's mpirun until it ends, say how, remove the folder. */
static _Noreturn void world_keeper(char **args, const char *dir, unsigned ranks)
{
    struct mpirun_log *log = calloc(1, sizeof *log);
    struct mpirun_end e;
    char pid[32], *end = NULL;
    /* A daemon: a session of its own, and no descriptor of whoever started it (a pipe
     * held here would keep `$(parlab world start)` waiting for the world to end). */
    setsid();
    sigset_t stops;
    runner_stop_signals(&stops);
    pthread_sigmask(SIG_UNBLOCK, &stops, NULL);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    close_range(3, ~0u, 0);
    snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (!log || world_write(dir, "keeper", pid) || launch(args, dir, NULL, ranks, 0, 0, log, &e))
        e = (struct mpirun_end){ .status = 1 << 8, .rank = -1 };
    /* How it ended, for the run whose job it was: mpirun's end, then what it printed. */
    if (asprintf(&end, "%d %d %d %d %d\n%s", e.status, e.rank, e.sig, e.exit_code,
                 e.stopped_by, log ? log->buf : "") >= 0)
        world_write(dir, "end", end);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/sock", dir);
    unlink(path);
    /* A run that lost its job reads the end (and removes it) within a few seconds; a
     * stopped or idle world has no such run. */
    snprintf(path, sizeof path, "%s/end", dir);
    for (int i = 0; i < 300 && !e.stopped_by && !(WIFEXITED(e.status) && !WEXITSTATUS(e.status)) &&
                    access(path, F_OK) == 0; i++)
        sleep_ms(10);
    remove_dir(dir);
    _exit(0);
}

int mpi_world_start(unsigned ranks, int idle_s, char *dir, size_t dir_n, pid_t *keeper,
                    struct outcome *out)
{
    char exe[PATH_MAX], mpirun[PATH_MAX], why[300], buf[32];
    char *args[ARGS_MAX];
    int n = 0;
    if (mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, why, sizeof why))
        return outcome_fail(out, PARLAB_EXIT_OS, "%s", why);
    if (ranks_fit(ranks, out) || make_dir(dir, dir_n, out))
        return -1;
    struct sockaddr_un sa;
    if (strlen(dir) + sizeof "/sock.new" > sizeof sa.sun_path) {
        remove_dir(dir);
        return outcome_fail(out, PARLAB_EXIT_USAGE, "TMPDIR=%s is too long for the world's "
                            "socket (a Unix socket's path holds %zu bytes): use a shorter "
                            "TMPDIR", getenv("TMPDIR"), sizeof sa.sun_path);
    }
    snprintf(buf, sizeof buf, "%u\n", ranks);
    world_write(dir, "ranks", buf);
    snprintf(buf, sizeof buf, "%u\n", cpus_allowed_count());
    world_write(dir, "cores", buf);
    mpirun_head(args, &n, mpirun, ranks);
    add_arg(args, &n, "%s", exe);
    add_arg(args, &n, "world");
    add_arg(args, &n, "%s", dir);
    add_arg(args, &n, "%d", idle_s);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        world_keeper(args, dir, ranks);
    free_args(args, n);
    if (pid < 0) {
        remove_dir(dir);
        return outcome_fail(out, PARLAB_EXIT_OS, "fork: %s", strerror(errno));
    }
    *keeper = pid;
    /* Ready once rank 0 listens; the keeper writes the end if mpirun fails instead. */
    char sock[PATH_MAX + 16], endp[PATH_MAX + 16];
    snprintf(sock, sizeof sock, "%s/sock", dir);
    snprintf(endp, sizeof endp, "%s/end", dir);
    for (int i = 0; i < 6000; i++) {
        if (access(sock, F_OK) == 0)
            return 0;
        if (access(endp, F_OK) == 0 || waitpid(pid, NULL, WNOHANG) == pid)
            break;
        sleep_ms(10);
    }
    FILE *f = fopen(endp, "r");
    char line[300] = "", first[200] = "";
    if (f) {
        struct mpirun_log *log = calloc(1, sizeof *log);
        if (fgets(line, sizeof line, f) && log) {   /* the status line, then mpirun's words */
            size_t k = fread(log->buf, 1, sizeof log->buf - 1, f);
            log->buf[k] = '\0';
            first_line(log, first, sizeof first);
        }
        free(log);
        fclose(f);
    }
    /* The end is read: the keeper may go (it removes the folder). One still starting
     * after a minute is stopped, which its launch() passes on to mpirun. */
    unlink(endp);
    if (waitpid(pid, NULL, WNOHANG) == 0) {
        if (!f)
            kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    return outcome_fail(out, PARLAB_EXIT_OS, "the world did not start%s%s", *first ? ": " : "",
                        first);
}

int mpi_world_stop(const char *dir, struct outcome *out)
{
    long keeper = world_read(dir, "keeper");
    if (keeper <= 0)
        return outcome_fail(out, PARLAB_EXIT_OS, "no world at %s (it has ended, or was never "
                            "started)", dir);
    /* Politely first: rank 0 quits once the job it runs (if any) is done, and every rank
     * finalizes; then mpirun is stopped, and last the keeper's session is killed. */
    int fd = world_connect(dir);
    if (fd >= 0) {
        if (write(fd, "quit\n", 5) == 5) {
            struct pollfd p = { .fd = fd, .events = POLLIN };
            poll(&p, 1, 5000);
        }
        close(fd);
    }
    for (int i = 0; i < 1000 && !pid_gone((pid_t)keeper); i++) {
        if (i == 300)
            kill((pid_t)keeper, SIGTERM);
        if (i == 700)
            kill(-(pid_t)keeper, SIGKILL);
        sleep_ms(10);
    }
    if (!pid_gone((pid_t)keeper))
        return outcome_fail(out, PARLAB_EXIT_OS, "the world's keeper (pid %ld) did not stop",
                            keeper);
    remove_dir(dir);   /* already gone, unless the keeper was killed */
    return 0;
}

int mpi_world_ranks(const char *dir)
{
    char sock[PATH_MAX + 16];
    snprintf(sock, sizeof sock, "%s/sock", dir);
    long r = world_read(dir, "ranks"), k = world_read(dir, "keeper");
    /* rank 0's socket goes first when the world ends */
    return r > 0 && k > 0 && !pid_gone((pid_t)k) && access(sock, F_OK) == 0 ? (int)r : -1;
}

/* Wait until the world's keeper is gone (and with it every process and file of the
 * world); kill its session if it takes too long. */
static void world_wait_gone(long keeper)
{
    for (int i = 0; keeper > 0 && i < 400 && !pid_gone((pid_t)keeper); i++) {
        if (i == 300)
            kill(-(pid_t)keeper, SIGKILL);
        sleep_ms(10);
    }
}

/* A world's run ended without the reply (the world died): read its end and judge it as the
 * launcher judges mpirun. */
static int world_lost(const char *wdir, struct task_watch *board, unsigned ranks,
                      double timeout_s, struct outcome *out)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/end", wdir);
    FILE *f = NULL;
    for (int i = 0; i < 500 && !(f = fopen(path, "r")); i++)
        sleep_ms(10);
    if (!f)
        return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "the mpi world at %s ended during the "
                            "job; remaining tasks dropped", wdir);
    struct mpirun_log *log = calloc(1, sizeof *log);
    struct mpirun_end e = { .rank = -1, .timed_out = -1 };
    if (fscanf(f, "%d %d %d %d %d\n", &e.status, &e.rank, &e.sig, &e.exit_code,
               &e.stopped_by) != 5)
        e.status = 1 << 8;
    if (log)
        log->len = fread(log->buf, 1, sizeof log->buf - 1, f);
    fclose(f);
    long keeper = world_read(wdir, "keeper");
    unlink(path);   /* read: the keeper need not wait for us */
    world_wait_gone(keeper);
    if (WIFEXITED(e.status) && WEXITSTATUS(e.status) == 0)
        e.status = 1 << 8;   /* it ended cleanly (stopped, idle) but without our reply */
    int rc;
    if (e.stopped_by)
        rc = outcome_fail(out, PARLAB_EXIT_SOFTWARE, "the mpi world at %s was stopped during "
                          "the job (SIG%s); remaining tasks dropped", wdir,
                          sigabbrev_np(e.stopped_by));
    else
        rc = log ? judge(&e, log, board, ranks, timeout_s, out)
                 : outcome_fail(out, PARLAB_EXIT_OS, "out of memory");
    size_t len = strlen(out->msg);
    snprintf(out->msg + len, sizeof out->msg - len, "; the mpi world has ended");
    free(log);
    return rc;
}

/* End a world whose job cannot finish: its ranks at once, then its keeper's session. */
static void world_kill(const char *wdir, struct task_watch *board, unsigned ranks)
{
    stop_job(0, board, ranks);
    long keeper = world_read(wdir, "keeper");
    if (keeper > 0)
        kill((pid_t)keeper, SIGTERM);
    world_wait_gone(keeper);
}

static int world_run(const char *wdir, struct job *job, const struct plan *plan,
                     struct partial *slots, struct outcome *out)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    char *words[ARGS_MAX];
    unsigned ranks = plan->workers;
    int n = 0, rc = 0, fd = -1;
    long have = world_read(wdir, "ranks"), cores = world_read(wdir, "cores");
    if (have <= 0 || (fd = world_connect(wdir)) < 0)
        return outcome_fail(out, PARLAB_EXIT_OS, "%s=%s: no mpi world there (it ended, or "
                            "was never started): parlab world start -j N, or unset %s",
                            MPI_ENV_WORLD, wdir, MPI_ENV_WORLD);
    if ((unsigned long)have != ranks || (cores > 0 && (unsigned long)cores != plan->cores)) {
        close(fd);
        return outcome_fail(out, PARLAB_EXIT_USAGE, "-j %u --cores %u: the mpi world at %s has "
                            "%ld ranks on %ld CPUs; run with those, or unset %s", ranks,
                            plan->cores, wdir, have, cores, MPI_ENV_WORLD);
    }
    sigset_t stops, before;
    struct task_watch *board;
    runner_stop_signals(&stops);   /* held by run_dir_open; taken here with sigtimedwait */
    if (run_dir_open(dir, sizeof dir, ranks, &board, &before, out)) {
        close(fd);
        return -1;
    }
    add_arg(words, &n, "%s", dir);
    serve_words(words, &n, job, plan);
    /* One line: the folder, then the serve words (rank 0 reads at most this much). */
    char line[PATH_MAX + 1024];
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof line; i++)
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s", words[i],
                                i + 1 < n ? " " : "\n");
    if (len >= sizeof line) {
        rc = outcome_fail(out, PARLAB_EXIT_USAGE, "the mpi world's request would be longer "
                          "than %zu bytes (TMPDIR too long?)", sizeof line - 1);
        goto end;
    }
    if (write(fd, line, len) != (ssize_t)len) {
        rc = outcome_fail(out, PARLAB_EXIT_OS, "the mpi world at %s: %s", wdir, strerror(errno));
        goto end;
    }
    uint64_t limit = (uint64_t)(plan->task_timeout_s * 1e9);
    char reply[96];
    size_t got = 0;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 10) > 0) {
            ssize_t k = read(fd, reply + got, sizeof reply - 1 - got);
            if (k > 0 && memchr(reply + got, '\n', (size_t)k)) {
                reply[got + (size_t)k] = '\0';
                /* "STATUS USER_S SYS_S MAXRSS_KB": the ranks' own CPU time for the job */
                int st = atoi(reply);
                double us = 0, ss = 0;
                long rss = 0;
                if (sscanf(reply, "%*d %lf %lf %ld", &us, &ss, &rss) == 3) {
                    out->away_user_s = us;
                    out->away_sys_s = ss;
                    out->away_maxrss_kb = rss;
                }
                rc = st ? outcome_fail(out, st, "the mpi world's rank 0 could not finish the "
                                       "job (status %d)", st)
                        : 0;
                break;
            }
            if (k > 0) {
                got += (size_t)k;
                continue;
            }
            if (k < 0 && errno == EINTR)
                continue;
            rc = world_lost(wdir, board, ranks, plan->task_timeout_s, out);
            break;
        }
        int started = 0, *pids = mpi_board_pids(board, ranks);
        for (unsigned r = 0; r < ranks; r++)
            started |= pids[r] > 0;
        struct timespec zero = { 0, 0 };
        int sig = sigtimedwait(&stops, NULL, &zero);
        if (sig > 0) {
            if (started)
                world_kill(wdir, board, ranks);
            rc = outcome_fail(out, 128 + sig, "interrupted by SIG%s; %s", sigabbrev_np(sig),
                              started ? "the mpi world's ranks were stopped with the job (a "
                              "rank cannot leave a task half done)"
                                      : "the job had not started in the mpi world");
            break;
        }
        uint64_t now = runner_now_ns();
        for (unsigned r = 0; limit && r < ranks; r++) {
            long t = atomic_load_explicit(&board[r].task, memory_order_acquire);
            uint64_t t0 = atomic_load_explicit(&board[r].start_ns, memory_order_relaxed);
            if (t >= 0 && now > t0 && now - t0 >= limit) {
                world_kill(wdir, board, ranks);
                rc = outcome_fail(out, PARLAB_EXIT_SOFTWARE, "task %ld (rank %u) ran past the "
                                  "%g s task timeout; the mpi world was stopped, remaining "
                                  "tasks dropped", t, r, plan->task_timeout_s);
                break;
            }
        }
        if (rc)
            break;
    }
    if (!rc) {
        snprintf(path, sizeof path, "%s/result", dir);
        rc = read_result(path, job, plan, slots, out);
    }
end:
    {   /* a stopping signal that came as the run ended is dropped, as launch() does */
        struct timespec zero = { 0, 0 };
        while (sigtimedwait(&stops, NULL, &zero) > 0)
            ;
    }
    close(fd);
    free_args(words, n);
    run_dir_close(dir, board, ranks, &before);
    return rc;
}

const struct runner runner_mpi = {
    .name = "mpi",
    .summary = "Open MPI ranks started by mpirun: static blocks, or a rank-0 task farm",
    .schedules = SCHED_ALL,
    .default_schedule = SCHED_DYNAMIC,
    .flags = RUNNER_PARALLEL | RUNNER_PROCESSES | RUNNER_OWN_TIMEOUT | RUNNER_EXTERNAL,
    .run = mpi_run,
    .available = mpi_available,
};
