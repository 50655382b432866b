#!/usr/bin/env bash
# sweep-tasks.sh: what one task costs as the task count grows. Every runner runs
# T = 10^2 ... 10^7 noop tasks (and Python's Pool.map with chunksize 1, where python3 can
# run peers/python); the per-task cost wall_s / T against T on log axes shows where each
# model's fixed costs (starting workers, the pool, the loop) stop mattering, down to the
# floor of a claim counter: one contended atomic fetch_add, drawn as a line.
#
# usage: scripts/sweep-tasks.sh RUN_DIR [tiny|quick|default|full]   (scripts/bench.sh calls it)
# writes RUN_DIR/tasks.csv, RUN_DIR/tasks-rows.csv (parlab's own rows), RUN_DIR/tasks-floor.csv
# RUN_DIR/tasks-waits.csv (many concurrent 100 ms waits on one epoll loop under ulimit -n 1024:
# a million in the default and full modes, 10^5 in quick, 10^3 in tiny) and RUN_DIR/plots/tasks-per-task.{png,svg}
# environment: PARLAB (default bin/parlab), PYTHON (default /usr/bin/python3),
#              PARLAB_SWEEP_PYTHON=0 leaves Python out
# A line per point on stderr (scripts/progress.sh): "[i/N elapsed, ~left]", the point, and
# the median cost of a task with the repeats' min … max.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/progress.sh"
run=${1:?usage: scripts/sweep-tasks.sh RUN_DIR [tiny|quick|default|full]}
mode=${2:-default}
die() { progress_break; echo "sweep-tasks: $*" >&2; exit 1; }
. "$here/leftout.sh"
. "$here/csv.sh"
PARLAB=${PARLAB:-$root/bin/parlab}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PARLAB" ] || die "$PARLAB is not an executable: run make first"
[ -d "$run" ] || die "$run is not a folder"

# Largest exponent per runner, and repeats. process forks once per task, an external runner
# (mpi) hands every task out by message from rank 0 (about 300 ns a task: 10^7 tasks took
# 29 s at 3 repeats) and Python's Pool.map costs tens of microseconds a task: capped so that
# the sweep stays a few seconds a runner.
case $mode in
  tiny)    top=3 proc_top=2 ext_top=3 py_top=2 repeat=1 waits=1000 ;;
  quick)   top=6 proc_top=3 ext_top=5 py_top=4 repeat=3 waits=100000 ;;
  full)    top=7 proc_top=4 ext_top=7 py_top=5 repeat=5 waits=1000000 ;;
  default) top=7 proc_top=3 ext_top=6 py_top=5 repeat=3 waits=1000000 ;;
  *) die "mode $mode: tiny, quick, default or full" ;;
esac

runners=$("$PARLAB" list | awk '/^runners:/ { r = 1; next } /^[^ ]/ { r = 0 } r && NF { print $1 }')
external=" $("$PARLAB" list --format csv | csv_awk 'get("type") == "runner" && get("flags") ~ /(^| )external( |$)/ { printf "%s ", get("name") }')"
last_of() {  # last_of RUNNER: its largest exponent
  case $1 in process) echo "$proc_top" ;; *) case $external in *" $1 "*) echo "$ext_top" ;; *) echo "$top" ;; esac ;; esac
}
csv=$run/tasks.csv rows=$run/tasks-rows.csv
echo "runner,tasks,n,median_s,min_s,max_s,per_task_ns,per_task_min_ns,per_task_max_ns,max_rss_kb" > "$csv"
: > "$rows"

# Median, min and max of parlab's rows' wall_s, and the largest max_rss_kb (scripts/analyse.py).
summarize() { "$PYTHON" "$here/analyse.py" spread wall_s --max max_rss_kb; }

point() {  # point LABEL T COMMAND...
  local label=$1 t=$2 out stats med lo hi rss
  shift 2
  progress_start "tasks: $label T=$t"
  out=$("$@" --repeat "$repeat" --format csv 2> "$run/tasks-$label-$t.err") ||
    die "'$*' failed: $(tail -n 3 "$run/tasks-$label-$t.err" | tr '\n' ' ')"
  rm -f "$run/tasks-$label-$t.err"
  printf '%s\n' "$out" | awk -v r="$label" -v hdr="$([ -s "$rows" ] && echo 1)" \
    'NR == 1 { if (!hdr) print "series," $0; next } { print r "," $0 }' >> "$rows"
  stats=$(printf '%s\n' "$out" | summarize) || die "'$*': no rows"
  IFS=, read -r med lo hi rss <<< "$stats"
  awk -v OFS=, -v l="$label" -v t="$t" -v n="$repeat" -v m="$med" -v lo="$lo" -v hi="$hi" -v rss="$rss" \
    'BEGIN { print l, t, n, m, lo, hi, m / t * 1e9, lo / t * 1e9, hi / t * 1e9, rss }' >> "$csv"
  progress_end "$(csv_awk '{ x = sprintf("%.1f ns a task (%.1f … %.1f)", get("per_task_ns"), get("per_task_min_ns"), get("per_task_max_ns")) } END { print x }' "$csv")"
}

# The steps: every runner's task counts, Python's, the waits and (but in tiny) the floor.
py=0
python_peers && py=1
steps=1
for r in $runners; do steps=$((steps + $(last_of "$r") - 1)); done
[ "$py" = 0 ] || steps=$((steps + py_top - 1))
[ "$mode" = tiny ] || steps=$((steps + 1))
progress_begin "$steps"

for r in $runners; do
  last=$(last_of "$r")
  for ((e = 2; e <= last; e++)); do
    t=$((10 ** e))
    point "$r" "$t" "$PARLAB" run -w noop -r "$r" -n "$t"
  done
done
if [ "$py" = 1 ]; then
  for ((e = 2; e <= py_top; e++)); do
    t=$((10 ** e))
    point py-pool-map "$t" "$PYTHON" "$root/peers/python/parlab_py.py" run -w noop -r py-pool-map -n "$t" -c 1
  done
else
  echo "sweep-tasks: Python's Pool.map left out ($peers_why)" >&2
  left_out "$run" "Python's peers" "$peers_why"
fi

# Concurrent waits: every task a 100 ms timer on one event loop, with fewer fds than tasks.
progress_start "tasks: $waits concurrent 100 ms waits on one epoll loop"
out=$(ulimit -n 1024; "$PARLAB" run -w sleep -r epoll -n "$waits" --io-ms 100 --repeat "$repeat" --format csv 2> "$run/tasks-waits.err") ||
  die "$waits concurrent waits on one epoll loop failed: $(tail -n 3 "$run/tasks-waits.err" | tr '\n' ' ')"
rm -f "$run/tasks-waits.err"
{ echo "tasks,io_ms,n,median_s,min_s,max_s,max_rss_kb"
  printf '%s,100,%s,%s\n' "$waits" "$repeat" "$(printf '%s\n' "$out" | summarize)"; } > "$run/tasks-waits.csv"
progress_end "$(csv_awk '{ printf "%.4f s (%.4f … %.4f), %d KiB", get("median_s"), get("min_s"), get("max_s"), get("max_rss_kb"); exit }' "$run/tasks-waits.csv")"

# The floor: one fetch_add on a counter that every worker hits, as parlab overhead measures
# it (its --quick sizes: a few seconds). The tiny mode checks the plumbing only: no floor.
floor=0
if [ "$mode" != tiny ]; then
  progress_start "tasks: the floor, a contended atomic fetch_add (parlab overhead --quick)"
  "$PARLAB" overhead --quick --repeat "$((repeat < 3 ? 3 : repeat))" --format csv > "$run/tasks-overhead.csv" 2> "$run/tasks-overhead.err" ||
    die "parlab overhead failed: $(tail -n 3 "$run/tasks-overhead.err" | tr '\n' ' ')"
  csv_awk -v OFS=, 'BEGIN { print "what,median_ns,min_ns,max_ns" }
       get("what") ~ /atomic fetch_add contended/ { print get("what"), get("median"), get("min"), get("max"); found = 1 }
       END { exit !found }' "$run/tasks-overhead.csv" > "$run/tasks-floor.csv" ||
    die "no contended fetch_add row in parlab overhead's output"
  rm -f "$run/tasks-overhead.err"
  floor=$(csv_awk '{ print get("median_ns"); exit }' "$run/tasks-floor.csv")
  progress_end "$(csv_awk '{ printf "%.3g ns (%.3g … %.3g)", get("median_ns"), get("min_ns"), get("max_ns"); exit }' "$run/tasks-floor.csv")"
else
  echo "what,median_ns,min_ns,max_ns" > "$run/tasks-floor.csv"   # not measured at tiny sizes
fi

mkdir -p "$run/plots"
machine="$(uname -n): $(nproc) CPUs, $(uname -r)"
[ -s "$run/machine.json" ] &&
  machine=$(jq -r '"\(.host): \(.cpu_model)"' "$run/machine.json")", $(nproc) CPUs"
names=$(csv_awk '!seen[get("runner")]++ { printf "%s%s", s, get("runner"); s = " " }' "$csv")
gnuplot -c "$here/tasks.gp" "$csv" "$run/plots/tasks-per-task" "$machine" "$floor" "$names"
