#!/usr/bin/env bash
# A/B of the parallel hunt's CPU time: this tree against another checkout, run alternately.
#
#   git worktree add /tmp/base HEAD~1 && ln -s "$PWD/node_modules" /tmp/base/node_modules
#   bash bench/ab-pool.sh /tmp/base [PAIRS] [EVENTS]
#
# Each side runs `bench/detection-profile.ts pool EVENTS 3` (this tree's copy of the tool, so the other
# checkout needs none) PAIRS times, alternating; prints every round's CPU seconds and each side's median.
# On this shared 2-core host the in-process `ab` mode's medians moved by 40% from run to run, while
# the CPU time of whole processes taken in alternation stayed within a few percent.
set -euo pipefail
other=${1:?usage: ab-pool.sh OTHER_CHECKOUT [PAIRS] [EVENTS]}
pairs=${2:-4}
events=${3:-200000}
here=$(cd "$(dirname "$0")/.." && pwd)
tool="$here/bench/detection-profile.ts"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for _ in $(seq "$pairs"); do
  for side in this other; do
    dir=$here
    [ "$side" = other ] && dir=$other
    # the tool imports ../src relative to itself: a copy inside the other checkout measures its code
    run="$dir/bench/.ab-pool-profile.ts"
    cp "$tool" "$run"
    (cd "$dir" && node --max-semi-space-size=64 --import tsx "$run" pool "$events" 3) |
      awk -v side="$side" '/^round/ { print side, $6 }' >>"$out"
    rm -f "$run"
  done
done
awk '{ cpu[$1] = cpu[$1] " " $2 } END { for (s in cpu) print s ":" cpu[s] }' "$out"
for side in this other; do
  awk -v side="$side" '$1 == side { print $2 }' "$out" | sort -n |
    awk -v side="$side" '{ v[NR] = $1 } END { printf "%s: median CPU %.3f s over %d rounds\n", side, v[int((NR + 1) / 2)], NR }'
done
