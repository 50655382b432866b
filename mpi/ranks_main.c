/* ranks_main.c: bin/parlab-mpi, the ranks' program (built with mpicc): its commands, its
 * main, and its use of the harness's one job lifecycle (harness/job.c). Under the launcher the ranks serve a
 * session's or a world's jobs (ranks_serve.c); started by hand (`mpirun -np N parlab-mpi
 * run|batch`), rank 0 runs the same `parlab run` as bin/parlab and the `-r mpi` hook hands
 * each job to the other ranks, which wait for it here; `parlab overhead` starts them to
 * measure (ranks_measure.c). This file is the top of its program, so it alone in mpi/ may
 * include the harness: its jobs go through harness/job.c and its watchdog. */
#define _GNU_SOURCE
#include <mpi.h>

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ranks.h"
#include "../harness/harness.h"
#include "../harness/job.h"
#include "../runners/mpi.h"

static int direct;   /* started by hand (mpirun ... parlab-mpi run), not by the launcher:
                        a crashing rank names its task itself */

/* Prints why this rank cannot go on, once, and ends every rank (the others may wait in a
 * collective for this one). */
static _Noreturn void ranks_abort(const struct outcome *out)
{
    fprintf(stderr, "parlab: %s\n", out->msg);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, out->code ? out->code : PARLAB_EXIT_SOFTWARE);
    _exit(out->code ? out->code : PARLAB_EXIT_SOFTWARE);
}

/* A crashing rank started by hand names its task before it dies by the signal, which
 * mpirun then reports with the rank (under the launcher, the launcher names both). */
static void on_crash(int sig)
{
    char msg[200], who[64];
    long task = runner_task_of_thread();
    if (task >= 0)
        snprintf(who, sizeof who, "task %ld (rank %d, pid %ld)", task, ranks_me, (long)getpid());
    else
        snprintf(who, sizeof who, "rank %d (pid %ld), between tasks,", ranks_me, (long)getpid());
    int n = snprintf(msg, sizeof msg, "parlab: %s killed by SIG%s; mpirun stops the other "
                     "ranks\n", who, sigabbrev_np(sig));
    (void)!write(2, msg, (size_t)n);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void crash_handlers(void)
{
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* ---- a job on the ranks -------------------------------------------------------------
 * Set up, run on every rank, gather to rank 0, answer, tear down, for a job that came
 * over the wire (and, under `parlab-mpi run`, the running part of the harness's own):
 * harness/job.c's lifecycle, with the running done by the ranks themselves. */

/*
 * Every rank calls this with the same job (each set up its own state) and plan. Runs all
 * steps (ranks_steps); on rank 0, slots (and plan->trace) end up holding every task's.
 * board: the launcher's, or NULL; started by hand, a task timeout is watched in each rank
 * by the harness's watchdog, which ends the rank and so the run. *wall_ns (rank 0) is the
 * job's time as MPI programs take it (the ranks' start, MPI_Init and the set-up are not
 * in it; the launcher reports the start apart). Returns 0, or -1 with out filled.
 */
static int world_job(struct job *job, const struct plan *plan_in, struct partial *slots,
                     struct task_watch *board, uint64_t *wall_ns, struct outcome *out)
{
    struct plan plan = *plan_in;
    size_t wlen = 0;
    int watching = 0;
    if (board) {
        plan.watch = board;
    } else if (plan.task_timeout_s > 0) {
        wlen = (size_t)ranks_n * sizeof(struct task_watch);
        if ((plan.watch = job_shared_alloc(wlen))) {
            for (int r = 0; r < ranks_n; r++)
                plan.watch[r].task = -1;
            watching = guard_watch_start(&plan, (unsigned)ranks_n) == 0;
        }
    }
    if (direct)
        crash_handlers();
    int rc = ranks_steps(job, &plan, slots, runner_exec_task, wall_ns, out);
    if (watching)
        guard_watch_stop();
    if (wlen)
        job_shared_free(plan.watch, wlen);
    return rc;
}

/* A rank holds one job at a time: the harness's one job lifecycle (harness/job.c) sets it
 * up, owns its slots and trace rows, answers it and tears it down. */
static struct job_ctx rank_ctx;

/* Releases what rank_job took: the slots, the trace rows and the workload's state. */
static void rank_job_end(struct rank_job *rj)
{
    (void)rj;
    job_close(&rank_ctx);
}

/* Set up the job m describes (job_open: the workload's setup, a slot per task, the trace
 * rows), and run it on every rank (struct ranks_life's run). Returns 0, or -1 with out
 * filled. */
static int rank_job(const struct mpi_job *m, struct task_watch *board, struct rank_job *rj,
                    struct outcome *out)
{
    struct job job;
    struct plan plan;
    mpi_job_to(m, (unsigned)ranks_n, &job, &plan);
    rj->wall_ns = 0;
    if (job_open(&rank_ctx, &job, &plan, JOB_SLOTS | (m->trace ? JOB_TRACE : 0), 0, out)) {
        char why[sizeof out->msg];
        snprintf(why, sizeof why, "%s", out->msg);
        return outcome_fail(out, out->code, "rank %d: %s", ranks_me, why);
    }
    rj->job = rank_ctx.job;
    rj->plan = rank_ctx.plan;
    rj->slots = job_slots(&rank_ctx);
    if (world_job(&rank_ctx.job, &rank_ctx.plan, rj->slots, board, &rj->wall_ns, out)) {
        job_close(&rank_ctx);
        return -1;
    }
    return 0;
}

/* Combine, finish and verify the job rank_job ran (rank 0, which holds every slot).
 * Returns 0 when verification vouched for the answer, or -1 with out filled. */
static int rank_job_answer(struct rank_job *rj, struct outcome *out)
{
    (void)rj;
    struct job_result res;
    if (job_answer(&rank_ctx, &res, out))
        return -1;
    if (res.verified != VERIFIED_YES)
        return outcome_fail(out, PARLAB_EXIT_WRONG, "rank %d: %s", ranks_me,
                            res.why[0] ? res.why : res.detail);
    return 0;
}

static const struct ranks_life life = { .run = rank_job, .answer = rank_job_answer,
                                        .end = rank_job_end };

/* Rank 0 under `parlab-mpi run|batch` (the -r mpi hook): sends the job to the other ranks,
 * which wait in serve_loop(), and runs its own share. Returns 0; a failure ends every
 * rank, since the others are inside the job. */
static int root_world_run(struct job *job, const struct plan *plan, struct partial *slots,
                          struct outcome *out)
{
    struct mpi_job m;
    uint64_t wall;
    mpi_job_from(&m, job, plan);
    MPI_Bcast(&m, sizeof m, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (world_job(job, plan, slots, NULL, &wall, out))
        ranks_abort(out);
    out->job_wall_s = (double)wall / 1e9;
    return 0;
}

/* The other ranks under `parlab-mpi run|batch`: run each job rank 0 sends, until it says
 * there are no more. Returns 0, or -1 with out filled. */
static int serve_loop(struct outcome *out)
{
    for (;;) {
        struct mpi_job m;
        struct rank_job rj;
        MPI_Bcast(&m, sizeof m, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (m.quit)
            return 0;
        if (rank_job(&m, NULL, &rj, out))
            return -1;
        rank_job_end(&rj);
    }
}

static void root_quit(void)
{
    struct mpi_job m = { .quit = 1 };
    MPI_Bcast(&m, sizeof m, MPI_BYTE, 0, MPI_COMM_WORLD);
}

/* ---- started by hand: parlab-mpi run ARGS | batch FILE -------------------------------- */

/*
 * `parlab run` with the ranks mpirun started: -r defaults to mpi, and -j, when given, must
 * be the rank count (the ranks exist already). argv is copied with those added. Rank 0
 * only. Returns 0 and the new argv (free it), or -1 with out filled.
 */
static int run_args(int argc, char **argv, char ***vout, int *out_n, struct outcome *out)
{
    int has_r = 0;
    char **v = calloc((size_t)argc + 5, sizeof *v);
    static char jbuf[16];
    if (!v)
        return outcome_fail(out, PARLAB_EXIT_OS, "out of memory");
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        v[i] = argv[i];
        if (!strcmp(a, "-r") || !strcmp(a, "--runner") || !strncmp(a, "--runner=", 9) ||
            (!strncmp(a, "-r", 2) && a[2]))
            has_r = 1;
        const char *j = NULL;
        if ((!strcmp(a, "-j") || !strcmp(a, "--workers")) && i + 1 < argc)
            j = argv[i + 1];
        else if (!strncmp(a, "--workers=", 10))
            j = a + 10;
        else if (!strncmp(a, "-j", 2) && a[2])
            j = a + 2;
        if (j && strtol(j, NULL, 10) != ranks_n) {
            free(v);
            return outcome_fail(out, PARLAB_EXIT_USAGE, "-j %s: mpirun started %d ranks; "
                                "leave -j out or give mpirun -np %s", j, ranks_n, j);
        }
    }
    int n = argc;
    if (!has_r) {
        v[n++] = "-r";
        v[n++] = "mpi";
    }
    snprintf(jbuf, sizeof jbuf, "%d", ranks_n);
    v[n++] = "-j";
    v[n++] = jbuf;
    v[n] = NULL;
    *vout = v;
    *out_n = n;
    return 0;
}

/* `parlab-mpi run ARGS` on rank 0: parlab run on these ranks. Returns its exit status. */
static int cmd_ranks_run(int argc, char **argv)
{
    char **v = NULL;
    struct outcome out = { 0 };
    int n = 0;
    if (run_args(argc, argv, &v, &n, &out))
        return die(out.code, "%s", out.msg);
    int st = cmd_run(n, v);
    free(v);
    return st;
}

/* `parlab-mpi batch FILE` on rank 0: each line of FILE is the arguments of one `parlab
 * run` (words split at blanks; # starts a comment). Every line runs, on the ranks started
 * once. Returns the first non-zero exit status, or 0. */
static int cmd_ranks_batch(int argc, char **argv)
{
    if (argc != 2)
        return die(PARLAB_EXIT_USAGE, "usage: parlab-mpi batch FILE (one parlab run argument "
                   "list a line)");
    FILE *f = strcmp(argv[1], "-") ? fopen(argv[1], "r") : stdin;
    if (!f)
        return die(PARLAB_EXIT_USAGE, "batch %s: %s", argv[1], strerror(errno));
    char line[4096];
    int st = 0, lineno = 0;
    while (fgets(line, sizeof line, f)) {
        char *words[128];
        int n = 0;
        lineno++;
        words[n++] = "run";
        for (char *w = strtok(line, " \t\r\n"); w && n < 127 && *w != '#'; w = strtok(NULL, " \t\r\n"))
            words[n++] = w;
        if (n == 1)
            continue;
        words[n] = NULL;
        int r = cmd_ranks_run(n, words);
        fflush(stdout);
        if (r && !st) {
            st = r;
            fprintf(stderr, "parlab: batch %s line %d: exit status %d\n", argv[1], lineno, r);
        }
    }
    if (f != stdin)
        fclose(f);
    return st;
}

/* ---- main ----------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: mpirun -np N parlab-mpi run -w WORKLOAD [parlab run options]\n"
        "       mpirun -np N parlab-mpi batch FILE     one parlab run argument list a line\n"
        "       mpirun -np N parlab-mpi start         start, meet at a barrier, stop\n"
        "       parlab world start -j N               ranks kept up for many runs (parlab-mpi world)\n"
        "       parlab-mpi env                        the Open MPI settings parlab uses\n"
        "  The ranks mpirun starts run the job; rank 0 prints what parlab run prints.\n"
        "  -r defaults to mpi (-r seq runs on rank 0 alone); -j, if given, must equal N.\n"
        "  parlab run -r mpi -j N starts mpirun itself (one machine).\n");
}

/*
 * Open MPI 4.1 talks to its launcher (the PMIx server inside mpirun) over a TCP socket on
 * 127.0.0.1 that PMIx opens without TCP_NODELAY. Its collective at MPI_Finalize sends a
 * few small messages in a row, so Nagle's algorithm holds each one until the server's
 * delayed acknowledgement (40 ms on Linux) comes back: every rank spent about 45 ms in
 * MPI_Finalize doing nothing. Setting TCP_NODELAY on this process's loopback TCP sockets
 * once MPI_Init has opened them makes MPI_Finalize take 3 ms. Nothing else uses TCP here
 * (parlab's ranks talk over shared memory: OMPI_MCA_btl=self,vader); a failure leaves the
 * socket as it was, which is only slower.
 */
static void pmix_nodelay(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
        int type = 0, one = 1;
        socklen_t tlen = sizeof type;
        if (*end || fd < 0 || fd == dirfd(d))
            continue;
        if (getsockopt((int)fd, SOL_SOCKET, SO_TYPE, &type, &tlen) || type != SOCK_STREAM ||
            getpeername((int)fd, (struct sockaddr *)&sa, &len))
            continue;
        if (sa.ss_family == AF_INET &&
            ((struct sockaddr_in *)&sa)->sin_addr.s_addr == htonl(INADDR_LOOPBACK))
            setsockopt((int)fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    closedir(d);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return PARLAB_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "env")) {   /* no ranks needed */
        mpi_settings_print(stdout);
        return 0;
    }
    if (strcmp(argv[1], "run") && strcmp(argv[1], "batch") && strcmp(argv[1], "session") &&
        strcmp(argv[1], "overhead") && strcmp(argv[1], "start") && strcmp(argv[1], "world")) {
        fprintf(stderr, "parlab: parlab-mpi: unknown command '%s' (parlab-mpi --help)\n", argv[1]);
        return PARLAB_EXIT_USAGE;
    }
    int world_cmd = !strcmp(argv[1], "world");
    int serve = !strcmp(argv[1], "session") || world_cmd;
    if (serve) {
        /* Under the launcher, a rank dies with mpirun (the launcher stops mpirun with
         * SIGTERM, and mpirun stops us; this covers mpirun being killed outright). */
        pid_t parent = getppid();
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            return PARLAB_EXIT_SOFTWARE;
    }
    MPI_Init(&argc, &argv);
    pmix_nodelay();
    MPI_Comm_rank(MPI_COMM_WORLD, &ranks_me);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks_n);
    direct = !serve;
    struct outcome out = { 0 };
    int st = 0;
    if (world_cmd) {
        st = ranks_cmd_world(argc - 1, argv + 1, &life, &out);
    } else if (serve) {
        st = ranks_cmd_session(&life, &out);
    } else if (!strcmp(argv[1], "start")) {
        MPI_Barrier(MPI_COMM_WORLD);   /* what `parlab overhead` times: start, meet, stop */
    } else if (!strcmp(argv[1], "overhead")) {
        st = ranks_cmd_overhead(argc - 1, argv + 1, &life, &out);
    } else if (ranks_me == 0) {
        runner_mpi_world_run = root_world_run;
        st = !strcmp(argv[1], "run") ? cmd_ranks_run(argc - 1, argv + 1)
                                     : cmd_ranks_batch(argc - 1, argv + 1);
        root_quit();
    } else {
        st = serve_loop(&out);
    }
    if (st < 0) {
        /* A misuse every rank saw alike: said once, by rank 0, and every rank ends. Any
         * other failure ends every rank at once: the others may wait for this one. */
        if (out.code != PARLAB_EXIT_USAGE)
            ranks_abort(&out);
        if (ranks_me == 0)
            fprintf(stderr, "parlab: %s\n", out.msg);
        st = out.code;
    }
    fflush(stdout);
    /* Test-only (tests/test_mpi.c): PARLAB_MPI_TEST_FINALIZE_CRASH=R makes rank R of a
     * launched job die by SIGSEGV where Open MPI's teardown fault strikes, after its part
     * was delivered (see died_after_work in session.c). */
    const char *crash = getenv("PARLAB_MPI_TEST_FINALIZE_CRASH");
    if (serve && crash && *crash && atoi(crash) == ranks_me && st == 0) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    MPI_Finalize();
    return st;
}
