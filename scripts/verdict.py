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
scipy's figures. The bench's formulas on means and spreads (speedup and its error, the
Karp-Flatt fraction, the noise band, the median) are here too, once: scripts/analyse.py,
lab.py and the sweeps use them; no script computes a statistic of its own. Use as a module (lab.py, compare, diff) or from the shell:

    verdict.py ratio --above 1.2 NUM... / DEN...      speedup mean(NUM)/mean(DEN) vs a bound
    verdict.py change [--threshold 0.05] A... / B...  B against A (times): ~, slower, faster
  each with an optional --loads "L L ..." (other processes' CPU during each run); prints one JSON
  object (status, reason, hint, point, lo, hi, p) and exits 0 (pass or ~), 1 (fail or a
  significant change), 2 (inconclusive), 64 (bad input).

For the bench scripts, one call per job rather than one per point:

    verdict.py split LOADS ROUND.json... -- OUT.json CMD CONTROL [...]   rounds of a group
                                    of points timed in turns (hyperfine exports of one run of
                                    each command) as one export per point (CMD first, then
                                    CONTROL unless it is ""), each run with its other CPU
                                    (LOADS, one a round); prints "MEAN MAX" of the other CPU,
                                    or nothing
    verdict.py serve                these commands, one after another, from one process:
                                    a request is its argument count on a line, then one
                                    argument a line; the answer ends with "\x1e" and the code
    verdict.py rows OUT.json CMD [CONTROL] < ROWS.json   parlab's --format json rows of an
                                    external runner's point as such an export (likewise)
    verdict.py bench RUN_DIR        every point's speedup interval (points.csv), the key
                                    findings and flags as verdicts (findings.csv, summary.csv),
                                    the run's trust line (trust.txt, printed)
    verdict.py diff [--threshold T] [--format text|markdown] [--force] [--csv OUT] A B
                                    run B against run A point by point; exits 0, 1 (a
                                    significant slowdown beyond T), 64 (runs that do not compare)
    verdict.py speedup [--scale K] NUM... / DEN...   K × mean(NUM)/mean(DEN) as progress
                                    lines show it: "1.93× [1.85, 2.01]" (95% interval)
    verdict.py speedup --run RUN_DIR SWEEP WORKLOAD RUNNER VALUE   one point of a bench
                                    run so far, against its control, as the verdicts take it
    verdict.py speedup --hyperfine BASE.json POINT.json   the first command's runs of two
                                    hyperfine exports (BASE's over POINT's)
    verdict.py load FILE CMD ARGS...  run CMD; write the CPU other processes used meanwhile
                                    to FILE (empty when too short to tell); exit as CMD did
    verdict.py trust [--wait S] [--probe S]  the machine now: "quiet: other processes use
                                    0.02 CPU" (exit 0) or "busy: ..." (exit 2); --wait S waits
                                    up to S seconds for quiet
"""
import json
import math
import os
import sys

PASS, FAIL, INCONCLUSIVE = "pass", "fail", "inconclusive"
SCHEMA_VERSION = 2     # the documents' schema_version: harness/harness.h's PARLAB_SCHEMA_VERSION
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


def median(xs):
    """The median of xs (the mean of the middle two for an even count), nan when empty."""
    xs = sorted(_clean(xs))
    n = len(xs)
    if not n:
        return float("nan")
    return xs[(n - 1) // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2


def stddev(xs):
    """The sample standard deviation (n - 1), None below two values."""
    xs = _clean(xs)
    if len(xs) < 2:
        return None
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) * (x - m) for x in xs) / (len(xs) - 1))


def median_replicates(xs, n, rng):
    """n bootstrap replicates of median(xs), each over xs resampled with replacement (rng:
    a numpy Generator, so that a caller's replicates are reproducible)."""
    np, _ = _scipy()
    xs = np.asarray(xs, dtype=float)
    return np.median(xs[rng.integers(0, len(xs), size=(n, len(xs)))], axis=1)


def percentile_interval(reps, confidence=CONFIDENCE, log=False):
    """The percentile interval (lo, hi) of bootstrap replicates; log=True takes it on a log
    scale (for figures that span decades)."""
    np, _ = _scipy()
    tail = round(50 * (1 - confidence), 10)
    r = np.log(reps) if log else np.asarray(reps, dtype=float)
    lo, hi = np.percentile(r, [tail, 100 - tail])
    return (float(np.exp(lo)), float(np.exp(hi))) if log else (float(lo), float(hi))


# The bench's formulas on means and their spreads (harness/stats.c has speedup_err in C).

def speedup(m0, m):
    """Speedup S = m0 / m of a mean time m against the baseline mean m0."""
    return m0 / m


def speedup_err(m0, s0, m, s):
    """S's error: the relative errors of a ratio add in quadrature,
    dS = S sqrt((s0/m0)^2 + (s/m)^2), s0 and s the two stddevs."""
    return (m0 / m) * math.sqrt((s0 / m0) ** 2 + (s / m) ** 2)


def karpflatt(S, p):
    """Karp-Flatt serial fraction of a speedup S on p > 1 cores: the e for which Amdahl's
    law S = 1 / (e + (1 - e)/p) gives S."""
    return (1 / S - 1 / p) / (1 - 1 / p)


def karpflatt_err(S, dS, p):
    """e's error from S's: |de/dS| = 1 / (S^2 (1 - 1/p))."""
    return dS / (S * S * (1 - 1 / p))


def noise_band(K, dS, delta):
    """The noise band of a speedup S ± dS on K cores, given the control's relative drift
    delta (seq timed at every K should give S = 1): K delta for the drift of the machine
    between points, plus two of the point's own standard errors."""
    return K * delta + 2 * dS


def control_drift(S, dS):
    """How far one seq control point (S ± dS, ideally 1) says the machine moved: the largest
    of these over a workload's core counts is its delta."""
    return abs(S - 1) if abs(S - 1) > dS else dS


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
    """A number at 3 significant digits, as the verdicts print them; from 1000 up its whole
    digits (1491, never 1.49e+03)."""
    if x is None or not math.isfinite(x):
        return "?"
    return "%.0f" % x if abs(x) >= 1000 else "%.3g" % x


def speedup_text(num, den, scale=1.0):
    """A ratio as progress lines show it: scale × mean(num) / mean(den) with its 95%
    bootstrap interval, "1.93× [1.85, 2.01]", or with fewer than MIN_CI runs a side
    "1.93× (2 runs: too few for an interval)"; "?" when a side has no usable run."""
    num, den = _clean(num), _clean(den)
    few = min(len(num), len(den))
    if few >= MIN_CI:
        ci = ratio_ci(num, den)
        return "%s× [%s, %s]" % tuple(fmt(scale * x) for x in ci) if ci else "?"
    if not few or mean(num) <= 0 or mean(den) <= 0:
        return "?"
    return "%s× (%d run%s: too few for an interval)" % (
        fmt(scale * mean(num) / mean(den)), few, "s" * (few != 1))


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


def judge_min_ratio(num, den, bound, loads=(), what="student / reference"):
    """A time graded against a reference time, as Stanford's CS149 grades a student's code
    against the reference implementation: the best (minimum) run of each side, the runs of
    the two taken in turns, and min(num)/min(den) < BOUND passes. The minimum is the run
    least slowed by anything else, so the point needs no interval to pass. Other work on
    the machine pulls such ratios toward 1 (both sides wait for the same CPUs: a serial
    policy read 0.95× a parallel one beside 2 CPUs of other work), so on disturbed runs
    only a ratio below 1/BOUND passes, faster than the reference by the band itself, which
    no slower code reaches by a flattening; anything else is inconclusive there. A
    would-be fail is a fail only when the runs were quiet and the ratio of the means is
    above 1 beyond its 95% interval (slower, not noise); else inconclusive. Below MIN_CI
    runs a side it is inconclusive, never a guess."""
    num, den = _clean(num), _clean(den)
    if len(num) < MIN_CI or len(den) < MIN_CI or min(den) <= 0:
        return Verdict(INCONCLUSIVE, "%s: too few runs to grade (at least %d a side)" % (
            what, MIN_CI), HINT_MORE)
    point = min(num) / min(den)
    shown = "%s %s× (the best of %d runs against the best of %d)" % (
        what, fmt(point), len(num), len(den))
    busy = busy_reason(loads)
    if point < bound and (not busy or point < 1 / bound):
        return Verdict(PASS, "%s, < %s" % (shown, fmt(bound)), "", point)
    if point < bound:
        return Verdict(INCONCLUSIVE, "%s, < %s, but %s, which pulls the ratio toward 1: a "
                       "quiet run may show it slower" % (shown, fmt(bound), busy), HINT_QUIET,
                       point)
    if busy:
        return Verdict(INCONCLUSIVE, "%s, not < %s, but %s" % (shown, fmt(bound), busy),
                       HINT_QUIET, point)
    ci = ratio_ci(num, den)
    if ci is None or ci[1] <= 1:
        return Verdict(INCONCLUSIVE, "%s, not < %s, but the 95%% CI of the means' ratio "
                       "[%s, %s] reaches 1" % (shown, fmt(bound), fmt(ci and ci[1]),
                                               fmt(ci and ci[2])), HINT_MORE, point)
    return Verdict(FAIL, "%s, not < %s: slower than the reference" % (shown, fmt(bound)), "",
                   point, ci[1], ci[2])


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
    shown = "%s %s× [%s, %s], p = %.2g" % (what, fmt(point), fmt(lo), fmt(hi), p)
    if p >= ALPHA and (lo > 1 + threshold or hi < 1 - threshold):
        # Too few runs for the rank test to reject, yet the interval lies wholly beyond the
        # threshold: the two disagree, and neither "~" nor a change is shown.
        return Verdict(INCONCLUSIVE, "%s: the interval lies beyond ±%.0f%% but the rank test "
                       "is not significant" % (shown, 100 * threshold), HINT_MORE, point, lo, hi, p)
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


def times_text(r):
    """A factor as a person reads it: 2-3 significant digits, thousands separated ("2,700",
    "13", "3.1", "1.04"); never "1" for a factor that is not 1."""
    if not (r and math.isfinite(r)):
        return "?"
    if r >= 10:
        digits = 2 - int(math.floor(math.log10(r))) - 1
        return "{:,.0f}".format(round(r, digits))
    for prec in (3, 4, 5, 6):
        s = "%.*g" % (prec, r)
        if s != "1":
            return s
    return s


def num_text(x):
    """A figure at 3 significant digits as a person reads it: 20,000 rather than 2e+04."""
    if x is not None and math.isfinite(x) and abs(x) >= 1000:
        return "{:,.0f}".format(float("%.3g" % x))
    return fmt(x)


WIDE = 2.0   # an interval whose top is more than WIDE times its bottom cannot grade a guess


def miss_text(pred, point):
    """How far PRED lies from the measured POINT, as a teacher says it: "2,700× too low"
    (measured / predicted), "3.1× too high" (predicted / measured); an absolute "off by
    +0.05" where a sign or a zero leaves no ratio."""
    if pred > 0 and point > 0:
        if pred < point:
            return "%s× too low" % times_text(point / pred)
        return "%s× too high" % times_text(pred / point)
    return "off by %+.3g" % (pred - point)


def grade_prediction(pred, ci, loads=(), band=None, point=None):
    """A numeric prediction against a measurement: ci = (point, lo, hi), its 95% interval,
    or None for a single figure POINT with no interval (an experiment's median, a count);
    BAND = (low, high), the key's accepted range, or None.

    pass: "right within the measurement's interval [lo, hi]" (quiet runs, an interval no
    wider than WIDE) or "right within the key's band low to high" (the band does not
    depend on the run), or, for a single figure, equal to it at 3 significant digits.
    Otherwise the miss as a factor of measured over predicted ("2,700× too low"): fail on a
    quiet run; inconclusive when any run behind the value was disturbed (a busy machine can
    push a value away from a right guess or onto a wrong one: never "wrong"), and when the
    guess lies inside an interval too wide to tell right from a miss. A single figure that
    the key gives no band for is not graded (status None)."""
    if ci is not None:
        point, lo, hi = ci
    busy = busy_reason(loads)
    span = (num_text(band[0]) if band[0] == band[1] else "%s to %s" % (
        num_text(band[0]), num_text(band[1]))) if band else ""
    key = "the key accepts %s" % span if band else ""
    in_ci = ci is not None and lo <= pred <= hi
    shown = "the measurement's interval [%s, %s]" % (num_text(lo), num_text(hi)) \
        if ci is not None else ""
    if in_ci and not busy and not (lo > 0 and hi > WIDE * lo):
        return Verdict(PASS, "right within %s" % shown, "", point, lo, hi)
    if band and band[0] <= pred <= band[1]:
        # the key accepts it; where this run's interval says otherwise, so does the line
        aside = "; this run's value is %s× %s" % (
            times_text(max(point / pred, pred / point)), "lower" if point < pred else "higher"
        ) if ci is not None and not in_ci and pred > 0 and point > 0 else ""
        return Verdict(PASS, ("right within the key's band %s" % span if band[0] < band[1] else
                              "right: the key's figure %s" % span) + aside, "", point,
                       *(ci[1:] if ci else (None, None)))
    if ci is None:
        if fmt(pred) == fmt(point):
            return Verdict(PASS, "right: the measured figure", "", point)
        text = miss_text(pred, point) + (" (%s)" % key if key else "")
        if not band:
            return Verdict(None, "%s (a single figure, no interval: not graded)" % text, "",
                           point)
        if busy:
            return Verdict(INCONCLUSIVE, "%s, but %s" % (text, busy), HINT_QUIET, point)
        return Verdict(FAIL, text, "", point)
    if in_ci and busy:
        return Verdict(INCONCLUSIVE, "within %s, but %s" % (shown, busy), HINT_QUIET,
                       point, lo, hi)
    if in_ci:
        # (no "right" in a line that is not a pass: scripts grep for it)
        return Verdict(INCONCLUSIVE, "within %s, but it spans %s×: too wide to grade a "
                       "guess" % (shown, times_text(hi / lo)), HINT_MORE, point, lo, hi)
    text = "%s (%s%s)" % (miss_text(pred, point), shown, "; %s" % key if key else "")
    if busy:
        return Verdict(INCONCLUSIVE, "%s, but %s" % (text, busy), HINT_QUIET, point, lo, hi)
    return Verdict(FAIL, text, "", point, lo, hi)


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


# ---------------------------------------------------------------- bench runs (bench.sh, diff)

SWEEPS = ("cores", "workers", "concurrency")
SYMBOL = {PASS: "", FAIL: " ✗", INCONCLUSIVE: " ?"}


def _num(x):
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def read_conf(run):
    """bench.conf as a dict (KEY=VALUE lines; the first of a key wins)."""
    import os
    conf = {}
    try:
        with open(os.path.join(run, "bench.conf")) as f:
            for line in f:
                k, sep, v = line.rstrip("\n").partition("=")
                if sep:
                    conf.setdefault(k, v)
    except OSError:
        pass
    return conf


def read_csv(path):
    import csv
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


# The tidy CSVs' time columns before schema 2 (docs/decisions.md), as they are named now:
# an older run folder still reads, compares and reports.
TIDY_RENAMED = {"mean": "mean_s", "stddev": "stddev_s", "median": "median_s", "min": "min_s",
                "max": "max_s", "user": "user_s", "system": "sys_s"}


def read_points(run):
    """A run's tidy rows in sweep order: {(sweep, workload, runner, value): row}, with the
    columns of a run made before schema 2 under their new names."""
    import os
    pts = {}
    for sw in SWEEPS:
        for row in read_csv(os.path.join(run, sw + ".csv")):
            for old, new in TIDY_RENAMED.items():
                if old in row and new not in row:
                    row[new] = row.pop(old)
            if row.get("workload") and row.get("runner"):
                pts[(sw, row["workload"], row["runner"], row["value"])] = row
    return pts


def read_samples(run):
    """samples.csv, one row per timed run: {key: {"point": [(time, other_cpu)], "control":
    [...]}}; None when the run has no such file (made before per-run samples were kept)."""
    import os
    path = os.path.join(run, "samples.csv")
    if not os.path.exists(path):
        return None
    out = {}
    for row in read_csv(path):
        t = _num(row.get("time_s"))
        if t is None:
            continue
        key = (row["sweep"], row["workload"], row["runner"], row["value"])
        out.setdefault(key, {}).setdefault(row.get("role") or "point", []).append(
            (t, _num(row.get("other_cpu"))))
    return out


class RunData:
    """One bench run folder as the verdicts see it: every point's own times and other-CPU
    figures, and the control it is measured against (its interleaved seq runs, or else the
    workload's baseline: its first seq point, seq on 1 core)."""

    def __init__(self, run):
        self.run, self.conf = run, read_conf(run)
        self.points = read_points(run)
        self.samples = read_samples(run)
        self.base = {}
        for key in self.points:
            if key[2] == "seq" and key[1] not in self.base:
                self.base[key[1]] = key

    def has_samples(self):
        return self.samples is not None

    def times(self, key):
        return [t for t, _ in (self.samples or {}).get(key, {}).get("point", [])]

    def loads(self, key):
        """Other processes' CPU during each of the point's own runs (the tidy row's one figure
        for a run without samples)."""
        if self.samples is None:
            o = _num(self.points.get(key, {}).get("other_cpu"))
            return [o] if o is not None else []
        return [l for _, l in self.samples.get(key, {}).get("point", []) if l is not None]

    def control(self, key):
        """(times, loads) of the seq runs this point's speedup divides."""
        s = (self.samples or {}).get(key, {})
        if "control" in s:
            c = s["control"]
        else:
            b = self.base.get(key[1])
            c = (self.samples or {}).get(b, {}).get("point", []) if b else []
        return [t for t, _ in c], [l for _, l in c if l is not None]

    def disturbed(self, key):
        return any(l > BUSY_CPU for l in self.loads(key))

    def speedup_ci(self, key):
        if self.samples is None:
            return None
        return ratio_ci(self.control(key)[0], self.times(key))

    def trust(self, inconclusive=None, failed=0):
        """The run's trust line; points with no other-CPU figure (runs too short for the
        meter) are counted as such."""
        line = trust_line(len(self.points), sum(self.disturbed(k) for k in self.points), inconclusive)
        if failed:
            line += ", %d finding%s failed" % (failed, "s" * (failed != 1))
        unknown = sum(not self.loads(k) for k in self.points)
        if unknown:
            line += " (%d point%s too short for the load meter)" % (unknown, "s" * (unknown != 1))
        return line

    def mean_sd(self, key):
        row = self.points.get(key, {})
        return _num(row.get("mean_s")), _num(row.get("stddev_s"))


def _write_csv(path, header, rows):
    import csv
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def _rests_on_busy(v, loads):
    """A verdict resting on disturbed runs is inconclusive, whichever way it pointed."""
    busy = busy_reason(loads)
    if not busy or v.status == INCONCLUSIVE:
        return v
    return Verdict(INCONCLUSIVE, "%s; but it rests on disturbed runs: %s" % (v.reason, busy),
                   HINT_QUIET, v.point, v.lo, v.hi, v.p)


def _no_samples(what):
    return Verdict(INCONCLUSIVE, "%s: this run has no per-run samples (samples.csv; made "
                   "before they were kept), so there is no interval" % what,
                   "rerun make bench")


def point_finding(d, key):
    """The key finding at one point: seq, the control, held still (rank test against seq on
    1 core); a runner meant to scale speeds up (speedup > 1); any other runner stays within
    the ideal K. Each also fails when its interval lies above the ideal K."""
    sw, w, r, v = key
    K = _num(v) or 1
    scaling = set(d.conf.get("scaling", "").split())
    if not d.has_samples():
        return _no_samples("the speedup")
    ct, cl = d.control(key)
    loads = d.loads(key) + cl
    ci = d.speedup_ci(key)
    if r == "seq":
        b = d.base.get(w)
        if b == key:
            return Verdict(PASS, "the baseline itself (seq on 1 core, %d runs)" % len(ct), "",
                           *(ci or (None, None, None)))
        res = compare(ct, d.times(key), 0.05, what="time against seq on 1 core")
        if res.status == FAIL or "faster" in res.reason:
            res = Verdict(FAIL, "the control moved: %s" % res.reason, "", res.point, res.lo,
                          res.hi, res.p)
        return _rests_on_busy(res, loads)
    if ci is not None and ci[1] > K:
        res = Verdict(FAIL, "the speedup %s× [%s, %s] 95%% CI lies above the ideal %s: "
                      "impossible for real; suspect the baseline or the machine" % (
                          fmt(ci[0]), fmt(ci[1]), fmt(ci[2]), fmt(K)), "", *ci)
    elif r in scaling:
        res = judge_interval(ci, 1.0, True, "the speedup")
    else:
        res = judge_interval(ci, K + 1e-9, False, "the speedup")
    return _rests_on_busy(res, loads)


def flag_finding(d, key, kind):
    """A noise flag of analyse.py flags as a verdict on the point's soundness: fail when the
    interval shows what the flag says, pass when the rank test clears a moved control,
    inconclusive otherwise or on disturbed runs."""
    sw, w, r, v = key
    if not d.has_samples():
        return _no_samples("the flag")
    ct, cl = d.control(key)
    loads = d.loads(key) + cl
    ci = d.speedup_ci(key)
    nproc = _num(d.conf.get("nproc")) or 1
    K = _num(v) or 1
    if kind == "control":
        res = compare(ct, d.times(key), 0.05, what="time against seq on 1 core")
        if res.status == FAIL or "faster" in res.reason:
            res = Verdict(FAIL, "the control moved: %s" % res.reason, "", res.point, res.lo,
                          res.hi, res.p)
    elif ci is None:
        res = judge_interval(None, 1, True, "the speedup")
    elif kind == "above-ideal":
        ideal = 1 if r == "seq" else K if sw == "cores" else min(K, nproc)
        if ci[1] > ideal:
            res = Verdict(FAIL, "the speedup %s× [%s, %s] 95%% CI lies above the ideal %s" % (
                fmt(ci[0]), fmt(ci[1]), fmt(ci[2]), fmt(ideal)), "", *ci)
        else:
            res = Verdict(INCONCLUSIVE, "95%% CI of the speedup [%s, %s] reaches the ideal %s" % (
                fmt(ci[1]), fmt(ci[2]), fmt(ideal)), HINT_MORE, *ci)
    elif kind == "karpflatt-range":
        res = judge_interval(ci, 1.0, False, "the speedup")
        res = Verdict(FAIL if res.status == PASS else res.status,
                      "slower than seq on 1 core: " + res.reason if res.status == PASS else res.reason,
                      res.hint, res.point, res.lo, res.hi, res.p)
    else:
        return None
    return _rests_on_busy(res, loads)


def bench_verdicts(run):
    """Write RUN/points.csv (every point's speedup and its interval), RUN/findings.csv and
    findings.txt (the key findings and the flags as verdicts), add ci_low, ci_high and
    verdict to RUN/summary.csv, and write RUN/trust.txt. Returns the trust line."""
    import os
    d = RunData(run)
    prow = []
    for key in d.points:
        ci = d.speedup_ci(key)
        loads = d.loads(key)
        cis = ["%.4f" % x for x in ci] if ci else ["", "", ""]
        prow.append(list(key) + [len(d.times(key)) if d.has_samples() else d.points[key].get("n", "")]
                    + cis + ["%.2f" % max(loads) if loads else "", sum(l > BUSY_CPU for l in loads)])
    _write_csv(os.path.join(run, "points.csv"), ["sweep", "workload", "runner", "value", "n", "speedup",
               "ci_low", "ci_high", "other_cpu_max", "disturbed_runs"], prow)
    # The same interval on each tidy row (speedup_ci_low, speedup_ci_high): the plots draw
    # it as the error bar, empty for a run without per-run samples.
    for sw in SWEEPS:
        path = os.path.join(run, sw + ".csv")
        rows = read_csv(path)
        if not rows:
            continue
        head = [h for h in rows[0].keys() if h not in ("speedup_ci_low", "speedup_ci_high")]
        head += ["speedup_ci_low", "speedup_ci_high"]
        for row in rows:
            ci = d.speedup_ci((sw, row.get("workload"), row.get("runner"), row.get("value")))
            row["speedup_ci_low"], row["speedup_ci_high"] = ("%.4f" % ci[1], "%.4f" % ci[2]) if ci else ("", "")
        _write_csv(path, head, [[r.get(h, "") for h in head] for r in rows])

    findings = []
    summary = read_csv(os.path.join(run, "summary.csv"))
    for row in summary:
        key = ("cores", row["workload"], row["runner"], str(int(_num(row["cores"]) or 0)))
        if key not in d.points:
            continue
        v = point_finding(d, key)
        findings.append(("speedup", key, v))
        ci = d.speedup_ci(key)
        row["ci_low"], row["ci_high"] = ("%.4f" % ci[1], "%.4f" % ci[2]) if ci else ("", "")
        row["verdict"] = v.status
    if summary:
        head = list(summary[0].keys())
        _write_csv(os.path.join(run, "summary.csv"), head, [[r.get(h, "") for h in head] for r in summary])
    for row in read_csv(os.path.join(run, "flags.csv")):
        if row.get("level") != "flag":
            continue
        key = (row["sweep"], row["workload"], row["runner"], row["value"])
        v = flag_finding(d, key, row["kind"])
        if v is not None:
            findings.append((row["kind"], key, v))
    _write_csv(os.path.join(run, "findings.csv"),
               ["kind", "sweep", "workload", "runner", "value", "status", "reason", "hint"],
               [[k, *key, v.status, v.reason, v.hint] for k, key, v in findings])
    with open(os.path.join(run, "findings.txt"), "w") as f:
        for status in (FAIL, INCONCLUSIVE):
            for k, key, v in findings:
                if v.status == status:
                    f.write("%s %s %s %s=%s (%s): %s%s\n" % (
                        status, key[1], key[2], key[0], key[3], k, v.reason,
                        "; %s" % v.hint if v.hint else ""))
    ninc = sum(v.status == INCONCLUSIVE for _, _, v in findings)
    nfail = sum(v.status == FAIL for _, _, v in findings)
    line = d.trust(ninc, nfail)
    with open(os.path.join(run, "trust.txt"), "w") as f:
        f.write(line + "\n")
    return line


def _context(run, conf):
    """The run's context in the shape every parlab JSON document shares (the context schema),
    from machine.json and bench.conf."""
    import os
    try:
        with open(os.path.join(run, "machine.json")) as f:
            m = json.load(f)
    except (OSError, ValueError):
        m = {}
    ver = conf.get("parlab_version", "")
    loads = [m.get(k) for k in ("loadavg1", "loadavg5", "loadavg15")]
    return {
        "host": str(m.get("host", "")),
        "cpu_model": str(m.get("cpu_model", "")),
        "cpus_online": int(m.get("cpus_online") or m.get("nproc") or 0),
        "cpus_allowed": int(m.get("nproc") or 0),
        "kernel": str(m.get("kernel", "")),
        "parlab_version": ver if ver[:1].isdigit() else "0.0.0-unrecorded",
        "commit": str(m.get("git_commit") or "unknown"),
        "date": str(m.get("date", "")),
        "load_avg": [float(x) for x in loads if isinstance(x, (int, float)) and x >= 0],
    }


def _num_or_none(x):
    """A CSV field as a JSON number (an int when whole), or None when empty or not finite."""
    v = _num(x)
    if v is None or not math.isfinite(v):
        return None
    return int(v) if v == int(v) and abs(v) < 2 ** 53 and "." not in str(x) else v


def bench_results_json(run):
    """RUN/results.json: the run as one document (kind "bench", results/schema/
    bench.schema.json): its context and settings, its trust line, every point's summary
    with its speedup's 95% interval and verdict inputs, the flags, the findings as verdicts,
    METG per runner where the grain sweep ran, and the files of the folder."""
    import os
    conf = read_conf(run)
    d = RunData(run)
    points = []
    for key, row in d.points.items():
        ci = d.speedup_ci(key)
        loads = d.loads(key)
        points.append({
            "sweep": key[0], "workload": key[1], "runner": key[2], "value": _num_or_none(key[3]),
            "n": int(_num(row.get("n")) or 0),
            "mean_s": _num_or_none(row.get("mean_s")), "stddev_s": _num_or_none(row.get("stddev_s")),
            "median_s": _num_or_none(row.get("median_s")), "min_s": _num_or_none(row.get("min_s")),
            "max_s": _num_or_none(row.get("max_s")),
            "speedup": _num_or_none(row.get("speedup")),
            "ci_low": ci[1] if ci else None, "ci_high": ci[2] if ci else None,
            "other_cpu_max": max(loads) if loads else None,
            "disturbed_runs": sum(l > BUSY_CPU for l in loads),
        })
    flags = [{"sweep": r.get("sweep", ""), "workload": r.get("workload", ""), "runner": r.get("runner", ""),
              "value": _num_or_none(r.get("value")), "level": r.get("level", ""), "kind": r.get("kind", ""),
              "text": r.get("text", "")} for r in read_csv(os.path.join(run, "flags.csv"))]
    findings = [{"kind": r["kind"], "sweep": r["sweep"], "workload": r["workload"], "runner": r["runner"],
                 "value": _num_or_none(r["value"]), "status": r["status"], "reason": r["reason"],
                 "hint": r.get("hint", "")} for r in read_csv(os.path.join(run, "findings.csv"))]
    metg = []
    for r in read_csv(os.path.join(run, "grain-metg.csv")):
        metg.append({k: v if _num(v) is None and v != "" else _num_or_none(v)
                     for k, v in r.items() if k})
    try:
        with open(os.path.join(run, "trust.txt")) as f:
            trust_end = f.readline().strip()
    except OSError:
        trust_end = ""
    files = []
    for base, dirs, names in os.walk(run):
        dirs[:] = sorted(x for x in dirs if x not in ("raw", "logs"))
        for n in sorted(names):
            rel = os.path.relpath(os.path.join(base, n), run)
            if rel != "results.json":
                files.append(rel)
    doc = {
        "schema_version": SCHEMA_VERSION, "kind": "bench", "context": _context(run, conf),
        "settings": {k: conf.get(k, "") for k in ("mode", "runs", "warmup", "retries", "workloads", "runners",
                                                  "cores", "workers", "reproduce")},
        "samples": d.has_samples(),
        "trust": {"start": conf.get("trust_start", ""), "end": trust_end},
        "points": points, "flags": flags, "findings": findings, "metg": metg,
        "files": files,
    }
    tmp = os.path.join(run, "results.json.tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, os.path.join(run, "results.json"))


def merge_exports(out, first_cmd, loads, inputs, keep):
    """hyperfine exports of interleaved single runs as one export of the commands in keep:
    the results in order of first appearance with CMD first, every run's time kept, the
    summary figures over all of them, and each run's other-CPU figure."""
    import statistics
    merged, order = {}, []
    for path in inputs:
        with open(path) as f:
            for res in json.load(f)["results"]:
                c = res["command"]
                if c not in keep:
                    continue
                if c not in merged:
                    merged[c] = {"command": c, "times": [], "user_l": [], "system_l": [], "exit_codes": []}
                    order.append(c)
                m = merged[c]
                m["times"] += res["times"]
                m["user_l"].append(res.get("user") or 0)
                m["system_l"].append(res.get("system") or 0)
                m["exit_codes"] += res.get("exit_codes", [])
    order.sort(key=lambda c: c != first_cmd)
    results = []
    for c in order:
        m = merged[c]
        t = m["times"]
        results.append({"command": c, "mean": statistics.fmean(t),
                        "stddev": statistics.stdev(t) if len(t) > 1 else None,
                        "median": statistics.median(t), "min": min(t), "max": max(t),
                        "user": statistics.fmean(m["user_l"]), "system": statistics.fmean(m["system_l"]),
                        "times": t, "exit_codes": m["exit_codes"], "other_cpu": loads[:len(t)]})
    with open(out, "w") as f:
        json.dump({"results": results, "interleaved": True}, f, indent=1)
    return loads_text(loads, "%.2f")


def split_exports(loads, inputs, points):
    """Rounds of a group of points timed in turns (each round one hyperfine export with one
    run of every command), as one export per point: points is [(OUT, CMD, CONTROL)], with
    CONTROL "" for a point measured without one. Every point's runs share the rounds'
    other-CPU figures; returns their loads_text."""
    if not points:
        raise ValueError("split: no points")
    for out, cmd, ctl in points:
        keep = [cmd] + ([ctl] if ctl else [])
        merge_exports(out, cmd, loads, inputs, keep)
        with open(out) as f:
            got = [r["command"] for r in json.load(f)["results"]]
        if got != keep:
            raise ValueError("split: the rounds do not hold %s" % " and ".join(repr(c) for c in keep if c not in got))
    return loads_text(loads, "%.2f")


def loads_text(loads, form):
    """"MEAN MAX" of the runs' other-CPU figures (each number as form gives it, or as jq
    prints a number rounded to 2 decimals where form is None), "" when none was measured."""
    ls = _clean(loads)
    if not ls:
        return ""
    if form:
        return "%s %s" % (form % (sum(ls) / len(ls)), form % max(ls))

    def jq2(x):
        r = math.floor(x * 100 + 0.5) / 100
        return "%d" % r if r == int(r) else repr(r)
    return "%s %s" % (jq2(sum(ls) / len(ls)), jq2(max(ls)))


def metered_load(wall_s, other_cpu):
    """A run's other-CPU figure, or None where the run was so short that the meter's error
    alone could pass BUSY_CPU: that tells nothing, as parlab's own verdicts hold
    (harness/machine.c, machine_meter_cpu_s: about a tick per CPU and one more). On 2 CPUs,
    0.03 CPU-seconds: 0.4 of a CPU in a 26 ms job."""
    meter = (os.sysconf("SC_NPROCESSORS_ONLN") + 1) / os.sysconf("SC_CLK_TCK")
    w = _num(wall_s) or 0
    return _num(other_cpu) if w * BUSY_CPU > meter else None


def rows_export(out, rows, cmd, ctl=""):
    """An external runner's point (mpi) as a hyperfine export, from parlab's own rows (its
    --format json, one row a run, timed by the ranks' clock): the runner's runs, then with a
    control description ctl the seq runs that took turns with them (--baseline). Returns
    loads_text of every run's other CPU."""
    def load_of(x):
        return metered_load(x.get("wall_s"), x.get("other_cpu"))

    def side(want, c):
        r = [x for x in rows["rows"] if (x.get("runner") == "seq") == want]
        t = [x["wall_s"] for x in r]
        if not t:
            raise ValueError("no %s rows in parlab's output" % ("seq" if want else "runner"))
        return {"command": c, "times": t, "mean": sum(t) / len(t), "stddev": stddev(t),
                "median": median(t), "min": min(t), "max": max(t),
                "user": sum(x["user_s"] for x in r) / len(r), "system": sum(x["sys_s"] for x in r) / len(r),
                "exit_codes": [0] * len(t), "other_cpu": [load_of(x) for x in r],
                "start_s": next((x["start_s"] for x in r if x.get("start_s") is not None), None)}
    results = [side(False, cmd)] + ([side(True, ctl)] if ctl else [])
    with open(out, "w") as f:
        json.dump({"results": results, "interleaved": ctl != "", "timed_by": "parlab rows (wall_s)"}, f, indent=1)
    return loads_text([o for r in results for o in r["other_cpu"]], None)


# ---------------------------------------------------------------- make diff

def _sizes(d):
    """{workload: size} over a run's points (the first seen)."""
    out = {}
    for (sw, w, r, v), row in d.points.items():
        out.setdefault(w, row.get("size", ""))
    return out


def diff_runs(a_dir, b_dir, threshold=0.05, fmt_="text", force=False, csv_out=None, out=sys.stdout):
    """Run B against run A, point by point. Returns the exit status: 64 when the runs do not
    compare (another mode or size) and not forced, 1 when any change is a significant
    slowdown beyond threshold on a quiet machine, else 0. Inconclusive never fails."""
    import os
    A, B = RunData(a_dir), RunData(b_dir)
    na, nb = os.path.basename(a_dir.rstrip("/")), os.path.basename(b_dir.rstrip("/"))
    ma, mb = A.conf.get("mode", "?"), B.conf.get("mode", "?")
    sa, sb = _sizes(A), _sizes(B)
    wrong = []
    if ma != mb:
        wrong.append("A is a %s run and B a %s run" % (ma, mb))
    other = ["%s at %s and %s" % (w, sa[w], sb[w]) for w in sa if w in sb and sa[w] != sb[w]]
    if other:
        wrong.append("sizes differ (%s)" % "; ".join(other[:3] + (["..."] if len(other) > 3 else [])))
    if wrong and not force:
        sys.stderr.write("diff: %s: their times do not compare (FORCE=1 compares them anyway)\n"
                         % ", ".join(wrong))
        return 64
    md = fmt_ == "markdown"
    lines = []
    note = lines.append
    note("A: %s: %s" % (na, A.trust()))
    note("B: %s: %s" % (nb, B.trust()))
    if wrong:
        note("note: %s; compared anyway (FORCE=1)" % ", ".join(wrong))
    for what, idx in (("runner", 2), ("workload", 1)):
        xa = {k[idx] for k in A.points}
        xb = {k[idx] for k in B.points}
        for x in sorted(xa - xb):
            note("%s %s: only in A (not compared)" % (what, x))
        for x in sorted(xb - xa):
            note("%s %s: only in B (not compared)" % (what, x))
    raw = A.has_samples() and B.has_samples()
    if not raw:
        note("%s has no per-run samples (samples.csv; a run from before they were kept): "
             "comparing means and spreads, every verdict inconclusive" % " and ".join(
                 n for n, x in (("A", A), ("B", B)) if not x.has_samples()))
    rows, counts = [], {}
    for key in A.points:
        if key not in B.points:
            continue
        (ma_, sa_), (mb_, sb_) = A.mean_sd(key), B.mean_sd(key)
        if raw:
            loads = A.loads(key) + B.loads(key)
            v = compare(A.times(key), B.times(key), threshold, loads)
            busy = busy_reason(loads)
            if busy and v.status == PASS and v.lo is not None and (
                    v.lo < 1 - threshold or v.hi > 1 + threshold):
                # Not significant, but on disturbed runs whose spread hides a change beyond
                # the threshold: no evidence either way.
                v = Verdict(INCONCLUSIVE, "%s; its interval reaches beyond ±%.0f%% and %s" % (
                    v.reason, 100 * threshold, busy), HINT_QUIET, v.point, v.lo, v.hi, v.p)
            if v.status == FAIL and (not A.loads(key) or not B.loads(key)) and (
                    any(A.disturbed(k) for k in A.points) or any(B.disturbed(k) for k in B.points)):
                # Too short for the load meter, in a run where other points were disturbed:
                # nothing shows that the machine was quiet while it ran.
                v = Verdict(INCONCLUSIVE, "%s, but too short for the load meter in a run with "
                            "disturbed points" % v.reason, HINT_QUIET, v.point, v.lo, v.hi, v.p)
            if wrong and v.status == FAIL:
                v = Verdict(INCONCLUSIVE, "%s, but the runs differ in mode or size" % v.reason,
                            "compare runs of one mode", v.point, v.lo, v.hi, v.p)
        else:
            r = mb_ / ma_ if ma_ and mb_ else None
            v = Verdict(INCONCLUSIVE, "means only: no per-run samples for a rank test or an "
                        "interval", "rerun make bench for both runs", r)
        if v.point is None and ma_ and mb_:
            v.point = mb_ / ma_
        word = ("slower" if v.status == FAIL else "?" if v.status == INCONCLUSIVE
                else "faster" if v.reason.startswith("faster") else "~")
        counts[word] = counts.get(word, 0) + 1
        rows.append((key, ma_, sa_, mb_, sb_, v, word))
    if csv_out:
        header = ["sweep", "workload", "runner", "value", "mean_a_s", "stddev_a_s", "mean_b_s", "stddev_b_s",
                  "ratio", "ci_low", "ci_high", "p", "verdict", "change", "speedup_a",
                  "speedup_err_a", "speedup_b", "speedup_err_b", "reason"]
        out_rows = []
        for key, ma_, sa_, mb_, sb_, v, word in rows:
            pa, pb = A.points[key], B.points[key]
            out_rows.append([*key, ma_, sa_, mb_, sb_] + [
                "" if x is None else "%.4f" % x for x in (v.point, v.lo, v.hi)] + [
                "" if v.p is None else "%.3g" % v.p, v.status, word,
                pa.get("speedup", ""), pa.get("speedup_err", ""), pb.get("speedup", ""),
                pb.get("speedup_err", ""), v.reason])
        _write_csv(csv_out, header, out_rows)

    def cell(m, s):
        return "?" if m is None else "%.4f ± %.4f" % (m, s or 0)
    shown = [x for x in rows if x[0][0] == "cores" or x[6] in ("slower", "faster")]
    if md:
        out.write("**parlab diff**: B `%s` against A `%s`\n\n" % (nb, na))
        for l in lines:
            out.write("- %s\n" % l)
        out.write("\n| sweep | workload | runner | value | time A (s) | time B (s) | B/A [95% CI] | p | verdict |\n")
        out.write("|---|---|---|---:|---:|---:|---:|---:|---|\n")
        for key, ma_, sa_, mb_, sb_, v, word in shown:
            out.write("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n" % (
                *key, cell(ma_, sa_), cell(mb_, sb_),
                "%s× [%s, %s]" % (fmt(v.point), fmt(v.lo), fmt(v.hi)) if v.lo is not None else "%s×" % fmt(v.point),
                "" if v.p is None else "%.2g" % v.p, "**%s**" % word if word == "slower" else word))
        out.write("\n")
    else:
        for l in lines:
            out.write("# %s\n" % l)
        out.write("  %-11s %-12s %-7s %4s  %-20s %-20s %-26s %s\n" % (
            "sweep", "workload", "runner", "at", "time A (s)", "time B (s)", "B/A [95% CI]", "verdict"))
        for key, ma_, sa_, mb_, sb_, v, word in shown:
            out.write("  %-11s %-12s %-7s %4s  %-20s %-20s %-26s %s\n" % (
                *key, cell(ma_, sa_), cell(mb_, sb_),
                "%s× [%s, %s]" % (fmt(v.point), fmt(v.lo), fmt(v.hi)) if v.lo is not None else "%s×" % fmt(v.point),
                word))
    slower = [x for x in rows if x[6] == "slower"]
    prefix = "" if md else "# "
    for key, *_, v, word in slower[:10]:
        out.write("%s%s %s %s=%s: %s\n" % (prefix, key[1], key[2], key[0], key[3], v.reason))
    why = {}
    for x in rows:
        if x[6] == "?":
            r = x[5].reason
            r = ("other processes were busy during the runs" if "machine busy" in r else
                 "too few runs for the rank test (4 a side)" if "rank test needs" in r else
                 "the interval spans the threshold" if "spans" in r else
                 "too short for the load meter in a busy run" if "too short" in r else
                 "the interval lies beyond the threshold, the rank test is not significant"
                 if "rank test is not significant" in r else
                 "no per-run samples" if "no per-run samples" in r else
                 "the runs differ in mode or size" if "mode or size" in r else r)
            why[r] = why.get(r, 0) + 1
    if why:
        out.write("%sinconclusive: %d point(s): %s\n" % (prefix, counts.get("?", 0), "; ".join(
            "%s (%d)" % (r, n) for r, n in sorted(why.items(), key=lambda kv: -kv[1]))))
    out.write("%s%d point(s) in both runs (listed: the core sweep and every slower or faster one): %d slower, "
              "%d faster, %d ~, %d inconclusive (threshold ±%.0f%%, p < %.2g, 95%% CI)\n" % (
                  prefix, len(rows), counts.get("slower", 0), counts.get("faster", 0),
                  counts.get("~", 0), counts.get("?", 0), 100 * threshold, ALPHA))
    verdict_line = ("FAIL: %d significant slowdown(s) beyond %.0f%%" % (len(slower), 100 * threshold)
                    if slower else "pass: no significant slowdown beyond %.0f%%" % (100 * threshold))
    out.write("%s%s\n" % (prefix, verdict_line))
    return 1 if slower else 0


def trust_now(wait=0.0, probe=1.0):
    """Other processes' CPU over PROBE seconds while this process sleeps; with WAIT, probe
    again until quiet or WAIT seconds have passed. Returns (line, quiet)."""
    import time
    t_end = time.monotonic() + wait
    while True:
        m = LoadMeter()
        m.start()
        time.sleep(probe)
        o = m.stop()
        quiet = o is None or o <= BUSY_CPU
        if quiet or time.monotonic() >= t_end:
            break
    if o is None:
        return "quiet: cannot read /proc/stat for other processes' CPU", True
    if quiet:
        return "quiet: other processes use %.2f CPU" % o, True
    if wait > 0:
        return ("busy: other processes use %.2f CPU (above %.1f), still after waiting %.0f s "
                "for quiet: points will be disturbed" % (o, BUSY_CPU, wait)), False
    return ("busy: other processes use %.2f CPU (above %.1f): points will be disturbed; "
            "WAIT_QUIET=SECONDS waits for quiet" % (o, BUSY_CPU)), False


# ---------------------------------------------------------------- the command line

def _split(args):
    if "/" not in args:
        raise ValueError("give two sample lists separated by /")
    i = args.index("/")
    return [float(x) for x in args[:i]], [float(x) for x in args[i + 1:]]


def _main_run(cmd, rest):
    """The commands on whole runs: merge, bench, diff, trust; and speedup."""
    if cmd == "speedup":
        scale = 1.0
        if rest[:1] == ["--run"]:
            if len(rest) != 6:
                raise ValueError("speedup --run RUN_DIR SWEEP WORKLOAD RUNNER VALUE")
            import os
            if not os.path.isdir(rest[1]):
                raise ValueError("%s: not a run folder" % rest[1])
            d, key = RunData(rest[1]), tuple(rest[2:])
            print(speedup_text(d.control(key)[0], d.times(key)))
            return 0
        if rest[:1] == ["--hyperfine"]:
            if len(rest) != 3:
                raise ValueError("speedup --hyperfine BASE.json POINT.json")
            runs = []
            for path in rest[1:]:
                try:
                    with open(path) as f:
                        runs.append(json.load(f)["results"][0]["times"])
                except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
                    raise ValueError("%s: not a hyperfine export with times (%s)" % (path, e))
            print(speedup_text(runs[0], runs[1]))
            return 0
        if rest[:1] == ["--scale"]:
            scale = _num(rest[1]) if len(rest) > 1 else None
            if not (scale or 0) > 0:
                raise ValueError("--scale %s: give a positive factor" % rest[1])
            rest = rest[2:]
        num, den = _split(rest)
        if not num or not den:
            raise ValueError("speedup: give runs on both sides of /")
        print(speedup_text(num, den, scale))
        return 0
    if cmd == "split":
        if "--" not in rest or rest.index("--") < 2 or (len(rest) - rest.index("--") - 1) % 3:
            raise ValueError("split LOADS ROUND.json... -- OUT.json CMD CONTROL [OUT.json CMD CONTROL ...]")
        i = rest.index("--")
        pts = [tuple(rest[j:j + 3]) for j in range(i + 1, len(rest), 3)]
        print(split_exports([None if x == "-" else float(x) for x in rest[0].split()], rest[1:i], pts))
        return 0
    if cmd == "rows":
        if len(rest) not in (2, 3):
            raise ValueError("rows OUT.json CMD [CONTROL] < PARLAB-ROWS.json")
        try:
            rows = json.load(sys.stdin)
        except ValueError as e:
            raise ValueError("parlab's rows are not JSON: %s" % e)
        print(rows_export(rest[0], rows, rest[1], rest[2] if len(rest) > 2 else ""))
        return 0
    if cmd == "load":
        if len(rest) < 2:
            raise ValueError("load FILE CMD ARGS...")
        import subprocess
        m = LoadMeter()
        m.start()
        try:
            rc = subprocess.call(rest[1:])
        except OSError as e:
            raise ValueError("cannot run %s: %s" % (rest[1], e))
        o = m.stop()
        with open(rest[0], "w") as f:
            f.write("" if o is None else "%.2f\n" % o)
        return rc
    if cmd == "bench":
        if len(rest) != 1:
            raise ValueError("bench RUN_DIR")
        print(bench_verdicts(rest[0]))
        bench_results_json(rest[0])
        return 0
    if cmd == "trust":
        wait, probe = 0.0, 1.0
        while rest:
            k = rest.pop(0)
            if k in ("--wait", "--probe"):
                x = float(rest.pop(0))
                if not x > 0 and k == "--probe":
                    raise ValueError("--probe must be positive")
                if k == "--wait":
                    wait = x
                else:
                    probe = x
            else:
                raise ValueError("unknown option %s" % k)
        line, quiet = trust_now(wait, probe)
        print(line)
        return 0 if quiet else 2
    threshold, form, force, csv_out = 0.05, "text", False, None
    while rest and rest[0].startswith("--"):
        k = rest.pop(0)
        if k == "--threshold":
            threshold = float(rest.pop(0))
            if not 0 <= threshold < 1:
                raise ValueError("--threshold %s: give a fraction, e.g. 0.05 for 5%%" % threshold)
        elif k == "--format":
            form = rest.pop(0)
            if form not in ("text", "markdown"):
                raise ValueError("--format %s: text or markdown" % form)
        elif k == "--force":
            force = True
        elif k == "--csv":
            csv_out = rest.pop(0)
        else:
            raise ValueError("unknown option %s" % k)
    if len(rest) != 2:
        raise ValueError("diff [options] A B")
    return diff_runs(rest[0], rest[1], threshold, form, force, csv_out)


SERVE_END = "\x1e"


def serve(inp, out):
    """verdict.py's commands answered one after another by one process, so that a bench
    pays Python's and scipy's start once, not once a point. A request is the count of its
    arguments on a line, then each argument on a line of its own; the answer is what the
    command printed, then a line of SERVE_END and its exit code. Ends at end of input."""
    import contextlib
    import io
    while True:
        n = inp.readline()
        if not n:
            return 0
        try:
            argv = [inp.readline().rstrip("\n") for _ in range(int(n))]
        except ValueError:
            sys.stderr.write("verdict serve: %r is not an argument count\n" % n.strip())
            return 64
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            try:
                rc = main(argv)
            except Exception as e:   # one bad request must not take the others' server down
                sys.stderr.write("verdict: %s: %s\n" % (argv[:1], e))
                rc = 70
        text = buf.getvalue()
        out.write(text + ("" if not text or text.endswith("\n") else "\n") + "%s%d\n" % (SERVE_END, rc))
        out.flush()


def main(argv):
    try:
        if not argv or argv[0] in ("-h", "--help"):
            print(__doc__.strip())
            return 0 if argv else 64
        cmd, rest = argv[0], argv[1:]
        if cmd == "serve":
            return serve(sys.stdin, sys.stdout)
        if cmd in ("split", "rows", "bench", "diff", "trust", "load", "speedup"):
            return _main_run(cmd, rest)
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
