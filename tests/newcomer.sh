#!/usr/bin/env bash
# newcomer.sh: docs/adding-a-workload.md followed to the letter in a scratch copy of the
# tree. Its example (tests/corpus/collatz.c, which the doc must show verbatim) becomes
# workloads/collatz.c and its registry line goes into workloads/registry.c; nothing else
# changes. Then collatz must be in `parlab list`, verify under `parlab run -r fork`, run
# through the test matrix and the torture cases, a tiny bench (core and weak sweeps) and a
# tiny compare, where it shows as "no Python peer". Every step is narrowed to collatz and
# tiny sizes. The bench and compare steps run what `make bench` and `make compare` run
# after their package check (scripts/deps.sh, which may install packages: not in a test).
#
# usage: tests/newcomer.sh     (from anywhere; the CUnit suite `newcomer` runs it)
# Exit 0 when every check holds, 1 with one line "newcomer: ..." naming the first that
# does not, 64 for bad use. A line per step on stdout. PARLAB_KEEP_NEWCOMER=1 keeps the copy.
# Needs git (which files are the tree), tar, make and a C compiler; the bench and compare steps
# need hyperfine, gnuplot and jq, and say SKIPPED without them.
set -euo pipefail
export LC_ALL=C
[ $# -eq 0 ] || { echo "usage: tests/newcomer.sh" >&2; exit 64; }
root=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
. "$root/tests/newcomer-env.sh"
t0=$(date +%s)
fail() { echo "newcomer: $*" >&2; exit 1; }
step() { printf '[newcomer %3ds] %s\n' "$(($(date +%s) - t0))" "$*"; }
. "$root/scripts/csv.sh"   # every CSV read by its header: csv_awk
# col CSV NAME...: the named columns of each data row, comma-separated
col() {
  csv_awk -v want="${*:2}" 'BEGIN { n = split(want, w, " ") }
    { l = ""; for (j = 1; j <= n; j++) l = l (j > 1 ? "," : "") get(w[j]); print l }' "$1"
}

if ! git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "newcomer: SKIPPED: $root is not a git checkout, so which files make the tree is unknown"
  exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parlab-newcomer.XXXXXX")
if [ -n "${PARLAB_KEEP_NEWCOMER:-}" ]; then echo "newcomer: kept in $tmp"; else trap 'rm -rf "$tmp"' EXIT; fi
tree=$tmp/tree
mkdir -p "$tree"

# The tree as a newcomer has it: its files as they are now (tracked, and new ones git does
# not ignore), and the plain build's objects (their times kept, so that make compiles only
# what changes).
"$root/scripts/scratch.sh" "$tree" || fail "cannot copy the files of $root"
cd "$tree"
step "a copy of the tree in $tree"

# 1. The doc's example is the corpus file, word for word (its list indent of 3 removed).
doc=docs/adding-a-workload.md
[ -f "$doc" ] || fail "$doc is missing"
awk '/^   ```c$/ && !seen { inb = seen = 1; next } inb && /^   ```$/ { exit }
     inb { sub(/^   /, ""); print }' "$doc" > "$tmp/example.c"
cmp -s "$tmp/example.c" tests/corpus/collatz.c ||
  fail "the example in $doc is not tests/corpus/collatz.c (diff them)"
cp tests/corpus/collatz.c workloads/collatz.c
# 2. The registry line, as the doc gives it, before the list's end.
line=$(grep -E '^ *W\(collatz\) +\\$' "$doc" | sed 's/^   //')
[ "$(wc -l <<< "$line")" = 1 ] && [ -n "$line" ] || fail "$doc gives no single line W(collatz) \\"
end='    /* the end of the list */'
grep -qxF "$end" workloads/registry.c || fail "workloads/registry.c has no line '$end'"
awk -v l="$line" -v e="$end" '$0 == e { print l } { print }' workloads/registry.c > "$tmp/registry.c"
mv "$tmp/registry.c" workloads/registry.c
changed=$(diff "$root/workloads/registry.c" workloads/registry.c | grep -c '^[<>]' || true)
[ "$changed" = 1 ] || fail "the registry edit changed $changed lines, not 1"
step "workloads/collatz.c from the doc, and its line in workloads/registry.c"

# 3. Build: no warning in the new file.
make -j2 --no-print-directory all bin/parlab-tests > "$tmp/make.log" 2>&1 ||
  fail "make failed: $(tail -n 5 "$tmp/make.log" | tr '\n' ' ')"
! grep -q 'collatz\.c.*warning' "$tmp/make.log" || fail "workloads/collatz.c compiles with warnings: $(grep -m1 'collatz\.c.*warning' "$tmp/make.log")"
step "built"

# 4. parlab list: a CPU workload with its weak-scaling N0 and unit.
bin/parlab list --format csv > "$tmp/list.csv" || fail "parlab list --format csv failed"
got=$(csv_awk 'get("type") == "workload" && get("name") == "collatz" { print get("kind") "," get("weak_size") "," get("unit") }' "$tmp/list.csv")
[ -n "$got" ] || fail "collatz is not in parlab list"
[ "$got" = "cpu,1000000,number" ] || fail "parlab list: collatz kind,weak_size,unit is '$got', not cpu,1000000,number"
bin/parlab list | grep -q '^  collatz ' || fail "collatz is not in the text form of parlab list"

# 5. It verifies under fork, at its default size: the sum the doc states.
bin/parlab run -w collatz -r fork --format csv > "$tmp/run.csv" 2> "$tmp/run.err" ||
  fail "parlab run -w collatz -r fork: exit $?: $(head -n 1 "$tmp/run.err")"
got=$(col "$tmp/run.csv" size result verified check | tail -n 1)
[ "$got" = "1000000,131434272,yes,recorded" ] ||
  fail "parlab run -w collatz -r fork: size,result,verified,check '$got', not 1000000,131434272,yes,recorded"
step "parlab list and parlab run -w collatz -r fork: 131434272, verified"

# 6. The test matrix, narrowed to it: every runner and schedule equal to seq.
PARLAB=bin/parlab PARLAB_TEST_WORKLOADS=collatz bin/parlab-tests matrix > "$tmp/matrix.log" 2>&1 ||
  fail "the matrix suite failed: $(grep -m3 -e 'collatz' -e FAIL "$tmp/matrix.log" | tr '\n' ' ')"
grep -qE 'matrix: [0-9]+ cases of collatz' "$tmp/matrix.log" || fail "the matrix ran no case of collatz"
step "$(grep -oE 'matrix: [0-9]+ cases of collatz' "$tmp/matrix.log")"

# 7. The torture cases drawn from it.
"$PYTHON" tests/torture.py --parlab bin/parlab -N 6 --seed 23 -j 2 --workload collatz \
  > "$tmp/torture.log" 2>&1 || fail "torture.py --workload collatz failed: $(grep -m2 -e FAIL -e torture: "$tmp/torture.log" | tr '\n' ' ')"
grep -q '; workloads: collatz$' "$tmp/torture.log" || fail "the torture cases do not draw collatz"
grep -q ': 6 cases, 0 failed' "$tmp/torture.log" || fail "torture: $(tail -n 1 "$tmp/torture.log")"
step "torture: 6 cases of collatz, 0 failed"

for t in hyperfine gnuplot jq; do
  command -v "$t" >/dev/null || { echo "newcomer: SKIPPED the bench and compare steps: $t is not installed (scripts/deps.sh bench)"; exit 0; }
done
# 8. A tiny bench of collatz alone (make bench's recipe): its core sweep and weak sweep.
make --no-print-directory build-bench > "$tmp/make.log" 2>&1 || fail "make build-bench failed"
PARLAB=bin/parlab PARLAB_RESULTS=$tmp/results PARLAB_BENCH_TINY=1 PARLAB_BENCH_WORKLOADS=collatz \
  PARLAB_BENCH_RUNNERS=fork PARLAB_BENCH_SLEEP=0 PARLAB_SWEEP_PYTHON=0 PARLAB_BENCH_REFERENCE=none \
  scripts/bench.sh > "$tmp/bench.log" 2>&1 || fail "the tiny bench failed: $(tail -n 3 "$tmp/bench.log" | tr '\n' ' ')"
run=$tmp/results/latest
[ "$(col "$run/cores.csv" workload | sort -u)" = collatz ] || fail "the bench's cores.csv has no collatz rows only"
[ -n "$(col "$run/weak.csv" workload runner | grep -x 'collatz,fork')" ] || fail "the weak sweep has no collatz rows"
[ -s "$run/plots/weak-collatz.png" ] && [ -s "$run/plots/collatz-speedup.png" ] || fail "the bench drew no collatz plots"
step "tiny bench: collatz in cores.csv and weak.csv, with its plots"

# 9. A tiny compare of collatz alone (make compare's recipe): C rows, "no Python peer".
PARLAB=bin/parlab PYTHON=$PYTHON PARLAB_COMPARE_TINY=1 PARLAB_COMPARE_WORKLOADS=collatz \
  COMPARE_DIR=$tmp/compare scripts/compare.sh > "$tmp/compare.log" 2>&1 ||
  fail "the tiny compare failed: $(tail -n 3 "$tmp/compare.log" | tr '\n' ' ')"
grep -q "workload 'collatz': no Python peer" "$tmp/compare.log" || fail "compare did not say collatz has no Python peer"
grep -q 'no Python peer' "$tmp/compare/index.html" || fail "compare's page does not say 'no Python peer'"
langs=$(col "$tmp/compare/compare.csv" section workload lang | grep '^cpu,collatz,' | sort -u)
[ "$langs" = "cpu,collatz,c" ] || fail "compare.csv: collatz's CPU rows are '$langs', not C rows alone"
step "tiny compare: collatz in C, no Python peer"
echo "newcomer: collatz followed the doc into every list in $(($(date +%s) - t0)) s"
