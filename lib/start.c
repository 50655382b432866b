/* start.c: how a pool's workers start and end (struct pool_ops, pool.h): threads, and the
 * start methods of a process pool, fork, forkserver and spawn. Forkserver and spawn give
 * a worker that did not fork from the pool's parent; it joins the pool through a boot
 * message on a socket: the pool's fields and every shared region's memfd (SCM_RIGHTS),
 * each mapped at the parent's address. Read top to bottom: names, threads and fork, the
 * boot message on both ends, the forkserver, spawn. The fork runner spells its own fork
 * method out in runners/fork.c, for students to read; lib's callers (fpool_create,
 * pool_create) use the one here. */
#define _GNU_SOURCE
#include "pool_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *const start_names[POOL_START__COUNT] = { "fork", "forkserver", "spawn" };

const char *pool_start_name(enum pool_start m)
{
    return (unsigned)m < POOL_START__COUNT ? start_names[m] : "?";
}

int pool_start_parse(const char *s, enum pool_start *out)
{
    for (int i = 0; i < POOL_START__COUNT; i++)
        if (strcmp(s, start_names[i]) == 0) {
            *out = (enum pool_start)i;
            return 0;
        }
    return -EINVAL;
}

const struct pool_ops *pool_ops_start(enum pool_start m)
{
    return m == POOL_START_SPAWN ? &pool_processes_spawn
           : m == POOL_START_FORKSERVER ? &pool_processes_forkserver : &pool_processes;
}

const struct pool_ops *pool_ops_of(enum pool_kind kind)
{
    return kind == POOL_FORK ? &pool_processes : &pool_threads;
}

/* ---- threads ------------------------------------------------------------------------- */

struct thread_arg {
    struct pool *p;
    unsigned w;
};

static void *thread_main(void *arg)
{
    struct thread_arg a = *(struct thread_arg *)arg;
    free(arg);
    pool_worker_main(a.p, a.w);      /* the worker loop, until the pool closes */
    return NULL;
}

static int thread_start(struct pool *p, unsigned w, struct pool_handle *h)
{
    struct thread_arg *a = malloc(sizeof *a);
    if (!a)
        return -ENOMEM;
    *a = (struct thread_arg){ p, w };
    *h = (struct pool_handle){ 0 };
    int e = pthread_create(&h->thread, NULL, thread_main, a);
    if (e) {
        free(a);
        return -e;
    }
    return 0;
}

/* A thread cannot die alone (a crash takes the process), so it has ended only when
 * joined. */
static int thread_reap(struct pool_handle *h, int block, int *status)
{
    if (!block)
        return 0;
    pthread_join(h->thread, NULL);
    *status = 0;
    return 1;
}

const struct pool_ops pool_threads = {
    .kind = POOL_THREAD,
    .what = "thread",
    .start = thread_start,
    .reap = thread_reap,
    .kill = NULL,   /* a thread cannot be stopped alone */
};

/* ---- fork ---------------------------------------------------------------------------- */

/* Worker w as a child_fork() of the caller: it has the caller's memory as it is now. */
static int fork_start(struct pool *p, unsigned w, struct pool_handle *h)
{
    pid_t pid = child_fork();         /* tracked, and dies with us */
    if (pid < 0)
        return (int)pid;
    if (pid == 0) {
        pool_worker_main(p, w);
        fflush(NULL);                 /* what its tasks printed */
        _exit(0);
    }
    *h = (struct pool_handle){ .pid = pid };
    return 0;
}

/* Worker processes are this process's children under every method: one waitpid and one
 * kill serve them all. */
static int proc_reap(struct pool_handle *h, int block, int *status)
{
    pid_t r;
    while ((r = waitpid(h->pid, status, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r != h->pid)
        return 0;
    child_del(h->pid);
    return 1;
}

static void proc_kill(struct pool_handle *h)
{
    kill(h->pid, SIGKILL);
}

const struct pool_ops pool_processes = {
    .kind = POOL_FORK,
    .what = "process",
    .start = fork_start,
    .reap = proc_reap,
    .kill = proc_kill,
};

/* ---- the boot message ---------------------------------------------------------------- */

/* Parent: send worker w of p its boot message and the regions' fds on sock. 0 or -errno. */
static int send_boot(int sock, const struct pool *p, unsigned w)
{
    struct pool_boot *b = malloc(sizeof *b);
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * POOL_BOOT_REGIONS)];
    } u;
    int rc;
    if (!b)
        return -ENOMEM;
    if ((rc = pool__boot_pack(p, w, b))) {
        free(b);
        return rc;
    }
    struct iovec iov = { b, sizeof *b };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (b->nregions) {
        memset(&u, 0, sizeof u);
        m.msg_control = u.buf;
        m.msg_controllen = CMSG_SPACE(sizeof(int) * b->nregions);
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * b->nregions);
        for (uint32_t i = 0; i < b->nregions; i++)
            memcpy(CMSG_DATA(c) + i * sizeof(int), &b->region[i].fd, sizeof(int));
    }
    ssize_t n;
    while ((n = sendmsg(sock, &m, MSG_NOSIGNAL)) < 0 && errno == EINTR)
        ;
    rc = n == (ssize_t)sizeof *b ? 0 : n < 0 ? -errno : -EIO;
    free(b);
    return rc;
}

__attribute__((noreturn, format(printf, 1, 2))) static void boot_fail(const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "parlab: pool worker: %s\n", msg);
    _exit(PARLAB_EXIT_OS);
}

/* A new worker: read the boot message from sock, die with the pool's parent, map every
 * region where the parent has it, and run the pool (pool__boot_run). Never returns. */
static void boot_from(int sock)
{
    struct pool_boot *b = malloc(sizeof *b);
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * POOL_BOOT_REGIONS)];
    } u;
    if (!b)
        boot_fail("out of memory");
    struct iovec iov = { b, sizeof *b };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
    ssize_t n;
    while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
        ;
    if (n == 0)
        _exit(0);   /* the parent gave up on this worker before booting it */
    if (n != (ssize_t)sizeof *b || b->magic != POOL_BOOT_MAGIC)
        boot_fail("bad boot message (%zd bytes)", n);
    /* As a forked worker: default handlers (a crash kills it with its signal, which the
     * parent reports; a sanitizer's handler would turn it into an exit status). */
    child_init();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != (pid_t)b->parent)   /* the parent died before prctl took effect */
        _exit(1);
    int fds[POOL_BOOT_REGIONS], nfd = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < k && nfd < POOL_BOOT_REGIONS; i++)
                memcpy(&fds[nfd++], CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof(int));
        }
    if ((uint32_t)nfd != b->nregions || (m.msg_flags & MSG_CTRUNC))
        boot_fail("%d of %u shared regions came", nfd, b->nregions);
    /* Tests only: plant the collision ASLR can make, once (whoever removes the file). */
    const char *plant = getenv("PARLAB_TEST_TAKEN");
    if (plant && *plant && nfd > 0 && unlink(plant) == 0)
        (void)mmap((void *)(uintptr_t)b->region[0].addr, 1, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    for (int i = 0; i < nfd; i++) {
        /* Over reservation the server kept for it (shm.c), or where nothing is. */
        void *want = (void *)(uintptr_t)b->region[i].addr;
        int fixed = shm_reserved(b->region[i].addr, b->region[i].len) ? MAP_FIXED
                                                                       : MAP_FIXED_NOREPLACE;
        void *got = mmap(want, (size_t)b->region[i].len, PROT_READ | PROT_WRITE,
                         MAP_SHARED | fixed, fds[i], 0);
        int e = errno;
        if (got != want && (got != MAP_FAILED || e == EEXIST)) {
            /* Something of this program sits there (a spawned worker's own libraries
             * land where ASLR puts them): say so, and the parent starts another. */
            (void)!send(sock, "t", 1, MSG_NOSIGNAL);
            _exit(PARLAB_EXIT_OS);
        }
        if (got != want)
            boot_fail("cannot map a shared region of %llu bytes at %p: %s",
                      (unsigned long long)b->region[i].len, want, strerror(e));
        close(fds[i]);
    }
    (void)!send(sock, "k", 1, MSG_NOSIGNAL);   /* mapped: the parent goes on */
    close(sock);
    shm_arena_leave();
    pool__boot_run(b);
}

/* Parent: send the new worker h its boot message on sock, wait for its word that the
 * regions are mapped, and close sock. Returns 0; -EADDRINUSE where an address was taken
 * in the worker (pool_open starts another); or -errno. A worker that dies first says
 * nothing: 0, and the pool's wait for its workers sees it. On failure the worker is
 * killed and reaped here, since the pool counts it as never started. */
static int boot_or_reap(int sock, const struct pool *p, unsigned w, struct pool_handle *h)
{
    int rc = send_boot(sock, p, w);
    if (rc == 0) {
        char word = 0;
        ssize_t k;
        while ((k = recv(sock, &word, 1, 0)) < 0 && errno == EINTR)
            ;
        if (k == 1 && word == 't')
            rc = -EADDRINUSE;
    }
    close(sock);
    if (rc) {
        kill(h->pid, SIGKILL);
        while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        child_del(h->pid);
    }
    return rc;
}

/* ---- forkserver ---------------------------------------------------------------------- */

/*
 * The server holds one socket to its parent and does one thing: for each request (a
 * worker's socket end, SCM_RIGHTS) it forks the worker and answers with its pid. Its
 * workers must be its parent's children, which its parent waits for (their exit status
 * names a crash's signal) and kills: so the server forks through a middle process that
 * exits at once, and the orphaned worker is adopted by its parent, a child subreaper
 * while the server runs. A worker is the server's copy of the program as it was before
 * the job existed, plus the boot message.
 */
static pthread_mutex_t fs_lock = PTHREAD_MUTEX_INITIALIZER;
static int fs_sock = -1;
static pid_t fs_pid;
static int fs_was_subreaper;

static void server_main(int sock)
{
    /* Whatever shared memory the parent had is not the server's: its workers get the
     * parent's regions from their boot message, at addresses that must then be free. */
    shm_forget_all();
    for (;;) {
        char tag;
        union {
            struct cmsghdr h;
            char buf[CMSG_SPACE(sizeof(int))];
        } u;
        struct iovec iov = { &tag, 1 };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                            .msg_controllen = sizeof u.buf };
        ssize_t n;
        while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
            ;
        if (n <= 0)
            _exit(0);   /* the parent closed its end: stop */
        struct cmsghdr *c = CMSG_FIRSTHDR(&m);
        int fd = -1, pp[2];
        int32_t reply = -EPROTO;
        if (c && c->cmsg_type == SCM_RIGHTS)
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
        if (fd >= 0 && pipe2(pp, O_CLOEXEC) == 0) {
            pid_t mid = fork();
            if (mid == 0) {            /* the middle: fork the worker, say its pid, go */
                pid_t w = fork();
                if (w == 0) {
                    close(pp[0]);
                    close(pp[1]);
                    close(sock);
                    boot_from(fd);
                }
                int32_t v = w < 0 ? -errno : (int32_t)w;
                _exit(write(pp[1], &v, sizeof v) == sizeof v ? 0 : 1);
            }
            close(pp[1]);
            if (mid < 0) {
                reply = -errno;
            } else {
                while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
                    ;
                if (read(pp[0], &reply, sizeof reply) != sizeof reply)
                    reply = -ECHILD;
            }
            close(pp[0]);
        } else if (fd >= 0) {
            reply = -errno;
        }
        if (fd >= 0)
            close(fd);
        if (send(sock, &reply, sizeof reply, MSG_NOSIGNAL) != sizeof reply)
            _exit(0);
    }
}

int pool_forkserver_start(void)
{
    int sv[2], rc = 0;
    pthread_mutex_lock(&fs_lock);
    if (fs_pid > 0)
        goto out;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
        rc = -errno;
        goto out;
    }
    /* Regions made from now on come from the arena, which the server holds as reservation
     * too. Without one they go anywhere, and a worker may find the address taken. */
    (void)shm_arena_reserve();
    prctl(PR_GET_CHILD_SUBREAPER, &fs_was_subreaper);
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t pid = child_fork();   /* tracked; dies with us */
    if (pid == 0) {
        close(sv[0]);
        server_main(sv[1]);
    }
    if (pid < 0) {
        rc = (int)pid;
        close(sv[0]);
        close(sv[1]);
        prctl(PR_SET_CHILD_SUBREAPER, fs_was_subreaper);
        goto out;
    }
    close(sv[1]);
    fs_sock = sv[0];
    fs_pid = pid;
out:
    pthread_mutex_unlock(&fs_lock);
    return rc;
}

void pool_forkserver_stop(void)
{
    pthread_mutex_lock(&fs_lock);
    if (fs_pid > 0) {
        close(fs_sock);
        while (waitpid(fs_pid, NULL, 0) < 0 && errno == EINTR)
            ;
        child_del(fs_pid);
        prctl(PR_SET_CHILD_SUBREAPER, fs_was_subreaper);
        fs_pid = 0;
        fs_sock = -1;
    }
    pthread_mutex_unlock(&fs_lock);
}

static int forkserver_start(struct pool *p, unsigned w, struct pool_handle *h)
{
    int sv[2], rc;
    sigset_t held;
    if ((rc = pool_forkserver_start()))
        return rc;
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
        return -errno;
    char tag = 'w';
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct iovec iov = { &tag, 1 };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &sv[1], sizeof(int));
    int32_t pid = -EPIPE;
    fflush(NULL);
    child_signals_hold(&held);   /* a stop signal waits until the worker is tracked */
    pthread_mutex_lock(&fs_lock);   /* one request and its answer at a time */
    if (sendmsg(fs_sock, &m, MSG_NOSIGNAL) == 1 &&
        recv(fs_sock, &pid, sizeof pid, 0) != sizeof pid)
        pid = -EPIPE;
    pthread_mutex_unlock(&fs_lock);
    close(sv[1]);
    if (pid > 0)
        child_add(pid);
    child_signals_release(&held);
    if (pid <= 0) {
        close(sv[0]);
        return pid < 0 ? pid : -ECHILD;
    }
    *h = (struct pool_handle){ .pid = pid };
    return boot_or_reap(sv[0], p, w, h);
}

const struct pool_ops pool_processes_forkserver = {
    .kind = POOL_FORK,
    .what = "process",
    .start = forkserver_start,
    .reap = proc_reap,
    .kill = proc_kill,
};

/* ---- spawn --------------------------------------------------------------------------- */

#define WORKER_ARG "__pool-worker"   /* argv[1] of a spawned worker; its socket is fd 3 */
#define WORKER_FD 3

static char spawn_exe[PATH_MAX];

const char *pool_spawn_exe(void)
{
    if (!spawn_exe[0]) {
        const char *env = getenv("PARLAB_SPAWN_EXE");   /* tests only */
        if (env && *env) {
            snprintf(spawn_exe, sizeof spawn_exe, "%s", env);
        } else {
            ssize_t n = readlink("/proc/self/exe", spawn_exe, sizeof spawn_exe - 1);
            spawn_exe[n > 0 ? n : 0] = '\0';
        }
    }
    return spawn_exe;
}

void pool_worker_entry(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], WORKER_ARG) == 0)
        boot_from(WORKER_FD);
    pool_spawn_exe();   /* the binary as it is now: a later move or delete shows */
}

static int spawn_start(struct pool *p, unsigned w, struct pool_handle *h)
{
    int sv[2], rc;
    sigset_t held, none;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    const char *exe = pool_spawn_exe();
    char *argv[] = { (char *)"parlab", (char *)WORKER_ARG, NULL };
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
        return -errno;
    if (sv[1] == WORKER_FD) {   /* dup2 onto itself would keep close-on-exec */
        int fd = fcntl(sv[1], F_DUPFD_CLOEXEC, WORKER_FD + 1);
        if (fd < 0) {
            rc = -errno;
            close(sv[0]);
            close(sv[1]);
            return rc;
        }
        close(sv[1]);
        sv[1] = fd;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, sv[1], WORKER_FD);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&at, &none);
    sigset_t dfl;
    sigfillset(&dfl);
    posix_spawnattr_setsigdefault(&at, &dfl);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    fflush(NULL);
    child_signals_hold(&held);   /* a stop signal waits until the worker is tracked */
    rc = -posix_spawn(&pid, exe, &fa, &at, argv, environ);
    if (rc == 0)
        child_add(pid);
    child_signals_release(&held);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(sv[1]);
    if (rc) {
        close(sv[0]);
        return rc;
    }
    *h = (struct pool_handle){ .pid = pid };
    return boot_or_reap(sv[0], p, w, h);
}

const struct pool_ops pool_processes_spawn = {
    .kind = POOL_FORK,
    .what = "process",
    .start = spawn_start,
    .reap = proc_reap,
    .kill = proc_kill,
};
