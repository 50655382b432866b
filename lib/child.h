/* child.h: the child processes of a run: every one is tracked, so that a signal ending
 * the parent can kill and reap them all, and dies with its parent; the stop signals; and
 * how a worker's death is told. */
#ifndef PARLAB_CHILD_H
#define PARLAB_CHILD_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

/* How often a parent waiting on worker processes looks for dead workers and overdue
 * tasks (the pools and the epoll runner's loops). */
#define MONITOR_NS (5u * 1000u * 1000u)

/*
 * Every child process a runner forks is tracked, so that a signal ending the parent can
 * kill and reap them all. Add right after fork() in the parent; remove once reaped.
 * child_add returns nothing (a full table of 8192 leaves pid untracked); child_del
 * returns nothing (an untracked pid is ignored).
 */
void child_add(pid_t pid);
void child_del(pid_t pid);
/* Returns once every tracked child is killed (SIGKILL) and reaped; async-signal-safe. It
 * closes the table: a thread forking now finishes adding its child first, and no thread
 * starts a fork after it (child_signals_hold then never returns). */
void child_kill_all(void);
/*
 * Returns once every child of this process (but the tracked ones if spare_tracked) is
 * killed (SIGKILL) and reaped, or limit_s has passed (a process that SIGKILL cannot end
 * at once never blocks us). With PR_SET_CHILD_SUBREAPER these include the orphaned
 * descendants of a child that ended: the mpi runner's ranks once mpirun is gone. The
 * guard's ending sweeps them all: also a worker that another thread forked while the
 * tracked ones were being killed. Async-signal-safe.
 */
void child_reap_strays(int spare_tracked, double limit_s);

/* Returns nothing: resets what a forked worker must not inherit from the parent (signal
 * handlers, the child table). child_fork() calls it; call it in any other forked child. */
void child_init(void);

/* Returns nothing: fills *set with the signals that stop a run (SIGINT, SIGTERM, SIGHUP). */
void stop_signals(sigset_t *set);
/*
 * A thread that holds the stop signals and takes them itself (sigtimedwait), because it
 * has something to clean up first (the mpi runner's folder), says so with on = 1 and, once
 * done, 0, before it lets them in again. Meanwhile the guard's handler, when the kernel
 * hands a stop signal to another thread (libgomp's idle workers, a pool's), passes it on
 * to that thread with stop_redirect() (async-signal-safe) instead of ending the process
 * under it. stop_taker returns nothing; stop_redirect returns 1 if it passed sig on, else 0.
 */
void stop_taker(int on);
int stop_redirect(int sig);

/*
 * fork() a worker process the way every runner must. In the parent: stdio is flushed
 * first (or the child would print our buffers again), the child is tracked. In the child:
 * inherited handlers are reset and it dies with the parent (PR_SET_PDEATHSIG, plus a check
 * that the parent did not die first). Returns the child's pid in the parent, 0 in the
 * child, or -errno (errno is set too, as fork() sets it). A child ends with _exit(), after fflush(NULL) if its tasks may
 * print.
 */
pid_t child_fork(void);
/*
 * For code that calls fork() itself, the same steps: child_signals_hold() before fork()
 * (SIGINT, SIGTERM and SIGHUP wait, so that a signal between fork() and child_add()
 * cannot end parlab with an untracked child), then in the child child_setup() (inherited
 * handlers reset, the held signals let in, death with the parent; parent: the pid before
 * the fork), and in the parent child_add() and child_signals_release(). Hold and release
 * pair up: between them a thread counts as forking, which an ending in another thread
 * waits for (and once it ends the run, hold never returns). All three return nothing;
 * child_setup _exits the child if the parent is already gone.
 */
void child_signals_hold(sigset_t *old);
void child_signals_release(const sigset_t *old);
void child_setup(pid_t parent, const sigset_t *held);

/* Returns nothing: writes "task 3 (worker pid 1234) killed by SIGSEGV", or "... exited with
 * status 3", into buf; task < 0 reads "worker pid 1234, between tasks, ...". sig 0 means
 * it exited with exit_status. */
void child_death_str(char *buf, size_t n, long task, pid_t pid, int sig, int exit_status);

#endif
