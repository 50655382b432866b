#!/usr/bin/env bash
# sweep-weak.sh: weak scaling. The problem grows with the cores (N = K x N0 on K cores) and
# the scaled speedup S_K = T(K x N0, 1 core) / T(K x N0, K cores) is plotted against K with
# Gustafson's line S = K - e (K - 1) where a least-squares fit can be made (≥ 3 core counts:
# scripts/weak-plot.sh) and the ideal S = K, one plot per workload.
#
# usage: scripts/sweep-weak.sh OUT_DIR
#   writes OUT_DIR/weak.csv (workload,runner,cores,size,mean,sd,scaled_speedup,
#   scaled_speedup_err,efficiency,gustafson_e,one_core) and OUT_DIR/plots/weak-WORKLOAD.{png,svg}.
# Every CPU workload of the registry is swept (`parlab list --format csv`): N0 is its
# weak_size (tiny_size in tiny mode), with its bench_args (tiny_args). One core's time at
# K x N0 is K x T(N0, 1 core) where the registry says the work is linear in N (flag
# "linear": sumsq, montecarlo; one_core "linear"), and is measured otherwise (primes,
# whose trial division grows faster than N, n-body's N^2 pairs; one_core "measured").
# Environment: PARLAB (default bin/parlab), PARLAB_BENCH_TINY=1 (tiny sizes, for tests),
#   PARLAB_WEAK_WORKLOADS (default: the CPU workloads of the registry, those of
#   PARLAB_BENCH_WORKLOADS where it is set), PARLAB_WEAK_RUNNERS (default "fork
#   thread"), PARLAB_BENCH_CORES (default 1..nproc), PARLAB_WEAK_REPEAT (default 5),
#   PYTHON (default /usr/bin/python3: the intervals, scripts/verdict.py).
# A line per point on stderr (scripts/progress.sh): "[i/N elapsed, ~left]", the point, its
# mean ± sd and scaled speedup with its 95% interval.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/progress.sh"
. "$here/csv.sh"   # every CSV read by its header: csv_awk
die() { progress_break; echo "sweep-weak: $*" >&2; exit 64; }
fail() { progress_break; echo "sweep-weak: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: scripts/sweep-weak.sh OUT_DIR"
out=$1
[ -d "$out" ] || die "$out: no such folder"
PARLAB=${PARLAB:-bin/parlab}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PARLAB" ] || die "$PARLAB is not an executable: run make first"
nproc=$(nproc)
tiny=${PARLAB_BENCH_TINY:-0}
list=$("$PARLAB" list --format csv) || fail "$PARLAB list --format csv failed"
# Per CPU workload of the registry: N0, the run options, and whether the work is linear.
declare -A n0 args linear
if [ "$tiny" != 0 ]; then size_col=tiny_size args_col=tiny_args; else size_col=weak_size args_col=bench_args; fi
cpu=()
while IFS='|' read -r w n a f; do
  cpu+=("$w"); n0[$w]=$n; args[$w]=$a
  case " $f " in *" linear "*) linear[$w]=1 ;; *) linear[$w]=0 ;; esac
done < <(csv_awk -v s="$size_col" -v a="$args_col" 'get("type") == "workload" && get("kind") == "cpu" {
           print get("name") "|" get(s) "|" get(a) "|" get("flags") }' <<< "$list")
# By default every CPU workload, or those of them the bench sweeps (PARLAB_BENCH_WORKLOADS).
swept=""
for w in "${cpu[@]}"; do
  case " ${PARLAB_BENCH_WORKLOADS:-${cpu[*]}} " in *" $w "*) swept+=" $w" ;; esac
done
read -ra workloads <<< "${PARLAB_WEAK_WORKLOADS:-$swept}"
read -ra runners <<< "${PARLAB_WEAK_RUNNERS:-fork thread}"
read -ra cores <<< "${PARLAB_BENCH_CORES:-$(seq -s ' ' 1 "$nproc")}"
repeat=${PARLAB_WEAK_REPEAT:-5}
[ "$tiny" = 0 ] || repeat=1
for w in "${workloads[@]}"; do
  [ -n "${n0[$w]:-}" ] || die "workload $w: not a CPU workload of '$PARLAB list' (${cpu[*]})"
done
# --warmup 0 where parlab run has a warm-up: each row here is one timed run.
warm=(); "$PARLAB" run --help 2>&1 | grep -q -- --warmup && warm=(--warmup 0)

# timed W R N K LABEL: run W under R at -n N on K cores, REPEAT times; TIMES holds the
# wall_s of each run, one a line (a variable, not stdout: the progress count lives in this
# shell). Stops the sweep on a failure or a wrong result. An answer too large
# to recompute (verified=unchecked) is timed all the same, with a warning.
timed() {
  local w=$1 r=$2 n=$3 k=$4 got
  progress_start "weak: $w $r --cores $k -j $k -n $n$5"
  # shellcheck disable=SC2086  # the registry's run options are words on purpose
  got=$("$PARLAB" run -w "$w" -r "$r" -n "$n" -j "$k" --cores "$k" --repeat "$repeat" \
          "${warm[@]}" ${args[$w]} --format csv) ||
    fail "'$PARLAB run -w $w -r $r -n $n -j $k --cores $k ${args[$w]}' failed"
  # wall_s of each repeat; none may be wrong (verified no): yes, ref (seq's own reference)
  # and unchecked pass, the last with a warning
  TIMES=$(csv_awk '{ if (get("verified") == "no") bad = 1; print get("wall_s"); n++ }
    END { exit (bad || !n) }' <<< "$got") || fail "$w $r --cores $k -n $n: a result was not verified"
  if csv_awk 'get("verified") == "unchecked" { f = 1 } END { exit !f }' <<< "$got"; then
    echo "[weak] warning: $w -n $n: verified=unchecked (too large to recompute): timed, not verified" >&2
  fi
}
# vstat CODE ARGS...: Python with scripts/verdict.py as v, the one home of the statistics.
vstat() { "$PYTHON" -c "import sys; sys.path.insert(0, sys.argv.pop(1)); import verdict as v
$1" "$here" "${@:2}"; }
mean_sd() {   # the runs on stdin: their mean and sample standard deviation (0 for one run)
  vstat 'xs = sys.stdin.read().split(); print("%.9f %.9f" % (v.mean(xs), v.stddev(xs) or 0.0))'
}
msd_text() { awk '{ printf "%.4f s ± %.4f", $1, $2 }'; }   # "mean sd" as the lines show it

csv="$out/weak.csv"
mkdir -p "$out/plots"
echo "workload,runner,cores,size,mean_s,stddev_s,scaled_speedup,scaled_speedup_err,efficiency,gustafson_e,one_core" > "$csv"
# The points, and the one-core references measured apart: at every K but 1 where the work
# is not linear; at N0 where it is and the core counts leave out 1.
steps=0
for w in "${workloads[@]}"; do
  for k in "${cores[@]}"; do
    steps=$((steps + 1))
    if [ "${linear[$w]}" = 0 ] && [ "$k" != 1 ]; then steps=$((steps + 1)); fi
  done
  case " ${cores[*]} " in *" 1 "*) ;; *) [ "${linear[$w]}" = 0 ] || steps=$((steps + 1)) ;; esac
done
progress_begin $((steps * ${#runners[@]}))
for w in "${workloads[@]}"; do
  for r in "${runners[@]}"; do
    rows="" unit=""
    # One core at N0: the unit a linear workload's references are K times.
    if [ "${linear[$w]}" = 1 ]; then
      case " ${cores[*]} " in
        *" 1 "*) ;;
        *) timed "$w" "$r" "${n0[$w]}" 1 " (one-core reference)"; unit=$TIMES
           progress_end "$(mean_sd <<< "$unit" | msd_text)" ;;
      esac
    fi
    for k in "${cores[@]}"; do
      n=$(( ${n0[$w]} * k ))
      timed "$w" "$r" "$n" "$k" ""; times=$TIMES
      stats=$(mean_sd <<< "$times")
      if [ "$k" = 1 ]; then
        ref=$times scale=1
        [ "${linear[$w]}" = 0 ] || unit=$times
      elif [ "${linear[$w]}" = 1 ]; then
        ref=$unit scale=$k
      else
        ref=""
      fi
      [ -z "$ref" ] || progress_end "$(msd_text <<< "$stats"), scaled speedup $("$PYTHON" "$here/verdict.py" speedup --scale "$scale" $ref / $times)"
      if [ -z "$ref" ]; then
        # One core's time at this N, measured (the work is not linear in N).
        progress_end "$(msd_text <<< "$stats")"
        timed "$w" "$r" "$n" 1 " (one-core reference)"; ref=$TIMES scale=1
        progress_end "$(mean_sd <<< "$ref" | msd_text), scaled speedup at $k cores $("$PYTHON" "$here/verdict.py" speedup $ref / $times)"
      fi
      # the one-core reference's mean and sd: K × those at N0 where the work is linear
      refstats=$(mean_sd <<< "$ref" | awk -v s="$scale" '{ printf "%.9f %.9f\n", s * $1, s * $2 }')
      rows+="$k $n $stats $refstats"$'\n'
    done
    # scaled speedup against the one-core reference, its error from both spreads, and the
    # serial fraction e that Gustafson's law S = K - e (K - 1) gives at the largest K (one
    # point's figure, as Karp-Flatt's is: the line drawn is the least-squares fit,
    # gustafson.csv)
    # (rows: K N mean sd ref_mean ref_sd)
    printf '%s' "$rows" | vstat '
rows = [[float(x) for x in l.split()] for l in sys.stdin.read().splitlines() if l.strip()]
w, r, how = sys.argv[1:4]
if any(x[2] <= 0 or x[4] <= 0 for x in rows):
    sys.exit(1)
K = int(rows[-1][0]); S = v.speedup(rows[-1][4], rows[-1][2])
e = min(1.0, max(0.0, (K - S) / (K - 1))) if K > 1 else 0.0
for k, n, m, s, rm, rs in rows:
    Si = v.speedup(rm, m)
    print("%s,%s,%d,%d,%.9f,%.9f,%.4f,%.4f,%.4f,%.4f,%s" % (w, r, k, n, m, s, Si, v.speedup_err(rm, rs, m, s),
                                                          Si / k, e, how))' \
      "$w" "$r" "$([ "${linear[$w]}" = 1 ] && echo linear || echo measured)" >> "$csv" ||
      fail "$w $r: a time of zero: no scaled speedup"
  done
done
# Gustafson's law fitted per runner (only with ≥ 3 core counts) and the plots.
[ ${#workloads[@]} -eq 0 ] || "$here/weak-plot.sh" "$out" || fail "scripts/weak-plot.sh failed"
[ ${#workloads[@]} -gt 0 ] || echo "[weak] no CPU workload among the swept ones: nothing to do"
echo "[weak] $csv"
