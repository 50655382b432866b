# efficiency.gp: parallel efficiency S/K against cores, one line per runner, with error bars
# and the 1.0 line of perfect scaling.
# usage: gnuplot -c scripts/efficiency.gp CORES_CSV WORKLOAD OUTBASE MACHINE NPROC RUNNERS [FLAGGED]
#   RUNNERS: the runners meant to scale; FLAGGED: a file of "K,efficiency,runner" points to
#   ring in red (scripts/report.py flagged), or "".
load ARG0[1:strlen(ARG0) - strlen("efficiency.gp")] . "common.gp"
csv = ARG1; wl = ARG2; outbase = ARG3; machine = ARG4; nproc = ARG5 + 0; runners = ARG6; flagged = ARG7

sel(r) = strcol("workload") eq wl && strcol("runner") eq r && strcol("param") eq "cores"

set title sprintf("%s: parallel efficiency S / K of the runners meant to scale", wl)
eval footer
set xlabel "cores K (--cores K -j K)"
set ylabel "efficiency S / K (1.0 = perfect scaling)"
if (nproc > 1) { set xrange [0.8:nproc + 0.2] } else { set xrange [0.5:1.5] }
set xtics 1
if (nproc > 16) { set xtics autofreq }
# Automatic range: the error bars and the 1.0 line always fit.
set yrange [0:*]

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  eval 'plot 1 with lines lc rgb "#888888" dt 2 lw 1.5 title "perfect (1.0)", ' . \
    'for [i = 1:words(runners)] csv using (sel(word(runners, i)) ? column("value") : NaN):"efficiency":"efficiency_err" ' . \
    'with yerrorlines lt lt_of(word(runners, i)) title word(runners, i)' . \
    (flagged ne "" ? ', flagged using 1:2 with points ' . flag_style . ' title "flagged: outside the noise band"' : "")
  unset output
}
