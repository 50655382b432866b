#!/usr/bin/env python3
"""workspan.py: work and span of a run from its --trace, as Cilkscale reports them for Cilk.

    bin/parlab run -w primes -r fork -t 8 --trace t.csv && scripts/workspan.py t.csv

From the trace (task, worker, step, start_ns, end_ns): the work T1 is the sum of every
task's time; the span T_inf is, per step, the longest task, summed over the steps (steps
are separated by barriers, tasks within a step are independent); the parallelism is
T1 / T_inf. For P = 1, 2, 4, ..., 64 it prints the greedy-scheduler bounds
max(T1/P, T_inf) <= T_P <= T1/P + T_inf and the speedup range T1/T_P they allow: however
many cores, speedup never passes the parallelism. Dispatch costs are outside both (they
are not in any task's time), so a measured T_P can sit above the upper bound.

Output: --format text (default), or csv: one row per P with the totals repeated
(P,work_s,span_s,parallelism,lower_s,upper_s,speedup_max,speedup_min).
Exit status: 0, 64 for a missing or malformed trace.
"""
import csv
import sys

PS = (1, 2, 4, 8, 16, 32, 64)


def work_span(rows):
    """(work_s, span_s, tasks, steps) of trace rows (dicts with step, start_ns, end_ns)."""
    work, longest = 0, {}
    for r in rows:
        d = int(r["end_ns"]) - int(r["start_ns"])
        if d < 0:
            raise ValueError("task %s ends before it starts" % r.get("task"))
        work += d
        s = int(r["step"])
        longest[s] = max(longest.get(s, 0), d)
    return work / 1e9, sum(longest.values()) / 1e9, len(rows), len(longest)


def bounds(work, span, ps=PS):
    """[(P, lower_s, upper_s, speedup_max, speedup_min)] for the greedy bounds."""
    out = []
    for p in ps:
        lo, hi = max(work / p, span), work / p + span
        out.append((p, lo, hi, work / lo if lo else float("nan"), work / hi if hi else float("nan")))
    return out


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    need = {"task", "step", "start_ns", "end_ns"}
    if not rows or not need <= set(rows[0]):
        raise ValueError("not a parlab --trace file (want columns %s)" % ",".join(sorted(need)))
    return rows


def main(argv):
    form = "text"
    if len(argv) == 3 and argv[1] == "--format" and argv[2] in ("text", "csv"):
        form = argv[2]
    elif len(argv) != 1 or argv[0].startswith("-"):
        print("usage: workspan.py TRACE.csv [--format text|csv]", file=sys.stderr)
        return 64 if not argv or argv[0] not in ("-h", "--help") else 0
    try:
        work, span, tasks, steps = work_span(read(argv[0]))
    except (OSError, ValueError, KeyError) as e:
        print("workspan: %s: %s" % (argv[0], e), file=sys.stderr)
        return 64
    b = bounds(work, span)
    if form == "csv":
        print("P,work_s,span_s,parallelism,lower_s,upper_s,speedup_max,speedup_min")
        for p, lo, hi, smax, smin in b:
            print("%d,%.6f,%.6f,%.3f,%.6f,%.6f,%.3f,%.3f" % (p, work, span, work / span, lo, hi,
                                                             smax, smin))
        return 0
    print("# %d tasks in %d step(s): work T1 = %.4f s, span Tinf = %.4f s, parallelism "
          "T1/Tinf = %.2f" % (tasks, steps, work, span, work / span))
    print("# greedy bounds: max(T1/P, Tinf) <= T_P <= T1/P + Tinf")
    print("%4s  %10s  %10s  %s" % ("P", "T_P >= s", "T_P <= s", "speedup T1/T_P"))
    for p, lo, hi, smax, smin in b:
        print("%4d  %10.4f  %10.4f  %.2f … %.2f" % (p, lo, hi, smin, smax))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
