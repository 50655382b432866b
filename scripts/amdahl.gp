# amdahl.gp: least-squares fit of Amdahl's law S(K) = 1 / (e + (1 - e)/K) to one runner's
# measured speedups, each weighted by its error. Prints "e stderr ndf" on stdout: the serial
# fraction, its asymptotic standard error (scaled by the residuals) and the degrees of freedom.
# usage: gnuplot -c scripts/amdahl.gp DATA     (DATA: "K S dS" lines; scripts/amdahl.sh)
set fit quiet errorvariables
set fit logfile "/dev/null"
e = 0.05
amdahl(K) = 1 / (e + (1 - e) / K)
fit amdahl(x) ARG1 using 1:2:3 yerror via e
set print "-"
print sprintf("%.6f %.6f %d", e, e_err, FIT_NDF)
