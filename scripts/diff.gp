# diff.gp: two runs' speedups on the same axes: run A dashed with hollow markers, run B solid.
# usage: gnuplot -c scripts/diff.gp DIFF_CSV WORKLOAD OUTBASE CAPTION NPROC RUNNERS
#   DIFF_CSV: scripts/diff.sh's diff.csv. Writes OUTBASE.png and OUTBASE.svg.
load ARG0[1:strlen(ARG0) - strlen("diff.gp")] . "common.gp"
csv = ARG1; wl = ARG2; outbase = ARG3; machine = ARG4; nproc = ARG5 + 0; runners = ARG6

sel(r) = strcol("workload") eq wl && strcol("runner") eq r && strcol("sweep") eq "cores"
set title sprintf("%s: speedup against cores, run A (dashed) and run B (solid)", wl)
eval footer
set xlabel "cores K (--cores K -j K)"
set ylabel "speedup against seq on 1 core (×)"
if (nproc > 1) { set xrange [0.8:nproc + 0.2] } else { set xrange [0.5:1.5] }
set xtics 1
if (nproc > 16) { set xtics autofreq }
set yrange [0:*]

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  plot x < 1 || x > nproc ? NaN : x with lines lc rgb "#888888" dt 2 lw 1.5 title "ideal (S = K)", \
       for [i = 1:words(runners)] csv using (sel(word(runners, i)) ? column("value") : NaN):"speedup_a":"speedup_err_a" \
           with yerrorlines lt lt_of(word(runners, i)) dt 2 pt 6 title word(runners, i) . " (A)", \
       for [i = 1:words(runners)] csv using (sel(word(runners, i)) ? column("value") : NaN):"speedup_b":"speedup_err_b" \
           with yerrorlines lt lt_of(word(runners, i)) title word(runners, i) . " (B)"
  unset output
}
