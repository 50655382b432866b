# karpflatt.awk: the Karp-Flatt serial fraction of each measured speedup, and the fitted
# Amdahl serial fraction of each runner.
#
# usage: awk -f scripts/karpflatt.awk -v out=points|fit cores.csv
# Input: a CSV with a header naming at least workload, runner, value (the core count p) and
# speedup; speedup_err and param are used when present (only rows with param = cores count).
#
# For a speedup S on p > 1 cores, e = (1/S - 1/p) / (1 - 1/p): the serial fraction that
# Amdahl's law S = 1 / (e + (1 - e)/p) would need to give S. p = 1 says nothing about e.
# Its error comes from S's: |de/dS| = 1 / (S^2 (1 - 1/p)).
#
# out=points: workload,runner,p,speedup,karpflatt,karpflatt_err   (one row per p > 1)
# out=fit:    workload,runner,serial_fraction,serial_fraction_err,points
#   serial_fraction is the mean e over the runner's p > 1 points; its error is the standard
#   error of that mean, or with one point that point's own error. With no p > 1 point
#   (a 1-CPU machine) serial_fraction and its error are empty: there is nothing to fit.

function karpflatt(S, p) { return (1 / S - 1 / p) / (1 - 1 / p) }
function karpflatt_err(S, dS, p) { return dS / (S * S * (1 - 1 / p)) }

BEGIN { FS = ","; if (out == "") out = "points"; nkeys = 0 }

NR == 1 {
    for (i = 1; i <= NF; i++) col[$i] = i
    if (!("workload" in col) || !("runner" in col) || !("value" in col) || !("speedup" in col)) {
        print "karpflatt.awk: the header needs workload, runner, value and speedup" > "/dev/stderr"
        bad = 1
        exit 1
    }
    if (out == "points") print "workload,runner,p,speedup,karpflatt,karpflatt_err"
    else if (out == "fit") print "workload,runner,serial_fraction,serial_fraction_err,points"
    else { print "karpflatt.awk: out must be points or fit" > "/dev/stderr"; bad = 1; exit 1 }
    next
}

{
    if (("param" in col) && $col["param"] != "cores") next
    key = $col["workload"] "," $col["runner"]
    if (!(key in seen)) { seen[key] = 1; order[++nkeys] = key; n[key] = 0 }
    p = $col["value"] + 0
    S = $col["speedup"]
    if (p <= 1 || S == "" || S + 0 <= 0) next
    S += 0
    dS = ("speedup_err" in col) ? $col["speedup_err"] + 0 : 0
    e = karpflatt(S, p)
    de = karpflatt_err(S, dS, p)
    n[key]++
    sum[key] += e
    sumsq[key] += e * e
    lasterr[key] = de
    if (out == "points") printf "%s,%d,%.4f,%.4f,%.4f\n", key, p, S, e, de
}

END {
    if (bad || out != "fit") exit bad
    for (k = 1; k <= nkeys; k++) {
        key = order[k]
        m = n[key]
        if (m == 0) { printf "%s,,,0\n", key; continue }
        mean = sum[key] / m
        if (m > 1) {
            var = (sumsq[key] - m * mean * mean) / (m - 1)
            err = var > 0 ? sqrt(var / m) : 0
        } else {
            err = lasterr[key]
        }
        printf "%s,%.4f,%.4f,%d\n", key, mean, err, m
    }
}
