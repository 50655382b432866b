# concurrency.gp: wall time of a fixed batch of sleeping tasks against how many wait at once.
# Pools wait W at a time; epoll keeps every task in flight in one thread.
# usage: gnuplot -c scripts/concurrency.gp CONC_CSV OUTBASE MACHINE TASKS IO_MS RUNNERS [FLAGGED]
#   FLAGGED: a file of "W,time,runner" points to ring in red (scripts/report.py flagged), or "".
load ARG0[1:strlen(ARG0) - strlen("concurrency.gp")] . "common.gp"
csv = ARG1; outbase = ARG2; machine = ARG3; T = ARG4 + 0; io = ARG5 + 0; runners = ARG6
flagged = ARGC >= 7 ? ARG7 : ""

sel(r) = strcol("runner") eq r && strcol("param") eq "concurrency"
# T tasks of io ms, W at a time: T/W rounds when W divides T (the swept W are powers of two).
ideal(w) = w < 1 ? NaN : (w < T ? T / w : 1) * io / 1000.0

set title sprintf("sleep: %d tasks of %d ms each, wall time against concurrency", T, io)
eval footer
# epoll measures once (all tasks in flight whatever W is): a bold line across every W, its
# time in the key (a label on the plot sat on the pools' markers wherever they came near it).
has_epoll = strstrt(" " . runners . " ", " epoll ") > 0
epoll_s = NaN
if (has_epoll) {
  stats csv using (sel("epoll") ? column("mean_s") : NaN) nooutput
  epoll_s = STATS_max
}
set xlabel "concurrency: workers W (-j W); epoll keeps all tasks in flight"
set ylabel "wall time (s), log scale"
set logscale x 2
set logscale y 10
set format y "%g"
set xrange [0.8:1.25 * T]
set yrange [io / 1000.0 / 2:*]
set samples 500

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  eval 'plot ideal(x) with lines lc rgb "#888888" dt 2 lw 1.5 title sprintf("ideal: %d / W × %d ms", T, io), ' . \
    'for [i = 1:words(runners)] csv using (sel(word(runners, i)) ? column("value") : NaN):"mean_s":"stddev_s" ' . \
    'with yerrorlines lt lt_of(word(runners, i)) title (word(runners, i) eq "epoll" ? "" : word(runners, i)), ' . \
    'csv using (sel("epoll") ? 1 : NaN):"mean_s":(T - 1):(0) with vectors nohead lt lt_of("epoll") dt 1 lw 4 ' . \
    'title sprintf("epoll: all %d in flight, %.3f s", T, epoll_s)' . \
    (flagged ne "" ? ', flagged using 1:2 with points ' . flag_style . ' title "flagged: outside the noise band"' : "")
  unset output
}
