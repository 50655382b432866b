/* ranks_step.c: a job's steps on the ranks of bin/parlab-mpi. Every rank ran the
 * workload's setup itself: processes that share no memory. Under `static` each rank
 * computes its own blocks and sends nothing until the end; under `dynamic` and `guided`
 * rank 0 hands out chunks on request (the task farm) and computes between requests. After
 * each step the state the tasks wrote (n-body's positions and velocities) goes to every
 * rank with MPI_Allgatherv; at the end the partials are gathered to rank 0, where the
 * harness combines them in task order as for every other runner. */
#define _GNU_SOURCE
#include <mpi.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "ranks.h"

enum { TAG_REQ = 1, TAG_CHUNK = 2 };

int ranks_me, ranks_n;

static ranks_task_fn exec_task;   /* how a task runs: ranks_steps()'s caller says */

/* Returns -1 with out filled: this rank is out of memory. */
static int oom(struct outcome *out)
{
    return outcome_fail(out, PARLAB_EXIT_OS, "rank %d: out of memory", ranks_me);
}

/* Tasks this rank ran in the current step. */
struct ran {
    size_t *task;
    size_t n, cap;
};

/* Returns 0, or -1 with out filled. */
static int ran_push(struct ran *r, size_t t, struct outcome *out)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 256;
        size_t *p = realloc(r->task, cap * sizeof *p);
        if (!p)
            return oom(out);
        r->task = p;
        r->cap = cap;
    }
    r->task[r->n++] = t;
    return 0;
}

/* Runs tasks [lo, hi) of step on this rank; returns 0, or -1 with out filled. */
static int run_range(struct job *job, const struct plan *plan, unsigned step, size_t lo,
                     size_t hi, struct partial *slots, struct ran *ran, struct outcome *out)
{
    for (size_t t = lo; t < hi; t++) {
        exec_task(job, plan, step, t, (unsigned)ranks_me, slots);
        if (ran_push(ran, t, out))
            return -1;
    }
    return 0;
}

/* ---- the task farm ----------------------------------------------------------------- */

/* Rank 0's claim counter, with OpenMP's rules (as lib/pool.c): dynamic takes `chunk`,
 * guided takes the work left over the ranks but at least `chunk`. */
struct claim {
    size_t next, n, chunk;
    unsigned ranks;
    enum sched_kind sched;
};

/* Returns 1 and the next chunk in [*lo, *hi), or 0 when none is left. */
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

/* Send rank `to` its next chunk, or an empty one when none is left, after which that
 * rank asks no more this step. Rank 0 only. */
static void farm_send(struct claim *c, int *active, int to)
{
    uint64_t reply[2] = { 0, 0 };
    size_t lo, hi;
    if (claim(c, &lo, &hi)) {
        reply[0] = lo;
        reply[1] = hi;
    } else {
        (*active)--;
    }
    MPI_Send(reply, 2, MPI_UINT64_T, to, TAG_CHUNK, MPI_COMM_WORLD);
}

/* Answer requests: those waiting (block = 0), or the next one to come (block = 1), each
 * with farm_send. Rank 0 only. */
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
        farm_send(c, active, st.MPI_SOURCE);
        if (block)
            return;
    }
}

/*
 * One step under the farm. Rank 0 computes too, one task at a time, answering requests
 * between its tasks: with P ranks on P cores, a farmer that only farmed would leave a
 * core spinning in MPI_Recv (Open MPI polls). A request then waits at most one of rank
 * 0's tasks, and each worker asks for its next chunk before computing the current one,
 * so that wait is hidden behind its own work. Each worker's first chunk of a step is sent
 * before rank 0 computes anything, unasked: a worker that had to ask for it would wait
 * out rank 0's first task at every step (a 64th of the job, at the default task count).
 * Returns 0, or -1 with out filled.
 */
static int farm_step(struct job *job, const struct plan *plan, unsigned step,
                     struct partial *slots, struct ran *ran, struct outcome *out)
{
    if (ranks_me == 0) {
        struct claim c = { 0, job->tasks, plan->chunk ? plan->chunk : 1, (unsigned)ranks_n,
                           plan->schedule };
        int active = ranks_n - 1;
        size_t lo, hi;
        for (int r = 1; r < ranks_n; r++)
            farm_send(&c, &active, r);
        for (;;) {
            farm_serve(&c, &active, 0);
            if (!claim(&c, &lo, &hi))
                break;
            for (size_t t = lo; t < hi; t++) {
                if (run_range(job, plan, step, t, t + 1, slots, ran, out))
                    return -1;
                farm_serve(&c, &active, 0);
            }
        }
        while (active > 0)
            farm_serve(&c, &active, 1);
        return 0;
    }
    uint64_t cur[2], next[2];
    MPI_Request rq;
    MPI_Recv(cur, 2, MPI_UINT64_T, 0, TAG_CHUNK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);   /* unasked */
    while (cur[0] < cur[1]) {
        MPI_Irecv(next, 2, MPI_UINT64_T, 0, TAG_CHUNK, MPI_COMM_WORLD, &rq);
        MPI_Send(NULL, 0, MPI_BYTE, 0, TAG_REQ, MPI_COMM_WORLD);
        if (run_range(job, plan, step, cur[0], cur[1], slots, ran, out))
            return -1;
        MPI_Wait(&rq, MPI_STATUS_IGNORE);
        cur[0] = next[0];
        cur[1] = next[1];
    }
    return 0;
}

/* One step under static: this rank's block, or its round-robin chunks. No messages.
 * Returns 0, or -1 with out filled. */
static int static_step(struct job *job, const struct plan *plan, unsigned step,
                       struct partial *slots, struct ran *ran, struct outcome *out)
{
    size_t n = job->tasks, c = plan->chunk;
    if (c == 0) {
        size_t lo, hi;
        sched_static_block(n, (unsigned)ranks_n, (unsigned)ranks_me, &lo, &hi);
        return run_range(job, plan, step, lo, hi, slots, ran, out);
    }
    for (size_t lo = (size_t)ranks_me * c; lo < n; lo += (size_t)ranks_n * c)
        if (run_range(job, plan, step, lo, lo + c < n ? lo + c : n, slots, ran, out))
            return -1;
    return 0;
}

/* ---- moving data between ranks ------------------------------------------------------ */

/* Bytes from every rank: to every rank (root < 0) or to root only. On return (where
 * received) all holds rank r's len bytes at off[r], off[ranks_n] being the total. */
struct parts {
    char *all;
    long *off;
};

static void parts_free(struct parts *p)
{
    free(p->all);
    free(p->off);
    p->all = NULL;
    p->off = NULL;
}

/* Returns 0 with p filled (parts_free() releases it), or -1 with out filled. */
static int gather_bytes(const void *mine, int len, int root, struct parts *p,
                        struct outcome *out)
{
    int *counts = calloc((size_t)ranks_n, sizeof *counts);
    int *displs = calloc((size_t)ranks_n, sizeof *displs);
    int rc = 0;
    p->all = NULL;
    p->off = calloc((size_t)ranks_n + 1, sizeof *p->off);
    if (!counts || !displs || !p->off) {
        rc = oom(out);
        goto end;
    }
    if (root < 0)
        MPI_Allgather(&len, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
    else
        MPI_Gather(&len, 1, MPI_INT, counts, 1, MPI_INT, root, MPI_COMM_WORLD);
    if (root < 0 || ranks_me == root) {
        for (int r = 0; r < ranks_n; r++)
            p->off[r + 1] = p->off[r] + counts[r];
        if (p->off[ranks_n] > INT_MAX) {
            rc = outcome_fail(out, PARLAB_EXIT_OS, "rank %d: more than %d bytes to gather",
                              ranks_me, INT_MAX);
            goto end;
        }
        for (int r = 0; r < ranks_n; r++)
            displs[r] = (int)p->off[r];
        if (!(p->all = malloc(p->off[ranks_n] ? (size_t)p->off[ranks_n] : 1))) {
            rc = oom(out);
            goto end;
        }
    }
    if (root < 0)
        MPI_Allgatherv(mine, len, MPI_BYTE, p->all, counts, displs, MPI_BYTE, MPI_COMM_WORLD);
    else
        MPI_Gatherv(mine, len, MPI_BYTE, p->all, counts, displs, MPI_BYTE, root,
                    MPI_COMM_WORLD);
end:
    free(counts);
    free(displs);
    if (rc)
        parts_free(p);
    return rc;
}

/* What pack() puts after each task index: the bytes fill() writes (buf NULL: their count). */
typedef size_t (*fill_fn)(struct job *job, unsigned step, size_t task, void *ctx, char *buf);

/* Returns the packed bytes (malloc'd, *len_out long), or NULL with out filled. */
static char *pack(struct job *job, unsigned step, const struct ran *ran, fill_fn fill,
                  void *ctx, int *len_out, struct outcome *out)
{
    size_t len = 0;
    for (size_t i = 0; i < ran->n; i++)
        len += sizeof(uint64_t) + fill(job, step, ran->task[i], ctx, NULL);
    char *buf = len > INT_MAX ? NULL : malloc(len ? len : 1);
    if (!buf) {
        oom(out);
        return NULL;
    }
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
 * step (and rank 0's finish) reads all of it. Without state, a barrier ends the step.
 * Returns 0, or -1 with out filled. */
static int exchange_state(struct job *job, unsigned step, const struct ran *ran,
                          struct outcome *out)
{
    if (ranks_n == 1)
        return 0;
    if (!job->wl->task_writes) {
        MPI_Barrier(MPI_COMM_WORLD);
        return 0;
    }
    int len;
    struct parts p;
    char *mine = pack(job, step, ran, fill_state, NULL, &len, out);
    if (!mine || gather_bytes(mine, len, -1, &p, out)) {
        free(mine);
        return -1;
    }
    for (int r = 0; r < ranks_n; r++) {
        if (r == ranks_me)
            continue;
        for (long at = p.off[r]; at < p.off[r + 1];) {
            uint64_t t;
            memcpy(&t, p.all + at, sizeof t);
            at += (long)sizeof t;
            at += (long)mpi_task_state_copy(job, step, (size_t)t, p.all + at, 0);
        }
    }
    free(mine);
    parts_free(&p);
    return 0;
}

/* The trace rows this rank wrote (the non-empty ones of its own buffer) go to rank 0's.
 * Returns 0, or -1 with out filled. */
static int gather_trace(struct job *job, const struct plan *plan, struct outcome *out)
{
    size_t rows = job->tasks * job->steps, n = 0;
    struct parts p;
    for (size_t i = 0; i < rows; i++)
        n += plan->trace[i].end_ns != 0;
    size_t item = sizeof(uint64_t) + sizeof(struct trace_rec);
    char *buf = n * item > INT_MAX ? NULL : malloc(n * item + 1);
    if (!buf)
        return oom(out);
    for (size_t i = 0, k = 0; i < rows; i++)
        if (plan->trace[i].end_ns) {
            uint64_t idx = i;
            memcpy(buf + k * item, &idx, sizeof idx);
            memcpy(buf + k * item + sizeof idx, &plan->trace[i], sizeof(struct trace_rec));
            k++;
        }
    if (gather_bytes(buf, (int)(n * item), 0, &p, out)) {
        free(buf);
        return -1;
    }
    for (int r = 1; ranks_me == 0 && r < ranks_n; r++)
        for (long at = p.off[r]; at < p.off[r + 1]; at += (long)item) {
            uint64_t idx;
            memcpy(&idx, p.all + at, sizeof idx);
            if (idx < rows)
                memcpy(&plan->trace[idx], p.all + at + sizeof idx, sizeof(struct trace_rec));
        }
    free(buf);
    parts_free(&p);
    return 0;
}

/* At the end: the last step's partials, and the trace rows, go to rank 0. Returns 0, or
 * -1 with out filled. */
static int gather_results(struct job *job, const struct plan *plan, const struct ran *last,
                          struct partial *slots, struct outcome *out)
{
    int len;
    struct parts p;
    char *mine = pack(job, job->steps - 1, last, fill_slot, slots, &len, out);
    if (!mine || gather_bytes(mine, len, 0, &p, out)) {
        free(mine);
        return -1;
    }
    for (int r = 1; ranks_me == 0 && r < ranks_n; r++)
        for (long at = p.off[r]; at < p.off[r + 1]; at += (long)sizeof(struct partial)) {
            uint64_t t;
            memcpy(&t, p.all + at, sizeof t);
            at += (long)sizeof t;
            memcpy(&slots[t], p.all + at, sizeof(struct partial));
        }
    free(mine);
    parts_free(&p);
    return plan->trace ? gather_trace(job, plan, out) : 0;
}

int ranks_steps(struct job *job, const struct plan *plan, struct partial *slots,
                ranks_task_fn exec, uint64_t *wall_ns, struct outcome *out)
{
    struct ran ran = { 0 };
    int rc = 0;
    exec_task = exec;
    MPI_Barrier(MPI_COMM_WORLD);
    uint64_t t0 = clock_now_ns();
    for (unsigned s = 0; !rc && s < job->steps; s++) {
        ran.n = 0;
        if (plan->schedule == SCHED_STATIC)
            rc = static_step(job, plan, s, slots, &ran, out);
        else
            rc = farm_step(job, plan, s, slots, &ran, out);
        if (!rc)
            rc = exchange_state(job, s, &ran, out);
    }
    if (!rc)
        rc = gather_results(job, plan, &ran, slots, out);
    *wall_ns = clock_now_ns() - t0;
    free(ran.task);
    return rc;
}
