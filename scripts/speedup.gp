# speedup.gp: speedup against seq at 1 core, one line per runner, with 95% intervals as error bars, the ideal
# line and each runner's fitted Amdahl curve.
# usage: gnuplot -c scripts/speedup.gp CORES_CSV WORKLOAD OUTBASE MACHINE NPROC RUNNERS FITS
#          FLAGGED REFERENCE
#   RUNNERS: "seq fork thread ..."; FITS: "thread:0.031:0.004 ..." (serial fraction and its
#   standard error from scripts/amdahl.sh; runners without a fit are left out); FLAGGED: a file
#   of "K,S,runner" points outside the noise band (ringed in red; scripts/report.py flagged),
#   or ""; REFERENCE: another run's
#   cores.csv drawn faintly, or "". Writes OUTBASE.png and .svg.
load ARG0[1:strlen(ARG0) - strlen("speedup.gp")] . "common.gp"
csv = ARG1; wl = ARG2; outbase = ARG3; machine = ARG4; nproc = ARG5 + 0
runners = ARG6; fits = ARG7; flagged = ARG8; ref = ARG9

sel(r) = strcol("workload") eq wl && strcol("runner") eq r && strcol("param") eq "cores"
fit_name(f) = f[1:strstrt(f, ":") - 1]
fit_rest(f) = f[strstrt(f, ":") + 1:]
fit_e(f) = fit_rest(f)[1:strstrt(fit_rest(f), ":") - 1] + 0
fit_de(f) = fit_rest(f)[strstrt(fit_rest(f), ":") + 1:] + 0
# Drawn only over the core counts measured: extrapolating is left to the table, with its error.
amdahl(p, e) = p < 1 || p > nproc ? NaN : 1 / (e + (1 - e) / p)
refsel(r) = strcol("workload") eq wl && strcol("runner") eq r && strcol("param") eq "cores"

set title sprintf("%s: speedup against seq on 1 core", wl)
eval footer
set xlabel "cores K (--cores K -j K)"
set ylabel "speedup S = T_{seq, 1 core} / T  (×)"
if (nproc > 1) { set xrange [0.8:nproc + 0.2] } else { set xrange [0.5:1.5] }
set xtics 1
if (nproc > 16) { set xtics autofreq }
set yrange [0:*]
set samples 200

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  # gnuplot evaluates an empty plot iteration once, so the fit curves join only when there are some.
  measured = 'x < 1 || x > nproc ? NaN : x with lines lc rgb "#888888" dt 2 lw 1.5 title "ideal (S = K)", ' . \
    'for [i = 1:words(runners)] csv using (sel(word(runners, i)) ? column("value") : NaN):"speedup":' . s_lo . ':' . s_hi . ' ' . \
    'with yerrorlines lt lt_of(word(runners, i)) title word(runners, i)'
  curves = ', for [i = 1:words(fits)] amdahl(x, fit_e(word(fits, i))) with lines lt lt_of(fit_name(word(fits, i))) ' . \
    'dt 3 lw 1.5 title sprintf("%s Amdahl fit, e = %.3f ± %.3f", fit_name(word(fits, i)), fit_e(word(fits, i)), fit_de(word(fits, i)))'
  extra = (ref ne "" ? ', for [i = 1:words(runners)] ref using (refsel(word(runners, i)) ? column("value") : NaN):"speedup" with linespoints ' . ref_style . ' title (i == 1 ? "reference run (faint)" : "")' : "") . \
          (flagged ne "" ? ', flagged using 1:2 with points ' . flag_style . ' title "flagged: outside the noise band"' : "")
  eval "plot " . measured . (words(fits) > 0 ? curves : "") . extra
  unset output
}

