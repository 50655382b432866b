/* ranks_serve.c: the ranks of bin/parlab-mpi serving clients' jobs, one at a time.
 *
 * A session (`parlab-mpi session`, under the launcher) holds the ranks of one parlab
 * command, started once for its warm-up and every repeat; the launcher is its only
 * client. A world (`parlab world start -j N` runs `parlab-mpi world DIR IDLE_S TOKEN`)
 * keeps N ranks up, and each `parlab run -r mpi` with PARLAB_MPI_WORLD=DIR hands its job
 * to them instead of starting mpirun: the ranks' start-up (mpirun, MPI_Init,
 * MPI_Finalize: 0.1 s here) is paid once, as with a cluster's resident launcher. Either
 * way rank 0 takes one client at a time from the folder's socket: a request line (wire.h),
 * broadcast to every rank, which runs the job against the client's board and leaves the
 * result file in the client's folder; rank 0 then replies. */
#define _GNU_SOURCE
#include <mpi.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ranks.h"

/* Writes the result file for the client in dir (wire.h): returns 0, or -1 with st filled.
 * Rank 0 only. */
static int write_result(const char *dir, const struct rank_job *rj, struct outcome *st)
{
    char path[PATH_MAX + 16];
    const struct job *job = &rj->job;
    snprintf(path, sizeof path, "%s/result", dir);
    FILE *f = fopen(path, "wb");
    size_t rows = rj->plan.trace ? job->tasks * job->steps : 0, bytes = 0;
    for (size_t t = 0; t < job->tasks; t++)
        bytes += mpi_task_state_len(job, job->steps - 1, t);
    struct mpi_result_hdr h = { MPI_RESULT_MAGIC, job->tasks, job->steps, rows, bytes,
                                rj->wall_ns };
    char *state = malloc(bytes + 1);
    for (size_t t = 0, at = 0; state && t < job->tasks; t++)
        at += mpi_task_state_copy(job, job->steps - 1, t, state + at, 1);
    int bad = !f || !state || fwrite(&h, sizeof h, 1, f) != 1 ||
              fwrite(rj->slots, sizeof *rj->slots, job->tasks, f) != job->tasks ||
              (rows && fwrite(rj->plan.trace, sizeof *rj->plan.trace, rows, f) != rows) ||
              fwrite(state, 1, bytes, f) != bytes;
    int err = errno;
    if (f && fclose(f) && !bad) {
        bad = 1;
        err = errno;
    }
    free(state);
    if (bad)
        return outcome_fail(st, PARLAB_EXIT_OS, "rank 0: result file %s: %s", path,
                            strerror(err));
    return 0;
}

/* Every rank: run job m for the client whose folder is dir: its board says which task each
 * rank runs, and rank 0 leaves the result file there. A folder that is gone (its run was
 * interrupted while it waited its turn in a world) skips the job on every rank instead of
 * ending the ranks. Returns 0 with st filled (the job's status for the reply: 0, or an
 * exit status and why), or -1 with out filled when the ranks cannot go on. */
static int serve_job(const struct mpi_job *m_in, const char *dir,
                     const struct ranks_life *life, struct outcome *st, struct outcome *out)
{
    char path[PATH_MAX + 16];
    struct mpi_job m = *m_in;
    *st = (struct outcome){ 0 };
    /* Test-only (tests/test_mpi.c): PARLAB_MPI_TEST_WRONG_JOB=K drops task 0's part in
     * the K-th job these ranks serve (the same count on every rank): a wrong answer in
     * one repeat of a launch, which that repeat's verification must catch. */
    static unsigned long served;
    const char *wrong = getenv("PARLAB_MPI_TEST_WRONG_JOB");
    served++;
    if (wrong && *wrong && strtoul(wrong, NULL, 10) == served) {
        m.inject = INJECT_DROP;
        m.inject_task = 0;
    }
    /* The client's board: which task each rank runs, and its pid. */
    size_t blen = mpi_board_len((unsigned)ranks_n);
    snprintf(path, sizeof path, "%s/board", dir);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct task_watch *board = fd < 0 ? MAP_FAILED
        : mmap(NULL, blen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    int err = errno;
    if (fd >= 0)
        close(fd);
    int ok = board != MAP_FAILED, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (!all) {
        if (ok)
            munmap(board, blen);
        outcome_fail(st, PARLAB_EXIT_OS, "rank %d: the run's board %s: %s", ranks_me, path,
                     ok ? "another rank cannot map it" : strerror(err));
        return 0;
    }
    mpi_board_pids(board, (unsigned)ranks_n)[ranks_me] = (int)getpid();

    struct rank_job rj;
    if (life->run(&m, board, &rj, out)) {
        munmap(board, blen);
        return -1;
    }
    if (ranks_me == 0)
        write_result(dir, &rj, st);
    if (!st->code)   /* the client may trust this rank's part from here on */
        atomic_store(&board[ranks_me].task, MPI_TASK_DONE);
    life->end(&rj);
    munmap(board, blen);
    return 0;
}

/* What rank 0 broadcasts for each client. */
struct world_msg {
    int32_t quit;
    struct mpi_job m;
    char dir[PATH_MAX];
};

/* Rank 0: the listening socket, at DIR/sock once it accepts (bound under another name,
 * then renamed, so that a client never finds a socket that refuses it). Returns it, or
 * -1 with out filled. */
static int world_listen(const char *dir, struct outcome *out)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    char tmp[PATH_MAX], path[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/sock.new", dir);
    snprintf(path, sizeof path, "%s/sock", dir);
    if (strlen(tmp) >= sizeof a.sun_path)
        return outcome_fail(out, PARLAB_EXIT_OS, "world: folder name too long for a socket: "
                            "%s", dir);
    strcpy(a.sun_path, tmp);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64) ||
        rename(tmp, path)) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return outcome_fail(out, PARLAB_EXIT_OS, "world: socket %s: %s", path, strerror(err));
    }
    return fd;
}

static void unlisten(int lfd, const char *dir)
{
    if (lfd >= 0) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/sock", dir);
        unlink(path);
        close(lfd);
    }
}

/* Rank 0: the next request, or quit after idle_s seconds without one. A client that sends
 * nothing sensible within 5 s is dropped. Returns the client's socket (or -1 with
 * w->quit set). */
static int world_next(int lfd, int idle_s, struct world_msg *w)
{
    *w = (struct world_msg){ 0 };
    for (;;) {
        struct pollfd p = { .fd = lfd, .events = POLLIN };
        int k = poll(&p, 1, idle_s > 0 ? idle_s * 1000 : -1);
        if (k == 0) {
            w->quit = 1;   /* idle: the world ends by itself */
            return -1;
        }
        if (k < 0)
            continue;
        int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        char line[MPI_LINE_MAX];
        size_t len = 0;
        while (len < sizeof line - 1 && !memchr(line, '\n', len)) {
            struct pollfd q = { .fd = cfd, .events = POLLIN };
            if (poll(&q, 1, 5000) <= 0)
                break;
            ssize_t r = read(cfd, line + len, sizeof line - 1 - len);
            if (r <= 0)
                break;
            len += (size_t)r;
        }
        line[len] = '\0';
        struct outcome why = { 0 };
        int rc = mpi_job_parse(line, &w->m, w->dir, sizeof w->dir, &why);
        if (rc >= 0) {
            w->quit = rc == 1;
            return cfd;
        }
        char no[MPI_REPLY_MAX];
        int len_no = mpi_reply_format(no, why.code, why.msg, 0, 0, 0);
        send(cfd, no, (size_t)len_no, MSG_NOSIGNAL);   /* a client gone is no error here */
        close(cfd);
    }
}

/* Ranks other than 0: wait for rank 0's next message without spinning (a blocking
 * MPI_Bcast polls at full speed: an idle world would take every CPU it has). */
static void world_wait(struct world_msg *w)
{
    MPI_Request req;
    int done = 0;
    MPI_Ibcast(w, sizeof *w, MPI_BYTE, 0, MPI_COMM_WORLD, &req);
    for (;;) {
        MPI_Test(&req, &done, MPI_STATUS_IGNORE);
        if (done)
            return;
        struct timespec ts = { 0, 500 * 1000 };
        nanosleep(&ts, NULL);
    }
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Every rank: serve the jobs clients send to rank 0 on lfd (DIR/sock; rank 0 only), one
 * at a time, until one says quit, or idle_s seconds pass without one (0: never). Returns
 * 0, or -1 with out filled. */
static int serve_clients(int lfd, int idle_s, const struct ranks_life *life,
                         struct outcome *out)
{
    for (;;) {
        struct world_msg w;
        int cfd = -1;
        if (ranks_me == 0) {
            cfd = world_next(lfd, idle_s, &w);
            MPI_Request req;
            MPI_Ibcast(&w, sizeof w, MPI_BYTE, 0, MPI_COMM_WORLD, &req);
            MPI_Wait(&req, MPI_STATUS_IGNORE);
        } else {
            world_wait(&w);
        }
        if (w.quit) {
            if (cfd >= 0) {
                send(cfd, "0\n", 2, MSG_NOSIGNAL);
                close(cfd);
            }
            return 0;
        }
        /* The job's CPU time on every rank, and the ranks' peak memory: the client's
         * getrusage cannot see processes it has not reaped (or did not start). */
        struct rusage u0, u1;
        struct outcome st;
        getrusage(RUSAGE_SELF, &u0);
        if (serve_job(&w.m, w.dir, life, &st, out)) {
            if (cfd >= 0)
                close(cfd);
            return -1;
        }
        getrusage(RUSAGE_SELF, &u1);
        double mine[2] = { tv_s(u1.ru_utime) - tv_s(u0.ru_utime),
                           tv_s(u1.ru_stime) - tv_s(u0.ru_stime) }, sum[2];
        long rss = u1.ru_maxrss, peak = 0;
        MPI_Reduce(mine, sum, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
        MPI_Reduce(&rss, &peak, 1, MPI_LONG, MPI_MAX, 0, MPI_COMM_WORLD);
        if (ranks_me == 0) {
            char reply[MPI_REPLY_MAX];
            int n = mpi_reply_format(reply, st.code, st.msg, sum[0], sum[1], peak);
            send(cfd, reply, (size_t)n, MSG_NOSIGNAL);   /* a client gone is no error here */
            close(cfd);
        }
    }
}

int ranks_cmd_world(int argc, char **argv, const struct ranks_life *life,
                    struct outcome *out)
{
    /* world DIR IDLE_S TOKEN: the token is not read here; it is on this rank's command
     * line, where `parlab world status|stop` find it (with DIR) to prove the world. */
    if (argc != 4 || strspn(argv[3], "0123456789abcdef") != MPI_WORLD_TOKEN_HEX ||
        argv[3][MPI_WORLD_TOKEN_HEX])
        return outcome_fail(out, PARLAB_EXIT_USAGE, "parlab-mpi world is started by parlab "
                            "world start");
    const char *dir = argv[1];
    int idle_s = atoi(argv[2]), lfd = -1;
    signal(SIGPIPE, SIG_IGN);   /* a client that left must not end the world */
    if (mpi_world_note_rank(dir, ranks_me))
        return outcome_fail(out, PARLAB_EXIT_OS, "world: rank %d cannot write its file in "
                            "%s: %s", ranks_me, dir, strerror(errno));
    MPI_Barrier(MPI_COMM_WORLD);   /* every rank's file is there before a client can come */
    if (ranks_me == 0 && (lfd = world_listen(dir, out)) < 0)
        return -1;
    int rc = serve_clients(lfd, idle_s, life, out);
    unlisten(lfd, dir);
    return rc;
}

/*
 * parlab-mpi session, under the launcher (parlab run -r mpi): the ranks of one parlab
 * command. Rank 0 takes the command's jobs from $PARLAB_MPI_DIR/sock, as a world's rank 0
 * does, until the launcher says quit; the launcher is their only client, and they die
 * with mpirun, which dies with it.
 */
int ranks_cmd_session(const struct ranks_life *life, struct outcome *out)
{
    const char *dir = getenv(MPI_ENV_DIR);
    int lfd = -1;
    if (!dir || !*dir)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "parlab-mpi session is started by "
                            "parlab run -r mpi");
    signal(SIGPIPE, SIG_IGN);
    if (ranks_me == 0 && (lfd = world_listen(dir, out)) < 0)
        return -1;
    int rc = serve_clients(lfd, 0, life, out);
    unlisten(lfd, dir);
    return rc;
}
