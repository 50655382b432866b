/* folder.c: where bin/parlab runs an mpirun: the programs (parlab-mpi beside parlab,
 * mpirun in PATH), whether the ranks fit this machine, and the private folder each mpirun
 * runs in, with its board (mpirun.h says what is made and how it goes). */
#define _GNU_SOURCE
#include "mpirun.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* The CPUs this process may run on (ranks started from here inherit them). */
unsigned mpi__cpus(void)
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

int mpi_find(char *exe, size_t exe_n, char *mpirun, size_t mpirun_n, struct outcome *out)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0)
        return outcome_fail(out, PARLAB_EXIT_OS, "cannot find this executable "
                            "(/proc/self/exe): %s", strerror(errno));
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    *slash = '\0';
    snprintf(exe, exe_n, "%s/parlab-mpi", self);
    if (access(exe, X_OK) != 0)
        return outcome_fail(out, PARLAB_EXIT_OS, "the mpi runner is not built (no %s): "
                            "install Open MPI (scripts/deps.sh test, or apt-get install "
                            "libopenmpi-dev openmpi-bin), then make", exe);
    if (find_in_path("mpirun", mpirun, mpirun_n))
        return outcome_fail(out, PARLAB_EXIT_OS, "mpirun is not in PATH: install openmpi-bin "
                            "(scripts/deps.sh test)");
    return 0;
}

#define MPI_OMPI_SUB "ompi"

/* TMPDIR names a plain folder: no control character (a newline in a folder name breaks
 * every listing of it). 0, or -1 with out filled (usage). */
int mpi__tmpdir_check(struct outcome *out)
{
    const char *tmp = getenv("TMPDIR");
    for (const unsigned char *c = (const unsigned char *)(tmp ? tmp : ""); *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return outcome_fail(out, PARLAB_EXIT_USAGE, "mpi: TMPDIR has a control character "
                                "(a newline, a tab): name a plain folder");
    return 0;
}

/* The run's private folder and its ompi/ subfolder. 0, or -1 with out filled. */
int mpi__make_dir(char *dir, size_t n, struct outcome *out)
{
    const char *tmp = getenv("TMPDIR");
    char sub[PATH_MAX + 16], abs[PATH_MAX];
    tmp = tmp && *tmp ? tmp : "/tmp";
    if (mpi__tmpdir_check(out))
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

/* Remove a folder this process made with mpi__make_dir (and ran mpirun in, when ompi_tree):
 * the names parlab wrote at its top (NULL-terminated), then ompi/, then the folder. */
void mpi__dir_remove(const char *dir, const char *const *names, int ompi_tree)
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
int mpi__ranks_fit(unsigned ranks, struct outcome *out)
{
    if (ranks <= MPI_MAX_RANKS_PER_CPU * mpi__cpus())
        return 0;
    return outcome_fail(out, PARLAB_EXIT_USAGE, "-j %u: %u ranks on %u CPUs; the mpi runner "
                        "starts at most %u ranks per CPU (each is a process, and waiting "
                        "ranks poll)", ranks, ranks, mpi__cpus(), MPI_MAX_RANKS_PER_CPU);
}

/* An unknown $PARLAB_MPI_TRANSPORT, refused before anything starts: -1 and out filled. */
int mpi__transport_check(struct outcome *out)
{
    if (mpi_transport() >= 0)
        return 0;
    outcome_fail(out, PARLAB_EXIT_USAGE, "%s=%s: unknown transport (shm or tcp)",
                 MPI_ENV_TRANSPORT, getenv(MPI_ENV_TRANSPORT));
    return -1;
}

/* The board file in dir, mapped: every rank of the job maps it too. NULL and out filled on
 * failure. */
struct task_watch *mpi__board_create(const char *dir, unsigned ranks, struct outcome *out)
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

/* A run's private folder and its board, made with the stopping signals held (mpirun.h). */
int mpi__run_dir_open(char *dir, size_t n, unsigned ranks, struct task_watch **board,
                      sigset_t *before, struct outcome *out)
{
    sigset_t stops;
    stop_signals(&stops);
    pthread_sigmask(SIG_BLOCK, &stops, before);
    stop_taker(1);
    *board = NULL;
    if (mpi__make_dir(dir, n, out)) {
        stop_taker(0);
        pthread_sigmask(SIG_SETMASK, before, NULL);
        return -1;
    }
    if (ranks && !(*board = mpi__board_create(dir, ranks, out))) {
        mpi__dir_remove(dir, run_dir_names, 0);
        stop_taker(0);
        pthread_sigmask(SIG_SETMASK, before, NULL);
        return -1;
    }
    return 0;
}

/* Unmap the board, remove the folder (parlab's names, and what Open MPI left in ompi/),
 * then let the stopping signals in again (one that came after the run ended ends the
 * process through the guard). */
void mpi__run_dir_close(const char *dir, struct task_watch *board, unsigned ranks,
                        const sigset_t *before)
{
    if (board)
        munmap(board, mpi_board_len(ranks));
    mpi__dir_remove(dir, run_dir_names, 1);
    stop_taker(0);
    pthread_sigmask(SIG_SETMASK, before, NULL);
}

int mpi__connect(const char *dir)
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

void mpi__sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };
    nanosleep(&ts, NULL);
}
