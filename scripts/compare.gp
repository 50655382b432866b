# compare.gp: the charts of scripts/compare.sh, each as PNG and SVG.
# usage: gnuplot -e "dir='results/<run>/compare'" scripts/compare.gp
# Reads dir/raw/vars.gp and dir/raw/*.dat, written by peers/python/compare_report.py.
load dir.'/raw/vars.gp'

raw(f) = dir.'/raw/'.f
C_COLOR = '#3465a4'
PY_COLOR = '#e9a23b'

# Every chart is drawn twice: PNG for the page, SVG to zoom into.
array ext[2] = ['png', 'svg']

set style fill solid 0.9 border lc rgb '#333333'
set boxwidth 0.8
set xtics rotate by -30 nomirror
set grid ytics
set key top left opaque

do for [t = 1:2] {
  if (t == 1) {
    set terminal pngcairo size 1100,650 font 'sans,10'
  } else {
    set terminal svg size 1100,650 dynamic font 'sans,10'
  }

  # --- time per unit of work and speedup, per CPU workload ---
  do for [wl in workloads] {
    size = value('size_'.wl)
    unit = value('unit_'.wl)
    set output dir.'/time_'.wl.'.'.ext[t]
    set title sprintf("%s: time per %s, C and Python side by side (log scale), %d workers\nwhole runs (start-up included) divided by N, each language at its own size: %s\n%s; hyperfine mean ± sd of %d runs", \
        wl, unit, workers, size, machine, cpu_runs)
    set ylabel sprintf('ns per %s', unit)
    set logscale y
    set yrange [*:*]
    set xrange [-0.8:*]
    plot raw('time_'.wl.'.dat') using 1:4:(0.8):3 with boxes lc rgb variable notitle, \
         '' using 1:4:5 with yerrorbars lc rgb '#000000' pt 7 ps 0.4 notitle, \
         '' using 1:(NaN):xtic(2) notitle, \
         NaN with boxes lc rgb C_COLOR title 'C (parlab)', \
         NaN with boxes lc rgb PY_COLOR title 'Python'
    unset logscale y

    set output dir.'/speedup_'.wl.'.'.ext[t]
    set title sprintf("%s: speedup against each language's own seq (C: seq, Python: py-seq) at %d workers\nC and Python at their own sizes (%s); py-asyncio's pair is epoll-loops (epoll --loops %d)\n%s; hyperfine mean ± sd of %d runs", \
        wl, workers, size, workers, machine, cpu_runs)
    set ylabel 'speedup (seq time / time)'
    stats raw('speedup_'.wl.'.dat') using ($4 + $5) nooutput
    set yrange [0:1.25 * (STATS_max > workers ? STATS_max : workers)]
    plot raw('speedup_'.wl.'.dat') using 1:4:(0.8):3 with boxes lc rgb variable notitle, \
         '' using 1:4:5 with yerrorbars lc rgb '#000000' pt 7 ps 0.4 notitle, \
         '' using 1:(NaN):xtic(2) notitle, \
         workers with lines dt 2 lw 1.5 lc rgb '#4e9a06' title sprintf('ideal (%d workers)', workers), \
         1 with lines lw 1 lc rgb '#888888' title 'no speedup', \
         NaN with boxes lc rgb C_COLOR title 'C (parlab)', \
         NaN with boxes lc rgb PY_COLOR title 'Python'
  }

  # --- dispatch cost per task (noop) ---
  if (have_noop) {
    set output dir.'/overhead.'.ext[t]
    set title sprintf("noop: what one task costs, handed out or not (log scale), %d workers\nslope of time against task count between two counts, so start-up cancels; seq = no hand-off\n%s; hyperfine mean ± sd of %d runs", \
        workers, machine, noop_runs)
    set ylabel 'µs per task'
    set logscale y
    set yrange [*:*]
    plot raw('overhead.dat') using 1:($4 > 0 ? $4 : NaN):(0.8):3 with boxes lc rgb variable notitle, \
         '' using 1:($4 > 0 ? $4 : NaN):5 with yerrorbars lc rgb '#000000' pt 7 ps 0.4 notitle, \
         '' using 1:(NaN):xtic(2) notitle, \
         NaN with boxes lc rgb C_COLOR title 'C (parlab)', \
         NaN with boxes lc rgb PY_COLOR title 'Python'
    unset logscale y
  }

  # --- sleep: pools step, event loops stay flat ---
  unset xtics
  set xtics norotate nomirror
  set key outside right top
  if (steps_n > 0) {
    set output dir.'/sleep_steps.'.ext[t]
    set title sprintf("sleep: N tasks that each wait %d ms, %d workers (C solid, Python dashed)\npools need ceil(N/%d) rounds, seq N; asyncio and epoll wait for all at once\n%s; hyperfine mean ± sd of %d runs", \
        io_ms, io_workers, io_workers, machine, sleep_runs)
    set xlabel 'tasks (N)'
    set ylabel 'wall time (ms)'
    set xrange [0:*]
    set yrange [0:*]
    set xtics 1
    plot for [i = 1:steps_n] raw('sleep_steps.dat') index (i - 1) using 1:($2 * 1000):($3 * 1000) \
         with yerrorlines lw 1.5 pt 7 ps 0.6 lc rgb steps_color[i] dt steps_dash[i] title steps_title[i]
    set xtics autofreq
  }
  if (scale_n > 0) {
    set output dir.'/sleep_scale.'.ext[t]
    set title sprintf("sleep: event loops at up to 10,000 concurrent waits of %d ms\none thread: asyncio (Python) and parlab's epoll runner (C)\n%s; hyperfine mean ± sd of %d runs", \
        scale_io_ms, machine, sleep_runs)
    set xlabel 'concurrent waits (N, log scale)'
    set ylabel 'wall time (s)'
    set logscale x
    set xrange [*:*]
    set yrange [0:*]
    plot for [i = 1:scale_n] raw('sleep_scale.dat') index (i - 1) using 1:2:3 \
         with yerrorlines lw 1.5 pt 7 lc rgb scale_color[i] dt scale_dash[i] title scale_title[i], \
         scale_io_ms / 1000.0 with lines dt 3 lc rgb '#888888' title 'the wait itself'
    unset logscale x
  }
  unset xlabel
  set xtics rotate by -30 nomirror
  set key top left opaque
  set output
}
