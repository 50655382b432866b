#!/usr/bin/env python3
"""labkeys.py: check every number in the labs' keys (labs/NN-name/KEY.md) against the
committed reference run of its lab (the newest results/reference/labs/NN-name/<run>/).

    scripts/labkeys.py              every lab's key
    scripts/labkeys.py N ...        the keys of labs N ...
    scripts/labkeys.py --key FILE N FILE read as lab N's key (a changed copy)
    scripts/labkeys.py --update [--key FILE] N ...  after a new reference run: rewrite each tagged
                                    single figure of those keys that moved to the run's
                                    value, printed to the same digits, and name what it
                                    cannot rewrite (a range the value left, an untagged
                                    number): the words around a figure are the author's

A key marks each number it states with an HTML comment right after it (invisible when the
Markdown is rendered):

    1.92×<!--= speedup_fork-->         the number, to the digits printed, is the value of the
                                       expression in the reference run: the values of the
                                       lab's lab.json and lab.py's functions (sz, amdahl,
                                       karpflatt, mean, fig, ...), and math
    10.6<!--= amdahl(0.08, 64)-->      closed forms are computed the same way
    1.9–2.0<!--= speedup_fork-->       a range: the value lies inside it
    8 MiB<!--given: why-->             a stated input nobody measured or derived (a
                                       default, a version); the reason is required

"To the digits printed" is within half a unit of the last digit shown (1.92: 1.915 to
1.925; 29: 28.5 to 29.5). Every other number in the key must be a label, not a figure:
a step, lab, task, worker, chunk or core number, or a count of tasks, workers, cores,
ranks, threads, trials, processes, requests or repeats (the numbers after "step" or
"W =", before "cores" and so on). Numbers in `code` and in headings are not read. A
number that is neither marked nor a label fails the check, as does a marked one that does
not match, so a figure cannot drift from the run it cites. Exit status: 0 every number
holds, 1 one does not, 64 bad input.
"""
import glob
import math
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab  # noqa: E402  (scripts/lab.py: the labs, their runs and their expressions)

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 64

CORE = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
NUM = r"(?<![\w.,])%s(?!\d)" % CORE
# what a marked number may be: a number or a range, then a unit, just before its tag
MARKED = re.compile(r"(?<![\w.,])(?P<a>%s)(?:\s*(?:–|to)\s*(?P<b>%s))?"
                    r"(?P<unit>\s*[^\s\d<>|()]{0,12})?\s*$" % (CORE, CORE))
TAG = re.compile(r"<!--(.*?)-->")
CODE = re.compile(r"`[^`]*`")
# labels: numbers that name something rather than state a figure
LABEL_BEFORE = re.compile(r"(?:\b(?:[Ss]teps?|[Ll]abs?|[Ww]orkers?|[Tt]asks?|[Cc]hunk(?:s|size)?|"
                          r"[Rr]anks?|[Cc]ores?|W|P)\s*=?|-[jtc])[-\s]*"
                          r"(?:\d+\s*(?:–|-|,|and|or|to)\s*)*$")
LABEL_AFTER = re.compile(r"^(?:-|\s)?(?:vCPU|CPUs?|cores?|tasks?|workers?|ranks?|threads?|"
                         r"trials?|process(?:es)?|steps?|points?|sleeps?|requests?|waits?|"
                         r"sockets?|runs?|repeats?)\b")


def digits_half(text):
    """Half a unit of the last digit printed in TEXT (a number as written)."""
    t = text.replace(",", "")
    return 0.5 * 10 ** -(len(t.split(".")[1]) if "." in t else 0)


def value_of(text):
    return float(text.replace(",", ""))


def reference_run(spec):
    """The newest committed run of the lab, or None."""
    runs = sorted(glob.glob(os.path.join(lab.ROOT, "results", "reference", "labs", spec["name"],
                                         "*", "meta.json")))
    return os.path.dirname(runs[-1]) if runs else None


def env_of(spec, run):
    data = lab.load_run(spec, run)
    env = lab.Env(data)
    env.values.update({k: v for k, (v, _) in lab.eval_values(spec, data).items()})
    return env


def printed_like(v, a):
    """V printed as the figure A was: its decimals, and its thousands commas."""
    d = len(a.split(".")[1]) if "." in a else 0
    return (("{:,.%df}" if "," in a else "{:.%df}") % d).format(v)


def check_line(line, env, prev="", nxt="", fixes=None):
    """Problems with one line of a key, and the number of figures it checked. PREV and NXT
    are the lines around it: a label's word may sit across a line break. With FIXES (a
    list), each single figure that moved is not a problem but a (start, end, new text)
    appended to it."""
    problems, checked = [], 0
    if line.lstrip().startswith("#"):
        return problems, checked
    text = CODE.sub(lambda m: " " * len(m.group()), line)
    pos, plain = 0, []
    for m in TAG.finditer(text):
        base = pos
        before, pos = text[pos:m.start()], m.end()
        tag = m.group(1).strip()
        mk = MARKED.search(before)
        if not mk:
            problems.append("a tag <!--%s--> with no number right before it" % tag)
            plain.append(before)
        elif tag.startswith("given:"):
            if not tag[len("given:"):].strip():
                problems.append("%s: <!--given:--> needs its reason" % mk.group().strip())
            checked += 1
            plain.append(before[:mk.start()])
        elif tag.startswith("="):
            expr = tag[1:].strip()
            plain.append(before[:mk.start()])
            checked += 1
            try:
                v = lab.num(lab.evaluate(expr, env))
            except Exception as e:   # a typo in the tag, or a value the run lacks
                problems.append("%s: cannot compute %s: %s" % (mk.group().strip(), expr, e))
                continue
            a, b = mk.group("a"), mk.group("b")
            if math.isnan(v):
                problems.append("%s: %s is not a number in the reference run" % (
                    mk.group().strip(), expr))
            elif b is None and abs(v - value_of(a)) > digits_half(a) * (1 + 1e-9):
                if fixes is None:
                    problems.append("%s: %s is %s" % (mk.group().strip(), expr, "%.4g" % v))
                else:
                    fixes.append((base + mk.start("a"), base + mk.end("a"), printed_like(v, a)))
            elif b is not None and not (value_of(a) - digits_half(a) <= v <=
                                        value_of(b) + digits_half(b)):
                problems.append("%s: %s is %.4g, outside the range" % (
                    mk.group().strip(), expr, v))
        else:
            problems.append("<!--%s-->: a tag is <!--= EXPR--> or <!--given: WHY-->" % tag)
            plain.append(before)
    plain.append(text[pos:])
    for k, chunk in enumerate(plain):
        for m in re.finditer(NUM, chunk):
            head, tail = chunk[:m.start()], chunk[m.end():]
            if k == 0 and not head.strip():
                head = prev.rstrip() + " "
            if k == len(plain) - 1 and not tail.strip():
                tail = " " + nxt.lstrip()
            if LABEL_BEFORE.search(head) or LABEL_AFTER.match(tail):
                continue
            problems.append("%s: a figure without a tag (<!--= EXPR--> or <!--given: WHY-->), "
                            "in \"%s\"" % (m.group(), chunk[max(0, m.start() - 24):
                                                            m.end() + 16].strip()))
    return problems, checked


def check_key(spec, path, update=False):
    """Print each problem of the key at PATH as FILE:LINE: ...; returns (problems, figures).
    UPDATE: rewrite the single figures that moved in place (and print each change)."""
    run = reference_run(spec)
    if not run:
        print("%s: lab %d has no committed reference run (results/reference/labs/%s/)" % (
            lab.show(path), spec["num"], spec["name"]))
        return 1, 0
    env = env_of(spec, run)
    bad = figures = 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    moved = 0
    for n, line in enumerate(lines, 1):
        fixes = [] if update else None
        problems, checked = check_line(line, env, lines[n - 2] if n > 1 else "",
                                       lines[n] if n < len(lines) else "", fixes)
        for start, end, new in reversed(fixes or []):
            print("%s:%d: %s -> %s" % (lab.show(path), n, line[start:end], new))
            line = line[:start] + new + line[end:]
            moved += 1
        lines[n - 1] = line
        figures += checked
        for p in problems:
            print("%s:%d: %s" % (lab.show(path), n, p))
        bad += len(problems)
    if moved:
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print("lab %d: %s: %d figures rewritten to the reference's values: read the words "
              "around them" % (spec["num"], lab.show(path), moved))
    print("lab %d: %s: %d figures against %s: %s" % (
        spec["num"], lab.show(path), figures, lab.show(run),
        "%d wrong or untagged" % bad if bad else "all hold"))
    return bad, figures


def main(argv):
    try:
        if argv[:1] in (["-h"], ["--help"]):
            print(__doc__.strip())
            return EXIT_OK
        update = argv[:1] == ["--update"]
        if update:
            argv = argv[1:]
            if not argv:
                raise lab.Usage("--update N ...: name the labs whose keys to rewrite")
        if argv[:1] == ["--key"]:
            if len(argv) != 3:
                raise lab.Usage("--key FILE N")
            if not os.path.isfile(argv[1]):
                raise lab.Usage("--key %s: no such file" % argv[1])
            bad, _ = check_key(lab.find_lab(argv[2]), argv[1], update)
            return EXIT_FAIL if bad else EXIT_OK
        specs = [lab.find_lab(a) for a in argv] or \
            [lab.find_lab(os.path.basename(d)[:2]) for d in lab.lab_dirs()]
        total = 0
        for spec in specs:
            bad, _ = check_key(spec, os.path.join(spec["dir"], "KEY.md"), update)
            total += bad
        return EXIT_FAIL if total else EXIT_OK
    except lab.Usage as e:
        print("labkeys: %s" % e, file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
