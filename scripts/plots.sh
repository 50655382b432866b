#!/usr/bin/env bash
# plots.sh: draw every plot of one bench run folder (PNG and SVG side by side) from its CSVs.
# usage: scripts/plots.sh RUN_DIR       (scripts/bench.sh calls it; rerun it after editing a .gp)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
run=${1:?usage: scripts/plots.sh RUN_DIR}
. "$here/rundir.sh" plots
. "$here/csv.sh"

nproc=$(conf nproc)
machine="$(mjson host): $(mjson cpu_model), $nproc CPUs (allowed: $(mjson cpus_allowed)), SMT $(mjson smt), $(mjson kernel)"
mkdir -p "$run/plots"

# Distinct values of column COL in CSV where the workload is WL (or any, if WL is -).
distinct() {
  csv_awk -v c="$2" -v wl="$3" '(wl == "-" || get("workload") == wl) && !seen[get(c)]++ { printf "%s%s", sep, get(c); sep = " " }' "$1"
}

gp() { gnuplot -c "$@"; }
# flagged SWEEP WORKLOAD Y [RUNNERS]: a file of the flagged points of one plot (scripts/report.py
# flagged: the same points scripts/check-report.py looks for a ring at), or "" when none.
flagged() {
  local f="$tmp/flagged-$1-$2-$3.csv"
  "${PYTHON:-/usr/bin/python3}" "$here/report.py" flagged "$run" "$@" > "$f"
  [ "$(wc -l < "$f")" -gt 1 ] && echo "$f" || true
}

# The reference run drawn faintly behind the speedups: bench.conf's "reference" (a run folder
# of the same machine kind, chosen by bench.sh), when it has a cores.csv.
ref=$(conf reference)
case $ref in ""|/*) ;; *) ref="$run/$ref" ;; esac
[ -n "$ref" ] && [ -s "$ref/cores.csv" ] && ref="$ref/cores.csv" || ref=""
scaling_runners=" $(scaling) "
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ -s "$run/cores.csv" ]; then
  for wl in $(distinct "$run/cores.csv" workload -); do
    runners=$(distinct "$run/cores.csv" runner "$wl")
    fits=""
    [ -s "$run/amdahl.csv" ] &&
      fits=$(csv_awk -v wl="$wl" 'get("workload") == wl && get("serial_fraction") != "" { printf "%s%s:%s:%s", sep, get("runner"), get("serial_fraction"), get("serial_fraction_err"); sep = " " }' "$run/amdahl.csv")
    # Points flagged outside the noise band (flags.csv), "x,y,runner", for the plots to ring.
    flagged=$(flagged cores "$wl" speedup)
    gp "$here/speedup.gp" "$run/cores.csv" "$wl" "$run/plots/$wl-speedup" "$machine" "$nproc" "$runners" "$fits" "$flagged" "$ref"
    # Efficiency only for the runners meant to scale: seq and epoll would only flatten the rest.
    eff=$(for r in $runners; do case $scaling_runners in *" $r "*) printf '%s ' "$r" ;; esac; done)
    eff_flagged=$(flagged cores "$wl" efficiency "$eff")
    [ -n "$eff" ] &&
      gp "$here/efficiency.gp" "$run/cores.csv" "$wl" "$run/plots/$wl-efficiency" "$machine" "$nproc" "${eff% }" "$eff_flagged"
  done
fi
if [ -s "$run/workers.csv" ]; then
  for wl in $(distinct "$run/workers.csv" workload -); do
    gp "$here/workers.gp" "$run/workers.csv" "$wl" "$run/plots/$wl-workers" "$machine" "$nproc" \
       "$(distinct "$run/workers.csv" runner "$wl")" "$(flagged workers "$wl" speedup)"
  done
fi
if [ -s "$run/concurrency.csv" ]; then
  gp "$here/concurrency.gp" "$run/concurrency.csv" "$run/plots/sleep-concurrency" "$machine" \
     "$(conf sleep_tasks)" "$(conf sleep_io_ms)" "$(distinct "$run/concurrency.csv" runner sleep)" "$(flagged concurrency sleep mean_s)"
fi
[ -s "$run/weak.csv" ] && "$here/weak-plot.sh" "$run"
if [ -s "$run/trace-static.csv" ] && [ -s "$run/trace-dynamic.csv" ]; then
  # Both panels share one time axis and one colour scale, so they compare at a glance.
  read -r W xmax cbmax ms_st ms_dy < <(csv_awk '
      FILENAME != last { f++; last = FILENAME }
      { if (get("worker") + 1 > W) W = get("worker") + 1
        if (get("end_ns") / 1e6 > end[f]) end[f] = get("end_ns") / 1e6
        d = (get("end_ns") - get("start_ns")) / 1e6; if (d > cb) cb = d }
      END { x = end[1] > end[2] ? end[1] : end[2]; printf "%d %.3f %.3f %.3f %.3f\n", W, x, cb, end[1], end[2] }
    ' "$run/trace-static.csv" "$run/trace-dynamic.csv")
  tasks=$(awk 'END { print NR - 1 }' "$run/trace-static.csv")
  size=$(csv_awk '{ print get("size"); exit }' "$run/timeline-rows.csv" 2>/dev/null || echo "?")
  gp "$here/timeline.gp" "$run/trace-static.csv" "$run/trace-dynamic.csv" "$run/plots/timeline-primes" \
     "primes N=$size: $tasks tasks on $W threads (-r thread -j $W -t $tasks), static against dynamic" \
     "$machine" "$W $xmax $cbmax $ms_st $ms_dy"
fi
