#!/usr/bin/env bash
# scaling.sh: the numbers behind docs/scaling.md, measured here, and the model worked out
# from them: at how many ranks one rank-0 farmer saturates, and what chunk keeps it busy
# but not swamped at 64, 1,024 and 16,384 ranks. Prints Markdown.
#
# usage: scripts/scaling.sh [REPEAT]        (default 5; needs bin/parlab-mpi)
# environment: PARLAB (default bin/parlab)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
PARLAB=${PARLAB:-bin/parlab}
MPI=$(dirname "$PARLAB")/parlab-mpi
R=${1:-5}
[[ $R =~ ^[1-9][0-9]*$ ]] || { echo "scaling: REPEAT must be a count" >&2; exit 64; }
[ -x "$MPI" ] || { echo "scaling: $MPI is not built (install Open MPI, then make)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "scaling: mpirun is not in PATH" >&2; exit 1; }

# The settings parlab uses, and a private folder for Open MPI's files, removed at the end.
eval "$("$MPI" env)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parlab-scaling.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export OMPI_MCA_orte_tmpdir_base=$tmp OMPI_MCA_btl_vader_backing_directory=$tmp

# Bench sizes: from the registry where it says (parlab list --format csv), else bench.sh's.
declare -A size=([primes]=3M [sumsq]=500M [montecarlo]=200M [mandelbrot]=1M [nbody]=2800)
if csv=$("$PARLAB" list --format csv 2>/dev/null) && [ -n "$csv" ]; then
  while IFS=, read -r type name _ _ _ _ _ _ _ _ _ bench _; do
    [ "$type" = workload ] && [ -n "$bench" ] && size[$name]=$bench
  done <<< "$csv"
fi

# One-way message latency and the farm's per-task cost (chunk 1), rank 0's service time.
ov=$(mpirun -np 2 "$MPI" overhead --repeat "$R" --format csv)
lat=$(awk -F, '$3 ~ /ping-pong/ { print $6 }' <<< "$ov")
farm=$(awk -F, '$3 ~ /farm dynamic/ { print $6 }' <<< "$ov")
host=$(hostname)

echo "## Measured on $host ($(date -u +%Y-%m-%d), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "- one-way latency of an 8-byte message between two ranks (shared memory): **$(awk -v v="$lat" 'BEGIN { printf "%.2f us", v / 1000 }')** (median of $R)"
echo "- rank 0's cost per chunk it hands out (the farm at chunk 1, noop tasks): **$(awk -v v="$farm" 'BEGIN { printf "%.2f us", v / 1000 }')** (median of $R)"
echo
echo "| workload | size | seq wall (s) | tasks | work per task (ms) | work per item (ns) |"
echo "|---|---|---|---|---|---|"
rows=()
for w in primes sumsq montecarlo mandelbrot nbody; do
  [ -n "${size[$w]:-}" ] || continue
  line=$("$PARLAB" run -w "$w" -r seq -n "${size[$w]}" --repeat "$R" --format csv | tail -n +2 |
         awk -F, '{ s += $10; n++; t = $6; N = $2; st = $9 } END { printf "%s %s %s %s\n", s / n, t, N, st }')
  read -r wall tasks N steps <<< "$line"
  # A step is one map: the farm hands out the tasks of every step.
  awk -v w="$w" -v sz="${size[$w]}" -v wall="$wall" -v t="$tasks" -v N="$N" -v s="$steps" 'BEGIN {
    printf "| %s | %s | %.3f | %d x %d steps | %.3f | %.2f |\n", w, sz, wall, t, s, wall / (t * s) * 1e3, wall / (N * s) * 1e9 }'
  rows+=("$w $wall $tasks $steps $N")
done
echo
echo "## The model: one farmer"
echo
echo "Rank 0 spends s = $(awk -v v="$farm" 'BEGIN { printf "%.2f", v / 1000 }') us per chunk. With chunks of work c, the P-1 other ranks ask"
echo "(P-1)/c times per second of work, so rank 0 is saturated when (P-1) s >= c: at"
echo "P_sat = 1 + c/s ranks. To keep it at most half busy at P ranks, a chunk must hold"
echo "c >= 2 (P-1) s of work; and for the chunks to balance the load there must be some"
echo "4 P of them, so the job must hold 8 P (P-1) s of work in all."
echo
echo "| workload | P_sat at today's task (chunk 1) | work per chunk at 64 / 1,024 / 16,384 ranks | items per chunk at 64 / 1,024 / 16,384 | total work needed at 16,384 ranks | ranks today's job can feed |"
echo "|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
  read -r w wall tasks steps N <<< "$r"
  awk -v w="$w" -v wall="$wall" -v t="$tasks" -v st="$steps" -v N="$N" -v s="$farm" 'BEGIN {
    s /= 1e9; task = wall / (t * st); item = wall / (N * st)
    psat = 1 + task / s
    c64 = 2 * 63 * s; c1k = 2 * 1023 * s; c16k = 2 * 16383 * s
    need = 8 * 16384 * 16383 * s
    pmax = sqrt(wall / st / (8 * s))
    printf "| %s | %.0f | %.3g / %.3g / %.3g ms | %.3g / %.3g / %.3g | %.3g s per step | %.0f |\n",
      w, psat, c64 * 1e3, c1k * 1e3, c16k * 1e3, c64 / item, c1k / item, c16k / item, need, pmax }'
done
echo
echo "Across nodes s grows with the network: about 1-3 us on InfiniBand, 20-50 us over TCP;"
echo "every work figure above grows in proportion. Static scheduling sends no request at all"
echo "(one gather at the end); a hierarchical farm (G group leaders, each farming P/G ranks"
echo "and asking the top for large chunks) divides rank 0's load by P/G."
