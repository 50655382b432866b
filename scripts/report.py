#!/usr/bin/env python3
"""report.py: a bench run folder's report, index.html, rendered from one jinja2 template
(scripts/report.html.j2) out of the folder's CSVs, read by their headers.

    report.py render RUN_DIR            write RUN_DIR/index.html (scripts/report.sh calls it)
    report.py flagged RUN_DIR SWEEP WORKLOAD Y [RUNNERS]
                                        the points of SWEEP and WORKLOAD that flags.csv flags
                                        (of RUNNERS only, if given), as "x,y,runner" CSV with
                                        the column Y as y (what scripts/plots.sh rings in red)

As a module (scripts/check-report.py): flagged_points(), the plots a point appears in
(PLOTS), the files a folder holds and what they are (folder_listing()).
Exit 0, 64 on bad usage, 1 when RUN_DIR is not a bench run folder.
"""
import fnmatch
import json
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from verdict import TIDY_RENAMED, read_conf, read_csv  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

# What each file of a run folder is, by name pattern (fnmatch), first match wins: the
# "Files in this folder" table. Anything else in the folder is listed plainly under it.
FILES = [
    ("index.html", "this report"),
    ("machine.json", "the machine, compiler, commit and load when the run began"),
    ("bench.conf", "the sweep's settings: mode, sizes, runs, core and worker lists, how to rerun"),
    ("results.json", "the whole run as one JSON document: context, every point's summary with its interval, the flags and the findings"),
    ("left-out.txt", "the parts of the bench left out here, and why"),
    ("cores.csv", "one tidy row per point of the core sweep (hyperfine statistics, speedup)"),
    ("workers.csv", "one tidy row per point of the worker sweep"),
    ("concurrency.csv", "one tidy row per point of the sleep sweep"),
    ("timeline-rows.csv", "parlab's own rows for the two traced runs"),
    ("*-rows.csv", "parlab's own --format csv rows each sweep read, one per timed run or point"),
    ("karpflatt.csv", "Karp-Flatt e per point"),
    ("amdahl.csv", "the least-squares Amdahl fit per runner (or why none)"),
    ("gustafson.csv", "the least-squares Gustafson fit per runner of the weak sweep (or why none)"),
    ("weak.csv", "the weak-scaling sweep: N = K × N0 on K cores, the scaled speedup per point"),
    ("trace-*.csv", "the timelines (--trace): task, worker, step, start and end"),
    ("tasks.csv", "the task-count sweep: per-task cost of each runner against T"),
    ("tasks-floor.csv", "the contended fetch_add: the floor of a shared claim counter"),
    ("tasks-waits.csv", "concurrent waits on one epoll loop"),
    ("tasks-overhead.csv", "parlab overhead's figures, the floor taken from them"),
    ("tasks-*.csv", "the task-count sweep's other figures"),
    ("grain.csv", "the grain sweep: efficiency against the task's duration"),
    ("grain-metg.csv", "METG(50%) and METG(90%) per series with their intervals"),
    ("grain-findings.txt", "the grain sweep's findings, for people"),
    ("grain-*", "the grain sweep's every timed run"),
    ("commands.txt", "every measured command"),
    ("summary.csv", "speedup at all cores per workload and runner, flagged or not, with its interval and verdict"),
    ("samples.csv", "every timed run: its time and the CPU other processes used meanwhile (role control: the interleaved seq run)"),
    ("points.csv", "every point's speedup with its 95% interval and disturbed runs"),
    ("findings.csv", "the key findings and flags as verdicts (pass, fail, inconclusive) with their reasons"),
    ("findings.txt", "the findings that did not pass, one a line"),
    ("trust.txt", "the run's trust line"),
    ("flags.csv", "points outside (flag) or inside (noise) the noise band, hyperfine's warnings (note)"),
    ("hyperfine-warnings.csv", "hyperfine's warnings, each with its point"),
    ("noise.csv", "the seq control's drift per workload: the noise band's width"),
    ("warnings.txt", "what the report warns about"),
    ("noisy.txt", "points whose stddev is above 10% of the mean"),
    ("disturbed.txt", "points other processes disturbed even after retries"),
    ("raw/", "hyperfine's JSON (and CSV) export of every point"),
    ("plots/", "every plot as PNG and SVG"),
    ("logs/", "what hyperfine printed and each point's stderr"),
    ("compare/", "parlab against Python's multiprocessing, futures and asyncio (make compare)"),
    ("diff-*/", "this run against another (make diff)"),
]

# The plots that draw a sweep's points, runner by runner: plot name (a format with the
# workload), the sweep, the tidy CSV, its x and y columns. A flagged point of that sweep
# must be ringed on each of them that draws its runner (scripts/check-report.py).
PLOTS = [
    ("{w}-speedup", "cores", "cores.csv", "value", "speedup"),
    ("{w}-efficiency", "cores", "cores.csv", "value", "efficiency"),
    ("{w}-workers", "workers", "workers.csv", "value", "speedup"),
    ("sleep-concurrency", "concurrency", "concurrency.csv", "value", "mean_s"),
]


def num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def col(row, *names):
    """The first of the columns NAMES the row has (a column renamed keeps its old name's
    readers), else ""."""
    for n in names:
        if n in row and row[n] is not None:
            return row[n]
    return ""


def lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [l.rstrip("\n") for l in f if l.strip()]
    except OSError:
        return []


def nonempty(path):
    return os.path.isfile(path) and os.path.getsize(path) > 0


def flag_rows(run):
    return [r for r in read_csv(os.path.join(run, "flags.csv")) if r.get("level")]


def flagged_points(run, sweep, workload, y="speedup", csv_name=None):
    """The points of SWEEP and WORKLOAD flagged outside the noise band, in the tidy CSV's
    order: [(x, y, runner, value)], y read from column Y (points without one are left out)."""
    flagged = {(r["runner"], r["value"]) for r in flag_rows(run)
               if r["sweep"] == sweep and r["workload"] == workload and r["level"] == "flag"}
    out = []
    for row in read_csv(os.path.join(run, csv_name or sweep + ".csv")):
        if row.get("workload") != workload or row.get("param") != sweep:
            continue
        key = (row.get("runner"), row.get("value"))
        yv = num(col(row, y, *[o for o, n in TIDY_RENAMED.items() if n == y]))
        if key in flagged and yv is not None and num(row.get("value")) is not None:
            out.append((num(row["value"]), yv, key[0], key[1]))
    return out


def folder_listing(run):
    """Every entry of the run folder (folders end in "/"; hidden ones and a page being
    written aside left out), the report included: ([(description, [entries])] in FILES'
    order, [unknown entries])."""
    entries = ["index.html"]   # the report itself, listed before it is first written
    for name in sorted(os.listdir(run)):
        if name == "index.html":
            continue
        if name.startswith(".") or name.endswith(".tmp"):
            continue
        entries.append(name + "/" if os.path.isdir(os.path.join(run, name)) else name)
    known, unknown, seen = [], [], set()
    groups = {}
    for e in entries:
        for i, (pat, _) in enumerate(FILES):
            if pat.endswith("/") == e.endswith("/") and fnmatch.fnmatchcase(e, pat):
                groups.setdefault(i, []).append(e)
                seen.add(e)
                break
    for i, (_, text) in enumerate(FILES):
        if i in groups:
            known.append((text, groups[i]))
    unknown = [e for e in entries if e not in seen]
    return known, unknown


# ---- the figures ------------------------------------------------------------------------

def inline_svg(run, name, caption):
    """plots/NAME.svg as inline markup: its ids prefixed with NAME (several plots share one
    page), its title the caption; None when the plot was not drawn."""
    path = os.path.join(run, "plots", name + ".svg")
    if not nonempty(path):
        return None
    with open(path, encoding="utf-8") as f:
        svg = f.read()
    svg = re.sub(r"\A<\?xml[^\n]*\n", "", svg)
    svg = re.sub(r"""id=(['"])""", r"id=\g<1>%s-" % name, svg)
    svg = re.sub(r"""href=(['"])#""", r"href=\g<1>#%s-" % name, svg)
    esc = caption.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return svg.replace("<title>Gnuplot</title>", "<title>%s</title>" % esc, 1)


def figure(run, name, caption, notes=()):
    return {"name": name, "caption": caption, "svg": inline_svg(run, name, caption), "notes": list(notes)}


def fits(run, csv_name, workload):
    """The fits of a workload ({runner: (e, err)}) and why the other runners have none
    ({runner: note})."""
    done, why = {}, {}
    for r in read_csv(os.path.join(run, csv_name)):
        if r.get("workload") != workload:
            continue
        e = num(r.get("serial_fraction"))
        if e is not None:
            done[r["runner"]] = (e, num(r.get("serial_fraction_err")) or 0.0)
        else:
            why[r["runner"]] = r.get("note") or "no fit"
    return done, why


def fit_words(law, done, why):
    """What a plot's fit curves are, for its caption."""
    if done and not why:
        return "with %s fits (dotted)" % law
    parts = []
    if done:
        parts.append("with %s fits for %s (dotted)" % (law, ", ".join(sorted(done))))
    reasons = {}
    for r, w in why.items():
        if not w.startswith("not fitted: not meant"):
            reasons.setdefault(w, []).append(r)
    for w, rs in sorted(reasons.items()):
        parts.append("no %s fit for %s: %s" % (law, ", ".join(rs), w))
    return "; ".join(parts) or "no %s fit: no runner meant to scale" % law


def ring_words(n):
    return "%d flagged point%s ringed in red" % (n, "s" * (n != 1)) if n else ""


def caption(*parts):
    return "; ".join(p for p in parts if p)


# ---- the tables -------------------------------------------------------------------------

def pm(m, s, f="%.4f"):
    m, s = num(m), num(s)
    return (f + " ± " + f) % (m, s) if m is not None and s is not None else "–"


def speedup_cell(row):
    s = num(row.get("speedup"))
    lo, hi = num(row.get("speedup_ci_low")), num(row.get("speedup_ci_high"))
    if s is None:
        return "–"
    if lo is not None and hi is not None:
        return "%.2f× [%.2f, %.2f]" % (s, lo, hi)
    return "%.2f× ± %.2f" % (s, num(row.get("speedup_err")) or 0.0)


LEVEL_WORDS = {"flag": "flag: ", "noise": "within noise: ", "note": "hyperfine: "}


def notes_by_point(run, sweep):
    """{(workload, runner, value): (mark, [(level, text)])} from flags.csv."""
    out = {}
    for r in flag_rows(run):
        if r["sweep"] != sweep:
            continue
        k = (r["workload"], r["runner"], r["value"])
        mark, items = out.get(k, ("", []))
        items.append((r["level"], r.get("text", "")))
        if r["level"] == "flag" or (mark == "" and r["level"] == "noise"):
            mark = r["level"]
        out[k] = (mark, items)
    return out


def core_table(run, workload, scaling):
    kf = {(r["workload"], r["runner"], r.get("p", "")): "%.3f ± %.3f" % (num(r["karpflatt"]), num(r["karpflatt_err"]))
          for r in read_csv(os.path.join(run, "karpflatt.csv")) if num(r.get("karpflatt")) is not None}
    notes = notes_by_point(run, "cores")
    own = {}
    for r in read_csv(os.path.join(run, "cores-rows.csv")):
        u, s, rss = num(r.get("user_s")), num(r.get("sys_s")), num(r.get("max_rss_kb"))
        own[(r.get("workload"), r.get("runner"), r.get("value"))] = (
            "%.3f" % (u + s) if u is not None and s is not None else "",
            "%.1f" % (rss / 1024) if rss is not None else "")
    rows = []
    for r in read_csv(os.path.join(run, "cores.csv")):
        if r.get("workload") != workload:
            continue
        k = (workload, r["runner"], r["value"])
        mark, items = notes.get(k, ("", []))
        sym = " !" if mark == "flag" else " ~" if mark == "noise" else ""
        eff = num(r.get("efficiency"))
        if k in kf:
            e = kf[k]
        elif r["runner"] in scaling:
            e = "–"
        else:
            e = None   # not meant to scale
        other = col(r, "other_cpu")
        rows.append({
            "runner": r["runner"], "K": r["value"], "time": pm(col(r, "mean_s", "mean"), col(r, "stddev_s", "stddev")),
            "n": r.get("n", ""), "mark": mark, "speedup": speedup_cell(r) + sym,
            "efficiency": ("%.2f" % eff if eff is not None else "–") + sym, "e": e,
            "cpu": own.get(k, ("", ""))[0], "rss": own.get(k, ("", ""))[1], "other": other if other != "" else "–",
            "notes": [(lvl, LEVEL_WORDS.get(lvl, ""), text) for lvl, text in items]})
    return rows


def fit_table(run, workload):
    rows = []
    for r in read_csv(os.path.join(run, "amdahl.csv")):
        if r.get("workload") != workload:
            continue
        e, d = num(r.get("serial_fraction")), num(r.get("serial_fraction_err")) or 0.0
        if e is None:
            rows.append({"runner": r["runner"], "none": r.get("note") or "needs a point with K ≥ 2"})
            continue
        if e <= 0:
            lim = "none: e ≤ 0"
        elif e - d <= 0:
            lim = "≥ %.1f× (unbounded within 1σ)" % (1 / (e + d))
        else:
            lim = "%.1f× (%.1f … %.1f)" % (1 / e, 1 / (e + d), 1 / (e - d))
        rows.append({"runner": r["runner"], "e": "%.3f ± %.3f" % (e, d), "points": r.get("points", ""), "limit": lim})
    return rows


def sweep_notes(run, sweep, workload):
    return [{"level": r["level"], "point": "%s %s=%s" % (r["runner"], sweep, r["value"]),
             "words": LEVEL_WORDS.get(r["level"], ""), "text": r.get("text", "")}
            for r in flag_rows(run) if r["sweep"] == sweep and r["workload"] == workload]


def sweep_table(run, csv_name, workload):
    """Runners down, the parameter's values across (ascending)."""
    runners, values, cell = [], [], {}
    for r in read_csv(os.path.join(run, csv_name)):
        if r.get("workload") != workload:
            continue
        if r["runner"] not in runners:
            runners.append(r["runner"])
        if r["value"] not in values:
            values.append(r["value"])
        s = num(r.get("speedup"))
        cell[(r["runner"], r["value"])] = (pm(col(r, "mean_s", "mean"), col(r, "stddev_s", "stddev")),
                                           "%.2f×" % s if s is not None else "–")
    values.sort(key=lambda v: num(v) if num(v) is not None else math.inf)
    return {"runners": runners, "values": values,
            "rows": [(r, [cell.get((r, v)) for v in values]) for r in runners]} if runners else None


def summary_table(run):
    ws, rs, cell, noise, K = [], [], {}, {}, ""
    for r in read_csv(os.path.join(run, "summary.csv")):
        w, ru = r["workload"], r["runner"]
        if w not in ws:
            ws.append(w)
        if ru not in rs:
            rs.append(ru)
        K = r.get("cores", K)
        s, lo, hi = num(r.get("speedup")), num(r.get("ci_low")), num(r.get("ci_high"))
        if s is None:
            text = "–"
        elif lo is not None and hi is not None:
            text = "%.2f [%.2f, %.2f]" % (s, lo, hi)
        else:
            text = "%.2f ± %.2f" % (s, num(r.get("speedup_err")) or 0.0)
        flag = r.get("flag", "")
        cell[(w, ru)] = {"mark": flag, "text": text + (" !" if flag == "flag" else " ~" if flag == "noise" else ""),
                         "verdict": r.get("verdict", "")}
        d = num(r.get("noise"))
        noise[w] = "%.0f%%" % (100 * d) if d is not None else "–"
    if not ws:
        return None
    return {"K": K, "runners": rs, "rows": [(w, noise[w], [cell.get((w, ru)) for ru in rs]) for w in ws]}


def flag_counts(run):
    n = {"flag": 0, "noise": 0}
    notes = set()
    for r in flag_rows(run):
        n[r["level"]] = n.get(r["level"], 0) + 1
        if r["level"] == "note":
            notes.add((r["sweep"], r["workload"], r["runner"], r["value"]))
    return n["flag"], n["noise"], len(notes)


def workload_info(run, workload):
    for r in read_csv(os.path.join(run, "cores-rows.csv")):
        if r.get("workload") == workload:
            return r
    return None


def timeline(run):
    rows = read_csv(os.path.join(run, "timeline-rows.csv"))
    out, wall = [], {}
    for r in rows:
        u, s, w = num(r.get("user_s")), num(r.get("sys_s")), num(r.get("wall_s"))
        sched = r.get("schedule", "")
        wall[sched] = w
        out.append({"schedule": sched, "workers": r.get("workers", ""), "tasks": r.get("tasks", ""),
                    "wall": "%.4f" % w if w is not None else "–",
                    "cpu": "%.3f" % (u + s) if u is not None and s is not None else "–",
                    "answer": r.get("result", ""),
                    "verified": {"yes": "verified", "unchecked": "unchecked"}.get(r.get("verified"), "WRONG")})
    caveat = ""
    st, dy = wall.get("static"), wall.get("dynamic")
    if st and dy and dy > st:
        caveat = ("Here the dynamic schedule took longer than the static one (%.4f s against %.4f s, "
                  "%.0f%% more): one run of each, so this is not a finding; a dynamic schedule pays a "
                  "claim per task, and on a machine this small or this busy that cost or the noise can "
                  "outweigh the imbalance it removes." % (dy, st, 100 * (dy / st - 1)))
    return out, caveat


def tasks_waits(run):
    rows = read_csv(os.path.join(run, "tasks-waits.csv"))
    if not rows:
        return ""
    r = rows[0]
    med, lo, hi, rss = (num(col(r, k)) for k in ("median_s", "min_s", "max_s", "max_rss_kb"))
    if None in (med, lo, hi):
        return ""
    return "%s concurrent waits of %s ms on one epoll loop (ulimit -n 1024): %.3f s (%.3f … %.3f), %s MiB RSS." % (
        r.get("tasks", "?"), r.get("io_ms", "?"), med, lo, hi, "%.1f" % (rss / 1024) if rss is not None else "?")


# ---- the page ---------------------------------------------------------------------------

def context(run):
    import collections
    conf = collections.defaultdict(str, read_conf(run))
    try:
        with open(os.path.join(run, "machine.json"), encoding="utf-8") as f:
            machine = json.load(f)
    except (OSError, ValueError):
        machine = {}
    m = lambda k: "" if machine.get(k) is None else str(machine.get(k))   # noqa: E731
    if "scaling" in conf:
        scaling = conf["scaling"].split()
    else:
        scaling = [r for r in conf.get("runners", "").split() if r not in ("seq", "epoll")]
    nproc = conf.get("nproc", "")
    workloads = conf.get("workloads", "").split()

    def fmt_value(v):
        return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))

    cores_rows = read_csv(os.path.join(run, "cores.csv"))
    bars = ("error bars: 95% intervals" if any(num(r.get("speedup_ci_low")) is not None for r in cores_rows)
            else "error bars: ± the propagated error")
    ref = ("the reference run drawn faintly" if conf["reference"] and
           nonempty(os.path.join(run if not conf["reference"].startswith("/") else "", conf["reference"], "cores.csv"))
           else "")
    per = []
    for w in workloads:
        done, why = fits(run, "amdahl.csv", w)
        ring = len(flagged_points(run, "cores", w))
        eff_ring = len([p for p in flagged_points(run, "cores", w, "efficiency") if p[2] in scaling])
        gdone, gwhy = fits(run, "gustafson.csv", w)
        info = workload_info(run, w)
        figs = [figure(run, w + "-speedup", caption("%s: speedup against seq on 1 core, the ideal S = K dashed" % w,
                                                     bars, fit_words("Amdahl", done, why), ring_words(ring), ref)),
                figure(run, w + "-efficiency", caption("%s: parallel efficiency S / K of the runners meant to scale" % w,
                                                        ring_words(eff_ring)))]
        if nonempty(os.path.join(run, "plots", "weak-%s.svg" % w)):
            figs.append(figure(run, "weak-" + w, caption(
                "%s: weak scaling, N = K × N0 on K cores: scaled speedup" % w,
                fit_words("Gustafson", gdone, gwhy) if (gdone or gwhy) else "no Gustafson fit")))
        wring = len(flagged_points(run, "workers", w))
        per.append({
            "name": w, "info": info, "figures": figs,
            "core_table": core_table(run, w, scaling) if nonempty(os.path.join(run, "cores.csv")) else [],
            "fit_table": fit_table(run, w),
            "workers_figure": figure(run, w + "-workers", caption(
                "%s: speedup against workers, oversubscribed beyond %s" % (w, nproc), ring_words(wring))),
            "workers_table": sweep_table(run, "workers.csv", w) if nonempty(os.path.join(run, "workers.csv")) else None,
            "workers_notes": sweep_notes(run, "workers", w)})

    tl_rows, tl_caveat = timeline(run)
    known, unknown = folder_listing(run)

    def href(e):   # a folder with a page of its own (compare/, diff-*/) links to it
        return e + "index.html" if e.endswith("/") and nonempty(os.path.join(run, e, "index.html")) else e
    present = {e for _, es in known for e in es} | set(unknown)
    known = [(text, [(e, href(e)) for e in es]) for text, es in known]
    unknown = [(e, href(e)) for e in unknown]
    flagged_list = ["%s %s %s=%s: %s" % (r["workload"], r["runner"], r["sweep"], r["value"], r.get("text", ""))
                    for r in flag_rows(run) if r["level"] == "flag"]
    commands = lines(os.path.join(run, "commands.txt"))
    trust = lines(os.path.join(run, "trust.txt"))
    commit = m("git_commit")
    return {
        "host": m("host"), "cpu_model": m("cpu_model"), "cpus_allowed": m("cpus_allowed"), "date": m("date"),
        "dirty": machine.get("git_dirty") is True, "commit": commit, "nproc": nproc, "conf": conf,
        "scaling": " ".join(scaling), "workloads": per, "machine": [(k, fmt_value(v)) for k, v in machine.items()],
        "trust": trust[0] if trust else "", "trust_ok": bool(trust) and trust[0].startswith("quiet"),
        "summary": summary_table(run) if nonempty(os.path.join(run, "summary.csv")) else None,
        "findings": lines(os.path.join(run, "findings.txt")),
        "has_flags": nonempty(os.path.join(run, "flags.csv")), "flag_counts": flag_counts(run),
        "grain_headline": " ".join(l for l in lines(os.path.join(run, "grain-findings.txt"))
                                   if l.startswith(("headline", "ratios"))),
        "flagged": flagged_list, "warnings": lines(os.path.join(run, "warnings.txt")),
        "noisy": lines(os.path.join(run, "noisy.txt")), "disturbed": lines(os.path.join(run, "disturbed.txt")),
        "sleep": figure(run, "sleep-concurrency", "sleep: wall time against concurrency, log axes, with the ideal T/W line")
        if nonempty(os.path.join(run, "concurrency.csv")) else None,
        "sleep_table": sweep_table(run, "concurrency.csv", "sleep"), "sleep_notes": sweep_notes(run, "concurrency", "sleep"),
        "tasks": figure(run, "tasks-per-task", "noop: per-task cost against the task count, log axes, "
                        "median with min … max, " + (
                            "the contended-atomic floor dashed" if any(num(r.get("median_ns")) for r in read_csv(
                                os.path.join(run, "tasks-floor.csv"))) else "no floor (not measured in this run)"))
        if nonempty(os.path.join(run, "plots", "tasks-per-task.svg")) else None,
        "tasks_waits": tasks_waits(run),
        "grain": figure(run, "grain-efficiency", "spin: efficiency against the task grain, min … max over the "
                        "repeats, the 50% line dashed") if nonempty(os.path.join(run, "plots", "grain-efficiency.svg")) else None,
        "grain_findings": lines(os.path.join(run, "grain-findings.txt")),
        "timeline": figure(run, "timeline-primes", "primes: one bar per task, one row per worker, static above, "
                           "dynamic below", [tl_caveat] if tl_caveat else [])
        if nonempty(os.path.join(run, "plots", "timeline-primes.svg")) else None,
        "timeline_rows": tl_rows, "commands": commands,
        "files_known": known, "files_unknown": unknown, "present": present,
    }


def render(run):
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    page = env.get_template("report.html.j2").render(**context(run))
    tmp = os.path.join(run, "index.html.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(page)
    os.replace(tmp, os.path.join(run, "index.html"))


def main(argv):
    usage = "usage: report.py render RUN_DIR | report.py flagged RUN_DIR SWEEP WORKLOAD Y [RUNNERS]"
    if len(argv) < 2 or argv[0] not in ("render", "flagged"):
        print(usage, file=sys.stderr)
        return 64
    run = argv[1]
    if not nonempty(os.path.join(run, "bench.conf")):
        print("report: %s/bench.conf is missing: not a bench run folder" % run, file=sys.stderr)
        return 1
    if argv[0] == "render" and len(argv) == 2:
        render(run)
        return 0
    if argv[0] == "flagged" and len(argv) in (5, 6):
        only = argv[5].split() if len(argv) == 6 else None
        print("x,y,runner")
        for x, y, r, _ in flagged_points(run, argv[2], argv[3], argv[4]):
            if only is None or r in only:
                print("%s,%s,%s" % (x, y, r))
        return 0
    print(usage, file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
