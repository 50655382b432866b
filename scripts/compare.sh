#!/usr/bin/env bash
# compare.sh: parlab's C runners against Python's own parallel models (peers/python) on the
# same workloads: answers cross-checked across languages, times taken by hyperfine, charts
# drawn by gnuplot, all written up in compare/index.html.
#
# usage: scripts/compare.sh            (make compare; make compare QUICK=1 for a short run)
#
# Environment:
#   QUICK=1                 fewer runs and sweep points: a few minutes at most
#   PARLAB_COMPARE_TINY=1   tiny sizes (the registry's tiny_size in C, test_size in Python),
#                           for the test suite: checks the plumbing only
#   PARLAB_COMPARE_WORKLOADS="w ..."  only these workloads: CPU ones, and noop and sleep
#                           for their sections; the tutorial is left out (default: every
#                           CPU workload of parlab list, noop, sleep and the tutorial)
#   PARLAB=path             the parlab binary (default bin/parlab)
#   PYTHON=path             the interpreter (default /usr/bin/python3, Debian's python3)
#   COMPARE_DIR=dir         write here instead of the folder chosen below
#   N_C_<workload>, N_PY_<workload>  a timed size instead of the calibrated one,
#                           e.g. N_C_primes=2M N_PY_primes=2M
#
# Where the results go (one rule): results/latest/compare/ when results/latest is a run of
# this host (made by make bench, so its report can link compare/index.html); otherwise
# compare/ in a new run folder named as make bench names them,
# results/$(date +%Y-%m-%d-%H%M%S)-$(hostname)/. results/latest itself is left to make
# bench. PARLAB_RESULTS moves results/ as it does for make bench. The page is written at
# the end: a comparison that stops leaves raw/, with the reason in raw/stopped.txt, and no
# page.
#
# Also the rest of the tutorial, into raw/tutorial-{start,guard,cow,manager}.csv: Python's
# Pool under the three start methods with each one's start cost, the missing __main__
# guard under spawn and forkserver, copy-on-write through reference counts against C, and
# Manager against Value beside parlab's C figures (peers/python/tutorial_rest.py).
#
# Workloads: every CPU workload of the registry (parlab list --format csv). One that
# Python's peer (peers/python/workloads.py) does not implement is timed in C alone and
# marked "no Python peer" on the page.
#
# Sizes: Python runs these loops 20 to 300 times slower than C, so each language gets its
# own timed size: the smallest on the registry's ladder (parlab list: ladder) at which its
# sequential run takes at least
# 0.2 s x W (W = the CPUs available), so that even an ideal W-fold speedup leaves runs of
# 0.2 s or more. Charts therefore show time per unit of work and speedup against each
# language's own seq. Every answer is first checked equal across all runners of both
# languages at one common small N; a mismatch stops the comparison.
#
# Progress: a line per step on stderr (scripts/progress.sh), "[i/N elapsed, ~left]", the
# step, its mean ± sd and, for the CPU workloads, the speedup over the language's own seq
# with its 95% interval (scripts/verdict.py).
set -euo pipefail
shopt -s inherit_errexit   # a failure inside $(...) stops the script too
cd "$(dirname "$0")/.."
. scripts/progress.sh
. scripts/csv.sh   # every CSV read by its header: csv_awk, csv_get

PARLAB=${PARLAB:-bin/parlab}
unset PARLAB_MPI_WORLD   # mpi runs start their own ranks here, as in make bench
PYTHON=${PYTHON:-/usr/bin/python3}
PEER=peers/python/parlab_py.py
REPORT=peers/python/compare_report.py
on() { [ -n "${1:-}" ] && [ "$1" != 0 ]; }   # QUICK=0 and an empty QUICK both mean off
TARGET_S=0.2
t_start=$(date +%s)

say() { progress_break; printf 'compare: %s\n' "$*" >&2; }
# Stop: the reason goes to stderr and, once there is a folder, to raw/stopped.txt.
die() {
  progress_break
  printf 'compare: %s\n' "$*" >&2
  [ -z "${out:-}" ] || [ ! -f "$out/.parlab-compare" ] || [ ! -d "$out/raw" ] ||
    printf '%s\n' "$*" >>"$out/raw/stopped.txt"
  exit 1
}

# --- what we need ---------------------------------------------------------------------------
[ -x "$PARLAB" ] || die "$PARLAB is not built: run make (or make compare)"
[ -x "$PYTHON" ] || die "$PYTHON is missing: install Debian's python3 with 'sudo apt-get install python3' (or scripts/deps.sh compare)"
for tool in hyperfine gnuplot; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/deps.sh compare (it installs hyperfine gnuplot-nox python3)"
done

W=$(nproc)
runners_of() { awk '/^runners:/ { r = 1; next } r && NF { print $1 }'; }
workloads_of() { awk '/^workloads:/ { w = 1; next } /^[^ ]/ { w = 0 } w && NF { print $1 }'; }
C_RUNNERS=()
# The registry says what exists and at which sizes (parlab list --format csv, read by
# column name: scripts/csv.sh).
c_list=$("$PARLAB" list --format csv)
c_have=$(csv_awk 'get("type") == "runner" { print get("name") }' <<<"$c_list")
# External runners (mpi) start another program for every run: tiny runs, which check
# the plumbing only, leave them out.
if on "${PARLAB_COMPARE_TINY:-}"; then
  c_have=$(csv_awk 'get("type") == "runner" && (" " get("flags") " ") !~ / external / { print get("name") }' <<<"$c_list")
fi
mapfile -t C_RUNNERS <<<"$c_have"
mapfile -t PY_MODELS < <("$PYTHON" "$PEER" list | runners_of)
[ ${#PY_MODELS[@]} -gt 0 ] || die "$PYTHON $PEER list shows no models"
# Every CPU workload of the registry (or of PARLAB_COMPARE_WORKLOADS), with its test size
# for the cross-check, its tiny size and its ladder; HAS_PEER[w] is 1 where Python's peer
# implements it, 0 where it has none (C rows only).
py_have=$("$PYTHON" "$PEER" list | workloads_of)
wanted() { [ -z "${PARLAB_COMPARE_WORKLOADS:-}" ] || [[ " $PARLAB_COMPARE_WORKLOADS " == *" $1 "* ]]; }
CPU_WL=() NO_PEER=() ; declare -A XCHECK_SIZE TINY_SIZE LADDER HAS_PEER
while IFS='|' read -r wl n tiny ladder; do
  wanted "$wl" || continue
  CPU_WL+=("$wl"); XCHECK_SIZE[$wl]=$n TINY_SIZE[$wl]=$tiny LADDER[$wl]=$ladder HAS_PEER[$wl]=1
  if ! grep -qx "$wl" <<<"$py_have"; then
    HAS_PEER[$wl]=0 NO_PEER+=("$wl")
    say "workload '$wl': no Python peer in $PEER: its C rows only"
  fi
done < <(csv_awk 'get("type") == "workload" && get("kind") == "cpu" {
           print get("name") "|" get("test_size") "|" get("tiny_size") "|" get("ladder") }' <<<"$c_list")
for wl in ${PARLAB_COMPARE_WORKLOADS:-}; do
  [ -n "${HAS_PEER[$wl]:-}" ] || [ "$wl" = noop ] || [ "$wl" = sleep ] ||
    { say "PARLAB_COMPARE_WORKLOADS: '$wl' is not a CPU workload of $PARLAB list, nor noop or sleep"; exit 64; }
done
NOOP_LADDER=$(csv_awk 'get("type") == "workload" && get("name") == "noop" { print get("ladder") }' <<<"$c_list")
wanted noop && [ -n "$NOOP_LADDER" ] && DO_NOOP=1 || DO_NOOP=0
wanted sleep && DO_SLEEP=1 || DO_SLEEP=0
[ -z "${PARLAB_COMPARE_WORKLOADS:-}" ] && DO_TUTORIAL=1 || DO_TUTORIAL=0
[ ${#CPU_WL[@]} -gt 0 ] || die "no CPU workload of parlab list to compare"

# --- where ----------------------------------------------------------------------------------
host=$(hostname 2>/dev/null || uname -n)
results=${PARLAB_RESULTS:-results}
if [ -n "${COMPARE_DIR:-}" ]; then
  out=$COMPARE_DIR
elif [ -d "$results/latest" ] && [[ "$(basename "$(readlink -f "$results/latest")")" == *-"$host"* ]]; then
  out=$(readlink -f "$results/latest")/compare
else
  out=$results/$(date +%Y-%m-%d-%H%M%S)-$host/compare
fi
mkdir -p "$out" || die "cannot create $out"
# What an earlier comparison left here would otherwise mix with this one. It is removed
# only where a comparison made it: a folder compare.sh marked (.parlab-compare, written
# first) and not a link; a COMPARE_DIR that holds anything else must be emptied by hand.
[ -L "$out" ] && die "COMPARE_DIR=$out is a symbolic link: name the folder itself"
if [ -e "$out/raw" ] || [ -e "$out/compare.csv" ]; then
  [ -f "$out/.parlab-compare" ] && [ ! -L "$out/.parlab-compare" ] && [ ! -L "$out/raw" ] ||
    { o=$out; out=""; die "$o holds a raw/ or compare.csv that no comparison made (no .parlab-compare): choose an empty folder"; }
  rm -rf "$out/raw" "$out/index.html" "$out/compare.csv" "$out"/*.png "$out"/*.svg
fi
: > "$out/.parlab-compare" || die "cannot write in $out"
mkdir -p "$out/raw"
out=$(cd "$out" && pwd)
scripts/machine.sh >"$out/machine.json"   # CPU, kernel, tools, commit, load at the start
# Measure one fixed binary, even if make rebuilds bin/parlab while this runs.
cp "$PARLAB" "$out/raw/parlab"
# The mpi runner starts the parlab-mpi that sits beside parlab.
if [ -x "$(dirname "$PARLAB")/parlab-mpi" ]; then cp "$(dirname "$PARLAB")/parlab-mpi" "$out/raw/"; fi
PARLAB=$out/raw/parlab
log=$out/raw/hyperfine.log
index=$out/raw/index.tsv
printf 'section\tlang\tworkload\trunner\tsize\tworkers\tio_ms\tid\n' >"$index"
say "writing to $out"
say "trust at the start: $("$PYTHON" scripts/verdict.py trust)"

# --- how much -------------------------------------------------------------------------------
if on "${PARLAB_COMPARE_TINY:-}"; then
  mode=tiny; CPU_HF=(--warmup 0 --runs 1); NOOP_HF=(--warmup 0 --runs 1)
  SLEEP_HF=(--warmup 0 --runs 1); W_IO=2; IO_MS=5; STEPS_N="1 3"; SCALE_IO_MS=10
  SCALE_N="10 100"; XCHECK_N=(20 4)
elif on "${QUICK:-}"; then
  mode=quick; CPU_HF=(--warmup 0 --runs 3); NOOP_HF=(--warmup 0 --runs 2)
  SLEEP_HF=(--warmup 0 --runs 2); W_IO=4; IO_MS=50; STEPS_N="1 4 5 8 9"
  SCALE_IO_MS=100; SCALE_N="10 1000 10000"; XCHECK_N=(100 8)
else
  mode=full; CPU_HF=(--warmup 1 --runs 5); NOOP_HF=(--warmup 1 --runs 5)
  SLEEP_HF=(--warmup 0 --runs 3); W_IO=4; IO_MS=50; STEPS_N="$(seq -s ' ' 1 12)"
  SCALE_IO_MS=100; SCALE_N="10 100 1000 10000"; XCHECK_N=(100 8)
fi
SEED=12345

# The command line of one run: lang (c|py), workload, runner, size, then extra options.
cmdline() {
  local lang=$1 wl=$2 r=$3 n=$4; shift 4
  if [ "$lang" = c ]; then
    echo "$PARLAB run -w $wl -r $r -n $n $* --repeat 1 --warmup 0 --format csv"
  else
    echo "$PYTHON $PEER run -w $wl -r $r -n $n $* --format csv"
  fi
}

# The columns of parlab run --format csv (Python's peer prints the same), and one field
# of a data row by its name: field ROW NAME.
RUN_HEADER=$(head -n 1 <<<"$("$PARLAB" run -w noop -r seq -n 1 --repeat 1 --warmup 0 --format csv)")
field() { printf '%s\n%s\n' "$RUN_HEADER" "$1" | csv_get "$2"; }

# Run one command once; print its CSV data row, or stop the comparison with its message.
run_row() {
  local cmd=$1 o rc=0
  # shellcheck disable=SC2086  # the command line is split into words on purpose
  o=$($cmd 2>"$out/raw/stderr") || rc=$?
  [ $rc -eq 0 ] || die "'$cmd' failed (exit $rc): $(tail -n 2 "$out/raw/stderr" | tr '\n' ' ')"
  tail -n 1 <<<"$o"
}

# --- 1. one answer across languages ---------------------------------------------------------
# A common small N per workload, every runner of both languages: the answers must be equal,
# and each must pass its own check (known value, sieve, closed form, recorded, 5 sigma, task count).
xcheck() {
  local wl=$1 n=$2; shift 2
  local ref="" refwho="" pair lang r row res ver who pairs=("${C_RUNNERS[@]/#/c:}")
  [ "${HAS_PEER[$wl]:-1}" = 0 ] || pairs+=("${PY_MODELS[@]/#/py:}")
  progress_start "cross-check $wl N=$n"
  for pair in "${pairs[@]}"; do
    lang=${pair%%:*}; r=${pair#*:}
    row=$(run_row "$(cmdline "$lang" "$wl" "$r" "$n" -j "$W" "$@")")
    echo "$row" >>"$out/raw/xcheck.csv"
    res=$(field "$row" result); ver=$(field "$row" verified)
    who="$([ "$lang" = c ] && echo parlab || echo python) $r"
    [ "$ver" = yes ] || die "$wl N=$n: $who gives $res, which fails its own check"
    if [ -z "$ref" ]; then
      ref=$res; refwho=$who
    elif [ "$res" != "$ref" ]; then
      die "MISMATCH on $wl N=$n: $refwho gives $ref but $who gives $res. The two languages do not compute the same thing, so their times cannot be compared: stopping."
    fi
  done
  if [ "${HAS_PEER[$wl]:-1}" = 0 ]; then
    progress_end "${#C_RUNNERS[@]} C runners all give $ref (no Python peer)"
  else
    progress_end "${#C_RUNNERS[@]} C runners and ${#PY_MODELS[@]} Python models all give $ref"
  fi
}
# The steps, counted before the first: the cross-checks, every timed point, the tutorial.
has_epoll=0; grep -qx epoll <<<"$c_have" && has_epoll=1
n_models=$((${#C_RUNNERS[@]} + ${#PY_MODELS[@]}))
cpu_steps=0
for wl in "${CPU_WL[@]}"; do
  cpu_steps=$((cpu_steps + 1 + ${#C_RUNNERS[@]} + has_epoll))
  [ "${HAS_PEER[$wl]}" = 0 ] || cpu_steps=$((cpu_steps + ${#PY_MODELS[@]}))
done
progress_begin $((cpu_steps + DO_NOOP * (1 + 2 * n_models) +
                  DO_SLEEP * (1 + $(wc -w <<<"$STEPS_N") * n_models + $(wc -w <<<"$SCALE_N") * (1 + has_epoll)) +
                  4 * DO_TUTORIAL))
echo "$RUN_HEADER" >"$out/raw/xcheck.csv"
for wl in "${CPU_WL[@]}"; do xcheck "$wl" "${XCHECK_SIZE[$wl]}" --seed "$SEED"; done
[ "$DO_NOOP" = 0 ] || xcheck noop "${XCHECK_N[0]}"
[ "$DO_SLEEP" = 0 ] || xcheck sleep "${XCHECK_N[1]}" --io-ms 5

# --- 2. timing ------------------------------------------------------------------------------
declare -A group_result seq_json
# bench section lang workload runner size [hyperfine options --] [run options]
# LABEL=name names the row when the options make it another runner (epoll --loops W).
bench() {
  local section=$1 lang=$2 wl=$3 r=$4 n=$5; shift 5
  local label=${LABEL:-$r}
  local hf=() io_ms=0 workers=$W
  while [ "$1" != -- ]; do hf+=("$1"); shift; done
  shift
  local a=("$@") i
  for ((i = 0; i < ${#a[@]}; i++)); do
    case ${a[i]} in --io-ms) io_ms=${a[i + 1]} ;; -j) workers=${a[i + 1]} ;; esac
  done
  local id="$section-$lang-$wl-$label-n$n-j$workers-io$io_ms"
  local cmd
  cmd=$(cmdline "$lang" "$wl" "$r" "$n" "$@")
  progress_start "$section $lang $wl $label N=$n"
  # parlab recomputes an answer with no recorded value after its run (check=independent),
  # which hyperfine would time too: one untimed run verifies it, and the timed runs
  # compare with it (--expect) instead.
  if [ "$lang" = c ] && [ "$section" = cpu ]; then
    local pre
    pre=$(run_row "$cmd")
    [ "$(field "$pre" verified)" = yes ] || die "'$cmd' gave $(field "$pre" result), which fails its check"
    [ "$(field "$pre" check)" = independent ] && cmd="$cmd --expect $(field "$pre" result)"
  fi
  echo "### $cmd" >>"$log"
  # verdict.py load: the CPU other processes used meanwhile (raw/ID.load), for the verdicts.
  if ! "$PYTHON" scripts/verdict.py load "$out/raw/$id.load" hyperfine -N --style basic "${hf[@]}" \
       --export-json "$out/raw/$id.json" --export-csv "$out/raw/$id.hf.csv" --output="$out/raw/$id.csv" \
       "$cmd" >>"$log" 2>&1; then
    run_row "$cmd" >/dev/null   # prints the command's own one-line reason and stops
    die "hyperfine failed on '$cmd': see $log"
  fi
  local row res ver
  row=$(tail -n 1 "$out/raw/$id.csv")
  res=$(field "$row" result); ver=$(field "$row" verified)
  [ "$ver" = yes ] || die "'$cmd' gave $res, which fails its check"
  # Within a language, every runner at one size must give one answer (timing noise aside,
  # a runner that drops or repeats a task shows here).
  local key="$section/$lang/$wl/$n/$io_ms"
  if [ -z "${group_result[$key]:-}" ]; then
    group_result[$key]=$res
  elif [ "${group_result[$key]}" != "$res" ]; then
    die "MISMATCH on $wl N=$n ($lang): $label gives $res, another runner gave ${group_result[$key]}: stopping."
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$section" "$lang" "$wl" "$label" "$n" "$workers" \
    "$io_ms" "$id" >>"$index"
  # The CPU workloads' speedup over the language's own seq at this size (seq runs first).
  local result seq=seq
  [ "$lang" = py ] && seq=py-seq
  result=$(csv_awk '{ m = get("mean"); sd = get("stddev") } END { printf "%.4f s ± %.4f", m, sd }' "$out/raw/$id.hf.csv")
  if [ "$section" = cpu ] && [ "$r" = "$seq" ] && [ -z "${LABEL:-}" ]; then
    seq_json[$key]=$out/raw/$id.json
  elif [ "$section" = cpu ] && [ -n "${seq_json[$key]:-}" ]; then
    result+="  speedup $("$PYTHON" scripts/verdict.py speedup --hyperfine "${seq_json[$key]}" "$out/raw/$id.json")"
  fi
  progress_end "$result"
}

# The internal wall_s of one run (the CSV's wall_s: workers' start to their exit).
wall_of() {
  local row
  row=$(run_row "$(cmdline "$@")")
  field "$row" wall_s
}

# calibrate lang workload runner target_s ladder... -> the first size whose run takes at
# least target_s (the largest on the ladder if none does). A run of 20 ms or more lets it
# skip ahead to half the size a linear rate predicts: one more step costs less than
# overshooting.
calibrate() {
  local lang=$1 wl=$2 r=$3 target=$4; shift 4
  local n t need=0
  for n in "$@"; do
    [ "$n" -lt "$need" ] && continue
    t=$(wall_of "$lang" "$wl" "$r" "$n" -j "$W" --seed "$SEED")
    awk -v t="$t" -v g="$target" 'BEGIN { exit !(t >= g) }' && { echo "$n"; return; }
    # Below 20 ms start-up dominates and says little about the rate: try 10x more.
    need=$(awk -v n="$n" -v t="$t" -v g="$target" \
      'BEGIN { printf "%.0f", t < 0.02 ? n * 10 : n * g / t * 0.5 }')
  done
  echo "$n"
}

cpu_size() {   # lang workload -> its timed size
  local lang=$1 wl=$2 var
  var="N_${lang^^}_$wl"
  if [ -n "${!var:-}" ]; then echo "${!var}"; return; fi
  # tiny: the registry's tiny size in C (the bench's), its test size in Python
  if [ $mode = tiny ]; then [ "$lang" = c ] && echo "${TINY_SIZE[$wl]}" || echo "${XCHECK_SIZE[$wl]}"; return; fi
  local seq=seq target
  [ "$lang" = py ] && seq=py-seq
  target=$(awk -v a="$TARGET_S" -v w="$W" 'BEGIN { print a * w }')
  # shellcheck disable=SC2086  # the ladder is one size a word
  calibrate "$lang" "$wl" "$seq" "$target" ${LADDER[$wl]}
}

for wl in "${CPU_WL[@]}"; do
  langs=(c py)
  [ "${HAS_PEER[$wl]}" = 1 ] || langs=(c)
  for lang in "${langs[@]}"; do
    n=$(cpu_size "$lang" "$wl")
    if [ "$lang" = c ]; then models=("${C_RUNNERS[@]}"); else models=("${PY_MODELS[@]}"); fi
    for r in "${models[@]}"; do
      bench cpu "$lang" "$wl" "$r" "$n" "${CPU_HF[@]}" -- -j "$W" --seed "$SEED"
    done
    # The fair pair for py-asyncio, which hands CPU work to a pool of W processes
    # (run_in_executor): epoll with W forked loops. Plain epoll runs it inline in one loop,
    # on one core, which shows that an event loop alone is concurrency, not parallelism.
    if [ "$lang" = c ] && grep -qx epoll <<<"$c_have"; then
      LABEL=epoll-loops bench cpu c "$wl" epoll "$n" "${CPU_HF[@]}" -- -j "$W" --loops "$W" --seed "$SEED"
    fi
  done
done

# noop: what one task costs to hand out. Each runner at two task counts, N and N/10, with N
# the first on noop's ladder (parlab list) that takes 0.2 s: the slope between them is the
# cost per task, with interpreter start-up and pool start cancelling out.
[ "$DO_NOOP" = 0 ] || for lang in c py; do
  if [ "$lang" = c ]; then models=("${C_RUNNERS[@]}"); else models=("${PY_MODELS[@]}"); fi
  for r in "${models[@]}"; do
    if [ $mode = tiny ]; then
      n=100
    else
      # shellcheck disable=SC2086  # the ladder is one size a word
      n=$(calibrate "$lang" noop "$r" "$TARGET_S" $NOOP_LADDER)
    fi
    for k in $((n / 10)) "$n"; do
      bench noop "$lang" noop "$r" "$k" "${NOOP_HF[@]}" -- -j "$W"
    done
  done
done

# sleep: W_IO workers (waiting needs no core, so more workers than CPUs), N tasks of IO_MS.
# Pools and threads finish in ceil(N / W_IO) rounds; an event loop waits for all at once.
# IO_MS is 50 so that each round stands clear of Python's start-up and its spread.
[ "$DO_SLEEP" = 0 ] || for lang in c py; do
  if [ "$lang" = c ]; then models=("${C_RUNNERS[@]}"); else models=("${PY_MODELS[@]}"); fi
  for r in "${models[@]}"; do
    for n in $STEPS_N; do
      bench sleep "$lang" sleep "$r" "$n" "${SLEEP_HF[@]}" -- -j "$W_IO" --io-ms "$IO_MS"
    done
  done
done
# ... and the event loops alone at up to 10,000 concurrent waits.
[ "$DO_SLEEP" = 0 ] || for n in $SCALE_N; do
  for pair in c:epoll py:py-asyncio; do
    lang=${pair%%:*}; r=${pair#*:}
    if [ "$lang" = c ] && ! grep -qx epoll <<<"$c_have"; then continue; fi
    bench scale "$lang" sleep "$r" "$n" "${SLEEP_HF[@]}" -- -j "$W_IO" --io-ms "$SCALE_IO_MS"
  done
done

# --- the rest of the tutorial: start methods, the __main__ guard, copy-on-write through
# reference counts, Manager against Value; Python beside parlab's C (peers/python/tutorial_rest.py)
if [ $mode = tiny ]; then rest_opts=(--repeat 1 --mb 8 --ops 300); else rest_opts=(--repeat 5 --mb 64 --ops 20000); fi
[ "$DO_TUTORIAL" = 0 ] || for part in start guard cow manager; do
  progress_start "tutorial: $part"
  PARLAB=$PARLAB "$PYTHON" peers/python/tutorial_rest.py "$part" "${rest_opts[@]}" --workers "$W" --format csv \
    >"$out/raw/tutorial-$part.csv" 2>"$out/raw/stderr" ||
    die "tutorial_rest.py $part failed: $(tail -n 2 "$out/raw/stderr" | tr '\n' ' ')"
  progress_end "$(($(wc -l <"$out/raw/tutorial-$part.csv") - 1)) rows"
done
# Pool(W) start under each start method, beside parlab's (parlab overhead, section start).
[ "$DO_TUTORIAL" = 0 ] ||
  csv_awk 'get("what") ~ /^Pool\(/ && get("unit") == "s" { printf "compare: Python Pool(W) ready under %s: %.1f ms\n", get("method"), get("value") * 1e3 }' \
    "$out/raw/tutorial-start.csv" >&2

# --- 3. tables, charts, page ------------------------------------------------------------------
"$PYTHON" "$REPORT" "$out" --mode "$mode" --workers "$W" --io-workers "$W_IO" \
  --parlab "$PARLAB" --seed "$SEED" --elapsed "$(($(date +%s) - t_start))" \
  --runners "${C_RUNNERS[*]}" --models "${PY_MODELS[*]}" --no-peer "${NO_PEER[*]}" ||
  die "the report could not be written"
gnuplot -e "dir='$out'" scripts/compare.gp || die "gnuplot failed on scripts/compare.gp"
# Inside a bench run, rewrite its page so that it links this one.
if [ -s "$out/../bench.conf" ]; then
  scripts/report.sh "$(dirname "$out")" || die "the bench report could not be rewritten"
fi
[ -s "$out/trust.txt" ] && say "trust at the end: $(cat "$out/trust.txt")"
say "done in $(($(date +%s) - t_start)) s: $out/index.html"
