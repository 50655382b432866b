# rundir.sh: sourced by the scripts that read one bench run folder ($run, set by the caller):
# its bench.conf (KEY=VALUE lines) and machine.json (read with jq).
# $1: the caller's name, for the message when $run is not a bench run folder.
[ -s "$run/bench.conf" ] || { echo "$1: $run/bench.conf is missing: not a bench run folder" >&2; exit 1; }
conf() { awk -F= -v k="$1" '$1 == k { sub(/^[^=]*=/, ""); print; exit }' "$run/bench.conf"; }
mjson() { jq -r --arg k "$1" '.[$k] // empty | tostring' "$run/machine.json"; }
# The runners meant to scale (bench.conf "scaling"); a folder from before that key: every
# runner but seq and epoll.
scaling() {
  if grep -q '^scaling=' "$run/bench.conf"; then conf scaling
  else conf runners | tr ' ' '\n' | grep -vx -e seq -e epoll | tr '\n' ' '; fi
}
