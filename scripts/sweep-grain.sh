#!/usr/bin/env bash
# sweep-grain.sh: when does each runner pay off, as one number. Every runner (and Python's
# Pool.map at chunksize 1, ProcessPoolExecutor, ThreadPoolExecutor and asyncio) runs spin
# tasks of a set duration, the grain, from 10 ns to 10 ms in half-decade steps, with
# W = the CPUs. Efficiency is the work done over what the CPUs could do in the wall time,
# against the peak rate (docs/decisions.md, "METG"); METG(50%) is the smallest grain at
# which a runner still reaches 50% (scripts/metg.py), as Task Bench defines it.
#
# usage: scripts/sweep-grain.sh RUN_DIR [tiny|quick|default|full]   (scripts/bench.sh calls it)
# writes RUN_DIR/grain-rows.csv (one row per timed run, with the CPU other processes used), RUN_DIR/grain.csv (efficiency per
# point, median with min … max of the repeats), RUN_DIR/grain-metg.csv (METG(50%) and
# METG(90%) per runner with bootstrap intervals), RUN_DIR/grain-findings.txt and
# RUN_DIR/plots/grain-efficiency.{png,svg}
# environment: PARLAB (default bin/parlab), PYTHON (default /usr/bin/python3),
#              PARLAB_SWEEP_PYTHON=0 leaves Python out
# A line per point on stderr (scripts/progress.sh): "[i/N elapsed, ~left]", the point, and
# its median wall time with the repeats' min … max.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/progress.sh"
run=${1:?usage: scripts/sweep-grain.sh RUN_DIR [tiny|quick|default|full]}
mode=${2:-default}
die() { progress_break; echo "sweep-grain: $*" >&2; exit 1; }
. "$here/leftout.sh"
. "$here/csv.sh"
PARLAB=${PARLAB:-$root/bin/parlab}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PARLAB" ] || die "$PARLAB is not an executable: run make first"
[ -d "$run" ] || die "$run is not a folder"

# budget: seconds of task work per point (W CPUs' worth), so that a point costs about the
# same at every grain; grains: the half-decade steps from 10 ns to 10 ms (below the issue's
# 100 ns: the C runners reach 50% there, and their METG is read, not bounded).
grains="10 32 100 316 1000 3162 10000 31623 100000 316228 1000000 3162278 10000000"
case $mode in
  tiny)    budget=0.004 repeat=1 grains="100000" ;;   # the plumbing: one point a series
  quick)   budget=0.06 repeat=3 ;;
  full)    budget=0.4 repeat=5 ;;
  default) budget=0.1 repeat=3 ;;
  *) die "mode $mode: tiny, quick, default or full" ;;
esac
cores=$(nproc)
max_tasks=1000000

# Every runner but seq, as parlab list names them; tiny runs, which check the script, leave
# out the external ones (mpi: a world to start) unless PARLAB_BENCH_RUNNERS names them.
runners=$("$PARLAB" list --format csv | csv_awk -v tiny="$([ "$mode" = tiny ] && echo 1)" -v want=" ${PARLAB_BENCH_RUNNERS:-} " '
  get("type") == "runner" && get("name") != "seq" &&
  !(tiny && get("flags") ~ /(^| )external( |$)/ && index(want, " " get("name") " ") == 0) { print get("name") }')
rows=$run/grain-rows.csv
: > "$rows"

# mpi with its ranks already started: a world for the sweep, stopped on the way out.
world_started=
cleanup() { [ -n "$world_started" ] && "$PARLAB" world stop "$world_started" > /dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP   # through the EXIT trap: the world is stopped
if printf '%s\n' $runners | grep -qx mpi; then
  if line=$("$PARLAB" world start -j "$cores" --idle 600 2> "$run/grain-world.err"); then
    eval "$line"
    world_started=$PARLAB_MPI_WORLD
    rm -f "$run/grain-world.err"
  else
    echo "sweep-grain: mpi left out: parlab world start failed: $(tail -n 1 "$run/grain-world.err")" >&2
    left_out "$run" "mpi runner in the grain sweep" "parlab world start failed: $(tail -n 1 "$run/grain-world.err")"
    runners=$(printf '%s\n' $runners | grep -vx mpi)
  fi
fi

# One point: T tasks of grain G under LABEL, --repeat R rows into grain-rows.csv. Prints
# the median, min and max wall time. (run_grain=NS: the tasks run at NS ns, the rows still
# say G: the speed runs.)
point() {  # point LABEL G T COMMAND...
  local label=$1 g=$2 t=$3 out
  shift 3
  out=$("$@" -n "$t" --grain "${run_grain:-$((g > 0 ? g : 100))}" --repeat "$repeat" --format csv 2> "$run/grain-$label-$g.err") ||
    die "'$* -n $t --grain $g' failed: $(tail -n 3 "$run/grain-$label-$g.err" | tr '\n' ' ')"
  rm -f "$run/grain-$label-$g.err"
  printf '%s\n' "$out" | csv_awk -v OFS=, -v r="$label" -v g="$g" -v hdr="$([ -s "$rows" ] && echo 1)" '
    BEGIN { if (!hdr) print "series,grain_ns,rep,tasks,workers,wall_s,verified,other_cpu" }
    { print r, g, ++k, get("tasks"), get("workers"), get("wall_s"), get("verified"), get("other_cpu") }' >> "$rows"
  printf '%s\n' "$out" | "$PYTHON" "$here/analyse.py" spread wall_s | tr , ' '
}

# First each series' start: W tasks of 100 ns, the cost of starting and stopping its
# workers (a Python pool: tens of ms), recorded as grain 0 and taken out of every point's
# wall time by scripts/metg.py. Then the grains, largest first, and at each grain every
# series in turn: points that are compared are measured minutes apart at most, not a
# whole sweep apart (a VM's cores slow down and speed up with its host's load, which no
# meter here sees). The task count for a series' next point comes from the cost a task had
# at its last point beyond its grain (the runner's own cost), so that every point takes
# about `budget` seconds of W CPUs, however dear a task is to start.
declare -A cmd_of start_of over_of prev_of
labels=()
add_series() {  # add_series LABEL COMMAND...
  local label=$1
  shift
  labels+=("$label")
  cmd_of[$label]=$(printf '%q ' "$@")
  over_of[$label]=0 prev_of[$label]=0
}
series_start() {  # series_start LABEL
  local label=$1 wall lo hi
  local -a cmd
  eval "cmd=(${cmd_of[$label]})"
  progress_start "grain: $label start ($cores tasks of 100 ns)"
  wall=$(point "$label" 0 "$cores" "${cmd[@]}")
  read -r wall lo hi <<< "$wall"
  start_of[$label]=$wall
  progress_end "$(printf '%.4f s (%.4f … %.4f)' "$wall" "$lo" "$hi")"
}
series_point() {  # series_point LABEL GRAIN
  local label=$1 g=$2 t wall lo hi
  local -a cmd
  eval "cmd=(${cmd_of[$label]})"
  # Between the last point's T and 3.17 times it (the step between grains): a task does
  # not get dearer as the grain shrinks, and one disturbed point must not throw the next
  # far off either way.
  t=$(awk -v b="$budget" -v w="$cores" -v g="$g" -v o="${over_of[$label]}" -v m="$max_tasks" -v p="${prev_of[$label]}" \
        'BEGIN { t = int(b * 1e9 * w / (g + o))
                 if (p > 0 && t < p) t = p; if (p > 0 && t > 3.17 * p) t = int(3.17 * p)
                 if (t < 2 * w) t = 2 * w; if (t > m) t = m; print t }')
  progress_start "grain: $label $g ns T=$t"
  wall=$(point "$label" "$g" "$t" "${cmd[@]}")
  read -r wall lo hi <<< "$wall"
  over_of[$label]=$(awk -v s="$wall" -v f="${start_of[$label]}" -v w="$cores" -v t="$t" -v g="$g" \
           'BEGIN { o = (s - f) * 1e9 * w / t - g; print (o > 0 ? o : 0) }')
  prev_of[$label]=$t
  progress_end "$(printf '%.4f s (%.4f … %.4f), %.0f ns a task beyond its grain' "$wall" "$lo" "$hi" "${over_of[$label]}")"
}

peers=""
if python_peers; then
  peers="py-pool-map1 py-ppe py-tpe py-asyncio"
  [ "$mode" = tiny ] && peers=py-pool-map1   # the plumbing: one peer is enough
fi
for r in $runners; do
  extra=()
  [ "$r" = epoll ] && extra=(--loops "$cores")   # one loop per CPU: W = cores for it too
  add_series "$r" "$PARLAB" run -w spin -r "$r" -j "$cores" "${extra[@]}"
done
if [ -n "$peers" ]; then
  for m in $peers; do
    add_series "$m" "$PYTHON" "$root/peers/python/parlab_py.py" run -w spin -r "$m" -j "$cores"
  done
else
  echo "sweep-grain: the Python peers left out ($peers_why)" >&2
  left_out "$run" "Python's peers" "$peers_why"
fi
# Each grain opens with the "speed" point: omp (or thread) on W CPUs, tasks of 100 µs, about
# `budget` seconds, the same work at every grain. This VM's cores ran the same chain at 0.6
# of their speed for tens of seconds at a time, unseen by any meter: every series at one
# grain then read about 0.5 efficiency against a peak measured in a fast spell, and moved
# thread's METG(50%) from about 20 ns to 109 ns. metg.py scales each grain's runs by it.
speed_runner=$(printf '%s\n' $runners | grep -x -m 1 -e omp -e thread || true)
speed_tasks=$(awk -v b="$budget" -v w="$cores" 'BEGIN { t = int(b * 1e9 * w / 100000); print (t < 2 * w ? 2 * w : t) }')
# Every series' start, then one point a series at each grain.
progress_begin $(( ${#labels[@]} * ($(printf '%s\n' $grains | grep -c .) + 1) ))
for l in "${labels[@]}"; do series_start "$l"; done
for g in $(printf '%s\n' $grains | sort -rn); do
  [ -z "$speed_runner" ] || run_grain=100000 point speed "$g" "$speed_tasks" "$PARLAB" run -w spin -r "$speed_runner" -j "$cores" > /dev/null
  for l in "${labels[@]}"; do series_point "$l" "$g"; done
done
csv_awk 'get("verified") != "yes" { print "sweep-grain: " get("series") " at " get("grain_ns") " ns: result not verified" > "/dev/stderr"; bad = 1 }
         END { exit bad }' "$rows" || die "a spin result was not verified"

"$PYTHON" "$here/metg.py" "$rows" "$run/grain.csv" "$run/grain-metg.csv" "$cores" > "$run/grain-findings.txt" ||
  die "scripts/metg.py failed"
cat "$run/grain-findings.txt"

mkdir -p "$run/plots"
machine="$(uname -n): $(nproc) CPUs, $(uname -r)"
[ -s "$run/machine.json" ] &&
  machine=$(jq -r '"\(.host): \(.cpu_model)"' "$run/machine.json")", $(nproc) CPUs"
names=$(csv_awk '!seen[get("series")]++ { printf "%s%s", s, get("series"); s = " " }' "$run/grain.csv")
gnuplot -c "$here/grain.gp" "$run/grain.csv" "$run/plots/grain-efficiency" "$machine" "$names"
