#!/usr/bin/env bash
# bench.sh: sweep cores, workers and I/O concurrency with hyperfine, then write tidy CSVs,
# plots and an index.html into results/<date>-<host>/ and point results/latest at it.
#
# usage: scripts/bench.sh [--quick | --full]      (make bench [QUICK=1 | FULL=1])
# environment:
#   PARLAB                  the binary (default bin/parlab)
#   PARLAB_RESULTS          where run folders go (default results)
#   PARLAB_BENCH_TINY=1     tiny sizes and few runs: for the test suite, not for numbers
#   PARLAB_BENCH_WORKLOADS  CPU workloads to sweep (default: every cpu workload of parlab list)
#   PARLAB_BENCH_RUNNERS    runners (default: every runner of parlab list; seq is always kept;
#                           tiny runs leave external runners such as mpi out unless named)
#   PARLAB_BENCH_SLEEP=0    skip the sleep (I/O concurrency) sweep
#   PARLAB_BENCH_START      start methods of the fork runner's pool, e.g. "fork forkserver
#                           spawn" (default: fork); each but fork is swept as a runner of
#                           its own, fork-forkserver and fork-spawn (-r fork --start M)
#   PARLAB_BENCH_CORES      core counts to sweep, e.g. "1 2 4" (default 1..nproc)
#   PARLAB_BENCH_RETRIES    times a point disturbed by other processes is measured again
#                           (all re-timing together stays within a quarter of the time spent
#                           measuring; none while the machine stays busy)
#   REPEAT=N                timed runs per point instead of the mode's (quick 4, default 5)
#   WAIT_QUIET=SECONDS      wait up to SECONDS for other processes to go quiet before starting
#   PYTHON                  the interpreter with scipy for the verdicts (default /usr/bin/python3)
#   PARLAB_BENCH_REFERENCE  a run folder drawn faintly behind the speedups (default: the
#                           results/reference/ run of the same CPU model and count; none)
#
# At each core count K of the core sweep, every runner at K and seq on 1 core (the control)
# are timed in turns, one run of each a round, so that a change in load hits all of them;
# every run's time and the CPU other processes used meanwhile are kept in samples.csv (the
# control's runs with each point of its group), and each speedup comes with
# a 95% bootstrap interval (scripts/verdict.py). A trust line at the start and one at the end
# say how far the run can be trusted ("quiet: 0 of 202 points disturbed").
# The first line (what is swept) and the last (where the report is) name each part of the
# bench left out and why: a runner parlab cannot use here (mpi without mpirun or
# parlab-mpi), Python's peers (no interpreter that runs peers/python); one "PART (WHY)" a
# line in left-out.txt, each in warnings.txt too.
# After the sweep, scripts/analyse.sh flags noise and fits Amdahl, plots.sh and report.sh
# draw and write the report, and summary.sh prints the key findings.
# The run is built in results/<name>.partial and renamed when complete; only then does
# results/latest move, in one rename(2). A point that fails (wrong answer, crash, any
# non-zero exit) stops the sweep with its name; what was measured so far stays in .partial.
set -uo pipefail
export LC_ALL=C   # one decimal point for awk, printf and $EPOCHREALTIME
# The mpi points are runs that start their own ranks, once per command (their start is
# reported apart, start_s, and each point's times come from parlab's rows: measure_rows);
# a kept world (parlab world) would serve some core counts and refuse the others.
unset PARLAB_MPI_WORLD

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
. "$here/progress.sh"
PROGRESS_FD=1   # the sweep's lines go with the rest of the bench's story, on stdout
die() { progress_break; echo "bench: $*" >&2; exit 1; }
. "$here/leftout.sh"
. "$here/csv.sh"   # every CSV read by its header: csv_awk, csv_get

mode=default
for a in "$@"; do
  case $a in
    --quick) mode=quick ;;
    --full) mode=full ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench: unknown argument '$a' (scripts/bench.sh --help)" >&2; exit 64 ;;
  esac
done
[ -n "${QUICK:-}" ] && [ "${QUICK}" != 0 ] && mode=quick
[ -n "${FULL:-}" ] && [ "${FULL}" != 0 ] && mode=full
tiny=${PARLAB_BENCH_TINY:-0}
[ "$tiny" != 0 ] && mode=tiny
usage() { echo "bench: $*" >&2; exit 64; }
[ -z "${REPEAT:-}" ] || [[ $REPEAT =~ ^[0-9]+$ && $REPEAT -gt 0 ]] ||
  usage "REPEAT=$REPEAT: not a positive whole number of runs per point"
[ -z "${WAIT_QUIET:-}" ] || { [[ $WAIT_QUIET =~ ^[0-9]*\.?[0-9]+$ ]] && awk -v w="$WAIT_QUIET" 'BEGIN { exit !(w > 0) }'; } ||
  usage "WAIT_QUIET=$WAIT_QUIET: not a positive number of seconds"
PYTHON=${PYTHON:-/usr/bin/python3}

# Paths given relative to the caller's directory keep working after the cd below.
absolute() { case $1 in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
PARLAB=${PARLAB:-bin/parlab}
RESULTS=${PARLAB_RESULTS:-results}
if [ "$PWD" != "$root" ]; then
  case $PARLAB in */*) PARLAB=$(absolute "$PARLAB") ;; esac
  RESULTS=$(absolute "$RESULTS")
fi
cd "$root" || die "cannot enter $root"

# ---- tools -------------------------------------------------------------------------------
missing=()
for t in hyperfine gnuplot awk jq; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
"$PYTHON" -c 'import scipy' 2>/dev/null || missing+=("python3-scipy (for $PYTHON)")
[ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: run scripts/deps.sh bench (or make bench), or install them"
case $PARLAB in *' '*) die "PARLAB='$PARLAB': the path must not contain spaces (hyperfine -N splits on them)" ;; esac
[ -x "$PARLAB" ] || die "$PARLAB is not an executable: run make first"
# The registry says what exists and at which sizes (docs/cli.md: parlab list --format csv).
list=$("$PARLAB" list --format csv) || die "$PARLAB list --format csv failed"
# listed TYPE [AWK CONDITION]: the names of that type in the registry, where the condition holds.
listed() { printf '%s\n' "$list" | csv_awk -v t="$1" "get(\"type\") == t && (${2:-1}) { print get(\"name\") }"; }
have_runners=$(listed runner)
have_workloads=$(listed workload)
has() { grep -qx -- "$1" <<< "$2"; }   # no pipe: grep -q may exit before printf writes (SIGPIPE, and pipefail)
# Runners meant to scale: `parlab list --format csv` marks them with the flag "parallel".
# (A build without --format csv: every listed runner but seq, the baseline, and epoll, which
# runs CPU work on its one thread.) Only these get efficiency plots and Amdahl fits.
if lcsv=$("$PARLAB" list --format csv 2>/dev/null); then
  have_scaling=$(listed runner 'index(" " get("flags") " ", " parallel ")')
else
  have_scaling=$(printf '%s\n' "$have_runners" | grep -vx -e seq -e epoll)
fi

# Every runner of the registry with whether it can run here and why not (a build without
# --format json: none; only the usable runners of the CSV are known then).
listjson=$("$PARLAB" list --format json 2> /dev/null) || listjson=""
registry_runners=$(printf '%s\n' "$listjson" | jq -r '.rows[] | select(.type == "runner") | .name' 2> /dev/null)
[ -n "$registry_runners" ] || registry_runners=$have_runners
unusable_why() { printf '%s\n' "$listjson" | jq -r --arg r "$1" '.rows[] | select(.type == "runner" and .name == $r and .usable == false) | .why // "unusable"' 2> /dev/null; }

# ---- what to sweep -------------------------------------------------------------------------
nproc=$(nproc)
host=$(hostname 2>/dev/null || uname -n)
host=${host//[^A-Za-z0-9._-]/_}
# Every CPU workload of the registry is swept (I/O has its own sweep below).
workloads=(${PARLAB_BENCH_WORKLOADS:-$(listed workload 'get("kind") == "cpu"')})
runners=() notes=()
# The parts left out, with why (lo_part[i], lo_why[i]): the first and last lines name them.
lo_part=() lo_why=()
default_runners=$registry_runners
# External runners (mpi) start another program for each command (mpirun: about half a
# second): tiny runs, which check the scripts, leave them out unless asked for by name.
external=$(listed runner 'get("flags") ~ /(^| )external( |$)/')
if [ "$tiny" != 0 ] && [ -z "${PARLAB_BENCH_RUNNERS:-}" ]; then
  for x in $external; do
    default_runners=$(printf '%s\n' "$default_runners" | grep -vx -- "$x")
    lo_part+=("$x runner") lo_why+=("tiny runs leave it out: it starts another program for each command; PARLAB_BENCH_RUNNERS=$x includes it")
  done
fi
want_runners=(seq ${PARLAB_BENCH_RUNNERS:-$default_runners})
for r in "${want_runners[@]}"; do
  if has "$r" "$have_runners"; then
    case " ${runners[*]} " in *" $r "*) ;; *) runners+=("$r") ;; esac
  elif uwhy=$(unusable_why "$r") && [ -n "$uwhy" ]; then
    lo_part+=("$r runner") lo_why+=("$uwhy")
  else
    notes+=("runner $r is not in '$PARLAB list' yet: skipped")
  fi
done
for w in "${workloads[@]}"; do has "$w" "$have_workloads" || die "workload $w is not in '$PARLAB list'"; done
# The task and grain sweeps time Python's peers beside the runners (the same check there).
python_peers || { lo_part+=("Python's peers") lo_why+=("$peers_why"); }
# Start methods: fork-M runs -r fork --start M, after fork, and scales as fork does.
for m in ${PARLAB_BENCH_START:-fork}; do
  case $m in fork) continue ;; forkserver|spawn) ;; *) die "PARLAB_BENCH_START: $m is not a start method (fork, forkserver, spawn)" ;; esac
  case " ${runners[*]} " in *" fork "*) ;; *) die "PARLAB_BENCH_START=$m needs the fork runner in the sweep" ;; esac
  runners+=("fork-$m")
  have_scaling=$(printf '%s\nfork-%s\n' "$have_scaling" "$m")
done

# Each workload's size and extra options for this mode come from its registry entry
# (struct wl_sizes: tiny_size, quick_size, bench_size, full_size; tiny_args, bench_args).
declare -A size extra
case $mode in
  tiny) scol=tiny_size acol=tiny_args runs=2 warmup=0 sl_tasks=8 sl_ms=2 sl_max=8 ;;
  quick) scol=quick_size acol=bench_args runs=4 warmup=0 sl_tasks=32 sl_ms=10 sl_max=32 ;;   # seq about 0.22 s
  full) scol=full_size acol=bench_args runs=10 warmup=2 sl_tasks=128 sl_ms=20 sl_max=128 ;;
  *) scol=bench_size acol=bench_args runs=5 warmup=0 sl_tasks=64 sl_ms=10 sl_max=64 ;;
esac
# Every point's first run is its checked row run (below), the same command right before
# the timed runs: it warms the caches, so the default mode adds no warm-up of its own.
# 4 runs a side is the fewest with which the rank test can tell two points apart (p < 0.05).
runs=${REPEAT:-$runs}
while IFS=, read -r w n x; do
  size[$w]=$n extra[$w]=$x
done < <(printf '%s\n' "$list" | csv_awk -v s="$scol" -v a="$acol" 'get("type") == "workload" && get(s) != "" { print get("name") "," get(s) "," get(a) }')
for w in "${workloads[@]}"; do [ -n "${size[$w]:-}" ] || die "no bench size for workload $w"; done
# A point measured while other processes used more than 0.3 of a CPU is measured again, up
# to `retries` times, only when a one-second probe finds the machine quiet again, and only
# while all re-timing (probes included) has taken under retry_share of the time spent on
# first measurements so far. After 3 busy probes in a row the machine stays busy: no more
# probes until a point measures quiet. Such points are kept, marked disturbed, and every
# verdict resting on them is inconclusive. (A default bench beside one busy process then
# ends within 1.5 times its quiet time, instead of re-timing every point twice.)
case $mode in
  tiny) retries=0 ;;
  quick) retries=1 ;;
  full) retries=3 ;;
  *) retries=2 ;;
esac
retry_share=0.25
retries=${PARLAB_BENCH_RETRIES:-$retries}
[[ $retries =~ ^[0-9]+$ ]] || die "PARLAB_BENCH_RETRIES=$retries: not a count"
tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# CPU seconds all CPUs have spent busy since boot (user, nice, system, irq, softirq, steal).
busy_s() { awk -v t="$tck" '/^cpu / { printf "%.2f\n", ($2 + $3 + $4 + $7 + $8 + $9) / t }' /proc/stat; }
# One second in which nothing of ours runs: are other processes under 0.3 of a CPU?
probe_quiet() {
  local a b
  a=$(busy_s); sleep 1; b=$(busy_s)
  awk -v a="$a" -v b="$b" 'BEGIN { exit !(b - a <= 0.3) }'
}
# CPU seconds this shell's finished children (hyperfine and what it ran) have used, from the
# output of the `times` builtin (run in this shell, written to logs/times).
own_s() { awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f\n", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$out/logs/times"; }

# Core counts: every K up to 16 CPUs (or in FULL); beyond that powers of two and eighths.
core_list() {
  local n=$1 k
  if [ "$n" -le 16 ] || [ "$mode" = full ]; then seq 1 "$n"; return; fi
  { for ((k = 1; k < n; k *= 2)); do echo $k; done
    for k in 1 2 3 4 5 6 7 8; do echo $((n * k / 8)); done; } | awk '$1 >= 1' | sort -nu
}
# Workers: powers of two up to 2 x nproc, plus nproc and 2 x nproc themselves.
worker_list() {
  local n=$1 w
  { for ((w = 1; w <= 2 * n; w *= 2)); do echo $w; done; echo "$n"; echo $((2 * n)); } | sort -nu
}
cores=(${PARLAB_BENCH_CORES:-$(core_list "$nproc")})
for k in "${cores[@]}"; do
  [[ $k =~ ^[1-9][0-9]*$ ]] && [ "$k" -le "$nproc" ] || die "PARLAB_BENCH_CORES: $k is not a core count in 1..$nproc"
done
workers=($(worker_list "$nproc"))
conc=() ; for ((w = 1; w <= sl_max; w *= 2)); do conc+=($w); done
do_sleep=${PARLAB_BENCH_SLEEP:-1}

# ---- the run folder --------------------------------------------------------------------------
mkdir -p "$RESULTS" || die "cannot create $RESULTS"
name="$(date +%Y-%m-%d-%H%M%S)-$host"
# Claim the folder with mkdir itself (no -p): it fails if another bench, started in the
# same second, made it first, and then this one tries the next name.
until [ ! -e "$RESULTS/$name" ] && mkdir "$RESULTS/$name.partial" 2>/dev/null; do
  [ -d "$RESULTS" ] && [ -w "$RESULTS" ] || die "cannot create a run folder in $RESULTS"
  name="$name-x"
done
out="$RESULTS/$name.partial"
mkdir -p "$out/raw" "$out/logs" || die "cannot create $out"
CC=${CC:-gcc} "$here/machine.sh" > "$out/machine.json" || die "scripts/machine.sh failed"

# The committed reference run of a machine like this one (same CPU model and CPU count), drawn
# faintly in the plots; PARLAB_BENCH_REFERENCE names another run folder, or "none".
reference_for() {
  local d
  case ${PARLAB_BENCH_REFERENCE:-} in none) return ;; ?*) absolute "$PARLAB_BENCH_REFERENCE"; return ;; esac
  for d in "$root"/results/reference/*/; do
    [ -s "$d/machine.json" ] && [ -s "$d/cores.csv" ] || continue
    jq -e --slurpfile me "$1" '.cpu_model == $me[0].cpu_model and .nproc == $me[0].nproc' "$d/machine.json" \
      > /dev/null 2>&1 && { printf '%s' "${d%/}"; return; }
  done
}
case $mode in
  quick) reproduce="make bench QUICK=1" ;; full) reproduce="make bench FULL=1" ;;
  tiny) reproduce="PARLAB_BENCH_TINY=1 scripts/bench.sh" ;; *) reproduce="make bench" ;;
esac
for v in PARLAB_BENCH_WORKLOADS PARLAB_BENCH_RUNNERS PARLAB_BENCH_SLEEP PARLAB_BENCH_CORES PARLAB_BENCH_START; do
  [ -n "${!v:-}" ] && reproduce="$v='${!v}' $reproduce"
done
{
  echo "mode=$mode"
  echo "nproc=$nproc"
  echo "runs=$runs"
  echo "warmup=$warmup"
  echo "retries=$retries"
  echo "workloads=${workloads[*]}"
  echo "runners=${runners[*]}"
  echo "scaling=$(for r in "${runners[@]}"; do has "$r" "$have_scaling" && printf '%s ' "$r"; done)"
  echo "cores=${cores[*]}"
  echo "workers=${workers[*]}"
  echo "sleep_tasks=$sl_tasks"
  echo "sleep_io_ms=$sl_ms"
  echo "concurrency=${conc[*]}"
  echo "parlab=$PARLAB"
  echo "parlab_version=$("$PARLAB" --version 2>/dev/null | awk '{ print $2 }')"
  echo "reproduce=$reproduce"
  echo "reference=$(reference_for "$out/machine.json")"
} > "$out/bench.conf"
: > "$out/warnings.txt"
: > "$out/left-out.txt"
echo "sweep,workload,runner,value,text" > "$out/hyperfine-warnings.csv"
# hf_warnings SWEEP WORKLOAD RUNNER VALUE < hyperfine's output: one CSV row per warning, its
# first sentence, commas dropped.
hf_warnings() {
  awk -v k="$1,$2,$3,$4" '/Warning:/ { t = $0; sub(/.*Warning: */, "", t); sub(/\. .*/, "", t)
    gsub(/,/, "", t); print k "," t }'
}
# Warnings before the first line are held until it is printed, so that it comes first.
held=() begun=""
warn() {
  echo "$*" >> "$out/warnings.txt"
  if [ -n "$begun" ]; then echo "bench: warning: $*" >&2; else held+=("$*"); fi
}
for n in "${notes[@]}"; do warn "$n"; done
for i in "${!lo_part[@]}"; do
  left_out "$out" "${lo_part[$i]}" "${lo_why[$i]}"
  warn "left out: ${lo_part[$i]} (${lo_why[$i]})"
done
lo_start=$(wc -l < "$out/left-out.txt")

load1=$(awk '{ print $1 }' /proc/loadavg 2>/dev/null || echo 0)
awk -v l="$load1" -v n="$nproc" 'BEGIN { exit !(l > 0.5 * n) }' &&
  warn "load average $load1 is above half the $nproc CPUs when the run began: timings may be noisy"
gov=$(jq -r .governor "$out/machine.json")
[ "$gov" = performance ] ||
  warn "CPU frequency governor is '$gov', not 'performance': clock speed may vary between runs"
[ "$mode" = tiny ] &&
  warn "tiny sizes (PARLAB_BENCH_TINY): these runs check the scripts; their timings mean nothing"
[ "$nproc" -ge 2 ] ||
  warn "only 1 CPU is available: no speedup is possible and the Amdahl fit needs at least 2 cores"

# written: the run folder still takes writes. bash goes on after a redirection that failed
# (a full disk, a folder gone read-only), so a probe after every point and before each stage
# ends such a run with one line and 74 (EX_IOERR), instead of a report with holes in it.
written() {
  if ! { printf x > "$out/.write-probe"; } 2> /dev/null; then
    local why="cannot write"
    [ "$(df -P "$out" 2> /dev/null | awk 'NR == 2 { print $4 }')" = 0 ] && why="no space left on device"
    progress_break
    echo >&2
    echo "bench: writing $out: $why; the run is incomplete (what was measured since the last point may be lost) and was not published" >&2
    exit 74
  fi
  rm -f "$out/.write-probe"
}
stop() {  # stop POINT WHY: the sweep ends here; the partial folder stays; latest stays
  written
  progress_break
  echo >&2
  echo "bench: FAILED at $1: $2" >&2
  echo "bench: results so far are in $out; $RESULTS/latest was not moved" >&2
  echo "FAILED at $1: $2" >> "$out/warnings.txt"
  exit 1
}
# Ctrl-C or a kill is not a failure of the point the sweep was at: say so, exit 128+sig.
at=""
interrupted() {  # interrupted SIG
  trap - INT TERM HUP
  progress_break
  echo >&2
  echo "bench: interrupted by SIG$1${at:+ at $at}; results so far are in $out; $RESULTS/latest was not moved" >&2
  echo "interrupted by SIG$1${at:+ at $at}" >> "$out/warnings.txt"
  case $1 in HUP) exit 129 ;; INT) exit 130 ;; *) exit 143 ;; esac
}
# A command that ended by our own Ctrl-C (parlab exits 128+sig) means the same.
interrupted_if() { case $1 in 129) interrupted HUP ;; 130) interrupted INT ;; 143) interrupted TERM ;; esac; }
trap 'interrupted INT' INT
trap 'interrupted TERM' TERM
trap 'interrupted HUP' HUP

# ---- the plan: one line per point ------------------------------------------------------------
# sweep workload runner param value
plan=()
for w in "${workloads[@]}"; do
  # the core sweep by core count: the runners at one count are timed as a group (external
  # runners, which time themselves, after the others)
  for k in "${cores[@]}"; do
    for r in "${runners[@]}"; do has "$r" "$external" || plan+=("cores $w $r cores $k"); done
    for r in "${runners[@]}"; do has "$r" "$external" && plan+=("cores $w $r cores $k"); done
  done
  for r in "${runners[@]}"; do
    if [ "$r" = seq ]; then plan+=("workers $w seq workers 1"); continue; fi
    for j in "${workers[@]}"; do plan+=("workers $w $r workers $j"); done
  done
done
if [ "$do_sleep" != 0 ]; then
  for r in "${runners[@]}"; do
    case $r in
      seq) plan+=("concurrency sleep seq concurrency 1") ;;
      epoll) plan+=("concurrency sleep epoll concurrency $sl_tasks") ;;
      *) for c in "${conc[@]}"; do plan+=("concurrency sleep $r concurrency $c"); done ;;
    esac
  done
fi
total=${#plan[@]}

tidy_cols="workload,runner,param,value,cores,workers,tasks,size,mean_s,stddev_s,median_s,min_s,max_s,user_s,sys_s,n,speedup,speedup_err,efficiency,efficiency_err,other_cpu"
declare -A expect unchecked base_m base_s twin_row twin_load

# The seq answer, once per workload. Where it was verified by seq alone or by an
# independent recomputation, timed runs pass --expect with it and so neither run seq nor
# recompute inside the measured process; where nothing could vouch for it (unchecked),
# the rows say so and the run warns.
answer() {  # answer WORKLOAD ARGS...
  local w=$1; shift
  local row rc
  row=$("$PARLAB" run -w "$w" -r seq "$@" --repeat 1 --warmup 0 --format csv 2> "$out/logs/seq-$w.err")
  rc=$?
  [ $rc -eq 0 ] || interrupted_if $rc
  [ $rc -eq 0 ] || stop "$w seq (reference answer)" "parlab exited $rc: $(tail -n 3 "$out/logs/seq-$w.err")"
  local check result wall verified
  check=$(csv_get check <<< "$row")
  verified=$(csv_get verified <<< "$row")
  result=$(csv_get result <<< "$row")
  wall=$(csv_get wall_s <<< "$row")
  # seq marks such an answer check=reference (older builds: check=seq).
  if [ "$check" = reference ] || [ "$check" = seq ]; then
    expect[$w]="--expect $result"
    echo "# $w: only seq can vouch for it: seq gives $result, so timed runs pass --expect $result"
    warn "$w at -n ${size[$w]}: no independent answer at this size, only seq vouches for it (timed runs pass --expect $result)"
  elif [ "$check" = independent ]; then
    # recomputed once here; the timed commands compare with it instead of recomputing it
    # (hyperfine times the whole process, the recomputation included)
    expect[$w]="--expect $result"
    echo "# $w: verified by an independent recomputation, answer $result; timed runs pass --expect $result"
  elif [ "$verified" = unchecked ]; then
    expect[$w]=""
    unchecked[$w]=1
    echo "# $w: $(grep -o 'unchecked: .*' "$out/logs/seq-$w.err" | head -n 1)"
    warn "$w at -n ${size[$w]}: no check can vouch for the answer at this size within the limit (verified=unchecked): its rows are timed, not verified"
  else
    expect[$w]=""
    echo "# $w: verified by its own check ($check), answer $result"
  fi
  if [ "$mode" != tiny ] && [ "$w" != sleep ] &&
     awk -v t="$wall" 'BEGIN { exit !(t < 0.2) }'; then
    warn "$w at -n ${size[$w]}: one seq run takes $wall s, under 0.2 s: process start-up weighs on the timings"
  fi
}

# hf_once JSON HYPERFINE-ARGS...: one hyperfine call exporting JSON; the CPU other processes
# used meanwhile in $other (empty when too short to tell).
hf_once() {
  local json=$1 b0 b1 c0 c1 t0 t1
  shift
  b0=$(busy_s); t0=$EPOCHREALTIME; times > "$out/logs/times"; c0=$(own_s)
  hyperfine -N --style none "$@" --export-json "$json" > "$out/logs/hf.log" 2>&1
  local rc=$?
  times > "$out/logs/times"; c1=$(own_s); t1=$EPOCHREALTIME; b1=$(busy_s)
  cat "$out/logs/hf.log" >> "$out/logs/hyperfine.log"
  [ $rc -eq 0 ] || return 1
  other=$(awk -v b0="$b0" -v b1="$b1" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" \
    'BEGIN { if (t1 - t0 < 0.2) exit   # a few clock ticks: no telling
             o = (b1 - b0 - (c1 - c0)) / (t1 - t0); printf "%.2f\n", (o < 0 ? 0 : o) }')
}
listed_in() { local x=$1 y; shift; for y; do [ "$x" = "$y" ] && return 0; done; return 1; }
# measure_one JSON HYPERFINE-ARGS...: R runs of one command in one hyperfine call; sets
# $other and $other_max (the same figure: one interval).
measure_one() {
  hf_once "$@" || return 1
  other_max=$other
}
# measure_group JSON CMD CONTROL [JSON CMD CONTROL ...]: the points of one group (the core
# sweep's runners at one workload and core count) timed in turns with their control (seq on
# 1 core; "" for seq's own points): R rounds, each one hyperfine call with one run of every
# distinct command, the control first and the points in plan order in odd rounds, all
# reversed in even ones, so that a change in load hits every point and the control alike.
# One export per point, with the control's runs second (verdict.py split); the control's
# runs are shared by the group's points, and at K = 1 seq's own point is the control.
# Sets $other (the mean of the rounds' other-CPU figures) and $other_max.
measure_group() {
  local j wu loads="" files=() cmds=() order=() spec=("$@") c
  while [ $# -ge 3 ]; do
    for c in "$3" "$2"; do
      [ -n "$c" ] && ! listed_in "$c" "${cmds[@]}" && cmds+=("$c")
    done
    shift 3
  done
  for ((j = 1; j <= runs; j++)); do
    wu=0; ((j == 1)) && wu=$warmup
    order=("${cmds[@]}")
    ((j % 2)) || for ((c = 0; c < ${#cmds[@]}; c++)); do order[c]=${cmds[${#cmds[@]} - 1 - c]}; done
    hf_once "$out/logs/round-$j.json" --runs 1 --warmup "$wu" "${order[@]}" || return 1
    loads="$loads ${other:--}"
    files+=("$out/logs/round-$j.json")
  done
  # verdict.py prints the mean and the largest of the other-CPU figures (none: nothing)
  vpy split "$loads" "${files[@]}" -- "${spec[@]}" || return 1
  rm -f "${files[@]}"
  other="" other_max=""
  read -r other other_max <<< "$vpy_out"
  return 0
}

# measure_rows JSON CMD [CONTROL]: an external runner's point (mpi). hyperfine's clock
# around the process would time mpirun's start in every run, so the times come from
# parlab's own rows instead: one `parlab run` with R repeats after a warm-up (at least one:
# the first job after the launch pays the first touches), in one mpirun, whose wall_s is the
# ranks' own clock (the launch is reported apart: start_s). With a CONTROL, --baseline runs
# seq in the same process, taking turns with the runner run by run, on the same clock; that
# seq has the runner's --cores, where the hyperfine control has 1 (seq uses one either way).
# Written as hyperfine's export (the runner, then seq), with each run's other_cpu; sets
# $other (their mean) and $other_max.
measure_rows() {
  local json=$1 cmd=$2 ctl=$3 wu=$warmup rows argv
  ((wu < 1)) && wu=1
  : > "$out/logs/hf.log"   # no hyperfine here: no warnings of an earlier point
  read -ra argv <<< "${cmd/ --repeat 1 --warmup 0/} --repeat $runs --warmup $wu${ctl:+ --baseline} --format json"
  printf '%s\n' "${argv[*]}" >> "$out/logs/rows.log"
  rows=$("${argv[@]}" 2>> "$out/logs/rows.err") || return 1
  # the export, and the mean and the largest of the runs' other-CPU figures (none: nothing)
  rows=$("$PYTHON" "$here/verdict.py" rows "$json" "$cmd" ${ctl:+"seq, taking turns in the same process (--baseline)"} \
           <<< "$rows" 2>> "$out/logs/rows.err") || return 1
  other="" other_max=""
  read -r other other_max <<< "$rows"
  return 0
}

lo=$(left_out_line "$out")
echo "# parlab bench ($mode) on $host: $nproc CPUs; $total points, $runs runs each after a checked run$( ((warmup)) && echo " and $warmup warm-up")${lo:+; $lo}"
begun=1
for h in "${held[@]}"; do echo "bench: warning: $h" >&2; done
echo "# runners: ${runners[*]}; cores: ${cores[*]}; workers: ${workers[*]}"
echo "# writing $out"
for n in "${notes[@]}"; do echo "# note: $n"; done
[ -n "${WAIT_QUIET:-}" ] && echo "# waiting up to $WAIT_QUIET s for other processes to go quiet (WAIT_QUIET)"
trust0=$("$PYTHON" "$here/verdict.py" trust ${WAIT_QUIET:+--wait "$WAIT_QUIET"})
# verdict.py's commands from one server (verdict.py serve): Python and scipy start once a
# bench instead of once a point (about 0.4 s a point). vpy ARGS...: the answer in $vpy_out
# and the command's exit code; where the server is gone, verdict.py itself answers.
coproc VPY { exec "$PYTHON" "$here/verdict.py" serve; }
vpy() {
  local line
  vpy_out=""
  if [ -n "${VPY[1]:-}" ] && { printf '%d\n' $#; printf '%s\n' "$@"; } >&"${VPY[1]}" 2> /dev/null; then
    while [ -n "${VPY[0]:-}" ] && IFS= read -r line <&"${VPY[0]}"; do
      if [[ $line == $'\x1e'* ]]; then vpy_out=${vpy_out%$'\n'}; return "${line#?}"; fi
      vpy_out+=$line$'\n'
    done
    vpy_out=""
  fi
  vpy_out=$("$PYTHON" "$here/verdict.py" "$@")
}
echo "# trust at the start: $trust0"
echo "trust_start=$trust0" >> "$out/bench.conf"
for w in "${workloads[@]}"; do answer "$w" -n "${size[$w]}" ${extra[$w]:-}; done

# ---- the sweep ---------------------------------------------------------------------------
echo "sweep,workload,runner,value,role,run,time_s,other_cpu" > "$out/samples.csv"
measure_us=0 retry_us=0 busy_run=0

# timed MEASURE ARGS...: MEASURE ARGS (a measure_* call) and, while other processes used
# more than 0.3 of a CPU during it, again within the re-timing policy above. Sets $tnote
# (what happened, for the progress line) and $tdisturbed (why a point stays disturbed, or "").
timed() {
  local tries=0 m0 m1 why quiet
  tnote="" tdisturbed=""
  while :; do
    m0=${EPOCHREALTIME/./}
    "$@" || return 1
    m1=${EPOCHREALTIME/./}
    if [ "$tries" -eq 0 ]; then measure_us=$((measure_us + m1 - m0)); else retry_us=$((retry_us + m1 - m0)); fi
    if ! { [ -n "$other_max" ] && awk -v o="$other_max" 'BEGIN { exit !(o > 0.3) }'; }; then
      busy_run=0
      return 0
    fi
    why=""
    if [ "$tries" -ge "$retries" ]; then
      why="after $tries re-timing(s)"
    elif [ "$busy_run" -ge 3 ]; then
      why="the machine stays busy: no more re-timing until a point measures quiet"
    elif [ $((retry_us * 100)) -gt $((measure_us * ${retry_share#0.})) ]; then
      why="the re-timing budget (${retry_share} of the measuring time) is spent"
    else
      m0=${EPOCHREALTIME/./}
      probe_quiet; quiet=$?
      retry_us=$((retry_us + ${EPOCHREALTIME/./} - m0))
      [ $quiet -eq 0 ] || { busy_run=$((busy_run + 1)); why="the machine is still busy"; }
    fi
    if [ -n "$why" ]; then
      tdisturbed="other processes used $other_max of a CPU while it was measured ($why)"
      tnote+=" (disturbed: others used $other_max CPU)"
      return 0
    fi
    tries=$((tries + 1))
    tnote+=" (others used $other_max CPU: again)"
  done
}

# Each point's state between its checked run and its end (a core-sweep point waits for the
# rest of its group): its command, export, parlab's row, control, note and loads.
declare -A P_json P_rowtxt P_ctl P_note P_other P_omax P_hf
# point_end PI: a measured point's samples, tidy row and progress line.
point_end() {
  local pi=$1 sweep w r param val label rowtxt json ctl stats mean sd m0 s0 ids derived tidy result
  read -r sweep w r param val <<< "${plan[$pi]}"
  label="$sweep $w $r $param=$val"
  at="[$((pi + 1))/$total] $label"
  json=${P_json[$pi]} rowtxt=${P_rowtxt[$pi]} ctl=${P_ctl[$pi]}
  other=${P_other[$pi]} other_max=${P_omax[$pi]}
  [ "$PROGRESS_OPEN" ] || progress_start "$w $r $param=$val"
  stats=$(jq -r -f "$here/hyperfine.jq" "$json") || stop "$at" "cannot read $json"
  if [ "$sweep" = cores ] && [ "$val" = "$nproc" ]; then
    twin_row[$w $r]=$(printf '%s\n' "$rowtxt" | tail -n 1)
    twin_load[$w $r]="${other:--} ${other_max:--}"
  fi
  # Every run's time and the CPU others used meanwhile: the raw samples the verdicts use.
  jq -r --arg k "$sweep,$w,$r,$val" --arg o "${other:-}" '.results | to_entries[] | .key as $i | .value as $x
    | $x.times | to_entries[]
    | [$k, (if $i == 0 then "point" else "control" end), (.key + 1), .value, (($x.other_cpu // [])[.key] // $o)]
    | map(tostring) | join(",")' "$json" >> "$out/samples.csv" || stop "$at" "cannot read $json"

  # hyperfine's own warnings (outliers, a slow first run), kept with their point for the
  # report: only a point timed by one hyperfine call of its own has them.
  [ -n "${P_hf[$pi]}" ] && [[ $(< "${P_hf[$pi]}") == *Warning:* ]] &&
    hf_warnings "$sweep" "$w" "$r" "$val" < "${P_hf[$pi]}" >> "$out/hyperfine-warnings.csv"

  # The baseline is the first seq point of each workload: seq at 1 core; at the core sweep,
  # the control runs in turns with the point.
  IFS=, read -r mean sd _ <<< "$stats"
  if [ "$r" = seq ] && [ -z "${base_m[$w]:-}" ]; then base_m[$w]=$mean; base_s[$w]=$sd; fi
  m0=${base_m[$w]:-} s0=${base_s[$w]:-0}
  [ -n "$ctl" ] && IFS=, read -r m0 s0 < <(jq -r '.results[1] | "\(.mean),\(.stddev // 0)"' "$json")
  # cores,workers,tasks,size of parlab's row, the tidy row's columns after the point's name
  ids=$(printf '%s\n' "$rowtxt" | csv_awk '{ x = get("cores") "," get("workers") "," get("tasks") "," get("size") } END { print x }')
  derived=$("$PYTHON" "$here/analyse.py" point "$m0" "$s0" "$mean" "$sd" "$param" "$val")
  tidy="$out/$sweep.csv"
  [ -s "$tidy" ] || echo "$tidy_cols" > "$tidy"
  echo "$w,$r,$param,$val,$ids,$stats,$derived,$other" >> "$tidy"
  awk -v m="$mean" -v s="$sd" 'BEGIN { exit !(m > 0 && s / m > 0.1) }' &&
    echo "$label: stddev is $(awk -v m="$mean" -v s="$sd" 'BEGIN { printf "%.0f", 100 * s / m }')% of the mean" >> "$out/noisy.txt"
  result="$(printf '%.4f s ± %.4f' "$mean" "$sd")${P_note[$pi]}"
  if [ -n "${derived%%,*}" ]; then
    vpy speedup --run "$out" "$sweep" "$w" "$r" "$val" || stop "$at" "scripts/verdict.py speedup failed"
    result+="  speedup $vpy_out"
  fi
  progress_end "$result"
  written
}

# A line per point (scripts/progress.sh): "[i/N elapsed, ~left]", the point, then its mean
# ± sd and speedup with the 95% interval the verdicts give it. A core-sweep group's line
# opens at its first point and closes, with the others', once the group is timed.
group=()   # the core-sweep group being gathered: JSON CMD CONTROL per point, and its indexes
group_pi=()
progress_begin "$total"
for ((pi = 0; pi < total; pi++)); do
  read -r sweep w r param val <<< "${plan[$pi]}"
  i=$((pi + 1))
  label="$sweep $w $r $param=$val"
  at="[$i/$total] $label"
  [ ${#group_pi[@]} -gt 0 ] || progress_start "$w $r $param=$val"
  if [ "$sweep" = concurrency ]; then
    args="-n $sl_tasks --io-ms $sl_ms"
    case $r in seq|epoll) ;; *) args="$args -j {$param}" ;; esac
  else
    args="-n ${size[$w]} ${extra[$w]:-} ${expect[$w]}"
    if [ "$sweep" = cores ]; then args="$args --cores {cores} -j {cores}"
    else args="$args --cores $nproc -j {workers}"; fi
  fi
  case $r in fork-*) ropt="fork --start ${r#fork-}" ;; *) ropt=$r ;; esac
  read -ra parts <<< "$PARLAB run -w $w -r $ropt --repeat 1 --warmup 0 $args"
  tmpl="${parts[*]}"
  cmd=${tmpl//\{$param\}/$val}
  stem="$sweep-$w-$r-$val"
  mkdir -p "$out/raw/$sweep"
  json="$out/raw/$sweep/$stem.json"
  rows="$out/$sweep-rows.csv"
  P_json[$pi]=$json P_ctl[$pi]="" P_note[$pi]="" P_hf[$pi]=""

  # The worker sweep's point at W = nproc is the core sweep's at K = nproc: the same
  # command (--cores nproc -j nproc), measured once. Its row, runs and their loads are
  # taken from there (a disturbed point stays disturbed); only the control is not.
  twin="$out/raw/cores/cores-$w-$r-$val.json"
  if [ "$sweep" = workers ] && [ "$val" = "$nproc" ] && [ -s "$twin" ] && [ -n "${twin_row[$w $r]:-}" ]; then
    [ -s "$rows" ] || head -n 1 "$out/cores-rows.csv" > "$rows"
    printf '%s,%s,%s\n' "$param" "$val" "${twin_row[$w $r]}" >> "$rows"
    echo "$cmd" >> "$out/commands.txt"
    jq '.results |= [.[0]]' "$twin" > "$json" || stop "$at" "cannot read $twin"
    P_rowtxt[$pi]=$(printf '%s\n%s\n' "$row_hdr" "${twin_row[$w $r]}")
    read -r other other_max <<< "${twin_load[$w $r]}"
    [ "$other" = - ] && other=""
    [ "$other_max" = - ] && other_max=""
    P_other[$pi]=$other P_omax[$pi]=$other_max
    P_note[$pi]=" (the core sweep's point at $val cores: the same command)"
    grep -qF "cores $w $r cores=$val:" "$out/disturbed.txt" 2> /dev/null &&
      echo "$label: the core sweep's point at $val cores, disturbed" >> "$out/disturbed.txt"
    point_end "$pi"
    continue
  fi

  # parlab's own row first: verified answer, user/sys time, RSS. It also warms the caches.
  read -ra argv <<< "$cmd --format csv"
  rowtxt=$("${argv[@]}" 2> "$out/logs/$stem.err")
  rc=$?
  if [ $rc -ne 0 ]; then
    interrupted_if $rc
    stop "$at" "'$cmd' exited $rc: $(tail -n 3 "$out/logs/$stem.err" | tr '\n' ' ')"
  fi
  [ -s "$rows" ] || printf 'param,value,%s\n' "$(printf '%s\n' "$rowtxt" | head -n 1)" > "$rows"
  row_hdr=$(printf '%s\n' "$rowtxt" | head -n 1)
  row=$(printf '%s\n' "$rowtxt" | tail -n 1)
  # parlab names the runner fork under every start method: the row takes the sweep's name.
  if [ "$ropt" != "$r" ]; then
    row=$(printf '%s\n' "$rowtxt" | csv_awk -v OFS=, -v r="$r" '{ set("runner", r); x = $0 } END { print x }')
    rowtxt=$(printf '%s\n%s\n' "$row_hdr" "$row")
  fi
  printf '%s,%s,%s\n' "$param" "$val" "$row" >> "$rows"
  P_rowtxt[$pi]=$rowtxt
  # yes: verified; ref: seq itself at a size with no known answer (the reference);
  # unchecked: too large to recompute, accepted only where seq's answer was too (warned)
  verdict=$(csv_get verified <<< "$rowtxt")
  if [ "$verdict" != yes ] && ! { [ "$verdict" = ref ] && [ "$r" = seq ]; } &&
     ! { [ "$verdict" = unchecked ] && [ -n "${unchecked[$w]:-}" ]; }; then
    stop "$at" "'$cmd' did not verify: $row"
  fi
  # check=seq means the timed process ran seq too, to check itself: its time would be double.
  if [ "$(csv_get check <<< "$rowtxt")" = seq ]; then
    warn "$label: the timed command also ran seq to check its answer; its time includes that run"
  fi
  echo "$cmd" >> "$out/commands.txt"

  # hyperfine times the command R times. At the core sweep, the runners at one workload and
  # core count are a group, timed in turns with seq on 1 core (the control): measure_group.
  # Other processes' CPU time over the same interval (all busy time in /proc/stat less our
  # own) says whether the machine was shared; a disturbed point (or group) is measured again
  # within the re-timing budget (see retries).
  ctl=""
  if [ "$sweep" = cores ] && [ "$r" != seq ]; then
    read -ra cparts <<< "$PARLAB run -w $w -r seq --repeat 1 --warmup 0 -n ${size[$w]} ${extra[$w]:-} ${expect[$w]} --cores 1 -j 1"
    ctl="${cparts[*]}"
  fi
  P_ctl[$pi]=$ctl
  if has "$r" "$external"; then
    timed measure_rows "$json" "$cmd" "$ctl" ||
      stop "$at" "'$cmd' (repeated, timed by its rows) failed: $(tail -n 2 "$out/logs/rows.err" | tr '\n' ' ')"
  elif [ "$sweep" = cores ]; then
    group+=("$json" "$cmd" "$ctl") group_pi+=("$pi")
    # the group ends where the next point is not a runner of it (external runners come last)
    read -r nsweep nw nr _ nval <<< "${plan[$((pi + 1))]:-}"
    [ "$nsweep $nw $nval" = "cores $w $val" ] && ! has "$nr" "$external" && continue
    timed measure_group "${group[@]}" ||
      stop "$at" "hyperfine failed on the group at $param=$val: $(tail -n 2 "$out/logs/hf.log" | tr '\n' ' ')"
  else
    timed measure_one "$json" --runs "$runs" --warmup "$warmup" -L "$param" "$val" \
         --export-csv "$out/raw/$sweep/$stem.csv" "$tmpl" ||
      stop "$at" "hyperfine failed on '$cmd': $(tail -n 2 "$out/logs/hf.log" | tr '\n' ' ')"
    P_hf[$pi]=$out/logs/hf.log
  fi
  [ ${#group_pi[@]} -gt 0 ] || group_pi=("$pi")
  PROGRESS_DONE=$((pi + 1))   # the group's points are all timed: their lines follow
  for gp in "${group_pi[@]}"; do
    P_other[$gp]=$other P_omax[$gp]=$other_max P_note[$gp]=$tnote
    if [ -n "$tdisturbed" ]; then
      read -r gsweep gw gr gparam gval <<< "${plan[$gp]}"
      echo "$gsweep $gw $gr $gparam=$gval: $tdisturbed" >> "$out/disturbed.txt"
    fi
    point_end "$gp"
  done
  PROGRESS_DONE="" group=() group_pi=()
done
# The core sweep's tidy rows and parlab's rows in the order of the plan's runners, then core
# counts (a group times every runner at one core count before the next).
for f in "$out/cores.csv" "$out/cores-rows.csv"; do
  [ -s "$f" ] || continue
  { head -n 1 "$f"
    csv_awk -v wl="${workloads[*]}" -v rl="${runners[*]}" \
      'BEGIN { n = split(wl, o, " "); for (j = 1; j <= n; j++) wr[o[j]] = j
               n = split(rl, o, " "); for (j = 1; j <= n; j++) rr[o[j]] = j }
       { printf "%06d\t%06d\t%06d\t%s\n", wr[get("workload")], rr[get("runner")], get("value"), $0 }' "$f" |
      sort -s -t $'\t' -k1,1n -k2,2n -k3,3n | cut -f 4-; } > "$f.tmp" && mv "$f.tmp" "$f" || stop "$at" "cannot write $f"
done

at="after the sweep"
# What re-timing cost against the first measurements (the budget keeps it under retry_share).
echo "measure_s=$((measure_us / 1000000)) retime_s=$((retry_us / 1000000))" | tr ' ' '\n' >> "$out/bench.conf"
echo "# sweep: $(progress_hms $((measure_us / 1000000))) measuring, $(progress_hms $((retry_us / 1000000))) re-timing disturbed points (budget: ${retry_share} of the measuring time)"
if [ -s "$out/disturbed.txt" ]; then
  warn "$(wc -l < "$out/disturbed.txt") point(s) were measured while other processes used more than 0.3 of a CPU, even after retries: their times are inflated"
fi

# ---- timeline: static against dynamic scheduling of primes ---------------------------------
if has primes "$(printf '%s\n' "${workloads[@]}")"; then
  tl_tasks=32
  [ "$mode" = tiny ] && tl_tasks=8
  progress_begin 2
  for s in static dynamic; do
    cmd="$PARLAB run -w primes -r thread --repeat 1 --warmup 0 -n ${size[primes]} ${expect[primes]} -j $nproc -t $tl_tasks -s $s --trace $out/trace-$s.csv --format csv"
    progress_start "timeline: primes thread -j $nproc -t $tl_tasks -s $s"
    read -ra argv <<< "$cmd"
    rowtxt=$("${argv[@]}" 2> "$out/logs/trace-$s.err") ||
      stop "timeline primes thread -s $s" "'$cmd' failed: $(tail -n 3 "$out/logs/trace-$s.err" | tr '\n' ' ')"
    [ -s "$out/timeline-rows.csv" ] || printf 'schedule,%s\n' "$(printf '%s\n' "$rowtxt" | head -n 1)" > "$out/timeline-rows.csv"
    printf '%s,%s\n' "$s" "$(printf '%s\n' "$rowtxt" | tail -n 1)" >> "$out/timeline-rows.csv"
    echo "${cmd% --format csv}" >> "$out/commands.txt"
    progress_end "$(printf '%s\n' "$rowtxt" | csv_awk '{ x = get("wall_s") } END { printf "%.4f s", x }')"
  done
fi

# The other sweeps: all they say in logs/; their progress lines ("[i/N ...", on their
# stderr) here too, as they come.
substep() {  # substep LOG WHAT SCRIPT ARGS...
  local log=$1 what=$2 script=$3
  shift 3
  { : > "$log"; } 2> /dev/null || written   # a full disk: its one line, 74
  PARLAB=$PARLAB "$here/$script" "$@" 2>&1 >> "$log" | tee -a "$log" 2> /dev/null |
    { grep --line-buffered '^\[[0-9]' || true; } ||
    stop "$what" "scripts/$script failed: $(tail -n 3 "$log" | tr '\n' ' ')"
}
substep "$out/logs/sweep-tasks.log" "task-count sweep" sweep-tasks.sh "$out" "$mode"
substep "$out/logs/sweep-grain.log" "granularity sweep" sweep-grain.sh "$out" "$mode"
substep "$out/logs/weak.log" "weak scaling" sweep-weak.sh "$out"
# What the sweeps left out on their own (mpi when its world would not start) joins the warnings.
while IFS= read -r l; do warn "left out: $l"; done < <(tail -n +$((lo_start + 1)) "$out/left-out.txt")
# ---- fits, plots, report ---------------------------------------------------------------------
echo "load_end=$(awk '{ print $1 }' /proc/loadavg 2>/dev/null)" >> "$out/bench.conf"
"$here/analyse.sh" "$out" > "$out/logs/analyse.log" 2>&1 ||
  stop "analysis" "scripts/analyse.sh failed: $(tail -n 5 "$out/logs/analyse.log" | tr '\n' ' ')"
echo "# plotting"
"$here/plots.sh" "$out" > "$out/logs/plots.log" 2>&1 ||
  stop "plots" "scripts/plots.sh failed: $(tail -n 5 "$out/logs/plots.log" | tr '\n' ' ')"
"$here/report.sh" "$out" > "$out/logs/report.log" 2>&1 ||
  stop "report" "scripts/report.sh failed: $(tail -n 5 "$out/logs/report.log" | tr '\n' ' ')"

# ---- publish: the folder gets its final name, then latest moves in one rename ---------------
written
trap - INT TERM HUP
mv -T "$out" "$RESULTS/$name" || stop "publish" "cannot rename $out to $RESULTS/$name"
ln -s "$name" "$RESULTS/.latest.$$" && mv -Tf "$RESULTS/.latest.$$" "$RESULTS/latest" ||
  die "cannot point $RESULTS/latest at $name (the run itself is complete in $RESULTS/$name)"
"$here/summary.sh" "$RESULTS/$name"   # its last line: the trust line, "# trust: ..."
lo=$(left_out_line "$RESULTS/$name")
echo "# done: $RESULTS/$name/index.html ($RESULTS/latest points at it)${lo:+; $lo}"
