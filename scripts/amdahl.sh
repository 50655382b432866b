#!/usr/bin/env bash
# amdahl.sh: fit Amdahl's law to each runner's core sweep, by least squares with a standard
# error (gnuplot's fit, scripts/amdahl.gp), and write one CSV row per workload and runner:
#   workload,runner,serial_fraction,serial_fraction_err,points,note
# usage: scripts/amdahl.sh CORES_CSV "RUNNERS MEANT TO SCALE" > amdahl.csv
# Only runners meant to scale are fitted, and only with at least three core counts: with two,
# one curve passes through any point and says nothing. serial_fraction is empty otherwise, and
# note says why. points is the number of distinct core counts measured.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
csv=${1:?usage: scripts/amdahl.sh CORES_CSV SCALING}
scaling=${2:-}
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

echo "workload,runner,serial_fraction,serial_fraction_err,points,note"
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  $c["param"] == "cores" && !seen[$1 "," $2]++ { print $1, $2 }' "$csv" |
while read -r wl r; do
  awk -F, -v wl="$wl" -v r="$r" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $1 == wl && $2 == r && $c["param"] == "cores" && $c["speedup"] != "" {
      dS = $c["speedup_err"] + 0; if (dS < 0.001 * $c["speedup"]) dS = 0.001 * $c["speedup"]
      print $c["value"], $c["speedup"], dS }' "$csv" > "$tmp"
  points=$(awk '{ k[$1] } END { print length(k) }' "$tmp")
  if [[ " $scaling " != *" $r "* ]]; then
    echo "$wl,$r,,,$points,not fitted: not meant to scale"
  elif [ "$points" -lt 3 ]; then
    echo "$wl,$r,,,$points,not enough points: needs ≥ 3 core counts"
  elif fit=$(gnuplot -c "$here/amdahl.gp" "$tmp" 2>/dev/null) && [ -n "$fit" ]; then
    read -r e err _ <<< "$fit"
    echo "$wl,$r,$(printf '%.4f,%.4f' "$e" "$err"),$points,"
  else
    echo "$wl,$r,,,$points,fit failed"
  fi
done
