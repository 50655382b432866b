#!/usr/bin/env python3
"""tutorial_mistakes.py: the four mistakes in the examples of the multiprocessing tutorial
parlab follows, run as the tutorial writes them, beside their fix. Standard library only.

    python3 peers/python/tutorial_mistakes.py [a|b|c|d|all] [--trials N] [--format csv|text]

(a) Manager: four processes each do d["processed"] = d.get("processed", 0) + 1 and
    l.append(d["processed"]); the tutorial promises {'processed': 4} and [1, 2, 3, 4].
    A read and a write are two proxy round trips with no lock between them.
(b) Value/Array: the counter is incremented under get_lock(), but arr[0] = arr[0] * 2 runs
    outside it; the tutorial promises [16, 2, 3, 4].
(c) Pool().map(lambda x: x**2, [1, 2, 3]) is promised to print [1, 4, 9]; a lambda cannot
    be pickled, so it raises (and the tutorial never closes its pools).
(d) apply_async for sleeps of 3, 1 and 2 s (here 0.3, 0.1, 0.2 s: the same order), read
    with `for r in results: r.get()`, is promised in completion order; it comes back in
    submission order. Completion order needs a callback (or as_completed).

For (a) and (b) each variant runs --trials times: "as written" starts the four processes
one after another, as the tutorial does; "together" (a) holds them at a barrier first, so
the unlocked windows overlap as they would under load; "interleaved" (b) also forces a
preemption between the read and the write; "fixed" holds the lock over the whole
read-modify-write (in (b) with the same forced preemption, which then does no harm). CSV columns: mistake,variant,trials,wrong,example,expected.
`wrong` counts the trials whose result differs from what the tutorial promises.
Exit status: 0 when every fix gave the promised result in every trial, 1 otherwise.
"""
import multiprocessing as mp
import pickle
import sys
import time


# ---- (a) Manager dict and list ----

def manager_worker(d, l, barrier, lock):
    if barrier is not None:
        barrier.wait()
    if lock is not None:
        with lock:
            d["processed"] = d.get("processed", 0) + 1
            l.append(d["processed"])
    else:
        d["processed"] = d.get("processed", 0) + 1   # two round trips, nothing between
        l.append(d["processed"])


def mistake_a(trials):
    rows = []
    with mp.Manager() as m:
        for variant in ("as written", "together", "fixed"):
            wrong, example = 0, ""
            for _ in range(trials):
                d, l = m.dict(), m.list()
                barrier = m.Barrier(4) if variant != "as written" else None
                lock = m.Lock() if variant == "fixed" else None
                ps = [mp.Process(target=manager_worker, args=(d, l, barrier, lock))
                      for _ in range(4)]
                for p in ps:
                    p.start()
                for p in ps:
                    p.join()
                got = "%s %s" % (dict(d), sorted(l))
                if dict(d) != {"processed": 4} or sorted(l) != [1, 2, 3, 4]:
                    wrong += 1
                    example = example or got
            rows.append(("a", variant, trials, wrong, example or got,
                         "{'processed': 4} [1, 2, 3, 4]"))
    return rows


# ---- (b) Value and Array ----

def double(arr, pause):
    """arr[0] = arr[0] * 2 as a read and a write; `pause` forces a preemption between them
    (as OSTEP's simulators force an interleaving) so the window the scheduler could hit
    at any time is hit on every run."""
    v = arr[0]
    if pause:
        time.sleep(0.002)
    arr[0] = v * 2


def value_worker(counter, arr, barrier, whole, pause):
    if barrier is not None:
        barrier.wait()
    with counter.get_lock():
        counter.value += 1
        if whole:
            double(arr, pause)      # the fix: under the same lock
    if not whole:
        double(arr, pause)          # as written: outside the lock


def mistake_b(trials):
    rows = []
    for variant in ("as written", "interleaved", "fixed"):
        wrong, example = 0, ""
        for _ in range(trials):
            counter = mp.Value("i", 0)
            arr = mp.Array("i", [1, 2, 3, 4], lock=False)
            barrier = mp.Barrier(4) if variant != "as written" else None
            ps = [mp.Process(target=value_worker, args=(counter, arr, barrier,
                                                         variant == "fixed",
                                                         variant != "as written"))
                  for _ in range(4)]
            for p in ps:
                p.start()
            for p in ps:
                p.join()
            got = "%d %s" % (counter.value, list(arr))
            if counter.value != 4 or list(arr) != [16, 2, 3, 4]:
                wrong += 1
                example = example or got
        rows.append(("b", variant, trials, wrong, example or got, "4 [16, 2, 3, 4]"))
    return rows


# ---- (c) a lambda to Pool.map ----

# At module level, as in the tutorial: pickle looks it up as __main__.<lambda> and fails.
SQUARE = lambda x: x ** 2   # noqa: E731 (the mistake under study)

def square(x):
    return x ** 2


def mistake_c(trials):
    del trials
    rows = []
    with mp.Pool(2) as pool:          # the fix for the pools too: a with block closes them
        try:
            got = repr(pool.map(SQUARE, [1, 2, 3]))
            wrong = int(got != "[1, 4, 9]")
        except (pickle.PicklingError, AttributeError, TypeError) as e:
            got = "%s: %s" % (type(e).__name__, str(e).splitlines()[0][:80])
            wrong = 1
        rows.append(("c", "as written", 1, wrong, got, "[1, 4, 9]"))
        got = repr(pool.map(square, [1, 2, 3]))
        rows.append(("c", "fixed", 1, int(got != "[1, 4, 9]"), got, "[1, 4, 9]"))
    return rows


# ---- (d) apply_async results read in submission order ----

def nap(s):
    time.sleep(s)
    return int(s * 10) ** 2


def mistake_d(trials):
    del trials
    rows = []
    with mp.Pool(3) as pool:
        results = [pool.apply_async(nap, (s,)) for s in (0.3, 0.1, 0.2)]
        got = [r.get() for r in results]          # as written: submission order
        rows.append(("d", "as written", 1, int(got != [1, 4, 9]), " ".join(map(str, got)),
                     "1 4 9"))
        done = []
        pending = [pool.apply_async(nap, (s,), callback=done.append) for s in (0.3, 0.1, 0.2)]
        for r in pending:
            r.wait()
        rows.append(("d", "fixed", 1, int(done != [1, 4, 9]), " ".join(map(str, done)),
                     "1 4 9"))
    return rows


MISTAKES = {"a": mistake_a, "b": mistake_b, "c": mistake_c, "d": mistake_d}


def main(argv):
    which, trials, form = "all", 20, "text"
    args = list(argv)
    while args:
        a = args.pop(0)
        if a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        if a == "--trials" and args:
            v = args.pop(0)
            if not v.isdigit() or not 1 <= int(v) <= 10000:
                print("tutorial_mistakes: --trials %s: give 1 to 10000" % v, file=sys.stderr)
                return 64
            trials = int(v)
        elif a == "--format" and args:
            form = args.pop(0)
            if form not in ("csv", "text"):
                print("tutorial_mistakes: --format %s: csv or text" % form, file=sys.stderr)
                return 64
        elif a in MISTAKES or a == "all":
            which = a
        else:
            print("tutorial_mistakes: unknown argument '%s' (a|b|c|d|all, --trials N, "
                  "--format csv|text)" % a, file=sys.stderr)
            return 64
    rows = []
    for k in sorted(MISTAKES) if which == "all" else [which]:
        rows += MISTAKES[k](trials)
    if form == "csv":
        print("mistake,variant,trials,wrong,example,expected")
        for r in rows:
            print(",".join(str(x).replace(",", ";") for x in r))
    else:
        print("# the tutorial's promise against what ran, %d trials where it varies" % trials)
        for m, variant, n, wrong, ex, exp in rows:
            print("(%s) %-10s %3d of %-3d differ from %-30s e.g. %s" % (m, variant, wrong, n,
                                                                  exp, ex))
    fixes_ok = all(r[3] == 0 for r in rows if r[1] == "fixed")
    return 0 if fixes_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
