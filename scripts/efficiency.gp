# efficiency.gp: parallel efficiency S/K against cores, one line per runner, with error bars
# and the 1.0 line of perfect scaling.
# usage: gnuplot -c scripts/efficiency.gp CORES_CSV WORKLOAD OUTBASE MACHINE NPROC RUNNERS
load ARG0[1:strlen(ARG0) - strlen("efficiency.gp")] . "common.gp"
csv = ARG1; wl = ARG2; outbase = ARG3; machine = ARG4; nproc = ARG5 + 0; runners = ARG6

sel(r) = strcol("workload") eq wl && strcol("runner") eq r && strcol("param") eq "cores"

set title sprintf("%s: parallel efficiency S / K\n%s", wl, machine)
set xlabel "cores K (--cores K -j K)"
set ylabel "efficiency S / K (1.0 = perfect scaling)"
if (nproc > 1) { set xrange [0.8:nproc + 0.2] } else { set xrange [0.5:1.5] }
set xtics 1
if (nproc > 16) { set xtics autofreq }
set yrange [0:1.25]
set ytics 0.1

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  plot 1 with lines lc rgb "#888888" dt 2 lw 1.5 title "perfect (1.0)", \
       for [i = 1:words(runners)] csv using (sel(word(runners, i)) ? column("value") : NaN):"efficiency":"efficiency_err" \
           with yerrorlines lt lt_of(word(runners, i)) title word(runners, i)
  unset output
}
