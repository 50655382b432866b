# hyperfine.awk: read one hyperfine --export-json file (one command) and print its
# statistics as one CSV row: mean,stddev,median,min,max,user,system,n (seconds; n = runs).
# usage: awk -f scripts/hyperfine.awk point.json
# Relies on hyperfine's pretty-printed export: one "key": value per line and one time per
# line inside "times": [ ... ]. A null stddev (a single run) is written as 0.
BEGIN { intimes = 0; n = 0 }
/"times": *\[/ { intimes = 1; next }
intimes && /\]/ { intimes = 0; next }
intimes { n++; next }
/^ *"(mean|stddev|median|min|max|user|system)": / {
    key = $1; gsub(/[":]/, "", key)
    val = $2; gsub(/[ ,]/, "", val)
    if (val == "null") val = 0
    if (!(key in v)) v[key] = val
}
END {
    if (!("mean" in v) || n == 0) {
        print "hyperfine.awk: " FILENAME ": no mean or no times: not a hyperfine export" > "/dev/stderr"
        exit 1
    }
    printf "%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%d\n", v["mean"], v["stddev"], v["median"], \
        v["min"], v["max"], v["user"], v["system"], n
}
