#!/usr/bin/env python3
"""check-report.py: check a bench report (RUN_DIR/index.html) and its plots without a browser:
the whole page, and each plot's geometry as gnuplot's SVG terminal wrote it.

    check-report.py RUN_DIR        exit 0: all holds; 1: a defect (one line each on stderr);
                                   64: bad usage

The page:
- every relative link and image (href, src) names a file or folder of RUN_DIR;
- every figure holds an inline SVG that parses, with its plots/NAME.svg and .png beside it;
- every entry of RUN_DIR (hidden ones aside) is named under "Files in this folder".
Each plot (the inline SVG, what the reader sees), parsed with xml.etree:
- no text label overlaps a plotted curve: a stroked segment or a point marker of a plot
  element (gnuplot's <g id="gnuplot_plot_N">: lines, error bars, fits, rings);
- no text label overlaps another, and none runs off the plot's edge (clipped);
- every point flags.csv flags is ringed on every plot that draws its runner (the plots of
  its sweep: scripts/report.py PLOTS): a marker of the "flagged" element within RING_PX of
  the runner's own marker for that point. A runner's markers are matched to its rows in the
  tidy CSV by order (gnuplot draws them in the file's order, then the key's sample last).

Approximations, all of the text's box (an SVG file carries no font metrics):
- width: the sum of per-character advance widths of DejaVu Sans (the plots' font) from the
  table WIDTH_EM below, in em, rounded to about 0.01 em; no kerning; a character not in the
  table counts as 0.65 em. Bold, italic and other fonts are measured as DejaVu Sans.
- height: from the font size: ASCENT em above the baseline and DESCENT em below it; an
  enhanced-text superscript raises the top by its shift.
- a box is shrunk by TOLERANCE_PX on every side before any test, so that boxes that touch
  (key entries one line apart, a label beside its tic) are not overlaps, and a label must
  really cross a line to count.
- only what gnuplot draws as a plot element is a curve: an arrow or line set with `set arrow`
  (the worker plot's W = cores line) and the grid, border and tics are not tested.
- the SVG is what the page shows and what is measured; the PNG beside it is drawn by cairo,
  which lays out its key with the font's real widths, so its plot area can differ a little.
- point markers are squares of the marker's drawn size (gnuplot's symbols fit in ±1.33 units
  of their scale); filled shapes (bars, the background) are areas, not curves: only their
  stroked outlines are tested.
"""
import html.parser
import math
import os
import re
import sys
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402
from verdict import read_csv  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"
ASCENT, DESCENT = 0.76, 0.24
TOLERANCE_PX = 1.0
RING_PX = 3.0
DEFAULT_EM = 0.65
WIDTH_EM = {" ": 0.32, "!": 0.40, '"': 0.46, "#": 0.84, "$": 0.64, "%": 0.95, "&": 0.78, "'": 0.28,
            "(": 0.39, ")": 0.39, "*": 0.50, "+": 0.84, ",": 0.32, "-": 0.36, ".": 0.32, "/": 0.34,
            ":": 0.34, ";": 0.34, "<": 0.84, "=": 0.84, ">": 0.84, "?": 0.53, "@": 1.00, "[": 0.39,
            "\\": 0.34, "]": 0.39, "^": 0.84, "_": 0.50, "{": 0.64, "|": 0.34, "}": 0.64, "~": 0.84,
            "×": 0.84, "±": 0.84, "≥": 0.84, "≤": 0.84, "…": 1.00, "–": 0.50, "—": 1.00, "σ": 0.63,
            "δ": 0.61, "µ": 0.64, "·": 0.32, "’": 0.32}
WIDTH_EM.update({d: 0.64 for d in "0123456789"})
WIDTH_EM.update(dict(zip("abcdefghijklmnopqrstuvwxyz",
                         (0.61, 0.63, 0.55, 0.63, 0.62, 0.35, 0.63, 0.63, 0.28, 0.28, 0.58, 0.28, 0.97,
                          0.63, 0.61, 0.63, 0.63, 0.41, 0.52, 0.39, 0.63, 0.59, 0.82, 0.59, 0.59, 0.53))))
WIDTH_EM.update(dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                         (0.68, 0.69, 0.70, 0.77, 0.63, 0.58, 0.78, 0.75, 0.30, 0.30, 0.66, 0.56, 0.86,
                          0.75, 0.79, 0.60, 0.79, 0.70, 0.64, 0.61, 0.73, 0.68, 0.99, 0.69, 0.61, 0.69))))


# ---- SVG geometry -----------------------------------------------------------------------

def mul(m, n):
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + c * B, b * A + d * B, a * C + c * D, b * C + d * D, a * E + c * F + e, b * E + d * F + f)


def apply(m, x, y):
    a, b, c, d, e, f = m
    return a * x + c * y + e, b * x + d * y + f


IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def parse_transform(t):
    m = IDENTITY
    for op, args in re.findall(r"(\w+)\s*\(([^)]*)\)", t or ""):
        v = [float(x) for x in re.split(r"[\s,]+", args.strip()) if x]
        if op == "translate":
            m = mul(m, (1, 0, 0, 1, v[0], v[1] if len(v) > 1 else 0))
        elif op == "scale":
            m = mul(m, (v[0], 0, 0, v[1] if len(v) > 1 else v[0], 0, 0))
        elif op == "rotate":
            r = math.radians(v[0])
            m = mul(m, (math.cos(r), math.sin(r), -math.sin(r), math.cos(r), 0, 0))
    return m


def path_segments(d, m):
    """The straight segments of a path's d (M, L, H, V, Z, absolute or relative)."""
    segs, cur, start = [], None, None
    toks = re.findall(r"[MLHVZmlhvz]|-?[\d.]+(?:e-?\d+)?", d or "")
    i, cmd = 0, None
    while i < len(toks):
        if re.match(r"[A-Za-z]", toks[i]):
            cmd = toks[i]
            i += 1
            if cmd in "Zz":
                if cur and start:
                    segs.append((cur, start))
                cur = start
                continue
        try:
            if cmd in "MmLl":
                x, y = float(toks[i]), float(toks[i + 1])
                i += 2
                if cmd in "ml" and cur:
                    x, y = cur[0] + x, cur[1] + y
            elif cmd in "Hh":
                x, y = float(toks[i]) + (cur[0] if cmd == "h" else 0), cur[1]
                i += 1
            elif cmd in "Vv":
                x, y = cur[0], float(toks[i]) + (cur[1] if cmd == "v" else 0)
                i += 1
            else:
                i += 1
                continue
        except (IndexError, ValueError, TypeError):
            break
        if cmd in "Mm":
            start = (x, y)
            cmd = "L" if cmd == "M" else "l"
        elif cur:
            segs.append((cur, (x, y)))
        cur = (x, y)
    return [(apply(m, *p), apply(m, *q)) for p, q in segs]


def text_width(s, size):
    return sum(WIDTH_EM.get(ch, DEFAULT_EM) for ch in s) * size


class Label:
    def __init__(self, text, box, group):
        self.text, self.box, self.group = text, box, group


def text_box(el, m, size, anchor):
    """The box of a <text> (its tspans measured at their own sizes), in page coordinates."""
    w, rise, top_size = 0.0, 0.0, size
    parts = [(el.text or "", size)]
    dy_total = 0.0
    for ts in el.iter(SVG + "tspan"):
        s = float(ts.get("font-size", size) or size)
        dy = ts.get("dy")
        if dy:
            dy_total += float(re.sub(r"[a-z]+$", "", dy))
            rise = max(rise, -dy_total)
        parts.append((ts.text or "", s))
        top_size = max(top_size, s)
        if ts.tail:
            parts.append((ts.tail, size))
    text = "".join(p for p, _ in parts)
    w = sum(text_width(p, s) for p, s in parts)
    x0 = {"middle": -w / 2, "end": -w}.get(anchor, 0.0)
    x = float(el.get("x", 0) or 0)
    y = float(el.get("y", 0) or 0)
    corners = [apply(m, x + x0 + dx, y + dy) for dx in (0, w)
               for dy in (-ASCENT * top_size - rise, DESCENT * size)]
    xs, ys = [c[0] for c in corners], [c[1] for c in corners]
    return text, (min(xs), min(ys), max(xs), max(ys))


class Plot:
    """One gnuplot SVG: its labels, and per plot element (title) its segments and markers."""

    def __init__(self, svg_text):
        root = ET.fromstring(svg_text)
        self.labels, self.groups = [], []   # groups: [title, segments, markers]
        vb = [float(v) for v in re.split(r"[\s,]+", (root.get("viewBox") or "").strip()) if v]
        self.canvas = (vb[0], vb[1], vb[0] + vb[2], vb[1] + vb[3]) if len(vb) == 4 else (
            0.0, 0.0, float(root.get("width", "0").rstrip("px") or 0), float(root.get("height", "0").rstrip("px") or 0))
        self._walk(root, IDENTITY, 11.0, "start", None)

    def _walk(self, el, m, size, anchor, group):
        m = mul(m, parse_transform(el.get("transform")))
        size = float(el.get("font-size", size) or size)
        anchor = el.get("text-anchor", anchor)
        tag = el.tag.replace(SVG, "")
        gid = el.get("id") or ""
        if tag == "g" and re.search(r"gnuplot_plot_\d+$", gid):
            t = el.find(SVG + "title")
            group = [t.text if t is not None and t.text else "", [], []]
            self.groups.append(group)
        if tag == "text":
            text, box = text_box(el, m, size, anchor)
            if text.strip():
                self.labels.append(Label(text.strip(), box, group))
            return
        if group is not None and tag in ("path", "line", "polyline", "rect"):
            if (el.get("fill") or "none") == "none" or el.get("stroke"):
                if tag == "path":
                    group[1].extend(path_segments(el.get("d"), m))
                elif tag == "line":
                    group[1].append((apply(m, float(el.get("x1", 0)), float(el.get("y1", 0))),
                                     apply(m, float(el.get("x2", 0)), float(el.get("y2", 0)))))
        if group is not None and tag == "use":
            cx, cy = apply(m, 0, 0)
            r = 1.33 * abs(m[0]) if m[0] else 1.33 * math.hypot(m[1], m[3])
            group[2].append((cx, cy, r, el.get(XLINK, "")))
        for ch in el:
            self._walk(ch, m, size, anchor, group)


def shrink(b, t=TOLERANCE_PX):
    return (b[0] + t, b[1] + t, b[2] - t, b[3] - t)


def boxes_overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def seg_hits_box(p, q, b):
    """Liang-Barsky: does the segment p-q pass through box b?"""
    (x0, y0), (x1, y1) = p, q
    dx, dy = x1 - x0, y1 - y0
    t0, t1 = 0.0, 1.0
    for pp, qq in ((-dx, x0 - b[0]), (dx, b[2] - x0), (-dy, y0 - b[1]), (dy, b[3] - y0)):
        if pp == 0:
            if qq < 0:
                return False
            continue
        t = qq / pp
        if pp < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def geometry_defects(name, plot):
    out = []
    labels = [(l, shrink(l.box)) for l in plot.labels]
    for l, b in labels:
        if b[0] >= b[2] or b[1] >= b[3]:
            continue
        hits = []
        for g in plot.groups:
            what = g[0] or "an untitled plot element"
            if any(seg_hits_box(p, q, b) for p, q in g[1]):
                hits.append("the line of " + what)
            elif any(boxes_overlap(b, (k[0] - k[2], k[1] - k[2], k[0] + k[2], k[1] + k[2])) for k in g[2]):
                hits.append("a marker of " + what)
        if hits:
            out.append("%s: the label \"%s\" at (%.0f, %.0f) overlaps %s" % (
                name, l.text, l.box[0], l.box[3], ", ".join(hits)))
    c = plot.canvas
    for l, b in labels:
        if b[0] < c[0] or b[1] < c[1] or b[2] > c[2] or b[3] > c[3]:
            out.append("%s: the label \"%s\" runs off the plot's edge (it spans %.0f … %.0f across, %.0f … %.0f "
                       "down; the plot is %.0f × %.0f)" % (name, l.text, l.box[0], l.box[2], l.box[1], l.box[3],
                                                         c[2] - c[0], c[3] - c[1]))
    for i, (l, b) in enumerate(labels):
        for l2, b2 in labels[i + 1:]:
            if boxes_overlap(b, b2):
                out.append("%s: the labels \"%s\" and \"%s\" overlap" % (name, l.text, l2.text))
    return out


def flag_defects(run, figures):
    """Every flagged point ringed on every plot of its sweep that draws its runner."""
    out = []
    flags = [r for r in report.flag_rows(run) if r["level"] == "flag"]
    for name_fmt, sweep, csv_name, _, _ in report.PLOTS:
        for f in flags:
            if f["sweep"] != sweep:
                continue
            name = name_fmt.format(w=f["workload"])
            plot = figures.get(name)
            if plot is None:
                continue
            runner = next((g for g in plot.groups if g[0] == f["runner"]), None)
            if runner is None:
                continue   # this plot does not draw the runner
            rows = [r for r in read_csv(os.path.join(run, csv_name))
                    if r.get("workload") == f["workload"] and r.get("runner") == f["runner"]
                    and r.get("param") == sweep and report.num(r.get(PLOT_Y[name_fmt])) is not None]
            idx = next((i for i, r in enumerate(rows) if r.get("value") == f["value"]), None)
            where = "%s %s %s=%s" % (f["workload"], f["runner"], sweep, f["value"])
            if idx is None:
                continue   # the point has no y here: not drawn
            if len(runner[2]) < len(rows):
                out.append("%s: %s is flagged, but the plot draws %d markers of %s for its %d points: "
                           "cannot tell which is the point" % (name, where, len(runner[2]), f["runner"], len(rows)))
                continue
            px, py = runner[2][idx][0], runner[2][idx][1]
            rings = [k for g in plot.groups if g[0].startswith("flagged") for k in g[2]]
            if not any(math.hypot(k[0] - px, k[1] - py) <= RING_PX for k in rings):
                out.append("%s: %s is flagged, but its point at (%.0f, %.0f) has no red ring" % (name, where, px, py))
    return out


PLOT_Y = {fmt: y for fmt, _, _, _, y in report.PLOTS}


# ---- the page ---------------------------------------------------------------------------

class Page(html.parser.HTMLParser):
    """The links, the figures' ids and the link texts of the files section."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.figures, self.files_named = [], [], set()
        self.in_files, self.in_a = False, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("href", "src"):
            v = a.get(k)
            if v and tag in ("a", "img", "link", "script") and not re.match(r"^(#|[a-z]+:)", v):
                self.links.append(v)
        if tag == "figure" and a.get("id", "").startswith("fig-"):
            self.figures.append(a["id"][4:])
        if tag == "h2":
            self.in_files = a.get("id") == "files"
        self.in_a = tag == "a"

    def handle_endtag(self, tag):
        if tag == "a":
            self.in_a = False

    def handle_data(self, data):
        if self.in_files and self.in_a:
            self.files_named.add(data.strip())


def inline_svgs(page_text):
    """{figure name: its inline <svg> markup}."""
    out = {}
    for m in re.finditer(r'<figure id="fig-([^"]+)">\s*(<svg\b.*?</svg>)', page_text, re.S):
        out[m.group(1)] = m.group(2)
    return out


def check(run):
    defects = []
    page_path = os.path.join(run, "index.html")
    try:
        with open(page_path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        return ["%s: cannot read it (%s): run make bench first" % (page_path, e.strerror)], {}
    page = Page()
    page.feed(text)
    for link in sorted(set(page.links)):
        path = os.path.join(run, link.split("#")[0])
        if not os.path.exists(path):
            defects.append("index.html links to %s, which is not in the folder" % link)
    svgs = inline_svgs(text)
    figures = {}
    for name in page.figures:
        for ext in ("svg", "png"):
            if not report.nonempty(os.path.join(run, "plots", "%s.%s" % (name, ext))):
                defects.append("figure %s: plots/%s.%s is missing or empty" % (name, name, ext))
        if name not in svgs:
            defects.append("figure %s: no inline SVG" % name)
            continue
        try:
            figures[name] = Plot(svgs[name])
        except ET.ParseError as e:
            defects.append("figure %s: its SVG does not parse: %s" % (name, e))
    known, unknown = report.folder_listing(run)
    for e in [e for _, es in known for e in es] + unknown:
        if e not in page.files_named:
            defects.append("%s is in the folder but not listed under \"Files in this folder\"" % e)
    for name, plot in figures.items():
        defects += geometry_defects(name, plot)
    defects += flag_defects(run, figures)
    return defects, figures


def main(argv):
    if len(argv) != 1:
        print("usage: check-report.py RUN_DIR", file=sys.stderr)
        return 64
    run = argv[0]
    if not os.path.isdir(run):
        print("check-report: %s: no such folder" % run, file=sys.stderr)
        return 64
    defects, figures = check(run)
    for d in defects:
        print("check-report: " + d, file=sys.stderr)
    if defects:
        print("check-report: %d defect(s) in %s/index.html" % (len(defects), run), file=sys.stderr)
        return 1
    labels = sum(len(p.labels) for p in figures.values())
    rings = sum(len(k) - 1 for p in figures.values() for g in p.groups if g[0].startswith("flagged") for k in [g[2]])
    print("check-report: %s/index.html: %d plots, %d labels clear of the curves and of each other, "
          "%d flag ring(s), every link resolves, every file listed" % (run, len(figures), labels, max(rings, 0)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
