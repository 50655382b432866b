"""models.py: the ways Python runs a job's tasks, one function per model, each the
textbook use of its standard-library API. Each returns the partial results in task order.

The process models use the "fork" start method explicitly: it is Linux's default up to
Python 3.13 and what parlab's fork and process runners do, and naming it keeps the numbers
comparable when a later Python changes the default (3.14 picks "forkserver").
"""
from collections import namedtuple
from functools import partial

from workloads import WORKLOADS, run_task

# Each model imports its modules when it runs, as a script using only that model would:
# importing asyncio, multiprocessing and concurrent.futures up front costs tens of ms of
# start-up, which would show in every short run.


def _ctx():
    import multiprocessing
    return multiprocessing.get_context("fork")


class TaskFailed(Exception):
    """The process running a task ended without sending its result: exit status 70."""


def default_chunksize(tasks, workers):
    """The chunksize Pool.map picks when given none (Lib/multiprocessing/pool.py)."""
    chunk, extra = divmod(tasks, workers * 4)
    return chunk + 1 if extra else chunk


def run_seq(job, workers, chunk):
    """One process, one thread, tasks in order: the baseline each speedup divides by."""
    return [run_task(job, t) for t in range(job.tasks)]


def run_pool_map1(job, workers, chunk):
    """Pool(W).map(f, tasks, chunksize=1): one round trip through the pool's queues per
    task, the finest dynamic schedule."""
    with _ctx().Pool(workers) as pool:
        out = pool.map(partial(run_task, job), range(job.tasks), chunksize=1)
        pool.close()
        pool.join()
    return out


def run_pool_map(job, workers, chunk):
    """Pool(W).map(f, tasks) with Pool's default chunksize (about T / 4W), or -c C."""
    with _ctx().Pool(workers) as pool:
        out = pool.map(partial(run_task, job), range(job.tasks), chunksize=chunk or None)
        pool.close()
        pool.join()
    return out


def _process_child(job, task, conn):
    conn.send(run_task(job, task))
    conn.close()


def run_process(job, workers, chunk):
    """A multiprocessing.Process per task, at most W alive at once, each sending its
    result back through its own Pipe: what a pool saves (parlab's process runner)."""
    from multiprocessing.connection import wait
    ctx = _ctx()
    out = [None] * job.tasks
    running = {}            # the read end of a child's pipe -> (process, task)
    nxt = 0
    try:
        while nxt < job.tasks or running:
            while nxt < job.tasks and len(running) < workers:
                rd, wr = ctx.Pipe(duplex=False)
                p = ctx.Process(target=_process_child, args=(job, nxt, wr))
                p.start()
                wr.close()  # the child holds the only write end: its exit means EOF
                running[rd] = (p, nxt)
                nxt += 1
            for rd in wait(list(running)):
                p, t = running.pop(rd)
                try:
                    out[t] = rd.recv()
                except EOFError:
                    p.join()
                    raise TaskFailed("task %d: its process ended with %s and no result" % (
                        t, _exit_str(p.exitcode))) from None
                finally:
                    rd.close()
                p.join()
    finally:
        for rd, (p, _) in running.items():
            p.kill()
            p.join()
            rd.close()
    return out


def _exit_str(code):
    return "signal %d" % -code if code is not None and code < 0 else "status %s" % code


def _submit_all(executor, job):
    futures = [executor.submit(run_task, job, t) for t in range(job.tasks)]
    return [f.result() for f in futures]


def run_ppe(job, workers, chunk):
    """concurrent.futures.ProcessPoolExecutor(W): one submit() and one future per task."""
    from concurrent.futures import ProcessPoolExecutor
    with ProcessPoolExecutor(workers, mp_context=_ctx()) as ex:
        return _submit_all(ex, job)


def run_tpe(job, workers, chunk):
    """concurrent.futures.ThreadPoolExecutor(W): one submit() per task. Threads share
    the interpreter, and the GIL lets one of them run Python code at a time, so CPU
    tasks get no speedup; waits (sleep) do overlap, as the GIL is released while
    blocked."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(workers) as ex:
        return _submit_all(ex, job)


async def _asyncio_main(job, workers):
    import asyncio
    from concurrent.futures import ProcessPoolExecutor
    wl = WORKLOADS[job.workload]
    if wl.async_task:
        # I/O: every task is a coroutine waiting on the loop's timer, all at once.
        return await asyncio.gather(*(wl.async_task(job, t) for t in range(job.tasks)))
    # CPU (and noop): the loop must not run them itself, or it stalls; asyncio's
    # documented recipe is loop.run_in_executor() with a process pool.
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(workers, mp_context=_ctx()) as ex:
        return await asyncio.gather(
            *(loop.run_in_executor(ex, run_task, job, t) for t in range(job.tasks)))


def run_asyncio(job, workers, chunk):
    """asyncio.run(): `await asyncio.sleep` per task for I/O; run_in_executor on a
    ProcessPoolExecutor(W) for CPU tasks."""
    import asyncio
    return asyncio.run(_asyncio_main(job, workers))


# schedule and chunk are what the CSV reports, in parlab's vocabulary: "dynamic" with
# chunk 1 means a worker takes the next task when it is free.
Model = namedtuple("Model", "name summary run schedule chunk parlab")

MODELS = {m.name: m for m in (
    Model("py-seq", "one thread, tasks in order: the baseline", run_seq, "static", 0, "seq"),
    Model("py-pool-map1", "multiprocessing.Pool(W).map(f, tasks, chunksize=1)",
          run_pool_map1, "dynamic", 1, "fork"),
    Model("py-pool-map", "multiprocessing.Pool(W).map(f, tasks), default chunksize (or -c)",
          run_pool_map, "dynamic", None, "fork"),
    Model("py-process", "one multiprocessing.Process per task, at most W alive, Pipe back",
          run_process, "dynamic", 0, "process"),
    Model("py-ppe", "concurrent.futures.ProcessPoolExecutor(W), submit per task",
          run_ppe, "dynamic", 1, "fork"),
    Model("py-tpe", "concurrent.futures.ThreadPoolExecutor(W), submit per task (the GIL)",
          run_tpe, "dynamic", 1, "thread"),
    Model("py-asyncio", "asyncio: await asyncio.sleep (I/O), run_in_executor(process pool) "
          "(CPU)", run_asyncio, "dynamic", 1, "epoll"),
)}
