#!/usr/bin/env bash
# machine.sh: describe the machine a benchmark ran on, as one JSON object on stdout.
# usage: scripts/machine.sh   (env CC picks the compiler to report, default gcc)
# Written with jq, which escapes every string; scripts read it back with jq.
set -uo pipefail

first_line() { "$@" 2>/dev/null | head -n 1; }

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
[ -n "$cpu_model" ] || cpu_model=$(awk -F': *' '/^(Hardware|Processor|cpu model)/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)
[ -n "$cpu_model" ] || cpu_model=unknown
online=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
allowed=$(nproc 2>/dev/null || echo 1)
allowed_list=$(awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status 2>/dev/null)
[ -n "$allowed_list" ] || allowed_list=unknown

# SMT: the kernel's switch if it has one, else threads per core from the topology.
smt=unknown
if [ -r /sys/devices/system/cpu/smt/active ]; then
  case $(cat /sys/devices/system/cpu/smt/active) in 1) smt=on ;; 0) smt=off ;; esac
fi
tpc=$(cat /sys/devices/system/cpu/cpu0/topology/thread_siblings_list 2>/dev/null |
      awk -F'[,-]' '{ if (NF == 1) print 1; else if (index($0, "-")) print $2 - $1 + 1; else print NF }')
[ -n "$tpc" ] || tpc=unknown

governor=unknown
[ -r /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor ] &&
  governor=$(cat /sys/devices/system/cpu/cpu0/cpufreq/scaling_governor)

read -r load1 load5 load15 _ < /proc/loadavg 2>/dev/null || { load1=0; load5=0; load15=0; }
kernel=$(uname -sr)
cc=${CC:-gcc}
compiler=$(first_line "$cc" --version)
[ -n "$compiler" ] || compiler="$cc (version unknown)"
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
dirty=false
[ "$commit" != unknown ] && ! git diff --quiet HEAD 2>/dev/null && dirty=true
host=$(hostname 2>/dev/null || uname -n)
hyperfine_v=$(first_line hyperfine --version)
gnuplot_v=$(first_line gnuplot --version)

num() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]] && printf '%s' "$1" || printf 'null'; }
jq -n --arg host "$host" --arg cpu_model "$cpu_model" --argjson cpus_online "$(num "$online")" \
  --argjson nproc "$(num "$allowed")" --arg cpus_allowed "$allowed_list" --arg smt "$smt" \
  --arg threads_per_core "$tpc" --arg governor "$governor" --arg kernel "$kernel" \
  --arg compiler "$compiler" --arg hyperfine "${hyperfine_v:-missing}" \
  --arg gnuplot "${gnuplot_v:-missing}" --arg git_commit "$commit" --argjson git_dirty "$dirty" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --argjson loadavg1 "$(num "$load1")" \
  --argjson loadavg5 "$(num "$load5")" --argjson loadavg15 "$(num "$load15")" \
  '$ARGS.named'
