#!/usr/bin/env bash
# report.sh: write RUN_DIR/index.html, one page that needs nothing outside its folder: the
# key findings, the warnings, the machine, per workload its plots (SVG inlined) and tables,
# the other sweeps, how to rerun and every file of the folder. Rendered by scripts/report.py
# from one jinja2 template, scripts/report.html.j2.
# usage: scripts/report.sh RUN_DIR      (scripts/bench.sh calls it after scripts/plots.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
run=${1:?usage: scripts/report.sh RUN_DIR}
. "$here/rundir.sh" report
exec "${PYTHON:-/usr/bin/python3}" "$here/report.py" render "$run"
