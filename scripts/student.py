"""student.py: the code students write in the labs (lib/student.h): build it for a lab run,
and grade it in that lab's checks. scripts/lab.py calls build() before a lab's steps and
offers funcs() to lab.json's expressions.

A lab that has students write code names the file in lab.json, `"student": "student/X.c"`
(under the lab's folder; STUDENT=PATH grades another file, the model answer in key/ for
one). `make lab-N` builds it into RUN/student.so with $CC (default cc) and copies the
source beside it, so a handed-in run keeps what was measured; its steps pass the plugin as
{STUDENT} (`parlab run|share --student {STUDENT}`). A file that does not compile stops the
lab with one line, the compiler's first error, and exit 64.

Grading, CS149-style: first the answer (verified(): every run of the student's code
correct, else a fail whose reason names the student's file), then the time against the
reference (graded(): the best run of each, taken in turns, student / reference < 1.2),
which verdict.judge_min_ratio makes pass, fail or inconclusive.
"""
import os
import re
import shutil
import subprocess

import verdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOUND = 1.2     # student / reference, best runs: CS149's asst2 tolerance


def rel(path):
    r = os.path.relpath(path, ROOT)
    return path if r.startswith("..") else r


def source(spec):
    """The student's file of the lab: $STUDENT, else the lab's own."""
    return os.path.abspath(os.environ.get("STUDENT") or os.path.join(spec["dir"], spec["student"]))


def first_error(text):
    """The compiler's (or linker's) first error as one line."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    for l in lines:
        if re.search(r"\b(fatal )?error\b|undefined reference", l):
            return l
    return lines[0] if lines else "the compiler failed and said nothing"


def build(spec, run):
    """Compile the lab's student file into RUN/student.so. Returns (path, None), or (None,
    the one line to print) when the file is missing or does not compile."""
    src = source(spec)
    if not os.path.isfile(src):
        return None, "%s: no such file (STUDENT names the file to grade)" % rel(src)
    out = os.path.join(run, "student.so")
    cc = os.environ.get("CC") or "cc"
    argv = [cc, "-std=gnu11", "-O2", "-g", "-Wall", "-Wextra", "-fPIC", "-shared", "-pthread",
            "-DPARLAB_STUDENT_BUILD", "-I", os.path.join(ROOT, "lib"), "-Wl,-z,defs",
            "-o", out, rel(src)]
    try:
        pr = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        return None, "%s: cannot run the compiler %s: %s" % (rel(src), cc, e)
    if pr.returncode:
        return None, first_error(pr.stderr + pr.stdout)
    shutil.copyfile(src, os.path.join(run, "student-" + os.path.basename(src)))
    warnings = sum("warning:" in l for l in pr.stderr.splitlines())
    print("lab %d: built %s%s" % (spec["num"], rel(src), " (%d compiler warning%s: read them "
                                  "with `%s`)" % (warnings, "s" * (warnings > 1), " ".join(
                                      argv[:-3] + ["-o", "/dev/null", rel(src)]))
                                  if warnings else ""), flush=True)
    return out, None


def funcs(env):
    """What lab.json's expressions may call about the student's code (scripts/lab.py Env)."""

    def verified(step, **f):
        """Every run of the student's code in STEP (rows matching f) was right: a `parlab
        run` row verified, an experiment's final count equal to the count expected (its
        `what` says which), and no run failed (a failed run's row carries its last line,
        which names the student's file). Inconclusive when the run has no such rows (made
        before the lab had them)."""
        rows = env.rows(step, **f)
        if not rows:
            return verdict.Verdict(verdict.INCONCLUSIVE, "no run of the student's code in this "
                                   "run (one made before the lab had it)", "run the lab again")
        errors = [r["error"] for r in rows if r.get("error")]
        if errors:
            return verdict.Verdict(verdict.FAIL, errors[0])
        bad = [r for r in rows if r.get("verified", "yes") not in ("yes", "unchecked")]
        counts = [r for r in rows if "final count (expected " in r.get("what", "")]
        for r in counts:
            want = float(r["what"].split("expected ")[1].rstrip(")"))
            if float(r["min"]) != want or float(r["max"]) != want:
                bad.append(r)
        # an experiment's final-count row stands for its n runs (`repeat` in a run made
        # before schema 2)
        runs = len(rows) if not counts else sum(
            int(n) if n.isdigit() else 1 for n in (str(r.get("n", r.get("repeat", ""))) for r in counts))
        if bad:
            return verdict.Verdict(verdict.FAIL, "wrong in %s of %d runs" % (
                len(bad) if not counts else "some", runs))
        return verdict.Verdict(verdict.PASS, "right in %d of %d runs" % (runs, runs))

    def graded(student, reference, what="student / reference time", first=None):
        """The student's times against the reference's (Samples, from times() or col()):
        verdict.judge_min_ratio, bound BOUND, on the load of both sides' runs. FIRST, the
        verdict (or list of verdicts) on the answers: a wrong answer is not timed."""
        if first is not None:
            right = verdict.combine(first if isinstance(first, (list, tuple)) else [first])
            if right.status == verdict.FAIL:
                return verdict.Verdict(verdict.FAIL, "not timed: the answers are wrong (the "
                                       "check above); a fast wrong answer earns nothing")
        return verdict.judge_min_ratio(student, reference, BOUND,
                                       getattr(student, "loads", []) +
                                       getattr(reference, "loads", []), what)

    def one_by_one(step, floor_ns, **f):
        """The student's count made its increments one at a time: its best time per
        increment (the `median` of the ns rows of STEP matching f) is above FLOOR_NS, a
        fraction of one add a cycle. A loop the compiler folded into one add of n is far
        below it; a busy machine only makes a count slower, so this never fails a right one,
        and above the floor in a disturbed run it is inconclusive (a folded loop whose
        threads waited for a CPU read 1.9 ns an increment beside two busy loops).
        Inconclusive when the run has no such rows."""
        col = env.col(step, "median", unit="ns", **f)
        xs = [x for x in col if x == x]
        if not xs:
            return verdict.Verdict(verdict.INCONCLUSIVE, "no timed run of the student's count "
                                   "in this run", "run the lab again")
        if min(xs) <= floor_ns:
            return verdict.Verdict(verdict.FAIL, "%.3g ns per increment at best, under %g: "
                                   "faster than one add a cycle, so the compiler folded the "
                                   "loop into one add of n and no increment was timed; keep "
                                   "each with STUDENT_KEEP(x) (lib/student.h)" % (min(xs), floor_ns))
        busy = verdict.busy_reason(col.loads)
        if busy:
            return verdict.Verdict(verdict.INCONCLUSIVE, "%.3g ns per increment at best, above "
                                   "%g, but a busy machine slows a folded loop too; %s" % (
                                       min(xs), floor_ns, busy), verdict.HINT_QUIET)
        return verdict.Verdict(verdict.PASS, "%.3g ns per increment at best" % min(xs))

    return {"verified": verified, "graded": graded, "one_by_one": one_by_one,
            "student_bound": BOUND}

