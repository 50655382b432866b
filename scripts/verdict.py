#!/usr/bin/env python3
"""verdict.py: the one place parlab's Python side turns repeated timings into a verdict.

Every check, finding and comparison answers pass, fail or inconclusive, with its reason:
- a ratio of two timings (a speedup, an A/B change) carries a 95% bootstrap interval
  (scipy.stats.bootstrap, percentile method, over the runs of each side);
- an A/B comparison is also judged by a rank test (scipy.stats.mannwhitneyu), as
  benchstat does;
- `fail` needs the data to show it beyond its uncertainty on a quiet machine: a run during
  which other processes used more than BUSY_CPU of a CPU is "disturbed", and a would-be
  fail with disturbed runs is inconclusive, with the reason and what would settle it.

Minimum samples: MIN_CI runs a side for an interval, MIN_RANK for the rank test (with 3
against 3 runs the smallest two-sided p of the exact test is 0.1: it can never reject).
Below them the verdict is inconclusive, never a guess.

The C side (harness/stats.c) implements the same statistics; both are tested against
scipy's figures. Use as a module (lab.py, compare, diff) or from the shell:

    verdict.py ratio --above 1.2 NUM... / DEN...      speedup mean(NUM)/mean(DEN) vs a bound
    verdict.py change [--threshold 0.05] A... / B...  B against A (times): ~, slower, faster
  each with an optional --loads "L L ..." (other processes' CPU during each run); prints one JSON
  object (status, reason, hint, point, lo, hi, p) and exits 0 (pass or ~), 1 (fail or a
  significant change), 2 (inconclusive), 64 (bad input).
"""
import json
import math
import sys

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
CONFIDENCE = 0.95
MIN_CI = 3
MIN_RANK = 4
ALPHA = 0.05
BUSY_CPU = 0.3          # other processes' CPU (in CPUs) above which a run is disturbed
RESAMPLES = 9999
SEED = 20261206         # fixed: the same runs give the same interval every time

HINT_MORE = "run more repeats (REPEAT=10)"
HINT_QUIET = "wait for a quiet machine (WAIT_QUIET=60) or stop the other work"


def _scipy():
    try:
        import numpy as np
        from scipy import stats
    except ImportError:
        sys.stderr.write("verdict: scipy is missing: sudo apt-get install python3-scipy, and run "
                         "with Debian's /usr/bin/python3\n")
        raise
    return np, stats


class Verdict:
    """status (pass|fail|inconclusive), reason in words, hint (what would make it
    conclusive), and the interval it rests on (point, lo, hi; None where there is none)."""

    def __init__(self, status, reason, hint="", point=None, lo=None, hi=None, p=None):
        self.status, self.reason, self.hint = status, reason, hint
        self.point, self.lo, self.hi, self.p = point, lo, hi, p

    def __str__(self):
        s = "%s: %s" % (self.status, self.reason)
        return s + ("; %s" % self.hint if self.hint and self.status == INCONCLUSIVE else "")

    def as_dict(self):
        return {k: getattr(self, k) for k in ("status", "reason", "hint", "point", "lo", "hi", "p")}


def _clean(xs):
    out = []
    for x in xs or ():
        try:
            v = float(x)
        except (TypeError, ValueError):
            continue
        if math.isfinite(v):
            out.append(v)
    return out


def mean(xs):
    xs = _clean(xs)
    return sum(xs) / len(xs) if xs else float("nan")


def ratio_ci(num, den, confidence=CONFIDENCE):
    """mean(num)/mean(den) with its bootstrap interval: (point, lo, hi), or None when a side
    has fewer than MIN_CI finite runs or a mean is not positive."""
    num, den = _clean(num), _clean(den)
    if len(num) < MIN_CI or len(den) < MIN_CI:
        return None
    mn, md = sum(num) / len(num), sum(den) / len(den)
    if md <= 0 or mn <= 0:
        return None
    np, stats = _scipy()
    if max(num) == min(num) and max(den) == min(den):
        return mn / md, mn / md, mn / md       # no spread: every resample is the point

    def stat(x, y, axis=-1):
        return np.mean(x, axis=axis) / np.mean(y, axis=axis)
    r = stats.bootstrap((np.array(num), np.array(den)), stat, paired=False, vectorized=True,
                        confidence_level=confidence, n_resamples=RESAMPLES,
                        method="percentile", random_state=SEED)
    lo, hi = float(r.confidence_interval.low), float(r.confidence_interval.high)
    return mn / md, min(lo, mn / md), max(hi, mn / md)


def mean_ci(xs, confidence=CONFIDENCE):
    """mean(xs) with its bootstrap interval, or None below MIN_CI runs."""
    xs = _clean(xs)
    if len(xs) < MIN_CI:
        return None
    m = sum(xs) / len(xs)
    if max(xs) == min(xs):
        return m, m, m
    np, stats = _scipy()
    r = stats.bootstrap((np.array(xs),), np.mean, confidence_level=confidence,
                        n_resamples=RESAMPLES, method="percentile", random_state=SEED)
    return m, min(float(r.confidence_interval.low), m), max(float(r.confidence_interval.high), m)


def mann_whitney(a, b):
    """Two-sided Mann-Whitney U p-value (scipy's automatic method), or None below MIN_RANK."""
    a, b = _clean(a), _clean(b)
    if len(a) < MIN_RANK or len(b) < MIN_RANK:
        return None
    _, stats = _scipy()
    if len(set(a) | set(b)) == 1:
        return 1.0
    return float(stats.mannwhitneyu(a, b, alternative="two-sided").pvalue)


def load_summary(loads, threshold=BUSY_CPU):
    """(disturbed, measured, mean other CPU) over the runs' other-CPU figures."""
    ls = _clean(loads)
    return sum(l > threshold for l in ls), len(ls), (sum(ls) / len(ls) if ls else 0.0)


def busy_reason(loads, threshold=BUSY_CPU):
    """"machine busy: ..." when any run was disturbed, else ""."""
    d, n, m = load_summary(loads, threshold)
    if not d:
        return ""
    return "machine busy: other processes used %.1f CPU on average, above %.1f during %d of %d runs" % (
        m, threshold, d, n)


def fmt(x):
    """A number at 3 significant digits, as the verdicts print them."""
    if x is None or not math.isfinite(x):
        return "?"
    return "%.3g" % x


def judge_interval(ci, bound, above, what, loads=(), unit="×"):
    """The claim "WHAT > BOUND" (above) or "WHAT < BOUND" against an interval ci = (point,
    lo, hi) or None. pass: the interval lies wholly on the claimed side; fail: wholly on the
    other side on a quiet machine; else inconclusive with the reason and the hint."""
    side = ">" if above else "<"
    busy = busy_reason(loads)
    if ci is None:
        return Verdict(INCONCLUSIVE, "%s: too few runs for an interval (at least %d a side)" % (
            what, MIN_CI), HINT_MORE)
    point, lo, hi = ci
    shown = "%s %s%s [%s, %s] 95%% CI" % (what, fmt(point), unit, fmt(lo), fmt(hi))
    holds = lo > bound if above else hi < bound
    broken = hi < bound if above else lo > bound
    if holds:
        return Verdict(PASS, "%s, %s %s" % (shown, side, fmt(bound)), "", point, lo, hi)
    if broken and not busy:
        return Verdict(FAIL, "%s, not %s %s" % (shown, side, fmt(bound)), "", point, lo, hi)
    if broken:
        return Verdict(INCONCLUSIVE, "%s, not %s %s, but %s" % (shown, side, fmt(bound), busy),
                       HINT_QUIET, point, lo, hi)
    reason = "95%% CI of %s [%s, %s] spans the bound %s" % (what, fmt(lo), fmt(hi), fmt(bound))
    if busy:
        reason += "; %s" % busy
    return Verdict(INCONCLUSIVE, reason, HINT_QUIET if busy else HINT_MORE, point, lo, hi)


def judge_ratio(num, den, bound, above=True, loads=(), what="the speedup"):
    """mean(num)/mean(den) against a bound (a speedup is seq times over runner times)."""
    return judge_interval(ratio_ci(num, den), bound, above, what, loads)


def judge_mean(xs, bound, above=True, loads=(), what="the mean", unit=""):
    return judge_interval(mean_ci(xs), bound, above, what, loads, unit)


def compare(a, b, threshold=0.05, loads=(), what="time"):
    """Run B's times against run A's. status pass with reason "~" (no significant change, or
    one within THRESHOLD), fail (B slower beyond THRESHOLD, significant by the rank test and
    the interval on a quiet machine), "faster" changes are reported as pass with the reason,
    inconclusive below the minimum samples or when a significant change meets a busy
    machine. point/lo/hi: mean(B)/mean(A) and its interval; p: the rank test."""
    ci, p = ratio_ci(b, a), mann_whitney(a, b)
    busy = busy_reason(loads)
    if ci is None or p is None:
        na, nb = len(_clean(a)), len(_clean(b))
        return Verdict(INCONCLUSIVE, "%d and %d runs: the rank test needs %d a side" % (
            na, nb, MIN_RANK), HINT_MORE, *(ci or (None, None, None)), p)
    point, lo, hi = ci
    shown = "%s ×%s [%s, %s], p = %.2g" % (what, fmt(point), fmt(lo), fmt(hi), p)
    if p >= ALPHA:
        return Verdict(PASS, "~ (%s: not significant)" % shown, "", point, lo, hi, p)
    if 1 - threshold <= lo and hi <= 1 + threshold:
        return Verdict(PASS, "~ (%s: within ±%.0f%%)" % (shown, 100 * threshold), "",
                       point, lo, hi, p)
    slower = lo > 1 + threshold
    faster = hi < 1 - threshold
    if not slower and not faster:
        return Verdict(INCONCLUSIVE, "%s: the interval spans the ±%.0f%% threshold" % (
            shown, 100 * threshold), HINT_MORE, point, lo, hi, p)
    if busy:
        return Verdict(INCONCLUSIVE, "%s, but %s" % (shown, busy), HINT_QUIET, point, lo, hi, p)
    if faster:
        return Verdict(PASS, "faster (%s)" % shown, "", point, lo, hi, p)
    return Verdict(FAIL, "slower (%s)" % shown, "", point, lo, hi, p)


def judge_within(ci, low, high, what, loads=(), unit="×"):
    """The claim "LOW < WHAT < HIGH" against ci = (point, lo, hi) or None: pass when the
    interval lies inside the range, fail when it lies wholly outside on a quiet machine,
    else inconclusive (the interval straddles an end, or the machine was busy)."""
    if ci is None:
        return Verdict(INCONCLUSIVE, "%s: too few runs for an interval (at least %d a side)" % (
            what, MIN_CI), HINT_MORE)
    point, lo, hi = ci
    shown = "%s %s%s [%s, %s] 95%% CI" % (what, fmt(point), unit, fmt(lo), fmt(hi))
    span = "%s to %s" % (fmt(low), fmt(high))
    if low < lo and hi < high:
        return Verdict(PASS, "%s, within %s" % (shown, span), "", point, lo, hi)
    busy = busy_reason(loads)
    if hi < low or lo > high:
        if not busy:
            return Verdict(FAIL, "%s, outside %s" % (shown, span), "", point, lo, hi)
        return Verdict(INCONCLUSIVE, "%s, outside %s, but %s" % (shown, span, busy),
                       HINT_QUIET, point, lo, hi)
    reason = "95%% CI of %s [%s, %s] spans an end of %s" % (what, fmt(lo), fmt(hi), span)
    if busy:
        reason += "; %s" % busy
    return Verdict(INCONCLUSIVE, reason, HINT_QUIET if busy else HINT_MORE, point, lo, hi)


def judge_bool(holds, what, loads=()):
    """A timing claim with no samples to bootstrap (an experiment's medians, a trace): pass
    when it holds; when it does not, fail on a quiet machine, inconclusive on a busy one.
    WHAT says what was seen when it does not hold."""
    if holds:
        return Verdict(PASS, "")
    what = what or "it does not hold"
    busy = busy_reason(loads)
    if busy:
        return Verdict(INCONCLUSIVE, "%s, but %s" % (what, busy), HINT_QUIET)
    return Verdict(FAIL, what)


def combine(verdicts):
    """Several claims that must all hold: fail if one fails, else inconclusive if one is,
    else pass; the reason joins those of the verdicts that decided it."""
    vs = list(verdicts)
    for status in (FAIL, INCONCLUSIVE, PASS):
        hit = [v for v in vs if v.status == status]
        if hit:
            hints = [v.hint for v in hit if v.hint]
            return Verdict(status, "; ".join(v.reason for v in hit if v.reason),
                           hints[0] if hints else "")
    return Verdict(INCONCLUSIVE, "nothing to judge", HINT_MORE)


def grade_prediction(pred, ci, loads=()):
    """A numeric prediction against a measured interval ci = (point, lo, hi): pass "right:
    within the measured 95% CI", fail "2.5× too high" (a log-ratio, only outside the
    interval), inconclusive when any run behind the interval was disturbed: a busy machine
    can push a value away from a right guess or onto a wrong one."""
    point, lo, hi = ci
    shown = "the measured 95%% CI [%s, %s]" % (fmt(lo), fmt(hi))
    if lo <= pred <= hi:
        text, status = "within %s" % shown, PASS
    elif pred > 0 and lo > 0:
        far = pred / hi if pred > hi else lo / pred
        text = "%s× too %s (%s)" % (fmt(far), "high" if pred > hi else "low", shown)
        status = FAIL
    else:
        text = "off by %+.3g (%s)" % (pred - point, shown)
        status = FAIL
    busy = busy_reason(loads)
    if busy:
        return Verdict(INCONCLUSIVE, "%s, but %s" % (text, busy), HINT_QUIET, point, lo, hi)
    return Verdict(status, "right: " + text if status == PASS else text, "", point, lo, hi)


def trust_line(points, disturbed, inconclusive=None, what="points", judged="finding"):
    """One line on how far a whole run can be trusted: "quiet: 0 of 202 points disturbed"
    or "busy: 182 of 197 points disturbed, 40 findings inconclusive"."""
    state = "quiet" if not disturbed else "busy"
    s = "%s: %d of %d %s disturbed" % (state, disturbed, points, what)
    if inconclusive:
        s += ", %d %s%s inconclusive" % (inconclusive, judged, "s" * (inconclusive != 1))
    return s


QUIET_CPU = 0.2         # other processes' CPU under which the machine counts as quiet


def other_cpu_now(window=1.0):
    """The CPU other processes use over the next WINDOW seconds (None: unreadable)."""
    import time
    m = LoadMeter()
    m.start()
    time.sleep(window)
    return m.stop()


def wait_quiet(limit_s, window=1.0, say=None):
    """Wait up to LIMIT_S seconds for other processes to use under QUIET_CPU over a WINDOW.
    Returns (quiet, other CPU of the last window, seconds waited)."""
    import time
    t0 = time.monotonic()
    while True:
        other = other_cpu_now(window)
        waited = time.monotonic() - t0
        if other is None or other < QUIET_CPU:
            return True, other, waited
        if waited + window > limit_s:
            return False, other, waited
        if say:
            say(other, waited)


class LoadMeter:
    """The CPU other processes use while something of ours runs: all busy CPU time in
    /proc/stat over the interval, less this process's and its waited-for children's own,
    per second of wall time (in CPUs; 0 where /proc/stat cannot be read).

        m = LoadMeter(); m.start(); ...run a child...; other = m.stop()
    """

    def __init__(self):
        self.t0 = self.b0 = self.c0 = None

    @staticmethod
    def _busy():
        import os
        try:
            with open("/proc/stat") as f:
                for line in f:
                    if line.startswith("cpu "):
                        v = [int(x) for x in line.split()[1:]]
                        # user nice system idle iowait irq softirq steal
                        return (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) \
                            / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            return None
        return None

    @staticmethod
    def _own():
        import resource
        s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    def start(self):
        import time
        self.t0, self.b0, self.c0 = time.monotonic(), self._busy(), self._own()

    def stop(self):
        import time
        t1, b1, c1 = time.monotonic(), self._busy(), self._own()
        if self.b0 is None or b1 is None or t1 - self.t0 < 0.05:
            return None        # unreadable, or shorter than a few clock ticks: no telling
        return max(0.0, (b1 - self.b0 - (c1 - self.c0)) / (t1 - self.t0))


# ---------------------------------------------------------------- the command line

def _split(args):
    if "/" not in args:
        raise ValueError("give two sample lists separated by /")
    i = args.index("/")
    return [float(x) for x in args[:i]], [float(x) for x in args[i + 1:]]


def main(argv):
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(__doc__.strip())
            return 0 if argv else 64
        cmd, rest = argv[0], argv[1:]
        opts, loads = {}, []
        while rest and rest[0].startswith("--"):
            k = rest.pop(0)
            if k in ("--above", "--below", "--threshold"):
                opts[k] = float(rest.pop(0))
            elif k == "--loads":
                loads = [float(v) for v in rest.pop(0).replace(",", " ").split()]
            else:
                raise ValueError("unknown option %s" % k)
        x, y = _split(rest)
        if cmd == "ratio":
            if ("--above" in opts) == ("--below" in opts):
                raise ValueError("ratio needs one of --above B or --below B")
            above = "--above" in opts
            v = judge_ratio(x, y, opts["--above" if above else "--below"], above, loads)
            code = {PASS: 0, FAIL: 1, INCONCLUSIVE: 2}[v.status]
        elif cmd == "change":
            v = compare(x, y, opts.get("--threshold", 0.05), loads)
            code = {PASS: 0, FAIL: 1, INCONCLUSIVE: 2}[v.status]
        else:
            raise ValueError("unknown command %s (ratio | change)" % cmd)
    except (ValueError, IndexError) as e:
        sys.stderr.write("verdict: %s\n" % e)
        return 64
    print(json.dumps(v.as_dict()))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
