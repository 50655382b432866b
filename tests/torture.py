#!/usr/bin/env python3
"""torture.py: a seeded random series of `parlab run`s, each with a planted fault, a task
timeout and a signal at a random moment, checked for the documented ending.

Every case draws a runner (every runner `parlab list` shows that can run here, and epoll
with --loops), a workload, a size, a task count from 1 to millions, a schedule the runner
honours, workers, a planted fault (none, segv, kill, exit, hang, error) at a random task
(and, for a crash in a run of several steps, a random step),
an optional --task-timeout, an optional --trace FILE (new, or an existing file), and a
signal (none, INT, TERM, HUP, KILL, or STOP then CONT) sent at a random moment, from the
first milliseconds on. For every case it checks:

  - the exit status is one the documentation gives for that case (0 verified; 64 a fault
    the runner refuses; 70 a fault; 128+sig a signal; death by SIGKILL);
  - stderr is empty for 0 and one line "parlab: ..." naming the cause otherwise;
  - a run without fault or signal is verified (the CSV's verified column);
  - nothing is left behind: no process of the run's session, running or zombie, after it
    ends (after SIGKILL, the workers must be gone within 10 s, 30 s for mpi), and no /dev/shm entry;
  - the run's own TMPDIR (one per case) holds nothing of parlab's afterwards, unless
    parlab was SIGKILLed (then a run's private folder may stay: the documented exception);
  - an existing --trace file is replaced whole or left untouched, with nothing beside it;
  - it ends within its limit: what the case should take alone (expected_s: start-up, its
    tasks at its runner's cost, waits, timeouts), times 5 (8 for mpi), at least 60 s. A
    case past it is killed and reported with the command that replays it.

Cases are drawn from (seed, case number) alone, so `--seed S --case K` replays one case.
It prints the seed, the counts by case and every failing case with its command line.
Only processes it started are looked at: other parlab runs may share the machine.
"""
import argparse
import collections
import concurrent.futures
import csv
import io
import math
import os
import random
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SIGS = {"INT": signal.SIGINT, "TERM": signal.SIGTERM, "HUP": signal.SIGHUP,
        "KILL": signal.SIGKILL}
FAULTS = ["segv", "kill", "exit", "hang", "error"]
FAULT_WORDS = {"segv": "SIGSEGV", "kill": "SIGKILL", "exit": "exited with status 3",
               "hang": "timeout", "error": "reported error 5"}
# A case still running past its limit is a hang: a failure. The limit is what the case is
# expected to take alone (expected_s) times a multiplier for a loaded machine, and never
# under the floor. mpi's start-up and messages suffer most from load: a larger multiplier.
CASE_FLOOR_S = 60
CASE_MULT = 5
CASE_MULT_MPI = 8
# Seconds per task and step, by runner: about the most seen per runner over a 400-case
# series beside other work on 2 cores (mpi: 56 us a task alone in a 733,666-task case that
# took 39 s; fork 72 us at most; spawn forks once per task). Others: DEFAULT_TASK_S.
TASK_S = {"seq": 10e-6, "epoll": 10e-6, "epoll --loops": 10e-6, "thread": 20e-6,
          "omp": 20e-6, "fork": 50e-6, "spawn": 3e-3, "mpi": 100e-6}
DEFAULT_TASK_S = 100e-6
START_S = {"mpi": 2.0}      # mpirun and the ranks; others: 0.5 s


def run(parlab, args, timeout=30):
    """Run parlab ARGS to the end: (status, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    try:
        p = subprocess.run([parlab] + args, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout, p.stderr, time.monotonic() - t0
    except subprocess.TimeoutExpired:
        return None, "", "", time.monotonic() - t0


# ---- what exists and what it accepts, asked of parlab itself ----------------------------

def read_registry(parlab):
    """Workloads and runners from `parlab list --format csv`, or the text form."""
    st, out, _, _ = run(parlab, ["list", "--format", "csv"])
    wls, runners = {}, {}
    if st == 0 and out.startswith("type,name"):
        for row in csv.DictReader(io.StringIO(out)):
            if row["type"] == "workload":
                wls[row["name"]] = {"kind": row["kind"], "csv": row}
            elif row["type"] == "runner":
                runners[row["name"]] = {"csv": row}
        return wls, runners
    st, out, err, _ = run(parlab, ["list"])
    if st != 0:
        sys.exit(f"torture: {parlab} list failed: {err.strip()}")
    section = None
    for line in out.splitlines():
        if not line.startswith(" "):
            section = line.rstrip(":")
            continue
        f = line.split()
        if section == "workloads":
            wls[f[0]] = {"kind": f[1], "csv": None}
        elif section == "runners":
            runners[f[0]] = {"csv": None}
    return wls, runners


def probe(parlab, wls, runners, log):
    """Fill in what the draws need: sizes that run in well under a second, whether -t is
    the size, steps; per runner: usable here, schedules, whether a worker is a process."""
    for name, w in list(wls.items()):
        row = w["csv"]
        st, _, err, _ = run(parlab, ["run", "-w", name, "-r", "seq", "-n", "10", "-t", "3",
                                     "--format", "csv"])
        w["per_item"] = st == 64 and "count tasks" in err
        if row and row.get("min_size") and row.get("test_size"):
            lo, hi = int(row["min_size"]), int(row["test_size"])
        else:
            lo = hi = None
            for n in (1, 10, 100, 1000, 10000, 100000):
                st, _, _, secs = run(parlab, ["run", "-w", name, "-r", "seq", "-n", str(n),
                                              "--io-ms", "0", "--format", "csv"], timeout=5)
                if st == 0:
                    lo = n if lo is None else lo
                    hi = n
                    if secs > 0.2:
                        break
                elif lo is not None:
                    break
        if lo is None:
            log(f"# skipped workload {name}: no small size runs")
            del wls[name]
            continue
        w["min"], w["max"] = lo, max(lo, hi)
        # The largest -n it takes at all (for one task per item: the most tasks).
        if row and row.get("max_size"):
            w["max_n"] = int(row["max_size"])
        else:
            _, _, err, _ = run(parlab, ["run", "-w", name, "-r", "seq", "-n", "1e18"])
            m = re.search(r"at most (\d+)", err)
            w["max_n"] = int(m.group(1)) if m else w["max"]
        st, _, _, _ = run(parlab, ["run", "-w", name, "-r", "seq", "-n", str(lo), "--steps",
                                   "2", "--io-ms", "0", "--format", "csv"])
        w["steps"] = st == 0
    for name, r in list(runners.items()):
        st, _, err, _ = run(parlab, ["run", "-w", "noop", "-r", name, "-n", "2", "-j", "2",
                                     "--format", "csv"])
        if st != 0:
            log(f"# skipped runner {name}: cannot run here ({err.strip()[:120]})")
            del runners[name]
            continue
        r["schedules"] = [s for s in ("static", "dynamic", "guided")
                          if run(parlab, ["run", "-w", "noop", "-r", name, "-n", "2", "-s", s,
                                          "--format", "csv"])[0] == 0]
        r["processes"] = run(parlab, ["run", "-w", "noop", "-r", name, "-n", "2", "-j", "2",
                                      "--inject", "kill@0", "--format", "csv"])[0] == 70
        r["loops"] = None
    if "epoll" in runners:   # its --loops form: one event-loop process per loop
        e = dict(runners["epoll"])
        e["loops"] = 2
        e["processes"] = run(parlab, ["run", "-w", "noop", "-r", "epoll", "--loops", "2", "-n",
                                      "4", "--inject", "kill@0", "--format", "csv"])[0] == 70
        runners["epoll --loops"] = e


# ---- one case ------------------------------------------------------------------------

def loguniform(rng, lo, hi):
    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def draw(seed, k, wls, runners, max_tasks, tsan=False):
    """Case k of seed: a dict with the command and what is expected of it."""
    rng = random.Random(f"{seed}:{k}")
    rname = rng.choice(sorted(runners))
    r = runners[rname]
    wname = rng.choice(sorted(wls))
    w = wls[wname]
    c = {"k": k, "runner": rname, "workload": wname}
    u = rng.random()
    tasks = (rng.randint(1, 16) if u < 0.4 else loguniform(rng, 17, 1000) if u < 0.7
             else loguniform(rng, 1000, 100000) if u < 0.92 else loguniform(rng, 100000, max_tasks))
    if rname == "process":
        tasks = min(tasks, rng.randint(1, 200))          # one fork per task
    steps = rng.choice([1, 1, 2, 3]) if w["steps"] else 1   # always given: not the default
    io_ms = rng.randint(0, 5) if w["kind"] == "io" else None
    workers = rng.choice([1, 2, 2, 3, 4, 8])
    if w["per_item"]:
        tasks = min(tasks, w["max_n"])
        size = tasks
    else:
        size = loguniform(rng, w["min"], w["max"])
    tasks = min(tasks, max(1, max_tasks // steps))
    if w["per_item"]:
        size = tasks
    if io_ms is not None:   # keep a sleep run under about a second (a 0 ms sleep: ~0.1 ms)
        if rname.startswith("epoll"):
            tasks = min(tasks, 200000)     # every one a timer in the loop at once
        par = tasks if rname.startswith("epoll") else 1 if rname == "seq" else workers
        tasks = max(1, min(tasks, int(1000 * par / max(io_ms, 0.1))))
        if w["per_item"]:
            size = tasks
    args = ["run", "-w", wname, "-r", "epoll" if rname == "epoll --loops" else rname,
            "-n", str(size), "-j", str(workers), "--format", "csv"]
    if not w["per_item"]:
        args += ["-t", str(tasks)]
    if r["loops"]:
        args += ["--loops", str(rng.randint(2, 4))]
    if w["steps"]:
        args += ["--steps", str(steps)]
    if io_ms is not None:
        args += ["--io-ms", str(io_ms)]
    if rname == "fork" and rng.random() < 0.5:   # the pool's other start methods
        args += ["--start", rng.choice(["forkserver", "spawn"])]
    if r["schedules"] and rng.random() < 0.7:
        args += ["-s", rng.choice(r["schedules"])]
        if rng.random() < 0.4:
            args += ["-c", str(loguniform(rng, 1, 100))]
    fault = rng.choice(FAULTS) if rng.random() < 0.5 else "none"
    sig = rng.choice(["INT", "TERM", "HUP", "KILL", "STOP"]) if rng.random() < 0.6 else "none"
    timeout = None
    if fault == "hang":
        # Under ThreadSanitizer a signal that lands on a thread waiting inside libgomp
        # (not instrumented) is held until the thread comes back, which a hung omp team
        # never does: there the hang always has a timeout.
        if sig in ("none", "STOP") or rng.random() < 0.5 or (tsan and rname == "omp"):
            timeout = rng.choice([0.2, 0.3, 0.5, 1])
    elif rng.random() < 0.3:
        timeout = 20          # far above any task here: it must not fire
    if fault != "none":
        # a crash at a random step; an error is reported on the last one (the default)
        at = f":{rng.randrange(steps)}" if steps > 1 and fault != "error" else ""
        args += ["--inject", f"{fault}@{rng.randrange(tasks)}{at}"]
    if timeout is not None:
        args += ["--task-timeout", str(timeout)]
    u = rng.random()
    delay = (rng.uniform(0, 0.003) if u < 0.3 else rng.uniform(0.003, 0.06) if u < 0.8
             else rng.uniform(0.06, 1.5))
    trace = None
    if rng.random() < 0.3 and tasks * steps <= 200000:
        trace = "existing" if rng.random() < 0.5 else "new"
    c.update(args=args, tasks=tasks, steps=steps, fault=fault, signal=sig, delay=delay,
             timeout=timeout, trace=trace, stop_s=rng.uniform(0, 0.3), seed=seed, io_ms=io_ms,
             workers=workers)
    if fault in ("kill", "exit") and not r["processes"]:
        c["natural"] = 64
    elif fault == "hang" and timeout is None:
        c["natural"] = None            # never ends by itself: the signal ends it
    elif fault != "none":
        c["natural"] = 70
    else:
        c["natural"] = 0
    return c


def expected_s(c):
    """Seconds case c should take alone, generously: start-up, its tasks x steps at its
    runner's cost per task, the I/O waits, the computation (test sizes: under a second),
    a planted hang until its timeout fires, and the signal's delay and stop."""
    n = c["tasks"] * c["steps"]
    e = START_S.get(c["runner"], 0.5) + n * TASK_S.get(c["runner"], DEFAULT_TASK_S) + 1.0
    if c["io_ms"] is not None:       # the waits, as many at once as the runner runs tasks
        par = (c["tasks"] if c["runner"].startswith("epoll") else 1 if c["runner"] == "seq"
               else c["workers"])
        e += c["steps"] * math.ceil(c["tasks"] / par) * (c["io_ms"] + 1) / 1000.0
        if c["workload"] == "loopback":   # one server thread answers them all: ~1 ms each
            e += n * 1e-3
    if c["timeout"] is not None and c["fault"] == "hang":
        e += c["timeout"] + 1.0
    if c["signal"] != "none":
        e += c["delay"] + (c["stop_s"] if c["signal"] == "STOP" else 0)
    return e


def case_limit(c):
    mult = CASE_MULT_MPI if c["runner"] == "mpi" else CASE_MULT
    return max(CASE_FLOOR_S, mult * expected_s(c))


def replay(parlab, c):
    return f"tests/torture.py --parlab {shlex.quote(parlab)} --seed {c['seed']} --case {c['k']}"


def session_procs(sid):
    """(pid, state) of every process whose session is sid."""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        if len(rest) > 3 and int(rest[3]) == sid:
            found.append((int(d), rest[0]))
    return found


def handlers_installed(pid, sig):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (int(sig) - 1) & 1)
    except OSError:
        pass
    return False


SENTINEL = "task,worker,step,start_ns,end_ns\n0,0,0,1,2\n"


def whole_trace(text, rows):
    lines = text.splitlines()
    return (len(lines) == rows + 1 and lines[0] == "task,worker,step,start_ns,end_ns" and
            all(len(x.split(",")) == 5 for x in lines[1:]))


def run_case(parlab, c):
    """Run case c; returns (outcome label, list of problems)."""
    args = list(c["args"])
    tdir = None
    if c["trace"]:
        tdir = tempfile.mkdtemp(prefix="parlab-torture-")
        tpath = os.path.join(tdir, "t.csv")
        if c["trace"] == "existing":
            with open(tpath, "w") as f:
                f.write(SENTINEL)
        args += ["--trace", tpath]
    c["cmd"] = shlex.join([parlab] + args)
    problems = []
    # Each case's own TMPDIR: what a run leaves there is seen, and removed afterwards.
    tmp = tempfile.mkdtemp(prefix="parlab-torture-tmp-")
    env = dict(os.environ, TMPDIR=tmp)
    env.pop("PARLAB_MPI_WORLD", None)
    c["t0"] = time.monotonic()
    p = subprocess.Popen([parlab] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True, env=env)
    outs = {}

    def drain(name, stream):
        outs[name] = stream.read().decode(errors="replace")
    readers = [threading.Thread(target=drain, args=("out", p.stdout)),
               threading.Thread(target=drain, args=("err", p.stderr))]
    for t in readers:
        t.start()
    sig = c["signal"]
    caught_before = None
    if sig != "none":
        time.sleep(c["delay"])
        if p.poll() is None:
            if sig == "STOP":
                os.kill(p.pid, signal.SIGSTOP)
                time.sleep(c["stop_s"])
                os.kill(p.pid, signal.SIGCONT)
            else:
                if sig != "KILL":
                    caught_before = handlers_installed(p.pid, SIGS[sig])
                os.kill(p.pid, SIGS[sig])
    limit = case_limit(c)
    try:
        st = p.wait(timeout=max(0.0, limit - (time.monotonic() - c["t0"])))
    except subprocess.TimeoutExpired:
        problems.append(f"still running after {limit:.0f} s (expected at most "
                        f"{expected_s(c):.1f} s alone); replay it: {replay(parlab, c)}; "
                        f"the command: {c['cmd']}")
        os.killpg(p.pid, signal.SIGKILL)
        st = p.wait()
    for t in readers:
        t.join()
    c["secs"] = time.monotonic() - c["t0"]
    out, err = outs.get("out", ""), outs.get("err", "")

    # The exit status, and stderr to go with it.
    nat = c["natural"]
    label = None
    if st == nat:
        label = {0: "verified", 64: "refused", 70: "fault"}.get(st, str(st))
    elif sig in ("INT", "TERM", "HUP") and st == 128 + SIGS[sig]:
        label = "interrupted"
    elif sig in ("INT", "TERM", "HUP") and st == -SIGS[sig] and caught_before is False:
        label = "signal before main"    # the loader's moments: the default action applies
    elif sig == "KILL" and st == -signal.SIGKILL:
        label = "killed"
    else:
        problems.append(f"exit status {st}, expected {nat}" +
                        (f" or the {sig} ending" if sig not in ("none", "STOP") else ""))
    lines = err.splitlines()
    if st == 0:
        # A verified run prints nothing on stderr, but the one note mpi gives for a rank that
        # Open MPI's MPI_Finalize killed after its part was delivered (mpi/session.c).
        noise = [l for l in lines if not (c["runner"] == "mpi" and l.startswith("parlab: note: ")
                                          and "inside MPI_Finalize" in l)]
        if noise:
            problems.append(f"stderr not empty: {err.strip()[:300]!r}")
        rows = list(csv.DictReader(io.StringIO(out)))
        ver = rows[-1].get("verified") if rows else None
        if ver != "yes" and not (ver == "ref" and c["runner"] == "seq"):
            problems.append(f"not verified: {out.strip()[-300:]!r}")
    elif st is not None and st > 0:
        if len(lines) != 1 or not lines[0].startswith("parlab: "):
            problems.append(f"exit {st}, stderr is not one 'parlab: ' line: {err[:400]!r}")
        elif label == "fault" and FAULT_WORDS[c["fault"]] not in err:
            problems.append(f"message does not name the fault: {err.strip()!r}")
        elif label == "interrupted" and f"SIG{sig}" not in err:
            problems.append(f"message does not name SIG{sig}: {err.strip()!r}")
        elif label == "refused" and "whole process" not in err:
            problems.append(f"refusal does not say why: {err.strip()!r}")

    # Nothing left of the run's session: at once after a clean ending; after a SIGKILL,
    # once the workers have died with their parent. That takes milliseconds, but up to a
    # second for mpirun taking down its ranks, and more on a loaded machine: the bound is
    # 10 s (30 s for mpi), which only a process that never goes can exceed.
    grace = (30.0 if c["runner"].startswith("mpi") else 10.0) if st is not None and st < 0 \
        else 0.0
    t0 = time.monotonic()
    while True:
        left = session_procs(p.pid)
        alive = [x for x in left if x[1] != "Z"]
        if grace == 0.0 or not alive or time.monotonic() - t0 > grace:
            break
        time.sleep(0.02)
    if (alive if grace else left):
        problems.append(f"left behind: {left}")
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    # The trace: replaced whole, or as it was; nothing else in its folder.
    if tdir:
        names = sorted(os.listdir(tdir))
        text = open(tpath).read() if "t.csv" in names else None
        whole = text is not None and whole_trace(text, c["tasks"] * c["steps"])
        before = SENTINEL if c["trace"] == "existing" else None
        if names not in ([], ["t.csv"]):
            problems.append(f"trace folder holds {names}")
        if st == 0 and not whole:
            problems.append("--trace: a verified run did not leave a whole trace")
        elif st != 0 and text != before and not (whole and label in ("interrupted", "killed")):
            problems.append(f"--trace: a failed run changed the file ({'whole' if whole else 'partial' if text else 'removed'})")
        for n in names:
            os.unlink(os.path.join(tdir, n))
        os.rmdir(tdir)
    # parlab's own names only: a sanitizer's runtime keeps files of its own there
    # (ThreadSanitizer's tsan.rodata.PID when a signal ends the process).
    left_tmp = sorted(n for n in os.listdir(tmp) if n.startswith("parlab"))
    if left_tmp and label != "killed":
        problems.append(f"left in TMPDIR: {left_tmp}")
    shutil.rmtree(tmp, ignore_errors=True)
    return label or "failed", problems


def describe(c):
    s = c["cmd"]
    if c["signal"] == "STOP":
        s += f"   # SIGSTOP after {c['delay'] * 1000:.1f} ms, SIGCONT {c['stop_s'] * 1000:.0f} ms later"
    elif c["signal"] != "none":
        s += f"   # SIG{c['signal']} after {c['delay'] * 1000:.1f} ms"
    if c["trace"] == "existing":
        s += " (the trace file existed)"
    return s


def shm_names():
    """/dev/shm's entries that a parlab run could leave: all but Python multiprocessing's
    semaphores (sem.mp-*), which no parlab process makes and other programs on a shared
    machine leave there."""
    try:
        return {n for n in os.listdir("/dev/shm") if not n.startswith("sem.mp-")}
    except OSError:
        return set()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parlab", default=os.environ.get("PARLAB", "bin/parlab"))
    ap.add_argument("-N", type=int, default=1000, help="cases (default 1000)")
    ap.add_argument("--seed", type=int, default=None, help="default: from the clock")
    ap.add_argument("--case", type=int, action="append", help="run only case K (repeatable)")
    ap.add_argument("-j", "--jobs", type=int, default=2 * (os.cpu_count() or 1),
                    help="cases at once")
    ap.add_argument("--max-tasks", type=int, default=2000000)
    ap.add_argument("--tsan", action="store_true",
                    help="the binary is a ThreadSanitizer build (see draw())")
    ap.add_argument("--workload", action="append",
                    help="draw only from this workload of parlab list (repeatable; default: all)")
    a = ap.parse_args()
    seed = a.seed if a.seed is not None else int(time.time() * 1000) % 1000000007
    t_start = time.monotonic()
    print(f"# torture: seed {seed}, {a.N if not a.case else len(a.case)} cases, {a.jobs} at once, "
          f"{a.parlab}", flush=True)
    wls, runners = read_registry(a.parlab)
    if a.workload:
        unknown = sorted(set(a.workload) - set(wls))
        if unknown:
            print(f"torture: --workload {' '.join(unknown)}: not in {a.parlab} list", file=sys.stderr)
            return 64
        wls = {n: w for n, w in wls.items() if n in a.workload}
    probe(a.parlab, wls, runners, lambda s: print(s, flush=True))
    print("# runners: " + ", ".join(sorted(runners)) + "; workloads: " + ", ".join(sorted(wls)),
          flush=True)
    shm0 = shm_names()
    ks = a.case or range(a.N)
    cases = [draw(seed, k, wls, runners, a.max_tasks, a.tsan) for k in ks]
    counts = collections.defaultdict(collections.Counter)
    failures = []
    done = 0
    lock = threading.Lock()

    def one(c):
        nonlocal done
        label, problems = run_case(a.parlab, c)
        with lock:
            done += 1
            counts["outcome"][label] += 1
            counts["runner"][c["runner"]] += 1
            counts["workload"][c["workload"]] += 1
            counts["fault"][c["fault"]] += 1
            counts["signal"][c["signal"]] += 1
            counts["tasks"]["1-16" if c["tasks"] <= 16 else "17-1000" if c["tasks"] <= 1000
                            else "1001-100000" if c["tasks"] <= 100000 else ">100000"] += 1
            counts["timeout"]["yes" if c["timeout"] else "no"] += 1
            counts["trace"][c["trace"] or "none"] += 1
            if problems:
                failures.append((c, problems))
                print(f"FAIL case {c['k']}: {'; '.join(problems)}\n  {describe(c)}", flush=True)
            elif done % 100 == 0:
                print(f"# {done} cases, {len(failures)} failed, "
                      f"{time.monotonic() - t_start:.0f} s", flush=True)

    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as ex:
        for f in [ex.submit(one, c) for c in cases]:
            f.result()
    new_shm = shm_names() - shm0
    wall = time.monotonic() - t_start
    for key in ("outcome", "runner", "workload", "fault", "signal", "tasks", "timeout", "trace"):
        print(f"# by {key}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts[key].items())))
    if new_shm:
        print(f"FAIL: new /dev/shm entries during the series: {sorted(new_shm)} (parlab "
              "uses anonymous shared memory only; another program may have made them)")
    slow = sorted(cases, key=lambda c: -c.get("secs", 0))[:3]
    print("# slowest: " + "; ".join(f"case {c['k']} {c['secs']:.1f} s of {case_limit(c):.0f} ({c['runner']} {c['workload']} "
                                    f"tasks={c['tasks']} fault={c['fault']} signal={c['signal']})"
                                    for c in slow))
    print(f"# torture: seed {seed}: {len(cases)} cases, {len(failures)} failed, {wall:.1f} s")
    if failures:
        print("# replay a case: tests/torture.py --parlab %s --seed %d --case K" % (shlex.quote(a.parlab), seed))
        for c, problems in failures:
            print(f"#   case {c['k']}: {describe(c)}")
    return 1 if failures or new_shm else 0


if __name__ == "__main__":
    sys.exit(main())
