# leftout.sh: sourced by bench.sh and the sweeps it runs (sweep-tasks.sh, sweep-grain.sh):
# whether Python's peers can run here, and RUN/left-out.txt, the parts of a run left out
# and why, one "PART (WHY)" a line, which the bench's first and last lines name.
# Needs $root (the source tree) and $PYTHON.

# python_peers: 0 when $PYTHON runs peers/python; else 1, with the reason in $peers_why.
python_peers() {
  local err
  peers_why=""
  if [ "${PARLAB_SWEEP_PYTHON:-1}" = 0 ]; then
    peers_why="PARLAB_SWEEP_PYTHON=0"
  elif [ ! -x "$PYTHON" ]; then
    peers_why="no $PYTHON"
  elif ! err=$("$PYTHON" "$root/peers/python/parlab_py.py" list 2>&1 > /dev/null); then
    peers_why="$PYTHON peers/python/parlab_py.py list failed: $(printf '%s\n' "$err" | tail -n 1)"
  fi
  [ -z "$peers_why" ]
}

# left_out RUN PART WHY: record that PART was left out of the run in RUN, once per part.
left_out() {
  grep -qsF -- "$2 (" "$1/left-out.txt" || printf '%s (%s)\n' "$2" "$3" >> "$1/left-out.txt"
}

# left_out_line RUN: "left out: A (why); B (why)", or nothing when nothing was.
left_out_line() {
  [ -s "$1/left-out.txt" ] || return 0
  printf 'left out: '
  awk 'NR > 1 { printf "; " } { printf "%s", $0 }' "$1/left-out.txt"
}
