# timeline.gp: Gantt chart of two --trace files, static and dynamic scheduling of the same
# job: one row per worker, one bar per task, coloured by how long the task took.
# usage: gnuplot -c scripts/timeline.gp STATIC_CSV DYNAMIC_CSV OUTBASE TITLE MACHINE
#          "WORKERS XMAX_MS CBMAX_MS MAKESPAN_STATIC_MS MAKESPAN_DYNAMIC_MS"  (one argument:
#          gnuplot -c passes at most nine)
load ARG0[1:strlen(ARG0) - strlen("timeline.gp")] . "common.gp"
st = ARG1; dy = ARG2; outbase = ARG3; what = ARG4; machine = ARG5
nums = ARG6
W = word(nums, 1) + 0; xmax = word(nums, 2) + 0; cbmax = word(nums, 3) + 0
ms_st = word(nums, 4) + 0; ms_dy = word(nums, 5) + 0

png_term = 'set terminal pngcairo size 1000,' . (360 + 90 * W) . ' enhanced font "DejaVu Sans,11" linewidth 1.2 background "#ffffff"'
svg_term = 'set terminal svg size 1000,' . (360 + 90 * W) . ' enhanced font "DejaVu Sans,11" linewidth 1.2 background "#ffffff"'

set xrange [0:xmax * 1.02]
set yrange [-0.6:W - 0.4]
set ytics 1
set ylabel "worker"
set cbrange [0:cbmax]
set cblabel "task time (ms)"
set palette defined (0 "#fff5b0", 0.5 "#f08a24", 1 "#7a0177")
set style fill solid 0.95 border lc rgb "#333333"
unset key
unset grid
set grid xtics lc rgb "#e5e5e5"
mid(a, b) = (a + b) / 2e6
label_of(t, d) = d > xmax / 40 ? sprintf("%d", t) : ""

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  set multiplot layout 2, 1 title sprintf("%s\n%s", what, machine) noenhanced font ",13"
  do for [k = 1:2] {
    f = k == 1 ? st : dy
    set title sprintf("%s schedule: all tasks done after %.1f ms", k == 1 ? "static" : "dynamic", k == 1 ? ms_st : ms_dy)
    set xlabel (k == 2 ? "time since the run began (ms)" : "")
    plot f using (mid(column("start_ns"), column("end_ns"))):"worker":(column("start_ns") / 1e6):(column("end_ns") / 1e6): \
             (column("worker") - 0.38):(column("worker") + 0.38):((column("end_ns") - column("start_ns")) / 1e6) \
             with boxxyerror fc palette, \
         f using (mid(column("start_ns"), column("end_ns"))):"worker": \
             (label_of(column("task"), (column("end_ns") - column("start_ns")) / 1e6)) with labels font ",8"
  }
  unset multiplot
  unset output
}
