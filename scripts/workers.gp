# workers.gp: speedup against the number of workers at full cores, to show where
# oversubscription (more workers than cores) stops paying or starts to hurt.
# usage: gnuplot -c scripts/workers.gp WORKERS_CSV WORKLOAD OUTBASE MACHINE NPROC RUNNERS [FLAGGED]
#   FLAGGED: a file of "W,S,runner" points outside the noise band to ring in red
#   (scripts/report.py flagged), or "".
load ARG0[1:strlen(ARG0) - strlen("workers.gp")] . "common.gp"
csv = ARG1; wl = ARG2; outbase = ARG3; machine = ARG4; nproc = ARG5 + 0; runners = ARG6
flagged = ARGC >= 7 ? ARG7 : ""

sel(r) = strcol("workload") eq wl && strcol("runner") eq r && strcol("param") eq "workers"

set title sprintf("%s: speedup against workers W on all %d cores", wl, nproc)
eval footer
set xlabel "workers W (-j W, --cores " . nproc . ")"
set ylabel "speedup against seq on 1 core (×)"
set logscale x 2
set xrange [0.8:2.5 * nproc]
set yrange [0:*]
set arrow 1 from nproc, graph 0 to nproc, graph 1 nohead lc rgb "#aa0000" dt 4 lw 1.2
# The line is named in the key: a label at its top met the error bars that reach up there.
set samples 400

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  eval 'plot (x < 1 ? NaN : x < nproc ? x : nproc) with lines lc rgb "#888888" dt 2 lw 1.5 title "ideal (S = min(W, cores))", ' . \
    'for [i = 1:words(runners)] csv using (sel(word(runners, i)) ? column("value") : NaN):"speedup":' . s_lo . ':' . s_hi . ' ' . \
    'with yerrorlines lt lt_of(word(runners, i)) title word(runners, i)' . \
    (flagged ne "" ? ', flagged using 1:2 with points ' . flag_style . ' title "flagged: outside the noise band"' : "") . \
    ', keyentry with lines lc rgb "#aa0000" dt 4 lw 1.2 title sprintf("W = cores = %d: beyond, shared", nproc)'
  unset output
}
