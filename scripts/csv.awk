# csv.awk: read a CSV by its header, never by column number. Loaded before a program that
# reads one or more CSVs (scripts/csv.sh: csv_awk):
#   awk -f scripts/csv.awk -f PROGRAM.awk FILE...
# Each file's first line maps its names to fields (col[name] = index; csv_header keeps the
# line) and is not seen by the program; neither are empty lines and "#" comments (parlab's
# notes). The program reads a field as get("median") and tests for one with has("median").
# A name the header lacks ends the run with one line naming it, exit 65, where $col[name]
# would silently read the whole line.
# Fields are split at every comma: columns after a quoted field with commas in it (parlab
# list's summary, always last) are not read by name either.
BEGIN { if (FS == " ") FS = "," }   # a comma unless -v FS= says otherwise
FNR == 1 { delete col; for (csv_i = 1; csv_i <= NF; csv_i++) col[$csv_i] = csv_i; csv_header = $0; next }
/^#/ || !NF { next }
function has(name) { return name in col }
function get(name) {
    if (!(name in col)) {
        printf "%s: %s has no column \"%s\" (its header: %s)\n", (csv_who != "" ? csv_who : "csv.awk"),
            (FILENAME == "" || FILENAME == "-" ? "the input" : FILENAME), name, csv_header > "/dev/stderr"
        csv_bad = 1
        exit 65
    }
    return $col[name]
}
function set(name, v) { get(name); $col[name] = v }
