#!/usr/bin/env bash
# scaling.sh: the numbers behind docs/scaling.md, measured here, and the model worked out
# from them: at how many ranks one rank-0 farmer saturates, and what chunk keeps it busy
# but not swamped at 64, 1,024 and 16,384 ranks. Prints Markdown.
#
# Then the farm's METG over shared memory and over TCP on loopback: the model's figure
# checked against this machine's at 2 and 4 ranks, and projected to 16 nodes and 1,024
# ranks.
#
# usage: scripts/scaling.sh [REPEAT]        (default 5; needs bin/parlab-mpi)
# environment: PARLAB (default bin/parlab)
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
. scripts/csv.sh
PARLAB=${PARLAB:-bin/parlab}
MPI=$(dirname "$PARLAB")/parlab-mpi
R=${1:-5}
[[ $R =~ ^[1-9][0-9]*$ ]] || { echo "scaling: REPEAT must be a count" >&2; exit 64; }
[ -x "$MPI" ] || { echo "scaling: $MPI is not built (install Open MPI, then make)" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "scaling: mpirun is not in PATH" >&2; exit 1; }

# The settings parlab uses, and a private folder for Open MPI's files, removed at the end.
eval "$("$MPI" env)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/parlab-scaling.XXXXXX")
wdir=
trap '[ -n "$wdir" ] && "$PARLAB" world stop "$wdir" > /dev/null 2>&1; rm -rf "$tmp"' EXIT
export OMPI_MCA_orte_tmpdir_base=$tmp OMPI_MCA_btl_vader_backing_directory=$tmp

# Every CPU workload of the registry at its bench size (parlab list --format csv).
csv=$("$PARLAB" list --format csv) || { echo "scaling: $PARLAB list --format csv failed" >&2; exit 1; }
declare -A size
workloads=()
while read -r name bench; do
  workloads+=("$name") size[$name]=$bench
done < <(csv_awk 'get("type") == "workload" && get("kind") == "cpu" { print get("name"), get("bench_size") }' <<< "$csv")

# One-way message latency and the farm's per-task cost (chunk 1), rank 0's service time.
ov=$(mpirun -np 2 "$MPI" overhead --repeat "$R" --format csv)
lat=$(csv_awk 'get("what") ~ /ping-pong/ { print get("median") }' <<< "$ov")
farm=$(csv_awk 'get("what") ~ /farm dynamic/ { print get("median") }' <<< "$ov")
host=$(hostname)

echo "## Measured on $host ($(date -u +%Y-%m-%d), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
echo
echo "- one-way latency of an 8-byte message between two ranks (shared memory): **$(awk -v v="$lat" 'BEGIN { printf "%.2f us", v / 1000 }')** (median of $R)"
echo "- rank 0's cost per chunk it hands out (the farm at chunk 1, noop tasks): **$(awk -v v="$farm" 'BEGIN { printf "%.2f us", v / 1000 }')** (median of $R)"
echo
echo "| workload | size | seq wall (s) | tasks | work per task (ms) | work per item (ns) |"
echo "|---|---|---|---|---|---|"
rows=()
for w in "${workloads[@]}"; do
  line=$("$PARLAB" run -w "$w" -r seq -n "${size[$w]}" --repeat "$R" --format csv |
         csv_awk '{ s += get("wall_s"); n++; t = get("tasks"); N = get("size"); st = get("steps") } END { printf "%s %s %s %s\n", s / n, t, N, st }')
  read -r wall tasks N steps <<< "$line"
  # A step is one map: the farm hands out the tasks of every step.
  awk -v w="$w" -v sz="${size[$w]}" -v wall="$wall" -v t="$tasks" -v N="$N" -v s="$steps" 'BEGIN {
    printf "| %s | %s | %.3f | %d × %d steps | %.3f | %.2f |\n", w, sz, wall, t, s, wall / (t * s) * 1e3, wall / (N * s) * 1e9 }'
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

# ---- METG: the farm's smallest efficient task, shared memory against TCP ------------------
# The same rows over Open MPI's TCP transport on loopback (PARLAB_MPI_TRANSPORT=tcp), the
# stand-in for ranks on two machines.
ov_tcp=$(OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=lo mpirun -np 2 "$MPI" overhead --repeat "$R" --format csv)
lat_tcp=$(csv_awk 'get("what") ~ /ping-pong/ { print get("median") }' <<< "$ov_tcp")
farm_tcp=$(csv_awk 'get("what") ~ /farm dynamic/ { print get("median") }' <<< "$ov_tcp")

# The model: a farm of P ranks, a core each. A rank spends g + s on a task of grain g (s:
# the farm's cost a task, measured at 2 ranks), and at least 2L + s (L: one-way latency),
# the round trip for its next chunk, which it asks for before computing the current one;
# rank 0 answers at most 1/s requests a second. Efficiency E(g) = min(g / max(g + s,
# 2L + s), g / (P s)); speedup P E(g); METG(x) the smallest g with E(g) >= x.
model() {  # model L_NS S_NS P X: METG(x) in ns
  awk -v L="$1" -v s="$2" -v P="$3" -v x="$4" 'BEGIN {
    for (lg = 0; lg <= 11; lg += 0.001) { g = 10 ^ lg
      t = g + s; if (2 * L + s > t) t = 2 * L + s
      e = g / t; if (g / (P * s) < e) e = g / (P * s)
      if (e >= x) { printf "%.0f\n", g; exit } }
    print "inf" }'
}
speedup() {  # speedup L_NS S_NS P G_NS
  awk -v L="$1" -v s="$2" -v P="$3" -v g="$4" 'BEGIN {
    t = g + s; if (2 * L + s > t) t = 2 * L + s
    e = g / t; if (g / (P * s) < e) e = g / (P * s); printf "%.3g\n", P * e }'
}
us() { awk -v v="$1" 'BEGIN { if (v == "inf") print "never"; else if (v < 1e6) printf "%.3g us\n", v / 1e3; else printf "%.3g ms\n", v / 1e6 }'; }

# This machine's METG at 2 and 4 ranks (4 oversubscribed on 2 CPUs), each transport: a
# world of P ranks already started, spin at grains 1 us … 1 ms, scripts/metg.py.
rows=$tmp/metg-rows.csv
echo "series,grain_ns,rep,tasks,workers,wall_s,verified" > "$rows"
cores=$(nproc)
for tr in shm tcp; do
  for P in 2 4; do
    line=$(PARLAB_MPI_TRANSPORT=$tr "$PARLAB" world start -j "$P" --idle 60 2> /dev/null)
    wdir=$(sed -n 's/^export PARLAB_MPI_WORLD=//p' <<< "$line" | tr -d "'\"")
    for g in 1000 3162 10000 31623 100000 316228 1000000; do
      t=$(awk -v g="$g" -v c="$cores" -v p="$P" 'BEGIN { t = int(0.1e9 * c / g); if (t < 8 * p) t = 8 * p; if (t > 20000) t = 20000; print t }')
      PARLAB_MPI_WORLD=$wdir "$PARLAB" run -w spin -r mpi -j "$P" -n "$t" --grain "$g" --repeat 3 --format csv |
        csv_awk -v OFS=, -v s="mpi-$tr-$P" -v g="$g" '{ print s, g, ++k, get("tasks"), get("workers"), get("wall_s"), get("verified") }' >> "$rows"
    done
    "$PARLAB" world stop "$wdir" > /dev/null
    wdir=
  done
done
PYTHON=${PYTHON:-/usr/bin/python3}
"$PYTHON" scripts/metg.py "$rows" "$tmp/metg.csv" "$tmp/metg-metg.csv" "$cores" > /dev/null
measured() { csv_awk -v s="$1" -v col="$2" 'get("series") == s { print (get(col) == "" ? "inf" : get(col)) }' "$tmp/metg-metg.csv"; }

echo
echo "## METG: the smallest task the farm runs efficiently"
echo
echo "Measured over TCP on loopback (\`PARLAB_MPI_TRANSPORT=tcp\`, the stand-in for two machines):"
echo "one-way latency **$(us "$lat_tcp")**, the farm's cost a task **$(us "$farm_tcp")** (shared memory: $(us "$lat"), $(us "$farm"))."
echo
echo "Model (a core per rank): a rank spends g + s on a task of grain g, and at least 2L + s,"
echo "the round trip for its next chunk; rank 0 answers at most 1/s requests a second. So"
echo "E(g) = min(g / max(g + s, 2L + s), g / (P s)), the speedup is P E(g), and METG(x) is the"
echo "smallest g with E(g) >= x."
echo
echo "### Checked here (this machine's $cores CPUs; 4 ranks are oversubscribed)"
echo
echo "| ranks | transport | METG(50%) model | METG(50%) measured [95% interval] | METG(90%) model | METG(90%) measured |"
echo "|---|---|---|---|---|---|"
for tr in shm tcp; do
  if [ $tr = shm ]; then L=$lat s=$farm; else L=$lat_tcp s=$farm_tcp; fi
  for P in 2 4; do
    echo "| $P | $tr | $(us "$(model "$L" "$s" "$P" 0.5)") | $(us "$(measured "mpi-$tr-$P" metg50_ns)") [$(us "$(measured "mpi-$tr-$P" metg50_ci_low_ns)"), $(us "$(measured "mpi-$tr-$P" metg50_ci_high_ns)")] | $(us "$(model "$L" "$s" "$P" 0.9)") | $(us "$(measured "mpi-$tr-$P" metg90_ns)") |"
  done
done
echo
echo "### Projections (not measurements): TCP's figures from loopback, a core per rank"
echo
echo "| ranks | METG(50%) | METG(90%) | speedup at 100 us tasks | at 1 ms | at 10 ms |"
echo "|---|---|---|---|---|---|"
for P in 16 64 1024; do
  case $P in 16) what="16 (16 nodes, 1 rank each)" ;; 64) what="64 (16 nodes x 4)" ;; *) what="1,024 (16 nodes x 64)" ;; esac
  echo "| $what | $(us "$(model "$lat_tcp" "$farm_tcp" "$P" 0.5)") | $(us "$(model "$lat_tcp" "$farm_tcp" "$P" 0.9)") | $(speedup "$lat_tcp" "$farm_tcp" "$P" 100000) | $(speedup "$lat_tcp" "$farm_tcp" "$P" 1000000) | $(speedup "$lat_tcp" "$farm_tcp" "$P" 10000000) |"
done
echo
echo "Loopback TCP has no wire: a real network adds its latency to L (tens of us on Ethernet),"
echo "which raises METG(50%) at few ranks; at many, rank 0's P s dominates, and only a larger"
echo "chunk, static scheduling or a hierarchy of farmers lowers it (below)."
