# csv.sh: sourced by the scripts that read CSVs: by the header's names, never by column
# number (scripts/csv.awk).
#   csv_awk [-v VAR=VALUE]... PROGRAM [FILE...]   awk PROGRAM over CSVs, with get("name"),
#                                                 has("name") and set("name", value)
#   csv_get NAME [FILE]                           the named field of the last data row
csv_lib="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/csv.awk"
csv_awk() {
  local o=()
  while [ "${1:-}" = -v ]; do o+=(-v "$2"); shift 2; done
  awk ${o[@]+"${o[@]}"} -f "$csv_lib" -f <(printf '%s\n' "$1") "${@:2}"
}
csv_get() { csv_awk -v n="$1" '{ x = get(n) } END { if (!csv_bad) print x }' "${@:2}"; }
