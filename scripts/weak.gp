# weak.gp: weak scaling. Scaled speedup against cores, one line per runner with error bars,
# the ideal S = K and each runner's Gustafson line S = K - e (K - 1) with its measured e.
# usage: gnuplot -c scripts/weak.gp WEAK_CSV WORKLOAD OUTBASE MACHINE NPROC RUNNERS
load ARG0[1:strlen(ARG0) - strlen("weak.gp")] . "common.gp"
csv = ARG1; wl = ARG2; outbase = ARG3; machine = ARG4; nproc = ARG5 + 0; runners = ARG6

sel(r) = strcol("workload") eq wl && strcol("runner") eq r
# e of each runner: the gustafson_e column of its rows (one value, repeated)
array E[words(runners)]
do for [i = 1:words(runners)] {
  stats csv using (sel(word(runners, i)) ? column("gustafson_e") : NaN) nooutput
  E[i] = STATS_records > 0 ? STATS_max : NaN
}
gustafson(p, e) = p - e * (p - 1)

set title sprintf("%s: weak scaling, N = K x N0 on K cores (scaled speedup)\n%s", wl, machine)
set xlabel "cores K (--cores K -j K, N = K x N0)"
set ylabel "scaled speedup S = K T(N0, 1) / T(K N0, K)  (×)"
if (nproc > 1) { set xrange [0.8:nproc + 0.2] } else { set xrange [0.5:1.5] }
set xtics 1
if (nproc > 16) { set xtics autofreq }
set yrange [0:*]

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  plot x < 1 || x > nproc ? NaN : x with lines lc rgb "#888888" dt 2 lw 1.5 title "ideal (S = K)", \
    for [i = 1:words(runners)] csv using (sel(word(runners, i)) ? column("cores") : NaN):"scaled_speedup":"scaled_speedup_err" \
      with yerrorlines lt lt_of(word(runners, i)) title word(runners, i), \
    for [i = 1:words(runners)] (x < 1 || x > nproc ? NaN : gustafson(x, E[i])) \
      with lines lt lt_of(word(runners, i)) dt 3 lw 1 title sprintf("%s Gustafson, e = %.3f", word(runners, i), E[i])
}
