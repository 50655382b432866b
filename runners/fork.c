/* fork.c: a persistent pool of forked worker processes claiming tasks from shared memory
 * (multiprocessing.Pool). Read top to bottom: fork() starts each worker, the worker loop
 * runs in the child, waitpid() reaps it, and fork_run hands lib/pool.c these three and the
 * job's tasks. How a map's tasks are claimed under a schedule, the same for fork and
 * thread, is lib's (lib/worker.c); lib's own callers (fpool_create) fork through
 * child_fork() in lib/start.c, the same steps in one call. */
#define _GNU_SOURCE
#include "runner.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

/* Start worker w as a child process. Everything the child needs (the job, the result
 * slots, the pool's shared block) was mapped before this fork, so it sees the same
 * memory; what it writes is shared only where that memory is MAP_SHARED. Returns 0 with
 * *h filled, or -errno. */
static int fork_start(struct pool *p, unsigned w, struct pool_handle *h)
{
    pid_t parent = getpid();
    sigset_t held;
    fflush(NULL);                     /* or the child would print our buffers again */
    child_signals_hold(&held);        /* a stop signal waits until the child is tracked */
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        child_signals_release(&held);
        return -e;
    }
    if (pid == 0) {                   /* the child: the worker */
        child_setup(parent, &held);   /* default handlers; die with the parent */
        pool_worker_main(p, w);       /* the worker loop: wait for a map, claim tasks, run
                                         them, until the pool closes */
        fflush(NULL);                 /* what its tasks printed */
        _exit(0);
    }
    child_add(pid);                   /* a signal that ends parlab kills and reaps it too */
    child_signals_release(&held);
    *h = (struct pool_handle){ .pid = pid };
    return 0;
}

/* Reap the worker if it has ended (or, with block, once it has). Returns 1 with *status
 * once it is reaped, else 0. */
static int fork_reap(struct pool_handle *h, int block, int *status)
{
    pid_t r;
    while ((r = waitpid(h->pid, status, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r != h->pid)
        return 0;
    child_del(h->pid);
    return 1;
}

/* A process can be stopped alone, unlike a thread: a crash or a task past its timeout
 * costs one worker, not the run. Returns nothing: the worker is reaped later. */
static void fork_kill(struct pool_handle *h)
{
    kill(h->pid, SIGKILL);
}

static const struct pool_ops fork_ops = {
    .kind = POOL_FORK,
    .what = "process",
    .start = fork_start,
    .reap = fork_reap,
    .kill = fork_kill,
};

static int fork_run(struct job *job, const struct plan *plan, struct partial *slots,
                    struct outcome *out)
{
    /* fork: the ops above; forkserver or spawn (lib/start.c): the pool is the same once
     * the workers run. */
    enum pool_start how = (enum pool_start)plan->start;
    const struct pool_ops *ops = how == POOL_START_FORK ? &fork_ops : pool_ops_start(how);
    struct runner_pool_job pj;        /* before the pool: each worker has its own copy */
    runner_pool_job(&pj, job, plan, slots);
    return pool_run(ops, &pj.steps, &pj.cfg, out);   /* one pool, one map per step */
}

const struct runner runner_fork = {
    .name = "fork",
    .summary = "persistent pool of forked worker processes (multiprocessing.Pool)",
    .schedules = SCHED_ALL,
    .default_schedule = SCHED_DYNAMIC,
    .flags = RUNNER_PARALLEL | RUNNER_PROCESSES | RUNNER_OWN_TIMEOUT | RUNNER_START_METHODS,
    .run = fork_run,
};
