#!/usr/bin/env python3
"""lab.py: the one driver and the one checker of every lab in labs/NN-name/.

    scripts/lab.py run N            measure lab N: results/labs/NN-name/<run>/
    scripts/lab.py check N          the student's newest run against the predictions kept
                                    with it (the copy of labs/NN-name/predict.txt that `run`
                                    took when it started); it names each prediction changed
                                    since ("line 3 speedup_fork 1.9 → 2.0")
    scripts/lab.py check N --run DIR --predict FILE    a given run and predictions (FILE is
                                    graded instead of the kept copy)
    scripts/lab.py list             the labs, one a line
    scripts/lab.py report N DIR     redraw a run's values, plots and report.md (after
                                    editing lab.json), from its CSVs

What a lab measures, predicts and checks is data: labs/NN-name/lab.json (see labs/README.md,
"Adding a lab"). This file knows the step kinds, how to read each command's output (one
function per data source, below), how to plot and how to judge; nothing about any one lab.

Every check answers pass, fail or inconclusive (scripts/verdict.py): a claim on a measured
ratio is judged on its 95% bootstrap interval over the runs, and a run during which other
processes used more than verdict.BUSY_CPU of a CPU is disturbed: a would-be fail on
disturbed runs is inconclusive, with its reason and what would settle it. A numeric
prediction is graded against the measured interval the same way, or against the key's
accepted band (the "expected" column of labs/NN-name/KEY.md), and a miss is said as a
factor ("2,700× too low"); a choice is graded as a choice. A bad predict.txt line (not
UTF-8, no `=`, nan, inf, 1e400, 130%, a key given twice or unknown) is one line naming its
line number and the rule; the others are still graded. A UTF-8 byte-order mark is dropped.

A `run` step's configurations run interleaved (round r of each before round r + 1, one
repeat a command), and every command's rows carry other_cpu: the CPU other processes used
while it ran (verdict.LoadMeter). `run` and `check` print a trust line first and last.

Environment: PARLAB (default bin/parlab), LAB_TINY=1 (tiny sizes, for `make test`),
LAB_RESULTS (default results/labs), REPEAT=N (repeats per configuration, overriding the
lab's), WAIT_QUIET=SECONDS (wait up to that long for a quiet machine before a run). Exit
status of run: 0, 64 bad lab number or a REPEAT/WAIT_QUIET that is not a positive number,
70 a step failed. Of check: 0 every check passes, 1 a check fails, 2 none fails but some
are inconclusive (`make lab-N-check` treats 2 as success), 64 no run yet or bad input.
"""
import csv
import glob
import io
import itertools
import json
import math
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A lab's mpi runs start their own ranks at the rank counts it asks for; a kept world
# (parlab world) serves one rank count and would refuse the others.
os.environ.pop("PARLAB_MPI_WORLD", None)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import workspan  # noqa: E402  (scripts/workspan.py: work, span and their bounds)
import verdict  # noqa: E402  (scripts/verdict.py: intervals, pass/fail/inconclusive)
import progress  # noqa: E402  (scripts/progress.py: a line per step, elapsed and left)
import student  # noqa: E402  (scripts/student.py: a lab's student code, built and graded)
EXIT_OK, EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_USAGE, EXIT_SOFTWARE = 0, 1, 2, 64, 70


class Usage(Exception):
    """Bad input: the one line to print before exiting 64."""


def show(path):
    """A path as a person wants it: relative inside the tree, absolute outside."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def die(code, msg):
    print("lab: %s" % msg, file=sys.stderr)
    return code


# ---------------------------------------------------------------- the labs

def lab_dirs():
    return sorted(d for d in glob.glob(os.path.join(ROOT, "labs", "[0-9][0-9]-*"))
                  if os.path.isfile(os.path.join(d, "lab.json")))


def find_lab(num):
    if not re.fullmatch(r"\d{1,2}", str(num)):
        raise Usage("lab '%s': give a lab number (scripts/lab.py list)" % num)
    for d in lab_dirs():
        if int(os.path.basename(d)[:2]) == int(num):
            with open(os.path.join(d, "lab.json")) as f:
                spec = json.load(f)
            spec["dir"], spec["name"], spec["num"] = d, os.path.basename(d), int(num)
            return spec
    raise Usage("lab %s: no such lab (scripts/lab.py list)" % num)


def tiny():
    return os.environ.get("LAB_TINY", "0") not in ("", "0")


def results_root():
    return os.environ.get("LAB_RESULTS", os.path.join(ROOT, "results", "labs"))


# ---------------------------------------------------------------- data sources
# Each step's raw output is read by exactly one function here and stored as a tidy CSV in
# the run folder; the expressions of lab.json read only those CSVs.

def read_run_csv(text):
    """`parlab run --format csv` (and parlab_py.py run): one header, one row per repeat."""
    return list(csv.DictReader(io.StringIO(text)))


def read_experiment_csv(text):
    """`parlab share|pitfall|overhead --format csv`: header, one row per figure
    (columns: command, section, what, workers, unit, median, min, max, ...)."""
    return list(csv.DictReader(io.StringIO(text)))


def read_trace_csv(path):
    """A `--trace FILE`: task, worker, step, start_ns, end_ns."""
    with open(path) as f:
        return list(csv.DictReader(f))


def read_kv_csv(text):
    """A lab script's own output: CSV with a header (e.g. `key,value,...`)."""
    return [r for r in csv.DictReader(io.StringIO(text)) if any(r.values())]


SOURCES = {"run": read_run_csv, "exp": read_experiment_csv, "cmd": read_kv_csv}


def parlab_bin():
    return os.environ.get("PARLAB", os.path.join(ROOT, "bin", "parlab"))


_RUN_HELP = None


def run_extra_args():
    """--warmup 0 where `parlab run` has a warm-up, so a lab times only what it asks for."""
    global _RUN_HELP
    if _RUN_HELP is None:
        p = subprocess.run([parlab_bin(), "run", "--help"], capture_output=True, text=True)
        _RUN_HELP = p.stdout + p.stderr
    return ["--warmup", "0"] if "--warmup" in _RUN_HELP else []


# ---------------------------------------------------------------- the driver

def sizes_of(spec):
    k = 1 if tiny() else 0
    return {name: str(v[k] if isinstance(v, list) else v)
            for name, v in spec.get("sizes", {}).items()}


def expand(template, env):
    """{name} placeholders from env, innermost first, so {n_{workload}} names the size of
    the workload at hand; a missing one is a bug in lab.json."""
    pat = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
    s = template
    while True:
        m = pat.search(s)
        if not m:
            return s
        if m.group(1) not in env:
            raise Usage("lab.json: unknown placeholder {%s} in '%s'" % (m.group(1), template))
        s = s[:m.start()] + str(env[m.group(1)]) + s[m.end():]


def combos(each):
    keys = list(each)
    for vals in itertools.product(*(each[k] for k in keys)):
        yield dict(zip(keys, (str(v) for v in vals)))


def step_commands(spec, step, env, repeat=None):
    """(params, argv, trace path or None) for every combination of the step; a run or trace
    step's command asks for REPEAT repeats (default: the step's "repeat", else the lab's;
    a trace keeps only the last repeat's)."""
    # a value that expands to several words ({WSWEEP}) is that many values
    each = {k: [w for v in vs for w in expand(str(v), env).split()]
            for k, vs in step.get("each", {}).items()}
    for p in combos(each):
        e = dict(env, **p)
        args = shlex.split(expand(step["args"], e))
        kind = step["kind"]
        trace = None
        if kind in ("run", "trace"):
            prog = [env["PARLAB"]] if step.get("prog") != "python" else \
                [env["PYTHON"], os.path.join(ROOT, "peers", "python", "parlab_py.py")]
            argv = prog + ["run"] + args + ["--format", "csv", "--repeat",
                                            str(repeat or step.get("repeat", e["REPEAT"]))] + \
                (run_extra_args() if step.get("prog") != "python" else [])
            if kind == "trace":
                trace = os.path.join(env["RUN"], "%s-%s.trace.csv" % (
                    step["id"], "-".join(p.values()) or "all"))
                argv += ["--trace", trace]
        elif kind == "exp":
            argv = [env["PARLAB"]] + args + ["--format", "csv"]
        else:
            argv = args
        yield p, argv, trace


def worker_sweep(cores):
    """The worker counts of a sweep from 1 to 4× the cores ({WSWEEP}): every count up to
    the cores (powers of two beyond 8 cores), then cores + 1, 2×, 3× and 4× the cores, so
    the knee at the core count and the oversubscribed side both show."""
    low = range(1, cores + 1) if cores <= 8 else \
        [1 << k for k in range(cores.bit_length())] + [cores]
    return sorted(set(low) | {cores + 1, 2 * cores, 3 * cores, 4 * cores})


def step_order(spec, step, env):
    """The step's commands in the order they run, each with its round: a `run` step's
    configurations interleaved, round r of every combination before round r + 1, one repeat
    a command, so a change of load hits every configuration it compares (seq, the control,
    among them) alike; other kinds as one command per combination, asking for the repeats
    themselves (an experiment times its own repeats; a trace is one file). An experiment
    step with "rounds" runs that many times, its combinations interleaved the same way, so
    that its figures have one sample a round to bootstrap (Env.figs)."""
    if step["kind"] == "exp" and step.get("rounds"):
        rounds = int(expand(str(step["rounds"]), env))
        cmds = list(step_commands(spec, step, env))
        return [(r, c) for r in range(1, rounds + 1) for c in cmds]
    if step["kind"] != "run":
        return [(1, c) for c in step_commands(spec, step, env)]
    cmds = list(step_commands(spec, step, env, repeat=1))
    return [(r, c) for r in range(1, int(env["REPEAT"]) + 1) for c in cmds]


def run_step(spec, step, env, log, loads):
    """Run a step's commands; every row it reads gets its params (p_NAME), the round
    (lab_round), the command's number in the step (lab_cmd) and other_cpu, the CPU other
    processes used while that command ran: for a command too short to tell (under
    0.05 s: a pool's start), what they used over the whole step, empty when that too is
    too short. The other-CPU figure of each command is appended to LOADS."""
    rows = []
    ok_rc = step.get("ok_rc", [0])
    whole, short = verdict.LoadMeter(), []
    whole.start()
    for k, (rnd, (p, argv, trace)) in enumerate(step_order(spec, step, env)):
        log.write("$ %s\n" % " ".join(shlex.quote(a.replace(ROOT + "/", "")) for a in argv))
        t0 = time.monotonic()
        meter = verdict.LoadMeter()
        meter.start()
        pr = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT,
                            timeout=step.get("timeout", 240))
        other = meter.stop()
        if other is None:
            short.append(len(loads))
        loads.append(other)
        log.write(pr.stderr)
        log.write("# exit %d after %.2f s, other processes %s CPU\n" % (
            pr.returncode, time.monotonic() - t0, "?" if other is None else "%.2f" % other))
        if pr.returncode not in ok_rc:
            raise RuntimeError("step %s (%s): `%s` exited %d: %s" % (
                step["step"], step["id"], " ".join(argv), pr.returncode,
                (pr.stderr.strip().splitlines() or ["no message"])[-1]))
        why = (pr.stderr.strip().splitlines() or ["exit %d" % pr.returncode])[-1] \
            if pr.returncode else ""
        if step["kind"] == "trace":
            got = read_trace_csv(trace) if not why or os.path.exists(trace) else []
        elif step.get("reads"):       # a script that writes its CSV into a file
            with open(expand(step["reads"], dict(env, **p)), newline="") as f:
                got = read_kv_csv(f.read())
        else:
            got = SOURCES["run" if step["kind"] == "run" else step["kind"]](pr.stdout)
        if why and step.get("student"):   # a failure ok_rc lets by: its rows say why
            got = [dict(r, error=why) for r in got] or [{"error": why, "wall_s": ""}]
        for r in got:
            # parlab's rows carry their own per-run other_cpu; the command's figure
            # replaces it, so that every row of a step means the same thing
            row = dict({"p_" + n: v for n, v in p.items()}, **r)
            row.update(lab_round=rnd, lab_cmd=k,
                       other_cpu="" if other is None else "%.3f" % other)
            rows.append(row)
    other = whole.stop()
    if short and other is not None:
        for i in short:
            loads[i] = other
        for r in rows:
            if r["other_cpu"] == "":
                r["other_cpu"] = "%.3f" % other
        log.write("# other processes %.2f CPU over the step (the figure of its %d commands "
                  "too short to tell alone)\n" % (other, len(short)))
    return rows


def write_csv(path, rows):
    cols = []
    for r in rows:
        cols += [c for c in r if c not in cols]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols or ["empty"])
        w.writeheader()
        w.writerows(rows)


def lacks_runner(spec):
    """True when the lab needs a runner (lab.json "needs_runner") that the parlab under
    test does not list: not built here (mpi without Open MPI, or a sanitizer build)."""
    name = spec.get("needs_runner")
    if not name:
        return False
    try:
        out = subprocess.run([parlab_bin(), "list", "--format", "csv"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return True
    return not any(line.startswith("runner,%s," % name) for line in out.splitlines())


def positive_env(name, integer=False):
    """$NAME as a positive number (None when unset or empty); anything else is bad input."""
    v = os.environ.get(name, "").strip()
    if not v:
        return None
    try:
        x = int(v) if integer else float(v)
    except ValueError:
        x = None
    if x is None or not x > 0 or (not integer and not math.isfinite(x)):
        raise Usage("%s=%s: give a positive %s" % (name, v, "whole number" if integer
                                                  else "number of seconds"))
    return x


def quiet_first(num_):
    """WAIT_QUIET=SECONDS: wait (up to that long) for other processes to use under
    verdict.QUIET_CPU over a second. Prints where the machine stands: the trust line
    before a run."""
    limit = positive_env("WAIT_QUIET")
    if limit:
        quiet, other, waited = verdict.wait_quiet(limit, say=lambda o, w: print(
            "lab %d: waiting for quiet: other processes use %.1f CPU (%.0f of %g s)" % (
                num_, o, w, limit), flush=True))
        if quiet:
            print("lab %d: quiet: other processes use %s CPU (after %.0f s)" % (
                num_, "?" if other is None else "%.2f" % other, waited), flush=True)
        else:
            print("lab %d: busy: other processes still use %.1f CPU after %.0f s; running "
                  "anyway: expect inconclusive checks" % (num_, other, waited), flush=True)
        return
    other = verdict.other_cpu_now()
    if other is None or other < verdict.QUIET_CPU:
        print("lab %d: quiet: other processes use %s CPU" % (
            num_, "?" if other is None else "%.2f" % other), flush=True)
    else:
        print("lab %d: busy: other processes use %.1f CPU; checks may come out inconclusive "
              "(WAIT_QUIET=60 waits for quiet)" % (num_, other), flush=True)


def cmd_run(num):
    spec = find_lab(num)
    repeat = positive_env("REPEAT", integer=True)
    positive_env("WAIT_QUIET")
    if lacks_runner(spec):
        print("lab %d (%s) needs %s: %s" % (spec["num"], spec["title"], spec["needs"],
                                           spec.get("needs_hint", "")))
        return EXIT_OK
    parent = os.path.join(results_root(), spec["name"])
    os.makedirs(parent, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + "-" + socket.gethostname()
    final = os.path.join(parent, stamp)
    tmp = os.path.join(parent, "." + stamp + ".partial")   # a check never reads it
    os.makedirs(tmp)
    env = dict(sizes_of(spec), PARLAB=parlab_bin(), PYTHON=os.environ.get("PYTHON", "python3"),
               RUN=tmp,
               LAB=spec["dir"], ROOT=ROOT, CORES=str(len(os.sched_getaffinity(0))),
               WSWEEP=" ".join(map(str, worker_sweep(len(os.sched_getaffinity(0))))),
               REPEAT=str(repeat or spec.get("repeat", [3, 1])[1 if tiny() else 0]),
               TINY="1" if tiny() else "0")
    steps = spec["steps"]
    loads = []
    try:
        quiet_first(spec["num"])
        kept = keep_predictions(os.path.join(spec["dir"], "predict.txt"), tmp)
        asked = spec.get("predictions", {})
        written = len(set(read_predict(os.path.join(tmp, "predict.txt")).entries) & set(asked)
                      ) if "kept" in kept else 0
        print("lab %d: %s" % (spec["num"], "predictions not kept: %s" % kept["not_kept"]
                              if "not_kept" in kept else
                              "%s kept with the run (%d of %d predictions written)%s" % (
                                  kept["from"], written, len(asked),
                                  "" if written else ": the check grades these, so write "
                                  "them before you run")), flush=True)
        t_start = time.monotonic()
        if spec.get("student"):   # the student's code first: {STUDENT} is its plugin
            env["STUDENT"], err = student.build(spec, tmp)
            if err:
                raise Usage(err)
        prog = progress.Progress(len(steps), sys.stdout, lead="lab %d: " % spec["num"])
        with open(os.path.join(tmp, "commands.log"), "w") as log:
            for step in steps:
                t0 = time.monotonic()
                prog.start("step %s: %s ..." % (step["step"], step["title"]))
                rows = run_step(spec, step, env, log, loads)
                write_csv(os.path.join(tmp, step["id"] + ".csv"), rows)
                prog.end("%.1f s" % (time.monotonic() - t0))
        meta = {"lab": spec["name"], "host": socket.gethostname(), "cores": int(env["CORES"]),
                "tiny": tiny(), "started": stamp, "wall_s": round(time.monotonic() - t_start, 2),
                "sizes": sizes_of(spec), "repeat": int(env["REPEAT"]),
                "load": open("/proc/loadavg").read().split()[:3],
                "interleaved": True, "busy_cpu": verdict.BUSY_CPU,
                "other_cpu": [None if o is None else round(o, 3) for o in loads]}
        meta["predict"] = kept
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1)
        print("lab %d: plots ..." % spec["num"], end="", flush=True)
        print(" %d" % render(spec, tmp), flush=True)
        os.rename(tmp, final)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print("", flush=True)
        shutil.rmtree(tmp, ignore_errors=True)
        return die(EXIT_SOFTWARE, str(e))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)   # Ctrl-C: no half-written run stays
        raise
    rel = show(final)
    print("lab %d: %s" % (spec["num"], run_trust(loads)))
    print("lab %d: done in %.0f s: %s/report.md; next: %s" % (
        spec["num"], time.monotonic() - t_start, rel,
        "make lab-%d-check (it grades the predictions kept with this run)" % spec["num"]
        if written else "write labs/%s/predict.txt, run make lab-%d again (a check grades the "
        "predictions its run kept), then make lab-%d-check" % (spec["name"], spec["num"],
                                                             spec["num"])))
    return EXIT_OK


def run_trust(loads):
    """The trust line of a run from its commands' other-CPU figures (None: not recorded)."""
    if loads is None:
        return "load not recorded (a run made before parlab measured it)"
    ls = [o for o in loads if o is not None]
    if not ls:
        return "load not measured (runs too short, or /proc/stat unreadable)"
    return verdict.trust_line(len(ls), sum(o > verdict.BUSY_CPU for o in ls), what="runs")


def render(spec, run):
    """values.csv, the plots and report.md of a run, from its step CSVs and meta.json.
    Returns the number of plots drawn. `lab.py report N DIR` calls it on an old run."""
    data = load_run(spec, run)
    values = eval_values(spec, data)
    with open(os.path.join(run, "values.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "value", "what", "ci_low", "ci_high"])
        for k, (v, what) in values.items():
            lo, hi = (v.lo, v.hi) if isinstance(v, Measured) and v.lo is not None else ("", "")
            w.writerow([k, fmt(v), what, fmt(lo), fmt(hi)])
    plotted = make_plots(spec, data, run)
    write_report(spec, run, data["_meta"], values, plotted, data)
    return len(plotted)


# ---------------------------------------------------------------- evaluating lab.json

def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def fmt(v):
    if v is None:
        return ""
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return "%.4g" % v
    return str(v)


def load_run(spec, run):
    data = {}
    for step in spec["steps"]:
        path = os.path.join(run, step["id"] + ".csv")
        if not os.path.exists(path) and step.get("student"):
            data[step["id"]] = []   # a run made before the lab had students write code
            continue
        if not os.path.exists(path):
            raise Usage("%s: missing %s.csv (an incomplete run?)" % (run, step["id"]))
        with open(path, newline="") as f:
            data[step["id"]] = list(csv.DictReader(f))
    data["_meta"] = load_meta(run)
    return data


def load_meta(run):
    """A run's meta.json, {} where it is missing or unreadable."""
    try:
        with open(os.path.join(run, "meta.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Samples(list):
    """A column's values over some rows, with .loads: the other-CPU figure of each distinct
    command behind them (empty for a run made before parlab measured it)."""

    def __init__(self, values, loads=()):
        super().__init__(values)
        self.loads = list(loads)


class Measured(float):
    """A measured value that knows its 95% interval (lo, hi: None where the runs were too
    few) and the other-CPU loads of the runs behind it. It is a float, so expressions that
    only compute with it still work; scaling or shifting it by a plain number keeps the
    interval, and karpflatt/amdahl/gustafson map it through."""

    def __new__(cls, value, lo=None, hi=None, loads=(), n=0):
        m = float.__new__(cls, value)
        m.lo, m.hi, m.loads, m.n = lo, hi, list(loads), n
        return m

    def ci(self):
        return None if self.lo is None else (float(self), self.lo, self.hi)

    def mapped(self, f):
        """f(self), with the interval mapped through f (monotonic over it)."""
        if self.lo is None:
            return Measured(f(float(self)), None, None, self.loads, self.n)
        ends = sorted((f(self.lo), f(self.hi)))
        return Measured(f(float(self)), ends[0], ends[1], self.loads, self.n)

    @staticmethod
    def _plain(k):
        return isinstance(k, (int, float)) and not isinstance(k, (bool, Measured))

    def __mul__(self, k):
        return self.mapped(lambda x: x * k) if self._plain(k) else float(self) * k

    __rmul__ = __mul__

    def __truediv__(self, k):
        return self.mapped(lambda x: x / k) if self._plain(k) else float(self) / k

    def __rtruediv__(self, k):
        if self._plain(k) and self > 0 and (self.lo is None or self.lo > 0):
            return self.mapped(lambda x: k / x)
        return k / float(self)

    def __add__(self, k):
        return self.mapped(lambda x: x + k) if self._plain(k) else float(self) + k

    __radd__ = __add__

    def __sub__(self, k):
        return self.mapped(lambda x: x - k) if self._plain(k) else float(self) - k

    def __rsub__(self, k):
        return self.mapped(lambda x: k - x) if self._plain(k) else k - float(self)


def distinct_loads(rows):
    """The other_cpu of each distinct command (lab_cmd) behind ROWS, as numbers."""
    seen, out = set(), []
    for r in rows:
        o = r.get("other_cpu", "")
        key = (r.get("_step"), r.get("lab_cmd"))
        if o in ("", None) or key in seen:
            continue
        seen.add(key)
        out.append(num(o))
    return out


class Env:
    """The functions lab.json's expressions may call, over one run's data.

    Checks answer pass, fail or inconclusive: an expression returns a bool (a correctness
    claim: every answer verified), a verdict from above/below/within (a claim on a value
    with its interval) or judged (a timing claim with no samples to bootstrap), or a list
    of these (all must hold)."""

    def __init__(self, data):
        self.data = data
        self.values = {}

    def rows(self, step, **f):
        out = []
        for r in self.data[step]:
            if all(str(r.get("p_" + k, r.get(k))) == str(v) for k, v in f.items()):
                out.append(r)
        return out

    def col(self, step, col, **f):
        rs = [r for r in self.rows(step, **f) if col in r]
        for r in rs:
            r["_step"] = step
        return Samples([num(r[col]) for r in rs], distinct_loads(rs))

    def times(self, step, **f):
        """wall_s of the step's rows that match: one sample a run."""
        return self.col(step, "wall_s", **f)

    def loads(self, *steps):
        """The other-CPU figure of every command of these steps."""
        out = []
        for st in steps:
            for r in self.data[st]:
                r["_step"] = st
            out += distinct_loads(self.data[st])
        return out

    def ratio(self, num_, den):
        """mean(num) / mean(den) of two Samples, with its bootstrap interval."""
        n, d = verdict.mean(num_), verdict.mean(den)
        point = n / d if d else float("nan")
        ci = verdict.ratio_ci(num_, den)
        loads = getattr(num_, "loads", []) + getattr(den, "loads", [])
        return Measured(point, ci[1] if ci else None, ci[2] if ci else None, loads,
                        min(len(num_), len(den)))

    def mean_of(self, xs):
        """mean(xs) of Samples, with its bootstrap interval."""
        ci = verdict.mean_ci(xs)
        return Measured(verdict.mean(xs), ci[1] if ci else None, ci[2] if ci else None,
                        getattr(xs, "loads", []), len(xs))

    @staticmethod
    def _ci(m):
        if isinstance(m, Measured):
            return m.ci(), m.loads
        v = num(m)
        return (None if math.isnan(v) else (v, v, v)), []

    def above(self, m, bound, what="the value"):
        """The claim m > bound, judged on m's interval and its runs' load."""
        ci, loads = self._ci(m)
        return verdict.judge_interval(ci, bound, True, what, loads, unit="")

    def below(self, m, bound, what="the value"):
        ci, loads = self._ci(m)
        return verdict.judge_interval(ci, bound, False, what, loads, unit="")

    def within(self, m, low, high, what="the value"):
        ci, loads = self._ci(m)
        return verdict.judge_within(ci, low, high, what, loads, unit="")

    def judged(self, holds, *steps, what=""):
        """A timing claim with no samples to bootstrap (an experiment's medians, a trace):
        fail only when the runs of STEPS were quiet."""
        return verdict.judge_bool(bool(holds), what, self.loads(*steps))

    def mean(self, step, col="wall_s", **f):
        xs = self.col(step, col, **f)
        return sum(xs) / len(xs) if xs else float("nan")

    def sd(self, step, col="wall_s", **f):
        xs = self.col(step, col, **f)
        if len(xs) < 2:
            return 0.0
        m = sum(xs) / len(xs)
        return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))

    def rsd(self, step, col="wall_s", **f):
        m = self.mean(step, col, **f)
        return self.sd(step, col, **f) / m if m else float("nan")

    def minimum(self, step, col="wall_s", **f):
        xs = self.col(step, col, **f)
        return min(xs) if xs else float("nan")

    def first(self, step, col, **f):
        rs = self.rows(step, **f)
        return rs[0][col] if rs and col in rs[0] else ""

    def all_of(self, step, col, want, **f):
        rs = self.rows(step, **f)
        return bool(rs) and all(r.get(col) == want for r in rs)

    def fig(self, step, col="median", what="", **f):
        """An experiment's figure: the first row whose `what` contains `what`."""
        for r in self.rows(step, **f):
            if what in r.get("what", ""):
                return num(r[col])
        return float("nan")

    def figs(self, step, col="median", what="", **f):
        """An experiment's figure in every round of the step (a step with "rounds"): the
        rows whose `what` contains WHAT, one sample a round, with their loads."""
        rs = [r for r in self.rows(step, **f) if what in r.get("what", "") and col in r]
        for r in rs:
            r["_step"] = step
        return Samples([num(r[col]) for r in rs], distinct_loads(rs))

    def fig_mean(self, step, col="median", what="", **f):
        """The mean over the rounds of an experiment's figure (nan when absent)."""
        xs = self.figs(step, col, what, **f)
        return sum(xs) / len(xs) if xs else float("nan")

    def series(self, step, x, col="wall_s", **f):
        """[(x, mean of col)] over the distinct values of parameter/column x, sorted."""
        xs = sorted({num(r.get("p_" + x, r.get(x))) for r in self.rows(step, **f)})
        out = []
        for v in xs:
            sel = [num(r[col]) for r in self.rows(step, **f)
                   if num(r.get("p_" + x, r.get(x))) == v]
            out.append((v, sum(sel) / len(sel)))
        return out

    def busy(self, step, **f):
        """From trace rows: {worker: seconds inside its tasks}. Wall clock: with more workers
        than cores it includes the time a task waited for a CPU."""
        out = {}
        for r in self.rows(step, **f):
            w = int(r["worker"])
            out[w] = out.get(w, 0.0) + (int(r["end_ns"]) - int(r["start_ns"])) / 1e9
        return out

    def imbalance(self, step, **f):
        """From trace rows: the busiest worker's task time over the mean worker's."""
        busy = self.busy(step, **f)
        return max(busy.values()) / (sum(busy.values()) / len(busy)) if busy else float("nan")

    def trace_wall(self, step, **f):
        """From trace rows: seconds from the run's start to the last task's end."""
        ends = [int(r["end_ns"]) for r in self.rows(step, **f)]
        return max(ends) / 1e9 if ends else float("nan")

    def bars(self, step, **f):
        """A worker sweep's traces as bars: (W, worker, busy_s, wall_s) for every worker of
        every W (parameter `workers`), one that ran no task included with 0 s."""
        out = []
        for w in sorted({int(r["p_workers"]) for r in self.rows(step, **f)}):
            busy = self.busy(step, workers=str(w), **f)
            wall = self.trace_wall(step, workers=str(w), **f)
            out += [(w, k, busy.get(k, 0.0), wall) for k in range(w)]
        return out

    def work(self, step, **f):
        return workspan.work_span(self.rows(step, **f))[0]

    def span(self, step, **f):
        return workspan.work_span(self.rows(step, **f))[1]

    def sz(self, name):
        """A size of this run (meta.json), as a number: 3M, 2e6 and 2000000 alike."""
        v = str(self.data["_meta"].get("sizes", {}).get(name, "nan"))
        mult = {"k": 1e3, "K": 1e3, "m": 1e6, "M": 1e6, "g": 1e9, "G": 1e9}.get(v[-1:], 1)
        return num(v[:-1] if mult != 1 else v) * mult

    @staticmethod
    def _through(x, f):
        return x.mapped(f) if isinstance(x, Measured) else f(x)

    def karpflatt(self, s, p):
        p = float(p)
        if not (p > 1 and s > 0 and (not isinstance(s, Measured) or s.lo is None or s.lo > 0)):
            return float("nan")
        return self._through(s, lambda x: verdict.karpflatt(x, p))

    def amdahl(self, e, p):
        return self._through(e, lambda x: 1 / (x + (1 - x) / p))

    def gustafson(self, e, p):
        return self._through(e, lambda x: p - x * (p - 1))

    def funcs(self):
        g = {k: getattr(self, k) for k in dir(self) if not k.startswith("_")
             and callable(getattr(self, k)) and k not in ("funcs",)}
        g.update(num=num, min=min, max=max, abs=abs, len=len, sum=sum, round=round, math=math,
                 str=str, float=float, int=int, sorted=sorted, enumerate=enumerate, zip=zip,
                 range=range, list=list, set=set, any=any, all=all,
                 cores=self.data["_meta"].get("cores", 2), nan=float("nan"))
        g.update(student.funcs(self))
        g.update(self.values)
        return g


def evaluate(expr, env):
    try:
        g = env.funcs()
        g["__builtins__"] = {}
        return eval(expr, g)   # lab.json is ours, committed; no builtins beyond funcs()
    except ZeroDivisionError:
        return float("nan")


def eval_values(spec, data):
    env = Env(data)
    out = {}
    for name, v in spec.get("values", {}).items():
        expr, what = (v, "") if isinstance(v, str) else (v[0], v[1])
        try:
            val = evaluate(expr, env)
        except Exception as e:   # a value the run cannot give (e.g. tiny sizes): say so
            val = float("nan")
            what = "%s (cannot compute: %s)" % (what, e)
        env.values[name] = val
        out[name] = (val, what)
    return out


# ---------------------------------------------------------------- plots

GP_HEAD = """set datafile separator ','
set key outside right top box
set grid
set style data linespoints
"""

# A bar's value, printed inside its top: whole numbers from 1000 up, else three digits.
GP_BAR_LABEL = '(abs(%s) >= 1000 ? sprintf("%%.0f", %s) : sprintf("%%.3g", %s))'


def plot_ranges(pl, series, lines):
    """gnuplot lines that put every bar and every reference line inside the plot: a line
    at the top of an autoscaled range sits on the border, where it cannot be seen.
    Bars start at 0 (at a tenth of the smallest bar on a log scale); the top leaves room
    for each line's label above it."""
    if pl.get("yrange"):
        return "set yrange %s\n" % pl["yrange"]
    ys = [float(p[1]) for title, pts, st, ax in series if ax != "y2" for p in pts]
    ys += [y for y, _ in lines]
    if not ys or not (pl.get("bars") or lines):
        return ""
    lo, hi = min(ys), max(ys)
    if pl.get("logy"):
        if lo <= 0:
            return ""
        return "set yrange [%r:%r]\n" % (lo / (10 if pl.get("bars") else 2), hi * 4)
    return "set yrange [%r:%r]\n" % (min(0.0, lo * 1.15), hi * 1.18 if hi > 0 else 1.0)


def make_plots(spec, data, run):
    """Each plot: series of (x, y) points from expressions; gnuplot draws PNG and SVG.

    A plot with "bars": [label, ...] draws categories as labelled bars, side by side per
    category, x = the category's number from 1 (each bar with its value inside its top);
    "lines": [{"y": expr, "title": text}] draws a labelled horizontal reference line (the core
    count a speedup cannot pass) kept inside the plot. A series may have "style"
    "segments" (x, y, x_end), "points" or "steps" (a staircase, dashed), and "axis": "y2"
    (the plot's "y2label", "logy2") for a second quantity in another unit; "xrange" and
    "yrange" fix the axes (gnuplot's [lo:hi])."""
    env = Env(data)
    env.values.update({k: v for k, (v, _) in eval_values(spec, data).items()})
    made = []
    gnuplot = shutil.which("gnuplot")
    for pl in spec.get("plots", []):
        dat = os.path.join(run, "plot-%s.csv" % pl["name"])
        series = []
        for s in pl["series"]:
            try:
                pts = evaluate(s["points"], env)
            except Exception:
                pts = []
            # a point is (x, y); a segment (style "segments") is (x, y, x_end)
            series.append((s["title"], [p for p in pts if not any(math.isnan(num(v)) for v in p)],
                           s.get("style", ""), s.get("axis", "")))
        lines = []
        for ln in pl.get("lines", []):
            try:
                y = num(evaluate(ln["y"], env))
            except Exception:
                y = float("nan")
            if not math.isnan(y):
                lines.append((y, expand(ln["title"], {"y": fmt(y)})))
        with open(dat, "w") as f:
            f.write("series,x,y,x_end\n")
            for title, pts, _, _ in series:
                for p in pts:
                    f.write("%s,%s\n" % (title.replace(",", ";"),
                                         ",".join(repr(float(v)) for v in p)))
            for y, title in lines:
                f.write("%s,,%r,\n" % (title.replace(",", ";"), y))
        if not gnuplot or not any(pts for _, pts, _, _ in series):
            continue
        body = GP_HEAD + "set title %s\nset xlabel %s\nset ylabel %s\n" % (
            json.dumps(pl["title"]), json.dumps(pl["xlabel"]), json.dumps(pl["ylabel"]))
        if pl.get("logx"):
            body += "set logscale x 2\n"
        if pl.get("key"):
            body += "set key %s\n" % pl["key"]
        if pl.get("logy"):
            body += "set logscale y 10\n"
        if pl.get("xrange"):
            body += "set xrange %s\n" % pl["xrange"]
        body += plot_ranges(pl, series, lines)
        if any(ax == "y2" for _, _, _, ax in series):
            body += "set ytics nomirror\nset y2tics\nset y2label %s\n" % json.dumps(
                pl.get("y2label", ""))
            if pl.get("logy2"):
                body += "set logscale y2 10\n"
        bars = pl.get("bars") or []
        drawn = [s for s in series if s[1]]
        width = 0.8 / max(1, len(drawn))
        if bars:
            body += "set grid noxtics ytics\nset style fill solid 0.6 border -1\n" \
                "set boxwidth %r absolute\nset xrange [0.4:%r]\nset xtics (%s)\n" % (
                    width, len(bars) + 0.6,
                    ", ".join("%s %d" % (json.dumps(b), i + 1) for i, b in enumerate(bars)))
        for y, title in lines:
            body += "set arrow from graph 0, first %r to graph 1, first %r nohead dt 2 lw 2 " \
                "lc rgb 'red' front\nset label %s at graph 0.01, first %r offset 0,0.7 " \
                "left front tc rgb 'red'\n" % (y, y, json.dumps(title), y)
        parts = []
        for i, (title, pts, style, axis) in enumerate(drawn):
            sel = "(strcol(1) eq %s ? %%s : NaN)" % json.dumps(title.replace(",", ";"))
            on = " axes x1y2" if axis == "y2" else ""
            if bars:
                x = "($2 + %r)" % ((i - (len(drawn) - 1) / 2) * width)
                parts.append("'%s' using %s:%s with boxes title %s" % (
                    dat, x, sel % "$3", json.dumps(title.lstrip("~"))))
                parts.append("'%s' using %s:%s:%s with labels font \",9\" offset 0,-0.8 "
                             "notitle" % (dat, x, sel % "$3", GP_BAR_LABEL % ("$3", "$3", "$3")))
                continue
            if style == "segments":
                use = "2:%s:($4 - $2):(0) with vectors nohead lw 8" % (sel % "$3")
            elif style == "points":
                use = "2:%s with points pt 7 ps 0.8 lc rgb 'black'" % (sel % "$3")
            elif style == "steps":
                use = "2:%s with steps dt 2 lw 1.5" % (sel % "$3")
            elif title.startswith("~"):
                use = "2:%s with lines dt 2" % (sel % "$3")
            else:
                use = "2:%s with linespoints pt 7" % (sel % "$3")
            parts.append("'%s' using %s%s title %s" % (dat, use, on,
                                                       json.dumps(title.lstrip("~"))))
        for term, ext in (("pngcairo size 900,560 noenhanced", "png"),
                          ("svg size 900,560 noenhanced", "svg")):
            script = "set terminal %s\nset output '%s'\n%splot %s\n" % (
                term, os.path.join(run, "%s.%s" % (pl["name"], ext)), body, ", ".join(parts))
            pr = subprocess.run([gnuplot], input=script, capture_output=True, text=True)
            if pr.returncode and ext == "png" and "pngcairo" in term:
                script = script.replace("pngcairo", "png")
                subprocess.run([gnuplot], input=script, capture_output=True, text=True)
        made.append(pl)
    return made


# ---------------------------------------------------------------- report.md

def write_report(spec, run, meta, values, plotted, data):
    with open(os.path.join(run, "report.md"), "w") as f:
        f.write("# Lab %d: %s\n\n" % (spec["num"], spec["title"]))
        f.write("Run %s on %s, %d CPUs, %s repeats per point%s, load %s; %.0f s.\n\n" % (
            meta["started"], meta["host"], meta["cores"], meta["repeat"],
            " (tiny sizes: LAB_TINY)" if meta["tiny"] else "", " ".join(meta["load"]),
            meta["wall_s"]))
        f.write("## Steps\n\n")
        for st in spec["steps"]:
            f.write("- step %s, %s: `%s.csv` (%d rows)\n" % (st["step"], st["title"], st["id"],
                                                        len(data[st["id"]])))
        f.write("\nThe exact commands are in `commands.log`.\n\n## What was measured\n\n")
        f.write("| value | measured | 95% CI | what |\n|---|---|---|---|\n")
        for k, (v, what) in values.items():
            ci = "[%s, %s]" % (fmt(v.lo), fmt(v.hi)) if isinstance(v, Measured) and \
                v.lo is not None else ""
            f.write("| %s | %s | %s | %s |\n" % (k, fmt(v), ci, what))
        f.write("\nThe values above are computed from the points below (`values.csv` holds them "
                "unrounded); speedups are ratios of means, their intervals bootstrapped over "
                "the runs. %s; %s.\n" % (
                    "The configurations a step compares ran interleaved, one repeat each in "
                    "turn" if meta.get("interleaved") else "Each configuration ran its "
                    "repeats in one go", run_trust(meta.get("other_cpu"))))
        for st in spec["steps"]:
            if st["kind"] == "run":
                f.write(point_table(st, data[st["id"]]))
        if plotted:
            f.write("\n## Plots\n\n")
            for pl in plotted:
                f.write("![%s](%s.svg)\n\n" % (pl["title"], pl["name"]))
        extra = sorted(glob.glob(os.path.join(run, "plots", "*.svg")))
        if extra:   # plots a step's own script drew (the weak-scaling sweep)
            f.write("\n## Plots from the steps' scripts\n\n")
            for p in extra:
                f.write("![%s](plots/%s)\n\n" % (os.path.basename(p)[:-4], os.path.basename(p)))
        f.write("\nNext: `make lab-%d-check`. It grades the predictions this run kept "
                "(`predict.txt` here: `labs/%s/predict.txt` as it was when the run started); "
                "a prediction written after it is not a prediction.\n" % (spec["num"],
                                                                         spec["name"]))


def point_table(step, rows):
    """Markdown: each point of a `run` step as mean ± sd of wall_s over its repeats, with
    the answer's verification, so no time in a report stands without its spread."""
    groups = {}
    for r in rows:
        key = tuple((k[2:], v) for k, v in r.items() if k.startswith("p_"))
        groups.setdefault(key, []).append(r)
    out = "\n### Step %s: %s\n\n| point | wall (s), mean ± sd | repeats | verified |\n" \
          "|---|---|---|---|\n" % (step["step"], step["title"])
    for key, rs in groups.items():
        xs = [num(r["wall_s"]) for r in rs]
        m = sum(xs) / len(xs)
        sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
        ver = sorted({r.get("verified", "?") for r in rs})
        out += "| %s | %.4g ± %.2g | %d | %s |\n" % (
            " ".join("%s=%s" % kv for kv in key) or "-", m, sd, len(xs), ",".join(ver))
    return out


# ---------------------------------------------------------------- predict.txt

PREDICT_MAX = 1 << 20          # a predict.txt is a few hundred bytes; more is not one
BOMS = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16", b"\xff\xfe\x00\x00": "UTF-32",
        b"\x00\x00\xfe\xff": "UTF-32"}


class Predictions:
    """A predict.txt as read: entries {key: (value, line)} (a key left blank is absent),
    blank {key: line} (keys written with nothing after `=`), errors [(line or None, rule)]
    (one a broken line; the others are still read) and the file's bytes (None when it could
    not be read)."""

    def __init__(self, path):
        self.path, self.entries, self.blank, self.errors, self.raw = path, {}, {}, [], None

    def error(self, line, rule):
        self.errors.append((line, rule))

    def lines(self):
        """The errors as the check prints them: `path:LINE: rule`, one a line."""
        return ["%s%s: %s" % (show(self.path), ":%d" % n if n else "", rule)
                for n, rule in self.errors]

    def values(self):
        """{key: value} of every key written, "" for one left blank."""
        out = {k: "" for k in self.blank}
        out.update({k: v for k, (v, _) in self.entries.items()})
        return out

    def line_of(self, key):
        return self.entries[key][1] if key in self.entries else self.blank.get(key)


def read_predict(path):
    """Read a predict.txt: `key = value` lines, `#` starts a comment. Never raises: what
    cannot be read is an error line, and every other line is still read. A UTF-8
    byte-order mark is accepted and dropped (Windows editors write one); a line that is not
    UTF-8, a line without `=`, and a key given twice (the first is kept: the prediction
    written first) are errors naming their line. A folder, a missing file, one over 1 MiB
    or in UTF-16/32 is one error for the whole file."""
    p = Predictions(path)
    if os.path.isdir(path):
        p.error(None, "a folder, not a predict.txt file")
        return p
    if not os.path.exists(path):
        p.error(None, "no such file")
        return p
    if not os.path.isfile(path):
        p.error(None, "not a regular file")
        return p
    try:
        with open(path, "rb") as f:
            raw = f.read(PREDICT_MAX + 1)
    except OSError as e:
        p.error(None, "cannot read it: %s" % (e.strerror or e))
        return p
    if len(raw) > PREDICT_MAX:
        p.error(None, "over 1 MiB: not a predict.txt")
        return p
    for bom in sorted(BOMS, key=len, reverse=True):
        if raw.startswith(bom):
            p.error(1, "%s text (byte-order mark %s): save the file as UTF-8" % (
                BOMS[bom], " ".join("%02X" % b for b in bom)))
            return p
    p.raw = raw
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    for n, bline in enumerate(raw.split(b"\n"), 1):
        try:
            line = bline.decode("utf-8")
        except UnicodeDecodeError as e:
            p.error(n, "not UTF-8 text (byte 0x%02X at column %d): save the file as UTF-8" % (
                bline[e.start], e.start + 1))
            continue
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        m = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)", s)
        if not m:
            p.error(n, "not `key = value`: %s" % short(s, 60))
            continue
        key, value = m.group(1), m.group(2).strip()
        first = p.line_of(key)
        if first is not None:
            p.error(n, "%s given again (first on line %d, which is the one graded)" % (key, first))
            continue
        if value == "":
            p.blank[key] = n     # left blank: a missing prediction
        else:
            p.entries[key] = (value, n)
    return p


NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def parse_number(text):
    """A predicted number: (value, None), or (None, the rule it breaks). A factor's trailing ×
    (1.8×; the letter x too) is allowed; a percentage, a comma, nan, inf and a number beyond a
    double's range are not."""
    s = text.strip()
    if s[-1:] in ("x", "X", "×"):
        s = s[:-1].rstrip()
    if s.endswith("%"):
        v, _ = parse_number(s[:-1])
        return None, "a percentage: write the number itself%s" % (
            " (%s for %s)" % ("%g" % (v / 100), text.strip()) if v is not None else "")
    if s.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return None, "not a finite number"
    if "," in s and NUMBER.fullmatch(s.replace(",", "")):
        return None, "a comma: write digits only, with a point for decimals (8000, 0.02)"
    if not NUMBER.fullmatch(s):
        return None, "not a number"
    v = float(s)
    if not math.isfinite(v):
        return None, "not a finite number (beyond ±1.8e308)"
    return v, None


def short(text, width=40):
    """A student's text as the check prints it: printable, and cut at WIDTH characters."""
    t = "".join(c if c.isprintable() else "?" for c in text)
    return t if len(t) <= width else t[:width - 3] + "..."


def choice_norm(x):
    """A choice as compared: numbers by value ("1", "1.0" and 1.0 alike), words by case."""
    if isinstance(x, float) and not isinstance(x, bool):
        return "%g" % x
    v, _ = parse_number(str(x))
    return "%g" % v if v is not None else str(x).strip().lower()


# ---------------------------------------------------------------- the key's bands

BAND = re.compile(r"[≈~]?\s*(\d[\d,]*(?:\.\d+)?)\s*(?:[–—-]\s*(\d[\d,]*(?:\.\d+)?))?")


def key_bands(spec):
    """{prediction key: (low, high)}: the accepted range of each numeric prediction, read
    from the "expected" column of labs/NN-name/KEY.md's table, where the instructors keep
    it ("1.9–2.0", "≈ 1.0", "20,000–60,000", "10–50 ns": a single figure is a band of one
    value; a unit after it is the value's own). Choices and rows it cannot read have none."""
    bands = {}
    try:
        with open(os.path.join(spec["dir"], "KEY.md"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return bands
    numeric = {k for k, p in spec.get("predictions", {}).items() if not p.get("choices")}
    for line in text.splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 2 or cells[0] not in numeric \
                or cells[0] in bands:
            continue
        m = BAND.match(cells[1])
        if not m:
            continue
        lo = float(m.group(1).replace(",", ""))
        hi = float(m.group(2).replace(",", "")) if m.group(2) else lo
        if lo <= hi:
            bands[cells[0]] = (lo, hi)
    return bands


# ---------------------------------------------------------------- the checker

def newest_run(spec):
    parent = os.path.join(results_root(), spec["name"])
    runs = sorted(d for d in glob.glob(os.path.join(parent, "*"))
                  if os.path.isdir(d) and not os.path.basename(d).startswith(".")
                  and os.path.exists(os.path.join(d, "meta.json")))
    return runs[-1] if runs else None


def grade(pred, spec_p, measured, env, band=None, loads=()):
    """A prediction against the measured value: (Verdict or None, the rule it breaks).

    A choice (spec_p "choices") is right or wrong, compared as a choice (numbers by value,
    words by case), never as a number; a wrong one is inconclusive when the runs of the
    steps named in its "load_of" were disturbed (the load may have flipped the order).
    A number goes to verdict.grade_prediction with BAND, the key's accepted range: on a
    value with an interval, right within it or within the band, else the miss as a factor;
    a value whose runs were too few for an interval is right within the band, else
    inconclusive; a single figure (no interval) is judged against the band, LOADS (the
    whole run's) standing for its runs'."""
    choices = spec_p.get("choices")
    if choices:
        if isinstance(measured, float) and math.isnan(measured):
            return verdict.Verdict(None, "no measured value"), None
        p = choice_norm(pred)
        if p not in [choice_norm(c) for c in choices]:
            return None, "not one of %s" % " | ".join(choices)
        if p == choice_norm(measured):
            return verdict.Verdict(verdict.PASS, "right"), None
        busy = verdict.busy_reason(env.loads(*spec_p.get("load_of", [])))
        if busy:
            return verdict.Verdict(verdict.INCONCLUSIVE, "wrong, but %s" % busy,
                                   verdict.HINT_QUIET), None
        return verdict.Verdict(verdict.FAIL, "wrong"), None
    pv, rule = parse_number(pred)
    if rule:
        return None, rule
    mv = num(measured)
    if math.isnan(mv):
        return verdict.Verdict(None, "no measured value"), None
    if isinstance(measured, Measured) and measured.lo is not None:
        return verdict.grade_prediction(pv, measured.ci(), measured.loads, band), None
    if isinstance(measured, Measured):
        v = verdict.grade_prediction(pv, None, (), band, mv)
        if v.status == verdict.PASS:
            return v, None
        return verdict.Verdict(verdict.INCONCLUSIVE, "%s, on too few runs for an interval "
                               "(at least %d)" % (verdict.miss_text(pv, mv), verdict.MIN_CI),
                               verdict.HINT_MORE), None
    return verdict.grade_prediction(pv, None, loads, band, mv), None


# ---------------------------------------------------------------- predictions kept with a run

def keep_predictions(src, run):
    """Copy predict.txt SRC into the run folder RUN as it was when the run started (its
    modification time kept). Returns what meta.json records under "predict": where it came
    from, its mtime, when it was copied and its sha256; or, where it cannot be
    kept (missing, a folder, unreadable, over 1 MiB), why not. Never fails a run."""
    import hashlib
    rec = {"from": show(src)}
    p = read_predict(src)
    if p.raw is None:
        rec["not_kept"] = p.lines()[0] if p.errors else "unreadable"
        return rec
    try:
        st = os.stat(src)
        dst = os.path.join(run, "predict.txt")
        with open(dst, "wb") as f:      # the bytes read and hashed, not a second read
            f.write(p.raw)
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns))
    except OSError as e:
        rec["not_kept"] = "%s: %s" % (show(src), e.strerror or e)
        return rec
    rec.update(kept="predict.txt", mtime=round(st.st_mtime, 3), copied=round(time.time(), 3),
               sha256=hashlib.sha256(p.raw).hexdigest())
    return rec


def sha256_of(path):
    import hashlib
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(PREDICT_MAX + 1)).hexdigest()
    except OSError:
        return None


def predict_changes(before, after):
    """The predictions that differ between two predict.txt (Predictions), in the order of
    AFTER's lines (a key only BEFORE has: its line there): ["line 3 speedup_fork 1.9 → 2.0",
    ...]; a key left blank or not written at all shows as "(blank)". None where AFTER could
    not be read as a whole (a folder, UTF-16): its read error says so."""
    if after.raw is None:
        return []
    a, b = before.values(), after.values()
    out = []
    for key in set(a) | set(b):
        if (a.get(key) or "") != (b.get(key) or ""):
            n = after.line_of(key) or before.line_of(key)
            out.append((n, "line %d %s %s → %s" % (n, key, short(a.get(key) or "(blank)"),
                                                   short(b.get(key) or "(blank)"))))
    return [t for _, t in sorted(out)]


def ago(seconds):
    m = abs(seconds) / 60
    return "%.0f s" % abs(seconds) if m < 2 else "%.0f min" % m if m < 120 else \
        "%.0f h" % (m / 60) if m < 2880 else "%.0f days" % (m / 1440)


def which_predictions(spec, run, told=None, live=None):
    """Which predict.txt a check grades, and the lines to print about it: (path, notes).

    By default the copy `make lab-N` kept in the run folder: what the student had written
    when the numbers were measured. The live labs/NN-name/predict.txt (LIVE) is compared
    with it, and each prediction changed since is named ("predictions changed after the
    run: line 3 speedup_fork 1.9 → 2.0"). TOLD (--predict FILE, make's PREDICT=FILE) grades
    that file instead, still naming what differs from the kept copy. A run without a kept
    copy (made before runs kept one, or a run folder handed in without it) grades LIVE."""
    live = live or os.path.join(spec["dir"], "predict.txt")
    rec = load_meta(run).get("predict") or {}
    kept = os.path.join(run, "predict.txt")
    notes = []
    if not (rec.get("kept") and os.path.isfile(kept)):
        if rec.get("not_kept"):
            notes.append("the run kept no predictions: %s" % rec["not_kept"])
        elif rec.get("kept"):
            notes.append("the predictions kept with the run are missing from its folder%s" % (
                "" if told else ": grading %s as it is now" % show(live)))
        elif not told:
            notes.append("this run kept no copy of predict.txt (made before runs kept one): "
                         "grading %s as it is now" % show(live))
        return told or live, notes
    if rec.get("sha256") and sha256_of(kept) != rec["sha256"]:
        notes.append("%s was edited after the run (its sha256 is not the one meta.json "
                     "recorded)" % show(kept))
    other = told or live
    if sha256_of(other) not in (rec.get("sha256"), sha256_of(kept)):
        changes = predict_changes(read_predict(kept), read_predict(other))
        notes += ["predictions changed after the run: %s" % c for c in changes]
        if changes and not told:
            notes.append("graded: the predictions kept with the run (`make lab-%d-check "
                         "PREDICT=%s` grades the new ones)" % (spec["num"], show(live)))
    if told:
        return told, notes
    when = rec.get("mtime"), rec.get("copied")
    if all(isinstance(t, (int, float)) for t in when):
        notes.insert(0, "predictions kept with the run: last edited %s before it" %
                     ago(when[1] - when[0]))
    return kept, notes


def as_verdict(result):
    """A check's result as a Verdict: a bool is a correctness claim (pass or fail), a list
    is claims that must all hold."""
    if isinstance(result, verdict.Verdict):
        return result
    if isinstance(result, (list, tuple)):
        return verdict.combine(as_verdict(r) for r in result)
    return verdict.Verdict(verdict.PASS if result else verdict.FAIL, "")


def run_loads(data, spec):
    """Every command's other-CPU figure in the run (meta.json; older runs: from the rows),
    or None when the run did not record them."""
    meta = data["_meta"]
    if "other_cpu" in meta:
        return [o for o in meta["other_cpu"] if o is not None]
    env = Env(data)
    ls = env.loads(*[st["id"] for st in spec["steps"]])
    return ls or None


def print_predictions(spec, preds, values, env, bands, loads):
    """Each prediction beside its measurement and its grade, one line a key; then every
    broken rule, one line each (`path:LINE: rule`, in line order); then the keys not yet
    predicted. A broken line never stops the others being graded."""
    import difflib
    asked = spec.get("predictions", {})
    errors = [(n or 0, e) for (n, _), e in zip(preds.errors, preds.lines())]
    print("\npredictions (%s):" % show(preds.path))
    missing = []
    for key, sp in asked.items():
        mv = values.get(sp["value"], (float("nan"), ""))[0]
        if key not in preds.entries:
            missing.append(key)
            continue
        pred, n = preds.entries[key]
        v, rule = grade(pred, sp, mv, env, bands.get(key), loads)
        if rule:
            errors.append((n, "%s:%d: %s = %s: %s" % (show(preds.path), n, key, short(pred),
                                                       rule)))
            continue
        text = v.reason if v.status != verdict.INCONCLUSIVE else str(v)
        print("  step %-3s %-22s predicted %-10s measured %-10s %s" % (
            sp["step"], key, short(pred), fmt(mv), text))
    for key in list(preds.entries) + list(preds.blank):
        if key not in asked:
            near = difflib.get_close_matches(key, list(asked), 1)
            errors.append((preds.line_of(key), "%s:%d: unknown key %s (%s)" % (
                show(preds.path), preds.line_of(key), key, "did you mean %s?" % near[0] if near
                else "this lab asks for %s" % ", ".join(asked))))
    for _, e in sorted(errors, key=lambda ne: ne[0]):
        print("  malformed: %s" % e)
    if missing:
        print("  no prediction yet for: %s (write them in predict.txt before you measure)" %
              ", ".join(missing))


TAGS = {verdict.PASS: "ok", verdict.FAIL: "FAIL", verdict.INCONCLUSIVE: "??"}


def cmd_check(num_, run=None, predict=None, live=None):
    """Grade RUN (default: the newest) of lab NUM_: the predictions (which_predictions says
    which file: PREDICT when given; LIVE stands for labs/NN-name/predict.txt), then the
    checks. Returns the exit status."""
    spec = find_lab(num_)
    if lacks_runner(spec) and run is None:
        print("lab %d needs %s: nothing to check (%s)" % (spec["num"], spec["needs"],
                                                         spec.get("needs_hint", "")))
        return EXIT_OK
    run = run or newest_run(spec)
    if not run:
        return die(EXIT_USAGE, "lab %d has no run yet: run `make lab-%d` first" %
                   (spec["num"], spec["num"]))
    data = load_run(spec, run)
    values = eval_values(spec, data)
    meta = data["_meta"]
    loads = run_loads(data, spec)
    if loads is None:
        trust = "load not recorded (a run made before parlab measured it): judged as quiet"
    elif not loads:
        trust = "load not measured (every run too short to tell): judged as quiet"
    else:
        trust = verdict.trust_line(len(loads), sum(o > verdict.BUSY_CPU for o in loads),
                                   what="runs")
    print("lab %d: %s" % (spec["num"], spec["title"]))
    print("run %s (%s, %s CPUs%s)" % (show(run), meta.get("host", "?"),
                                      meta.get("cores", "?"),
                                      ", tiny sizes" if meta.get("tiny") else ""))
    print(trust)
    env = Env(data)
    env.values.update({k: v for k, (v, _) in values.items()})
    graded, notes = which_predictions(spec, run, predict, live)
    for line in notes:
        print(line)
    print_predictions(spec, read_predict(graded), values, env, key_bands(spec), loads or [])
    print("\nchecks on the measured numbers:")
    counts = {verdict.PASS: 0, verdict.FAIL: 0, verdict.INCONCLUSIVE: 0}
    for c in spec.get("checks", []):
        try:
            v = as_verdict(evaluate(c["expr"], env))
            detail = evaluate(c["show"], env) if c.get("show") else ""
        except Exception as e:
            v, detail = verdict.Verdict(verdict.FAIL, ""), "cannot evaluate: %s" % e
        counts[v.status] += 1
        print("  %-4s step %-3s %s%s" % (TAGS[v.status], c["step"], c["say"],
                                         ": %s" % detail if detail != "" else ""))
        if v.status == verdict.INCONCLUSIVE:
            print("                inconclusive: %s%s" % (v.reason, "; %s" % v.hint if v.hint
                                                          else ""))
        elif v.reason:
            print("                %s" % v.reason)
    failed, unsure = counts[verdict.FAIL], counts[verdict.INCONCLUSIVE]
    print()
    if failed:
        print("%d check%s failed: read the step%s named above in labs/%s/README.md" % (
            failed, "s" * (failed > 1), "s" * (failed > 1), spec["name"]))
    if unsure:
        print("%d check%s inconclusive: no fault found; the numbers cannot settle %s (%s)" % (
            unsure, "s" * (unsure > 1), "them" if unsure > 1 else "it",
            verdict.HINT_QUIET if loads and any(o > verdict.BUSY_CPU for o in loads)
            else verdict.HINT_MORE))
    if not failed and not unsure:
        print("every check holds")
    if loads:
        trust = verdict.trust_line(len(loads), sum(o > verdict.BUSY_CPU for o in loads),
                                   unsure, what="runs", judged="check")
    print(trust if loads or not unsure else "%s; %d check%s inconclusive" % (
        trust, unsure, "s" * (unsure > 1)))
    return EXIT_FAIL if failed else EXIT_INCONCLUSIVE if unsure else EXIT_OK


def main(argv):
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(__doc__.strip())
            return EXIT_OK if argv else EXIT_USAGE
        if argv[0] == "list":
            for d in lab_dirs():
                spec = json.load(open(os.path.join(d, "lab.json")))
                print("%-16s %-4s min  %s" % (os.path.basename(d), spec.get("minutes", "?"),
                                             spec["title"]))
            return EXIT_OK
        if argv[0] == "run" and len(argv) == 2:
            return cmd_run(argv[1])
        if argv[0] == "report" and len(argv) == 3:
            if not os.path.exists(os.path.join(argv[2], "meta.json")):
                raise Usage("report: %s is not a lab run (no meta.json)" % argv[2])
            render(find_lab(argv[1]), argv[2])
            return EXIT_OK
        if argv[0] == "check" and len(argv) >= 2:
            opts = dict(zip(argv[2::2], argv[3::2]))
            if len(argv) % 2 or set(opts) - {"--run", "--predict"}:
                raise Usage("check N [--run DIR] [--predict FILE]")
            run = opts.get("--run")
            if run and not os.path.isdir(run):
                raise Usage("--run %s: no such folder" % run)
            return cmd_check(argv[1], os.path.abspath(run) if run else None,
                             os.path.abspath(opts["--predict"]) if "--predict" in opts else None)
        raise Usage("unknown command '%s': run N | check N | report N DIR | list" %
                    " ".join(argv))
    except Usage as e:
        return die(EXIT_USAGE, str(e))
    except KeyboardInterrupt:
        print("", file=sys.stderr)
        return die(130, "interrupted: no run was kept")


def _terminated(signum, frame):
    raise SystemExit(128 + signum)   # unwinds like Ctrl-C: the partial run is removed


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _terminated)
    sys.exit(main(sys.argv[1:]))
