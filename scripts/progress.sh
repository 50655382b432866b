# progress.sh: sourced by the scripts for their step lines, "[3/40 0:12 elapsed, ~2:28 left]
# LABEL RESULT", drawn by scripts/progress.py (the one implementation; see its header). The
# lines go to file descriptor PROGRESS_FD (default 2, stderr), so CSV on stdout stays clean.
#
#   progress_begin N       a job of N steps begins now
#   progress_start LABEL   the next step begins: its line, left open for the result
#                          (PROGRESS_DONE=D: D steps have finished, where steps timed
#                          together print their lines after them; the time left counts D)
#   progress_end RESULT    the step ended: RESULT closes its line
#   progress_break         close an open line (before a message of another kind)
#   progress_shorten W     each line of stdin within W columns, cut only between words, "…"
#   progress_hms S         S seconds as m:ss (h:mm:ss from an hour on)
# Needs bash 5 ($EPOCHREALTIME) and $PYTHON (default /usr/bin/python3).
_progress_py="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/progress.py"
progress_begin() {
  PROGRESS_N=$1 PROGRESS_I=0 PROGRESS_OPEN=
  PROGRESS_T0=${EPOCHREALTIME/,/.}   # a locale's decimal comma would not parse
}
progress_start() {
  PROGRESS_I=$((PROGRESS_I + 1)) PROGRESS_LABEL="$*" PROGRESS_OPEN=1
  "${PYTHON:-/usr/bin/python3}" "$_progress_py" start ${PROGRESS_DONE:+--done "$PROGRESS_DONE"} \
    "$PROGRESS_I" "$PROGRESS_N" "$PROGRESS_T0" "$PROGRESS_LABEL" >&"${PROGRESS_FD:-2}"
}
progress_end() {
  PROGRESS_OPEN=
  if [ -t "${PROGRESS_FD:-2}" ]; then   # a terminal: the line again, in place, with the result
    "${PYTHON:-/usr/bin/python3}" "$_progress_py" end "$PROGRESS_I" "$PROGRESS_N" "$PROGRESS_T0" \
      "$PROGRESS_LABEL" "$*" >&"${PROGRESS_FD:-2}"
  else
    printf '%s\n' "$*" >&"${PROGRESS_FD:-2}"
  fi
}
progress_break() {
  [ -z "${PROGRESS_OPEN:-}" ] || echo >&"${PROGRESS_FD:-2}"
  PROGRESS_OPEN=
}
progress_shorten() { "${PYTHON:-/usr/bin/python3}" "$_progress_py" shorten "$1"; }
progress_hms() { "${PYTHON:-/usr/bin/python3}" "$_progress_py" hms "$1"; }
