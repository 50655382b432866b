#!/usr/bin/env python3
"""analyse.py: the tables scripts/analyse.sh writes from a run's tidy CSVs, each read by its
header (csv.DictReader); every formula is scripts/verdict.py's (speedup, karpflatt,
noise_band, control_drift), so that each is written once.

    analyse.py point M0 S0 M S PARAM VALUE     one point's speedup,speedup_err,efficiency,
                        efficiency_err from the baseline mean and stddev (M0, S0; M0 empty:
                        none yet) and the point's (M, S); efficiency at PARAM = cores only
    analyse.py karpflatt [--scaling "R..."] CORES.csv
                        workload,runner,p,speedup,karpflatt,karpflatt_err: the Karp-Flatt e of
                        each speedup on p > 1 cores (with --scaling, only those runners; an
                        empty list: all)
    analyse.py flags --nproc N [--scaling "R..."] [--noise NOISE.csv] TIDY.csv... [WARNINGS.csv]
                        sweep,workload,runner,value,level,kind,text: noise told from findings
    analyse.py spread COLUMN [--max COLUMN2] < ROWS.csv
                        median,min,max of COLUMN over parlab's rows (at 9 decimals), and with
                        --max the largest COLUMN2 (a whole number); exit 1 without rows
    analyse.py summary NOISE.csv FLAGS.csv CORES.csv
                        workload,runner,cores,speedup,speedup_err,flag,noise: the speedup at
                        each workload's largest core count, its flag and the workload's noise

Flags. seq timed at every core count K is the noise control: it does the same work each
time, so its speedup should be 1. Its largest departure, delta = max over K of
max(|S - 1|, dS), is how much the machine moved between points. A point's noise band is
K delta + 2 dS (noise_band). Levels:
  flag   a point outside the band that would read as a finding: S > K (efficiency > 1,
         Karp-Flatt e < 0) beyond the band; e > 1 beyond it (slower than seq on 1 core);
         the control itself moved beyond its own spread. Never to be read as a result.
  noise  S > K but within the band: "within noise", not a finding either.
  note   hyperfine's own warnings for the point (outliers, a slow first run).
A control that moved while the disturbance meter (other_cpu) read little gets a text saying
the meter cannot tell why. --noise writes one row per workload: workload,delta,control_points.
Exit 0; 1 with one line when a CSV lacks the columns it needs; 64 on bad arguments.
"""
import csv
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verdict import median, control_drift, karpflatt, karpflatt_err, noise_band, speedup, speedup_err  # noqa: E402


class Bad(Exception):
    pass


def num(x):
    """A field as a number, 0 when empty or not a number (as the shell's tools take it)."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return 0.0


def text_of(v):
    """A whole number without its point (4, not 4.0); others at 6 significant digits."""
    return "%d" % v if v == int(v) else "%.6g" % v


def read(path, need=()):
    """A CSV's rows as dicts, its header first; Bad when a needed column is missing."""
    try:
        with open(path, newline="") as f:
            r = csv.DictReader(f)
            rows = list(r)
            head = r.fieldnames or []
    except OSError as e:
        raise Bad("%s: %s" % (path, e.strerror))
    miss = [c for c in need if c not in head]
    if miss:
        raise Bad("%s: the header needs %s" % (path, ", ".join(need)))
    return head, rows


def cmd_point(m0, s0, m, s, param, value):
    m, s, s0 = num(m), num(s), num(s0)
    if m0 == "" or m <= 0:
        return ",,,"
    m0 = num(m0)
    S, dS = speedup(m0, m), speedup_err(m0, s0, m, s)
    if param == "cores":
        p = num(value)
        return "%.4f,%.4f,%.4f,%.4f" % (S, dS, S / p, dS / p)
    return "%.4f,%.4f,," % (S, dS)


def cmd_karpflatt(path, scaling=None, out=sys.stdout):
    head, rows = read(path, ("workload", "runner", "value", "speedup"))
    out.write("workload,runner,p,speedup,karpflatt,karpflatt_err\n")
    for r in rows:
        if "param" in head and r["param"] != "cores":
            continue
        if scaling and r["runner"] not in scaling:
            continue
        p, S = num(r["value"]), r["speedup"]
        if p <= 1 or S == "" or num(S) <= 0:
            continue
        S = num(S)
        dS = num(r.get("speedup_err"))
        out.write("%s,%s,%d,%.4f,%.4f,%.4f\n" % (r["workload"], r["runner"], p, S,
                                                 karpflatt(S, p), karpflatt_err(S, dS, p)))


def clean(s):
    return s.replace(",", ";").replace('"', "")


def cmd_flags(paths, nproc, scaling, noise=None, out=sys.stdout):
    pts, notes, delta, ctl, base_o = [], [], {}, {}, {}
    for path in paths:
        head, rows = read(path)
        if "text" in head:
            for r in rows:
                notes.append((r["sweep"], r["workload"], r["runner"], r["value"], r["text"]))
            continue
        if "param" not in head or "speedup" not in head:
            raise Bad("%s: not a tidy CSV or hyperfine warnings" % path)
        for r in rows:
            if r["speedup"] == "":
                continue
            p = dict(sw=r["param"], w=r["workload"], r=r["runner"], K=num(r["value"]),
                     S=num(r["speedup"]), dS=num(r.get("speedup_err")),
                     O=r.get("other_cpu") or "")
            pts.append(p)
            if p["sw"] == "cores" and p["r"] == "seq":
                d, w = control_drift(p["S"], p["dS"]), p["w"]
                if w not in delta or d > delta[w]:
                    delta[w] = d
                ctl[w] = ctl.get(w, 0) + 1
                if p["K"] == 1:
                    base_o[w] = p["O"]

    def emit(sw, w, r, v, level, kind, text):
        out.write("%s,%s,%s,%s,%s,%s,%s\n" % (sw, w, r, v, level, kind, clean(text)))

    out.write("sweep,workload,runner,value,level,kind,text\n")
    for p in pts:
        sw, w, r, K, S, dS, O = p["sw"], p["w"], p["r"], p["K"], p["S"], p["dS"], p["O"]
        dl = delta.get(w, 0)
        # The ideal: K on K cores; min(W, nproc) for W workers on nproc cores; 1 for seq.
        ideal = 1 if r == "seq" else K if sw == "cores" else min(K, nproc) if sw == "workers" else 0
        if ideal == 0:
            continue
        band = noise_band(ideal, dS, dl)
        Kt = text_of(K)
        if r == "seq" and sw == "cores":
            moved = abs(S - 1)
            if K > 1 and moved > 2 * dS and moved > 0.03:
                t = ("control moved: seq on %d cores ran at %.2f of its 1-core speed (%+.0f%% time) "
                     "beyond its own spread (%.2f)" % (K, S, 100 * (1 / S - 1), dS))
                ob = base_o.get(w, "")
                busy_b, busy_p = ob != "" and num(ob) > 0.3, O != "" and num(O) > 0.3
                if busy_b:
                    t += ": other processes used %.2f of a CPU while the baseline (seq on 1 core) was timed" % num(ob)
                if busy_p:
                    t += ": other processes used %.2f of a CPU while this point was timed" % num(O)
                if not (busy_b or busy_p):
                    if ob == "" or O == "":
                        t += ": the points were too short for the disturbance meter (under 0.5 s) so it cannot tell why"
                    else:
                        t += (": the disturbance meter read only %.2f and %.2f of a CPU for other processes "
                              "(baseline and this point): it cannot tell why (it sees CPU time inside this "
                              "machine and hypervisor steal where reported - not the host's other guests on "
                              "the same core's other hyperthread or clock-speed changes or shared caches)"
                              % (num(ob), num(O)))
                t += "; every difference within %.0f%% is noise in this workload" % (100 * dl)
                emit(sw, w, r, Kt, "flag", "control", t)
            continue
        if S > ideal:
            if S - ideal > band:
                emit(sw, w, r, Kt, "flag", "above-ideal",
                     "speedup %.2f ± %.2f is above the ideal %g beyond the noise band (%.2f): efficiency > 1 "
                     "and Karp-Flatt e < 0 are impossible for real; suspect the baseline or the machine"
                     % (S, dS, ideal, band))
            else:
                emit(sw, w, r, Kt, "noise", "above-ideal",
                     "speedup %.2f ± %.2f above the ideal %g is within noise (band %.2f)" % (S, dS, ideal, band))
        if sw == "cores" and K > 1 and r in scaling and S < 1 and 1 - S > noise_band(1, dS, dl):
            emit(sw, w, r, Kt, "flag", "karpflatt-range",
                 "slower than seq on 1 core (S = %.2f ± %.2f): Karp-Flatt e = %.2f > 1; Amdahl's law does "
                 "not describe it (overhead rather than a serial part)" % (S, dS, karpflatt(S, K)))
    for n in notes:
        emit(*n[:4], "note", "hyperfine", n[4])
    if noise:
        with open(noise, "w") as f:
            f.write("workload,delta,control_points\n")
            for w in delta:
                f.write("%s,%.4f,%d\n" % (w, delta[w], ctl[w]))


def cmd_summary(noise_csv, flags_csv, cores_csv, out=sys.stdout):
    _, noise = read(noise_csv, ("workload", "delta"))
    delta = {r["workload"]: r["delta"] for r in noise}
    _, flags = read(flags_csv, ("sweep", "workload", "runner", "value", "level"))
    mark = {}
    for r in flags:
        if r["sweep"] == "cores" and r["level"] != "note":
            k = (r["workload"], r["runner"], r["value"])
            if mark.get(k) != "flag":
                mark[k] = r["level"]
    _, cores = read(cores_csv, ("workload", "runner", "param", "value", "speedup", "speedup_err"))
    K, row, runners = {}, {}, {}
    for r in cores:
        if r["param"] != "cores":
            continue
        w, v = r["workload"], num(r["value"])
        if w not in K or v > K[w]:
            K[w] = v
        row[(w, r["runner"], v)] = (r["speedup"], r["speedup_err"])
        runners.setdefault(w, [])
        if r["runner"] not in runners[w]:
            runners[w].append(r["runner"])
    out.write("workload,runner,cores,speedup,speedup_err,flag,noise\n")
    for w, rs in runners.items():
        for r in rs:
            if (w, r, K[w]) in row:
                s, e = row[(w, r, K[w])]
                out.write("%s,%s,%d,%s,%s,%s,%s\n" % (w, r, K[w], s, e, mark.get((w, r, text_of(K[w])), ""),
                                                      delta.get(w, "")))


def cmd_spread(column, max_column=None, f=sys.stdin):
    r = csv.DictReader(line for line in f if line.strip() and not line.startswith("#"))
    rows = list(r)
    for c in (column, max_column):
        if c and c not in (r.fieldnames or []):
            raise Bad("the rows have no column %s (their header: %s)" % (c, ",".join(r.fieldnames or [])))
    if not rows:
        raise Bad("no rows")
    v = [num(x[column]) for x in rows]
    out = "%.9f,%.9f,%.9f" % (median(v), min(v), max(v))
    if max_column:
        out += ",%d" % max(num(x[max_column]) for x in rows)
    print(out)


def main(argv):
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(__doc__.strip())
            return 0 if argv else 64
        cmd, rest = argv[0], list(argv[1:])
        opts, args = {}, []
        while rest:
            k = rest.pop(0)
            if not k.startswith("--"):
                args.append(k)
                continue
            if k not in ("--scaling", "--nproc", "--noise", "--max") or not rest:
                raise ValueError("%s: unknown option, or no value" % k)
            opts[k] = rest.pop(0)
        rest = args
        scaling = opts["--scaling"].split() if "--scaling" in opts else None
        if cmd == "point" and len(rest) == 6:
            print(cmd_point(*rest))
        elif cmd == "karpflatt" and len(rest) == 1:
            cmd_karpflatt(rest[0], scaling)
        elif cmd == "flags" and rest and "--nproc" in opts:
            nproc = num(opts["--nproc"])
            if not nproc >= 1:
                raise ValueError("--nproc %s: give the CPU count" % opts["--nproc"])
            cmd_flags(rest, nproc, scaling or [], opts.get("--noise"))
        elif cmd == "spread" and len(rest) == 1:
            cmd_spread(rest[0], opts.get("--max"))
        elif cmd == "summary" and len(rest) == 3:
            cmd_summary(*rest)
        else:
            raise ValueError("usage: see analyse.py --help")
    except ValueError as e:
        sys.stderr.write("analyse: %s\n" % e)
        return 64
    except Bad as e:
        sys.stderr.write("analyse: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
