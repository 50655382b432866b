#!/usr/bin/env python3
"""structure.py: the import structure of parlab's C code, checked against its floors.

Floors, lowest first: lib < workloads < mpi < runners < harness < experiments. A file may
use (include, or call a function defined in) its own folder or a lower floor only. A file
that defines a program's `main` is the top of that program and may use anything. Two
kinds of arrows are read:
  - includes: every `#include "..."` in a .c or .h file;
  - calls: from the built objects (nm), each undefined symbol of an object to the object
    that defines it. This catches what a shared header hides (run.c calling a function of
    results.c through harness.h).
Inside a folder, modules (x.c and x.h together) must not form a circle of calls, unless
the opening comment of one of the circle's files names every other module of it and says
"circle" (why it is one).
Sizes: no file in these folders over 600 lines; runners/ at most 1,200 lines in all.

usage: scripts/structure.py [--root DIR] [--build DIR] [--quiet]
  --root DIR   the tree to read (default .); --build DIR its objects (default ROOT/build)
Exits 0 when every rule holds, 1 with one line per breach, 64 on bad usage.
"""
import os
import re
import subprocess
import sys

FLOORS = ["lib", "workloads", "mpi", "runners", "harness", "experiments"]
MAX_LINES = 600
RUNNERS_MAX = 1200
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
MAIN = re.compile(r'^\s*int\s+main\s*\(', re.M)


def sources(root):
    for floor in FLOORS:
        d = os.path.join(root, floor)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            if name.endswith((".c", ".h")):
                yield os.path.join(floor, name)


def module(path):
    return os.path.splitext(path)[0]


def opening_comment(text):
    m = re.match(r"\s*/\*(.*?)\*/", text, re.S)
    return m.group(1) if m else ""


def nm_edges(build, root, objs):
    """(from_module, to_module, symbol) for every call between objects under build/."""
    defined, undefined = {}, {}
    for o in objs:
        try:
            out = subprocess.run(["nm", "-P", os.path.join(build, o)], capture_output=True,
                                 text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            continue
        mod = module(o)
        for line in out.splitlines():
            f = line.split()
            if len(f) < 2:
                continue
            sym, kind = f[0], f[1]
            if kind == "U":
                undefined.setdefault(mod, set()).add(sym)
            elif kind in "TDBRVWi" and kind not in "U":
                defined.setdefault(sym, mod)
    for mod, syms in undefined.items():
        for s in sorted(syms):
            to = defined.get(s)
            if to and to != mod:
                yield mod, to, s


def sccs(graph):
    """Strongly connected components with more than one node (Tarjan, iterative enough)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main(argv):
    root, build, quiet = ".", None, False
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--build", "--root") and i + 1 < len(argv):
            if a == "--build":
                build = argv[i + 1]
            else:
                root = argv[i + 1]
            i += 2
            continue
        if a == "--quiet":
            quiet = True
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            print(f"structure: unknown argument '{a}' (usage: scripts/structure.py "
                  "[--root DIR] [--build DIR] [--quiet])", file=sys.stderr)
            return 64
        i += 1
    if not os.path.isdir(root):
        print(f"structure: no folder '{root}'", file=sys.stderr)
        return 64
    build = build or os.path.join(root, "build")
    floor_of = {f: k for k, f in enumerate(FLOORS)}
    texts, mains, breaches = {}, set(), []
    for p in sources(root):
        with open(os.path.join(root, p), encoding="utf-8", errors="replace") as fh:
            texts[p] = fh.read()
        if p.endswith(".c") and MAIN.search(texts[p]):
            mains.add(module(p))

    def check_arrow(src_mod, dst_mod, how):
        if src_mod in mains:
            return
        a, b = src_mod.split("/")[0], dst_mod.split("/")[0]
        if a not in floor_of or b not in floor_of:
            return
        if floor_of[b] > floor_of[a]:
            breaches.append(f"upward: {src_mod} -> {dst_mod} ({how}): {a} is below {b}")

    # includes
    calls = {}
    for p, text in texts.items():
        for inc in INCLUDE.findall(text):
            dst = os.path.normpath(os.path.join(os.path.dirname(p), inc))
            if dst.split("/")[0] in floor_of:
                check_arrow(module(p), module(dst), f"includes {inc}")
    # calls, from the objects
    objs = [module(p)[0:] + ".o" for p in texts if p.endswith(".c")]
    objs = [o for o in objs if os.path.exists(os.path.join(build, o))]
    if not objs:
        breaches.append(f"no objects under {build}/: build first (make)")
    for a, b, sym in nm_edges(build, root, objs):
        check_arrow(a, b, f"calls {sym}")
        if a.split("/")[0] == b.split("/")[0] and a not in mains:
            calls.setdefault(a, set()).add(b)
    # folder circles (a consequence of the floors, reported on their own for clarity)
    folders = {}
    for a, targets in calls.items():
        for b in targets:
            folders.setdefault(a.split("/")[0], set()).add(b.split("/")[0])
    for comp in sccs(calls):
        names = [c.split("/")[1] for c in comp]
        explained = False
        for c in comp:
            for ext in (".c", ".h"):
                op = opening_comment(texts.get(c + ext, "")).lower()
                if "circle" in op and all(n in op for n in names if f"/{n}" != c[c.index('/'):]):
                    explained = True
        if not explained:
            breaches.append("circle in " + comp[0].split("/")[0] + "/: " + " <-> ".join(
                names) + " (no opening comment says why)")
    # sizes
    runners_total = 0
    for p, text in texts.items():
        n = text.count("\n")
        if p.startswith("runners/"):
            runners_total += n
        if n > MAX_LINES:
            breaches.append(f"size: {p} has {n} lines (at most {MAX_LINES})")
    if runners_total > RUNNERS_MAX:
        breaches.append(f"size: runners/ has {runners_total} lines (at most {RUNNERS_MAX})")
    for b in breaches:
        print(b)
    if not quiet:
        print(f"structure: {len(texts)} files in {', '.join(FLOORS)}; "
              f"runners/ {runners_total} lines; {len(breaches)} breach(es)", file=sys.stderr)
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
