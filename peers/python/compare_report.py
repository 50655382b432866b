#!/usr/bin/env python3
"""compare_report.py: turn scripts/compare.sh's raw measurements (hyperfine JSON and the
last run's CSV row of each benchmark) into compare.csv, gnuplot data and index.html.

    compare_report.py DIR --mode M --workers W --io-workers W --parlab BIN --seed S
                      --elapsed SECONDS --runners "seq fork ..." --models "py-seq ..."
                      [--no-peer "w ..."]

The CPU workloads, their order and their units come from the registry (BIN list --format
json); --no-peer names those Python's peer does not implement, shown with C rows only.

DIR is the compare/ folder; it reads DIR/raw/ and writes DIR/compare.csv, DIR/index.html
and DIR/raw/*.dat plus DIR/raw/vars.gp, which scripts/compare.gp plots. The speedups' 95%
intervals and their verdicts come from scripts/verdict.py (scipy), and DIR/trust.txt holds the
comparison's trust line.
"""
import argparse
import csv
import html
import json
import math
import os
import platform
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import verdict  # noqa: E402  (scripts/verdict.py: the one place timings become verdicts)

C_COLOR, PY_COLOR = "#3465a4", "#e9a23b"
LANG_NAME = {"c": "C (parlab)", "py": "Python"}
# Runners side by side by idea: each C runner next to the Python models of the same kind.
# The event loops: on CPU work py-asyncio hands each task to a ProcessPoolExecutor of W
# processes, so its like-for-like C runner is epoll-loops (`epoll --loops W`, W forked
# loops); plain epoll runs the work inline on one core. On waits, epoll and py-asyncio
# are the pair: one thread each, waiting on timers.
GROUPS = [("seq", "py-seq"), ("fork", "py-pool-map1", "py-pool-map", "py-ppe"),
          ("thread", "py-tpe"), ("process", "py-process"),
          ("epoll", "epoll-loops", "py-asyncio"), ("omp",)]
# Series colours for the sleep charts: one per idea, C solid, Python dashed.
IDEA_COLOR = ["#555753", "#3465a4", "#4e9a06", "#a40000", "#75507b", "#c17d11"]


def idea_of(runner):
    for i, g in enumerate(GROUPS):
        if runner in g:
            return i
    return len(GROUPS)


def order_key(row):
    g = idea_of(row["runner"])
    pos = GROUPS[g].index(row["runner"]) if g < len(GROUPS) else 0
    return (g, pos)


def read_rows(d):
    """The benchmarks listed in raw/index.tsv, each with hyperfine's statistics and the
    CSV row of its last timed run."""
    rows = []
    with open(os.path.join(d, "raw", "index.tsv")) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            with open(os.path.join(d, "raw", r["id"] + ".json")) as jf:
                hf = json.load(jf)["results"][0]
            with open(os.path.join(d, "raw", r["id"] + ".csv")) as cf:
                run = list(csv.DictReader(cf))[-1]
            times = hf["times"]
            try:
                with open(os.path.join(d, "raw", r["id"] + ".load")) as lf:
                    load = [float(lf.read())]
            except (OSError, ValueError):
                load = []
            r.update(times=times, load=load, command=hf["command"], size=int(run["size"]),
                     workers=int(r["workers"]), io_ms=int(r["io_ms"]), mean=hf["mean"],
                     sd=hf["stddev"] or 0.0, min=hf["min"], max=hf["max"],
                     runs=len(times), tasks=int(run["tasks"]), result=run["result"],
                     verified=run["verified"], check=run["check"], host=run["host"],
                     wall_s=float(run["wall_s"]), cores=int(run["cores"]))
            rows.append(r)
    return rows


def ratio_err(a, sa, b, sb):
    """a/b and its standard error, relative errors added in quadrature."""
    q = a / b
    return q, q * math.sqrt((sa / a) ** 2 + (sb / b) ** 2)


def registry(parlab):
    """The CPU workloads of `parlab list --format json`, in its order: {name: unit}."""
    doc = json.loads(subprocess.run([parlab, "list", "--format", "json"], capture_output=True,
                                    text=True, timeout=30, check=True).stdout)
    return {r["name"]: r["unit"] for r in doc["rows"]
            if r["type"] == "workload" and r["kind"] == "cpu"}


def cpu_tables(rows, units):
    """Per workload (the registry's order): rows in side-by-side order, with time per unit
    and speedup against the same language's seq."""
    out = {}
    for wl in units:
        sel = sorted((r for r in rows if r["section"] == "cpu" and r["workload"] == wl),
                     key=order_key)
        if not sel:
            continue
        base = {r["lang"]: r for r in sel if r["runner"] in ("seq", "py-seq")}
        for r in sel:
            r["unit_ns"] = r["mean"] / r["size"] * 1e9
            r["unit_err"] = r["sd"] / r["size"] * 1e9
            b = base.get(r["lang"])
            if r is b:      # seq against itself: 1 by definition, not a measured ratio
                r["speedup"], r["speedup_err"] = 1.0, 0.0
            else:
                r["speedup"], r["speedup_err"] = ratio_err(b["mean"], b["sd"], r["mean"],
                                                           r["sd"])
                # The claim "it speeds up on W workers": its 95% bootstrap interval against
                # 1, inconclusive when it spans 1, has too few runs or met a busy machine.
                ci = verdict.ratio_ci(b["times"], r["times"])
                r["ci"] = ci
                r["verdict"] = verdict.judge_interval(ci, 1.0, True, "the speedup",
                                                      b["load"] + r["load"])
        out[wl] = sel
    return out


def noop_table(rows):
    """Per runner: the marginal cost of one task, the slope of time against task count
    between the two sizes measured, so that start-up and pool start cancel."""
    by = {}
    for r in rows:
        if r["section"] == "noop":
            by.setdefault((r["lang"], r["runner"]), []).append(r)
    out = []
    for (lang, runner), rs in by.items():
        rs.sort(key=lambda r: r["size"])
        lo, hi = rs[0], rs[-1]
        dn = hi["size"] - lo["size"]
        if dn <= 0:
            continue
        slope = (hi["mean"] - lo["mean"]) / dn
        err = math.hypot(hi["sd"], lo["sd"]) / dn
        out.append({"lang": lang, "runner": runner, "lo": lo, "hi": hi,
                    "per_task_us": slope * 1e6, "err_us": err * 1e6,
                    "fixed_ms": (lo["mean"] - slope * lo["size"]) * 1e3})
        hi["unit_ns"], hi["unit_err"] = slope * 1e9, err * 1e9
    out.sort(key=lambda e: order_key(e))
    # What the hand-off adds: the runner's cost per task less its own language's seq,
    # which pays for the task alone (a call, a result slot) and nothing else.
    floor = {e["lang"]: e["per_task_us"] for e in out if e["runner"] in ("seq", "py-seq")}
    for e in out:
        e["over_seq_us"] = e["per_task_us"] - floor[e["lang"]] if e["lang"] in floor else None
    return out


def write_compare_csv(d, rows):
    cols = ["section", "lang", "workload", "runner", "size", "tasks", "workers", "cores",
            "io_ms", "n", "mean_s", "stddev_s", "min_s", "max_s", "unit_ns", "unit_err_ns",
            "speedup", "speedup_err", "result", "verified", "check", "host", "ci_low", "ci_high",
            "verdict", "other_cpu"]
    with open(os.path.join(d, "compare.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([r["section"], r["lang"], r["workload"], r["runner"], r["size"],
                        r["tasks"], r["workers"], r["cores"], r["io_ms"], r["runs"],
                        "%.6f" % r["mean"], "%.6f" % r["sd"], "%.6f" % r["min"],
                        "%.6f" % r["max"], fmt_opt(r.get("unit_ns")),
                        fmt_opt(r.get("unit_err")), fmt_opt(r.get("speedup"), "%.4f"),
                        fmt_opt(r.get("speedup_err"), "%.4f"), r["result"], r["verified"],
                        r["check"], r["host"]] + (
                            ["%.4f" % r["ci"][1], "%.4f" % r["ci"][2]] if r.get("ci") else ["", ""]) + [
                            r["verdict"].status if r.get("verdict") else "",
                            fmt_opt(r["load"][0], "%.2f") if r.get("load") else ""])


def fmt_opt(v, f="%.3f"):
    return "" if v is None else f % v


def gp_str(s):
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def bars_dat(path, entries, value, err):
    """x label colour value err lang: one bar per entry, a gap between ideas."""
    x, last = 0.0, None
    with open(path, "w") as f:
        f.write("# x label colour value err lang\n")
        for e in entries:
            g = idea_of(e["runner"])
            if last is not None:
                x += 1.0 if g == last else 1.6
            last = g
            f.write('%.2f "%s" %d %.6g %.6g %s\n' % (
                x, e["runner"], int((C_COLOR if e["lang"] == "c" else PY_COLOR)[1:], 16),
                value(e), err(e), e["lang"]))


def series_dat(path, series):
    """One block per series (separated by two blank lines) of: N mean_s stddev_s."""
    with open(path, "w") as f:
        for i, (_, pts) in enumerate(series):
            if i:
                f.write("\n\n")
            f.write("# N mean_s stddev_s\n")
            for r in pts:
                f.write("%d %.6f %.6f\n" % (r["size"], r["mean"], r["sd"]))


def sleep_series(rows, section):
    by = {}
    for r in rows:
        if r["section"] == section:
            by.setdefault((r["lang"], r["runner"]), []).append(r)
    keys = sorted(by, key=lambda k: (idea_of(k[1]), k[0] != "c", k[1]))
    return [(k, sorted(by[k], key=lambda r: r["size"])) for k in keys]


def gp_arrays(f, name, series):
    n = len(series)
    f.write("%s_n = %d\n" % (name, n))
    if not n:
        return
    f.write("array %s_title[%d]\narray %s_color[%d]\narray %s_dash[%d]\n" % (
        name, n, name, n, name, n))
    for i, ((lang, runner), _) in enumerate(series, 1):
        f.write("%s_title[%d] = %s\n" % (name, i, gp_str("%s (%s)" % (
            runner, "C" if lang == "c" else "Python"))))
        f.write("%s_color[%d] = %s\n" % (name, i, gp_str(IDEA_COLOR[idea_of(runner) % 6])))
        f.write("%s_dash[%d] = %d\n" % (name, i, 1 if lang == "c" else 2))


def machine(d, args):
    """machine.json (scripts/machine.sh, taken at the start), plus what it does not know:
    the Python that ran the peers, parlab's version, and the load at the end."""
    with open(os.path.join(d, "machine.json")) as f:
        m = json.load(f)
    m["python"] = "%s %s (%s)" % (platform.python_implementation(),
                                  platform.python_version(), sys.executable)
    try:
        m["parlab"] = subprocess.run([args.parlab, "--version"], capture_output=True,
                                     text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        m["parlab"] = "unknown"
    m["load_end"] = os.getloadavg()
    return m


def write_vars(d, m, args, cpu, noop, steps, scale, rows, units, no_peer):
    sizes = {}
    for wl, sel in cpu.items():
        n = {r["lang"]: r["size"] for r in sel}
        sizes[wl] = "C N=%s, Python N=%s" % (n.get("c", "-"), n.get("py", "-"))
        if wl in no_peer:
            sizes[wl] = "C N=%s, no Python peer" % n.get("c", "-")
    runs = {r["section"]: r["runs"] for r in rows}
    with open(os.path.join(d, "raw", "vars.gp"), "w") as f:
        f.write("machine = %s\n" % gp_str("%s: %s, %d CPUs" % (m["host"], m["cpu_model"],
                                                              m["nproc"])))
        f.write("workers = %d\nio_workers = %d\n" % (args.workers, args.io_workers))
        f.write("cpu_runs = %d\nnoop_runs = %d\nsleep_runs = %d\n" % (
            runs.get("cpu", 0), runs.get("noop", 0), runs.get("sleep", 0)))
        f.write("workloads = %s\n" % gp_str(" ".join(cpu)))
        for wl in cpu:
            f.write("size_%s = %s\nunit_%s = %s\n" % (wl, gp_str(sizes[wl]), wl,
                                                       gp_str(units[wl])))
        f.write("have_noop = %d\n" % bool(noop))
        io = {r["io_ms"] for r in rows if r["section"] == "sleep"}
        sio = {r["io_ms"] for r in rows if r["section"] == "scale"}
        f.write("io_ms = %d\nscale_io_ms = %d\n" % (min(io or {0}), min(sio or {0})))
        gp_arrays(f, "steps", steps)
        gp_arrays(f, "scale", scale)


# --- the page -------------------------------------------------------------------------------

def esc(s):
    return html.escape(str(s))


def pm(v, e, f="%.3f"):
    return (f + " &plusmn; " + f) % (v, e)


def table(head, body):
    h = "".join("<th>%s</th>" % c for c in head)
    b = "\n".join("<tr>%s</tr>" % "".join("<td>%s</td>" % c for c in row) for row in body)
    return "<table>\n<tr>%s</tr>\n%s\n</table>\n" % (h, b)


def figure(name, caption):
    return ('<figure><a href="%s.svg"><img src="%s.png" alt="%s"></a>'
            "<figcaption>%s (<a href=\"%s.svg\">SVG</a>)</figcaption></figure>\n" % (
                name, name, esc(caption), caption, name))


def lang_cell(lang):
    color = C_COLOR if lang == "c" else PY_COLOR
    return '<span class="sw" style="background:%s"></span>%s' % (color, LANG_NAME[lang])


def write_html(d, m, args, rows, xcheck, cpu, noop, steps, scale, units, no_peer):
    W = args.workers
    p = []
    p.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<title>parlab and Python compared: %s</title>\n<style>\n"
             "body{font-family:sans-serif;max-width:72em;margin:1em auto;padding:0 1em;"
             "line-height:1.4}\ntable{border-collapse:collapse;margin:.5em 0 1.5em}"
             "td,th{border:1px solid #bbb;padding:.2em .5em;text-align:right}"
             "th{background:#eee}td:first-child,td:nth-child(2){text-align:left}"
             "img{max-width:100%%}figure{margin:1em 0}.sw{display:inline-block;width:.8em;"
             "height:.8em;margin-right:.3em}.note{color:#444}\n</style></head><body>\n"
             % esc(m["host"]))
    p.append("<h1>parlab (C) and Python's own models, side by side</h1>\n")
    if os.path.exists(os.path.join(d, "..", "index.html")):
        p.append('<p><a href="../index.html">&larr; the benchmark report of this run</a></p>\n')
    load = "%.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end (1, 5, 15 min)" % (
        m["loadavg1"], m["loadavg5"], m["loadavg15"], *m["load_end"])
    p.append(table(["machine", ""], [
        ["host", esc(m["host"])], ["CPU", esc(m["cpu_model"])],
        ["CPUs", "%d online, %d allowed (%s), SMT %s" % (
            m["cpus_online"], m["nproc"], esc(m["cpus_allowed"]), esc(m["smt"]))],
        ["governor", esc(m["governor"])], ["kernel", esc(m["kernel"])],
        ["compiler", esc(m["compiler"])], ["parlab", esc(m["parlab"])],
        ["Python", esc(m["python"])], ["hyperfine", esc(m["hyperfine"])],
        ["gnuplot", esc(m["gnuplot"])],
        ["commit", esc(m["git_commit"][:12] + (" (with local changes)" if m["git_dirty"]
                                                else ""))],
        ["load average", load], ["Monte Carlo seed", esc(args.seed)],
        ["mode", "%s (%d s to measure)" % (esc(args.mode), args.elapsed)],
        ["machine.json", '<a href="machine.json">machine.json</a>']]))
    if max(m["loadavg1"], m["load_end"][0]) > 0.5:
        p.append('<p class="note"><b>Note:</b> the machine was not idle (load average '
                 "above 0.5 at the start or the end): other work shared the CPUs and "
                 "inflates times and spreads.</p>\n")
    p.append(
        '<p class="note">How to read this. Python runs these loops 20 to 300 times slower '
        "than C, so each language is timed at its own size: the smallest at which its "
        "sequential run takes at least 0.2 s &times; %d (the CPUs here), so that runs at "
        "%d workers still last 0.2 s or more. Times are therefore shown <b>per unit of "
        "work</b> (log scale), and speedups <b>against each language's own seq</b>. Every "
        "time is hyperfine's mean &plusmn; standard deviation of whole command runs: "
        "interpreter start-up and pool start-up are included, as a user would see them. "
        "Every run was verified (exit status 0: known value, sieve, closed form, recorded "
        "value, parlab's independent recomputation (timed runs then compare with it: "
        "expect), Python's 5&sigma;, or task count; the <i>check</i> column says which), the "
        "runners of one language agree at each timed size, and the two languages agree "
        "at a common small size (below).</p>\n" % (W, W))

    p.append("<h2>One answer across languages</h2>\n")
    p.append("<p>Every runner of both languages at one common N; the comparison stops on "
             "any difference.</p>\n")
    xrows = []
    for (wl, n), rs in xcheck.items():
        results = {r["result"] for r in rs}
        xrows.append([esc(wl), n, esc(", ".join(sorted(results))),
                      esc(" ".join(r["runner"] for r in rs)),
                      "equal" if len(results) == 1 else "<b>DIFFERENT</b>"])
    p.append(table(["workload", "N", "answer", "runners (C, then Python)", "verdict"], xrows))

    p.append("<h2>CPU-bound work at %d workers</h2>\n" % W)
    if any(r["runner"] == "epoll-loops" for sel in cpu.values() for r in sel):
        p.append(
            '<p class="note"><b>Event loops, paired fairly.</b> <code>py-asyncio</code> '
            "sends each CPU task to a <code>ProcessPoolExecutor</code> of %d processes "
            "(<code>loop.run_in_executor</code>): the loop only waits, and the work runs on "
            "%d cores. Its counterpart is therefore <code>epoll-loops</code>, parlab's "
            "<code>epoll --loops %d</code>: %d forked event loops, each running its share "
            "of the tasks, the nginx model. Plain <code>epoll</code> runs every task inline "
            "in one loop, on one core, and is shown to make the point that an event loop "
            "alone is concurrency, not parallelism; its Python twin, asyncio with the work "
            "inline, would time like <code>py-seq</code>. For waits (below) the fair pair "
            "is <code>epoll</code> and <code>py-asyncio</code>: one thread each.</p>\n"
            % (W, W, W, W))
    for wl, sel in cpu.items():
        p.append("<h3>%s</h3>\n" % esc(wl))
        if wl in no_peer:
            p.append('<p class="note"><b>no Python peer</b>: peers/python/workloads.py does '
                     "not implement %s, so only parlab's C runners are timed.</p>\n" % esc(wl))
        p.append(figure("time_" + wl, "%s: time per %s, C and Python side by side" % (
            esc(wl), esc(units[wl]))))
        p.append(figure("speedup_" + wl, "%s: speedup against each language's own seq" %
                        esc(wl)))
        same = {r["runner"]: r for (w, _), rs in xcheck.items() if w == wl for r in rs}
        if "seq" in same and "py-seq" in same and float(same["seq"]["wall_s"]) > 0:
            p.append("<p>At the same N (%s, the cross-check's single runs), Python's seq "
                     "took %.0f&times; as long as C's.</p>\n" % (
                         same["seq"]["size"], float(same["py-seq"]["wall_s"]) /
                         float(same["seq"]["wall_s"])))
        p.append(table(
            ["runner", "language", "N", "tasks", "workers", "time (s)", "ns per " + esc(units[wl]),
             "speedup [95% CI]", "speeds up?", "result", "check"],
            [[esc(r["runner"]), lang_cell(r["lang"]), r["size"], r["tasks"], r["workers"],
              pm(r["mean"], r["sd"], "%.4f"), pm(r["unit_ns"], r["unit_err"], "%.2f"),
              "%.2f [%.2f, %.2f]" % r["ci"] if r.get("ci") else "%.2f" % r["speedup"],
              esc(str(r["verdict"])) if r.get("verdict") else "(the baseline)",
              esc(r["result"]), esc(r["check"])] for r in sel]))

    if noop:
        p.append("<h2>What one task costs to hand out (noop)</h2>\n")
        p.append(figure("overhead", "noop: marginal cost per task, log scale"))
        p.append("<p>Each runner at two task counts; the cost per task is the slope "
                 "between them, so interpreter start-up and pool start cancel out, and the "
                 "fixed cost is what is left at zero tasks. seq's bar is the floor: a task "
                 "run in place, with no hand-off (in parlab that includes its 64-byte "
                 "result slot). The hand-off is the cost above it.</p>\n")
        p.append(table(
            ["runner", "language", "task counts", "times (s)", "&micro;s per task",
             "hand-off: &micro;s above seq", "fixed cost (ms, extrapolated to 0 tasks)"],
            [[esc(e["runner"]), lang_cell(e["lang"]),
              "%d, %d" % (e["lo"]["size"], e["hi"]["size"]),
              "%s, %s" % (pm(e["lo"]["mean"], e["lo"]["sd"], "%.4f"),
                          pm(e["hi"]["mean"], e["hi"]["sd"], "%.4f")),
              pm(e["per_task_us"], e["err_us"], "%.3f"),
              "" if e["over_seq_us"] is None or e["runner"] in ("seq", "py-seq")
              else "%.3f" % e["over_seq_us"], "%.1f" % e["fixed_ms"]]
             for e in noop]))

    if steps or scale:
        p.append("<h2>Waiting (sleep): pools step, event loops stay flat</h2>\n")
    if steps:
        io = steps[0][1][0]["io_ms"]
        p.append(figure("sleep_steps", "sleep: N tasks of %d ms, %d workers" % (
            io, args.io_workers)))
        ns = sorted({r["size"] for _, pts in steps for r in pts})
        p.append(table(["runner", "language"] + ["N=%d" % n for n in ns],
                       [[esc(k[1]), lang_cell(k[0])] + [
                           next(("%.1f" % (r["mean"] * 1e3) for r in pts if r["size"] == n),
                                "") for n in ns] for k, pts in steps]))
        p.append("<p class=\"note\">Wall time in ms. With %d workers a pool or thread "
                 "pool needs ceil(N/%d) rounds of %d ms; seq needs N; asyncio and "
                 "parlab's epoll wait for all N at once.</p>\n" % (
                     args.io_workers, args.io_workers, io))
    if scale:
        io = scale[0][1][0]["io_ms"]
        p.append(figure("sleep_scale", "sleep: event loops up to %d concurrent waits" %
                        max(r["size"] for _, pts in scale for r in pts)))
        p.append(table(["runner", "language", "N", "time (s)", "over the wait (ms)",
                        "&micro;s per wait past the first N"],
                       [[esc(k[1]), lang_cell(k[0]), r["size"], pm(r["mean"], r["sd"], "%.4f"),
                         "%.1f" % ((r["mean"] - io / 1000) * 1e3),
                         "%.1f" % ((r["mean"] - pts[0]["mean"]) / (r["size"] - pts[0]["size"])
                                   * 1e6) if r is not pts[0] else ""]
                        for k, pts in scale for r in pts]))
        p.append('<p class="note">"Over the wait" includes start-up (Python\'s interpreter '
                 "and imports, tens of ms); the last column is the slope from the smallest "
                 "N, what each further concurrent wait adds.</p>\n")
        if not any(k[0] == "c" for k, _ in scale):
            p.append("<p>parlab's epoll runner is not in this build, so only asyncio is "
                     "shown.</p>\n")
    p.append("<details><summary>Every timed command (run by <code>hyperfine -N</code>)"
             "</summary><pre>%s</pre></details>\n" % esc("\n".join(r["command"] for r in rows)))
    p.append('<p>Data: <a href="compare.csv">compare.csv</a> (one row per benchmark), '
             '<a href="raw/">raw/</a> (hyperfine JSON, the CSV of each last run, the '
             "cross-check rows, and <code>raw/parlab</code>, a copy of the binary "
             "measured). Rerun with <code>make compare</code> "
             "(<code>QUICK=1</code> for a short run).</p>\n</body></html>\n")
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write("".join(p))


def read_xcheck(d):
    out = {}
    with open(os.path.join(d, "raw", "xcheck.csv")) as f:
        for r in csv.DictReader(f):
            out.setdefault((r["workload"], r["size"]), []).append(r)
    return out


def main():
    ap = argparse.ArgumentParser(description="write compare.csv, charts' data, index.html")
    ap.add_argument("dir")
    ap.add_argument("--mode", default="full")
    ap.add_argument("--workers", type=int, required=True)
    ap.add_argument("--io-workers", type=int, required=True)
    ap.add_argument("--parlab", default="bin/parlab")
    ap.add_argument("--seed", default="")
    ap.add_argument("--elapsed", type=int, default=0)
    ap.add_argument("--runners", default="")
    ap.add_argument("--models", default="")
    ap.add_argument("--no-peer", default="")
    args = ap.parse_args()
    d = args.dir

    units = registry(args.parlab)
    no_peer = set(args.no_peer.split())
    rows = read_rows(d)
    xcheck = read_xcheck(d)
    cpu = cpu_tables(rows, units)
    noop = noop_table(rows)
    steps, scale = sleep_series(rows, "sleep"), sleep_series(rows, "scale")
    m = machine(d, args)

    # every runner on CPU work; Python's models where some workload has a peer
    want = set(args.runners.split())
    if set(cpu) - no_peer:
        want |= set(args.models.split())
    missing = sorted(want - {r["runner"] for r in rows if r["section"] == "cpu"})
    if missing:
        print("compare_report: no CPU timings for %s" % " ".join(missing), file=sys.stderr)
        return 1

    write_compare_csv(d, rows)
    # The comparison's trust line: benchmarks timed while others used over 0.3 CPU, and the
    # speedup verdicts left inconclusive.
    judged = [r["verdict"] for sel in cpu.values() for r in sel if r.get("verdict")]
    line = verdict.trust_line(len(rows), sum(any(x > verdict.BUSY_CPU for x in r["load"]) for r in rows),
                              sum(v.status == verdict.INCONCLUSIVE for v in judged), "benchmarks")
    with open(os.path.join(d, "trust.txt"), "w") as f:
        f.write(line + "\n")
    for wl, sel in cpu.items():
        bars_dat(os.path.join(d, "raw", "time_%s.dat" % wl), sel,
                 lambda r: r["unit_ns"], lambda r: r["unit_err"])
        bars_dat(os.path.join(d, "raw", "speedup_%s.dat" % wl), sel,
                 lambda r: r["speedup"], lambda r: r["speedup_err"])
    bars_dat(os.path.join(d, "raw", "overhead.dat"), noop,
             lambda e: e["per_task_us"], lambda e: e["err_us"])
    series_dat(os.path.join(d, "raw", "sleep_steps.dat"), steps)
    series_dat(os.path.join(d, "raw", "sleep_scale.dat"), scale)
    write_vars(d, m, args, cpu, noop, steps, scale, rows, units, no_peer)
    write_html(d, m, args, rows, xcheck, cpu, noop, steps, scale, units, no_peer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
