#!/usr/bin/env bash
# perf-rows.sh: the three performance figures of parlab, for one binary or for two side by
# side (say, before and after a change), each measured in turn in one run so that load from
# elsewhere falls on both alike. Run it on a quiet machine; it prints what it measured.
#
#   1. dispatch per noop task, dynamic chunk 1, W = the CPUs, warm: parlab overhead's
#      dispatch and fetch_add rows (mean ± σ, min … max of 5 samples)
#   2. the whole command, 2M noop tasks, omp and fork: hyperfine, 10 runs, in turn
#   3. 1,000,000 concurrent 100 ms waits on one epoll loop under ulimit -n 1024: the run's
#      wall_s and max_rss_kb over 5 runs, in turn; beside them libuv's (peers/libuv/waits.c)
#      where libuv1-dev is installed
#
# usage: scripts/perf-rows.sh [BINARY [BINARY]]      (default bin/parlab)
# A binary of an older commit: git archive COMMIT | tar -x -C DIR && make -C DIR
set -euo pipefail
export LC_ALL=C
. "$(dirname "$0")/csv.sh"
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=(bin/parlab)
for b in "${bins[@]}"; do [ -x "$b" ] || { echo "perf-rows: $b is not an executable" >&2; exit 64; }; done
command -v hyperfine > /dev/null || { echo "perf-rows: hyperfine is missing (scripts/deps.sh bench)" >&2; exit 1; }

# One timed run per command: builds with --warmup (and --repeat 3 by default) are asked
# for exactly one run, so that a hyperfine sample is one run in both builds.
once() { if "$1" run --help 2>/dev/null | grep -q -- --warmup; then echo "--repeat 1 --warmup 0"; fi; }

echo "# $(uname -n), $(nproc) CPUs, $(uname -r); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## 1. dispatch per noop task (parlab overhead --repeat 5)"
for b in "${bins[@]}"; do
  echo "### $b"
  "$b" overhead --repeat 5 | grep -E '^(dispatch|sync) .*(per task|/ omp|fetch_add)'
done

echo "## 2. whole command, 2M noop tasks (hyperfine, 10 runs each, in turn)"
cmds=()
for b in "${bins[@]}"; do for r in omp fork thread; do cmds+=("$b run -w noop -r $r -n 2M $(once "$b")"); done; done
hyperfine -N --style basic --runs 10 --warmup 2 "${cmds[@]}" 2>&1 | grep -E '^(Benchmark|  Time|  Range)'

# libuv's figure in the same window, where libuv1-dev is installed: peers/libuv/waits.c,
# a million uv_timer_t of 100 ms on one loop, run in turn with the binaries.
uv= uvrows=
if pkg-config --exists libuv 2> /dev/null; then
  uv=$(mktemp "${TMPDIR:-/tmp}/parlab-uv-waits.XXXXXX") uvrows=$uv.csv
  trap 'rm -f "$uv" "$uvrows"' EXIT
  cc -O2 -o "$uv" "$(dirname "$0")/../peers/libuv/waits.c" $(pkg-config --cflags --libs libuv) || uv=
  # waits.c prints one headerless row a run: N,ms,wall,max RSS (KiB),timers fired
  echo "tasks,io_ms,wall_s,max_rss_kb,fired" > "$uvrows"
fi
echo "## 3. 1,000,000 concurrent 100 ms waits, one epoll loop, ulimit -n 1024 (5 runs each, in turn)"
for i in 1 2 3 4 5; do
  for b in "${bins[@]}"; do
    (ulimit -n 1024; "$b" run -w sleep -r epoll -n 1000000 --io-ms 100 $(once "$b") --format csv) |
      csv_awk -v b="$b" '{ print b "\t" get("wall_s") "\t" get("max_rss_kb") "\t" get("verified") }'
  done
  if [ -n "$uv" ]; then "$uv" 1000000 100 >> "$uvrows"; fi
done | { echo "binary	wall_s	max_rss_kb	verified"; cat; } |
  csv_awk -v FS='\t' '{ b = get("binary"); n[b]++; w[b] = w[b] " " get("wall_s"); if (get("max_rss_kb") + 0 > r[b]) r[b] = get("max_rss_kb") + 0; v[b] = v[b] " " get("verified") }
  END { for (b in n) printf "%s: wall_s%s; max_rss %.1f MiB; verified%s\n", b, w[b], r[b] / 1024, v[b] }'
[ -n "$uv" ] && csv_awk -v v="$(pkg-config --modversion libuv)" '{ w = w " " get("wall_s"); if (get("max_rss_kb") + 0 > r) r = get("max_rss_kb") + 0 }
  END { printf "libuv %s, 1M uv_timer_t of 100 ms: wall_s%s; max_rss %.1f MiB\n", v, w, r / 1024 }' "$uvrows"
exit 0
