#!/usr/bin/env python3
"""start_methods.py: lab 9's Python side (standard library only). The measuring and the
guard demonstration are peers/python/tutorial_rest.py's; this script runs them the way a
lab needs: samples taken in turns, and one outcome a line.

    python3 labs/09-start-methods/start_methods.py time  [--rounds R] [--workers W]
    python3 labs/09-start-methods/start_methods.py guard [--limit SECONDS]

time   Pool(W) under fork, forkserver and spawn, taking turns (round r of every method
       before round r + 1, so a change of load hits all three alike): the seconds from
       Pool() until each of the W workers has answered one task. Round 0 is each method's
       first pool in this process (forkserver's also starts the server); rounds 1 to R are
       the later pools. CSV: method,round,first,ready_s.
guard  The same small script without and with `if __name__ == "__main__":`, run under each
       method in a child process of its own, stopped once the bootstrapping RuntimeError
       shows or after SECONDS (default 20): it never hangs. CSV: method,guard,outcome,
       ended,seconds,said, where outcome is `answer` (it printed [1, 4, 9]),
       `bootstrap-error` (the RuntimeError about the bootstrapping phase) or `no-answer`
       (neither: stopped at the limit, or ended without an answer); ended is `no` when the
       script had to be stopped (its Pool replaces dying workers forever).

Exit status 0; 64 for bad usage.
"""
import csv
import multiprocessing as mp
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "peers", "python"))
import tutorial_rest as tr  # noqa: E402  (pool_ready_s, the guard scripts, run_script)

ANSWER = "[1, 4, 9]"


def usage(msg):
    sys.stderr.write("start_methods: %s (--help)\n" % msg)
    sys.exit(64)


def part_time(rounds, workers):
    rows = []
    ctx = {m: mp.get_context(m) for m in tr.METHODS}
    for r in range(rounds + 1):
        for m in tr.METHODS:
            rows.append({"method": m, "round": r, "first": "yes" if r == 0 else "no",
                         "ready_s": "%.6f" % tr.pool_ready_s(ctx[m], workers)})
    return rows


def part_guard(limit_s):
    rows = []
    with tempfile.TemporaryDirectory(prefix="parlab-lab9-") as d:
        for guarded in (False, True):
            path = os.path.join(d, "guarded.py" if guarded else "unguarded.py")
            with open(path, "w") as f:
                f.write(tr.SCRIPT % (tr.GUARDED if guarded else tr.UNGUARDED))
            for m in tr.METHODS:
                t0 = time.monotonic()
                out, err, ended = tr.run_script(path, m, limit_s)
                secs = time.monotonic() - t0
                flat = " ".join(err.split())
                if ANSWER in out:
                    outcome, said = "answer", out.strip().splitlines()[-1]
                elif tr.BOOT in flat and "RuntimeError" in flat:
                    at = flat.find("An attempt has been made")
                    outcome = "bootstrap-error"
                    said = "RuntimeError: " + flat[at:flat.find(tr.BOOT, at) + len(tr.BOOT)]
                else:
                    outcome = "no-answer"
                    said = (err.strip().splitlines() or ["nothing within %g s" % limit_s])[-1]
                rows.append({"method": m, "guard": "yes" if guarded else "no",
                             "outcome": outcome, "ended": "yes" if ended else "no",
                             "seconds": "%.3f" % secs, "said": said})
    return rows


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(argv) >= 2 else 64
    part, opts = argv[1], {"--rounds": "5", "--workers": "2", "--limit": "20"}
    rest = argv[2:]
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            usage("%s: unknown option or no value" % rest[0])
        opts[rest[0]] = rest[1]
        rest = rest[2:]
    try:
        rounds, workers, limit = int(opts["--rounds"]), int(opts["--workers"]), \
            float(opts["--limit"])
    except ValueError:
        usage("--rounds and --workers take whole numbers, --limit seconds")
    if rounds < 1 or workers < 1 or not 0 < limit <= 600:
        usage("--rounds and --workers must be >= 1, --limit 0 to 600 seconds")
    if part == "time":
        rows = part_time(rounds, workers)
    elif part == "guard":
        rows = part_guard(limit)
    else:
        usage("%s: unknown part (time, guard)" % part)
    w = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
