# karpflatt.awk: the Karp-Flatt serial fraction of each measured speedup on K > 1 cores.
#
# usage: awk -f scripts/stats.awk -f scripts/karpflatt.awk [-v scaling="fork thread ..."] cores.csv
# Input: a CSV with a header naming at least workload, runner, value (the core count p) and
# speedup; speedup_err and param are used when present (only rows with param = cores count).
# With scaling set, only those runners (the ones meant to scale) get a value.
#
# For a speedup S on p > 1 cores, e = (1/S - 1/p) / (1 - 1/p) (stats.awk: karpflatt), with
# its error from S's. p = 1 says nothing about e. The Amdahl fit over several core counts is
# scripts/amdahl.sh (a least-squares fit), not a mean of these.
#
# Output: workload,runner,p,speedup,karpflatt,karpflatt_err   (one row per p > 1)

BEGIN { FS = "," }

NR == 1 {
    for (i = 1; i <= NF; i++) col[$i] = i
    if (!("workload" in col) || !("runner" in col) || !("value" in col) || !("speedup" in col)) {
        print "karpflatt.awk: the header needs workload, runner, value and speedup" > "/dev/stderr"
        bad = 1
        exit 1
    }
    print "workload,runner,p,speedup,karpflatt,karpflatt_err"
    next
}

{
    if (("param" in col) && $col["param"] != "cores") next
    if (scaling != "" && !index(" " scaling " ", " " $col["runner"] " ")) next
    p = $col["value"] + 0
    S = $col["speedup"]
    if (p <= 1 || S == "" || S + 0 <= 0) next
    S += 0
    dS = ("speedup_err" in col) ? $col["speedup_err"] + 0 : 0
    printf "%s,%s,%d,%.4f,%.4f,%.4f\n", $col["workload"], $col["runner"], p, S, karpflatt(S, p), karpflatt_err(S, dS, p)
}

END { exit bad }
