# flags.awk: tell noise from findings. Reads a run's tidy CSVs and prints one row per
# flagged or annotated point:  sweep,workload,runner,value,level,kind,text
#
# usage: awk -F, -f scripts/stats.awk -f scripts/flags.awk -v nproc=N -v scaling="fork thread"
#            cores.csv [workers.csv] [hyperfine-warnings.csv]
#
# seq timed at every core count K is the noise control: it does the same work each time, so
# its speedup should be 1. Its largest departure, delta = max over K of max(|S - 1|, dS), is
# how much the machine moved between points. A point's noise band is K delta + 2 dS
# (stats.awk: noise_band). Levels:
#   flag   a point outside the band that would read as a finding: S > K (efficiency > 1,
#          Karp-Flatt e < 0) beyond the band; e > 1 beyond it (slower than seq on 1 core);
#          the control itself moved beyond its own spread. Never to be read as a result.
#   noise  S > K but within the band: "within noise", not a finding either.
#   note   hyperfine's own warnings for the point (outliers, a slow first run).
# A control that moved while the disturbance meter (other_cpu) read little gets a text saying
# the meter cannot tell why. Also prints, to the file named by -v noise=FILE, one row per
# workload: workload,delta,control_points.

function clean(s) { gsub(/,/, ";", s); gsub(/"/, "", s); return s }
function emit(sw, w, r, v, level, kind, text) { printf "%s,%s,%s,%s,%s,%s,%s\n", sw, w, r, v, level, kind, clean(text) }
function scales(r) { return index(" " scaling " ", " " r " ") > 0 }

FNR == 1 {
    delete c
    for (i = 1; i <= NF; i++) c[$i] = i
    kindf = ("text" in c) ? "hf" : (("param" in c) && ("speedup" in c)) ? "tidy" : ""
    if (kindf == "") { print "flags.awk: " FILENAME ": not a tidy CSV or hyperfine warnings" > "/dev/stderr"; bad = 1; exit 1 }
    next
}
kindf == "hf" { hf[++nhf] = $c["sweep"] "," $c["workload"] "," $c["runner"] "," $c["value"] SUBSEP $c["text"]; next }
{
    if ($c["speedup"] == "") next
    n++
    P[n] = $c["param"]; W[n] = $c["workload"]; R[n] = $c["runner"]; V[n] = $c["value"] + 0
    S[n] = $c["speedup"] + 0; dS[n] = $c["speedup_err"] + 0
    O[n] = ("other_cpu" in c) ? $c["other_cpu"] : ""
    if (P[n] == "cores" && R[n] == "seq") {
        d = control_drift(S[n], dS[n])
        if (!(W[n] in delta) || d > delta[W[n]]) delta[W[n]] = d
        ctl[W[n]]++
        if (V[n] == 1) base_o[W[n]] = O[n]
    }
}
END {
    if (bad) exit 1
    print "sweep,workload,runner,value,level,kind,text"
    for (i = 1; i <= n; i++) {
        w = W[i]; r = R[i]; K = V[i]; dl = (w in delta) ? delta[w] : 0
        sw = P[i]
        # The ideal: K on K cores; min(W, nproc) for W workers on nproc cores; 1 for seq.
        ideal = (r == "seq") ? 1 : (sw == "cores") ? K : (sw == "workers") ? (K < nproc ? K : nproc) : 0
        if (ideal == 0) continue
        band = noise_band(ideal, dS[i], dl)
        if (r == "seq" && sw == "cores") {
            moved = abs(S[i] - 1)
            if (K > 1 && moved > 2 * dS[i] && moved > 0.03) {
                t = sprintf("control moved: seq on %d cores ran at %.2f of its 1-core speed (%+.0f%% time) beyond its own spread (%.2f)", K, S[i], 100 * (1 / S[i] - 1), dS[i])
                ob = (w in base_o) ? base_o[w] : ""
                if (ob != "" && ob + 0 > 0.3)
                    t = t sprintf(": other processes used %.2f of a CPU while the baseline (seq on 1 core) was timed", ob)
                if (O[i] != "" && O[i] + 0 > 0.3)
                    t = t sprintf(": other processes used %.2f of a CPU while this point was timed", O[i])
                if (!((ob != "" && ob + 0 > 0.3) || (O[i] != "" && O[i] + 0 > 0.3))) {
                    if (ob == "" || O[i] == "") t = t ": the points were too short for the disturbance meter (under 0.5 s) so it cannot tell why"
                    else t = t sprintf(": the disturbance meter read only %.2f and %.2f of a CPU for other processes (baseline and this point): it cannot tell why (it sees CPU time inside this machine and hypervisor steal where reported - not the host's other guests on the same core's other hyperthread or clock-speed changes or shared caches)", ob, O[i])
                }
                t = t sprintf("; every difference within %.0f%% is noise in this workload", 100 * dl)
                emit(sw, w, r, K, "flag", "control", t)
            }
            continue
        }
        if (S[i] > ideal) {
            if (S[i] - ideal > band)
                emit(sw, w, r, K, "flag", "above-ideal", sprintf("speedup %.2f ± %.2f is above the ideal %g beyond the noise band (%.2f): efficiency > 1 and Karp-Flatt e < 0 are impossible for real; suspect the baseline or the machine", S[i], dS[i], ideal, band))
            else
                emit(sw, w, r, K, "noise", "above-ideal", sprintf("speedup %.2f ± %.2f above the ideal %g is within noise (band %.2f)", S[i], dS[i], ideal, band))
        }
        if (sw == "cores" && K > 1 && scales(r) && S[i] < 1 && 1 - S[i] > noise_band(1, dS[i], dl))
            emit(sw, w, r, K, "flag", "karpflatt-range", sprintf("slower than seq on 1 core (S = %.2f ± %.2f): Karp-Flatt e = %.2f > 1; Amdahl's law does not describe it (overhead rather than a serial part)", S[i], dS[i], karpflatt(S[i], K)))
    }
    for (i = 1; i <= nhf; i++) {
        split(hf[i], a, SUBSEP)
        split(a[1], k, ",")
        emit(k[1], k[2], k[3], k[4], "note", "hyperfine", a[2])
    }
    if (noise != "") {
        print "workload,delta,control_points" > noise
        for (w in delta) printf "%s,%.4f,%d\n", w, delta[w], ctl[w] > noise
    }
}
