#!/usr/bin/env bash
# diff.sh: run B against run A, point by point, as a gate: each point's times compared by a
# rank test (Mann-Whitney U) and the 95% bootstrap interval of B/A over the raw per-run
# samples (scripts/verdict.py compare): "~" when not significant or within THRESHOLD,
# "slower" or "faster" beyond it, "?" (inconclusive) below 4 runs a side or when a change
# meets a busy machine. Also both runs' speedups on the same axes.
# usage: scripts/diff.sh [A [B]]      (make diff [A=RUN] [B=RUN] [THRESHOLD=5] [FORMAT=markdown] [FORCE=1])
#   A: the run to compare against (default: the results/reference/ run of a machine like B's,
#      else the first one there); B: the run to judge (default: results/latest).
#   THRESHOLD  the change, in percent, that counts (default 5)
#   FORMAT     text (default) or markdown: a table to paste into a pull request
#   FORCE=1    compare runs of different modes or sizes anyway (their verdicts are never fail)
# Prints a trust line for each run, names runners and workloads found in only one, lists the
# core sweep and every change, and writes B/diff-<A's name>/ (diff.csv, index.html, plots/).
# Exit: 0 no significant slowdown; 1 a significant slowdown beyond THRESHOLD on a quiet
# machine; 64 bad input, or runs of different modes or sizes without FORCE=1. Inconclusive
# never fails. A run without per-run samples (samples.csv; older runs) is compared by means
# and spreads, every verdict inconclusive.
set -uo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
PYTHON=${PYTHON:-/usr/bin/python3}
fail() { echo "diff: $1" >&2; exit "${2:-1}"; }
. "$here/csv.sh"
case ${1:-} in -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac
[ $# -le 2 ] || fail "too many arguments (scripts/diff.sh --help)" 64
for t in jq gnuplot awk; do command -v "$t" > /dev/null || fail "missing $t: run scripts/deps.sh bench"; done
"$PYTHON" -c 'import scipy' 2> /dev/null || fail "$PYTHON cannot import scipy: run scripts/deps.sh bench (python3-scipy)"

threshold=${THRESHOLD:-5}
threshold=${threshold%\%}
[[ $threshold =~ ^[0-9]*\.?[0-9]+$ ]] && awk -v t="$threshold" 'BEGIN { exit !(t < 100) }' ||
  fail "THRESHOLD=${THRESHOLD:-}: give a percentage from 0 to under 100, e.g. 5" 64
format=${FORMAT:-text}
case $format in text|markdown) ;; *) fail "FORMAT=$format: text or markdown" 64 ;; esac
force=()
[ -n "${FORCE:-}" ] && [ "$FORCE" != 0 ] && force=(--force)

B=${2:-${B:-$root/results/latest}}
[ -s "$B/cores.csv" ] || fail "$B: not a bench run folder with a cores.csv (run make bench first)" 64
A=${1:-${A:-}}
if [ -z "$A" ]; then
  for d in "$root"/results/reference/*/; do
    [ -s "$d/cores.csv" ] || continue
    [ -z "$A" ] && A=${d%/}
    jq -e --slurpfile me "$B/machine.json" '.cpu_model == $me[0].cpu_model and .nproc == $me[0].nproc' \
      "$d/machine.json" > /dev/null 2>&1 && { A=${d%/}; break; }
  done
  [ -n "$A" ] || fail "no run under results/reference/ to compare with: give A=RUN" 64
fi
[ -s "$A/cores.csv" ] || fail "$A: not a bench run folder with a cores.csv" 64
A=$(cd "$A" && pwd -P); B=$(cd "$B" && pwd -P)
[ "$A" != "$B" ] || fail "A and B are the same run ($A)" 64
out="$B/diff-$(basename "$A")"
mkdir -p "$out/plots" || fail "cannot create $out" 74

m() { jq -r --arg k "$2" '.[$k] // "?" | tostring' "$1/machine.json" 2> /dev/null || echo "?"; }
desc() { printf '%s (%s, %s CPUs, %s, commit %.12s)' "$(basename "$1")" "$(m "$1" cpu_model)" "$(m "$1" nproc)" "$(m "$1" date)" "$(m "$1" git_commit)"; }
same_machine=yes
[ "$(m "$A" cpu_model) $(m "$A" nproc)" = "$(m "$B" cpu_model) $(m "$B" nproc)" ] || same_machine=no
frac=$(awk -v t="$threshold" 'BEGIN { printf "%g", t / 100 }')

# The verdicts: the table on stdout, diff.csv for the plots; 64 refuses runs that do not compare.
"$PYTHON" "$here/verdict.py" diff --threshold "$frac" --format "$format" "${force[@]}" \
  --csv "$out/diff.csv" "$A" "$B" > "$out/diff.$([ "$format" = markdown ] && echo md || echo txt)"
rc=$?
[ $rc -eq 64 ] && exit 64
[ $rc -le 1 ] || fail "scripts/verdict.py diff failed (exit $rc)" 70
report="$out/diff.$([ "$format" = markdown ] && echo md || echo txt)"
if [ "$format" = markdown ]; then
  cat "$report"
else
  echo "# A: $(desc "$A")"
  echo "# B: $(desc "$B")"
  [ $same_machine = yes ] || echo "# note: A and B ran on different machines (CPU model or CPU count): differences are not a change in parlab alone"
  cat "$report"
fi

# Plots: per workload, both runs' speedups on the same axes (A dashed, B solid).
machine="A: $(basename "$A")   B: $(basename "$B")"
for wl in $(csv_awk 'get("sweep") == "cores" && !s[get("workload")]++ { print get("workload") }' "$out/diff.csv"); do
  runners=$(csv_awk -v wl="$wl" 'get("sweep") == "cores" && get("workload") == wl && !s[get("runner")]++ { printf "%s ", get("runner") }' "$out/diff.csv")
  nproc=$(csv_awk -v wl="$wl" 'get("sweep") == "cores" && get("workload") == wl && get("value") + 0 > k { k = get("value") + 0 } END { print k + 0 }' "$out/diff.csv")
  gnuplot -c "$here/diff.gp" "$out/diff.csv" "$wl" "$out/plots/$wl-speedup" "$machine" "$nproc" "${runners% }" \
    2>> "$out/plots.log" || fail "plotting $wl failed: see $out/plots.log" 70
done

# The page: the same report, the plots inline as images.
{
  echo "<!doctype html><html lang=en><head><meta charset=utf-8><title>parlab diff</title>"
  echo "<style>body{font:15px/1.45 \"DejaVu Sans\",sans-serif;max-width:1180px;margin:1.5em auto;padding:0 1em}pre{background:#f6f6f6;padding:.7em;overflow-x:auto;font-size:.8em}img{max-width:100%}</style></head><body>"
  echo "<h1>parlab: run B against run A</h1><ul><li>A: $(desc "$A" | sed 's/&/\&amp;/g; s/</\&lt;/g')</li><li>B: $(desc "$B" | sed 's/&/\&amp;/g; s/</\&lt;/g')</li></ul>"
  [ $same_machine = yes ] || echo "<p><b>A and B ran on different machines</b>: differences are not a change in parlab alone.</p>"
  echo "<p>Each point's times in B against A: a Mann&ndash;Whitney U test and the 95% bootstrap interval of mean(B)/mean(A) over the runs. <b>~</b>: not significant (p &ge; 0.05) or within &plusmn;${threshold}%; <b>slower</b>/<b>faster</b>: significant and beyond it; <b>?</b>: inconclusive (fewer than 4 runs a side, an interval across the threshold, or a change on a busy machine). Files: <a href=\"diff.csv\">diff.csv</a>.</p>"
  echo "<pre>"
  sed 's/&/\&amp;/g; s/</\&lt;/g' "$report"
  echo "</pre>"
  for p in "$out"/plots/*.png; do [ -e "$p" ] && echo "<figure><img src=\"plots/$(basename "$p")\" alt=\"$(basename "$p" .png)\"></figure>"; done
  echo "</body></html>"
} > "$out/index.html"
echo "# written: $out/index.html (file://$out/index.html), $out/diff.csv" >&2
# B's own report lists its folder: render it again, so that it names and links the new diff.
[ -s "$B/bench.conf" ] && { "$here/report.sh" "$B" > /dev/null 2>&1 || echo "# $B/index.html could not be rendered again: it does not list $out yet" >&2; }
exit $rc
