# common.gp: the look every bench plot shares: runner colours, fonts, both output formats.
# Loaded by the other scripts/*.gp; defines png_term, svg_term and lt_of(runner).
set datafile separator ","
set datafile columnheaders
set encoding utf8

# One colour and point shape per runner, the same in every plot; anything else (a peer such
# as Python's Pool.map) gets the eighth.
runners_all = "seq fork thread epoll process omp mpi"
set linetype 1 lc rgb "#4d4d4d" lw 2 pt 7  ps 1.1 dt solid
set linetype 2 lc rgb "#1f77b4" lw 2 pt 5  ps 1.1 dt solid
set linetype 3 lc rgb "#d62728" lw 2 pt 9  ps 1.3 dt solid
set linetype 4 lc rgb "#9467bd" lw 2 pt 11 ps 1.3 dt solid
set linetype 5 lc rgb "#ff7f0e" lw 2 pt 13 ps 1.3 dt solid
set linetype 6 lc rgb "#2ca02c" lw 2 pt 15 ps 1.1 dt solid
set linetype 7 lc rgb "#8c564b" lw 2 pt 3  ps 1.1 dt solid
set linetype 8 lc rgb "#17becf" lw 2 pt 2  ps 1.2 dt solid
ri(r) = sum [j = 1:words(runners_all)] (word(runners_all, j) eq r ? j : 0)
lt_of(r) = ri(r) > 0 ? ri(r) : 8

png_term = 'set terminal pngcairo size 1000,620 enhanced font "DejaVu Sans,11" linewidth 1.2 background "#ffffff"'
svg_term = 'set terminal svg size 1000,620 enhanced font "DejaVu Sans,11" linewidth 1.2 background "#ffffff"'

set grid xtics ytics lc rgb "#dddddd" lw 1 dt solid
set border 3 lc rgb "#333333"
set tics nomirror out
set key outside right top vertical Left reverse noenhanced samplen 3 spacing 1.2 box lc rgb "#cccccc"
set title noenhanced font ",13"
# The machine goes in a footer at the left edge, not in the title: a long title centred over a
# plot narrowed by the outside key is clipped at the left. Use: machine = "..."; eval footer
footer = 'set label 99 machine at screen 0.01, screen 0.025 left noenhanced font ",9" tc rgb "#555555"; set bmargin 5'
# A faint copy of another run (the reference) for comparison, and the flagged points.
ref_style = 'lw 1 lc rgb "#c8c8c8" dt 1 pt 1 ps 0.6'
flag_style = 'pt 6 ps 3 lw 2 lc rgb "#d00000"'

# A speedup's error bar: its 95% bootstrap interval from the tidy row (speedup_ci_low/high,
# written by scripts/verdict.py from the per-run samples), or speedup ± speedup_err where a
# run kept no per-run samples (an empty field reads as NaN, the one value unequal to itself;
# strcol() of an empty last field gives the header instead). Use as
# ...:"speedup":@s_lo:@s_hi with yerrorlines.
s_lo = '(column("speedup_ci_low") == column("speedup_ci_low") ? column("speedup_ci_low") : column("speedup") - column("speedup_err"))'
s_hi = '(column("speedup_ci_high") == column("speedup_ci_high") ? column("speedup_ci_high") : column("speedup") + column("speedup_err"))'
