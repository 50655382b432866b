#!/usr/bin/env bash
# mutants.sh: break the code on purpose, one mutation at a time (a point, a hit, a pixel, a
# row or a body wrong, a step skipped, a wrong random stream, ...), rebuild, and check that
# verification catches it at recorded sizes and at sizes with no recorded answer, under
# seq, thread, fork and (where bin/parlab-mpi is built) mpi. Caught: exit 1 with
# verified=no. Anything else is a failure: MISSED (exit 0, the row said yes or unchecked)
# or ERROR (another exit status). Prints one line per mutant, size and runner, and a
# summary; exits 0 only when every run was caught.
#
# usage: scripts/mutants.sh [--quick] [NAME...]   (default: every mutant; -l lists them)
#   --quick  small sizes, one recorded and one unrecorded per workload (make test
#            runs this: about a minute on 2 cores); without it, parlab's default and the
#            bench sizes, and the unrecorded sizes where mutants once passed as verified
#
# It works in a scratch copy of the tree (tracked files plus build/ and bin/), so the
# checkout is never changed. Each mutant rebuilds one file and relinks parlab (and
# parlab-mpi: the ranks run the workload code too).
set -uo pipefail
export LC_ALL=C
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1
. "$root/scripts/csv.sh"

# name | file | sed expression | workload | runners ("all": seq thread fork mpi)
MUTANTS=(
  "primes-last-number|workloads/primes.c|s/for (uint64_t n = lo; n < hi; n++)/for (uint64_t n = lo; n + 1 < hi; n++)/|primes|all"
  "primes-square-test|workloads/primes.c|s/d \* d <= n; d += 2/d * d < n; d += 2/|primes|all"
  "sumsq-first-term|workloads/sumsq.c|s/for (uint64_t i = lo; i < hi; i++)/for (uint64_t i = lo + 1; i < hi; i++)/|sumsq|all"
  "montecarlo-point-per-task|workloads/montecarlo.c|s/for (uint64_t i = lo; i < hi; i++)/for (uint64_t i = lo; i + 1 < hi; i++)/|montecarlo|all"
  "montecarlo-100-points-per-task|workloads/montecarlo.c|s/for (uint64_t i = lo; i < hi; i++)/for (uint64_t i = lo + 100; i < hi; i++)/|montecarlo|all"
  "montecarlo-wrong-stream|workloads/montecarlo.c|s/key = rng_key(job->seed)/key = rng_key(job->seed + 1)/|montecarlo|all"
  "montecarlo-extra-hit-task-0|workloads/montecarlo.c|s/.count = hits, .sum = tested/.count = hits + (task == 0), .sum = tested/|montecarlo|all"
  "mandelbrot-last-row|workloads/mandelbrot.c|s/for (uint64_t row = lo; row < hi; row++)/for (uint64_t row = lo; row + 1 < hi; row++)/|mandelbrot|all"
  "mandelbrot-maxiter|workloads/mandelbrot.c|s/#define MAXITER 500/#define MAXITER 499/|mandelbrot|all"
  "mandelbrot-one-pixel-plus-1|workloads/mandelbrot.c|s/unsigned k = 0;/unsigned k = row + col == 0;/|mandelbrot|all"
  "nbody-last-body|workloads/nbody.c|s/for (uint64_t i = lo; i < hi; i++) {/for (uint64_t i = lo; i + 1 < hi; i++) {/|nbody|all"
  "nbody-one-pull-missing|workloads/nbody.c|s/for (uint64_t j = 0; j < b->n; j++) {/for (uint64_t j = 0; j + 1 < b->n; j++) {/|nbody|all"
  "nbody-body-0-unmoved-in-step-1|workloads/nbody.c|s/q\[i\] = (struct vec3){/q[i] = i == 0 \&\& step == 1 ? p[i] : (struct vec3){/|nbody|all"
  "seq-skips-last-step|runners/seq.c|s/s < job->steps/s + 1 < job->steps/|nbody|seq"
)

# Sizes per workload, as `parlab run` arguments separated by |: a recorded size (or the
# published or closed-form one) and sizes with no recorded answer.
declare -A QUICK=(
  [primes]="-n 10000|-n 30011"
  [sumsq]="-n 1000|-n 12345"
  [montecarlo]="-n 20000 --seed 7|-n 999"
  [mandelbrot]="-n 2500|-n 7777"
  [nbody]="-n 60 --steps 3 --seed 7|-n 301 --steps 4"
)
# parlab's default, make bench QUICK=1 and make bench, then unrecorded sizes (among them
# those where mutants once passed as verified).
declare -A FULL=(
  [primes]="default|-n 2300000|-n 3M|-n 2345678"
  [sumsq]="default|-n 350M|-n 500M|-n 12345"
  [montecarlo]="default|-n 120M|-n 200M|-n 1234567|-n 999"
  [mandelbrot]="default|-n 640000|-n 1M|-n 40001|-n 7777"
  [nbody]="default|-n 2300|-n 2800|-n 301 --steps 4|-n 500 --steps 10"
)

names() { for m in "${MUTANTS[@]}"; do echo "${m%%|*}"; done; }
quick=0
case ${1:-} in
  -l) names; exit 0 ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  --quick) quick=1; shift ;;
esac
want=("$@")
for w in "${want[@]}"; do
  names | grep -qx -- "$w" || { echo "mutants: $w: no such mutant (-l lists them)" >&2; exit 64; }
done

[ -x bin/parlab ] && [ -d build ] || { echo "mutants: run make first" >&2; exit 1; }
all_runners=(seq thread fork)
targets=(bin/parlab)
if [ -x bin/parlab-mpi ]; then all_runners+=(mpi); targets+=(bin/parlab-mpi); fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/parlab-mutants-XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
scripts/scratch.sh "$scratch" || exit 1   # the tracked files, build/ and bin/

# The control: the real code, at every size and under every runner, verifies (yes, exit 0);
# otherwise a "caught" below would mean nothing.
runone() {  # runone WORKLOAD RUNNER SIZE: sets rc, verified, check
  local args=(run -w "$1" -r "$2" -j 2 --repeat 1 --warmup 0 --format csv) extra out
  [ "$3" = default ] || { read -ra extra <<<"$3"; args+=("${extra[@]}"); }
  out=$("$scratch/bin/parlab" "${args[@]}" 2>"$scratch/err")
  rc=$?
  verified=$(csv_get verified <<< "$out")
  check=$(csv_get check <<< "$out")
}
sizes_of() { if [ $quick = 1 ]; then echo "${QUICK[$1]}"; else echo "${FULL[$1]}"; fi; }
declare -A seen=()
for m in "${MUTANTS[@]}"; do
  IFS='|' read -r name _ _ wl _ <<<"$m"
  if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qx -- "$name"; then continue; fi
  [ -n "${seen[$wl]:-}" ] && continue
  seen[$wl]=1
  IFS='|' read -ra sizelist <<<"$(sizes_of "$wl")"
  for size in "${sizelist[@]}"; do
    for r in "${all_runners[@]}"; do
      runone "$wl" "$r" "$size"
      if [ $rc -ne 0 ] || [ "$verified" != yes ]; then
        echo "mutants: the real code does not verify: $wl -r $r $size: exit $rc, verified ${verified:--}: $(head -c 200 "$scratch/err")" >&2
        exit 1
      fi
    done
  done
done

caught=0 failed=0 total=0
printf '%-31s %-7s %-28s %-5s %-10s %-12s %s\n' mutant runner size exit verified check verdict
for m in "${MUTANTS[@]}"; do
  IFS='|' read -r name file expr wl runners <<<"$m"
  if [ ${#want[@]} -gt 0 ] && ! printf '%s\n' "${want[@]}" | grep -qx -- "$name"; then continue; fi
  cp "$file" "$scratch/$file"
  sed -i "$expr" "$scratch/$file"
  if cmp -s "$file" "$scratch/$file"; then
    echo "mutants: $name: the expression no longer matches $file: update it" >&2
    exit 1
  fi
  # not the calling make's jobserver or flags (make test runs this through parlab-tests)
  if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$scratch" -j2 "${targets[@]}" >"$scratch/build.log" 2>&1; then
    echo "mutants: $name does not build:" >&2; tail -n 5 "$scratch/build.log" >&2; exit 1
  fi
  [ "$runners" = all ] && runners="${all_runners[*]}"
  IFS='|' read -ra sizelist <<<"$(sizes_of "$wl")"
  for size in "${sizelist[@]}"; do
    for r in $runners; do
      runone "$wl" "$r" "$size"
      total=$((total + 1))
      if [ $rc -eq 1 ] && [ "$verified" = no ]; then verdict=caught; caught=$((caught + 1))
      elif [ $rc -eq 0 ]; then verdict=MISSED; failed=$((failed + 1))
      else verdict="ERROR: $(head -c 200 "$scratch/err" | tr '\n' ' ')"; failed=$((failed + 1)); fi
      printf '%-31s %-7s %-28s %-5s %-10s %-12s %s\n' "$name" "$r" "$size" "$rc" \
        "${verified:--}" "${check:--}" "$verdict"
    done
  done
  cp "$file" "$scratch/$file"   # the next mutant starts from the real code
done
echo "# $caught of $total runs caught, $failed not (runners: ${all_runners[*]})"
[ $failed -eq 0 ] && [ $total -gt 0 ]
