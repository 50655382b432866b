#!/usr/bin/env bash
# fit.sh: fit a scaling law to each runner's sweep, by least squares with a standard error
# (gnuplot's fit, scripts/fit.gp), and write one CSV row per workload and runner:
#   workload,runner,serial_fraction,serial_fraction_err,points,note
# usage: scripts/fit.sh amdahl CORES_CSV "RUNNERS MEANT TO SCALE" > amdahl.csv
#        scripts/fit.sh gustafson WEAK_CSV > gustafson.csv
#   amdahl: S(K) = 1 / (e + (1 - e)/K) through the core sweep's speedups (tidy rows with
#     param "cores": value, speedup, speedup_err), for the runners meant to scale;
#   gustafson: S(K) = K - e (K - 1) through the weak sweep's scaled speedups (cores,
#     scaled_speedup, scaled_speedup_err), for every runner it swept.
# Each law has one parameter, e; a fit needs at least one point more than that beyond K = 1,
# where both laws give 1 whatever e is: at least three core counts. With two, one curve
# passes through any point and says nothing. serial_fraction is empty otherwise, and note
# says why. points is the number of distinct core counts measured. Columns are read by name.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: scripts/fit.sh amdahl CORES_CSV SCALING | scripts/fit.sh gustafson WEAK_CSV" >&2; exit 64; }
law=${1:-}
case $law in
  amdahl)    [ $# -ge 2 ] || usage; csv=$2; scaling=${3:-}; x=value y=speedup dy=speedup_err sel=cores ;;
  gustafson) [ $# -eq 2 ] || usage; csv=$2; scaling=; x=cores y=scaled_speedup dy=scaled_speedup_err sel= ;;
  *) usage ;;
esac
[ -r "$csv" ] || { echo "fit: $csv: cannot read it" >&2; exit 74; }
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# rows: the workload and runner of each point the law applies to
rows() {
  awk -F, -v sel="$sel" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    sel == "" || $c["param"] == sel { print $c["workload"], $c["runner"] }' "$csv"
}

echo "workload,runner,serial_fraction,serial_fraction_err,points,note"
rows | awk '!seen[$0]++' |
while read -r wl r; do
  awk -F, -v wl="$wl" -v r="$r" -v sel="$sel" -v x="$x" -v y="$y" -v dy="$dy" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["workload"] == wl && $c["runner"] == r && (sel == "" || $c["param"] == sel) && $c[y] != "" {
      d = $c[dy] + 0; if (d < 0.001 * $c[y]) d = 0.001 * $c[y]
      print $c[x], $c[y], d }' "$csv" > "$tmp"
  points=$(awk '{ k[$1] } END { print length(k) }' "$tmp")
  if [ "$law" = amdahl ] && [[ " $scaling " != *" $r "* ]]; then
    echo "$wl,$r,,,$points,not fitted: not meant to scale"
  elif [ "$points" -lt 3 ]; then
    echo "$wl,$r,,,$points,not enough points: needs ≥ 3 core counts"
  elif fit=$(gnuplot -c "$here/fit.gp" "$law" "$tmp" 2>/dev/null) && [ -n "$fit" ]; then
    read -r e err _ <<< "$fit"
    echo "$wl,$r,$(printf '%.4f,%.4f' "$e" "$err"),$points,"
  else
    echo "$wl,$r,,,$points,fit failed"
  fi
done
