#!/usr/bin/env bash
# scratch.sh: copy the tree into DIR, an empty folder, for a script or a test that edits the
# code and builds it without touching the checkout: the tracked files and the untracked ones
# git does not ignore (outside a git checkout, an unpacked tarball, every file but results/),
# then the plain build (build/ but its san-* folders) and bin/ as they are, times kept, so
# that make there rebuilds only what the edits change.
# usage: scripts/scratch.sh DIR
set -uo pipefail
dir=${1:?usage: scripts/scratch.sh DIR}
[ -d "$dir" ] || { echo "scratch: $dir: no such folder" >&2; exit 64; }
dir=$(cd "$dir" && pwd) && cd "$(dirname "$0")/.." || exit 1
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # tracked files deleted in the checkout but not yet in git are left out
  git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    xargs -0 cp -p --parents -t "$dir" || exit 1
else
  find . -mindepth 1 -maxdepth 1 ! -name .git ! -name results ! -name build ! -name bin \
    -exec cp -a -t "$dir" {} + || exit 1
fi
# the plain build only: the sanitizer builds (build/san-*) are large and nothing here uses them
if [ -d build ]; then
  mkdir -p "$dir/build" && (cd build && tar --exclude='./san-*' -cf - .) | tar -xf - -C "$dir/build" ||
    exit 1
fi
[ ! -d bin ] || cp -a bin "$dir"/ || exit 1
