# hyperfine.jq: one hyperfine --export-json file (one command) as one CSV row:
#   mean_s,stddev_s,median_s,min_s,max_s,user_s,sys_s,n of the tidy CSVs (hyperfine's mean,
#   stddev, median, min, max, user, system; seconds to the microsecond; n = runs)
# usage: jq -r -f scripts/hyperfine.jq point.json     A null stddev (one run) is written as 0.
def us: . * 1e6 | round / 1e6;
.results[0]
| if (.mean == null or (.times | length) == 0) then error("no mean or no times: not a hyperfine export") else . end
| [(.mean | us), ((.stddev // 0) | us), (.median | us), (.min | us), (.max | us),
   (.user | us), (.system | us), (.times | length)]
| map(tostring) | join(",")
