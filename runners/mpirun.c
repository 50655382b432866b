/* mpirun.c: the mpi runner as bin/parlab sees it: a command starts `mpirun -np W
 * bin/parlab-mpi session` once (the session, below), sends each run's job to rank 0,
 * watches mpirun meanwhile, and reads the partial results rank 0 leaves in a file, so that
 * combining, verifying and printing stay the harness's, as for every other runner. The
 * ranks' side is runners/mpi.c, built only where mpicc is. */
#define _GNU_SOURCE
#include "mpi.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
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
#include <sys/random.h>
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

int mpi_transport(void)
{
    const char *t = getenv(MPI_ENV_TRANSPORT);
    return !t || !*t || !strcmp(t, "shm") ? 0 : !strcmp(t, "tcp") ? 1 : -1;
}

/* An unknown $PARLAB_MPI_TRANSPORT, refused before anything starts: -1 and out filled. */
static int transport_check(struct outcome *out)
{
    if (mpi_transport() >= 0)
        return 0;
    outcome_fail(out, PARLAB_EXIT_USAGE, "%s=%s: unknown transport (shm or tcp)",
                 MPI_ENV_TRANSPORT, getenv(MPI_ENV_TRANSPORT));
    return -1;
}

void mpi_settings_apply(const char *dir)
{
    for (size_t i = 0; i < sizeof mpi_settings / sizeof mpi_settings[0]; i++)
        setenv(mpi_settings[i].name, mpi_settings[i].value, 1);
    if (mpi_transport() == 1) {
        /* TCP on loopback, which Open MPI leaves out by default (btl_tcp_if_exclude). */
        setenv("OMPI_MCA_btl", "self,tcp", 1);
        setenv("OMPI_MCA_btl_tcp_if_include", "lo", 1);
    }
    if (dir) {
        /* Open MPI's session folder and its shared-memory segments go into dir (the
         * launcher's is its run folder's ompi/, which it removes whatever happened). */
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
    if (mpi_transport() == 1)
        fprintf(f, "export OMPI_MCA_btl='self,tcp' OMPI_MCA_btl_tcp_if_include='lo'   # %s=tcp: "
                "TCP on loopback, the stand-in for two machines\n", MPI_ENV_TRANSPORT);
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

/*
 * The folders parlab makes: $TMPDIR/parlab-mpi.XXXXXX, mode 0700, with Open MPI's session
 * and shared-memory files in its subfolder ompi/ (mpi_settings_apply). They are removed
 * only by the process that made them (or, for a world, after world_check proved it one),
 * and only by name: the names parlab writes at the top, then ompi/. Nothing is removed by
 * walking a tree that came from a path someone else may have written, so a folder that is
 * not parlab's, or a file in it that parlab did not make, is left as it is.
 */
#define MPI_OMPI_SUB "ompi"

/* TMPDIR names a plain folder: no control character (a newline in a folder name breaks
 * every listing of it). 0, or -1 with out filled (usage). */
static int tmpdir_check(struct outcome *out)
{
    const char *tmp = getenv("TMPDIR");
    for (const unsigned char *c = (const unsigned char *)(tmp ? tmp : ""); *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return outcome_fail(out, PARLAB_EXIT_USAGE, "mpi: TMPDIR has a control character "
                                "(a newline, a tab): name a plain folder");
    return 0;
}

/* The run's private folder and its ompi/ subfolder. 0, or -1 with out filled. */
static int make_dir(char *dir, size_t n, struct outcome *out)
{
    const char *tmp = getenv("TMPDIR");
    char sub[PATH_MAX + 16], abs[PATH_MAX];
    tmp = tmp && *tmp ? tmp : "/tmp";
    if (tmpdir_check(out))
        return -1;
    /* An absolute name: a world's folder is named, and checked, from other folders too. */
    if (*tmp != '/' && !(tmp = realpath(tmp, abs)))
        return outcome_fail(out, PARLAB_EXIT_OS, "mpi: TMPDIR=%s: %s", getenv("TMPDIR"),
                            strerror(errno));
    if (snprintf(dir, n, "%s/parlab-mpi.XXXXXX", tmp) >= (int)n)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "mpi: TMPDIR is too long for a folder "
                            "name");
    if (!mkdtemp(dir))
        return outcome_fail(out, PARLAB_EXIT_OS, "mpi: cannot make a folder in $TMPDIR: %s",
                            strerror(errno));
    snprintf(sub, sizeof sub, "%s/" MPI_OMPI_SUB, dir);
    if (mkdir(sub, 0700)) {
        int err = errno;
        rmdir(dir);
        return outcome_fail(out, PARLAB_EXIT_OS, "mpi: cannot make a folder in %s: %s", dir,
                            strerror(err));
    }
    return 0;
}

/*
 * What Open MPI left under path (a folder in one of ours, where this process ran mpirun):
 * entries of this user on the folder's own file system, without following a link. One
 * descriptor at a time (a run that failed for want of descriptors still cleans up).
 */
static void ompi_tree_remove(const char *path, dev_t dev, int depth)
{
    DIR *d = opendir(path);
    char **names = NULL;
    size_t k = 0, cap = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (k == cap) {
            char **more = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *names);
            if (!more)
                break;
            names = more;
        }
        if (!(names[k] = strdup(e->d_name)))
            break;
        k++;
    }
    if (d)
        closedir(d);
    for (size_t i = 0; i < k; i++) {
        char sub[PATH_MAX];
        struct stat st;
        if (snprintf(sub, sizeof sub, "%s/%s", path, names[i]) < (int)sizeof sub &&
            lstat(sub, &st) == 0 && st.st_uid == geteuid() && st.st_dev == dev) {
            if (!S_ISDIR(st.st_mode))
                unlink(sub);
            else if (depth < 16) {
                ompi_tree_remove(sub, dev, depth + 1);
                rmdir(sub);
            }
        }
        free(names[i]);
    }
    free(names);
}

/* Remove a folder this process made with make_dir (and ran mpirun in, when ompi_tree):
 * the names parlab wrote at its top (NULL-terminated), then ompi/, then the folder. */
static void made_dir_remove(const char *dir, const char *const *names, int ompi_tree)
{
    char path[PATH_MAX + 64];
    struct stat st;
    for (size_t i = 0; names && names[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/" MPI_OMPI_SUB, dir);
    if (ompi_tree && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        ompi_tree_remove(path, st.st_dev, 0);
    rmdir(path);
    rmdir(dir);
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
static void stop_job(pid_t mpirun_pid, struct task_watch *board, unsigned ranks)
{
    if (board)
        board_kill(board, ranks, mpirun_pid);
    kill(mpirun_pid, SIGTERM);
}

/* An mpirun started from here, and watched until it ends: launch_start(), then
 * launch_step() until it says mpirun has ended, then launch_end(). */
struct launched {
    pid_t pid;
    int fd;                      /* mpirun's output (and stderr), until its end; or -1 */
    int was_subreaper, done, status;
    uint64_t term_at;            /* when the job was stopped, or 0 */
    sigset_t old;                /* the signal mask before launch_start() */
    struct task_watch *board;    /* the ranks' board, or NULL */
    unsigned ranks;
    double timeout_s;            /* --task-timeout, watched on the board; 0: none */
    struct mpirun_log *log;
    struct mpirun_end *e;
};

/*
 * Start mpirun with args (args[0] is mpirun's path) in dir: its stdout goes to ours when
 * pass_stdout, else with its stderr into log. SIGINT, SIGTERM and SIGHUP stay held in
 * this thread until launch_end(); launch_step() passes one that was taken on to mpirun.
 * 0, or -errno if it could not be started.
 */
static int launch_start(struct launched *L, char *const args[], const char *dir,
                        struct task_watch *board, unsigned ranks, int pass_stdout,
                        struct mpirun_log *log, struct mpirun_end *e)
{
    sigset_t stops;
    int fd[2];
    *L = (struct launched){ .fd = -1, .board = board, .ranks = ranks, .log = log, .e = e };
    *e = (struct mpirun_end){ .rank = -1, .timed_out = -1 };
    runner_stop_signals(&stops);
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
    runner_signals_hold(&L->old);   /* until mpirun is tracked */
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        prctl(PR_SET_CHILD_SUBREAPER, L->was_subreaper);
        runner_signals_release(&L->old);
        close(fd[0]);
        close(fd[1]);
        return -err;
    }
    if (pid > 0) {
        runner_child_add(pid);   /* a crash or a signal in another thread kills it too */
        /* The fork is over; the stopping signals stay held here for the whole run (one
         * that comes in the gap ends the run through the guard, which kills mpirun). */
        runner_signals_release(&L->old);
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
        char sub[PATH_MAX + 16];
        snprintf(sub, sizeof sub, "%s/" MPI_OMPI_SUB, dir);
        mpi_settings_apply(sub);
        setenv(MPI_ENV_DIR, dir, 1);   /* the board and result files: the folder itself */
        runner_signals_release(&L->old);
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
static int launch_step(struct launched *L, int sig, int wait_ms, int extra_fd)
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
        stop_job(L->pid, L->board, L->ranks);
        L->term_at = runner_now_ns();
    }
    uint64_t limit = (uint64_t)(L->timeout_s * 1e9);
    if (limit && L->board && !L->term_at) {
        uint64_t now = runner_now_ns();
        for (unsigned r = 0; r < L->ranks; r++) {
            long t = atomic_load_explicit(&L->board[r].task, memory_order_acquire);
            uint64_t t0 = atomic_load_explicit(&L->board[r].start_ns, memory_order_relaxed);
            if (t >= 0 && now > t0 && now - t0 >= limit) {
                L->e->timed_out = t;
                L->e->timed_rank = (int)r;
                stop_job(L->pid, L->board, L->ranks);
                L->term_at = now;
                break;
            }
        }
    }
    /* Ranks that were still starting when the job was stopped go as they appear. */
    if (L->term_at && L->board)
        board_kill(L->board, L->ranks, L->pid);
    /* mpirun has 0.3 s to stop (it takes a second when stopped while still starting the
     * ranks); then it is killed. Its ranks come back to us and are killed in launch_end(),
     * and its files are in the run's folder, which goes anyway. */
    if (L->term_at && runner_now_ns() - L->term_at > 300000000ull) {
        kill(L->pid, SIGKILL);
        L->term_at = UINT64_MAX / 2;
    }
    if (waitpid(L->pid, &L->status, WNOHANG) == L->pid)
        L->done = 1;
    return L->done;
}

/* After launch_step() said mpirun has ended: whatever it left (ranks still starting or
 * being stopped, ranks it did not reap) is now ours: kill and reap it all before the
 * run's folder goes; read the rest of its output and judge how it ended into *L->e. */
static void launch_end(struct launched *L)
{
    sigset_t stops;
    runner_stop_signals(&stops);
    runner_child_del(L->pid);
    runner_reap_strays(1, 2.0);
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
static int launch(char *const args[], const char *dir, struct task_watch *board,
                  unsigned ranks, double timeout_s, int pass_stdout, struct mpirun_log *log,
                  struct mpirun_end *e)
{
    struct launched L;
    sigset_t stops;
    int err = launch_start(&L, args, dir, board, ranks, pass_stdout, log, e);
    if (err)
        return err;
    L.timeout_s = timeout_s;
    runner_stop_signals(&stops);
    for (;;) {
        struct timespec zero = { 0, 0 };
        int sig = sigtimedwait(&stops, NULL, &zero);
        if (launch_step(&L, sig, 10, -1))
            break;
    }
    launch_end(&L);
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
    first_line(log, line, sizeof line);
    if (WIFSIGNALED(e->status))
        return outcome_fail(out, PARLAB_EXIT_SOFTWARE, "mpirun killed by SIG%s%s%s",
                            sigabbrev_np(WTERMSIG(e->status)), *line ? ": " : "", line);
    return outcome_fail(out, PARLAB_EXIT_OS, "mpirun failed (status %d)%s%s",
                        WEXITSTATUS(e->status), *line ? ": " : "", line);
}

/*
 * Open MPI 4.1's MPI_Finalize now and then kills a rank whose work is over: it unloads its
 * PMIx component before joining the progress thread that may still call into it (core
 * dumps: a SIGSEGV in event_base_loop at an address no library holds; about 1 rank in 200
 * under load, more for the shortest jobs). Keeping the component mapped only turned the
 * fault into heap corruption. So a rank marks its board entry MPI_TASK_DONE once its part
 * is delivered (rank 0: after the result file is closed), and a rank killed by a signal
 * after that, with rank 0's mark set too, did not touch the answer: the run reads the
 * result and says what happened in a note. Anything else is the failure judge() names.
 */
static int died_after_work(const struct mpirun_end *e, struct task_watch *board,
                           unsigned ranks)
{
    return board && !e->stopped_by && e->timed_out < 0 && e->sig && e->rank >= 0 &&
           (unsigned)e->rank < ranks &&
           atomic_load(&board[e->rank].task) == MPI_TASK_DONE &&
           atomic_load(&board[0].task) == MPI_TASK_DONE;
}

/* Read rank 0's result file into slots, the trace and the job's state, and the job's time
 * on the ranks into out->job_wall_s. 0, or -1. */
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
    if (ok)
        out->job_wall_s = (double)h.wall_ns / 1e9;
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

/* What parlab writes in a run's folder: the board (here) and rank 0's result. */
static const char *const run_dir_names[] = { "board", "result", NULL };

/*
 * A run's private folder under $TMPDIR and, for ranks > 0, its board, made with SIGINT,
 * SIGTERM and SIGHUP held until run_dir_close() has removed them (the mask before in
 * *before): a stopping signal that comes before mpirun starts waits for launch() (or the
 * world's client), which takes it as one during the run, so the folder goes either way;
 * the guard, ending the process from a handler, could not remove a folder. Every mpirun
 * parlab starts runs between these two. 0, or -1 with out filled, the mask as it was,
 * and nothing left behind.
 */
static int run_dir_open(char *dir, size_t n, unsigned ranks, struct task_watch **board,
                        sigset_t *before, struct outcome *out)
{
    sigset_t stops;
    runner_stop_signals(&stops);
    pthread_sigmask(SIG_BLOCK, &stops, before);
    runner_stop_taker(1);
    *board = NULL;
    if (make_dir(dir, n, out)) {
        runner_stop_taker(0);
        pthread_sigmask(SIG_SETMASK, before, NULL);
        return -1;
    }
    if (ranks && !(*board = board_create(dir, ranks, out))) {
        made_dir_remove(dir, run_dir_names, 0);
        runner_stop_taker(0);
        pthread_sigmask(SIG_SETMASK, before, NULL);
        return -1;
    }
    return 0;
}

/* Unmap the board, remove the folder (parlab's names, and what Open MPI left in ompi/),
 * then let the stopping signals in again (one that came after the run ended ends the
 * process through the guard). */
static void run_dir_close(const char *dir, struct task_watch *board, unsigned ranks,
                          const sigset_t *before)
{
    if (board)
        munmap(board, mpi_board_len(ranks));
    made_dir_remove(dir, run_dir_names, 1);
    runner_stop_taker(0);
    pthread_sigmask(SIG_SETMASK, before, NULL);
}

/* The 14 words rank 0 reads after the client's folder (serve_parse in mpi.c): the job
 * and the plan. */
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
    add_arg(args, n, "%llu", (unsigned long long)job->grain_ns);   /* spin: its setup's */
    add_arg(args, n, "%llu", (unsigned long long)job->grain_iters);
}

static int world_connect(const char *dir);

/* The line a client sends rank 0 (the launcher's session, or a world's run): its folder,
 * then the serve words. The line's length, or -1 with out filled. */
static int job_line(char *line, size_t n, const char *dir, const struct job *job,
                    const struct plan *plan, struct outcome *out)
{
    char *words[ARGS_MAX];
    int k = 0;
    size_t len = 0;
    add_arg(words, &k, "%s", dir);
    serve_words(words, &k, job, plan);
    for (int i = 0; i < k && len < n; i++)
        len += (size_t)snprintf(line + len, n - len, "%s%s", words[i], i + 1 < k ? " " : "\n");
    free_args(words, k);
    if (len >= n)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "the mpi job's request would be longer "
                            "than %zu bytes (TMPDIR too long?)", n - 1);
    return (int)len;
}

/* Rank 0's reply to a job, "STATUS USER_S SYS_S MAXRSS_KB": the ranks' own CPU time and
 * peak memory go into out (the client's getrusage cannot see them). Returns STATUS. */
static int job_reply(const char *reply, struct outcome *out)
{
    double us = 0, ss = 0;
    long rss = 0;
    if (sscanf(reply, "%*d %lf %lf %ld", &us, &ss, &rss) == 3) {
        out->away_user_s = us;
        out->away_sys_s = ss;
        out->away_maxrss_kb = rss;
    }
    return atoi(reply);
}

/* ---- one mpirun for a command: the session --------------------------------------------
 *
 * `parlab run -r mpi` (no world) starts `mpirun -np W parlab-mpi session` once, at its
 * first run (the warm-up), in a private folder; each run after that sends its job to rank
 * 0 over the folder's socket (as a world's runs do), waits for the reply while it watches
 * mpirun, the board (--task-timeout) and the stopping signals, and reads the result file;
 * keep(0), at the command's end, says quit and waits for mpirun's end. The ranks time each
 * job themselves (world_job in mpi.c); the launch is reported apart, once (start_s).
 * Between the runs the ranks wait without spinning (rank 0 in poll(), the others test
 * their broadcast every half millisecond) while parlab verifies, prints, or runs seq for
 * --baseline: interleaving stays a run of each in turn.
 *
 * SIGINT, SIGTERM and SIGHUP are held from the session's start to its end. A thread of
 * the session's own takes them (runner_stop_taker): during a run, or while the session
 * starts or ends, it hands one to the main thread, which stops the job as the launcher
 * always has (mpirun stops the ranks) and reports it; between runs (parlab verifying,
 * printing, running seq), it stops mpirun, removes the folder, and ends parlab through
 * the guard, as the signal would have: nothing of the session outlives parlab.
 */
static struct session {
    int keep;                    /* keep(1): the session lasts until keep(0) */
    int up;                      /* mpirun started (the fields below are live) */
    unsigned ranks, cores;
    char dir[PATH_MAX];
    struct task_watch *board;
    struct launched L;
    struct mpirun_log *log;
    struct mpirun_end end;
    sigset_t before;             /* the main thread's mask before the session */
    pthread_t taker;
    int taker_on;
    pthread_mutex_t mu;          /* busy, closing: between the main thread and the taker */
    int busy;                    /* the main thread is in the session (a run, start, end) */
    int closing;
    _Atomic int stop_sig;        /* a stopping signal the taker took while busy, or 0 */
} S = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* What parlab writes in the session's folder (Open MPI's files are in ompi/). */
static const char *const session_names[] = { "board", "result", "sock", "sock.new", NULL };

/* The main thread enters (1) or leaves (0) the session. A stopping signal the taker
 * handed over that no step took (it came as the run finished) goes back to the process,
 * for the taker to take again, now between runs. */
static void session_busy(int busy)
{
    pthread_mutex_lock(&S.mu);
    S.busy = busy;
    int sig = busy ? 0 : atomic_exchange(&S.stop_sig, 0);
    if (sig)
        kill(getpid(), sig);
    pthread_mutex_unlock(&S.mu);
}

/* The session's files and its taker go, and the main thread's mask is as before. After
 * mpirun's end (launch_end), or when it never started. Not from the taker. */
static void session_finish(void)
{
    if (S.board)
        munmap(S.board, mpi_board_len(S.ranks));
    S.board = NULL;
    if (*S.dir)
        made_dir_remove(S.dir, session_names, 1);
    S.dir[0] = '\0';
    if (S.taker_on) {
        pthread_mutex_lock(&S.mu);
        S.closing = 1;
        pthread_mutex_unlock(&S.mu);
        pthread_join(S.taker, NULL);
        S.taker_on = 0;
    }
    free(S.log);
    S.log = NULL;
    S.up = 0;
    pthread_sigmask(SIG_SETMASK, &S.before, NULL);
}

/* Stop a running mpirun now (its ranks first), wait for its end and reap what it left. */
static void session_stop_mpirun(void)
{
    if (!S.L.done && !S.L.term_at) {
        stop_job(S.L.pid, S.board, S.ranks);
        S.L.term_at = runner_now_ns();
    }
    while (!launch_step(&S.L, 0, 10, -1))
        ;
    launch_end(&S.L);
}

/* The session's own thread: takes the stopping signals (see above). */
static void *session_taker(void *arg)
{
    sigset_t stops;
    (void)arg;
    runner_stop_signals(&stops);
    runner_stop_taker(1);
    for (;;) {
        struct timespec tick = { 0, 5 * 1000 * 1000 };
        int sig = sigtimedwait(&stops, NULL, &tick);
        pthread_mutex_lock(&S.mu);
        if (S.closing) {
            pthread_mutex_unlock(&S.mu);
            runner_stop_taker(0);
            if (sig > 0)   /* as the session ends: the process's, once its mask is back */
                kill(getpid(), sig);
            return NULL;
        }
        if (sig > 0 && S.busy) {
            atomic_store(&S.stop_sig, sig);
        } else if (sig > 0) {
            /* Between runs: the session goes first, then parlab, as the guard ends it
             * (the mutex stays held: the main thread does not enter the session again). */
            session_stop_mpirun();
            if (S.board)
                munmap(S.board, mpi_board_len(S.ranks));
            made_dir_remove(S.dir, session_names, 1);
            runner_stop_taker(0);
            pthread_sigmask(SIG_UNBLOCK, &stops, NULL);
            raise(sig);
            for (;;)
                pause();   /* another ending is under way: until its exit */
        }
        pthread_mutex_unlock(&S.mu);
    }
}

/* Start the session's mpirun with `ranks` ranks and wait until rank 0 takes jobs; the
 * seconds that took in out->start_s. 0, or -1 with out filled and nothing left. */
static int session_open(unsigned ranks, unsigned cores, struct outcome *out)
{
    char exe[PATH_MAX], mpirun[PATH_MAX], why[300], sock[PATH_MAX + 16];
    char *args[ARGS_MAX];
    int n = 0, e, rc = -1;
    sigset_t stops;
    if (transport_check(out))
        return -1;
    if (mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, why, sizeof why))
        return outcome_fail(out, PARLAB_EXIT_OS, "%s", why);
    if (ranks_fit(ranks, out))
        return -1;
    runner_stop_signals(&stops);
    pthread_sigmask(SIG_BLOCK, &stops, &S.before);   /* the taker inherits the mask */
    S.ranks = ranks;
    S.cores = cores;
    S.busy = 1;
    S.closing = 0;
    atomic_store(&S.stop_sig, 0);
    S.dir[0] = '\0';
    if (!(S.log = calloc(1, sizeof *S.log))) {
        outcome_fail(out, PARLAB_EXIT_OS, "out of memory");
        goto fail;
    }
    if ((e = pthread_create(&S.taker, NULL, session_taker, NULL))) {
        outcome_fail(out, PARLAB_EXIT_OS, "mpi: cannot start a thread: %s", strerror(e));
        goto fail;
    }
    S.taker_on = 1;
    if (make_dir(S.dir, sizeof S.dir, out)) {
        S.dir[0] = '\0';
        goto fail;
    }
    if (!(S.board = board_create(S.dir, ranks, out)))
        goto fail;
    mpirun_head(args, &n, mpirun, ranks);
    add_arg(args, &n, "%s", exe);
    add_arg(args, &n, "session");
    uint64_t t0 = runner_now_ns();
    e = launch_start(&S.L, args, S.dir, S.board, ranks, 0, S.log, &S.end);
    free_args(args, n);
    if (e) {
        outcome_fail(out, PARLAB_EXIT_OS, "cannot start %s: %s", mpirun, strerror(-e));
        goto fail;
    }
    S.up = 1;
    /* Ready once rank 0 listens (every rank is past MPI_Init by then). */
    snprintf(sock, sizeof sock, "%s/sock", S.dir);
    while (access(sock, F_OK) != 0) {
        if (launch_step(&S.L, atomic_load(&S.stop_sig), 2, -1)) {
            launch_end(&S.L);
            if (!judge(&S.end, S.log, S.board, ranks, 0, out))
                outcome_fail(out, PARLAB_EXIT_SOFTWARE, "mpirun ended before its ranks took "
                             "a job");
            goto fail;
        }
    }
    out->start_s = (double)(runner_now_ns() - t0) / 1e9;
    session_busy(0);
    return 0;
fail:
    session_finish();
    return rc;
}

/* A failed run in the session: mpirun is stopped (when it still runs) and the session
 * ends; out, already filled, says why. -1. */
static int session_fail(void)
{
    if (!S.L.done)
        session_stop_mpirun();
    session_finish();
    return -1;
}

/* mpirun ended during a run: judge how, and end the session. -1 with out filled. */
static int session_lost(struct outcome *out)
{
    launch_end(&S.L);
    if (!judge(&S.end, S.log, S.board, S.ranks, S.L.timeout_s, out))
        outcome_fail(out, PARLAB_EXIT_SOFTWARE, "mpirun ended during the job; remaining "
                     "tasks dropped");
    session_finish();
    return -1;
}

/* One run's job on the session's ranks. 0, or -1 with out filled (and the session then
 * ended). */
static int session_job(struct job *job, const struct plan *plan, struct partial *slots,
                       struct outcome *out)
{
    char line[PATH_MAX + 1024], reply[96], path[PATH_MAX + 16];
    size_t got = 0;
    session_busy(1);
    for (unsigned r = 0; r < S.ranks; r++)
        atomic_store(&S.board[r].task, -1);
    snprintf(path, sizeof path, "%s/result", S.dir);
    unlink(path);
    int len = job_line(line, sizeof line, S.dir, job, plan, out);
    if (len < 0)
        return session_fail();
    S.L.timeout_s = plan->task_timeout_s;
    int fd = world_connect(S.dir);
    if (fd < 0 || write(fd, line, (size_t)len) != len) {
        int err = fd < 0 ? errno : errno ? errno : EIO;
        if (fd >= 0)
            close(fd);
        /* Rank 0 gone (mpirun is ending: judge that), or this process short of something */
        for (int i = 0; i < 200; i++)
            if (launch_step(&S.L, atomic_load(&S.stop_sig), 10, -1))
                return session_lost(out);
        outcome_fail(out, PARLAB_EXIT_OS, "mpi: cannot send the job to rank 0: %s",
                     strerror(err));
        return session_fail();
    }
    for (;;) {
        int done = launch_step(&S.L, atomic_load(&S.stop_sig), 10, fd);
        if (fd >= 0) {
            ssize_t k = recv(fd, reply + got, sizeof reply - 1 - got, MSG_DONTWAIT);
            if (k > 0) {
                got += (size_t)k;
                reply[got] = '\0';
                if (memchr(reply, '\n', got) || got == sizeof reply - 1)
                    break;
            } else if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                close(fd);   /* rank 0 is gone: mpirun's end says how */
                fd = -1;
            }
        }
        if (done) {
            if (fd >= 0)
                close(fd);
            return session_lost(out);
        }
    }
    close(fd);
    S.L.timeout_s = 0;
    int st = job_reply(reply, out);
    if (st) {
        outcome_fail(out, st, "the mpi ranks could not finish the job (status %d)", st);
        return session_fail();
    }
    if (read_result(path, job, plan, slots, out))
        return session_fail();
    unlink(path);
    session_busy(0);
    return 0;
}

/* The session's end: rank 0 is told to quit, and every rank finalizes; mpirun's end is
 * judged (a rank killed inside MPI_Finalize after every job was delivered is a note, not
 * a failure: died_after_work). 0, or -1 with out filled. */
static int session_close(struct outcome *out)
{
    int rc = 0;
    if (!S.up)
        return 0;
    session_busy(1);
    int fd = world_connect(S.dir);
    if (fd >= 0 && write(fd, "quit\n", 5) != 5) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {   /* no rank 0 to tell: stop them */
        stop_job(S.L.pid, S.board, S.ranks);
        S.L.term_at = runner_now_ns();
    }
    uint64_t t0 = runner_now_ns();
    while (!launch_step(&S.L, atomic_load(&S.stop_sig), 10, -1))
        if (!S.L.term_at && runner_now_ns() - t0 > 10000000000ull) {   /* 10 s */
            stop_job(S.L.pid, S.board, S.ranks);
            S.L.term_at = runner_now_ns();
        }
    if (fd >= 0)
        close(fd);
    launch_end(&S.L);
    if (died_after_work(&S.end, S.board, S.ranks))
        fprintf(stderr, "parlab: note: rank %d (pid %d) was killed by SIG%s inside "
                "MPI_Finalize, after its part of every job was delivered (an Open MPI "
                "teardown fault); the answers are complete and were verified as usual\n",
                S.end.rank, mpi_board_pids(S.board, S.ranks)[S.end.rank],
                sigabbrev_np(S.end.sig));
    else if (S.end.stopped_by || !WIFEXITED(S.end.status) || WEXITSTATUS(S.end.status))
        rc = judge(&S.end, S.log, S.board, S.ranks, 0, out);
    session_finish();
    return rc;
}

static int mpi_keep(int on, struct outcome *out)
{
    S.keep = on;
    return on ? 0 : session_close(out);
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
    /* The session: kept for the command's runs (keep), or for this run only. */
    if (S.up && (S.ranks != plan->workers || S.cores != plan->cores) && session_close(out))
        return -1;
    if (!S.up && session_open(plan->workers, plan->cores, out))
        return -1;
    int rc = session_job(job, plan, slots, out);
    if (!rc && !S.keep) {
        /* mpirun is reaped here: its CPU time (the ranks' too) is the caller's children's
         * now, so the ranks' own report would count it twice */
        out->away_user_s = out->away_sys_s = 0;
        out->away_maxrss_kb = 0;
        if (session_close(out))
            rc = -1;
    }
    return rc;
}

int mpi_spawn_simple(unsigned ranks, char *const extra[], struct outcome *out)
{
    char exe[PATH_MAX], mpirun[PATH_MAX], why[300], dir[PATH_MAX];
    char *args[ARGS_MAX];
    int n = 0, rc, e;
    if (transport_check(out))
        return -1;
    if (mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, why, sizeof why))
        return outcome_fail(out, PARLAB_EXIT_OS, "%s", why);
    sigset_t before;
    struct task_watch *none;
    if (run_dir_open(dir, sizeof dir, 0, &none, &before, out))
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
    run_dir_close(dir, none, 0, &before);
    return rc;
}

/* ---- worlds: ranks kept up between runs (parlab world) -------------------------------
 *
 * `parlab world start -j N` starts a keeper: a process of its own session that runs
 * `mpirun -np N parlab-mpi world DIR IDLE_S TOKEN` as the launcher runs every mpirun
 * (launch(): signals forwarded, stray ranks reaped) and, when mpirun ends, writes how
 * (DIR/end) and removes what it made in DIR. A run with PARLAB_MPI_WORLD=DIR sends its job
 * to rank 0 over DIR/sock and watches its own board as the launcher does; the ranks were
 * started once, so a run pays no mpirun, MPI_Init or MPI_Finalize. What cannot be undone
 * in a world ends it: a rank that dies, a task past --task-timeout, or a run interrupted
 * while its job runs (a rank cannot leave a task half done); the run that saw it reports
 * it as the launcher would.
 *
 * A world proves it is one before anything is signalled or removed (world_check): its
 * folder is a real folder of this user with mode 0700; its marker DIR/world, a regular
 * file of this user, holds a random token, the keeper's pid and start time, and the rank
 * and CPU counts, in exactly the form parlab writes; the keeper runs with that start time
 * (so a pid used again is not it); and each rank, whose pid and start time are in
 * DIR/rank.R, runs in the keeper's session with this folder and the token on its command
 * line, which nobody can change after the fact. Anything else is refused and left alone.
 */

/* The marker, exactly as written (world_check compares it byte for byte). */
#define WORLD_MARKER "parlab-world 1\ntoken %s\nkeeper %d %llu\nranks %u\ncores %u\n"
#define WORLD_TOKEN_HEX 32

int mpi_proc_stat(pid_t pid, unsigned long long *start, pid_t *sid, pid_t *ppid, char *state)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (pid <= 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0)
        return -1;
    buf[k] = '\0';
    /* the name (field 2) may hold spaces and parentheses: the fields follow the last ')' */
    char *p = strrchr(buf, ')'), *save = NULL;
    if (!p)
        return -1;
    unsigned long long v[21] = { 0 };
    char st = 0;
    int i = 3;
    for (char *t = strtok_r(p + 1, " ", &save); t && i <= 22; t = strtok_r(NULL, " ", &save), i++) {
        if (i == 3)
            st = t[0];
        else
            v[i - 2] = strtoull(t, NULL, 10);
    }
    if (i <= 22)
        return -1;
    if (start)
        *start = v[20];
    if (sid)
        *sid = (pid_t)v[4];
    if (ppid)
        *ppid = (pid_t)v[2];
    if (state)
        *state = st;
    return 0;
}

/* pid runs (not a zombie) and started at start. */
static int proc_is(pid_t pid, unsigned long long start)
{
    unsigned long long s;
    char st;
    return mpi_proc_stat(pid, &s, NULL, NULL, &st) == 0 && st != 'Z' && s == start;
}

/* Write text to dir/name whole (through name.new): 0, or -1. */
static int world_write(const char *dir, const char *name, const char *text)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

int mpi_world_note_rank(const char *dir, int rank)
{
    unsigned long long start;
    char name[32], text[64];
    if (mpi_proc_stat(getpid(), &start, NULL, NULL, NULL))
        return -1;
    snprintf(name, sizeof name, "rank.%d", rank);
    snprintf(text, sizeof text, "%d %llu\n", (int)getpid(), start);
    return world_write(dir, name, text);
}

/* Remove what parlab made in a world's folder, by name, then the folder (ompi_tree: and
 * what Open MPI left in ompi/; only the keeper, which ran that mpirun, says so). */
static void world_remove(const char *dir, unsigned ranks, int ompi_tree)
{
    static const char *const names[] = { "world", "world.new", "sock", "sock.new", "end",
                                         "end.new", NULL };
    char path[PATH_MAX + 48];
    for (unsigned r = 0; r < ranks; r++) {
        snprintf(path, sizeof path, "%s/rank.%u", dir, r);
        unlink(path);
        snprintf(path, sizeof path, "%s/rank.%u.new", dir, r);
        unlink(path);
    }
    made_dir_remove(dir, names, ompi_tree);
}

/* What world_check found. */
struct world_id {
    char token[WORLD_TOKEN_HEX + 1];
    pid_t keeper;
    unsigned long long keeper_start;
    unsigned ranks, cores;
    dev_t dev;
    ino_t ino;
    int gone_rank;   /* WORLD_ENDING: a rank that no longer runs */
};
enum { WORLD_LIVE, WORLD_ENDING, WORLD_STALE };

/* A small file of parlab's in the world's folder (dfd): a regular file of this user,
 * read whole into buf. 0; 1 if it is not there; -1 with out filled. */
static int world_file(int dfd, const char *dir, const char *name, char *buf, size_t n,
                      struct outcome *out)
{
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0 && errno == ELOOP)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "%s/%s is a symbolic link, not parlab's: "
                            "not an mpi world", dir, name);
    if (fd < 0)
        return outcome_fail(out, PARLAB_EXIT_OS, "%s/%s: cannot read: %s", dir, name,
                            strerror(errno));
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        st.st_size >= (off_t)n) {
        close(fd);
        return outcome_fail(out, PARLAB_EXIT_USAGE, "%s/%s is not a file parlab wrote: not "
                            "an mpi world", dir, name);
    }
    ssize_t k = read(fd, buf, n - 1);
    int err = errno;
    close(fd);
    if (k < 0)
        return outcome_fail(out, PARLAB_EXIT_OS, "%s/%s: cannot read: %s", dir, name,
                            strerror(err));
    buf[k] = '\0';
    return 0;
}

/* 1 if pid's command line names the world's folder (dev, ino) and carries token. */
static int cmdline_has(pid_t pid, const struct world_id *w)
{
    char path[64], buf[PATH_MAX + 512];
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t k = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (k <= 0)
        return 0;
    buf[k] = '\0';
    /* parlab-mpi world DIR IDLE_S TOKEN */
    const char *a[8] = { 0 };
    int n = 0;
    for (const char *p = buf; p < buf + k && n < 8; p += strlen(p) + 1)
        a[n++] = p;
    struct stat st;
    for (int i = 0; i + 3 < n; i++)
        if (!strcmp(a[i], "world") && !strcmp(a[i + 3], w->token))
            return stat(a[i + 1], &st) == 0 && st.st_dev == w->dev && st.st_ino == w->ino;
    return 0;
}

/*
 * Prove that dir is a world parlab made (see above). WORLD_LIVE (keeper and every rank
 * running), WORLD_ENDING (the keeper runs, a rank does not: the world is going), or
 * WORLD_STALE (its keeper is gone, or its pid belongs to another process now), with *w
 * filled; or -1, out filled (64: not a world; 71: cannot be read), and nothing touched.
 */
static int world_check(const char *dir, struct world_id *w, struct outcome *out)
{
    struct stat st, fst;
    char buf[512], want[512];
    *w = (struct world_id){ .gone_rank = -1 };
    if (!*dir || strlen(dir) > PATH_MAX - 64)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "'%.64s': not an mpi world's folder", dir);
    /* "DIR/" would follow a link named DIR: look at the name without its slashes */
    char bare[PATH_MAX];
    size_t blen = strlen(dir);
    while (blen > 1 && dir[blen - 1] == '/')
        blen--;
    snprintf(bare, sizeof bare, "%.*s", (int)blen, dir);
    if (lstat(bare, &st))
        return outcome_fail(out, PARLAB_EXIT_OS, errno == ENOENT || errno == ENOTDIR
                            ? "%s: no mpi world there (it has ended, or was never started)"
                            : "%s: cannot read: %s", dir, strerror(errno));
    if (S_ISLNK(st.st_mode))
        return outcome_fail(out, PARLAB_EXIT_USAGE, "%s is a symbolic link; a world is named "
                            "by its own folder (the path parlab world start printed)", dir);
    if (!S_ISDIR(st.st_mode))
        return outcome_fail(out, PARLAB_EXIT_USAGE, "%s is not a folder: not an mpi world", dir);
    if (st.st_uid != geteuid())
        return outcome_fail(out, PARLAB_EXIT_USAGE, "%s belongs to uid %u, not to you: not "
                            "your mpi world", dir, (unsigned)st.st_uid);
    if ((st.st_mode & 07777) != 0700)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "%s has mode %04o, not the 0700 of a "
                            "folder parlab made: not an mpi world", dir,
                            (unsigned)(st.st_mode & 07777));
    int dfd = open(bare, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        return outcome_fail(out, PARLAB_EXIT_OS, "%s: cannot read: %s", dir, strerror(errno));
    if (fstat(dfd, &fst) || fst.st_dev != st.st_dev || fst.st_ino != st.st_ino) {
        close(dfd);
        return outcome_fail(out, PARLAB_EXIT_USAGE, "%s changed while it was read: not "
                            "touched", dir);
    }
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    int rc = world_file(dfd, dir, "world", buf, sizeof buf, out);
    if (rc) {
        close(dfd);
        return rc > 0 ? outcome_fail(out, PARLAB_EXIT_USAGE, "%s has no marker file (world): "
                                     "not an mpi world parlab made", dir) : -1;
    }
    int keeper = 0;
    if (sscanf(buf, "parlab-world 1\ntoken %32[0-9a-f]\nkeeper %d %llu\nranks %u\ncores %u\n",
               w->token, &keeper, &w->keeper_start, &w->ranks, &w->cores) != 5 ||
        strlen(w->token) != WORLD_TOKEN_HEX || keeper <= 1 || !w->ranks || w->ranks > 4096 ||
        snprintf(want, sizeof want, WORLD_MARKER, w->token, keeper, w->keeper_start, w->ranks,
                 w->cores) >= (int)sizeof want || strcmp(want, buf)) {
        close(dfd);
        return outcome_fail(out, PARLAB_EXIT_USAGE, "%s/world is not a marker parlab wrote: "
                            "not an mpi world", dir);
    }
    w->keeper = keeper;
    if (!proc_is(w->keeper, w->keeper_start)) {
        close(dfd);
        return WORLD_STALE;
    }
    int state = WORLD_LIVE;
    for (unsigned r = 0; r < w->ranks; r++) {
        char name[32], text[64];
        int pid;
        unsigned long long start;
        pid_t sid;
        snprintf(name, sizeof name, "rank.%u", r);
        rc = world_file(dfd, dir, name, buf, sizeof buf, out);
        if (rc < 0) {
            close(dfd);
            return -1;
        }
        if (rc > 0) {   /* not started yet, or a rank that failed to start */
            state = WORLD_ENDING;
            w->gone_rank = w->gone_rank < 0 ? (int)r : w->gone_rank;
            continue;
        }
        if (sscanf(buf, "%d %llu\n", &pid, &start) != 2 || pid <= 1 ||
            (snprintf(text, sizeof text, "%d %llu\n", pid, start), strcmp(text, buf))) {
            close(dfd);
            return outcome_fail(out, PARLAB_EXIT_USAGE, "%s/%s is not a file parlab wrote: not "
                                "an mpi world", dir, name);
        }
        if (!proc_is(pid, start)) {
            state = WORLD_ENDING;
            w->gone_rank = w->gone_rank < 0 ? (int)r : w->gone_rank;
            continue;
        }
        if (mpi_proc_stat(pid, NULL, &sid, NULL, NULL) || sid != w->keeper || !cmdline_has(pid, w)) {
            close(dfd);
            return outcome_fail(out, PARLAB_EXIT_USAGE, "%s: rank %u (pid %d) is not of the world "
                                "its marker names (another keeper, folder or token): not "
                                "touched", dir, r, pid);
        }
    }
    close(dfd);
    return state;
}

static int world_connect(const char *dir)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    struct stat st;
    if (snprintf(a.sun_path, sizeof a.sun_path, "%s/sock", dir) >= (int)sizeof a.sun_path ||
        lstat(a.sun_path, &st) || !S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
    nanosleep(&ts, NULL);
}

/* The keeper: write the marker, run the world's mpirun until it ends, say how, remove
 * what it made. dir, with its device and inode as made, is this process's own. */
static _Noreturn void world_keeper(char **args, const char *dir, unsigned ranks,
                                   const char *token, dev_t dev, ino_t ino)
{
    struct mpirun_log *log = calloc(1, sizeof *log);
    struct mpirun_end e;
    char marker[256], *end = NULL;
    unsigned long long start = 0;
    /* A daemon: a session of its own, and no descriptor of whoever started it (a pipe
     * held here would keep `$(parlab world start)` waiting for the world to end). */
    setsid();
    runner_stop_taker(0);   /* the thread that said so is the parent's */
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
    int bad = !log || mpi_proc_stat(getpid(), &start, NULL, NULL, NULL);
    snprintf(marker, sizeof marker, WORLD_MARKER, token, (int)getpid(), start, ranks,
             cpus_allowed_count());
    if (bad || world_write(dir, "world", marker) || launch(args, dir, NULL, ranks, 0, 0, log, &e))
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
    struct stat st;
    if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == dev && st.st_ino == ino)
        world_remove(dir, ranks, 1);
    _exit(0);
}

int mpi_world_start(unsigned ranks, int idle_s, char *dir, size_t dir_n, pid_t *keeper,
                    struct outcome *out)
{
    char exe[PATH_MAX], mpirun[PATH_MAX], why[300], token[WORLD_TOKEN_HEX + 1];
    unsigned char raw[WORLD_TOKEN_HEX / 2];
    char *args[ARGS_MAX];
    int n = 0, rc = -1;
    struct stat st;
    if (mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, why, sizeof why))
        return outcome_fail(out, PARLAB_EXIT_OS, "%s", why);
    if (ranks_fit(ranks, out))
        return -1;
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return outcome_fail(out, PARLAB_EXIT_OS, "getrandom: %s", strerror(errno));
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    /* The stopping signals wait until the world is up or gone: one that comes while it
     * starts stops it (its keeper removes the folder) instead of leaving it unknown. */
    sigset_t stops, before;
    runner_stop_signals(&stops);
    pthread_sigmask(SIG_BLOCK, &stops, &before);
    runner_stop_taker(1);
    if (make_dir(dir, dir_n, out))
        goto out;
    struct sockaddr_un sa;
    if (strlen(dir) + sizeof "/sock.new" > sizeof sa.sun_path || lstat(dir, &st)) {
        world_remove(dir, 0, 0);
        rc = outcome_fail(out, PARLAB_EXIT_USAGE, "TMPDIR=%s is too long for the world's "
                          "socket (a Unix socket's path holds %zu bytes): use a shorter "
                          "TMPDIR", getenv("TMPDIR"), sizeof sa.sun_path);
        goto out;
    }
    mpirun_head(args, &n, mpirun, ranks);
    add_arg(args, &n, "%s", exe);
    add_arg(args, &n, "world");
    add_arg(args, &n, "%s", dir);
    add_arg(args, &n, "%d", idle_s);
    add_arg(args, &n, "%s", token);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        world_keeper(args, dir, ranks, token, st.st_dev, st.st_ino);
    free_args(args, n);
    if (pid < 0) {
        world_remove(dir, 0, 0);
        rc = outcome_fail(out, PARLAB_EXIT_OS, "fork: %s", strerror(errno));
        goto out;
    }
    *keeper = pid;
    /* Ready once rank 0 listens; the keeper writes the end if mpirun fails instead. */
    char sock[PATH_MAX + 16], endp[PATH_MAX + 16];
    snprintf(sock, sizeof sock, "%s/sock", dir);
    snprintf(endp, sizeof endp, "%s/end", dir);
    int sig = 0;
    for (int i = 0; i < 6000; i++) {
        struct timespec zero = { 0, 0 };
        if ((sig = sigtimedwait(&stops, NULL, &zero)) > 0)
            break;
        sig = 0;
        if (access(sock, F_OK) == 0) {
            rc = 0;
            goto out;
        }
        if (access(endp, F_OK) == 0 || waitpid(pid, NULL, WNOHANG) == pid)
            break;
        sleep_ms(10);
    }
    FILE *f = sig ? NULL : fopen(endp, "r");
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
     * after a minute, or when a stopping signal came, is stopped, which its launch()
     * passes on to mpirun. */
    unlink(endp);
    if (waitpid(pid, NULL, WNOHANG) == 0) {
        if (!f)
            kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    if (sig)
        rc = outcome_fail(out, 128 + sig, "interrupted by SIG%s; the world was stopped while "
                          "it started, and removed", sigabbrev_np(sig));
    else
        rc = outcome_fail(out, PARLAB_EXIT_OS, "the world did not start%s%s", *first ? ": " : "",
                          first);
out:
    runner_stop_taker(0);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    return rc;
}

/* Wait until the world's keeper is gone (and with it every process and file of the
 * world), up to limit_ms. Signalled only when it is the proven keeper (signal): SIGTERM at
 * term_ms, its process group (the keeper and mpirun) killed at kill_ms. 1 if gone. */
static int world_wait_gone(const struct world_id *w, int signal, int term_ms, int kill_ms,
                           int limit_ms)
{
    for (int t = 0; t < limit_ms; t += 10) {
        if (!proc_is(w->keeper, w->keeper_start))
            return 1;
        if (signal && t == term_ms)
            kill(w->keeper, SIGTERM);
        if (signal && t == kill_ms)
            kill(-w->keeper, SIGKILL);
        sleep_ms(10);
    }
    return !proc_is(w->keeper, w->keeper_start);
}

int mpi_world_stop(const char *dir, int stale, struct outcome *out)
{
    struct world_id w;
    int state = world_check(dir, &w, out);
    if (state < 0)
        return -1;
    if (state == WORLD_STALE && !stale)
        return outcome_fail(out, PARLAB_EXIT_OS, "the mpi world at %s is stale: its keeper "
                            "(pid %d) is gone; parlab world stop --stale %s removes what "
                            "parlab made there", dir, (int)w.keeper, dir);
    if (state == WORLD_LIVE) {
        /* Politely first: rank 0 quits once the job it runs (if any) is done, and every
         * rank finalizes; then mpirun is stopped, and last the keeper's group is killed. */
        int fd = world_connect(dir);
        if (fd >= 0) {
            if (write(fd, "quit\n", 5) == 5) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                poll(&p, 1, 5000);
            }
            close(fd);
        }
        if (!world_wait_gone(&w, 1, 3000, 7000, 10000))
            return outcome_fail(out, PARLAB_EXIT_OS, "the world's keeper (pid %d) did not "
                                "stop", (int)w.keeper);
    } else if (state == WORLD_ENDING && !world_wait_gone(&w, 0, 0, 0, 10000)) {
        /* a rank is gone, so the token cannot be shown: the keeper ends it by itself */
        return outcome_fail(out, PARLAB_EXIT_OS, "the mpi world at %s is ending (rank %d is "
                            "gone) but its keeper (pid %d) has not: not touched", dir,
                            w.gone_rank, (int)w.keeper);
    }
    /* The keeper removes the folder; one killed, or stale, leaves it: parlab's names go,
     * and the folder if nothing else is in it. */
    struct stat st;
    if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == w.dev && st.st_ino == w.ino)
        world_remove(dir, w.ranks, 0);
    return lstat(dir, &st) == 0 ? 1 : 0;
}

int mpi_world_status(const char *dir, unsigned *ranks, struct outcome *out)
{
    struct world_id w;
    int state = world_check(dir, &w, out);
    if (state < 0)
        return -1;
    *ranks = w.ranks;
    if (state == WORLD_STALE)
        return outcome_fail(out, PARLAB_EXIT_OS, "the mpi world at %s is stale: its keeper "
                            "(pid %d) is gone; parlab world stop --stale %s removes what "
                            "parlab made there", dir, (int)w.keeper, dir);
    if (state == WORLD_ENDING)
        return outcome_fail(out, PARLAB_EXIT_OS, "the mpi world at %s has ended: rank %d is "
                            "gone (its keeper, pid %d, is removing it)", dir, w.gone_rank,
                            (int)w.keeper);
    return 0;
}

/* A world's run ended without the reply (the world died): read its end and judge it as the
 * launcher judges mpirun. */
static int world_lost(const char *wdir, const struct world_id *w, struct task_watch *board,
                      unsigned ranks, double timeout_s, struct outcome *out)
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
    unlink(path);   /* read: the keeper need not wait for us */
    world_wait_gone(w, 1, 3000, 3000, 4000);
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

/* End a world whose job cannot finish: its ranks at once (the pids on our board that are
 * of the world's session), then its keeper. */
static void world_kill(const struct world_id *w, struct task_watch *board, unsigned ranks)
{
    int *pids = mpi_board_pids(board, ranks);
    for (unsigned r = 0; r < ranks; r++) {
        pid_t sid;
        if (pids[r] > 1 && mpi_proc_stat(pids[r], NULL, &sid, NULL, NULL) == 0 && sid == w->keeper)
            kill(pids[r], SIGKILL);
    }
    world_wait_gone(w, 1, 0, 3000, 4000);
}

/* The world PARLAB_MPI_WORLD names, proven and running with plan's ranks and CPUs: 0 and
 * *w, or -1 with out filled. */
static int world_for(const char *wdir, unsigned ranks, unsigned cores, struct world_id *w,
                     struct outcome *out)
{
    int state = world_check(wdir, w, out);
    if (state < 0) {
        char msg[sizeof out->msg];
        snprintf(msg, sizeof msg, "%s", out->msg);
        return outcome_fail(out, out->code, "%s=%s", MPI_ENV_WORLD, msg);
    }
    if (state != WORLD_LIVE)
        return outcome_fail(out, PARLAB_EXIT_OS, "%s=%s: no mpi world there (it %s): parlab "
                            "world start -j N, or unset %s", MPI_ENV_WORLD, wdir,
                            state == WORLD_STALE ? "is stale: its keeper is gone" : "has ended",
                            MPI_ENV_WORLD);
    if (w->ranks != ranks || (w->cores && w->cores != cores))
        return outcome_fail(out, PARLAB_EXIT_USAGE, "-j %u --cores %u: the mpi world at %s has "
                            "%u ranks on %u CPUs; run with those, or unset %s", ranks, cores,
                            wdir, w->ranks, w->cores, MPI_ENV_WORLD);
    return 0;
}

static int world_run(const char *wdir, struct job *job, const struct plan *plan,
                     struct partial *slots, struct outcome *out)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    unsigned ranks = plan->workers;
    int rc = 0, fd = -1;
    struct world_id w;
    if (world_for(wdir, ranks, plan->cores, &w, out))
        return -1;
    if ((fd = world_connect(wdir)) < 0)
        return outcome_fail(out, PARLAB_EXIT_OS, "%s=%s: no mpi world there (it ended, or "
                            "was never started): parlab world start -j N, or unset %s",
                            MPI_ENV_WORLD, wdir, MPI_ENV_WORLD);
    sigset_t stops, before;
    struct task_watch *board;
    runner_stop_signals(&stops);   /* held by run_dir_open; taken here with sigtimedwait */
    if (run_dir_open(dir, sizeof dir, ranks, &board, &before, out)) {
        close(fd);
        return -1;
    }
    /* One line: the folder, then the serve words (rank 0 reads at most this much). */
    char line[PATH_MAX + 1024];
    int len = job_line(line, sizeof line, dir, job, plan, out);
    if (len < 0) {
        rc = -1;
        goto end;
    }
    if (write(fd, line, (size_t)len) != len) {
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
                int st = job_reply(reply, out);
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
            rc = world_lost(wdir, &w, board, ranks, plan->task_timeout_s, out);
            break;
        }
        int started = 0, *pids = mpi_board_pids(board, ranks);
        for (unsigned r = 0; r < ranks; r++)
            started |= pids[r] > 0;
        struct timespec zero = { 0, 0 };
        int sig = sigtimedwait(&stops, NULL, &zero);
        if (sig > 0) {
            if (started)
                world_kill(&w, board, ranks);
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
                world_kill(&w, board, ranks);
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
    run_dir_close(dir, board, ranks, &before);
    return rc;
}

/* Before the run prints: the ranks fit, the session's socket fits its folder's name, and
 * a kept world (PARLAB_MPI_WORLD) is one and has these ranks and CPUs. Under parlab-mpi
 * run the ranks exist already. */
static int mpi_precheck(unsigned workers, unsigned cores, struct outcome *out)
{
    struct world_id w;
    struct sockaddr_un sa;
    const char *wdir = getenv(MPI_ENV_WORLD), *tmp = getenv("TMPDIR");
    if (runner_mpi_world_run)
        return 0;
    if (tmpdir_check(out))
        return -1;
    if (wdir && *wdir)
        return world_for(wdir, workers, cores, &w, out);
    if (tmp && strlen(tmp) + sizeof "/parlab-mpi.XXXXXX/sock.new" > sizeof sa.sun_path)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "TMPDIR=%s is too long for the mpi "
                            "runner's socket (a Unix socket's path holds %zu bytes): use a "
                            "shorter TMPDIR", tmp, sizeof sa.sun_path);
    return ranks_fit(workers, out);
}

const struct runner runner_mpi = {
    .name = "mpi",
    .summary = "Open MPI ranks started by mpirun: static blocks, or a rank-0 task farm",
    .schedules = SCHED_ALL,
    .default_schedule = SCHED_DYNAMIC,
    .flags = RUNNER_PARALLEL | RUNNER_PROCESSES | RUNNER_OWN_TIMEOUT | RUNNER_EXTERNAL,
    .run = mpi_run,
    .available = mpi_available,
    .precheck = mpi_precheck,
    .keep = mpi_keep,
};
