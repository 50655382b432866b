#!/usr/bin/env bash
# sweep-weak.sh: weak scaling. The problem grows with the cores (N = K x N0 on K cores) and
# the scaled speedup S_K = K x T(N0, 1 core) / T(K x N0, K cores) is plotted against K with
# Gustafson's line S = K - e (K - 1) where a least-squares fit can be made (≥ 3 core counts:
# scripts/weak-plot.sh) and the ideal S = K, one plot per workload.
#
# usage: scripts/sweep-weak.sh OUT_DIR
#   writes OUT_DIR/weak.csv (workload,runner,cores,size,mean,sd,scaled_speedup,
#   scaled_speedup_err,efficiency,gustafson_e) and OUT_DIR/plots/weak-WORKLOAD.{png,svg}.
# The work of sumsq and montecarlo is linear in N, so K x T(N0, 1 core) is what seq would
# take on K x N0; primes (trial division) grows faster than N and is left out by default.
# Environment: PARLAB (default bin/parlab), PARLAB_BENCH_TINY=1 (tiny sizes, for tests),
#   PARLAB_WEAK_WORKLOADS (default: sumsq and montecarlo where PARLAB_BENCH_WORKLOADS
#   has them), PARLAB_WEAK_RUNNERS (default "fork
#   thread"), PARLAB_BENCH_CORES (default 1..nproc), PARLAB_WEAK_REPEAT (default 5),
#   PYTHON (default /usr/bin/python3: the intervals, scripts/verdict.py).
# A line per point on stderr (scripts/progress.sh): "[i/N elapsed, ~left]", the point, its
# mean ± sd and scaled speedup with its 95% interval.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/progress.sh"
die() { progress_break; echo "sweep-weak: $*" >&2; exit 64; }
[ $# -eq 1 ] || die "usage: scripts/sweep-weak.sh OUT_DIR"
out=$1
[ -d "$out" ] || die "$out: no such folder"
PARLAB=${PARLAB:-bin/parlab}
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PARLAB" ] || die "$PARLAB is not an executable: run make first"
nproc=$(nproc)
tiny=${PARLAB_BENCH_TINY:-0}
# By default the linear workloads among those the bench sweeps (PARLAB_BENCH_WORKLOADS).
linear=""
for w in sumsq montecarlo; do
  case " ${PARLAB_BENCH_WORKLOADS:-sumsq montecarlo} " in *" $w "*) linear+=" $w" ;; esac
done
read -ra workloads <<< "${PARLAB_WEAK_WORKLOADS:-$linear}"
read -ra runners <<< "${PARLAB_WEAK_RUNNERS:-fork thread}"
read -ra cores <<< "${PARLAB_BENCH_CORES:-$(seq -s ' ' 1 "$nproc")}"
repeat=${PARLAB_WEAK_REPEAT:-5}
declare -A n0=([sumsq]=250000000 [montecarlo]=100000000 [mandelbrot]=1000 [primes]=1000000)
if [ "$tiny" != 0 ]; then
  repeat=1
  n0=([sumsq]=2000000 [montecarlo]=1000000 [mandelbrot]=200 [primes]=20000)
fi
# --warmup 0 where parlab run has a warm-up: each row here is one timed run.
warm=(); "$PARLAB" run --help 2>&1 | grep -q -- --warmup && warm=(--warmup 0)

csv="$out/weak.csv"
mkdir -p "$out/plots"
echo "workload,runner,cores,size,mean,sd,scaled_speedup,scaled_speedup_err,efficiency,gustafson_e" > "$csv"
for w in "${workloads[@]}"; do
  [ -n "${n0[$w]:-}" ] || die "workload $w: no base size N0 (sumsq montecarlo mandelbrot primes)"
done
progress_begin $(( ${#workloads[@]} * ${#runners[@]} * ${#cores[@]} ))
for w in "${workloads[@]}"; do
  for r in "${runners[@]}"; do
    rows="" base=""
    for k in "${cores[@]}"; do
      n=$(( ${n0[$w]} * k ))
      progress_start "weak: $w $r --cores $k -j $k -n $n"
      got=$("$PARLAB" run -w "$w" -r "$r" -n "$n" -j "$k" --cores "$k" --repeat "$repeat" \
              "${warm[@]}" --format csv) || die "'$PARLAB run -w $w -r $r -n $n -j $k --cores $k' failed"
      # mean and sample standard deviation of wall_s (column 10) over the repeats;
      # no repeat may be wrong (column 17 no); yes, ref (seq's own reference) and unchecked
      # pass, the last with a warning below
      stats=$(printf '%s\n' "$got" | awk -F, 'NR > 1 { if ($17 == "no") bad = 1; x[++n] = $10; s += $10 }
        END { if (bad || !n) exit 1; m = s / n; for (i = 1; i <= n; i++) v += (x[i] - m) ^ 2
              printf "%.9f,%.9f\n", m, (n > 1 ? sqrt(v / (n - 1)) : 0) }') ||
        die "$w $r --cores $k: a result was not verified"
      # The scaled speedup K x T(N0, 1 core) / T(K x N0, K cores) over the runs, with its
      # interval (scripts/verdict.py), against the first core count's runs.
      times=$(printf '%s\n' "$got" | awk -F, 'NR > 1 && NF > 10 { print $10 }')
      [ -n "$base" ] || base=$times
      progress_end "$(awk -F, -v s="$stats" 'BEGIN { split(s, a, ","); printf "%.4f s ± %.4f", a[1], a[2] }'), scaled speedup $("$PYTHON" "$here/verdict.py" speedup --scale "$k" $base / $times)"
      # unchecked: too large to recompute within the limit; timed all the same, and said so
      if printf '%s\n' "$got" | awk -F, 'NR > 1 && $17 == "unchecked" { f = 1 } END { exit !f }'; then
        echo "[weak] warning: $w -n $n: verified=unchecked (too large to recompute): timed, not verified" >&2
      fi
      rows+="$k,$n,$stats"$'\n'
    done
    # scaled speedup against the 1-core point, its error from both spreads, and the serial
    # fraction e that Gustafson's law S = K - e (K - 1) gives at the largest K (one point's
    # figure, as Karp-Flatt's is: the line drawn is the least-squares fit, gustafson.csv)
    printf '%s' "$rows" | awk -F, -v w="$w" -v r="$r" '
      { k[NR] = $1; n[NR] = $2; m[NR] = $3; s[NR] = $4 }
      END {
        K = k[NR]; if (m[1] <= 0 || m[NR] <= 0) exit 1; S = K * m[1] / m[NR]
        e = K > 1 ? (K - S) / (K - 1) : 0; if (e < 0) e = 0; if (e > 1) e = 1
        for (i = 1; i <= NR; i++) {
          Si = k[i] * m[1] / m[i]
          dS = Si * sqrt((s[1] / m[1]) ^ 2 + (s[i] / m[i]) ^ 2)
          printf "%s,%s,%d,%d,%.9f,%.9f,%.4f,%.4f,%.4f,%.4f\n", w, r, k[i], n[i], m[i], s[i], Si, dS, Si / k[i], e
        }
      }' >> "$csv"
  done
done
# Gustafson's law fitted per runner (only with ≥ 3 core counts) and the plots.
[ ${#workloads[@]} -eq 0 ] || "$here/weak-plot.sh" "$out" || die "scripts/weak-plot.sh failed"
[ ${#workloads[@]} -gt 0 ] || echo "[weak] no workload linear in N among the swept ones: nothing to do"
echo "[weak] $csv"
