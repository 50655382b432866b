# weak.gp: weak scaling. Scaled speedup against cores, one line per runner with error bars,
# the ideal S = K and, for each runner fitted, Gustafson's line S = K - e (K - 1) with the
# least-squares e (scripts/fit.sh gustafson). A runner without a fit gets a key entry that
# says why, not a line.
# usage: gnuplot -c scripts/weak.gp WEAK_CSV WORKLOAD OUTBASE MACHINE NPROC RUNNERS FITS NOFIT
#   FITS: "fork:0.031:0.004 ..." (runner:e:stderr); NOFIT: why the others have none, or "".
load ARG0[1:strlen(ARG0) - strlen("weak.gp")] . "common.gp"
csv = ARG1; wl = ARG2; outbase = ARG3; machine = ARG4; nproc = ARG5 + 0; runners = ARG6
fits = ARG7; nofit = ARG8

sel(r) = strcol("workload") eq wl && strcol("runner") eq r
fit_name(f) = f[1:strstrt(f, ":") - 1]
fit_rest(f) = f[strstrt(f, ":") + 1:]
fit_e(f) = fit_rest(f)[1:strstrt(fit_rest(f), ":") - 1] + 0
fit_de(f) = fit_rest(f)[strstrt(fit_rest(f), ":") + 1:] + 0
# Drawn only over the core counts measured.
gustafson(p, e) = p < 1 || p > nproc ? NaN : p - e * (p - 1)

set title sprintf("%s: weak scaling, N = K × N0 on K cores (scaled speedup)", wl)
eval footer
set xlabel "cores K (--cores K -j K, N = K × N0)"
# one core's time at K N0: K T(N0, 1) where the work is linear in N, measured otherwise
set ylabel "scaled speedup S = T(K N0, 1) / T(K N0, K)  (×)"
if (nproc > 1) { set xrange [0.8:nproc + 0.2] } else { set xrange [0.5:1.5] }
set xtics 1
if (nproc > 16) { set xtics autofreq }
set yrange [0:*]
set samples 200

do for [fmt in "png svg"] {
  eval (fmt eq "png" ? png_term : svg_term)
  set output outbase . "." . fmt
  measured = 'x < 1 || x > nproc ? NaN : x with lines lc rgb "#888888" dt 2 lw 1.5 title "ideal (S = K)", ' . \
    'for [i = 1:words(runners)] csv using (sel(word(runners, i)) ? column("cores") : NaN):"scaled_speedup":"scaled_speedup_err" ' . \
    'with yerrorlines lt lt_of(word(runners, i)) title word(runners, i)'
  # gnuplot evaluates an empty plot iteration once, so the lines join only when there are some.
  curves = ', for [i = 1:words(fits)] gustafson(x, fit_e(word(fits, i))) with lines lt lt_of(fit_name(word(fits, i))) ' . \
    'dt 3 lw 1.5 title sprintf("%s Gustafson fit, e = %.3f ± %.3f", fit_name(word(fits, i)), fit_e(word(fits, i)), fit_de(word(fits, i)))'
  why = nofit ne "" ? ', keyentry with lines lc rgb "#ffffff" title nofit' : ''
  eval "plot " . measured . (words(fits) > 0 ? curves : "") . why
  unset output
}
