#!/usr/bin/env bash
# machine.sh: describe the machine a benchmark ran on, as one JSON object on stdout.
# usage: scripts/machine.sh   (env CC picks the compiler to report, default gcc)
# One "key": value pair per line, so scripts/report.sh can read it back with awk alone.
set -uo pipefail

# JSON string: escape backslashes, quotes and control characters.
jstr() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=$(printf '%s' "$s" | tr '\n\r\t' '   ')
  printf '"%s"' "$s"
}

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

cat <<EOF
{
  "host": $(jstr "$host"),
  "cpu_model": $(jstr "$cpu_model"),
  "cpus_online": $online,
  "nproc": $allowed,
  "cpus_allowed": $(jstr "$allowed_list"),
  "smt": $(jstr "$smt"),
  "threads_per_core": $(jstr "$tpc"),
  "governor": $(jstr "$governor"),
  "kernel": $(jstr "$kernel"),
  "compiler": $(jstr "$compiler"),
  "hyperfine": $(jstr "${hyperfine_v:-missing}"),
  "gnuplot": $(jstr "${gnuplot_v:-missing}"),
  "git_commit": $(jstr "$commit"),
  "git_dirty": $dirty,
  "date": $(jstr "$(date -u +%Y-%m-%dT%H:%M:%SZ)"),
  "loadavg1": $load1,
  "loadavg5": $load5,
  "loadavg15": $load15
}
EOF
