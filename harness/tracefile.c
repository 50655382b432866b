/* tracefile.c: --trace FILE is replaced whole or not at all. The rows go to an unnamed
 * file in FILE's directory (O_TMPFILE; a hidden named one where the file system has no
 * O_TMPFILE), which takes FILE's name in one rename(2) only when the run completes. A
 * run that fails, is interrupted or is killed leaves FILE as it was. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"

/* The directory part of path ("." if none) in buf. */
static void dir_of(const char *path, char *buf, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(buf, n, ".");
    else if (slash == path)
        snprintf(buf, n, "/");
    else
        snprintf(buf, n, "%.*s", (int)(slash - path), path);
}

/* A hidden name beside path for the file until it is renamed: DIR/.BASE.XXXXXX */
static int tmp_name(const char *path, char *buf, size_t n)
{
    const char *slash = strrchr(path, '/');
    int len = slash ? snprintf(buf, n, "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1)
                    : snprintf(buf, n, ".%s.XXXXXX", path);
    return len > 0 && (size_t)len < n ? 0 : -ENAMETOOLONG;
}

/* Hold SIGINT/TERM/HUP across a step the guard must not cut in two (a name made but not
 * yet registered, linked but not yet renamed); a pending one ends the run right after. */
static void hold_signals(int on, sigset_t *old)
{
    sigset_t stops;
    stop_signals(&stops);
    if (on)
        pthread_sigmask(SIG_BLOCK, &stops, old);
    else
        pthread_sigmask(SIG_SETMASK, old, NULL);
}

static const char *kind_of(mode_t m)
{
    return S_ISLNK(m) ? "a symbolic link" : S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO"
           : S_ISSOCK(m) ? "a socket" : S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a regular file";
}

int trace_file_open(struct trace_file *t, const char *path, char *why, size_t n)
{
    struct stat st;
    char dir[4096];
    mode_t mask = umask(0), mode = 0666 & ~mask;   /* a new file's mode, as open() gives */
    umask(mask);
    *t = (struct trace_file){ .fd = -1, .path = path };
    /* lstat, not stat: a symlink is refused rather than followed (and a dangling one's
     * target is never created); a FIFO is refused rather than opened (which would block). */
    if (lstat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) {
            snprintf(why, n, "%s, not a regular file or a new path", kind_of(st.st_mode));
            return -EINVAL;
        }
        mode = st.st_mode & 07777;
    } else if (errno != ENOENT) {
        int e = errno;
        snprintf(why, n, "%s", strerror(e));
        return -e;
    }
    dir_of(path, dir, sizeof dir);
    t->fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (t->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        int e = tmp_name(path, t->tmp, sizeof t->tmp);
        if (e) {
            snprintf(why, n, "%s", strerror(-e));
            return e;
        }
        sigset_t old;
        hold_signals(1, &old);
        t->fd = mkostemp(t->tmp, O_CLOEXEC);
        if (t->fd >= 0)
            guard_remove_on_exit(t->tmp);   /* a signal now removes it */
        else
            t->tmp[0] = '\0';
        hold_signals(0, &old);
    }
    if (t->fd < 0) {
        int e = errno;
        if (e == ENOENT && stat(dir, &st) != 0) {
            snprintf(why, n, "its folder does not exist");
            return -ENOENT;
        }
        snprintf(why, n, "cannot write in its folder: %s", strerror(e));
        return e == ENOENT ? -EACCES : -e;   /* a folder that makes no files (/proc) */
    }
    if (fchmod(t->fd, mode)) {   /* the replaced file's mode, or a new file's */
        int e = errno;
        snprintf(why, n, "%s", strerror(e));
        trace_file_discard(t);
        return -e;
    }
    return 0;
}

FILE *trace_file_stream(const struct trace_file *t)
{
    if (t->fd < 0 || ftruncate(t->fd, 0) || lseek(t->fd, 0, SEEK_SET) < 0)
        return NULL;
    int fd = dup(t->fd);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f && fd >= 0)
        close(fd);
    return f;
}

int trace_file_commit(struct trace_file *t)
{
    int e = 0;
    sigset_t old;
    if (t->fd < 0)
        return 0;
    /* On the disk before it takes FILE's name: a crash after the rename never leaves a
     * FILE that claims to be complete but is not (and a late I/O error is seen here). */
    if (fdatasync(t->fd)) {
        e = -errno;
        trace_file_discard(t);
        return e;
    }
    /* Signals wait until the file is in place (or not): a handler never finds a linked
     * name it does not know of. Only SIGKILL between link and rename (microseconds) can
     * leave a hidden .FILE.pid.n beside FILE. */
    hold_signals(1, &old);
    if (!t->tmp[0]) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", t->fd);
        /* A new path takes the unnamed file's link at once: nothing else is ever named. */
        if (linkat(AT_FDCWD, proc, AT_FDCWD, t->path, AT_SYMLINK_FOLLOW) == 0)
            goto done;
        if (errno != EEXIST) {
            e = -errno;
            goto done;
        }
        /* An existing FILE: link under a hidden name, then rename over it. */
        for (unsigned i = 0; i < 100; i++) {
            const char *slash = strrchr(t->path, '/');
            int len = slash ? snprintf(t->tmp, sizeof t->tmp, "%.*s/.%s.%ld.%u",
                                       (int)(slash - t->path), t->path, slash + 1,
                                       (long)getpid(), i)
                            : snprintf(t->tmp, sizeof t->tmp, ".%s.%ld.%u", t->path,
                                       (long)getpid(), i);
            if (len < 0 || (size_t)len >= sizeof t->tmp) {
                e = -ENAMETOOLONG;
                break;
            }
            if (linkat(AT_FDCWD, proc, AT_FDCWD, t->tmp, AT_SYMLINK_FOLLOW) == 0) {
                e = 0;
                break;
            }
            e = -errno;
            if (errno != EEXIST)
                break;
        }
        if (e)
            t->tmp[0] = '\0';
    }
    if (!e && rename(t->tmp, t->path))
        e = -errno;
    if (e && t->tmp[0])
        unlink(t->tmp);
done:
    guard_remove_on_exit(NULL);
    t->tmp[0] = '\0';
    close(t->fd);
    t->fd = -1;
    hold_signals(0, &old);
    return e;
}

void trace_file_discard(struct trace_file *t)
{
    if (t->tmp[0])
        unlink(t->tmp);
    guard_remove_on_exit(NULL);
    t->tmp[0] = '\0';
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}
