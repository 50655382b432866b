/* session.c: `parlab run -r mpi` without a world: one mpirun for the command (the
 * session), started at its first run and kept until mpi_keep(0); each run sends its job to
 * rank 0 and reads the partial results rank 0 leaves in a file, so that combining,
 * verifying and printing stay the harness's, as for every other runner. With
 * $PARLAB_MPI_WORLD set, the job goes to that world's ranks instead (world.c). */
#define _GNU_SOURCE
#include "mpirun.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * Open MPI 4.1's MPI_Finalize now and then kills a rank whose work is over: it unloads its
 * PMIx component before joining the progress thread that may still call into it (core
 * dumps: a SIGSEGV in event_base_loop at an address no library holds; about 1 rank in 200
 * under load, more for the shortest jobs). Keeping the component mapped only turned the
 * fault into heap corruption. So a rank marks its board entry MPI_TASK_DONE once its part
 * is delivered (rank 0: after the result file is closed), and a rank killed by a signal
 * after that, with rank 0's mark set too, did not touch the answer: the run reads the
 * result and says what happened in a note. Anything else is the failure mpi__judge() names.
 */
static int died_after_work(const struct mpirun_end *e, struct task_watch *board,
                           unsigned ranks)
{
    return board && !e->stopped_by && e->timed_out < 0 && e->sig && e->rank >= 0 &&
           (unsigned)e->rank < ranks &&
           atomic_load(&board[e->rank].task) == MPI_TASK_DONE &&
           atomic_load(&board[0].task) == MPI_TASK_DONE;
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
 * the session's own takes them (stop_taker): during a run, or while the session
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
 * mpirun's end (mpi__launch_end), or when it never started. Not from the taker. */
static void session_finish(void)
{
    if (S.board)
        munmap(S.board, mpi_board_len(S.ranks));
    S.board = NULL;
    if (*S.dir)
        mpi__dir_remove(S.dir, session_names, 1);
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
        mpi__stop_job(S.L.pid, S.board, S.ranks);
        S.L.term_at = clock_now_ns();
    }
    while (!mpi__launch_step(&S.L, 0, 10, -1))
        ;
    mpi__launch_end(&S.L);
}

/* The session's own thread: takes the stopping signals (see above). */
static void *session_taker(void *arg)
{
    sigset_t stops;
    (void)arg;
    stop_signals(&stops);
    stop_taker(1);
    for (;;) {
        struct timespec tick = { 0, 5 * 1000 * 1000 };
        int sig = sigtimedwait(&stops, NULL, &tick);
        pthread_mutex_lock(&S.mu);
        if (S.closing) {
            pthread_mutex_unlock(&S.mu);
            stop_taker(0);
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
            mpi__dir_remove(S.dir, session_names, 1);
            stop_taker(0);
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
    char exe[PATH_MAX], mpirun[PATH_MAX], sock[PATH_MAX + 16];
    char *args[MPI_ARGS_MAX];
    int n = 0, e, rc = -1;
    sigset_t stops;
    if (mpi__transport_check(out))
        return -1;
    if (mpi_find(exe, sizeof exe, mpirun, sizeof mpirun, out))
        return -1;
    if (mpi__ranks_fit(ranks, out))
        return -1;
    stop_signals(&stops);
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
    if (mpi__make_dir(S.dir, sizeof S.dir, out)) {
        S.dir[0] = '\0';
        goto fail;
    }
    if (!(S.board = mpi__board_create(S.dir, ranks, out)))
        goto fail;
    mpi__mpirun_head(args, &n, mpirun, ranks);
    mpi__arg_add(args, &n, "%s", exe);
    mpi__arg_add(args, &n, "session");
    uint64_t t0 = clock_now_ns();
    e = mpi__launch_start(&S.L, args, S.dir, S.board, ranks, 0, S.log, &S.end);
    mpi__args_free(args, n);
    if (e) {
        outcome_fail(out, PARLAB_EXIT_OS, "cannot start %s: %s", mpirun, strerror(-e));
        goto fail;
    }
    S.up = 1;
    /* Ready once rank 0 listens (every rank is past MPI_Init by then). */
    snprintf(sock, sizeof sock, "%s/sock", S.dir);
    while (access(sock, F_OK) != 0) {
        if (mpi__launch_step(&S.L, atomic_load(&S.stop_sig), 2, -1)) {
            mpi__launch_end(&S.L);
            if (!mpi__judge(&S.end, S.log, S.board, ranks, 0, out))
                outcome_fail(out, PARLAB_EXIT_SOFTWARE, "mpirun ended before its ranks took "
                             "a job");
            goto fail;
        }
    }
    out->start_s = (double)(clock_now_ns() - t0) / 1e9;
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
    mpi__launch_end(&S.L);
    if (!mpi__judge(&S.end, S.log, S.board, S.ranks, S.L.timeout_s, out))
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
    char line[MPI_LINE_MAX], reply[MPI_REPLY_MAX], path[PATH_MAX + 16];
    size_t got = 0;
    session_busy(1);
    for (unsigned r = 0; r < S.ranks; r++)
        atomic_store(&S.board[r].task, -1);
    snprintf(path, sizeof path, "%s/result", S.dir);
    unlink(path);
    int len = mpi_job_line(line, sizeof line, S.dir, job, plan, out);
    if (len < 0)
        return session_fail();
    S.L.timeout_s = plan->task_timeout_s;
    int fd = mpi__connect(S.dir);
    if (fd < 0 || write(fd, line, (size_t)len) != len) {
        int err = fd < 0 ? errno : errno ? errno : EIO;
        if (fd >= 0)
            close(fd);
        /* Rank 0 gone (mpirun is ending: judge that), or this process short of something */
        for (int i = 0; i < 200; i++)
            if (mpi__launch_step(&S.L, atomic_load(&S.stop_sig), 10, -1))
                return session_lost(out);
        outcome_fail(out, PARLAB_EXIT_OS, "mpi: cannot send the job to rank 0: %s",
                     strerror(err));
        return session_fail();
    }
    for (;;) {
        int done = mpi__launch_step(&S.L, atomic_load(&S.stop_sig), 10, fd);
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
    if (mpi_reply_parse(reply, "the mpi ranks could not finish the job", out))
        return session_fail();
    if (mpi__read_result(path, job, plan, slots, out))
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
    int fd = mpi__connect(S.dir);
    if (fd >= 0 && write(fd, "quit\n", 5) != 5) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {   /* no rank 0 to tell: stop them */
        mpi__stop_job(S.L.pid, S.board, S.ranks);
        S.L.term_at = clock_now_ns();
    }
    uint64_t t0 = clock_now_ns();
    while (!mpi__launch_step(&S.L, atomic_load(&S.stop_sig), 10, -1))
        if (!S.L.term_at && clock_now_ns() - t0 > 10000000000ull) {   /* 10 s */
            mpi__stop_job(S.L.pid, S.board, S.ranks);
            S.L.term_at = clock_now_ns();
        }
    if (fd >= 0)
        close(fd);
    mpi__launch_end(&S.L);
    if (died_after_work(&S.end, S.board, S.ranks))
        fprintf(stderr, "parlab: note: rank %d (pid %d) was killed by SIG%s inside "
                "MPI_Finalize, after its part of every job was delivered (an Open MPI "
                "teardown fault); the answers are complete and were verified as usual\n",
                S.end.rank, mpi_board_pids(S.board, S.ranks)[S.end.rank],
                sigabbrev_np(S.end.sig));
    else if (S.end.stopped_by || !WIFEXITED(S.end.status) || WEXITSTATUS(S.end.status))
        rc = mpi__judge(&S.end, S.log, S.board, S.ranks, 0, out);
    session_finish();
    return rc;
}

int mpi_keep(int on, struct outcome *out)
{
    S.keep = on;
    return on ? 0 : session_close(out);
}

int mpi_run_job(struct job *job, const struct plan *plan, struct partial *slots,
                struct outcome *out)
{
    const char *wdir = getenv(MPI_ENV_WORLD);
    if (wdir && *wdir)
        return mpi__world_run(wdir, job, plan, slots, out);
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

int mpi_precheck(unsigned workers, unsigned cores, struct outcome *out)
{
    struct world_id w;
    struct sockaddr_un sa;
    const char *wdir = getenv(MPI_ENV_WORLD), *tmp = getenv("TMPDIR");
    if (mpi__tmpdir_check(out))
        return -1;
    if (wdir && *wdir)
        return mpi__world_for(wdir, workers, cores, &w, out);
    if (tmp && strlen(tmp) + sizeof "/parlab-mpi.XXXXXX/sock.new" > sizeof sa.sun_path)
        return outcome_fail(out, PARLAB_EXIT_USAGE, "TMPDIR=%s is too long for the mpi "
                            "runner's socket (a Unix socket's path holds %zu bytes): use a "
                            "shorter TMPDIR", tmp, sizeof sa.sun_path);
    return mpi__ranks_fit(workers, out);
}
