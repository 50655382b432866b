#!/usr/bin/env bash
# summary.sh: what the end of `make bench` prints: the speedup at all cores per workload and
# runner with its interval, flag and verdict, how many points were flagged, the findings that
# did not pass and why, where the report is, a terminal plot of one speedup curve, and the
# run's trust line.
# usage: scripts/summary.sh RUN_DIR      (scripts/bench.sh calls it; reads summary.csv, flags.csv)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=${1:?usage: scripts/summary.sh RUN_DIR}
. "$here/rundir.sh" summary
. "$here/progress.sh"
. "$here/csv.sh"
abs=$(cd "$run" && pwd -P)

if [ -s "$run/summary.csv" ]; then
  K=$(csv_awk '{ print get("cores"); exit }' "$run/summary.csv")
  echo "#"
  echo "# speedup at K = $K cores against seq on 1 core: mean and 95% interval (mean ± error in runs without samples)"
  echo "#   noise: how far seq, the control, moved between core counts; a difference smaller than that is noise"
  echo "#   ! outside the noise band: not a finding, see the report   ~ above the ideal but within noise"
  echo "#   verdicts: ✗ fail  ? inconclusive (why: below)  unmarked: pass"
  csv_awk '
    { w = get("workload"); r = get("runner"); f = get("flag"); d = get("noise")
      if (!(w in sw)) { sw[w] = 1; ws[++nw] = w }
      if (!(r in sr)) { sr[r] = 1; rs[++nr] = r }
      lo = has("ci_low") ? get("ci_low") : ""; hi = has("ci_high") ? get("ci_high") : ""
      v = has("verdict") ? get("verdict") : ""
      cell[w, r] = (lo != "" ? sprintf("%.2f [%.2f, %.2f]", get("speedup"), lo, hi) : sprintf("%.2f ± %.2f", get("speedup"), get("speedup_err"))) \
        (f == "flag" ? " !" : f == "noise" ? " ~" : "") (v == "fail" ? " ✗" : v == "inconclusive" ? " ?" : "")
      noise[w] = d == "" ? "-" : sprintf("%.0f%%", 100 * d) }
    END {
      printf "  %-11s %-6s", "workload", "noise"; for (j = 1; j <= nr; j++) printf " %-20s", rs[j]; print ""
      for (i = 1; i <= nw; i++) {
        printf "  %-11s %-6s", ws[i], noise[ws[i]]
        for (j = 1; j <= nr; j++) printf " %-20s", ((ws[i], rs[j]) in cell) ? cell[ws[i], rs[j]] : "-"
        print ""
      }
    }' "$run/summary.csv"
fi
if [ -s "$run/flags.csv" ]; then
  csv_awk '{ n[get("level")]++; if (get("level") == "note") p[get("sweep") get("workload") get("runner") get("value")] = 1 }
    END { printf "# flagged: %d point(s) outside the noise band, %d above the ideal within noise; hyperfine warned about %d point(s)\n",
            n["flag"], n["noise"], length(p) }' "$run/flags.csv"
  # each shortened between words, with "…" (scripts/progress.sh): the whole text is in flags.csv
  csv_awk 'get("level") == "flag" { printf "%s %s %s=%s: %s\n", get("workload"), get("runner"), get("sweep"), get("value"), get("text") }' "$run/flags.csv" | head -n 8 |
    progress_shorten 100 | sed 's/^/#   /'
fi
# The findings that did not pass, with their reasons (all of them in findings.txt).
if [ -s "$run/findings.txt" ]; then
  nf=$(grep -c . "$run/findings.txt")
  echo "# findings that did not pass: $nf (fail first; all in findings.txt)"
  head -n 8 "$run/findings.txt" | sed 's/^/#   /'
  [ "$nf" -le 8 ] || echo "#   ... and $((nf - 8)) more in $run/findings.txt"
fi

# One speedup curve in the terminal: the first workload, the runners meant to scale, ideal.
wl=$(conf workloads | awk '{ print $1 }')
runners=$(scaling)
if [ -s "$run/cores.csv" ] && [ -n "$wl" ] && [ -n "$runners" ] && command -v gnuplot > /dev/null; then
  K=$(csv_awk -v wl="$wl" 'get("workload") == wl && get("param") == "cores" && get("value") + 0 > k { k = get("value") + 0 } END { print k + 0 }' "$run/cores.csv")
  if [ "$K" -gt 1 ]; then
    echo "# $wl: speedup against cores"
    gnuplot -e "set terminal dumb size 78,18; set datafile separator ','; set datafile columnheaders;
      set key outside right; set xlabel 'cores K'; set xrange [1:$K]; set xtics 1; set yrange [0:*];
      runners = '$runners'; csv = '$run/cores.csv';
      plot x with lines title 'ideal', for [r in runners] csv using (strcol('workload') eq '$wl' && strcol('runner') eq r && strcol('param') eq 'cores' ? column('value') : NaN):'speedup' with linespoints title r" 2>/dev/null
  fi
fi
echo "# report: $abs/index.html"
echo "#         file://$abs/index.html   (headless: cd $abs && python3 -m http.server 8000)"
[ -s "$run/trust.txt" ] && echo "# trust: $(cat "$run/trust.txt")"
