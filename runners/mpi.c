/* mpi.c: the mpi runner's ranks (bin/parlab-mpi, built with mpicc). Every rank ran the
 * workload's setup itself: processes that share no memory. Under `static` each rank
 * computes its own blocks and sends nothing until the end; under `dynamic` and `guided`
 * rank 0 hands out chunks on request (the task farm) and computes between requests. After
 * each step the state the tasks wrote (n-body's positions and velocities) goes to every
 * rank with MPI_Allgatherv; at the end the partials are gathered to rank 0, where the
 * harness combines them in task order as for every other runner. */
#define _GNU_SOURCE
#include <mpi.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "mpi.h"
#include "../experiments/experiment.h"
#include "../harness/harness.h"

enum { TAG_REQ = 1, TAG_CHUNK = 2 };

static int my_rank, world;           /* this rank, and how many there are */
static int direct;                   /* started by hand (mpirun ... parlab-mpi run), not by
                                        the launcher: a crashing rank names its task itself */

/* Tasks this rank ran in the current step. */
struct ran {
    size_t *task;
    size_t n, cap;
};

static void ran_push(struct ran *r, size_t t)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        size_t *p = realloc(r->task, cap * sizeof *p);
        if (!p)
            MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
        r->task = p;
        r->cap = cap;
    }
    r->task[r->n++] = t;
}

static void run_range(struct job *job, const struct plan *plan, unsigned step, size_t lo,
                      size_t hi, struct partial *slots, struct ran *ran)
{
    for (size_t t = lo; t < hi; t++) {
        runner_exec_task(job, plan, step, t, (unsigned)my_rank, slots);
        ran_push(ran, t);
    }
}

/* ---- the task farm ----------------------------------------------------------------- */

/* Rank 0's claim counter, with OpenMP's rules (as lib/pool.c): dynamic takes `chunk`,
 * guided takes the work left over the ranks but at least `chunk`. */
struct claim {
    size_t next, n, chunk;
    unsigned ranks;
    enum sched_kind sched;
};

static int claim(struct claim *c, size_t *lo, size_t *hi)
{
    if (c->next >= c->n)
        return 0;
    size_t rem = c->n - c->next, q = c->chunk;
    if (c->sched == SCHED_GUIDED && (rem + c->ranks - 1) / c->ranks > q)
        q = (rem + c->ranks - 1) / c->ranks;
    if (q > rem)
        q = rem;
    *lo = c->next;
    *hi = c->next + q;
    c->next += q;
    return 1;
}

/* Answer requests: those waiting (block = 0), or the next one to come (block = 1). A
 * request is answered with a chunk, or with an empty one when none is left, after which
 * that rank asks no more this step. */
static void farm_serve(struct claim *c, int *active, int block)
{
    while (*active > 0) {
        MPI_Status st;
        int flag = 1;
        if (!block)
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_REQ, MPI_COMM_WORLD, &flag, &st);
        if (!flag)
            return;
        MPI_Recv(NULL, 0, MPI_BYTE, block ? MPI_ANY_SOURCE : st.MPI_SOURCE, TAG_REQ,
                 MPI_COMM_WORLD, &st);
        uint64_t reply[2] = { 0, 0 };
        size_t lo, hi;
        if (claim(c, &lo, &hi)) {
            reply[0] = lo;
            reply[1] = hi;
        } else {
            (*active)--;
        }
        MPI_Send(reply, 2, MPI_UINT64_T, st.MPI_SOURCE, TAG_CHUNK, MPI_COMM_WORLD);
        if (block)
            return;
    }
}

/*
 * One step under the farm. Rank 0 computes too, one task at a time, answering requests
 * between its tasks: with P ranks on P cores, a farmer that only farmed would leave a
 * core spinning in MPI_Recv (Open MPI polls). A request then waits at most one of rank
 * 0's tasks, and each worker asks for its next chunk before computing the current one,
 * so that wait is hidden behind its own work.
 */
static void farm_step(struct job *job, const struct plan *plan, unsigned step,
                      struct partial *slots, struct ran *ran)
{
    if (my_rank == 0) {
        struct claim c = { 0, job->tasks, plan->chunk ? plan->chunk : 1, (unsigned)world,
                           plan->schedule };
        int active = world - 1;
        size_t lo, hi;
        for (;;) {
            farm_serve(&c, &active, 0);
            if (!claim(&c, &lo, &hi))
                break;
            for (size_t t = lo; t < hi; t++) {
                run_range(job, plan, step, t, t + 1, slots, ran);
                farm_serve(&c, &active, 0);
            }
        }
        while (active > 0)
            farm_serve(&c, &active, 1);
        return;
    }
    uint64_t cur[2], next[2];
    MPI_Request rq;
    MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_REQ, MPI_COMM_WORLD);
    MPI_Recv(cur, 2, MPI_UINT64_T, 0, TAG_CHUNK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    while (cur[0] < cur[1]) {
        MPI_Irecv(next, 2, MPI_UINT64_T, 0, TAG_CHUNK, MPI_COMM_WORLD, &rq);
        MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_REQ, MPI_COMM_WORLD);
        run_range(job, plan, step, cur[0], cur[1], slots, ran);
        MPI_Wait(&rq, MPI_STATUS_IGNORE);
        cur[0] = next[0];
        cur[1] = next[1];
    }
}

/* One step under static: this rank's block, or its round-robin chunks. No messages. */
static void static_step(struct job *job, const struct plan *plan, unsigned step,
                        struct partial *slots, struct ran *ran)
{
    size_t n = job->tasks, c = plan->chunk;
    if (c == 0) {
        size_t lo, hi;
        sched_static_block(n, (unsigned)world, (unsigned)my_rank, &lo, &hi);
        run_range(job, plan, step, lo, hi, slots, ran);
        return;
    }
    for (size_t lo = (size_t)my_rank * c; lo < n; lo += (size_t)world * c)
        run_range(job, plan, step, lo, lo + c < n ? lo + c : n, slots, ran);
}

/* ---- moving data between ranks ------------------------------------------------------ */

/* Bytes from every rank: to every rank (root < 0) or to root only. On return (where
 * received) all holds rank r's len bytes at off[r], off[world] being the total; free both. */
struct parts {
    char *all;
    long *off;
};

static void gather_bytes(const void *mine, int len, int root, struct parts *p)
{
    int *counts = calloc((size_t)world, sizeof *counts);
    int *displs = calloc((size_t)world, sizeof *displs);
    p->all = NULL;
    p->off = calloc((size_t)world + 1, sizeof *p->off);
    if (!counts || !displs || !p->off)
        MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
    if (root < 0)
        MPI_Allgather(&len, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
    else
        MPI_Gather(&len, 1, MPI_INT, counts, 1, MPI_INT, root, MPI_COMM_WORLD);
    if (root < 0 || my_rank == root) {
        for (int r = 0; r < world; r++)
            p->off[r + 1] = p->off[r] + counts[r];
        if (p->off[world] > INT_MAX)
            MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
        for (int r = 0; r < world; r++)
            displs[r] = (int)p->off[r];
        if (!(p->all = malloc(p->off[world] ? (size_t)p->off[world] : 1)))
            MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
    }
    if (root < 0)
        MPI_Allgatherv(mine, len, MPI_BYTE, p->all, counts, displs, MPI_BYTE, MPI_COMM_WORLD);
    else
        MPI_Gatherv(mine, len, MPI_BYTE, p->all, counts, displs, MPI_BYTE, root,
                    MPI_COMM_WORLD);
    free(counts);
    free(displs);
}

/* What pack() puts after each task index: the bytes fill() writes (buf NULL: their count). */
typedef size_t (*fill_fn)(struct job *job, unsigned step, size_t task, void *ctx, char *buf);

static char *pack(struct job *job, unsigned step, const struct ran *ran, fill_fn fill,
                  void *ctx, int *len_out)
{
    size_t len = 0;
    for (size_t i = 0; i < ran->n; i++)
        len += sizeof(uint64_t) + fill(job, step, ran->task[i], ctx, NULL);
    char *buf = malloc(len ? len : 1);
    if (!buf || len > INT_MAX)
        MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
    size_t at = 0;
    for (size_t i = 0; i < ran->n; i++) {
        uint64_t t = ran->task[i];
        memcpy(buf + at, &t, sizeof t);
        at += sizeof t;
        at += fill(job, step, ran->task[i], ctx, buf + at);
    }
    *len_out = (int)len;
    return buf;
}

static size_t fill_state(struct job *job, unsigned step, size_t task, void *ctx, char *buf)
{
    (void)ctx;
    return buf ? mpi_task_state_copy(job, step, task, buf, 1) : mpi_task_state_len(job, step, task);
}

static size_t fill_slot(struct job *job, unsigned step, size_t task, void *ctx, char *buf)
{
    (void)job, (void)step;
    if (buf)
        memcpy(buf, &((struct partial *)ctx)[task], sizeof(struct partial));
    return sizeof(struct partial);
}

/* After a step: the state each rank's tasks wrote goes to every rank, so that the next
 * step (and rank 0's finish) reads all of it. Without state, a barrier ends the step. */
static void exchange_state(struct job *job, unsigned step, const struct ran *ran)
{
    if (world == 1)
        return;
    if (!job->wl->task_writes) {
        MPI_Barrier(MPI_COMM_WORLD);
        return;
    }
    int len;
    struct parts p;
    char *mine = pack(job, step, ran, fill_state, NULL, &len);
    gather_bytes(mine, len, -1, &p);
    for (int r = 0; r < world; r++) {
        if (r == my_rank)
            continue;
        for (long at = p.off[r]; at < p.off[r + 1];) {
            uint64_t t;
            memcpy(&t, p.all + at, sizeof t);
            at += (long)sizeof t;
            at += (long)mpi_task_state_copy(job, step, (size_t)t, p.all + at, 0);
        }
    }
    free(mine);
    free(p.all);
    free(p.off);
}

/* At the end: the last step's partials, and the trace rows, go to rank 0. */
static void gather_results(struct job *job, const struct plan *plan, const struct ran *last,
                           struct partial *slots)
{
    int len;
    struct parts p;
    char *mine = pack(job, job->steps - 1, last, fill_slot, slots, &len);
    gather_bytes(mine, len, 0, &p);
    for (int r = 1; my_rank == 0 && r < world; r++)
        for (long at = p.off[r]; at < p.off[r + 1]; at += (long)sizeof(struct partial)) {
            uint64_t t;
            memcpy(&t, p.all + at, sizeof t);
            at += (long)sizeof t;
            memcpy(&slots[t], p.all + at, sizeof(struct partial));
        }
    free(mine);
    free(p.all);
    free(p.off);
    if (!plan->trace)
        return;
    /* Trace rows this rank wrote are the non-empty ones of its own buffer. */
    size_t rows = job->tasks * job->steps, n = 0;
    for (size_t i = 0; i < rows; i++)
        n += plan->trace[i].end_ns != 0;
    size_t item = sizeof(uint64_t) + sizeof(struct trace_rec);
    char *buf = malloc(n * item + 1);
    if (!buf || n * item > INT_MAX)
        MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
    for (size_t i = 0, k = 0; i < rows; i++)
        if (plan->trace[i].end_ns) {
            uint64_t idx = i;
            memcpy(buf + k * item, &idx, sizeof idx);
            memcpy(buf + k * item + sizeof idx, &plan->trace[i], sizeof(struct trace_rec));
            k++;
        }
    gather_bytes(buf, (int)(n * item), 0, &p);
    for (int r = 1; my_rank == 0 && r < world; r++)
        for (long at = p.off[r]; at < p.off[r + 1]; at += (long)item) {
            uint64_t idx;
            memcpy(&idx, p.all + at, sizeof idx);
            if (idx < rows)
                memcpy(&plan->trace[idx], p.all + at + sizeof idx, sizeof(struct trace_rec));
        }
    free(buf);
    free(p.all);
    free(p.off);
}

/* ---- one job on every rank ----------------------------------------------------------- */

/* A crashing rank started by hand names its task before it dies by the signal, which
 * mpirun then reports with the rank (under the launcher, the launcher names both). */
static void on_crash(int sig)
{
    char msg[200], who[64];
    long task = runner_task_of_thread();
    if (task >= 0)
        snprintf(who, sizeof who, "task %ld (rank %d, pid %ld)", task, my_rank, (long)getpid());
    else
        snprintf(who, sizeof who, "rank %d (pid %ld), between tasks,", my_rank, (long)getpid());
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

/*
 * Every rank calls this with the same job (each set up its own state) and plan. Runs all
 * steps; on rank 0, slots (and plan->trace) end up holding every task's. board: the
 * launcher's, or NULL; started by hand, a task timeout is watched in each rank by the
 * harness's watchdog, which ends the rank and so the run. Returns, on rank 0, the job's
 * time as MPI programs take it: from a barrier that every rank, set up, has reached, to
 * the moment rank 0 holds every result (the ranks' start, MPI_Init and the set-up are
 * not in it; the launcher reports the start apart).
 */
static uint64_t world_job(struct job *job, const struct plan *plan_in, struct partial *slots,
                          struct task_watch *board)
{
    struct plan plan = *plan_in;
    struct ran ran = { 0 };
    size_t wlen = 0;
    int watching = 0;
    if (board) {
        plan.watch = board;
    } else if (plan.task_timeout_s > 0) {
        wlen = (size_t)world * sizeof(struct task_watch);
        if ((plan.watch = job_shared_alloc(wlen))) {
            for (int r = 0; r < world; r++)
                plan.watch[r].task = -1;
            watching = guard_watch_start(&plan, (unsigned)world) == 0;
        }
    }
    if (direct)
        crash_handlers();
    MPI_Barrier(MPI_COMM_WORLD);
    uint64_t t0 = runner_now_ns();
    for (unsigned s = 0; s < job->steps; s++) {
        ran.n = 0;
        if (plan.schedule == SCHED_STATIC)
            static_step(job, &plan, s, slots, &ran);
        else
            farm_step(job, &plan, s, slots, &ran);
        exchange_state(job, s, &ran);
    }
    gather_results(job, &plan, &ran, slots);
    uint64_t wall = runner_now_ns() - t0;
    if (watching)
        guard_watch_stop();
    if (wlen)
        job_shared_free(plan.watch, wlen);
    free(ran.task);
    return wall;
}

/* ---- a job's description, from the launcher's arguments or rank 0's broadcast -------- */

struct job_msg {
    int32_t quit, wl;
    uint32_t steps, io_ms, sched, inject, trace, cores, workers, pad;
    uint64_t size, tasks, seed, chunk, inject_task, grain_ns, grain_iters;
    double task_timeout_s;
};

static int wl_index(const struct workload *wl)
{
    for (int i = 0; wl_registry[i]; i++)
        if (wl_registry[i] == wl)
            return i;
    return -1;
}

static void msg_to_job(const struct job_msg *m, struct job *job, struct plan *plan)
{
    *job = (struct job){ .wl = wl_registry[m->wl], .size = m->size, .tasks = m->tasks,
                         .steps = m->steps, .seed = m->seed, .io_ms = m->io_ms,
                         .grain_ns = m->grain_ns, .grain_iters = m->grain_iters };
    *plan = (struct plan){ .workers = (unsigned)world, .cores = m->cores,
                           .schedule = (enum sched_kind)m->sched, .chunk = m->chunk,
                           .loops = 1, .task_timeout_s = m->task_timeout_s,
                           .inject = (enum inject_kind)m->inject, .inject_task = m->inject_task };
}

/* Set up the job from m, allocate this rank's slots (and trace rows), and run it on every
 * rank. The slots come back in *slots_out; rank_job_free() releases them, the trace and
 * the workload's state. Any rank. Returns world_job()'s time. */
static uint64_t rank_job(const struct job_msg *m, struct task_watch *board, struct job *job,
                         struct plan *plan, struct partial **slots_out)
{
    msg_to_job(m, job, plan);
    if (job->wl->setup && job->wl->setup(job)) {
        fprintf(stderr, "parlab: rank %d: %s setup for N=%llu: %s\n", my_rank, job->wl->name,
                (unsigned long long)job->size, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
    }
    struct partial *slots = job_shared_alloc(job->tasks * sizeof *slots);
    if (m->trace)
        plan->trace = job_shared_alloc(job->tasks * job->steps * sizeof *plan->trace);
    if (!slots || (m->trace && !plan->trace)) {
        fprintf(stderr, "parlab: rank %d: mmap of %zu result slots: %s\n", my_rank,
                job->tasks, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
    }
    uint64_t wall = world_job(job, plan, slots, board);
    *slots_out = slots;
    return wall;
}

static void rank_job_free(struct job *job, struct plan *plan, struct partial *slots)
{
    job_shared_free(slots, job->tasks * sizeof *slots);
    if (plan->trace)
        job_shared_free(plan->trace, job->tasks * job->steps * sizeof *plan->trace);
    if (job->wl->teardown)
        job->wl->teardown(job);
}

/* Rank 0 under `parlab-mpi run|batch`: -r mpi sends the job to the other ranks, which wait
 * in serve_loop(), and runs its own share. */
static int root_world_run(struct job *job, const struct plan *plan, struct partial *slots,
                          struct outcome *out)
{
    struct job_msg m = { .wl = wl_index(job->wl), .steps = job->steps, .io_ms = job->io_ms,
                         .sched = plan->schedule, .inject = plan->inject,
                         .trace = plan->trace != NULL, .cores = plan->cores,
                         .size = job->size, .tasks = job->tasks, .seed = job->seed,
                         .grain_ns = job->grain_ns, .grain_iters = job->grain_iters,
                         .chunk = plan->chunk, .inject_task = plan->inject_task,
                         .task_timeout_s = plan->task_timeout_s };
    MPI_Bcast(&m, sizeof m, MPI_BYTE, 0, MPI_COMM_WORLD);
    out->job_wall_s = (double)world_job(job, plan, slots, NULL) / 1e9;
    return 0;
}

/* The other ranks under `parlab-mpi run|batch`: run each job rank 0 sends, until it says
 * there are no more. */
static void serve_loop(void)
{
    for (;;) {
        struct job_msg m;
        struct job job;
        struct plan plan;
        struct partial *slots;
        MPI_Bcast(&m, sizeof m, MPI_BYTE, 0, MPI_COMM_WORLD);
        if (m.quit)
            return;
        rank_job(&m, NULL, &job, &plan, &slots);
        rank_job_free(&job, &plan, slots);
    }
}

static void root_quit(void)
{
    struct job_msg m = { .quit = 1 };
    MPI_Bcast(&m, sizeof m, MPI_BYTE, 0, MPI_COMM_WORLD);
}

/* ---- jobs from a client: the launcher's (parlab-mpi session) or a world's ------------
 * A job is 14 words: W N T S SEED IO_MS SCHED CHUNK INJECT TASK TRACE CORES GRAIN_NS
 * GRAIN_ITERS (serve_words in mpirun.c). */

/* The job the 14 words describe (argv[0] is not read). 0, or -1 with the reason on
 * stderr. */
static int serve_parse(int argc, char **argv, struct job_msg *m)
{
    enum sched_kind sched;
    *m = (struct job_msg){ 0 };
    if (argc != 15 || sched_parse(argv[7], &sched)) {
        fprintf(stderr, "parlab: a job's words are sent by parlab run -r mpi\n");
        return -1;
    }
    const struct workload *wl = wl_find(argv[1]);
    if (!wl) {
        fprintf(stderr, "parlab: mpi job: unknown workload %s\n", argv[1]);
        return -1;
    }
    m->wl = wl_index(wl);
    m->size = strtoull(argv[2], NULL, 10);
    m->tasks = strtoull(argv[3], NULL, 10);
    m->steps = (uint32_t)strtoul(argv[4], NULL, 10);
    m->seed = strtoull(argv[5], NULL, 10);
    m->io_ms = (uint32_t)strtoul(argv[6], NULL, 10);
    m->sched = sched;
    m->chunk = strtoull(argv[8], NULL, 10);
    m->inject = (uint32_t)strtoul(argv[9], NULL, 10);
    m->inject_task = strtoull(argv[10], NULL, 10);
    m->trace = (uint32_t)strtoul(argv[11], NULL, 10);
    m->cores = (uint32_t)strtoul(argv[12], NULL, 10);
    m->grain_ns = strtoull(argv[13], NULL, 10);
    m->grain_iters = strtoull(argv[14], NULL, 10);
    if (!m->tasks || !m->steps) {
        fprintf(stderr, "parlab: mpi job: no tasks or steps\n");
        return -1;
    }
    return 0;
}

/* Every rank: run job m for the client (the launcher, or a world's run) whose folder is
 * dir: its board says which task each rank runs, and rank 0 leaves the result file there,
 * with the job's time (world_job). The status on rank 0 (0, or an exit status); 0
 * elsewhere. A folder that is gone (its run was interrupted while it waited its turn in a
 * world) skips the job on every rank instead of ending the ranks. */
static int serve_job(const struct job_msg *m_in, const char *dir)
{
    char path[PATH_MAX + 16];
    struct job_msg m_copy = *m_in;
    const struct job_msg *m = &m_copy;
    /* Test-only (tests/test_mpi.c): PARLAB_MPI_TEST_WRONG_JOB=K drops task 0's part in
     * the K-th job these ranks serve (the same count on every rank): a wrong answer in
     * one repeat of a launch, which that repeat's verification must catch. */
    static unsigned long served;
    const char *wrong = getenv("PARLAB_MPI_TEST_WRONG_JOB");
    served++;
    if (wrong && *wrong && strtoul(wrong, NULL, 10) == served) {
        m_copy.inject = INJECT_DROP;
        m_copy.inject_task = 0;
    }
    /* The launcher's board: which task each rank runs, and its pid. */
    size_t blen = mpi_board_len((unsigned)world);
    snprintf(path, sizeof path, "%s/board", dir);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    struct task_watch *board = fd < 0 ? MAP_FAILED
        : mmap(NULL, blen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (fd >= 0)
        close(fd);
    int ok = board != MAP_FAILED, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, MPI_COMM_WORLD);
    if (!all) {
        if (ok)
            munmap(board, blen);
        return PARLAB_EXIT_OS;
    }
    mpi_board_pids(board, (unsigned)world)[my_rank] = (int)getpid();

    struct job job;
    struct plan plan;
    struct partial *slots;
    uint64_t wall = rank_job(m, board, &job, &plan, &slots);
    int st = 0;
    if (my_rank == 0) {
        snprintf(path, sizeof path, "%s/result", dir);
        FILE *f = fopen(path, "wb");
        size_t rows = plan.trace ? job.tasks * job.steps : 0, bytes = 0;
        for (size_t t = 0; t < job.tasks; t++)
            bytes += mpi_task_state_len(&job, job.steps - 1, t);
        struct mpi_result_hdr h = { MPI_RESULT_MAGIC, job.tasks, job.steps, rows, bytes, wall };
        char *state = malloc(bytes + 1);
        for (size_t t = 0, at = 0; state && t < job.tasks; t++)
            at += mpi_task_state_copy(&job, job.steps - 1, t, state + at, 1);
        if (!f || !state || fwrite(&h, sizeof h, 1, f) != 1 ||
            fwrite(slots, sizeof *slots, job.tasks, f) != job.tasks ||
            (rows && fwrite(plan.trace, sizeof *plan.trace, rows, f) != rows) ||
            fwrite(state, 1, bytes, f) != bytes) {
            fprintf(stderr, "parlab: rank 0: result file %s: %s\n", path, strerror(errno));
            st = PARLAB_EXIT_OS;
        }
        if (f && fclose(f) && !st) {
            fprintf(stderr, "parlab: rank 0: result file %s: %s\n", path, strerror(errno));
            st = PARLAB_EXIT_OS;
        }
        free(state);
    }
    if (!st)   /* the launcher may trust this rank's part from here on */
        atomic_store(&board[my_rank].task, MPI_TASK_DONE);
    rank_job_free(&job, &plan, slots);
    munmap(board, blen);
    return st;
}

/* ---- a world: `parlab world start -j N` keeps N ranks up (parlab-mpi world DIR IDLE_S),
 * and each `parlab run -r mpi` with PARLAB_MPI_WORLD=DIR hands its job to them instead of
 * starting mpirun: the ranks' start-up (mpirun, MPI_Init, MPI_Finalize: 0.1 s here) is
 * paid once, as with a cluster's resident launcher. Rank 0 takes one client at a time from
 * DIR/sock: a line of the serve words with the client's folder first, or "quit". -------- */

struct world_msg {
    int32_t quit;
    struct job_msg m;
    char dir[PATH_MAX];
};

/* Rank 0: the listening socket, at DIR/sock once it accepts (bound under another name,
 * then renamed, so that a client never finds a socket that refuses it). -1 on failure. */
static int world_listen(const char *dir)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    char tmp[PATH_MAX], path[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s/sock.new", dir);
    snprintf(path, sizeof path, "%s/sock", dir);
    if (strlen(tmp) >= sizeof a.sun_path) {
        fprintf(stderr, "parlab: world: folder name too long for a socket: %s\n", dir);
        return -1;
    }
    strcpy(a.sun_path, tmp);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64) ||
        rename(tmp, path)) {
        fprintf(stderr, "parlab: world: socket %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
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
        char line[PATH_MAX + 1024];
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
        if (!strcmp(line, "quit\n")) {
            w->quit = 1;
            return cfd;
        }
        char *words[20];
        int n = 0;
        for (char *t = strtok(line, " \n"); t && n < 19; t = strtok(NULL, " \n"))
            words[n++] = t;
        /* words: DIR, then the 14 serve words (serve_parse wants a command name first) */
        if (n == 15 && strlen(words[0]) < sizeof w->dir) {
            snprintf(w->dir, sizeof w->dir, "%s", words[0]);
            if (serve_parse(15, words, &w->m) == 0)
                return cfd;
        }
        char no[16];
        int len_no = snprintf(no, sizeof no, "%d\n", PARLAB_EXIT_USAGE);
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

/* Every rank: serve the jobs clients send to rank 0 on lfd (DIR/sock; rank 0 only), one
 * at a time, until one says quit, or idle_s seconds pass without one (0: never). */
static void serve_clients(int lfd, int idle_s)
{
    for (;;) {
        struct world_msg w;
        int cfd = -1;
        if (my_rank == 0) {
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
            break;
        }
        /* The job's CPU time on every rank, and the ranks' peak memory: the client's
         * getrusage cannot see processes it has not reaped (or did not start). */
        struct rusage u0, u1;
        getrusage(RUSAGE_SELF, &u0);
        int st = serve_job(&w.m, w.dir);
        getrusage(RUSAGE_SELF, &u1);
        double mine[2] = { tv_seconds(u1.ru_utime) - tv_seconds(u0.ru_utime),
                           tv_seconds(u1.ru_stime) - tv_seconds(u0.ru_stime) }, sum[2];
        long rss = u1.ru_maxrss, peak = 0;
        MPI_Reduce(mine, sum, 2, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
        MPI_Reduce(&rss, &peak, 1, MPI_LONG, MPI_MAX, 0, MPI_COMM_WORLD);
        if (my_rank == 0) {
            char reply[96];
            int n = snprintf(reply, sizeof reply, "%d %.6f %.6f %ld\n", st, sum[0], sum[1], peak);
            send(cfd, reply, (size_t)n, MSG_NOSIGNAL);   /* a client gone is no error here */
            close(cfd);
        }
    }
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

static int ranks_world(int argc, char **argv)
{
    /* world DIR IDLE_S TOKEN: the token is not read here; it is on this rank's command
     * line, where `parlab world status|stop` find it (with DIR) to prove the world. */
    if (argc != 4 || strspn(argv[3], "0123456789abcdef") != 32 || argv[3][32]) {
        fprintf(stderr, "parlab: parlab-mpi world is started by parlab world start\n");
        return PARLAB_EXIT_USAGE;
    }
    const char *dir = argv[1];
    int idle_s = atoi(argv[2]), lfd = -1;
    signal(SIGPIPE, SIG_IGN);   /* a client that left must not end the world */
    if (mpi_world_note_rank(dir, my_rank)) {
        fprintf(stderr, "parlab: world: rank %d cannot write its file in %s: %s\n", my_rank,
                dir, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
    }
    MPI_Barrier(MPI_COMM_WORLD);   /* every rank's file is there before a client can come */
    if (my_rank == 0 && (lfd = world_listen(dir)) < 0)
        MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
    serve_clients(lfd, idle_s);
    unlisten(lfd, dir);
    return 0;
}

/*
 * parlab-mpi session, under the launcher (parlab run -r mpi): the ranks of one parlab
 * command, started once for its warm-up and every repeat. Rank 0 takes the command's jobs
 * from $PARLAB_MPI_DIR/sock, as a world's rank 0 does, until the launcher says quit; the
 * launcher is their only client, and they die with mpirun, which dies with it.
 */
static int ranks_session(void)
{
    const char *dir = getenv(MPI_ENV_DIR);
    int lfd = -1;
    if (!dir || !*dir) {
        fprintf(stderr, "parlab: parlab-mpi session is started by parlab run -r mpi\n");
        return PARLAB_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    if (my_rank == 0 && (lfd = world_listen(dir)) < 0)
        MPI_Abort(MPI_COMM_WORLD, PARLAB_EXIT_OS);
    serve_clients(lfd, 0);
    unlisten(lfd, dir);
    return 0;
}

/* ---- started by hand: parlab-mpi run ARGS | batch FILE -------------------------------- */

/*
 * `parlab run` with the ranks mpirun started: -r defaults to mpi, and -j, when given, must
 * be the rank count (the ranks exist already). argv is copied with those added. Rank 0
 * only. Returns -1 and the new argv, or an exit status.
 */
static int run_args(int argc, char **argv, char ***out, int *out_n)
{
    int has_r = 0;
    char **v = calloc((size_t)argc + 5, sizeof *v);
    static char jbuf[16];
    if (!v)
        return die(PARLAB_EXIT_OS, "out of memory");
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
        if (j && strtol(j, NULL, 10) != world) {
            free(v);
            return die(PARLAB_EXIT_USAGE, "-j %s: mpirun started %d ranks; leave -j out or "
                       "give mpirun -np %s", j, world, j);
        }
    }
    int n = argc;
    if (!has_r) {
        v[n++] = "-r";
        v[n++] = "mpi";
    }
    snprintf(jbuf, sizeof jbuf, "%d", world);
    v[n++] = "-j";
    v[n++] = jbuf;
    v[n] = NULL;
    *out = v;
    *out_n = n;
    return -1;
}

static int root_run(int argc, char **argv)
{
    char **v;
    int n, st = run_args(argc, argv, &v, &n);
    if (st >= 0)
        return st;
    st = cmd_run(n, v);
    free(v);
    return st;
}

/* Each line of FILE is the arguments of one `parlab run` (words split at blanks; # starts
 * a comment). Every line runs, on the ranks started once; the status is the first
 * non-zero one. */
static int root_batch(int argc, char **argv)
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
        int r = root_run(n, words);
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

/* ---- measurements for `parlab overhead` ------------------------------------------------ */

/* One-way latency of an 8-byte message between ranks 0 and 1: R samples, each the mean
 * over k round trips / 2. Rank 0 gets them in v. */
static void pingpong(double *v, int R, int k)
{
    uint64_t word = 0;
    for (int i = 0; i < R; i++) {
        MPI_Barrier(MPI_COMM_WORLD);
        uint64_t t0 = runner_now_ns();
        for (int j = 0; j < k; j++) {
            if (my_rank == 0) {
                MPI_Send(&word, 1, MPI_UINT64_T, 1, 7, MPI_COMM_WORLD);
                MPI_Recv(&word, 1, MPI_UINT64_T, 1, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            } else if (my_rank == 1) {
                MPI_Recv(&word, 1, MPI_UINT64_T, 0, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                word++;
                MPI_Send(&word, 1, MPI_UINT64_T, 0, 7, MPI_COMM_WORLD);
            }
        }
        v[i] = (double)(runner_now_ns() - t0) / (2.0 * k);
    }
    if (my_rank == 0 && word != (uint64_t)R * (uint64_t)k)
        fprintf(stderr, "parlab: ping-pong: %llu replies, expected %llu\n",
                (unsigned long long)word, (unsigned long long)R * (unsigned long long)k);
}

/* Per-task cost of the farm: noop tasks, `sched` with chunk 1, on every rank; R samples of
 * the wall time / tasks on rank 0. Returns the tasks that did not run once each (0). */
static long farm_cost(double *v, int R, size_t tasks, enum sched_kind sched)
{
    const struct workload *noop = wl_find("noop");
    long wrong = 0;
    for (int i = 0; i < R; i++) {
        struct job_msg m = { .wl = wl_index(noop), .steps = 1, .sched = sched, .size = tasks,
                             .tasks = tasks, .chunk = 1, .seed = 1 };
        struct job job;
        struct plan plan;
        struct partial *slots;
        MPI_Barrier(MPI_COMM_WORLD);
        uint64_t t0 = runner_now_ns();
        rank_job(&m, NULL, &job, &plan, &slots);
        v[i] = (double)(runner_now_ns() - t0) / (double)tasks;
        if (my_rank == 0) {
            struct partial total = { 0 };
            for (size_t t = 0; t < tasks; t++)
                noop->combine(&total, &slots[t]);
            wrong += total.count != tasks;
        }
        rank_job_free(&job, &plan, slots);
    }
    return wrong;
}

/* parlab-mpi overhead [--repeat R] [--quick] [--format text|csv]: rows for `parlab
 * overhead`, printed by rank 0 in its table format (no header: parlab prints that). */
static int cmd_overhead_mpi(int argc, char **argv)
{
    int R = 5, quick = 0;
    enum out_format fmt = OUT_TEXT;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            R = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick"))
            quick = 1;
        else if (!strcmp(argv[i], "--format") && i + 1 < argc)
            fmt = !strcmp(argv[++i], "csv") ? OUT_CSV : OUT_TEXT;
        else
            return die(PARLAB_EXIT_USAGE, "parlab-mpi overhead: unknown argument '%s'", argv[i]);
    }
    if (R < 1 || R > (int)BENCH_MAX_REPEAT)
        return die(PARLAB_EXIT_USAGE, "parlab-mpi overhead: --repeat %d: 1 to %u", R,
                   BENCH_MAX_REPEAT);
    if (world < 2)
        return die(PARLAB_EXIT_USAGE, "parlab-mpi overhead needs 2 ranks or more (mpirun -np 2)");
    double *v = calloc((size_t)R, sizeof *v);
    struct machine m;
    machine_read(&m);
    struct exp_table tab = { .f = stdout, .fmt = fmt, .command = "overhead",
                             .experiment = "overhead", .host = m.host,
                               .started = 1 };
    size_t tasks = quick ? 20000 : 200000;
    int k = quick ? 2000 : 20000;
    char note[160];
    long wrong = 0;
    /* Over TCP (PARLAB_MPI_TRANSPORT=tcp) the rows say so, beside the shared-memory ones;
     * the static row, which sends no messages, is the shared-memory run's only. */
    int tcp = mpi_transport() == 1;
    const char *over = tcp ? " over TCP" : "";
    if (!v)
        return die(PARLAB_EXIT_OS, "out of memory");

    pingpong(v, R, k);
    if (my_rank == 0) {
        struct exp_row r = { .section = "mpi", .workers = 2, .unit = UNIT_NS, .ratio = NAN };
        snprintf(r.what, sizeof r.what, "mpi ping-pong one way (8 B)%s", over);
        snprintf(r.note, sizeof r.note, "%d round trips between ranks 0 and 1, %s", k,
                 tcp ? "TCP on loopback" : "shared memory");
        stats_of(v, R, &r.st);
        exp_row(&tab, &r);
    }
    static const enum sched_kind scheds[] = { SCHED_DYNAMIC, SCHED_STATIC };
    for (size_t s = 0; s < (tcp ? 1u : 2u); s++) {
        wrong += farm_cost(v, R, tasks, scheds[s]);
        if (my_rank == 0) {
            struct exp_row r = { .section = "mpi", .workers = (unsigned)world, .unit = UNIT_NS,
                                   .ratio = NAN };
            snprintf(r.what, sizeof r.what, "%s%s", scheds[s] == SCHED_DYNAMIC
                     ? "mpi farm dynamic chunk 1 per task" : "mpi static per task (no messages)",
                     over);
            snprintf(note, sizeof note, "%zu noop tasks on %d ranks, set-up and gather included",
                     tasks, world);
            snprintf(r.note, sizeof r.note, "%s", note);
            stats_of(v, R, &r.st);
            exp_row(&tab, &r);
        }
    }
    fflush(stdout);
    free(v);
    if (my_rank == 0 && wrong)
        return die(PARLAB_EXIT_WRONG, "parlab-mpi overhead: %ld farm runs lost tasks", wrong);
    return 0;
}

/* ---- main ----------------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: mpirun -np N parlab-mpi run -w WORKLOAD [parlab run options]\n"
        "       mpirun -np N parlab-mpi batch FILE     one parlab run argument list a line\n"
        "       mpirun -np N parlab-mpi overhead [--repeat R] [--quick] [--format text|csv]\n"
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
    MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    direct = !serve;
    int st = 0;
    if (world_cmd) {
        st = ranks_world(argc - 1, argv + 1);
    } else if (serve) {
        st = ranks_session();
    } else if (!strcmp(argv[1], "start")) {
        MPI_Barrier(MPI_COMM_WORLD);   /* what `parlab overhead` times: start, meet, stop */
    } else if (!strcmp(argv[1], "overhead")) {
        st = cmd_overhead_mpi(argc - 1, argv + 1);
    } else if (my_rank == 0) {
        runner_mpi_world_run = root_world_run;
        st = !strcmp(argv[1], "run") ? root_run(argc - 1, argv + 1)
                                     : root_batch(argc - 1, argv + 1);
        root_quit();
    } else {
        serve_loop();
    }
    fflush(stdout);
    /* Test-only (tests/test_mpi.c): PARLAB_MPI_TEST_FINALIZE_CRASH=R makes rank R of a
     * launched job die by SIGSEGV where Open MPI's teardown fault strikes, after its part
     * was delivered (see died_after_work in mpirun.c). */
    const char *crash = getenv("PARLAB_MPI_TEST_FINALIZE_CRASH");
    if (serve && crash && *crash && atoi(crash) == my_rank && st == 0) {
        signal(SIGSEGV, SIG_DFL);
        raise(SIGSEGV);
    }
    MPI_Finalize();
    return st;
}
