#!/usr/bin/env bash
# analyse.sh: from a run folder's tidy CSVs, the numbers the plots and the report read:
#   karpflatt.csv  Karp-Flatt e of each point on K > 1 cores (runners meant to scale)
#   amdahl.csv     the least-squares Amdahl fit per runner, or why there is none
#   flags.csv      points outside the noise band, within it, and hyperfine's warnings
#   noise.csv      per workload, the seq control's drift that sets the band
#   points.csv, findings.csv, findings.txt, trust.txt   the verdicts (scripts/verdict.py bench)
# usage: scripts/analyse.sh RUN_DIR      (scripts/bench.sh calls it; make plots reruns it)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=${1:?usage: scripts/analyse.sh RUN_DIR}
. "$here/rundir.sh" analyse
scaling=$(scaling)
[ -s "$run/cores.csv" ] || exit 0
awk -f "$here/stats.awk" -f "$here/karpflatt.awk" -v scaling="$scaling" "$run/cores.csv" > "$run/karpflatt.csv"
"$here/fit.sh" amdahl "$run/cores.csv" "$scaling" > "$run/amdahl.csv"
inputs=("$run/cores.csv")
[ -s "$run/workers.csv" ] && inputs+=("$run/workers.csv")
[ -s "$run/hyperfine-warnings.csv" ] && inputs+=("$run/hyperfine-warnings.csv")
awk -F, -f "$here/stats.awk" -f "$here/flags.awk" -v nproc="$(conf nproc)" -v scaling="$scaling" \
    -v noise="$run/noise.csv" "${inputs[@]}" > "$run/flags.csv"
# summary.csv: speedup at the largest core count measured (all cores in a default run), per
# workload and runner, with its flag and the workload's noise (the control's drift delta):
# what the end of bench.sh and the top of the report show.
awk -F, 'FILENAME ~ /noise/ { if (FNR > 1) delta[$1] = $2; next }
  FILENAME ~ /flags/ { if (FNR > 1 && $1 == "cores" && $5 != "note") { k = $2 "," $3 "," $4; if (mark[k] != "flag") mark[k] = $5 }; next }
  FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
  $c["param"] == "cores" {
    w = $1; v = $c["value"] + 0
    if (!(w in K) || v > K[w]) K[w] = v
    if (!(w in seenw)) { seenw[w] = 1; ws[++nw] = w }
    row[w, $2, v] = $c["speedup"] "," $c["speedup_err"]
    if (!((w, $2) in seenr)) { seenr[w, $2] = 1; rs[w, ++nr[w]] = $2 }
  }
  END {
    print "workload,runner,cores,speedup,speedup_err,flag,noise"
    for (i = 1; i <= nw; i++) { w = ws[i]
      for (j = 1; j <= nr[w]; j++) { r = rs[w, j]
        if ((w, r, K[w]) in row) printf "%s,%s,%d,%s,%s,%s\n", w, r, K[w], row[w, r, K[w]], mark[w "," r "," K[w]], delta[w] } }
  }' "$run/noise.csv" "$run/flags.csv" "$run/cores.csv" > "$run/summary.csv"
# The verdicts: every point's speedup with its 95% interval from the raw samples (points.csv),
# the key findings and the flags as pass, fail or inconclusive with the reason (findings.csv,
# findings.txt, three columns added to summary.csv), and the run's trust line (trust.txt).
"${PYTHON:-/usr/bin/python3}" "$here/verdict.py" bench "$run"
