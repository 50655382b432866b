#!/usr/bin/env bash
# man.sh: write the man page parlab.1 from the binary's own help, with help2man: the top
# --help and --version, then each command's --help in a section of its own, so the page
# says what the binary says. `make install` runs it; the page is not committed.
# usage: scripts/man.sh PARLAB OUT
set -euo pipefail
parlab=${1:?usage: scripts/man.sh PARLAB OUT}
out=${2:?usage: scripts/man.sh PARLAB OUT}
command -v help2man >/dev/null 2>&1 ||
  { echo "parlab: help2man is missing: scripts/deps.sh install (Debian's help2man)" >&2; exit 69; }
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT
# Text as roff: a backslash is \e, and a line must not start with . or '.
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
# The commands: the indented words under "commands:" in parlab --help.
commands=$("$parlab" --help | awk '/^commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 } f && /^$/ { exit }')
{
  echo '[DESCRIPTION]'
  echo 'parlab runs one workload under different models of parallelism (processes, threads,'
  echo 'an event loop, OpenMP, MPI), verifies every answer, and times it the same way for'
  echo 'each, so that their costs can be compared.'
  for c in $commands; do
    echo "[COMMAND: $c]"
    echo '.nf'
    "$parlab" "$c" --help | roff
    echo '.fi'
  done
  echo '[EXIT STATUS]'
  echo '0 verified, 1 wrong result, 64 usage, 70 worker failure, 71 OS failure, 74 output lost.'
  echo '[FILES]'
  echo '.TP'
  echo '.I PREFIX/share/parlab/'
  echo 'the bench scripts that parlab bench runs, the reference runs it draws behind its'
  echo 'plots, and the JSON Schemas of --format json (results/schema/).'
  echo '[SEE ALSO]'
  echo '.BR hyperfine (1),'
  echo '.BR mpirun (1)'
} > "$inc"
help2man --no-info --no-discard-stderr --section 1 --locale=C.UTF-8 \
  --name 'processes vs threads vs async: verified parallel workloads, timed alike' \
  --include "$inc" --output "$out" "$parlab"
