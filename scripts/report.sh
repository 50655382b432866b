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
  awk -F, -v wl="$1" -v scaling=" $(scaling) " '
    function pm(m, s) { return sprintf("%.4f &plusmn; %.4f", m, s) }
    function h(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
    FILENAME ~ /karpflatt/ { if (FNR > 1) kf[$1 "," $2 "," $3] = sprintf("%.3f &plusmn; %.3f", $5, $6); next }
    FILENAME ~ /flags/ {
      if (FNR == 1 || $1 != "cores") next
      k = $2 "," $3 "," $4
      note[k] = note[k] sprintf("<li class=%s>%s%s</li>", $5, $5 == "flag" ? "<b>flag:</b> " : $5 == "noise" ? "within noise: " : "hyperfine: ", h($7))
      if ($5 == "flag" || (mark[k] == "" && $5 == "noise")) mark[k] = $5
      next
    }
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
      if (!head++) print "<table><tr><th>runner</th><th>cores K</th><th>mean &plusmn; stddev (s)</th><th>n</th><th>speedup [95% CI]</th><th>efficiency</th><th>Karp&ndash;Flatt e</th><th>CPU user+sys (s)</th><th>max RSS (MiB)</th><th>others&rsquo; CPU</th><th>notes</th></tr>"
      m = mark[k]; cls = m == "" ? "" : " class=" m; sym = m == "flag" ? " !" : m == "noise" ? " ~" : ""
      e = (k in kf) ? kf[k] : index(scaling, " " $2 " ") ? "&ndash;" : "<small>not meant to scale</small>"
      # The speedup with its 95% bootstrap interval (scripts/verdict.py), or ± its propagated
      # error in a run that kept no per-run samples.
      sp = ("speedup_ci_low" in c && $c["speedup_ci_low"] != "") ? \
        sprintf("%.2f&times; [%.2f, %.2f]", $c["speedup"], $c["speedup_ci_low"], $c["speedup_ci_high"]) : \
        sprintf("%.2f&times; &plusmn; %.2f", $c["speedup"], $c["speedup_err"])
      printf "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td%s>%s%s</td><td%s>%.2f%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class=notes>%s</td></tr>\n",
        $2, $c["value"], pm($c["mean"], $c["stddev"]), $c["n"], cls, sp, sym,
        cls, $c["efficiency"], sym, e, cpu[k], rss[k], ("other_cpu" in c && $c["other_cpu"] != "") ? $c["other_cpu"] : "&ndash;",
        (k in note) ? "<ul>" note[k] "</ul>" : ""
    }
    END { if (head) print "</table><p class=note><b>!</b> outside the noise band: not a finding. <b>~</b> above the ideal but within noise.</p>" }' \
    "$run/karpflatt.csv" "$run/flags.csv" "$run/cores-rows.csv" "$run/cores.csv"
}

fit_table() {  # fit_table WORKLOAD
  [ -s "$run/amdahl.csv" ] || return 0
  awk -F, -v wl="$1" -v np="$nproc" '
    NR == 1 || $1 != wl { next }
    {
      if (!head++) print "<table class=narrow><tr><th>runner</th><th>serial fraction e (least-squares Amdahl fit)</th><th>core counts</th><th>Amdahl limit 1/e (1&sigma; range)</th></tr>"
      if ($3 == "") { printf "<tr><td>%s</td><td colspan=3>no fit: %s</td></tr>\n", $2, $6 != "" ? $6 : "needs a point with K &ge; 2"; next }
      e = $3 + 0; d = $4 + 0
      if (e <= 0) lim = "none: e &le; 0"
      else if (e - d <= 0) lim = sprintf("&ge; %.1f&times; (unbounded within 1&sigma;)", 1 / (e + d))
      else lim = sprintf("%.1f&times; (%.1f&ndash;%.1f)", 1 / e, 1 / (e + d), 1 / (e - d))
      printf "<tr><td>%s</td><td>%.3f &plusmn; %.3f</td><td>%d</td><td>%s</td></tr>\n", $2, e, d, $5, lim
    }
    END { if (head) print "</table>" }' "$run/amdahl.csv"
}

# sweep_notes SWEEP WORKLOAD: the flags and hyperfine warnings of a sweep's points, as a list.
sweep_notes() {
  [ -s "$run/flags.csv" ] || return 0
  awk -F, -v sw="$1" -v wl="$2" '
    function h(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
    $1 == sw && $2 == wl {
      if (!n++) print "<ul class=note>"
      printf "<li class=%s>%s %s=%s: %s%s</li>\n", $5, $3, sw, $4, $5 == "flag" ? "<b>flag:</b> " : $5 == "noise" ? "within noise: " : "hyperfine: ", h($7) }
    END { if (n) print "</ul>" }' "$run/flags.csv"
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

summary_table() {  # speedup at the largest core count, per workload and runner (summary.csv)
  awk -F, '
    NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { w = $1; r = $2; K = $3
      if (!(w in seenw)) { seenw[w] = 1; ws[++nw] = w }
      if (!(r in seenr)) { seenr[r] = 1; rs[++nr] = r }
      lo = ("ci_low" in c) ? $c["ci_low"] : ""; hi = ("ci_high" in c) ? $c["ci_high"] : ""
      v = ("verdict" in c) ? $c["verdict"] : ""
      cell[w, r] = sprintf("<td%s>%s%s%s</td>", $6 == "" ? "" : " class=" $6,
        lo != "" ? sprintf("%.2f [%.2f, %.2f]", $4, lo, hi) : sprintf("%.2f &plusmn; %.2f", $4, $5),
        $6 == "flag" ? " !" : $6 == "noise" ? " ~" : "",
        v == "fail" ? " <b title=\"fail\">&#x2717;</b>" : v == "inconclusive" ? " <span title=\"inconclusive\">?</span>" : "")
      noise[w] = $7 == "" ? "&ndash;" : sprintf("%.0f%%", 100 * $7) }
    END {
      if (!nw) exit
      printf "<table><tr><th>workload \\ runner (speedup at K = %d)</th><th>noise &delta;</th>", K
      for (j = 1; j <= nr; j++) printf "<th>%s</th>", rs[j]
      print "</tr>"
      for (i = 1; i <= nw; i++) {
        printf "<tr><td><a href=\"#w-%s\">%s</a></td><td>%s</td>", ws[i], ws[i], noise[ws[i]]
        for (j = 1; j <= nr; j++) printf "%s", ((ws[i], rs[j]) in cell) ? cell[ws[i], rs[j]] : "<td>&ndash;</td>"
        print "</tr>"
      }
      print "</table>"
    }' "$run/summary.csv"
}

# The key findings at the top of the page: the same table and counts as the end of bench.sh.
findings() {
  echo '<section class="findings"><h2 id="findings">Key findings</h2>'
  if [ -s "$run/trust.txt" ]; then
    local t
    t=$(cat "$run/trust.txt")
    printf '<p class="%s"><b>Trust:</b> %s%s</p>\n' "$(case $t in quiet*) echo ok ;; *) echo warn ;; esac)" "$(e "$t")" \
      "$( [ -n "$(conf trust_start)" ] && printf ' (at the start: %s)' "$(e "$(conf trust_start)")")"
  fi
  [ -s "$run/summary.csv" ] && summary_table
  if [ -s "$run/findings.txt" ]; then
    echo "<details><summary>$(grep -c . "$run/findings.txt") finding(s) did not pass (&#x2717; fail, ? inconclusive): why, and what would settle them</summary><ul>"
    esc < "$run/findings.txt" | sed 's|^|<li>|; s|$|</li>|'
    echo "</ul></details>"
  fi
  if [ -s "$run/flags.csv" ]; then
    awk -F, 'NR > 1 { n[$5]++; if ($5 == "note") p[$1 $2 $3 $4] = 1 }
      END { printf "<p>%d point(s) flagged <b>!</b> outside the noise band (not findings: listed under <a href=\"#warnings\">warnings</a>), %d above the ideal but within noise <b>~</b>; hyperfine warned about %d point(s).</p>\n", n["flag"], n["noise"], length(p) }' "$run/flags.csv"
  fi
  if [ -s "$run/grain-findings.txt" ]; then
    echo "<p><b>Task grain</b> (<a href=\"#grain\">METG</a>): $(grep -E '^(headline|ratios)' "$run/grain-findings.txt" | sed 's/&/\&amp;/g; s/</\&lt;/g' | tr '\n' ' ')</p>"
  fi
  echo "<p class=note>Each speedup with its 95% bootstrap interval over the runs, against seq on 1 core timed alternately with it (scripts/verdict.py). Verdicts: a runner meant to scale passes when its interval lies above 1, the others when it lies below K; seq passes when the rank test finds no change from 1 core; any interval above the ideal K fails; a finding resting on runs during which other processes used more than 0.3 CPU is inconclusive.</p>"
  echo "<p class=note>Noise &delta;: how far seq, the control, moved between core counts (it does the same work each time); a difference smaller than that is noise, and a speedup above K within K&delta; + 2&sigma; is marked ~.</p>"
  echo "</section>"
}

machine_table() {
  echo "<table class=narrow>"
  jq -r 'to_entries[] | "<tr><th>\(.key | @html)</th><td>\(.value | tostring | @html)</td></tr>"' "$run/machine.json"
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
td.flag { background: #fde2e1; font-weight: bold; } td.noise { background: #f3f3f3; color: #666; }
td.notes ul { margin: 0; padding-left: 1.1em; text-align: left; } td.notes { max-width: 28em; font-size: 0.85em; }
li.flag { color: #a40000; } li.note { color: #555; }
.findings { background: #f7f9fc; border: 1px solid #dbe3ef; padding: 0 1em 0.5em; }
pre { background: #f6f6f6; padding: 0.7em; overflow-x: auto; font-size: 0.85em; }
</style>
</head>
<body>
<h1>$(e "parlab bench on $host")</h1>
<p class="sub">$(e "$(mjson cpu_model)"), $nproc CPUs allowed ($(e "$(mjson cpus_allowed)")) &middot; $(e "$(mjson date)") &middot; mode <b>$(e "$(conf mode)")</b> &middot; commit $(e "${commit:0:12}")$( [ "$(mjson git_dirty)" = true ] && echo " (with uncommitted changes)")</p>
<nav><a href="#findings">findings</a><a href="#warnings">warnings</a><a href="#machine">machine</a><a href="#summary">summary</a>$(for w in $(conf workloads); do printf '<a href="#w-%s">%s</a>' "$w" "$w"; done)<a href="#sleep">sleep</a><a href="#grain">grain</a><a href="#timeline">timeline</a><a href="#reproduce">reproduce</a><a href="#files">files</a></nav>
EOF

  findings
  echo '<h2 id="warnings">Warnings</h2>'
  if [ -s "$run/flags.csv" ] && awk -F, '$5 == "flag" { f = 1 } END { exit !f }' "$run/flags.csv"; then
    echo '<div class="warn"><p><b>Flagged points</b>: outside the noise band set by the seq control, so they are not findings.</p><ul>'
    awk -F, '$5 == "flag" { printf "%s %s %s=%s: %s\n", $2, $3, $1, $4, $7 }' "$run/flags.csv" | esc | sed 's|^|<li>|; s|$|</li>|'
    echo '</ul></div>'
  fi
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
At the core sweep, seq on 1 core (the control) and the runner at K were timed alternately, one run each in turn (one <code>hyperfine --runs 1</code> per pair, the order swapped every round), so that a change in load hits both sides.
Speedup S is the control's mean time divided by the point's mean time (elsewhere: seq on 1 core's); the verdicts, the tables and the plots' error bars use its 95% bootstrap interval over the runs (points.csv; speedup_ci_low and speedup_ci_high in the tidy CSVs). The Amdahl fits and the noise band below weight points by S times the two relative stddevs added in quadrature (speedup_err), which a run without per-run samples also shows as its error bar. &ldquo;Others&rsquo; CPU&rdquo; is the share of a CPU that other processes used while the point was timed (busy time in /proc/stat, steal included, less the command&rsquo;s own); a point above 0.3 was timed again, up to $(conf retries) time(s), while re-timing stayed within a quarter of the measuring time and the machine had gone quiet. The meter sees only CPU time inside this machine: other guests of the same host, clock-speed changes and shared caches slow a point without showing there.</p>
<p class="note"><b>Noise.</b> seq is timed at every core count K as a control: it does the same work each time, so its speedup should be 1. Its largest departure from 1 (or its own error, if larger), &delta;, is how much the machine moved between points. A point&rsquo;s noise band is K&delta; + 2&sigma;<sub>S</sub>. A speedup above K (efficiency above 1, Karp&ndash;Flatt e &lt; 0) beyond that band, a parallel runner slower than seq on 1 core beyond it (e &gt; 1), and a control that moved beyond its own spread are <b>flagged</b>: they are not findings. A speedup above K within the band is marked <i>within noise</i>. hyperfine&rsquo;s own warnings are listed next to their point. (scripts/flags.awk)</p>
<p class="note"><b>Serial fraction.</b> The Karp&ndash;Flatt e of a point is e = (1/S &minus; 1/K) / (1 &minus; 1/K), shown for runners meant to scale ($(e "$(scaling)")). A runner&rsquo;s Amdahl fit S(K) = 1 / (e + (1 &minus; e)/K) is a least-squares fit weighted by the error bars, with its standard error (gnuplot&rsquo;s <code>fit</code>, scripts/amdahl.sh), made only with at least three core counts: with two, a curve passes through any point and predicts nothing. The Amdahl limit 1/e is given with its 1&sigma; range.</p>
EOF

  echo '<h2 id="summary">Summary</h2>'
  echo "<p class=\"note\">Runners swept: $(e "$(conf runners)"). Cores: $(e "$(conf cores)"). Workers: $(e "$(conf workers)").</p>"

  for w in $(conf workloads); do
    echo "<h2 id=\"w-$w\">$w</h2>"
    awk -F, -v wl="$w" 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
      $c["workload"] == wl { printf "<p>N = %s, %s tasks, %s step(s); answer %s, %s (%s).</p>\n", $c["size"], $c["tasks"], $c["steps"], $c["result"],
        $c["verified"] == "unchecked" ? "<strong>unchecked</strong>: too large to recompute within the limit, timed but not verified" : "verified", $c["check"]; exit }' \
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
    sweep_notes workers "$w"
  done

  echo '<h2 id="sleep">sleep: I/O concurrency</h2>'
  if [ -s "$run/concurrency.csv" ]; then
    echo "<p>$(conf sleep_tasks) tasks that each wait $(conf sleep_io_ms) ms. A pool of W workers waits W at a time; the epoll runner keeps every task in flight in one thread (shown as a flat line at its one measurement); seq waits one at a time.</p>"
    figure sleep-concurrency "sleep: wall time against concurrency"
    sweep_table "$run/concurrency.csv" sleep "concurrency"
    sweep_notes concurrency sleep
  else
    echo "<p>Not run in this sweep.</p>"
  fi

  echo '<h2 id="tasks">Task count: where fixed costs stop mattering</h2>'
  if [ -s "$run/plots/tasks-per-task.svg" ]; then
    echo "<p>Every runner runs T = 10<sup>2</sup> &hellip; 10<sup>7</sup> noop tasks (fewer for process and Python's Pool.map, which cost far more a task); the cost of one task is the run's wall time over T, median with min..max of the repeats. Starting workers is a fixed cost that T amortises; the dashed line is one contended atomic fetch_add, the floor of a shared claim counter (<a href=\"tasks.csv\">tasks.csv</a>, <a href=\"tasks-floor.csv\">tasks-floor.csv</a>; <code>scripts/sweep-tasks.sh</code>).</p>"
    figure tasks-per-task "noop: per-task cost against the task count"
    [ -s "$run/tasks-waits.csv" ] && awk -F, 'NR == 2 { printf "<p>%d concurrent waits of %d ms on one epoll loop (<code>ulimit -n 1024</code>): %.3f s [%.3f .. %.3f], %.1f MiB RSS.</p>\n", $1, $2, $4, $5, $6, $7 / 1024 }' "$run/tasks-waits.csv"
  else
    echo "<p>Not run in this sweep.</p>"
  fi

  echo '<h2 id="grain">Task grain: when each runner pays off (METG)</h2>'
  if [ -s "$run/plots/grain-efficiency.svg" ]; then
    echo "<p>Every runner and Python peer runs spin tasks of a set duration, 100 ns to 10 ms, with W = the CPUs. Efficiency is the work done over what the CPUs could do in the wall time (the series' own start taken out), against the peak rate; METG(50%), the minimum effective task granularity, is the smallest grain at which a runner still reaches 50% (<a href=\"grain.csv\">grain.csv</a>, <a href=\"grain-metg.csv\">grain-metg.csv</a>; <code>scripts/sweep-grain.sh</code>).</p>"
    figure grain-efficiency "spin: efficiency against the task grain"
    [ -s "$run/grain-findings.txt" ] && { echo "<pre>"; sed 's/&/\&amp;/g; s/</\&lt;/g' "$run/grain-findings.txt"; echo "</pre>"; }
  else
    echo "<p>Not run in this sweep.</p>"
  fi

  echo '<h2 id="timeline">Timeline: static against dynamic scheduling</h2>'
  if [ -s "$run/plots/timeline-primes.svg" ]; then
    echo "<p>primes is imbalanced: the later ranges hold larger numbers, whose trial division costs more. A static schedule hands each worker a fixed share up front; a dynamic one lets idle workers claim the next task. Both runs come from <code>--trace</code> (task, worker, step, start_ns, end_ns).</p>"
    figure timeline-primes "primes: one bar per task, one row per worker"
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; print "<table><tr><th>schedule</th><th>workers</th><th>tasks</th><th>wall (s)</th><th>user+sys (s)</th><th>answer</th></tr>"; next }
      { printf "<tr><td>%s</td><td>%s</td><td>%s</td><td>%.4f</td><td>%.3f</td><td>%s (%s)</td></tr>\n", $1, $c["workers"], $c["tasks"], $c["wall_s"], $c["user_s"] + $c["sys_s"], $c["result"], $c["verified"] == "yes" ? "verified" : $c["verified"] == "unchecked" ? "unchecked" : "WRONG" }
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
  files_item "Karp-Flatt e per point; the least-squares Amdahl fit per runner (or why none)" karpflatt.csv amdahl.csv
  files_item "the timelines (--trace)" trace-static.csv trace-dynamic.csv timeline-rows.csv
  files_item "every measured command" commands.txt
  [ -d "$run/raw" ] && echo "<li>raw/: hyperfine's JSON (and CSV) export of every point</li>"
  echo "<li>plots/: every plot as PNG and SVG</li>"
  [ -s "$run/compare/index.html" ] &&
    echo '<li><a href="compare/index.html">compare/</a>: parlab against Python'"'"'s multiprocessing, futures and asyncio (make compare)</li>'
  for d in "$run"/diff-*/; do
    [ -s "$d/index.html" ] && echo "<li><a href=\"$(basename "$d")/index.html\">$(basename "$d")/</a>: this run against $(e "${d#"$run"/diff-}" | sed 's|/$||') (make diff)</li>"
  done
  files_item "speedup at all cores per workload and runner, flagged or not, with its interval and verdict" summary.csv
  files_item "every timed run: its time and the CPU other processes used meanwhile (role control: the interleaved seq run)" samples.csv
  files_item "every point's speedup with its 95% interval and disturbed runs" points.csv
  files_item "the key findings and flags as verdicts (pass, fail, inconclusive) with their reasons; the run's trust line" findings.csv findings.txt trust.txt
  files_item "points outside (flag) or inside (noise) the noise band, hyperfine's warnings (note)" flags.csv hyperfine-warnings.csv
  files_item "the seq control's drift per workload: the noise band's width" noise.csv
  [ -d "$run/logs" ] && echo "<li>logs/: what hyperfine printed and each point's stderr</li>"
  echo "</ul>"
  echo "</body>"
  echo "</html>"
} > "$html"

mv -f "$html" "$run/index.html"
