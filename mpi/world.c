/* world.c: ranks kept up between runs (parlab world).
 *
 * `parlab world start -j N` starts a keeper: a process of its own session that runs
 * `mpirun -np N parlab-mpi world DIR IDLE_S TOKEN` as the launcher runs every mpirun
 * (mpi__launch(): signals forwarded, stray ranks reaped) and, when mpirun ends, writes how
 * (DIR/end) and removes what it made in DIR. A run with PARLAB_MPI_WORLD=DIR sends its job
 * to rank 0 over DIR/sock and watches its own board as the launcher does; the ranks were
 * started once, so a run pays no mpirun, MPI_Init or MPI_Finalize. What cannot be undone
 * in a world ends it: a rank that dies, a task past --task-timeout, or a run interrupted
 * while its job runs (a rank cannot leave a task half done); the run that saw it reports
 * it as the launcher would.
 *
 * How a world proves it is one: world_proof.c.
 */
#define _GNU_SOURCE
#include "mpirun.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
    stop_taker(0);   /* the thread that said so is the parent's */
    sigset_t stops;
    stop_signals(&stops);
    pthread_sigmask(SIG_UNBLOCK, &stops, NULL);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    close_range(3, ~0u, 0);
    int bad = !log || mpi_proc_stat(getpid(), &start, NULL, NULL, NULL);
    snprintf(marker, sizeof marker, MPI_WORLD_MARKER, token, (int)getpid(), start, ranks,
             mpi__cpus());
    if (bad || mpi_file_write(dir, "world", marker) || mpi__launch(args, dir, NULL, ranks, 0, 0, log, &e))
        e = (struct mpirun_end){ .status = 1 << 8, .rank = -1 };
    /* How it ended, for the run whose job it was: mpirun's end, then what it printed. */
    if (asprintf(&end, "%d %d %d %d %d\n%s", e.status, e.rank, e.sig, e.exit_code,
                 e.stopped_by, log ? log->buf : "") >= 0)
        mpi_file_write(dir, "end", end);
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/sock", dir);
    unlink(path);
    /* A run that lost its job reads the end (and removes it) within a few seconds; a
     * stopped or idle world has no such run. */
    snprintf(path, sizeof path, "%s/end", dir);
    for (int i = 0; i < 300 && !e.stopped_by && !(WIFEXITED(e.status) && !WEXITSTATUS(e.status)) &&
                    access(path, F_OK) == 0; i++)
        mpi__sleep_ms(10);
    struct stat st;
    if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == dev && st.st_ino == ino)
        mpi__world_remove(dir, ranks, 1);
    _exit(0);
}

int mpi_world_start(unsigned ranks, int idle_s, char *dir, size_t dir_n, pid_t *keeper,
                    struct outcome *out)
{
    char exe[PATH_MAX], mpirun[PATH_MAX], token[MPI_WORLD_TOKEN_HEX + 1];
    unsigned char raw[MPI_WORLD_TOKEN_HEX / 2];
    char *args[MPI_ARGS_MAX];
    int n = 0, rc = -1;
    struct stat st;
    if (mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, out))
        return -1;
    if (mpi__ranks_fit(ranks, out))
        return -1;
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
        return outcome_fail(out, PARLAB_EXIT_OS, "getrandom: %s", strerror(errno));
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
    /* The stopping signals wait until the world is up or gone: one that comes while it
     * starts stops it (its keeper removes the folder) instead of leaving it unknown. */
    sigset_t stops, before;
    stop_signals(&stops);
    pthread_sigmask(SIG_BLOCK, &stops, &before);
    stop_taker(1);
    if (mpi__make_dir(dir, dir_n, out))
        goto out;
    struct sockaddr_un sa;
    if (strlen(dir) + sizeof "/sock.new" > sizeof sa.sun_path || lstat(dir, &st)) {
        mpi__world_remove(dir, 0, 0);
        rc = outcome_fail(out, PARLAB_EXIT_USAGE, "TMPDIR=%s is too long for the world's "
                          "socket (a Unix socket's path holds %zu bytes): use a shorter "
                          "TMPDIR", getenv("TMPDIR"), sizeof sa.sun_path);
        goto out;
    }
    mpi__mpirun_head(args, &n, mpirun, ranks);
    mpi__arg_add(args, &n, "%s", exe);
    mpi__arg_add(args, &n, "world");
    mpi__arg_add(args, &n, "%s", dir);
    mpi__arg_add(args, &n, "%d", idle_s);
    mpi__arg_add(args, &n, "%s", token);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0)
        world_keeper(args, dir, ranks, token, st.st_dev, st.st_ino);
    mpi__args_free(args, n);
    if (pid < 0) {
        mpi__world_remove(dir, 0, 0);
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
        mpi__sleep_ms(10);
    }
    FILE *f = sig ? NULL : fopen(endp, "r");
    char line[300] = "", first[200] = "";
    if (f) {
        struct mpirun_log *log = calloc(1, sizeof *log);
        if (fgets(line, sizeof line, f) && log) {   /* the status line, then mpirun's words */
            size_t k = fread(log->buf, 1, sizeof log->buf - 1, f);
            log->buf[k] = '\0';
            mpi__first_line(log, first, sizeof first);
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
    stop_taker(0);
    pthread_sigmask(SIG_SETMASK, &before, NULL);
    return rc;
}

int mpi_world_stop(const char *dir, int stale, struct outcome *out)
{
    struct world_id w;
    int state = mpi__world_check(dir, &w, out);
    if (state < 0)
        return -1;
    if (state == WORLD_STALE && !stale)
        return outcome_fail(out, PARLAB_EXIT_OS, "the mpi world at %s is stale: its keeper "
                            "(pid %d) is gone; parlab world stop --stale %s removes what "
                            "parlab made there", dir, (int)w.keeper, dir);
    if (state == WORLD_LIVE) {
        /* Politely first: rank 0 quits once the job it runs (if any) is done, and every
         * rank finalizes; then mpirun is stopped, and last the keeper's group is killed. */
        int fd = mpi__connect(dir);
        if (fd >= 0) {
            if (write(fd, "quit\n", 5) == 5) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                poll(&p, 1, 5000);
            }
            close(fd);
        }
        if (!mpi__world_wait_gone(&w, 1, 3000, 7000, 10000))
            return outcome_fail(out, PARLAB_EXIT_OS, "the world's keeper (pid %d) did not "
                                "stop", (int)w.keeper);
    } else if (state == WORLD_ENDING && !mpi__world_wait_gone(&w, 0, 0, 0, 10000)) {
        /* a rank is gone, so the token cannot be shown: the keeper ends it by itself */
        return outcome_fail(out, PARLAB_EXIT_OS, "the mpi world at %s is ending (rank %d is "
                            "gone) but its keeper (pid %d) has not: not touched", dir,
                            w.gone_rank, (int)w.keeper);
    }
    /* The keeper removes the folder; one killed, or stale, leaves it: parlab's names go,
     * and the folder if nothing else is in it. */
    struct stat st;
    if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == w.dev && st.st_ino == w.ino)
        mpi__world_remove(dir, w.ranks, 0);
    return lstat(dir, &st) == 0 ? 1 : 0;
}

int mpi_world_status(const char *dir, unsigned *ranks, struct outcome *out)
{
    struct world_id w;
    int state = mpi__world_check(dir, &w, out);
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
        mpi__sleep_ms(10);
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
    mpi__world_wait_gone(w, 1, 3000, 3000, 4000);
    if (WIFEXITED(e.status) && WEXITSTATUS(e.status) == 0)
        e.status = 1 << 8;   /* it ended cleanly (stopped, idle) but without our reply */
    int rc;
    if (e.stopped_by)
        rc = outcome_fail(out, PARLAB_EXIT_SOFTWARE, "the mpi world at %s was stopped during "
                          "the job (SIG%s); remaining tasks dropped", wdir,
                          sigabbrev_np(e.stopped_by));
    else
        rc = log ? mpi__judge(&e, log, board, ranks, timeout_s, out)
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
    mpi__world_wait_gone(w, 1, 0, 3000, 4000);
}

/* The world PARLAB_MPI_WORLD names, proven and running with plan's ranks and CPUs: 0 and
 * *w, or -1 with out filled. */
int mpi__world_for(const char *wdir, unsigned ranks, unsigned cores, struct world_id *w,
                   struct outcome *out)
{
    int state = mpi__world_check(wdir, w, out);
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

int mpi__world_run(const char *wdir, struct job *job, const struct plan *plan,
                   struct partial *slots, struct outcome *out)
{
    char dir[PATH_MAX], path[PATH_MAX + 16];
    unsigned ranks = plan->workers;
    int rc = 0, fd = -1;
    struct world_id w;
    if (mpi__world_for(wdir, ranks, plan->cores, &w, out))
        return -1;
    if ((fd = mpi__connect(wdir)) < 0)
        return outcome_fail(out, PARLAB_EXIT_OS, "%s=%s: no mpi world there (it ended, or "
                            "was never started): parlab world start -j N, or unset %s",
                            MPI_ENV_WORLD, wdir, MPI_ENV_WORLD);
    sigset_t stops, before;
    struct task_watch *board;
    stop_signals(&stops);   /* held by mpi__run_dir_open; taken here with sigtimedwait */
    if (mpi__run_dir_open(dir, sizeof dir, ranks, &board, &before, out)) {
        close(fd);
        return -1;
    }
    /* One line: the folder, then the serve words (rank 0 reads at most this much). */
    char line[MPI_LINE_MAX];
    int len = mpi_job_line(line, sizeof line, dir, job, plan, out);
    if (len < 0) {
        rc = -1;
        goto end;
    }
    if (write(fd, line, (size_t)len) != len) {
        rc = outcome_fail(out, PARLAB_EXIT_OS, "the mpi world at %s: %s", wdir, strerror(errno));
        goto end;
    }
    uint64_t limit = (uint64_t)(plan->task_timeout_s * 1e9);
    char reply[MPI_REPLY_MAX];
    size_t got = 0;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, 10) > 0) {
            ssize_t k = read(fd, reply + got, sizeof reply - 1 - got);
            if (k > 0 && memchr(reply + got, '\n', (size_t)k)) {
                reply[got + (size_t)k] = '\0';
                rc = mpi_reply_parse(reply, "the mpi world's rank 0 could not finish the job",
                                     out) ? -1 : 0;
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
        uint64_t now = clock_now_ns();
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
        rc = mpi__read_result(path, job, plan, slots, out);
    }
end:
    {   /* a stopping signal that came as the run ended is dropped, as launch() does */
        struct timespec zero = { 0, 0 };
        while (sigtimedwait(&stops, NULL, &zero) > 0)
            ;
    }
    close(fd);
    mpi__run_dir_close(dir, board, ranks, &before);
    return rc;
}
