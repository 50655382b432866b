#!/usr/bin/env bash
# reference.sh: make a finished default bench the committed reference run of its machine.
#
# usage: scripts/reference.sh [RUN [REFDIR]]      (make reference: a default bench, then this)
#   RUN      the run folder (default: latest in $PARLAB_RESULTS, else results/latest)
#   REFDIR   the folder of the machines' references (default: this tree's results/reference)
# environment:
#   MACHINE=NAME   the reference's folder name (default from RUN/machine.json: host, CPU
#                  model and CPU count, as vm-amd-epyc-2cpu)
#   FORCE=1        take a run that was disturbed (its trust line says busy), or one of
#                  another mode than default (QUICK, FULL, tiny)
#
# REFDIR/<machine>/ is replaced whole by what results/README.md says a reference holds: the
# run folder less logs/, hyperfine's per-point CSV copies (raw/*/*.csv: the JSON beside each
# has the same numbers and every run time) and make diff's diff-*/ folders, with bench.conf's
# reference= emptied (the run it names is the one being replaced), the speedup plots redrawn
# without it (scripts/plots.sh) and index.html rewritten to list only what is there
# (scripts/report.sh). It is written beside the old one and swapped in at the end.
# Refused with one line: exit 64 (not a finished bench run, another mode, a bad MACHINE) or
# exit 1 (a disturbed run).
set -uo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
usage() { echo "reference: $*" >&2; exit 64; }
fail() { echo "reference: $*" >&2; exit 1; }
case ${1:-} in
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
esac
[ $# -le 2 ] || usage "usage: scripts/reference.sh [RUN [REFDIR]]"
command -v jq > /dev/null 2>&1 || fail "jq is missing: run scripts/deps.sh bench"

run=${1:-${PARLAB_RESULTS:-$root/results}/latest}
refdir=${2:-$root/results/reference}
[ -d "$run" ] || usage "$run: no such run folder (make bench makes one)"
run=$(cd "$run" && pwd -P)
case $run in *.partial) usage "$run is an unfinished run (.partial): a reference is a finished bench" ;; esac
for f in bench.conf machine.json cores.csv trust.txt index.html; do
  [ -s "$run/$f" ] || usage "$run is not a finished bench run (no $f)"
done
. "$here/rundir.sh" reference

mode=$(conf mode)
if [ "$mode" != default ] && [ "${FORCE:-0}" != 1 ]; then
  usage "$run is a $mode bench; a reference is a default one (make reference), or FORCE=1"
fi
trust=$(head -n 1 "$run/trust.txt")
case $trust in
  busy*) [ "${FORCE:-0}" = 1 ] ||
    fail "$run was disturbed ($trust): not made the reference; rerun on a quiet machine (WAIT_QUIET=60), or FORCE=1" ;;
esac

# The machine's name: host, CPU model (without (R), (TM), "CPU" and the clock) and CPU count.
slug() { tr '[:upper:]' '[:lower:]' | sed -E 's/\((r|tm)\)//g; s/ @ .*//; s/ cpu( |$)/ /; s/[^a-z0-9]+/-/g; s/^-+//; s/-+$//'; }
machine=${MACHINE:-}
if [ -z "$machine" ]; then
  machine="$(mjson host | slug)-$(mjson cpu_model | slug)-$(mjson nproc)cpu"
fi
[[ $machine =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] ||
  usage "MACHINE=$machine: a folder name of letters, digits, '.', '_' and '-'"
case $machine in labs|tasks|schema) usage "MACHINE=$machine: that name is taken by results/reference/$machine/" ;; esac

mkdir -p "$refdir" || fail "cannot create $refdir"
dest="$refdir/$machine"
new="$refdir/.$machine.new.$$" old="$refdir/.$machine.old.$$"
trap 'rm -rf "$new" "$old"' EXIT
cp -a "$run/." "$new" || fail "cannot copy $run to $new"
rm -rf "$new/logs" "$new"/diff-* "$new/.write-probe"
find "$new/raw" -name '*.csv' -type f -delete 2> /dev/null
sed -i 's/^reference=.*/reference=/' "$new/bench.conf" || fail "cannot rewrite $new/bench.conf"
"$here/plots.sh" "$new" > "$new/.plots.log" 2>&1 ||
  fail "scripts/plots.sh failed on the copy: $(tail -n 2 "$new/.plots.log" | tr '\n' ' ')"
"$here/report.sh" "$new" > "$new/.report.log" 2>&1 ||
  fail "scripts/report.sh failed on the copy: $(tail -n 2 "$new/.report.log" | tr '\n' ' ')"
rm -f "$new/.plots.log" "$new/.report.log"

# Swap: the old reference aside, the new one in, the old one gone.
if [ -e "$dest" ]; then mv -T "$dest" "$old" || fail "cannot move $dest aside"; fi
mv -T "$new" "$dest" || { [ -e "$old" ] && mv -T "$old" "$dest"; fail "cannot move the new reference to $dest"; }
rm -rf "$old"
note=""
[ "$mode" = default ] || note=", a $mode bench (FORCE=1)"
rep=$(conf reproduce)
case $rep in PARLAB_BENCH_*) note="$note, narrowed: $rep" ;; esac
echo "reference: $dest now holds $(basename "$run") ($trust$note)"
