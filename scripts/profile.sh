#!/usr/bin/env bash
# profile.sh: where the time goes in parlab's three performance cases, with Linux perf's
# software events (they work in a VM without hardware counters): counts of task-clock,
# page faults and context switches, then a cpu-clock profile of each case by symbol.
#
#   dispatch  parlab run -w noop -r {omp,thread,fork,epoll} -n 2M (dynamic chunk 1)
#   waits     parlab run -w sleep -r epoll -n 1000000 --io-ms 100 under ulimit -n 1024
#
# usage: scripts/profile.sh [BINARY] [OUT_DIR]   (defaults: bin/parlab, a new /tmp folder)
# Needs perf (Debian: linux-perf) and kernel.perf_event_paranoid <= 2.
set -euo pipefail
export LC_ALL=C
bin=${1:-bin/parlab}
out=${2:-$(mktemp -d /tmp/parlab-profile-XXXXXX)}
command -v perf > /dev/null || { echo "profile: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
[ -x "$bin" ] || { echo "profile: $bin is not an executable" >&2; exit 64; }
mkdir -p "$out"

profile() {  # profile NAME COMMAND...
  local name=$1
  shift
  echo "## $name: $*"
  perf stat -e task-clock,page-faults,context-switches -- "$@" 2>&1 > /dev/null |
    grep -E 'task-clock|page-faults|context-switches|elapsed'
  perf record -q -e cpu-clock -F 4999 -g -o "$out/$name.data" -- "$@" > /dev/null 2>&1
  perf report -i "$out/$name.data" --no-children --sort sym --stdio 2> /dev/null |
    grep -E '^ +[0-9.]+%' | head -n 12
  echo
}

for r in omp thread fork epoll; do
  profile "dispatch-$r" "$bin" run -w noop -r "$r" -n 2M
done
ulimit -n 1024
profile waits "$bin" run -w sleep -r epoll -n 1000000 --io-ms 100
echo "# perf data in $out (perf report -i $out/NAME.data for call graphs)"
