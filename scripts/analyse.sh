#!/usr/bin/env bash
# analyse.sh: from a run folder's tidy CSVs, the numbers the plots and the report read
# (scripts/analyse.py, with verdict.py's formulas):
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
py=${PYTHON:-/usr/bin/python3}
"$py" "$here/analyse.py" karpflatt --scaling "$scaling" "$run/cores.csv" > "$run/karpflatt.csv"
"$here/fit.sh" amdahl "$run/cores.csv" "$scaling" > "$run/amdahl.csv"
inputs=("$run/cores.csv")
[ -s "$run/workers.csv" ] && inputs+=("$run/workers.csv")
[ -s "$run/hyperfine-warnings.csv" ] && inputs+=("$run/hyperfine-warnings.csv")
"$py" "$here/analyse.py" flags --nproc "$(conf nproc)" --scaling "$scaling" --noise "$run/noise.csv" \
    "${inputs[@]}" > "$run/flags.csv"
# summary.csv: speedup at the largest core count measured (all cores in a default run), per
# workload and runner, with its flag and the workload's noise (the control's drift delta):
# what the end of bench.sh and the top of the report show.
"$py" "$here/analyse.py" summary "$run/noise.csv" "$run/flags.csv" "$run/cores.csv" > "$run/summary.csv"
# The verdicts: every point's speedup with its 95% interval from the raw samples (points.csv),
# the key findings and the flags as pass, fail or inconclusive with the reason (findings.csv,
# findings.txt, three columns added to summary.csv), and the run's trust line (trust.txt).
"$py" "$here/verdict.py" bench "$run"
