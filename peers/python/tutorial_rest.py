#!/usr/bin/env python3
"""tutorial_rest.py: the parts of the multiprocessing tutorial that tutorial_mistakes.py
does not run, measured in Python beside parlab's C figures. Standard library only.

    python3 peers/python/tutorial_rest.py start   [--repeat R] [--workers W] [--format csv|text]
    python3 peers/python/tutorial_rest.py guard   [--format csv|text]
    python3 peers/python/tutorial_rest.py cow     [--mb M] [--format csv|text]
    python3 peers/python/tutorial_rest.py manager [--ops N] [--workers W] [--format csv|text]

start   Pool(W) under each start method (fork, forkserver, spawn): the time from Pool()
        until every worker has answered once, the first pool (which starts the forkserver,
        a fresh interpreter) apart from later ones, and the cost of one task (map of
        2000 empty tasks, chunksize 1). parlab's own: `parlab overhead`, section start.
guard   A script without `if __name__ == "__main__":` run under each start method: under
        spawn and forkserver each worker imports the script again, reaches Pool() while
        still bootstrapping, and dies with the RuntimeError about the bootstrapping phase
        (the parent's Pool keeps replacing them, so the script never ends: it is stopped
        after the error). The same script with the guard prints [1, 4, 9].
cow     Copy-on-write through reference counts: a forked child only reads a large list of
        ints (sum), yet writes each int's reference count, so it copies the pages they lie
        in: its Private_Dirty (/proc/self/smaps_rollup) before and after. parlab's C
        figure beside it, where bin/parlab is built: `parlab pitfall cow`, a child reading
        an array, which copies nothing.
manager "Managers are slower than Value": W processes each add 1 to a shared count N times,
        under a Value's lock and through a Manager proxy under the manager's lock; the time
        per increment as a worker sees it, beside parlab's C `parlab share --method
        lock,manager` where bin/parlab is built.

CSV columns: part,method,what,value,unit,note. Exit status 0; 64 for bad usage.
"""
import csv
import io
import multiprocessing as mp
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

METHODS = ("fork", "forkserver", "spawn")


def die(msg, code=64):
    sys.stderr.write("tutorial_rest: %s\n" % msg)
    sys.exit(code)


def noop(x):
    return x


# ---- start: Pool(W) under each start method ----

def pool_ready_s(ctx, workers):
    """Seconds from Pool() until each of `workers` workers has run one task."""
    t0 = time.perf_counter()
    pool = ctx.Pool(workers)
    pool.map(noop, range(workers), chunksize=1)   # a first answer: the pool is working
    t1 = time.perf_counter()
    pool.close()
    pool.join()
    return t1 - t0


def part_start(repeat, workers):
    rows = []
    for m in METHODS:
        ctx = mp.get_context(m)
        first = pool_ready_s(ctx, workers)
        later = [pool_ready_s(ctx, workers) for _ in range(repeat)]
        pool = ctx.Pool(workers)
        pool.map(noop, range(workers), chunksize=1)
        n = 2000
        t0 = time.perf_counter()
        pool.map(noop, range(n), chunksize=1)
        task = (time.perf_counter() - t0) / n
        pool.close()
        pool.join()
        rows.append(("start", m, "first Pool(%d) ready" % workers, first, "s",
                     "forkserver: starts the server too" if m == "forkserver" else ""))
        rows.append(("start", m, "Pool(%d) ready" % workers, statistics.median(later), "s",
                     "median of %d, min %.4f max %.4f" % (repeat, min(later), max(later))))
        rows.append(("start", m, "per task, map chunksize 1", task, "s", "2000 empty tasks"))
    base = rows[1][3]
    for r in list(rows):
        if r[2].startswith("Pool(") and r[1] != "fork":
            rows.append(("start", r[1], "Pool(%d) ready / fork's" % workers, r[3] / base, "x", ""))
    return rows


# ---- guard: the missing __main__ guard ----

SCRIPT = '''import multiprocessing as mp
import sys

def square(x):
    return x * x

ctx = mp.get_context(sys.argv[1])
%s
'''
UNGUARDED = '''with ctx.Pool(2) as pool:          # no __main__ guard
    print(pool.map(square, [1, 2, 3]), flush=True)'''
GUARDED = '''if __name__ == "__main__":          # the guard: workers import this, and stop here
    with ctx.Pool(2) as pool:
        print(pool.map(square, [1, 2, 3]), flush=True)'''
BOOT = "bootstrapping phase"      # the RuntimeError's words (its text spans lines)


def stop_session(p):
    """End a demo that would run forever, and what it started, leaving no semaphore behind:
    SIGINT lets its Pool leave by its own exit path, and the resource tracker unlinks what
    is left once the script is gone; only stragglers after 10 s get SIGKILL (a SIGKILL of the
    whole session at once left each run's semaphores in /dev/shm)."""
    try:
        os.kill(p.pid, signal.SIGINT)
        p.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(p.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_script(path, method, limit_s=20.0):
    """Run `python path method`; stop it once the bootstrapping error shows or at limit_s.
    Returns (stdout, stderr, ended_by_itself)."""
    p = subprocess.Popen([sys.executable, path, method], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + limit_s
    err = b""
    fd = p.stderr.fileno()
    os.set_blocking(fd, False)
    while time.monotonic() < deadline and p.poll() is None:
        try:
            err += os.read(fd, 65536)
        except BlockingIOError:
            pass
        if BOOT.encode() in err:
            break
        time.sleep(0.05)
    ended = p.poll() is not None
    if not ended:
        stop_session(p)
    os.set_blocking(fd, True)
    out, rest = p.communicate()
    return out.decode(errors="replace"), (err + rest).decode(errors="replace"), ended


def part_guard():
    rows = []
    with tempfile.TemporaryDirectory(prefix="parlab-guard-") as d:
        for guarded in (False, True):
            path = os.path.join(d, "guarded.py" if guarded else "unguarded.py")
            with open(path, "w") as f:
                f.write(SCRIPT % (GUARDED if guarded else UNGUARDED))
            for m in METHODS:
                out, err, ended = run_script(path, m)
                flat = " ".join(err.split())
                if BOOT in flat and "RuntimeError" in flat:
                    at = flat.find("An attempt has been made")
                    what = "RuntimeError: " + flat[at:flat.find(BOOT, at) + len(BOOT)] + \
                        (" (stopped: the Pool replaces its dying workers forever)" if not ended else "")
                else:
                    what = out.strip() or err.strip().splitlines()[-1:] or "nothing"
                    what = what if isinstance(what, str) else what[0]
                rows.append(("guard", m, "with the guard" if guarded else "without the guard",
                             what, "", ""))
    return rows


# ---- cow: copy-on-write through reference counts ----

def private_dirty_kib():
    with open("/proc/self/smaps_rollup") as f:
        for line in f:
            if line.startswith("Private_Dirty:"):
                return int(line.split()[1])
    return -1


def cow_child(big, conn):
    before = private_dirty_kib()
    total = sum(big)          # only reads the list... and writes every int's refcount
    after = private_dirty_kib()
    conn.send((before, after, total))
    conn.close()


def parlab_rows(args):
    """parlab's CSV rows for args, each a dict by the header's names, or [] where it is not
    built."""
    exe = os.environ.get("PARLAB", os.path.join(os.path.dirname(__file__), "..", "..", "bin", "parlab"))
    if not os.access(exe, os.X_OK):
        return []
    r = subprocess.run([exe] + args + ["--format", "csv"], capture_output=True, text=True,
                       timeout=300)
    return list(csv.DictReader(io.StringIO(r.stdout))) if r.returncode in (0, 1) else []


def part_cow(mb):
    n = mb * 1024 * 1024 // 36       # an int object (28 B) and its list slot (8 B)
    big = list(range(10 ** 6, 10 ** 6 + n))   # past the small-int cache: objects of their own
    ctx = mp.get_context("fork")
    a, b = ctx.Pipe(duplex=False)
    p = ctx.Process(target=cow_child, args=(big, b))
    p.start()
    before, after, total = a.recv()
    p.join()
    assert total == sum(range(10 ** 6, 10 ** 6 + n))
    data_kib = (n * 36) // 1024
    rows = [("cow", "python", "list of %d ints, about" % n, data_kib, "KiB", ""),
            ("cow", "python", "child's Private_Dirty before reading", before, "KiB", ""),
            ("cow", "python", "child's Private_Dirty after sum(list)", after, "KiB",
             "copied %.0f%% of the data by only reading it" % (100.0 * (after - before) / data_kib))]
    for r in parlab_rows(["pitfall", "cow", "--mb", str(mb), "--repeat", "1"]):
        if r.get("what", "").startswith("read all") and r.get("unit") == "count":
            rows.append(("cow", "c", "parlab pitfall cow: " + r["what"], float(r["median"]), r["unit"],
                         "a forked child reading a %d MiB array: %.0f KiB of pages at most"
                         % (mb, float(r["median"]) * 4)))
    return rows


# ---- manager: Value against Manager ----

def value_worker(v, n):
    for _ in range(n):
        with v.get_lock():
            v.value += 1


def manager_worker(ns, lock, n):
    for _ in range(n):
        with lock:
            ns.value += 1


def timed_workers(ctx, target, args, workers):
    ps = [ctx.Process(target=target, args=args) for _ in range(workers)]
    t0 = time.perf_counter()
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    return time.perf_counter() - t0


def part_manager(ops, workers):
    ctx = mp.get_context("fork")
    v = ctx.Value("i", 0)
    tv = timed_workers(ctx, value_worker, (v, ops), workers)
    with ctx.Manager() as m:
        ns, lock = m.Namespace(), m.Lock()
        ns.value = 0
        tm = timed_workers(ctx, manager_worker, (ns, lock, ops), workers)
        mcount = ns.value
    want = ops * workers
    rows = [("manager", "python", "Value under get_lock(), per increment", tv / ops * 1e9, "ns",
             "count %d of %d" % (v.value, want)),
            ("manager", "python", "Manager proxy under its Lock, per increment", tm / ops * 1e9,
             "ns", "count %d of %d" % (mcount, want)),
            ("manager", "python", "Manager / Value", tm / tv, "x", "")]
    c = {}
    for r in parlab_rows(["share", "--method", "lock,manager", "-r", "fork", "-j", str(workers),
                          "--repeat", "1"]):
        if r.get("unit") == "ns" and r.get("what", "").startswith("fork W="):
            c[r["section"]] = float(r["median"])
    if "lock" in c and "manager" in c:
        rows += [("manager", "c", "parlab share lock, per increment", c["lock"], "ns", ""),
                 ("manager", "c", "parlab share manager, per increment", c["manager"], "ns", ""),
                 ("manager", "c", "manager / lock", c["manager"] / c["lock"], "x", "")]
    return rows


# ---- main ----

def emit(rows, fmt):
    if fmt == "csv":
        print("part,method,what,value,unit,note")
        for r in rows:
            val = "%.6g" % r[3] if isinstance(r[3], (int, float)) else '"%s"' % str(r[3]).replace('"', "'")
            print("%s,%s,%s,%s,%s,%s" % (r[0], r[1], r[2].replace(",", ";"), val, r[4],
                                         r[5].replace(",", ";")))
        return
    for r in rows:
        # a ratio as 1.93× (its unit is "x" in the CSV); other units after a space
        val = (("%.3g×" if r[4] == "x" else "%.4g " + r[4]) % r[3]) if isinstance(r[3], (int, float)) else str(r[3])
        print("%-8s %-11s %-46s %s%s" % (r[0], r[1], r[2], val, ("  (" + r[5] + ")") if r[5] else ""))


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) >= 2 else 64
    part, opts = argv[1], {"--repeat": "5", "--workers": "2", "--format": "text", "--mb": "64",
                           "--ops": "20000"}
    rest = argv[2:]
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            die("%s: unknown option or no value (--help)" % rest[0])
        opts[rest[0]] = rest[1]
        rest = rest[2:]
    try:
        repeat, workers, mb, ops = (int(opts[k]) for k in ("--repeat", "--workers", "--mb", "--ops"))
    except ValueError:
        die("a count is not a number")
    if min(repeat, workers, mb, ops) < 1 or opts["--format"] not in ("csv", "text"):
        die("counts must be >= 1 and --format csv or text")
    parts = {"start": lambda: part_start(repeat, workers), "guard": part_guard,
             "cow": lambda: part_cow(mb), "manager": lambda: part_manager(ops, workers)}
    if part not in parts:
        die("%s: unknown part (start, guard, cow, manager)" % part)
    emit(parts[part](), opts["--format"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
