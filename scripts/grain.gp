# grain.gp: efficiency against task grain (log x), one curve per runner and Python peer
# (dashed), with min … max over the repeats, and the 50% line that defines METG(50%) (named in
# the key: a label on the plot would sit on the curves that cross it).
# usage: gnuplot -c scripts/grain.gp GRAIN_CSV OUTBASE MACHINE SERIES
load ARG0[1:strlen(ARG0) - strlen("grain.gp")] . "common.gp"
csv = ARG1; outbase = ARG2; machine = ARG3; series = ARG4

sel(r) = strcol("series") eq r
# parlab's runners keep their colours; the peers get their own, dashed.
peers = "py-pool-map1 py-ppe py-tpe py-asyncio"
pi(r) = sum [j = 1:words(peers)] (word(peers, j) eq r ? j : 0)
set linetype 11 lc rgb "#e377c2" lw 2 pt 4  ps 1.1 dt 2
set linetype 12 lc rgb "#bcbd22" lw 2 pt 6  ps 1.1 dt 2
set linetype 13 lc rgb "#7f7f7f" lw 2 pt 8  ps 1.1 dt 2
set linetype 14 lc rgb "#17becf" lw 2 pt 10 ps 1.1 dt 2
lt_grain(r) = pi(r) > 0 ? 10 + pi(r) : lt_of(r)

set title "spin: efficiency against the task's duration (W = the CPUs; against the peak rate)"
eval footer
set xlabel "task grain (ns, log scale)"
set ylabel "efficiency"
set logscale x 10
set format x "10^{%L}"
set xrange [7:1.4e7]
set yrange [0:1.1]
set key enhanced

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  plot 0.5 with lines lc rgb "#aa0000" dt 2 lw 1.5 title "50%: METG(50%)", \
       for [i = 1:words(series)] csv using (sel(word(series, i)) ? column("grain_ns") : NaN):"efficiency":"efficiency_min":"efficiency_max" \
           with yerrorlines lt lt_grain(word(series, i)) title word(series, i)
  unset output
}
