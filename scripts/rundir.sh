# rundir.sh: sourced by plots.sh and report.sh: read one bench run folder ($run, set by the
# caller) — its bench.conf (KEY=VALUE lines) and machine.json (one "key": value a line).
# $1: the caller's name, for the message when $run is not a bench run folder.
[ -s "$run/bench.conf" ] || { echo "$1: $run/bench.conf is missing: not a bench run folder" >&2; exit 1; }
conf() { awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$run/bench.conf"; }
mjson() { awk -F'"' -v k="$1" '$2 == k { v = $0; sub(/^[^:]*: */, "", v); sub(/,$/, "", v); gsub(/"/, "", v); print v; exit }' "$run/machine.json"; }
