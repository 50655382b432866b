# fit.gp: least-squares fit of one law to one runner's measured speedups, each weighted by
# its error, for its serial fraction e:
#   amdahl     S(K) = 1 / (e + (1 - e)/K)   (strong scaling: the same N on K cores)
#   gustafson  S(K) = K - e (K - 1)         (weak scaling: N = K x N0 on K cores)
# Prints "e stderr ndf" on stdout: the serial fraction, its asymptotic standard error (scaled
# by the residuals) and the degrees of freedom.
# usage: gnuplot -c scripts/fit.gp LAW DATA     (DATA: "K S dS" lines; scripts/fit.sh)
set fit quiet errorvariables
set fit logfile "/dev/null"
e = 0.05
law(K) = ARG1 eq "gustafson" ? K - e * (K - 1) : 1 / (e + (1 - e) / K)
fit law(x) ARG2 using 1:2:3 yerror via e
set print "-"
print sprintf("%.6f %.6f %d", e, e_err, FIT_NDF)
