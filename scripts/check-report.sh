#!/usr/bin/env bash
# check-report.sh: check a bench report, in two parts.
# 1. Without a browser (scripts/check-report.py): the plots' geometry, read from gnuplot's SVG
#    as the page inlines it: no text label overlaps a plotted curve or another label, and
#    every point flags.csv flags is ringed on every plot that draws it; and the whole page:
#    every link and image resolves, every figure has its SVG and PNG, every file of the run
#    folder is listed. Its header says how boxes are measured, and what is approximate.
# 2. In headless Chromium: the whole page really drew: every image and inline SVG plot, top to
#    bottom, loaded with a non-trivial size (measured in the page itself and read back with
#    --dump-dom), and a screenshot of the top has far more detail than a blank page.
# usage: scripts/check-report.sh [RUN_DIR [SCREENSHOT]]
#   default RUN_DIR: results/latest; default SCREENSHOT: build/check-report.png
set -uo pipefail

run=${1:-results/latest}
shot=${2:-build/check-report.png}
width=1280 height=4000
fail() { echo "check-report: $*" >&2; exit 1; }

[ -s "$run/index.html" ] || fail "$run/index.html is missing: run make bench first"
here=$(cd "$(dirname "$0")" && pwd)
"${PYTHON:-/usr/bin/python3}" "$here/check-report.py" "$run" || exit 1
browser=
for b in chromium chromium-browser google-chrome; do
  command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }
done
[ -n "$browser" ] || fail "no chromium: run scripts/deps.sh report"


mkdir -p "$(dirname "$shot")"
shot_abs=$(cd "$(dirname "$shot")" && pwd)/$(basename "$shot")
page=$(cd "$run" && pwd -P)/index.html
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

render() {  # render URL OUT
  rm -f "$2"
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --hide-scrollbars --no-first-run --user-data-dir="$tmp/profile" \
    --window-size=$width,$height --screenshot="$2" "$1" > "$tmp/browser.log" 2>&1
  [ -s "$2" ] || fail "$browser wrote no screenshot of $1: $(tail -n 3 "$tmp/browser.log")"
}

# PNG width and height from the IHDR chunk (bytes 17..24, big-endian).
png_dims() { od -An -tu1 -j16 -N8 "$1" | awk '{ printf "%d %d\n", $1*16777216 + $2*65536 + $3*256 + $4, $5*16777216 + $6*65536 + $7*256 + $8 }'; }

render "file://$page" "$shot_abs"
printf '<!doctype html><html><body></body></html>\n' > "$tmp/blank.html"
render "file://$tmp/blank.html" "$tmp/blank.png"

[ "$(head -c 8 "$shot_abs" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$shot is not a PNG"
read -r w h < <(png_dims "$shot_abs")
size=$(stat -c %s "$shot_abs")
blank=$(stat -c %s "$tmp/blank.png")
[ "$w" -eq "$width" ] && [ "$h" -eq "$height" ] || fail "$shot is ${w}x${h}, expected ${width}x${height}"
[ "$size" -gt $((5 * blank)) ] && [ "$size" -gt 100000 ] ||
  fail "$shot is $size bytes, hardly more than a blank page ($blank bytes): the report did not render"

# The whole page: a copy of it, beside it so relative links resolve, with a script that
# measures every <img> and inline <svg> once everything has loaded and writes the verdicts
# into the page; Chromium's --dump-dom hands the page back.
probe="$(dirname "$page")/.check-report-$$.html"
trap 'rm -rf "$tmp" "$probe"' EXIT
sed 's|</body>|<script>\
window.addEventListener("load", function () {\
  var out = [];\
  document.querySelectorAll("img").forEach(function (im) {\
    var ok = im.complete \&\& im.naturalWidth >= 100 \&\& im.naturalHeight >= 100;\
    out.push((ok ? "ok" : "BAD") + " img " + im.getAttribute("src") + " " + im.naturalWidth + "x" + im.naturalHeight);\
  });\
  document.querySelectorAll("svg").forEach(function (sv) {\
    var r = sv.getBoundingClientRect(), n = sv.querySelectorAll("path, polyline, line, rect, text").length;\
    var f = sv.closest("figure"), ok = r.width >= 200 \&\& r.height >= 100 \&\& n >= 20;\
    out.push((ok ? "ok" : "BAD") + " svg " + (f ? f.id : "?") + " " + Math.round(r.width) + "x" + Math.round(r.height) + " " + n + " elements");\
  });\
  var p = document.createElement("pre");\
  p.id = "parlab-check";\
  p.textContent = "height " + document.documentElement.scrollHeight + "\\n" + out.join("\\n") + "\\nend";\
  document.body.appendChild(p);\
});\
</script></body>|' "$page" > "$probe"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
  --user-data-dir="$tmp/profile" --window-size=$width,1000 --virtual-time-budget=20000 \
  --dump-dom "file://$probe" > "$tmp/dom.html" 2> "$tmp/browser.log"
awk '/<pre id="parlab-check">/ { on = 1; sub(/.*<pre id="parlab-check">/, "") } on { print } /<\/pre>/ && on { exit }' \
  "$tmp/dom.html" | sed 's|</pre>.*||' > "$tmp/check.txt"
grep -qx end "$tmp/check.txt" ||
  fail "the page's own check did not run in $browser (no result in --dump-dom): $(tail -n 3 "$tmp/browser.log")"
figs=$(grep -c '<figure' "$page")
svgs=$(grep -c '^ok svg\|^BAD svg' "$tmp/check.txt")
imgs=$(grep -c '^ok img\|^BAD img' "$tmp/check.txt")
bad=$(grep '^BAD' "$tmp/check.txt")
[ -z "$bad" ] || fail "plots that did not draw, anywhere on the page: $(printf '%s; ' "$bad")"
[ $((svgs + imgs)) -ge "$figs" ] || fail "$figs figures on the page, but only $svgs SVG and $imgs images drew"
echo "check-report: $run/index.html renders: $svgs inline SVG plots and $imgs images, all of a real size,"
echo "  over the whole page ($(awk '/^height/ { print $2 }' "$tmp/check.txt") px); top screenshot $shot, ${w}x${h}, $size bytes (a blank page: $blank)"
