#!/usr/bin/env bash
# mutants.sh: break the code on purpose, one mutation at a time (a point, a number, a row
# or a body dropped per task, a step skipped, a wrong random stream, ...), rebuild, and
# check whether verification catches it at the sizes users run: exit 1 ("caught") or
# exit 0 ("MISSED"). Prints one line per mutant and size, and a summary.
#
# usage: scripts/mutants.sh [NAME...]        (default: every mutant; -l lists them)
#
# It works in a scratch copy of the tree (tracked files plus build/), so the checkout is
# never changed. Each mutant rebuilds one file; the runs use the thread runner (2 workers)
# except where the mutant is in a runner. A MISSED line at a size whose check is `seq` or
# `5-sigma` is the honest limit of that check, not a bug: the table says which check ran.
set -uo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

# name | file | sed expression | workload | runner
MUTANTS=(
  "primes-last-number|workloads/primes.c|s/for (uint64_t n = lo; n < hi; n++)/for (uint64_t n = lo; n + 1 < hi; n++)/|primes|thread"
  "primes-square-test|workloads/primes.c|s/d \* d <= n; d += 2/d * d < n; d += 2/|primes|thread"
  "sumsq-first-term|workloads/sumsq.c|s/for (uint64_t i = lo; i < hi; i++)/for (uint64_t i = lo + 1; i < hi; i++)/|sumsq|thread"
  "montecarlo-point-per-task|workloads/montecarlo.c|s/for (uint64_t i = lo; i < hi; i++)/for (uint64_t i = lo; i + 1 < hi; i++)/|montecarlo|thread"
  "montecarlo-100-points-per-task|workloads/montecarlo.c|s/for (uint64_t i = lo; i < hi; i++)/for (uint64_t i = lo + 100; i < hi; i++)/|montecarlo|thread"
  "montecarlo-wrong-stream|workloads/montecarlo.c|s/key = rng_key(job->seed)/key = rng_key(job->seed + 1)/|montecarlo|thread"
  "mandelbrot-last-row|workloads/mandelbrot.c|s/for (uint64_t row = lo; row < hi; row++)/for (uint64_t row = lo; row + 1 < hi; row++)/|mandelbrot|thread"
  "mandelbrot-maxiter|workloads/mandelbrot.c|s/#define MAXITER 500/#define MAXITER 499/|mandelbrot|thread"
  "nbody-last-body|workloads/nbody.c|s/for (uint64_t i = lo; i < hi; i++) {/for (uint64_t i = lo; i + 1 < hi; i++) {/|nbody|thread"
  "nbody-one-pull-missing|workloads/nbody.c|s/for (uint64_t j = 0; j < b->n; j++) {/for (uint64_t j = 0; j + 1 < b->n; j++) {/|nbody|thread"
  "seq-skips-last-step|runners/seq.c|s/s < job->steps/s + 1 < job->steps/|nbody|seq"
)

# Sizes per workload: parlab's default, make bench QUICK=1, make bench, and one size off
# every recorded table (what is left there is the fallback check).
declare -A SIZES=(
  [primes]="default 2300000 3M 2345678"
  [sumsq]="default 350M 500M 12345"
  [montecarlo]="default 120M 200M 1234567"
  [mandelbrot]="default 640000 1M 40000"
  [nbody]="default 2300 2800 500"
)

names() { for m in "${MUTANTS[@]}"; do echo "${m%%|*}"; done; }
case ${1:-} in
  -l) names; exit 0 ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
want=("$@")

[ -x bin/parlab ] && [ -d build ] || { echo "mutants: run make first" >&2; exit 1; }
scratch=$(mktemp -d /tmp/parlab-mutants-XXXXXX) || exit 1
trap 'rm -rf "$scratch"' EXIT
git ls-files -z | xargs -0 cp -p --parents -t "$scratch" || exit 1
cp -a build bin "$scratch"/

caught=0 missed=0 total=0
printf '%-32s %-10s %-8s %-6s %-10s %s\n' mutant workload size exit check verdict
for m in "${MUTANTS[@]}"; do
  IFS='|' read -r name file expr wl runner <<<"$m"
  if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qx "$name"; then continue; fi
  cp "$file" "$scratch/$file"
  sed -i "$expr" "$scratch/$file"
  if cmp -s "$file" "$scratch/$file"; then
    echo "mutants: $name: the expression no longer matches $file: update it" >&2
    exit 1
  fi
  if ! make -C "$scratch" -j2 bin/parlab >"$scratch/build.log" 2>&1; then
    echo "mutants: $name does not build:" >&2; tail -n 5 "$scratch/build.log" >&2; exit 1
  fi
  for n in ${SIZES[$wl]}; do
    args=(run -w "$wl" -r "$runner" -j 2 --format csv)
    [ "$n" = default ] || args+=(-n "$n")
    out=$("$scratch/bin/parlab" "${args[@]}" 2>/dev/null)
    rc=$?
    check=$(printf '%s\n' "$out" | tail -n 1 | cut -d, -f18)
    total=$((total + 1))
    if [ $rc -eq 1 ]; then verdict=caught; caught=$((caught + 1))
    elif [ $rc -eq 0 ]; then verdict=MISSED; missed=$((missed + 1))
    else verdict="exit $rc"; fi
    printf '%-32s %-10s %-8s %-6s %-10s %s\n' "$name" "$wl" "$n" "$rc" "${check:--}" "$verdict"
  done
  cp "$file" "$scratch/$file"   # the next mutant starts from the real code
done
echo "# $caught of $total runs caught, $missed missed"
