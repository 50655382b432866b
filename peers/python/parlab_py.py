#!/usr/bin/env python3
"""parlab_py.py: parlab's workloads under Python's own parallel models, with parlab's
command line, checks, exit statuses and CSV/JSON columns, so the two compare row by row.

    python3 peers/python/parlab_py.py list
    python3 peers/python/parlab_py.py run -w primes -r py-pool-map1 -n 1e5 -j 2 --format csv

Standard library only. Exit status: 0 verified, 1 wrong result, 64 usage error (one
line naming the option and the value), 70 a task or worker failed, 71 the OS refused.
"""
import getopt
import json
import os
import platform
import re
import resource
import socket
import sys
import time

from models import MODELS, TaskFailed, default_chunksize
from workloads import WORKLOADS, Job

PROG = "parlab_py"
EXIT_OK, EXIT_WRONG, EXIT_USAGE, EXIT_SOFTWARE, EXIT_OS = 0, 1, 64, 70, 71
MAX_WORKERS = 4096
MAX_TASKS = 1 << 22          # as harness/run.c
MAX_REPEAT = 10000
# start_s, last: parlab's seconds to start processes kept for a whole command (mpi's
# mpirun); these pools start in every run, inside wall_s, so it stays empty (JSON: absent).
CSV_COLS = ("workload,size,runner,workers,cores,tasks,schedule,chunk,steps,wall_s,user_s,"
            "sys_s,max_rss_kb,vol_cs,invol_cs,result,verified,check,host,other_cpu,start_s")


class Usage(Exception):
    """A usage error: the one line to print before exiting 64."""


def die(code, msg):
    print("%s: %s" % (PROG, msg), file=sys.stderr)
    return code


_COUNT = re.compile(r"\+?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?([kKmMgGtT]?)")


def parse_count(opt, val, lo, hi):
    """A whole number in [lo, hi] written as 2000000, 2M, 2e6 or 2.5e6, as parlab's
    parse_count(); raises Usage naming the option and the value."""
    if not val:
        raise Usage("%s '': empty value" % opt)
    if val.startswith("-"):
        raise Usage("%s %s: must not be negative" % (opt, val))
    m = _COUNT.fullmatch(val)
    if not m or not (m.group(1) or m.group(2)):
        raise Usage("%s %s: not a number" % (opt, val))
    whole, frac, exp, suffix = m.group(1), m.group(2) or "", m.group(3), m.group(4)
    # The value is int(whole frac) * 10^e, exactly.
    e = int(exp or 0) - len(frac) + {"": 0, "k": 3, "m": 6, "g": 9, "t": 12}[suffix.lower()]
    v = int(whole + frac or "0")
    if v and e > 40:
        raise Usage("%s %s: too large (at most %d)" % (opt, val, hi))
    if e >= 0:
        v *= 10 ** e
    elif v % 10 ** min(-e, 400):
        raise Usage("%s %s: not a whole number" % (opt, val))
    else:
        v //= 10 ** -e
    if v > hi:
        raise Usage("%s %s: too large (at most %d)" % (opt, val, hi))
    if v < lo:
        raise Usage("%s %s: %s" % (opt, val, "must be at least 1" if lo == 1 else
                                   "too small (at least %d)" % lo))
    return v


def run_usage(f):
    f.write(
        "usage: parlab_py.py run -w WORKLOAD -r MODEL [options]\n"
        "  -w, --workload W    what to compute (parlab_py.py list)\n"
        "  -r, --runner R      how to run it: a Python model (parlab_py.py list)\n"
        "  -j, --workers N     workers; default: the CPUs this process may use\n"
        "  -n, --size N        problem size; accepts 2000000, 2M, 2e6\n"
        "  -t, --tasks T       tasks the job splits into; default per workload\n"
        "  -c, --chunk C       py-pool-map only: Pool.map's chunksize\n"
        "      --cores K       restrict the run, workers included, to K CPUs\n"
        "      --repeat R      run R times and report each\n"
        "      --format F      text | csv | json (parlab's columns)\n"
        "      --seed S        seed of the counter-based random streams (default 1)\n"
        "      --io-ms MS      sleep: how long each task waits (default 100)\n"
        "      --grain NS      spin: how long each task runs, 1 ns to 10 s (default: 1024 steps)\n"
        "      --expect RESULT fail unless the result equals RESULT (skips the seq check)\n"
        "  -h, --help          this help\n"
        "exit status: 0 verified, 1 wrong result, 64 usage, 70 task failure, 71 OS failure\n")


def cmd_list(argv):
    if argv:
        raise Usage("list: unexpected argument '%s'" % argv[0])
    print("workloads:")
    for w in WORKLOADS.values():
        print("  %-12s %-4s %s" % (w.name, w.kind, w.summary))
    print("runners:")
    for m in MODELS.values():
        print("  %-12s %s (parlab: %s)" % (m.name, m.summary, m.parlab))
    return EXIT_OK


def parse_run(argv):
    """Parse and check `run`'s options; returns a dict, or None for --help."""
    try:
        opts, rest = getopt.gnu_getopt(
            argv, "w:r:j:n:t:c:h",
            ["workload=", "runner=", "workers=", "size=", "tasks=", "chunk=", "cores=",
             "repeat=", "format=", "seed=", "io-ms=", "grain=", "expect=", "help"])
    except getopt.GetoptError as e:
        raise Usage("%s (parlab_py.py run --help)" % e.msg) from None
    if rest:
        raise Usage("unexpected argument '%s' (parlab_py.py run --help)" % rest[0])
    o = {"repeat": 1, "seed": 1, "io_ms": 100, "format": "text", "expect": None}
    for opt, val in opts:
        if opt in ("-h", "--help"):
            return None
        if opt in ("-w", "--workload"):
            if val not in WORKLOADS:
                raise Usage("-w %s: unknown workload (parlab_py.py list shows them)" % val)
            o["wl"] = WORKLOADS[val]
        elif opt in ("-r", "--runner"):
            if val not in MODELS:
                raise Usage("-r %s: unknown runner (parlab_py.py list shows them)" % val)
            o["model"] = MODELS[val]
        elif opt in ("-j", "--workers"):
            o["workers"] = parse_count("-j", val, 1, MAX_WORKERS)
        elif opt in ("-n", "--size"):
            o["size"] = parse_count("-n", val, 0, (1 << 64) - 1)
        elif opt in ("-t", "--tasks"):
            o["tasks"] = parse_count("-t", val, 1, MAX_TASKS)
        elif opt in ("-c", "--chunk"):
            o["chunk"] = parse_count("-c", val, 1, MAX_TASKS)
        elif opt == "--cores":
            o["cores"] = parse_count("--cores", val, 1, MAX_WORKERS)
        elif opt == "--repeat":
            o["repeat"] = parse_count("--repeat", val, 1, MAX_REPEAT)
        elif opt == "--seed":
            o["seed"] = parse_count("--seed", val, 0, (1 << 64) - 1)
        elif opt == "--io-ms":
            o["io_ms"] = parse_count("--io-ms", val, 0, 3600000)
        elif opt == "--grain":
            o["grain"] = parse_count("--grain", val, 1, 10 ** 10)
        elif opt == "--format":
            if val not in ("text", "csv", "json"):
                raise Usage("--format %s: unknown format (text, csv, json)" % val)
            o["format"] = val
        elif opt == "--expect":
            o["expect"] = val
    if "wl" not in o:
        raise Usage("-w WORKLOAD is required (parlab_py.py list shows them)")
    if "model" not in o:
        raise Usage("-r RUNNER is required (parlab_py.py list shows them)")
    return o


def resolve(o):
    """Defaults and cross-checks, in the order of resolve_opts() in harness/run.c."""
    wl, model = o["wl"], o["model"]
    if wl.default_tasks == 0:       # one task per item: -n and -t say the same
        if "tasks" in o and "size" in o and o["tasks"] != o["size"]:
            raise Usage("-t %d: for %s, -n and -t both count tasks and differ" % (
                o["tasks"], wl.name))
        o.setdefault("size", o.get("tasks", wl.default_size))
        if o["size"] > MAX_TASKS:
            raise Usage("-n %d: too large for %s (at most %d tasks)" % (
                o["size"], wl.name, MAX_TASKS))
        o["tasks"] = o["size"]
    else:
        o.setdefault("size", wl.default_size)
        o.setdefault("tasks", wl.default_tasks)
    if o["size"] < wl.min_size:
        raise Usage("-n %d: too small for %s (at least %d)" % (o["size"], wl.name, wl.min_size))
    if o["size"] > wl.max_size:
        raise Usage("-n %d: too large for %s (at most %d)" % (o["size"], wl.name, wl.max_size))
    if "grain" in o and wl.setup is None:
        raise Usage("--grain %d: %s has no task duration to set (only spin)" % (
            o["grain"], wl.name))
    if "chunk" in o and model.name != "py-pool-map":
        raise Usage("-c %d: runner %s has no chunksize (only py-pool-map)" % (
            o["chunk"], model.name))
    if "cores" in o:
        have = sorted(os.sched_getaffinity(0))
        if o["cores"] > len(have):
            raise Usage("--cores %d: only %d CPUs are available" % (o["cores"], len(have)))
        os.sched_setaffinity(0, have[:o["cores"]])
    o["cores"] = len(os.sched_getaffinity(0))
    o.setdefault("workers", o["cores"])
    if model.chunk is None:
        o["chunk_shown"] = o.get("chunk") or default_chunksize(o["tasks"], o["workers"])
    else:
        o["chunk_shown"] = model.chunk


def usage_now():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return (s.ru_utime + c.ru_utime, s.ru_stime + c.ru_stime, max(s.ru_maxrss, c.ru_maxrss),
            s.ru_nvcsw + c.ru_nvcsw, s.ru_nivcsw + c.ru_nivcsw)


def busy_s():
    """CPU-seconds all CPUs have been busy (/proc/stat: user, nice, system, irq, softirq,
    steal), as parlab's machine_busy_s; None where unreadable."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_once(o, model):
    """One timed run: start the model's workers, run every task, stop them; combine in
    task order and verify. Returns the row (a dict) and the total."""
    wl = o["wl"]
    job = Job(wl.name, o["size"], o["tasks"], o["seed"], o["io_ms"], o.get("grain", 0))
    if wl.setup:
        job = wl.setup(job)     # spin: calibrated before the clock starts, as parlab's setup
    chunk = o.get("chunk", 0)
    b0 = busy_s()
    u0 = usage_now()
    t0 = time.perf_counter()
    parts = model.run(job, o["workers"], chunk)
    t1 = time.perf_counter()
    u1 = usage_now()
    b1 = busy_s()
    # other_cpu, as parlab's: all busy time across the run less the run's own, per second
    own = (u1[0] - u0[0]) + (u1[1] - u0[1])
    other = None
    if b0 is not None and b1 is not None and t1 > t0:
        other = max(0.0, (b1 - b0 - own) / (t1 - t0))
    total = 0
    for p in parts:             # in task order, as parlab's combine
        total += p
    verified, why = wl.verify(job, total)
    return {
        "workload": wl.name, "size": job.size, "runner": model.name, "workers": o["workers"],
        "cores": o["cores"], "tasks": job.tasks, "schedule": model.schedule,
        "chunk": o["chunk_shown"], "steps": 1,
        "wall_s": t1 - t0, "user_s": u1[0] - u0[0], "sys_s": u1[1] - u0[1],
        "max_rss_kb": u1[2], "vol_cs": u1[3] - u0[3], "invol_cs": u1[4] - u0[4],
        "result": wl.fmt(job, total) if wl.fmt else str(total), "verified": verified, "why": why,
        "other_cpu": other,
        "check": "seq" if verified < 0 else wl.check_for(job) if wl.check_for else wl.check,
        "detail": wl.describe(job, total) if wl.describe else str(total),
    }


def clean_host(h):
    return "".join("_" if c in ',"\\' or ord(c) < 32 else c for c in h)[:63]


def print_row(o, row, index, total):
    fmt = o["format"]
    if fmt == "csv":
        print("%s,%d,%s,%d,%d,%d,%s,%d,%d,%.6f,%.6f,%.6f,%d,%d,%d,%s,%s,%s,%s,%s," % (
            row["workload"], row["size"], row["runner"], row["workers"], row["cores"],
            row["tasks"], row["schedule"], row["chunk"], row["steps"], row["wall_s"],
            row["user_s"], row["sys_s"], row["max_rss_kb"], row["vol_cs"], row["invol_cs"],
            row["result"], "yes" if row["verified"] else "no", row["check"], o["host"],
            "" if row["other_cpu"] is None else "%.3f" % row["other_cpu"]))
    elif fmt == "json":
        keys = [k for k in CSV_COLS.split(",") if k != "start_s"]
        obj = {k: row[k] if k != "host" else o["host"] for k in keys}
        obj["verified"] = bool(row["verified"])
        for k in ("wall_s", "user_s", "sys_s"):
            obj[k] = round(obj[k], 6)
        if obj["other_cpu"] is not None:
            obj["other_cpu"] = round(obj["other_cpu"], 3)
        print("%s\n  %s" % ("," if index else "", json.dumps(obj)), end="")
    else:
        print("run %d/%d  %-12s %s  %s  wall %.4f s  user %.3f s  sys %.3f s  rss %d KiB  "
              "cs %d/%d" % (index + 1, total, row["runner"], row["result"],
                            "verified" if row["verified"] else "WRONG", row["wall_s"],
                            row["user_s"], row["sys_s"], row["max_rss_kb"], row["vol_cs"],
                            row["invol_cs"]))
    sys.stdout.flush()


def check_against_seq(o, row, ref):
    """For answers only the sequential run can vouch for (primes at an N missing from the
    table): compare with --expect, or with one py-seq run, as parlab does."""
    if row["verified"] >= 0:
        return
    if o["expect"] is not None:
        ref.setdefault("v", o["expect"])
        row["check"] = "expect"
    elif "v" not in ref:
        seq = MODELS["py-seq"]
        ref["v"] = row["result"] if row["runner"] == seq.name else run_once(o, seq)["result"]
    row["verified"] = int(row["result"] == ref["v"])
    if not row["verified"]:
        row["why"] = "%s, but %s gives %s" % (
            row["result"], "--expect" if o["expect"] is not None else "py-seq", ref["v"])


def cmd_run(argv):
    o = parse_run(argv)
    if o is None:
        run_usage(sys.stdout)
        return EXIT_OK
    resolve(o)
    o["host"] = clean_host(socket.gethostname())
    fmt, R, wl = o["format"], o["repeat"], o["wl"]
    if fmt == "csv":
        print(CSV_COLS)
    elif fmt == "json":
        print("[", end="")
    else:
        print("# %s  Python %s (%s)  host %s  CPUs %d online, %d allowed" % (
            PROG, platform.python_version(), sys.executable, o["host"], os.cpu_count(),
            o["cores"]))
        print("# %s  N=%d  runner=%s  workers=%d  cores=%d  tasks=%d  chunk=%d" % (
            wl.name, o["size"], o["model"].name, o["workers"], o["cores"], o["tasks"],
            o["chunk_shown"]))
    walls, wrong, ref, row = [], False, {}, None
    for i in range(R):
        row = run_once(o, o["model"])
        check_against_seq(o, row, ref)
        if not row["verified"]:
            wrong = True
            print("%s: %s %s: wrong result: %s" % (PROG, wl.name, row["runner"], row["why"]),
                  file=sys.stderr)
        walls.append(row["wall_s"])
        print_row(o, row, i, R)
    if fmt == "json":
        print("\n]")
    elif fmt == "text":
        print("answer: %s: %s (%s)" % (row["detail"], "WRONG" if wrong else "verified",
                                      row["check"]))
        mean = sum(walls) / R
        if R > 1:
            sd = (sum((w - mean) ** 2 for w in walls) / (R - 1)) ** 0.5
            print("time: mean %.4f s ± %.4f s (stddev of %d runs), min %.4f s" % (
                mean, sd, R, min(walls)))
        else:
            print("time: %.4f s (one run: use --repeat 5 for a spread)" % mean)
    return EXIT_WRONG if wrong else EXIT_OK


def usage(f):
    f.write("usage: parlab_py.py COMMAND [options]\n\ncommands:\n"
            "  list       list the workloads and the Python models, one a line\n"
            "  run        run a workload under a model, verified and timed\n\n"
            "  parlab_py.py run -w primes -r py-pool-map1 -n 1e5 --repeat 3\n"
            "  parlab_py.py run --help   the options of run\n")


def main(argv):
    if not argv:
        usage(sys.stderr)
        return EXIT_USAGE
    cmd, rest = argv[0], argv[1:]
    try:
        if cmd in ("-h", "--help", "help"):
            usage(sys.stdout)
            return EXIT_OK
        if cmd == "list":
            return cmd_list(rest)
        if cmd == "run":
            return cmd_run(rest)
        raise Usage("unknown command '%s' (parlab_py.py --help)" % cmd)
    except Usage as e:
        return die(EXIT_USAGE, str(e))
    except TaskFailed as e:
        return die(EXIT_SOFTWARE, str(e))
    except OSError as e:        # fork, pipe, affinity: the OS refused
        return die(EXIT_OS, "%s: %s" % (e.__class__.__name__, e))
    except Exception as e:      # a task raised, or a pool broke
        return die(EXIT_SOFTWARE, "a task or worker failed: %s: %s" % (
            e.__class__.__name__, e))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
