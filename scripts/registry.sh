# registry.sh: the registry as scripts read it, `parlab list --format csv`, by column name
# (never by number: columns are added). Source it, then:
#
#   registry_rows CSV 'type=workload kind=cpu' name weak_size tiny_args
#
# prints, for each row whose columns equal every COL=VALUE of the filter, the named
# columns joined by commas (no field holds a comma but the summary, which is last and
# cannot be asked for), one row a line; read them with IFS=, read -r. Exit status 70 and
# one line on stderr when a named column is not in the header.
# shellcheck shell=bash
registry_rows() {
  local csv=$1 filter=$2
  shift 2
  awk -F, -v filter="$filter" -v want="$*" '
    NR == 1 {
      for (i = 1; i <= NF; i++) col[$i] = i
      nw = split(want, w, " "); nf = split(filter, f, " ")
      for (j = 1; j <= nf; j++) { eq = index(f[j], "="); fk[j] = substr(f[j], 1, eq - 1); fv[j] = substr(f[j], eq + 1) }
      for (j = 1; j <= nw; j++) if (!(w[j] in col) || w[j] == "summary") bad = w[j]
      for (j = 1; j <= nf; j++) if (!(fk[j] in col)) bad = fk[j]
      if (bad != "") { print "registry: parlab list --format csv has no column " bad > "/dev/stderr"; exit 70 }
      next
    }
    {
      for (j = 1; j <= nf; j++) if ($(col[fk[j]]) != fv[j]) next
      line = ""
      for (j = 1; j <= nw; j++) line = line (j > 1 ? "," : "") $(col[w[j]])
      print line
    }' <<< "$csv"
}
