#!/usr/bin/env python3
"""make_bad.py: derive each lab's known-bad student run from its committed good run.

    python3 tests/corpus/labs/make_bad.py [NN-name ...]

For every lab it copies the step CSVs and meta.json of results/reference/labs/NN-name/<run>/
(or tests/corpus/labs/NN-name/good/) into tests/corpus/labs/NN-name/bad/, applies one
edit that a real mistake would cause (named below), and writes bad/EXPECT: the check line
that `scripts/lab.py check` must print for it. Rerun it after replacing a good run.

A known-bad run stands for a student's run made on a quiet machine: its other-CPU figures
(each row's other_cpu and meta.json's list) are set to 0, so that its mistake is judged a
fail, as it would be there, even when the good run it was derived from was measured beside
other work (where that mistake would only be inconclusive).
"""
import csv
import glob
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def edit(path, match, col, fn):
    """Apply fn to column col of the rows of CSV path where match(row)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = list(rows[0])
    n = 0
    for r in rows:
        if match(r):
            r[col] = str(fn(r))
            n += 1
    if not n:
        sys.exit("make_bad: %s: no row matched" % path)
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)


def seq_mean(path, **f):
    with open(path, newline="") as fh:
        xs = [float(r["wall_s"]) for r in csv.DictReader(fh)
              if all(r.get("p_" + k) == v for k, v in f.items())]
    return sum(xs) / len(xs)


def made_quiet(d):
    """Every other-CPU figure of the run in d set to 0: a run on a quiet machine."""
    for path in glob.glob(os.path.join(d, "*.csv")):
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows or "other_cpu" not in rows[0]:
            continue
        for r in rows:
            if r["other_cpu"] != "":
                r["other_cpu"] = "0.000"
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    meta = os.path.join(d, "meta.json")
    with open(meta) as f:
        m = json.load(f)
    if "other_cpu" in m:
        m["other_cpu"] = [None if o is None else 0.0 for o in m["other_cpu"]]
    with open(meta, "w") as f:
        json.dump(m, f, indent=1)


# lab: (what a student did wrong, the edit, the line the check must print)
def lab01(d):
    # the event loop "sped up" CPU work: its run was measured against a seq run taken while
    # something else ran (a baseline too slow)
    t = seq_mean(d + "/cpu.csv", workload="primes", runner="seq")
    edit(d + "/cpu.csv", lambda r: r["p_workload"] == "primes" and r["p_runner"] == "epoll",
         "wall_s", lambda r: "%.6f" % (t / 1.9))
    return "FAIL step 4   epoll gains nothing on CPU work"


def lab02(d):
    # the event loop read every reply into one shared buffer, so replies that arrived
    # together overwrote each other: the loopback payload checks failed. (A correctness
    # fault fails on any run; the committed run was made on a busy machine, where a timing
    # fault such as a loop blocking in each task is rightly inconclusive.)
    edit(d + "/net_loop.csv", lambda r: True, "verified", lambda r: "no")
    return "FAIL step 3   every answer verified"


def lab03(d):
    # every chunk size cost the same: the sweep ran with -c ignored (a runner without chunks)
    with open(d + "/chunk.csv", newline="") as fh:
        c1 = [r["median"] for r in csv.DictReader(fh) if "noop chunk 1 per task" in r["what"]][0]
    edit(d + "/chunk.csv", lambda r: "noop chunk" in r["what"], "median", lambda r: c1)
    return "FAIL step 5   raising the chunk size cuts the cost per small task"


def lab04(d):
    # `none` measured with one worker: nothing is lost, so the race was never seen
    edit(d + "/share.csv", lambda r: r["section"] == "none" and "final count" in r["what"],
         "ratio", lambda r: "1")
    return "FAIL step 3   the `none` counter lost updates"


def lab05(d):
    # the worker read the value after all: it was not a fork worker
    edit(d + "/pickling.csv", lambda r: r["what"].startswith("fork pointer to heap"),
         "median", lambda r: "42")
    return "FAIL step 7   a pointer made after the fork"


def lab06(d):
    # the 1-core run was taken with a busy machine: a speedup far above the core count
    t = seq_mean(d + "/strong.csv", workload="sumsq", cores="1")
    edit(d + "/strong.csv", lambda r: r["p_workload"] == "sumsq" and r["p_cores"] != "1",
         "wall_s", lambda r: "%.6f" % (t / 10))
    return "FAIL step 3   speedup is at most the core count"


def lab07(d):
    # a thread pool 8x faster than one process: not the GIL-bound CPython the lab is about
    t = seq_mean(d + "/py.csv", runner="py-seq")
    edit(d + "/py.csv", lambda r: r["p_runner"] == "py-tpe", "wall_s",
         lambda r: "%.6f" % (t / 8))
    return "FAIL step 3   ThreadPoolExecutor does not speed up CPU work"


def lab08(d):
    # rank 0 only: the ranks never got a share of the work (one rank's time, start included)
    with open(d + "/ranks.csv", newline="") as fh:
        one = [float(r["wall_s"]) for r in csv.DictReader(fh)
               if r["p_ranks"] == "1" and r["p_schedule"] == "static"]
    t = sum(one) / len(one)
    edit(d + "/cpu.csv", lambda r: r["p_runner"] == "mpi", "wall_s", lambda r: "%.6f" % t)
    return "FAIL step 4   once mpirun's start is taken off, mpi speeds up primes"


def lab09(d):
    # the guard demo ran every method as fork (the start method set after the Pool was made,
    # or on a Python that ignored it): the unguarded script "worked" under spawn
    edit(d + "/guard.csv", lambda r: r["method"] == "spawn" and r["guard"] == "no", "outcome",
         lambda r: "answer")
    return "FAIL step 5   without the guard, forkserver and spawn fail"


EDITS = {"01-cpu": lab01, "02-io": lab02, "03-scheduling": lab03, "04-sharing": lab04,
         "05-pitfalls": lab05, "06-scaling": lab06, "07-python": lab07, "08-mpi": lab08,
         "09-start-methods": lab09}


def main(names):
    for name in names or sorted(EDITS):
        good = sorted(glob.glob(os.path.join(ROOT, "results", "reference", "labs", name, "*",
                                             "meta.json")))
        src = os.path.dirname(good[-1]) if good else os.path.join(HERE, name, "good")
        if not os.path.exists(os.path.join(src, "meta.json")):
            print("make_bad: %s: no good run yet, skipped" % name)
            continue
        bad = os.path.join(HERE, name, "bad")
        shutil.rmtree(bad, ignore_errors=True)
        os.makedirs(bad)
        for f in glob.glob(os.path.join(src, "*.csv")) + [os.path.join(src, "meta.json")]:
            if not os.path.basename(f).startswith(("plot-", "values")) and \
                    not f.endswith(".trace.csv"):   # the step's CSV holds the trace's rows
                shutil.copy(f, bad)
        made_quiet(bad)
        expect = EDITS[name](bad)
        with open(os.path.join(bad, "EXPECT"), "w") as f:
            f.write(expect + "\n")
        print("make_bad: %s from %s: %s" % (name, os.path.relpath(src, ROOT), expect))


if __name__ == "__main__":
    main(sys.argv[1:])
