/* world_proof.c: how bin/parlab proves that a folder is a world parlab made before it
 * signals or removes anything, and how a world's folder goes.
 *
 * A world proves it is one before anything is signalled or removed (mpi__world_check): its
 * folder is a real folder of this user with mode 0700; its marker DIR/world, a regular
 * file of this user, holds a random token, the keeper's pid and start time, and the rank
 * and CPU counts, in exactly the form parlab writes; the keeper runs with that start time
 * (so a pid used again is not it); and each rank, whose pid and start time are in
 * DIR/rank.R, runs in the keeper's session with this folder and the token on its command
 * line, which nobody can change after the fact. Anything else is refused and left alone.
 */
#define _GNU_SOURCE
#include "mpirun.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* pid runs (not a zombie) and started at start. */
static int proc_is(pid_t pid, unsigned long long start)
{
    unsigned long long s;
    char st;
    return mpi_proc_stat(pid, &s, NULL, NULL, &st) == 0 && st != 'Z' && s == start;
}

/* Remove what parlab made in a world's folder, by name, then the folder (ompi_tree: and
 * what Open MPI left in ompi/; only the keeper, which ran that mpirun, says so). */
void mpi__world_remove(const char *dir, unsigned ranks, int ompi_tree)
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
    mpi__dir_remove(dir, names, ompi_tree);
}


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
int mpi__world_check(const char *dir, struct world_id *w, struct outcome *out)
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
        strlen(w->token) != MPI_WORLD_TOKEN_HEX || keeper <= 1 || !w->ranks || w->ranks > 4096 ||
        snprintf(want, sizeof want, MPI_WORLD_MARKER, w->token, keeper, w->keeper_start, w->ranks,
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

/* Wait until the world's keeper is gone (and with it every process and file of the
 * world), up to limit_ms. Signalled only when it is the proven keeper (signal): SIGTERM at
 * term_ms, its process group (the keeper and mpirun) killed at kill_ms. 1 if gone. */
int mpi__world_wait_gone(const struct world_id *w, int signal, int term_ms, int kill_ms,
                         int limit_ms)
{
    for (int t = 0; t < limit_ms; t += 10) {
        if (!proc_is(w->keeper, w->keeper_start))
            return 1;
        if (signal && t == term_ms)
            kill(w->keeper, SIGTERM);
        if (signal && t == kill_ms)
            kill(-w->keeper, SIGKILL);
        mpi__sleep_ms(10);
    }
    return !proc_is(w->keeper, w->keeper_start);
}
