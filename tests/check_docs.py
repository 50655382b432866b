#!/usr/bin/env python3
"""check_docs.py: the documentation against the code it describes. README.md fits in 200
lines; every relative link in README.md and docs/ names a file that exists; every `make X`
the pages name is a target `make help` lists, and every target it lists is in docs/cli.md;
every long option of every command's --help, and every column of `parlab list --format
csv` and `parlab run --format csv`, is in docs/cli.md. Prints one line per problem.

    $PYTHON tests/check_docs.py [PARLAB]      (tests/test_docs.c runs it; exit 0: all hold)
"""
import glob
import os
import re
import subprocess
import sys

README_MAX_LINES = 200
problems = []


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def run(argv):
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=True).stdout


def code_spans(text):
    """The text inside `...` spans, and each line of ``` blocks."""
    spans, in_block = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = not in_block
        elif in_block:
            spans.append(line)
        else:
            spans += re.findall(r"`([^`]+)`", line)
    return spans


def make_words(text):
    """Targets in `make X ...` spans and code lines; digits of lab-3 read lab-N."""
    words = set()
    for span in code_spans(text):
        for m in re.finditer(r"(?:^|[\s(;&|])make((?: +[A-Z_]+=\S*)*) +([a-z][\w./-]*)", span):
            words.add(re.sub(r"\d+", "N", m.group(2)))
    return words


def main():
    parlab = sys.argv[1] if len(sys.argv) > 1 else "bin/parlab"
    readme = read("README.md")
    cli = read("docs/cli.md")
    pages = ["README.md"] + sorted(glob.glob("docs/*.md"))

    n = len(readme.splitlines())
    if n > README_MAX_LINES:
        problems.append(f"README.md: {n} lines, over {README_MAX_LINES}")

    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", read(page)):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = os.path.normpath(os.path.join(os.path.dirname(page), target.split("#")[0]))
            if not os.path.exists(path):
                problems.append(f"{page}: the link to {target} names no file")

    # make help: "make TARGET  what..." lines, and the targets its text names (lab-N-check)
    helptext = run(["make", "-s", "--no-print-directory", "help"])
    listed = {re.sub(r"\d+", "N", w) for w in re.findall(r"^make ([a-z][\w-]*)", helptext, re.M)}
    known = listed | {re.sub(r"\d+", "N", w) for w in re.findall(r"\bmake +([a-z][\w-]*)", helptext)}
    known |= {"help"}
    for page in pages:
        for w in sorted(make_words(read(page)) - known):
            if "/" not in w:
                problems.append(f"{page}: `make {w}` is not a target make help lists")
    for w in sorted(listed - make_words(cli)):
        problems.append(f"docs/cli.md: make help lists `make {w}`, the page does not")

    # every long option of every command, and of parlab itself
    top = run([parlab, "--help"])
    commands = re.findall(r"^  ([a-z]+) ", top.split("commands:")[1].split("\n\n")[0], re.M)
    if len(commands) < 5:
        problems.append(f"{parlab} --help: no command list")
    documented = set(re.findall(r"--[a-z][a-z-]*", cli))
    for cmd in [None] + commands:
        text = run([parlab, "--help"] if cmd is None else [parlab, cmd, "--help"])
        if cmd is not None and f"parlab {cmd}" not in cli:
            problems.append(f"docs/cli.md: no `parlab {cmd}`")
        for opt in sorted(set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", text)) - documented):
            problems.append(f"docs/cli.md: parlab {cmd or ''} {opt} is not there".replace("  ", " "))

    # the columns scripts read
    cols = run([parlab, "list", "--format", "csv"]).splitlines()[0].split(",")
    cols += run([parlab, "run", "-w", "sumsq", "-r", "seq", "-n", "1000", "--repeat", "1",
                 "--warmup", "0", "--format", "csv"]).splitlines()[0].split(",")
    spans = set(code_spans(cli))
    for c in dict.fromkeys(cols):
        if c not in spans:
            problems.append(f"docs/cli.md: the CSV column `{c}` is not described")

    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
