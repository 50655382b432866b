#!/usr/bin/env bash
# report.sh: write RUN_DIR/index.html, one page that needs nothing outside its folder: the
# machine, the warnings, per workload its plots (SVG inlined) and tables, and how to rerun.
# usage: scripts/report.sh RUN_DIR      (scripts/bench.sh calls it after scripts/plots.sh)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
run=${1:?usage: scripts/report.sh RUN_DIR}
. "$here/rundir.sh" report
esc() { sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g; s/"/\&quot;/g'; }
e() { printf '%s' "$*" | esc; }

nproc=$(conf nproc)
host=$(mjson host)
commit=$(mjson git_commit)
html="$run/index.html.tmp"

# figure NAME CAPTION: the SVG inline (ids prefixed so several plots can share one page),
# with links to the PNG and SVG files next to it.
figure() {
  local name=$1 caption=$2 svg="$run/plots/$1.svg"
  [ -s "$svg" ] || { echo "<p class=missing>plot $name was not drawn</p>"; return; }
  echo "<figure id=\"fig-$name\">"
  sed -e '1{/^<?xml/d;}' \
      -e "s/id=\(['\"]\)/id=\1${name}-/g" \
      -e "s/href=\(['\"]\)#/href=\1#${name}-/g" \
      -e "s|<title>Gnuplot</title>|<title>$(e "$caption")</title>|" "$svg"
  echo "<figcaption>$(e "$caption") &middot; <a href=\"plots/$name.png\">plots/$name.png</a> &middot; <a href=\"plots/$name.svg\">plots/$name.svg</a></figcaption>"
  echo "</figure>"
}

# files_item TEXT FILE...: one list item linking the files of the run that exist.
files_item() {
  local text=$1 f links=""
  shift
  for f in "$@"; do [ -e "$run/$f" ] && links="$links <a href=\"$f\">$f</a>"; done
  [ -n "$links" ] && echo "<li>$links: $(e "$text")</li>"
  return 0
}

# CSV to HTML tables. Columns are found by their header names.
core_table() {  # core_table WORKLOAD
  awk -F, -v wl="$1" '
    function pm(m, s) { return sprintf("%.4f &plusmn; %.4f", m, s) }
    FILENAME ~ /karpflatt/ { if (FNR > 1) kf[$1 "," $2 "," $3] = sprintf("%.3f &plusmn; %.3f", $5, $6); next }
    FILENAME ~ /rows/ {
      if (FNR == 1) { for (i = 1; i <= NF; i++) rc[$i] = i; next }
      k = $rc["workload"] "," $rc["runner"] "," $rc["value"]
      cpu[k] = sprintf("%.3f", $rc["user_s"] + $rc["sys_s"]); rss[k] = sprintf("%.1f", $rc["max_rss_kb"] / 1024)
      next
    }
    FNR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $c["workload"] != wl { next }
    {
      k = $1 "," $2 "," $c["value"]
      if (!head++) print "<table><tr><th>runner</th><th>cores K</th><th>mean &plusmn; stddev (s)</th><th>n</th><th>speedup</th><th>efficiency</th><th>Karp&ndash;Flatt e</th><th>CPU user+sys (s)</th><th>max RSS (MiB)</th><th>others&rsquo; CPU</th></tr>"
      printf "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%.2f &plusmn; %.2f</td><td>%.2f</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
        $2, $c["value"], pm($c["mean"], $c["stddev"]), $c["n"], $c["speedup"], $c["speedup_err"],
        $c["efficiency"], (k in kf) ? kf[k] : "&ndash;", cpu[k], rss[k], ("other_cpu" in c && $c["other_cpu"] != "") ? $c["other_cpu"] : "&ndash;"
    }
    END { if (head) print "</table>" }' "$run/karpflatt.csv" "$run/cores-rows.csv" "$run/cores.csv"
}

fit_table() {  # fit_table WORKLOAD
  [ -s "$run/amdahl.csv" ] || return 0
  awk -F, -v wl="$1" -v np="$nproc" '
    NR == 1 || $1 != wl { next }
    {
      if (!head++) print "<table class=narrow><tr><th>runner</th><th>serial fraction e (Amdahl fit)</th><th>points (K &gt; 1)</th><th>Amdahl limit 1/e</th></tr>"
      if ($3 == "") { printf "<tr><td>%s</td><td colspan=3>no fit: needs a point with K &ge; 2 (this machine has %d CPU)</td></tr>\n", $2, np; next }
      printf "<tr><td>%s</td><td>%.3f &plusmn; %.3f</td><td>%d%s</td><td>%s</td></tr>\n", $2, $3, $4, $5,
        $5 == 1 ? " (the curve passes through it)" : "", ($3 > 0 ? sprintf("%.1f&times;", 1 / $3) : "none")
    }
    END { if (head) print "</table>" }' "$run/amdahl.csv"
}

sweep_table() {  # sweep_table CSV WORKLOAD PARAM_TITLE: runners down, parameter values across
  awk -F, -v wl="$2" -v title="$3" '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    $1 != wl { next }
    {
      r = $2; v = $c["value"]
      if (!(r in seenr)) { seenr[r] = 1; rs[++nr] = r }
      if (!(v in seenv)) { seenv[v] = 1; vs[++nv] = v }
      cell[r, v] = sprintf("%.4f &plusmn; %.4f<br><small>&times;%.2f</small>", $c["mean"], $c["stddev"], $c["speedup"])
    }
    END {
      if (!nr) exit
      # values ascending (numeric insertion sort: a handful of them)
      for (i = 2; i <= nv; i++) { x = vs[i]; for (j = i - 1; j >= 1 && vs[j] + 0 > x + 0; j--) vs[j + 1] = vs[j]; vs[j + 1] = x }
      printf "<table><tr><th>runner \\ %s</th>", title
      for (j = 1; j <= nv; j++) printf "<th>%s</th>", vs[j]
      print "</tr>"
      for (i = 1; i <= nr; i++) {
        printf "<tr><td>%s</td>", rs[i]
        for (j = 1; j <= nv; j++) printf "<td>%s</td>", ((rs[i], vs[j]) in cell) ? cell[rs[i], vs[j]] : "&ndash;"
        print "</tr>"
      }
      print "</table><p class=note>Each cell: mean &plusmn; stddev of the wall time in seconds, and the speedup against seq.</p>"
    }' "$1"
}

summary_table() {  # speedup at the largest core count, per workload and runner
  awk -F, '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    {
      w = $1; r = $2; v = $c["value"] + 0
      if (!(w in seenw)) { seenw[w] = 1; ws[++nw] = w }
      if (!(r in seenr)) { seenr[r] = 1; rs[++nr] = r }
      if (!((w, r) in best) || v > kmax[w, r]) { kmax[w, r] = v; best[w, r] = sprintf("%.2f &plusmn; %.2f", $c["speedup"], $c["speedup_err"]) }
      if (v > K) K = v
    }
    END {
      if (!nw) exit
      printf "<table><tr><th>workload \\ runner (speedup at K = %d)</th>", K
      for (j = 1; j <= nr; j++) printf "<th>%s</th>", rs[j]
      print "</tr>"
      for (i = 1; i <= nw; i++) {
        printf "<tr><td><a href=\"#w-%s\">%s</a></td>", ws[i], ws[i]
        for (j = 1; j <= nr; j++) printf "<td>%s</td>", ((ws[i], rs[j]) in best) ? best[ws[i], rs[j]] : "&ndash;"
        print "</tr>"
      }
      print "</table>"
    }' "$run/cores.csv"
}

machine_table() {
  echo "<table class=narrow>"
  awk -F'"' '/^  "/ {
      k = $2; v = $0; sub(/^[^:]*: */, "", v); sub(/,$/, "", v); gsub(/"/, "", v)
      gsub(/&/, "\\&amp;", v); gsub(/</, "\\&lt;", v)
      printf "<tr><th>%s</th><td>%s</td></tr>\n", k, v
    }' "$run/machine.json"
  echo "</table>"
}

{
  title="parlab bench on $host: $nproc CPUs, $(mjson date)"
  cat <<EOF
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$(e "$title")</title>
<style>
body { font: 15px/1.45 "DejaVu Sans", system-ui, sans-serif; color: #222; max-width: 1080px; margin: 1.5em auto; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
.sub { color: #555; margin-top: 0; }
nav a { margin-right: 0.8em; }
figure { margin: 1.2em 0; } figure svg { max-width: 100%; height: auto; border: 1px solid #e5e5e5; }
figcaption { color: #555; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #d5d5d5; padding: 0.25em 0.6em; text-align: right; vertical-align: top; }
th { background: #f3f3f3; } td:first-child, th:first-child { text-align: left; }
table.narrow td { text-align: left; }
.warn { background: #fff4e0; border-left: 5px solid #e08a00; padding: 0.6em 1em; }
.ok { background: #eef8ee; border-left: 5px solid #3a3; padding: 0.6em 1em; }
.note { color: #555; font-size: 0.9em; }
pre { background: #f6f6f6; padding: 0.7em; overflow-x: auto; font-size: 0.85em; }
</style>
</head>
<body>
<h1>$(e "parlab bench on $host")</h1>
<p class="sub">$(e "$(mjson cpu_model)"), $nproc CPUs allowed ($(e "$(mjson cpus_allowed)")) &middot; $(e "$(mjson date)") &middot; mode <b>$(e "$(conf mode)")</b> &middot; commit $(e "${commit:0:12}")$( [ "$(mjson git_dirty)" = true ] && echo " (with uncommitted changes)")</p>
<nav><a href="#warnings">warnings</a><a href="#machine">machine</a><a href="#summary">summary</a>$(for w in $(conf workloads); do printf '<a href="#w-%s">%s</a>' "$w" "$w"; done)<a href="#sleep">sleep</a><a href="#timeline">timeline</a><a href="#reproduce">reproduce</a><a href="#files">files</a></nav>
EOF

  echo '<h2 id="warnings">Warnings</h2>'
  if [ -s "$run/warnings.txt" ] || [ -s "$run/noisy.txt" ]; then
    echo '<div class="warn"><ul>'
    [ -s "$run/warnings.txt" ] && esc < "$run/warnings.txt" | sed 's|^|<li>|; s|$|</li>|'
    if [ -s "$run/noisy.txt" ]; then
      echo "<li><details><summary>$(wc -l < "$run/noisy.txt") point(s) have a stddev above 10% of the mean</summary><ul>"
      esc < "$run/noisy.txt" | sed 's|^|<li>|; s|$|</li>|'
      echo "</ul></details></li>"
    fi
    if [ -s "$run/disturbed.txt" ]; then
      echo "<li><details><summary>the disturbed points</summary><ul>"
      esc < "$run/disturbed.txt" | sed 's|^|<li>|; s|$|</li>|'
      echo "</ul></details></li>"
    fi
    echo '</ul></div>'
  else
    echo '<p class="ok">None: the load was low, the governor is <code>performance</code>, and every point is within 10% spread.</p>'
  fi

  echo '<h2 id="machine">Machine</h2>'
  machine_table
  [ -n "$(conf load_end)" ] && echo "<p class=\"note\">Load average when the sweep ended: $(e "$(conf load_end)") (the sweep itself keeps up to $nproc CPUs busy; more than that means other work shared the machine).</p>"
  cat <<EOF
<p class="note">Each point was timed by <code>hyperfine -N</code> with $(conf runs) runs after $(conf warmup) warm-up run(s),
and run once more with <code>--format csv</code> for parlab's own verified row (answer, user/sys time, RSS).
Speedup S is seq's mean time on 1 core divided by the point's mean time; its error bar is S times the two
relative stddevs added in quadrature. &ldquo;Others&rsquo; CPU&rdquo; is the share of a CPU that other processes used while the point was timed (busy time in /proc/stat less the command&rsquo;s own); a point above 0.3 was timed again, up to $(conf retries) time(s). The Karp&ndash;Flatt serial fraction of a point is
e = (1/S &minus; 1/K) / (1 &minus; 1/K); a runner's Amdahl fit is the mean e over its points with K &ge; 2
(scripts/karpflatt.awk), drawn as S(K) = 1 / (e + (1 &minus; e)/K).$( [ "$nproc" -le 2 ] && echo " With $nproc CPU(s) there is at most one such point per runner, so the fitted curve passes through it and predicts nothing beyond.")</p>
EOF

  echo '<h2 id="summary">Summary</h2>'
  [ -s "$run/cores.csv" ] && summary_table
  echo "<p class=\"note\">Runners swept: $(e "$(conf runners)"). Cores: $(e "$(conf cores)"). Workers: $(e "$(conf workers)").</p>"

  for w in $(conf workloads); do
    echo "<h2 id=\"w-$w\">$w</h2>"
    awk -F, -v wl="$w" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
      $c["workload"] == wl { printf "<p>N = %s, %s tasks, %s step(s); answer %s, verified (%s).</p>\n", $c["size"], $c["tasks"], $c["steps"], $c["result"], $c["check"]; exit }' \
      "$run/cores-rows.csv" 2>/dev/null || true
    figure "$w-speedup" "$w: speedup against seq on 1 core, with Amdahl fits"
    figure "$w-efficiency" "$w: parallel efficiency S / K"
    [ -s "$run/plots/weak-$w.svg" ] && figure "weak-$w" "$w: weak scaling, N = K x N0 on K cores: scaled speedup with Gustafson's line"
    echo "<h3>Core sweep: --cores K -j K</h3>"
    [ -s "$run/cores.csv" ] && core_table "$w"
    echo "<h3>Amdahl fit</h3>"
    fit_table "$w"
    echo "<h3>Worker sweep: -j W on all $nproc cores</h3>"
    figure "$w-workers" "$w: speedup against workers, oversubscribed beyond $nproc"
    [ -s "$run/workers.csv" ] && sweep_table "$run/workers.csv" "$w" "workers W"
  done

  echo '<h2 id="sleep">sleep: I/O concurrency</h2>'
  if [ -s "$run/concurrency.csv" ]; then
    echo "<p>$(conf sleep_tasks) tasks that each wait $(conf sleep_io_ms) ms. A pool of W workers waits W at a time; the epoll runner keeps every task in flight in one thread (shown as a flat line at its one measurement); seq waits one at a time.</p>"
    figure sleep-concurrency "sleep: wall time against concurrency"
    sweep_table "$run/concurrency.csv" sleep "concurrency"
  else
    echo "<p>Not run in this sweep.</p>"
  fi

  echo '<h2 id="timeline">Timeline: static against dynamic scheduling</h2>'
  if [ -s "$run/plots/timeline-primes.svg" ]; then
    echo "<p>primes is imbalanced: the later ranges hold larger numbers, whose trial division costs more. A static schedule hands each worker a fixed share up front; a dynamic one lets idle workers claim the next task. Both runs come from <code>--trace</code> (task, worker, step, start_ns, end_ns).</p>"
    figure timeline-primes "primes: one bar per task, one row per worker"
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "<table><tr><th>schedule</th><th>workers</th><th>tasks</th><th>wall (s)</th><th>user+sys (s)</th><th>answer</th></tr>"; next }
      { printf "<tr><td>%s</td><td>%s</td><td>%s</td><td>%.4f</td><td>%.3f</td><td>%s (%s)</td></tr>\n", $1, $c["workers"], $c["tasks"], $c["wall_s"], $c["user_s"] + $c["sys_s"], $c["result"], $c["verified"] == "yes" ? "verified" : "WRONG" }
      END { print "</table>" }' "$run/timeline-rows.csv"
  else
    echo "<p>Not drawn in this sweep (it needs the primes workload).</p>"
  fi

  cat <<EOF
<h2 id="reproduce">Reproduce</h2>
<pre>git checkout $(e "$commit")
$(e "$(conf reproduce)")</pre>
<p>Each point alone, as timed (hyperfine substitutes the parameter into the command, see <a href="commands.txt">commands.txt</a>):</p>
<details><summary>all $(wc -l < "$run/commands.txt") commands</summary><pre>$(esc < "$run/commands.txt")</pre></details>
<p>For example: <code>hyperfine -N --runs $(conf runs) --warmup $(conf warmup) '$(head -n 1 "$run/commands.txt" | esc)'</code></p>

<h2 id="files">Files in this folder</h2>
<ul>
EOF
  files_item "the machine, compiler, commit and load when the run began" machine.json
  files_item "one tidy row per point (hyperfine statistics, speedup)" cores.csv workers.csv concurrency.csv
  files_item "parlab's own --format csv row for each point" cores-rows.csv workers-rows.csv concurrency-rows.csv
  files_item "serial fraction per point and per runner" karpflatt.csv amdahl.csv
  files_item "the timelines (--trace)" trace-static.csv trace-dynamic.csv timeline-rows.csv
  files_item "every measured command" commands.txt
  [ -d "$run/raw" ] && echo "<li>raw/: hyperfine's JSON (and CSV) export of every point</li>"
  echo "<li>plots/: every plot as PNG and SVG</li>"
  [ -s "$run/compare/index.html" ] &&
    echo '<li><a href="compare/index.html">compare/</a>: parlab against Python'"'"'s multiprocessing, futures and asyncio (make compare)</li>'
  [ -d "$run/logs" ] && echo "<li>logs/: what hyperfine printed and each point's stderr</li>"
  echo "</ul>"
  echo "</body>"
  echo "</html>"
} > "$html"

mv -f "$html" "$run/index.html"
