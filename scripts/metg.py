#!/usr/bin/env python3
"""metg.py: efficiency against task grain, and METG, from scripts/sweep-grain.sh's rows.

usage: metg.py ROWS_CSV CURVE_CSV METG_CSV CORES   (findings on stdout)

ROWS_CSV has one row per timed run: series,grain_ns,rep,tasks,workers,wall_s,verified and
other_cpu (the CPU other processes used while it ran: a goal fails only on quiet runs).
A run's raw efficiency is the work it did over what CORES CPUs could do in its wall time,
T*grain / (CORES*(wall - start)), where start is the series' own cost of starting and
stopping its workers (its grain-0 rows: W tasks of 100 ns). Efficiency is that over the peak: the best raw efficiency of any
point of the same family (parlab's runners; Python's peers, whose tasks are calibrated in
the interpreter), as Task Bench measures against the peak rate. METG(x) is the smallest
grain at which a series still reaches x: from the largest grain down, the first point
below x and the one above it, interpolated linearly in log(grain). Its interval is the
2.5 and 97.5 percentiles over bootstrap resamples of each point's repeats
(docs/decisions.md, "METG").

The rows of the series "speed" (omp or thread on CORES CPUs at 100 us tasks, the same work
at the start of every grain: grain_ns the grain they precede) measure the machine's speed
as that grain's points ran. Every run at a grain is scaled by the grain's speed against the
median of all grains (its wall times the ratio), so that a slow spell of the machine (a
VM's host) does not pass for a runner's cost. Without speed rows, nothing is scaled.
"""
import csv
import math
import os
import sys
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verdict  # noqa: E402  (the statistics and the verdicts, once)
from verdict import fmt, median, median_replicates, metered_load, percentile_interval  # noqa: E402

LEVELS = (0.5, 0.9)
SPEED = "speed"   # the series that measures the machine's speed at each grain
BOOT = 2000
NEVER = 1e30   # the grain a bootstrap replicate that never reaches the level stands at


def family(series):
    return "python" if series.startswith("py-") else "parlab"


def metg(grains, effs, x):
    """(grain, bound): bound "" (crossed inside the sweep), "at-most" (every point reaches
    x: METG is at most the smallest grain) or "never" (the largest grain misses x)."""
    if effs[-1] < x:
        return math.inf, "never"
    for i in range(len(grains) - 2, -1, -1):
        if effs[i] < x:
            e0, e1 = effs[i], effs[i + 1]
            l0, l1 = math.log(grains[i]), math.log(grains[i + 1])
            f = (x - e0) / (e1 - e0) if e1 > e0 else 1.0
            return math.exp(l0 + f * (l1 - l0)), ""
    return float(grains[0]), "at-most"


def human(ns):
    if not math.isfinite(ns):
        return "beyond the sweep"
    if ns < 1e3:
        return "%.0f ns" % ns
    if ns < 1e6:
        return "%.3g us" % (ns / 1e3)
    return "%.3g ms" % (ns / 1e6)


# METG(50%) ratios the findings give (a/b: how many times coarser a's grain must be), and
# the goals they are judged against: the C pools as fine as OpenMP's (within 1.1×), and
# Python's Pool.map at least 1,000× coarser than the fork pool, process against process.
RATIOS = [("fork", "omp"), ("thread", "omp"), ("py-pool-map1", "fork"),
          ("py-asyncio", "epoll"), ("py-ppe", "fork"), ("mpi", "omp")]
GOALS = [("fork", "omp", "<=", 1.1, "fork's METG(50%) at most 1.1× OpenMP's"),
         ("thread", "omp", "<=", 1.1, "thread's METG(50%) at most 1.1× OpenMP's"),
         ("py-pool-map1", "fork", ">=", 1000, "Python's Pool.map (chunksize 1) at least "
          "1,000× the fork pool's METG(50%)")]


def ratio_of(result, replicates, a, b):
    """METG(50%) of A over B's: (point, kind, lo, hi). kind "" a value with its 95% interval
    (the percentiles of the bootstrap replicates' ratios, each series resampled on its own);
    "at-most" or "at-least" a bound, where one METG is itself a bound of the sweep (lo, hi
    None); "unknown" where both are, or either never reaches 50%."""
    va, ba = result[a][0.5][:2]
    vb, bb = result[b][0.5][:2]
    if "never" in (ba, bb) or (ba and bb) or not vb > 0:
        return float("nan"), "unknown", None, None
    if ba == "at-most":     # a at most its smallest grain: the ratio is at most the point
        return va / vb, "at-most", None, None
    if bb == "at-most":     # b at most its smallest grain: the ratio is at least the point
        return va / vb, "at-least", None, None
    ra, rb = replicates[a], replicates[b]
    ok = (ra < NEVER / 2) & (rb < NEVER / 2)
    if ok.sum() < len(ra) * 0.975:   # the interval would reach a replicate that never crossed
        return va / vb, "", None, None
    lo, hi = percentile_interval(ra[ok] / rb[ok], 0.95, log=True)
    return va / vb, "", lo, hi


def ratio_text(point, kind, lo, hi):
    if kind == "unknown":
        return "not known (a METG outside the sweep)"
    if kind:
        return "%s %s×" % ("≤" if kind == "at-most" else "≥", fmt(point))
    return "%s×" % fmt(point) + (" [%s, %s]" % (fmt(lo), fmt(hi)) if lo is not None else "")


def goal_verdict(r, op, bound, what, loads):
    """The claim "ratio OP bound" as a verdict: on the ratio's interval as every verdict is
    judged (verdict.judge_interval: a fail only on quiet runs, LOADS the other-CPU figures of
    both series); a ratio that is itself a bound of the sweep settles it only on its own
    side, else it is inconclusive."""
    point, kind, lo, hi = r
    above = op == ">="
    if kind == "unknown":
        return verdict.Verdict(verdict.INCONCLUSIVE, "%s: %s" % (what, ratio_text(*r)),
                               "a sweep to finer or coarser grains")
    if kind:
        if (kind == "at-least") == above and (point >= bound if above else point <= bound):
            return verdict.Verdict(verdict.PASS, "%s %s, %s %s" % (
                what, ratio_text(*r), op, fmt(bound)), "", point)
        return verdict.Verdict(verdict.INCONCLUSIVE, "%s %s: a bound of the sweep, which does "
                               "not settle %s %s" % (what, ratio_text(*r), op, fmt(bound)),
                               "a sweep to finer grains", point)
    return verdict.judge_interval(None if lo is None else (point, lo, hi), bound, above, what,
                                  loads)


def main(argv):
    if len(argv) != 5:
        sys.exit("usage: metg.py ROWS_CSV CURVE_CSV METG_CSV CORES")
    rows_path, curve_path, metg_path, cores = argv[1], argv[2], argv[3], int(argv[4])
    walls = defaultdict(list)       # (series, grain) -> [wall_s]
    starts = defaultdict(list)      # series -> [wall_s of its grain-0 rows: the start]
    tasks = {}
    order = []
    others = defaultdict(list)      # series -> other_cpu of its runs, as read
    with open(rows_path) as f:
        rows = list(csv.DictReader(f))
    # The machine's speed at each grain: the speed point's tasks per wall second (the same
    # tasks at every grain; the median of its repeats), over the median of all grains.
    runs = defaultdict(list)
    for r in rows:
        if r["series"] == SPEED:
            runs[int(r["grain_ns"])].append(int(r["tasks"]) / float(r["wall_s"]))
    rate = {g: median(v) for g, v in runs.items()}
    typical = median(list(rate.values())) if rate else 1.0
    speed = {g: v / typical for g, v in rate.items()}
    for r in rows:
        if r["series"] == SPEED:
            continue
        key = (r["series"], int(r["grain_ns"]))
        if r["series"] not in order:
            order.append(r["series"])
        # verdict.py skips a blank; a run too short for the load meter has none
        others[r["series"]].append(metered_load(r.get("wall_s"), r.get("other_cpu")))
        if key[1] == 0:
            starts[r["series"]].append(float(r["wall_s"]))
            continue
        # a run at a slow grain (speed < 1) would have taken that much less at the usual speed
        walls[key].append(float(r["wall_s"]) * speed.get(key[1], 1.0))
        tasks[key] = int(r["tasks"])
    if not walls:
        sys.exit("metg.py: no rows in %s" % rows_path)
    start = {s: median(v) if v else 0.0 for s, v in starts.items()}

    def raw(key, wall):
        # The series' start taken out, but never more than half the run: a start measured
        # longer than a whole point (noise) must not make that point look free.
        busy = max(wall - start.get(key[0], 0.0), wall / 2)
        return tasks[key] * key[1] / (cores * busy * 1e9)

    peak = defaultdict(float)
    for key, w in walls.items():
        peak[family(key[0])] = max(peak[family(key[0])], raw(key, median(w)))

    def eff(key, wall):
        return raw(key, wall) / peak[family(key[0])]

    with open(curve_path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["series", "grain_ns", "tasks", "n", "median_s", "efficiency",
                      "efficiency_min", "efficiency_max", "raw_efficiency", "peak", "start_s"])
        for s in order:
            for g in sorted(g for (t, g) in walls if t == s):
                w = walls[(s, g)]
                m = median(w)
                out.writerow([s, g, tasks[(s, g)], len(w), "%.9f" % m, "%.4f" % eff((s, g), m),
                              "%.4f" % eff((s, g), max(w)), "%.4f" % eff((s, g), min(w)),
                              "%.4f" % raw((s, g), m), "%.4f" % peak[family(s)],
                              "%.6f" % start.get(s, 0.0)])

    rng = np.random.default_rng(20201109)
    result = {}
    replicates = {}   # series -> METG(50%) of each bootstrap replicate (for the ratios)
    for s in order:
        grains = sorted(g for (t, g) in walls if t == s)
        ws = [walls[(s, g)] for g in grains]
        effs = [eff((s, g), median(w)) for g, w in zip(grains, ws)]
        # Each bootstrap replicate: every point's repeats resampled, its median taken.
        boot = np.empty((BOOT, len(grains)))
        for j, (g, w) in enumerate(zip(grains, ws)):
            boot[:, j] = [eff((s, g), m) for m in median_replicates(w, BOOT, rng)]
        result[s] = {}
        for x in LEVELS:
            v, bound = metg(grains, effs, x)
            # "never" counts as beyond any grain: an interval that reaches it is open above.
            reps = np.array([min(metg(grains, list(b), x)[0], NEVER) for b in boot])
            lo, hi = percentile_interval(reps, 0.95, log=True)
            result[s][x] = (v, bound, lo if lo < NEVER / 2 else math.inf,
                            hi if hi < NEVER / 2 else math.inf)
            if x == 0.5:
                replicates[s] = reps

    with open(metg_path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["series", "metg50_ns", "metg50_ci_low_ns", "metg50_ci_high_ns", "metg50_bound",
                      "metg90_ns", "metg90_ci_low_ns", "metg90_ci_high_ns", "metg90_bound", "peak"])
        for s in order:
            row = [s]
            for x in LEVELS:
                v, bound, lo, hi = result[s][x]
                row += ["%.0f" % v if math.isfinite(v) else "",
                        "%.0f" % lo if math.isfinite(lo) else "",
                        "%.0f" % hi if math.isfinite(hi) else "", bound]
            out.writerow(row + ["%.4f" % peak[family(s)]])

    def shown(s, x):
        v, bound, lo, hi = result[s][x]
        if bound == "never":
            return "never (below %d%% at the largest grain)" % round(100 * x)
        pre = "<= " if bound == "at-most" else ""
        return "%s%s [%s, %s]" % (pre, human(v), human(lo), human(hi))

    print("METG(50%%) and METG(90%%), W = %d, with 95%% bootstrap intervals:" % cores)
    if speed:
        print("  (the machine's speed at the %d grains, against their median: %s … %s; each "
              "grain's runs scaled by it)" % (len(speed), fmt(min(speed.values())), fmt(max(speed.values()))))
    for s in order:
        print("  %-13s %-32s %s" % (s, shown(s, 0.5), shown(s, 0.9)))
    parts = []
    for a, b in RATIOS:
        if a in result and b in result:
            parts.append("%s/%s %s" % (a, b, ratio_text(*ratio_of(result, replicates, a, b))))
    if parts:
        print("ratios of METG(50%): " + ", ".join(parts))
    for a, b, op, bound, say in GOALS:
        if a in result and b in result:
            v = goal_verdict(ratio_of(result, replicates, a, b), op, bound,
                             "%s/%s METG(50%%)" % (a, b), others[a] + others[b])
            print("goal: %s: %s" % (say, v))
    head = []
    for s, what in (("thread", "threads"), ("fork", "processes"), ("py-pool-map1", "Python's Pool")):
        if s in result:
            v, bound = result[s][0.5][:2]
            head.append("%s %s" % (what, "not within the sweep" if bound == "never" else
                                   "above %s%s" % ("at most " if bound == "at-most" else "",
                                                   human(v))))
    if head:
        print("headline (METG(50%%)): %s pay off for tasks %s" % (
            head[0].split(" ", 1)[0], ", ".join([head[0].split(" ", 1)[1]] + head[1:])))


if __name__ == "__main__":
    main(sys.argv)
