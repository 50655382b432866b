#!/usr/bin/env bash
# weak-plot.sh: the weak sweep's fits and plots from RUN_DIR/weak.csv: Gustafson's law fitted
# per runner (scripts/fit.sh gustafson, into RUN_DIR/gustafson.csv: only with ≥ 3 core
# counts, or why not) and plots/weak-WORKLOAD.{png,svg} (scripts/weak.gp), one per workload.
# usage: scripts/weak-plot.sh RUN_DIR    (scripts/sweep-weak.sh and scripts/plots.sh call it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=${1:?usage: scripts/weak-plot.sh RUN_DIR}
csv=$run/weak.csv
[ -s "$csv" ] || { echo "weak-plot: $csv is missing or empty" >&2; exit 64; }
nproc=$(awk -F= '$1 == "nproc" { print $2; exit }' "$run/bench.conf" 2>/dev/null || true)
nproc=${nproc:-$(nproc)}
machine="$(hostname), $nproc CPUs"
[ -s "$run/machine.json" ] &&
  machine=$(jq -r '"\(.host): \(.cpu_model), \(.nproc) CPUs (allowed: \(.cpus_allowed)), SMT \(.smt), \(.kernel)"' "$run/machine.json")
mkdir -p "$run/plots"
"$here/fit.sh" gustafson "$csv" > "$run/gustafson.csv"
# the distinct values of a column, in order, for one workload (all rows where WL is "")
distinct() {
  awk -F, -v col="$1" -v wl="$2" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    (wl == "" || $c["workload"] == wl) && !seen[$c[col]]++ { printf "%s%s", sep, $c[col]; sep = " " }' "$3"
}
for w in $(distinct workload "" "$csv"); do
  fits=$(awk -F, -v wl="$w" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["workload"] == wl && $c["serial_fraction"] != "" { printf "%s%s:%s:%s", sep, $c["runner"], $c["serial_fraction"], $c["serial_fraction_err"]; sep = " " }' \
    "$run/gustafson.csv")
  # why the others have none, short enough for the key: "no Gustafson fit: 2 core counts,
  # needs ≥ 3" when no runner has one, else grouped by the reason, "thread: no fit (...)"
  nofit=$(awk -F, -v wl="$w" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["workload"] == wl && $c["serial_fraction"] != "" { fitted++ }
    $c["workload"] == wl && $c["serial_fraction"] == "" {
      why = $c["note"] ~ /^not enough points/ ? $c["points"] " core count" ($c["points"] == 1 ? "" : "s") ", needs ≥ 3" : $c["note"]
      if (!(why in who)) order[++n] = why
      who[why] = who[why] (who[why] == "" ? "" : ", ") $c["runner"] }
    END { if (!fitted && n == 1) { printf "no Gustafson fit: %s", order[1]; exit }
          for (i = 1; i <= n; i++) printf "%s%s: no fit (%s)", (i > 1 ? "; " : ""), who[order[i]], order[i] }' "$run/gustafson.csv")
  gnuplot -c "$here/weak.gp" "$csv" "$w" "$run/plots/weak-$w" "$machine" "$nproc" "$(distinct runner "$w" "$csv")" "$fits" "$nofit" ||
    { echo "weak-plot: gnuplot scripts/weak.gp failed for $w" >&2; exit 70; }
done
