# diff.awk: two runs' tidy CSVs side by side. Reads run A's files, then run B's (the same
# sweeps), with -v na=NUMBER_OF_A_FILES; prints one row per point present in both:
#   sweep,workload,runner,value,size_a,size_b,mean_a,stddev_a,mean_b,stddev_b,time_change_pct,
#   time_beyond_noise,speedup_a,speedup_err_a,speedup_b,speedup_err_b,speedup_change,speedup_beyond_noise
# "beyond noise" (stats.awk: beyond_noise): the change exceeds twice both errors in quadrature
# and, relatively, the larger seq-control drift of the two runs for that workload.
# usage: awk -F, -f scripts/stats.awk -f scripts/diff.awk -v na=N A/cores.csv ... B/cores.csv ...
FNR == 1 { f++; delete c; for (i = 1; i <= NF; i++) c[$i] = i; next }
{
    k = $c["param"] "," $c["workload"] "," $c["runner"] "," $c["value"]
    v = $c["size"] "," $c["mean"] "," $c["stddev"] "," $c["speedup"] "," $c["speedup_err"]
    if ($c["param"] == "cores" && $c["runner"] == "seq" && $c["speedup"] != "") {
        dr = control_drift($c["speedup"], $c["speedup_err"]); w = $c["workload"]
        if (f <= na) { if (dr > drift_a[w]) drift_a[w] = dr } else if (dr > drift_b[w]) drift_b[w] = dr
    }
    if (f <= na) { a[k] = v; next }
    if (k in a) { b[k] = v; order[++n] = k }
}
END {
    print "sweep,workload,runner,value,size_a,size_b,mean_a,stddev_a,mean_b,stddev_b,time_change_pct,time_beyond_noise,speedup_a,speedup_err_a,speedup_b,speedup_err_b,speedup_change,speedup_beyond_noise"
    for (i = 1; i <= n; i++) {
        k = order[i]
        split(a[k], x, ","); split(b[k], y, ",")
        split(k, kk, ","); rel = drift_a[kk[2]] > drift_b[kk[2]] ? drift_a[kk[2]] : drift_b[kk[2]]
        tc = x[2] > 0 ? 100 * (y[2] - x[2]) / x[2] : 0
        tb = (x[1] == y[1]) && beyond_noise(x[2], x[3], y[2], y[3], rel) ? "yes" : "no"
        if (x[1] != y[1]) tb = "sizes differ"
        if (x[4] != "" && y[4] != "") {
            sc = sprintf("%+.4f", y[4] - x[4])
            sb = beyond_noise(x[4], x[5], y[4], y[5], rel) ? "yes" : "no"
        } else { sc = ""; sb = "" }
        printf "%s,%s,%s,%s,%s,%s,%s,%+.1f,%s,%s,%s,%s,%s,%s,%s\n", k, x[1], y[1], x[2], x[3], y[2], y[3], tc, tb, x[4], x[5], y[4], y[5], sc, sb
    }
}
