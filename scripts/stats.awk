# stats.awk: the formulas every bench script shares, loaded with `awk -f scripts/stats.awk
# -f OTHER.awk`, so that each is written once (bench.sh, karpflatt.awk, flags.awk, diff.sh).
# harness/output.c has the same speedup error in C, for `parlab run --baseline`.

# Speedup S = m0 / m of a mean time m against the baseline mean m0. Relative errors of a
# ratio add in quadrature: dS = S sqrt((s0/m0)^2 + (s/m)^2), s0 and s the two stddevs.
function speedup(m0, m) { return m0 / m }
function speedup_err(m0, s0, m, s) { return (m0 / m) * sqrt((s0 / m0) ^ 2 + (s / m) ^ 2) }

# Karp-Flatt serial fraction of a speedup S on p > 1 cores: the e for which Amdahl's law
# S = 1 / (e + (1 - e)/p) gives S. Its error from S's: |de/dS| = 1 / (S^2 (1 - 1/p)).
function karpflatt(S, p) { return (1 / S - 1 / p) / (1 - 1 / p) }
function karpflatt_err(S, dS, p) { return dS / (S * S * (1 - 1 / p)) }

# The noise band of a speedup S +- dS on K cores, given the control's relative drift
# (seq timed at every K should give S = 1; delta is its largest departure): K * delta for
# the drift of the machine between points, plus two of the point's own standard errors.
function noise_band(K, dS, delta) { return K * delta + 2 * dS }

# How far one seq control point (speedup S +- dS, ideally 1) says the machine moved: the
# largest of these over a workload's core counts is its delta.
function control_drift(S, dS) { return abs(S - 1) > dS ? abs(S - 1) : dS }

# Is a change from a +- sa to b +- sb beyond both runs' noise? |b - a| > 2 sqrt(sa^2 + sb^2),
# and larger, relative to a, than rel (the larger control drift of the two runs).
function beyond_noise(a, sa, b, sb, rel) { return (b - a) ^ 2 > 4 * (sa * sa + sb * sb) && abs(b - a) > rel * abs(a) }

function abs(x) { return x < 0 ? -x : x }
