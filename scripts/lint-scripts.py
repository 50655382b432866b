#!/usr/bin/env python3
"""lint-scripts.py: the scripts read a CSV by its header and JSON with jq (or Python's json),
and what parlab prints writes ±, … and × one way.

    lint-scripts.py [DIR]      scan DIR (default: the scripts/ folder beside this file and
                               the C sources)

Reports, one line each as FILE:LINE: WHAT, and exits 1 when it finds any:
  - a CSV column read by number: `cut -d, -f N`; `$3` in an awk program that splits at
    commas (-F, or FS = ",", and every csv_awk program, scripts/csv.sh); `strcol(2)` or
    `column(2)` in gnuplot commands written inline; `IFS=, read a b c` fed from a file or
    from a CSV row ($row, $line, a --format csv command); Python's csv.reader (csv.DictReader
    reads by name) or `.split(",")[N]`;
  - JSON read by anything but jq or Python: awk, sed, grep, cut, tr or perl given a .json
    file, or awk splitting at double quotes (-F'"');
  - printed text against the convention (docs/decisions.md): `+-` for plus-minus (write
    ±), a range with `..` (write `min … max`; an interval is `[lo, hi]`), a ratio as a
    number then `x` ("1.93x", "%.2fx", "%.3g x") or with the sign in front ("x1.93",
    "×%s"): write `1.93×`. It reads the string literals of C and Python and the lines of
    shell, awk and gnuplot files (not their comments); hex ("0x", "%02x"), dimensions
    ("%zux%zu", "1920x1080"), "..." and shell's {1..9} pass. Without DIR it reads the C
    sources too (harness, experiments, runners, lib, mpi, workloads, examples).
Fields of our own tuples (a jq or awk output read back at once) and of files that are not
CSV (/proc, `times`) are not CSV columns and pass. Exit 0: clean; 1: findings; 64: usage.
PENDING names files other work is converting: their findings are listed as pending and do
not fail the scan (empty it as they land).
"""
import os
import re
import sys

PENDING = {}
# the C sources whose text the scan reads besides scripts/ (without DIR)
C_DIRS = ("harness", "experiments", "runners", "lib", "mpi", "workloads", "examples")

AWK_CMD = re.compile(r"(?<![\w.-])(csv_awk|awk)(?![\w.-])")
FIELD = re.compile(r"\$([1-9][0-9]*)\b|\$\(\s*NF\s*-")
COMMA_FS = re.compile(r"""-F\s*(,|','|",")|-v\s*FS=(,|','|",")|\bFS\s*=\s*(","|',')""")
QUOTE_FS = re.compile(r"""-F\s*('"'|"\\""|\\")""")
GP_NUM = re.compile(r"\b(strcol|column|stringcolumn)\(\s*[0-9]+\s*\)")
CUT_COMMA = re.compile(r"\bcut\b[^|;]*-d\s*(,|','|\",\")")
IFS_READ = re.compile(r"\bIFS=(,|','|\",\")\s*read\b")
TEXT_TOOL = re.compile(r"^\s*(awk|sed|grep|egrep|cut|tr|perl|csv_awk)\b")


def _word(s, i):
    """The shell word at s[i:] (quotes and $( ) kept): (word, end index)."""
    j, depth = i, 0
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if depth == 0 and c in " \t\n;|&<>)":
            break
        if c == "'":
            k = s.find("'", j + 1)
            j = len(s) if k < 0 else k + 1
            continue
        if c == '"':
            k, d = j + 1, 0
            while k < len(s) and not (s[k] == '"' and d == 0):
                if s[k] == "\\":
                    k += 1
                elif s.startswith("$(", k):
                    w, k = _word(s, k)
                    continue
                k += 1
            j = k + 1
            continue
        if s.startswith("$(", j):
            depth += 1
            j += 2
            continue
        if c == ")" and depth:
            depth -= 1
        j += 1
    return s[i:j], j


def _skip_blank(s, i):
    while i < len(s) and (s[i] in " \t" or s.startswith("\\\n", i)):
        i += 2 if s[i] == "\\" else 1
    return i


def awk_programs(text):
    """(line, options, program, is csv_awk, the program's first line - 1) of each awk call
    in a shell script: the program is the first argument after the options."""
    out = []
    for m in AWK_CMD.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        before = text[line_start:m.start()]
        if before.lstrip().startswith("#") or re.search(r"[\w.-]$", before) or "() {" in text[m.start():m.start() + 12]:
            continue
        i, opts = m.end(), ""
        while True:
            i = _skip_blank(text, i)
            w, j = _word(text, i)
            if not w.startswith("-") or w == "-":
                break
            opts += " " + w
            if w in ("-F", "-v", "-f"):
                k = _skip_blank(text, j)
                w2, j = _word(text, k)
                opts += w2
            i = j
        w, j = _word(text, i)
        if len(w) < 2 or w[0] not in "'\"" or w[-1] != w[0]:
            continue
        out.append((text.count("\n", 0, m.start()) + 1, opts, w[1:-1], m.group(1) == "csv_awk",
                    text.count("\n", 0, i + 1)))
    return out


def scan_shell(path, text, found):
    for ln, opts, prog, is_csv, prog_line0 in awk_programs(text):
        if QUOTE_FS.search(opts):
            found.append((path, ln, "awk splits at double quotes: JSON is read with jq"))
        if is_csv or COMMA_FS.search(opts) or COMMA_FS.search(prog):
            for f in FIELD.finditer(prog):
                at = prog_line0 + prog.count("\n", 0, f.start()) + 1
                found.append((path, at, "CSV column read by number (%s): read it by its header's name "
                               "(csv_awk's get(\"name\"), scripts/csv.sh)" % f.group(0)))
    lines = text.split("\n")
    for n, line in enumerate(lines, 1):
        code = line.split(" #")[0] if not line.lstrip().startswith("#") else ""
        if not code:
            continue
        if CUT_COMMA.search(code):
            found.append((path, n, "cut -d, reads a CSV column by number: read it by name (csv_get)"))
        m = GP_NUM.search(code)
        if m:
            found.append((path, n, "gnuplot %s reads a column by number: give the header's name" % m.group(0)))
        if QUOTE_FS.search(code) and "awk" in code and not any(x[1] == n for x in found if x[0] == path):
            found.append((path, n, "awk splits at double quotes: JSON is read with jq"))
        for seg in re.split(r"\|\|?|;|&&|\$\(|<\(|`", code):
            if TEXT_TOOL.match(seg) and re.search(r"\.json\b|\$\{?json\b", seg):
                found.append((path, n, "%s reads JSON: use jq" % TEXT_TOOL.match(seg).group(1)))
        if IFS_READ.search(code):
            feed = code
            if re.search(r"\bwhile\b", code):   # a loop: its input is on its `done` line
                for k in range(n, min(n + 60, len(lines))):
                    if re.match(r"\s*done\b", lines[k]):
                        feed = lines[k]
                        break
            if (re.search(r"(?<![<0-9])<\s*[\"$\w/]", feed) and not re.search(r"<\s*<\(", feed)) or \
                    re.search(r"<<<\s*\"?\$\{?\w*(row|line|csv|list)", feed, re.I) or \
                    re.search(r"--format[ =]csv", feed):
                found.append((path, n, "IFS=, read takes a CSV's columns by position: read them by name"))


def scan_awk(path, text, found):
    comma = bool(COMMA_FS.search(text))
    for n, line in enumerate(text.split("\n"), 1):
        code = line.split("#")[0]
        if comma:
            for f in FIELD.finditer(code):
                found.append((path, n, "CSV column read by number (%s): read it by its header's name" % f.group(0)))


def scan_python(path, text, found):
    for n, line in enumerate(text.split("\n"), 1):
        code = line.split("#")[0]
        if re.search(r"\bcsv\.reader\(", code):
            found.append((path, n, "csv.reader reads columns by number: use csv.DictReader"))
        if re.search(r"""\.split\(\s*(",'|','|",")\s*\)\s*\[\s*-?[0-9]""", code):
            found.append((path, n, "a CSV line split at commas and indexed: use csv.DictReader"))


# ---- the text convention: ±, min … max, [lo, hi], 1.93× ----------------------------------

SPEC = r"%[-+ #0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?(?:hh|h|ll|l|z|j|t|L)?"
TEXT_RULES = [
    # plus-minus as "+-" between two things ("%.2f +- %.2f"); not "%+-5d", "[+-]", ".eE+-"
    (re.compile(r"(?:[\w)\]}]|" + SPEC + r"[a-zA-Z]) ?\+- ?(?=[\w$({%.])"),
     "`+-` for plus-minus: write ±"),
    # a range with two dots: "a .. b", "[%s..%s]", "%d..%d", "1..5" (not "...", "../",
    # "cd ..", {1..9})
    (re.compile(r"(?<=[^\s.])(?<!\bcd) \.\. (?=[^\s.])"),
     "a `..` range: write min … max, an interval [lo, hi]"),
    (re.compile(SPEC + r"[a-zA-Z]\.\.(?!\.)|(?<![.\w{])\d+\.\.\d+(?![.\d])"),
     "a `..` range: write min … max, an interval [lo, hi]"),
    # a ratio as a number then x: "%.2fx", "%.3g x", "{:.2f}x", "1.5x", "32x"
    (re.compile(SPEC + r"[fFgGeE] ?x(?!\w)|" + SPEC + r"[diu] ?x(?![\w%])|\{[^{}]*\}x(?![\w%{$])"),
     "a ratio as a number then x: write 1.93× (U+00D7)"),
    (re.compile(r"(?<![\w.%#\\$-])(?!0x)\d+(?:\.\d+)?x(?![\w%{])"),
     "a ratio as a number then x: write 1.93× (U+00D7)"),
    # the sign in front: "x1.93", "×%s", "×{:.2f}"
    (re.compile(r"(?<![\w%\\$-])(?:[x×](?:" + SPEC + r"[fFgGeEdiusr]|\{[^{}]*\})|x\d+\.\d|×\d)"),
     "a ratio with its sign in front: write 1.93× (U+00D7), the sign after the number"),
]


def text_findings(path, line_no, text, found):
    for rx, what in TEXT_RULES:
        m = rx.search(text)
        if m:
            found.append((path, line_no, "%s (%r)" % (what, m.group(0).strip() or m.group(0))))


def c_strings(text):
    """(line, content) of each string literal of a C file, comments and chars skipped."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "'":
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"' and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            out.append((text.count("\n", 0, i) + 1, text[i + 1:j]))
            i = j + 1
        elif c == "#" and text[text.rfind("\n", 0, i) + 1:i].strip() == "" and \
                re.match(r"#\s*include\b", text[i:]):
            i = text.find("\n", i)
            i = n if i < 0 else i
        else:
            i += 1
    return out


def py_strings(text):
    """(line, content) of each string literal of a Python file (its docstrings too: --help
    prints them); comments skipped. Falls back to every non-comment line when the file
    does not tokenize."""
    import io
    import tokenize
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                for k, part in enumerate(tok.string.split("\n")):
                    out.append((tok.start[0] + k, part))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        out = [(n, l.split("#")[0]) for n, l in enumerate(text.split("\n"), 1)]
    return out


def code_lines(text):
    """(line, text) of each line of a shell, awk or gnuplot file less its comment."""
    out = []
    for n, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith("#"):
            continue
        out.append((n, re.split(r"\s#(?![{!])", line)[0]))
    return out


def scan_text(path, text, found, kind):
    parts = c_strings(text) if kind == "c" else py_strings(text) if kind == "py" else code_lines(text)
    for n, s in parts:
        text_findings(path, n, s, found)


def scan(root):
    found = []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if not os.path.isfile(path) or name == os.path.basename(__file__):
            continue
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError):
            continue
        first = text.split("\n", 1)[0]
        if name.endswith((".c", ".h")):
            scan_text(name, text, found, "c")
        elif name.endswith(".sh") or "bash" in first or first.startswith("#!/bin/sh"):
            scan_shell(name, text, found)
            scan_text(name, text, found, "lines")
        elif name.endswith(".awk"):
            scan_awk(name, text, found)
            scan_text(name, text, found, "lines")
        elif name.endswith(".py") or "python" in first:
            scan_python(name, text, found)
            scan_text(name, text, found, "py")
        elif name.endswith((".gp", ".jq")):
            scan_text(name, text, found, "lines")
    return found


def main(argv):
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return 0
    if len(argv) > 1 or (argv and not os.path.isdir(argv[0])):
        sys.stderr.write("usage: lint-scripts.py [DIR]  (%s: not a folder)\n" % (argv[0] if argv else ""))
        return 64
    here = os.path.dirname(os.path.abspath(__file__))
    roots = [argv[0]] if argv else [here] + [os.path.join(here, "..", d) for d in C_DIRS]
    found = sorted({(os.path.normpath(os.path.join(root, f)), n, what)
                    for root in roots if os.path.isdir(root) for f, n, what in scan(root)})
    bad = [f for f in found if os.path.basename(f[0]) not in PENDING]
    for f, n, what in bad:
        print("%s:%d: %s" % (f, n, what))
    for name, why in sorted(PENDING.items()):
        k = sum(1 for f in found if os.path.basename(f[0]) == name)
        if k:
            print("lint-scripts: pending (%s): %s, %d finding(s)" % (why, name, k), file=sys.stderr)
    if bad:
        print("lint-scripts: %d finding(s): a CSV is read by its header, JSON with jq, and text "
              "writes ±, min … max and 1.93×" % len(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
