# tasks.gp: per-task cost against the task count, both axes logarithmic, one line per
# runner with its min … max over the repeats, and the contended-atomic floor as a line, its
# figure in the key (a label beside it crossed seq's curve: the key is clear of every curve).
# usage: gnuplot -c scripts/tasks.gp TASKS_CSV OUTBASE MACHINE FLOOR_NS RUNNERS
load ARG0[1:strlen(ARG0) - strlen("tasks.gp")] . "common.gp"
csv = ARG1; outbase = ARG2; machine = ARG3; floor = ARG4 + 0; runners = ARG5

sel(r) = strcol("runner") eq r

set title sprintf("noop: cost of one task against the task count T (wall time / T)\n%s", machine)
set xlabel "tasks T (noop, default workers)"
set ylabel "per-task cost (ns, wall time / T)"
set logscale xy 10
set format x "10^{%L}"
set format y "10^{%L}"
set xrange [50:2e7]
set key enhanced

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  plot (floor > 0 ? floor : NaN) with lines lc rgb "#aa0000" dt 2 lw 1.5 title (floor > 0 ? sprintf("floor: contended fetch\\_add, %.3g ns", floor) : "floor: not measured"), \
       for [i = 1:words(runners)] csv using (sel(word(runners, i)) ? column("tasks") : NaN):"per_task_ns":"per_task_min_ns":"per_task_max_ns" \
           with yerrorlines lt lt_of(word(runners, i)) title word(runners, i)
  unset output
}
