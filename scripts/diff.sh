#!/usr/bin/env bash
# diff.sh: compare two bench runs point by point: times and speedups side by side, the change,
# and whether it is beyond the noise of both runs; the speedups of both on the same axes.
# usage: scripts/diff.sh [A [B]]      (make diff [A=RUN] [B=RUN])
#   A: the run to compare against (default: the results/reference/ run of a machine like B's,
#      else the first one there); B: the run to judge (default: results/latest).
# Writes B/diff-<A's name>/ (diff.csv, index.html, plots/) and prints the core sweep as a table.
set -uo pipefail
export LC_ALL=C
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
fail() { echo "diff: $*" >&2; exit "${2:-1}"; }
case ${1:-} in -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;; esac
[ $# -le 2 ] || fail "too many arguments (scripts/diff.sh --help)" 64
for t in jq gnuplot awk; do command -v "$t" > /dev/null || fail "missing $t: run scripts/deps.sh bench"; done

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
mkdir -p "$out/plots" || fail "cannot create $out"

files_a=() files_b=()
for s in cores workers concurrency; do
  [ -s "$A/$s.csv" ] && [ -s "$B/$s.csv" ] && { files_a+=("$A/$s.csv"); files_b+=("$B/$s.csv"); }
done
awk -F, -f "$here/stats.awk" -f "$here/diff.awk" -v na=${#files_a[@]} "${files_a[@]}" "${files_b[@]}" > "$out/diff.csv" ||
  fail "scripts/diff.awk failed"

m() { jq -r --arg k "$2" '.[$k] // "?" | tostring' "$1/machine.json"; }
desc() { printf '%s (%s, %s CPUs, %s, commit %.12s)' "$(basename "$1")" "$(m "$1" cpu_model)" "$(m "$1" nproc)" "$(m "$1" date)" "$(m "$1" git_commit)"; }
same_machine=yes
[ "$(m "$A" cpu_model) $(m "$A" nproc)" = "$(m "$B" cpu_model) $(m "$B" nproc)" ] || same_machine=no

# The terminal: the core sweep, one row per point; * marks a change beyond both runs' noise.
echo "# A: $(desc "$A")"
echo "# B: $(desc "$B")"
[ $same_machine = yes ] || echo "# note: A and B ran on different machines (CPU model or CPU count): differences are not a change in parlab alone"
awk -F, 'NR == 1 || $1 != "cores" { next }
  !h++ { printf "  %-11s %-7s %2s  %-20s %-20s %8s   %-13s %-13s %s\n", "workload", "runner", "K", "time A (s)", "time B (s)", "change", "speedup A", "speedup B", "change" }
  { printf "  %-11s %-7s %2s  %-20s %-20s %7s%%%s  %-13s %-13s %s%s\n", $2, $3, $4,
      sprintf("%.4f ± %.4f", $7, $8), sprintf("%.4f ± %.4f", $9, $10), $11, $12 == "yes" ? "*" : $12 == "no" ? " " : "?",
      sprintf("%.2f ± %.2f", $13, $14), sprintf("%.2f ± %.2f", $15, $16), $17, $18 == "yes" ? " *" : "" }' "$out/diff.csv"
awk -F, 'NR > 1 { n++; t += $12 == "yes"; s += $18 == "yes"; d += $12 == "sizes differ" }
  END { printf "# %d point(s) in both runs: %d time(s) and %d speedup(s) changed beyond both runs'"'"' noise (*)%s\n", n, t, s,
          d ? sprintf("; %d point(s) ran at different sizes (?): their times do not compare", d) : "" }' "$out/diff.csv"

# Plots: per workload, both runs' speedups on the same axes (A dashed, B solid).
machine="A: $(basename "$A")   B: $(basename "$B")"
for wl in $(awk -F, 'NR > 1 && $1 == "cores" && !s[$2]++ { print $2 }' "$out/diff.csv"); do
  runners=$(awk -F, -v wl="$wl" 'NR > 1 && $1 == "cores" && $2 == wl && !s[$3]++ { printf "%s ", $3 }' "$out/diff.csv")
  nproc=$(awk -F, -v wl="$wl" 'NR > 1 && $1 == "cores" && $2 == wl && $4 > k { k = $4 } END { print k + 0 }' "$out/diff.csv")
  gnuplot -c "$here/diff.gp" "$out/diff.csv" "$wl" "$out/plots/$wl-speedup" "$machine" "$nproc" "${runners% }" \
    2>> "$out/plots.log" || fail "plotting $wl failed: see $out/plots.log"
done

# The page: the same table per sweep, the plots inline as images.
{
  echo "<!doctype html><html lang=en><head><meta charset=utf-8><title>parlab diff</title>"
  echo "<style>body{font:15px/1.45 \"DejaVu Sans\",sans-serif;max-width:1080px;margin:1.5em auto;padding:0 1em}table{border-collapse:collapse;font-size:.9em}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}td:nth-child(-n+3){text-align:left}.yes{background:#fde2e1;font-weight:bold}img{max-width:100%}</style></head><body>"
  echo "<h1>parlab: run B against run A</h1><ul><li>A: $(desc "$A" | sed 's/&/\&amp;/g; s/</\&lt;/g')</li><li>B: $(desc "$B" | sed 's/&/\&amp;/g; s/</\&lt;/g')</li></ul>"
  [ $same_machine = yes ] || echo "<p><b>A and B ran on different machines</b>: differences are not a change in parlab alone.</p>"
  echo "<p>A change is <b>beyond noise</b> when it exceeds twice the two runs' errors added in quadrature, |B &minus; A| &gt; 2&radic;(&sigma;<sub>A</sub>&sup2; + &sigma;<sub>B</sub>&sup2;), and, relative to A, the larger drift of the two runs' seq controls for that workload (&delta;, as in each run's report). Files: <a href=\"diff.csv\">diff.csv</a>.</p>"
  for p in "$out"/plots/*.png; do [ -e "$p" ] && echo "<figure><img src=\"plots/$(basename "$p")\" alt=\"$(basename "$p" .png)\"></figure>"; done
  awk -F, 'NR == 1 { next }
    $1 != s { if (s != "") print "</table>"; s = $1; printf "<h2>%s sweep</h2><table><tr><th>workload</th><th>runner</th><th>%s</th><th>time A (s)</th><th>time B (s)</th><th>change</th><th>speedup A</th><th>speedup B</th><th>change</th></tr>\n", s, s }
    { printf "<tr><td>%s</td><td>%s</td><td>%s</td><td>%.4f &plusmn; %.4f</td><td>%.4f &plusmn; %.4f</td><td class=\"%s\">%s%%%s</td><td>%.2f &plusmn; %.2f</td><td>%.2f &plusmn; %.2f</td><td class=\"%s\">%s</td></tr>\n",
        $2, $3, $4, $7, $8, $9, $10, $12, $11, $12 == "sizes differ" ? " (sizes differ)" : "", $13, $14, $15, $16, $18, $17 }
    END { if (s != "") print "</table>" }' "$out/diff.csv"
  echo "</body></html>"
} > "$out/index.html"
echo "# written: $out/index.html (file://$out/index.html), $out/diff.csv"
