#!/usr/bin/env bash
# follow-adding-a-runner.sh: do what docs/adding-a-runner.md says, in a scratch copy of the
# tree, and nothing else: its runner (the page's first C block, which must be the text of
# tests/corpus/runner_example.c) as runners/NAME.c, its two registry lines (the second C
# block) into runners/registry.c, then its shell block as it stands (build, parlab list,
# parlab run, the matrix suite). Exits 0 when every step worked; else 1, naming the step,
# with the tail of its output. The checkout is never changed.
# usage: tests/follow-adding-a-runner.sh
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 1
. tests/newcomer-env.sh   # not the calling make's or test harness's PARLAB, SAN, BUILD
doc=docs/adding-a-runner.md
corpus=tests/corpus/runner_example.c
fail() { echo "follow-adding-a-runner: $*" >&2; exit 1; }

# block LANG K: the K-th fenced block of LANG in the page, without its fences
block() {
  awk -v lang="$1" -v want="$2" '
    /^```/ { if (open) { open = take = 0; next }
             open = 1; if ($0 == "```" lang && ++n == want) take = 1; next }
    take' "$doc"
}

code=$(block c 1)
[ -n "$code" ] || fail "$doc: no C block"
[ "$code" = "$(cat "$corpus")" ] || fail "$doc's first C block is not the text of $corpus"
name=$(sed -n 's/^ *\.name = "\([a-z0-9_-]*\)",$/\1/p' "$corpus")
[ -n "$name" ] || fail "$corpus: no .name"
grep -q "runners/$name\\.c" "$doc" || fail "$doc does not name runners/$name.c"
mapfile -t lines < <(block c 2)
[ ${#lines[@]} -eq 2 ] || fail "$doc's second C block is not the two registry lines"
decl=${lines[0]} entry=${lines[1]}
[[ $decl == "extern const struct runner runner_$name;" ]] || fail "registry declaration: '$decl'"
[[ $entry =~ ^\ +\&runner_$name,$ ]] || fail "registry entry: '$entry'"
steps=$(block sh 1)
[ -n "$steps" ] || fail "$doc: no shell block"

scratch=$(mktemp -d "${TMPDIR:-/tmp}/parlab-doc-XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
scripts/scratch.sh "$scratch" || fail "cannot copy the tree"
[ ! -e "$scratch/runners/$name.c" ] || fail "runners/$name.c exists already"

# Step 1: the file.
cp "$corpus" "$scratch/runners/$name.c"
# Step 2: the declaration after the runners' extern statement, the entry before NULL.
awk -v decl="$decl" -v entry="$entry" '
  /^extern const struct runner/ { ext = 1 }
  /^[ \t]*NULL,/ && !e { print entry; e = 1 }
  { print }
  ext && /;[ \t]*$/ { print decl; ext = 0; d = 1 }
  END { if (!d || !e) exit 1 }' runners/registry.c > "$scratch/runners/registry.c" ||
  fail "runners/registry.c has no extern statement or no NULL line to add to, as the page says"

# Step 3: the page's commands, as they stand.
if ! (cd "$scratch" && bash -euo pipefail -x -c "$steps") > "$scratch/steps.log" 2>&1; then
  tail -n 25 "$scratch/steps.log" >&2
  fail "the page's shell block failed (above)"
fi
echo "follow-adding-a-runner: runner $name added as $doc says: built, listed, verified, matrix passed"
