#!/usr/bin/env bash
# deps.sh: install the Debian packages a make target needs, or say exactly how.
# usage: scripts/deps.sh test|bench|report|compare|install|ci
set -euo pipefail

case "${1:-}" in
  test)    pkgs=(gcc make libcunit1-dev libjansson-dev hyperfine gnuplot-nox jq python3 python3-scipy python3-jsonschema help2man libopenmpi-dev openmpi-bin) ;;
  bench)   pkgs=(gcc make libjansson-dev hyperfine gnuplot-nox jq python3 python3-scipy libopenmpi-dev openmpi-bin) ;;
  report)  pkgs=(chromium) ;;
  install) pkgs=(help2man) ;;
  compare) pkgs=(gcc make libjansson-dev hyperfine gnuplot-nox jq python3 python3-scipy) ;;
  ci)      pkgs=(gcc make libcunit1-dev libjansson-dev hyperfine gnuplot-nox jq valgrind python3 python3-scipy python3-jsonschema libopenmpi-dev openmpi-bin) ;;
  *) echo "usage: scripts/deps.sh test|bench|report|compare|install|ci" >&2; exit 64 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if command -v dpkg-query >/dev/null 2>&1; then
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    [ "$st" = "install ok installed" ] || missing+=("$p")
  else
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "parlab: missing packages: ${missing[*]}; this system has no apt-get." >&2
  echo "parlab: install their equivalents with your package manager, then run make again." >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "parlab: missing packages: ${missing[*]}. Run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "parlab: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >/dev/null
# Without the recommended packages: chromium alone would otherwise pull in about 128.
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
