#!/bin/sh
# bench-kb.sh [NODES] — the knowledge packs' worth on the text, image and
# time-series examples: `automlgen bench` (kbsynth, policy mcgs, one seed,
# NODES nodes, 2 workers) on reviews, digit_images and ridership, once
# with every pack and once with the tabular pack alone (kb.packs=tabular,
# the ablation); prints both tables, graded on the private answers against
# each task's naive baseline and tuned reference (thresholds.json).
# Needs an installed automlgen (scripts/quickstart.sh) or AUTOMLGEN_BIN,
# and the example tasks with their thresholds.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${AUTOMLGEN_BIN:-automlgen}
nodes=${1:-12}
tasks=$here/examples/tasks
[ -d "$tasks/reviews" ] || /usr/bin/python3 "$here/scripts/make-example-tasks.py" "$tasks" >/dev/null
[ -f "$tasks/reviews/thresholds.json" ] || /usr/bin/python3 "$here/scripts/make-thresholds.py" "$tasks" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir "$out/suite"
for t in reviews digit_images ridership; do ln -s "$tasks/$t" "$out/suite/$t"; done
for packs in all tabular; do
	extra=
	[ "$packs" = all ] || extra="-o kb.packs=$packs"
	echo "== packs: $packs"
	# shellcheck disable=SC2086
	"$bin" bench "$out/suite" --policies mcgs --seeds 1 --out "$out/$packs" \
		-o search.max_nodes="$nodes" -o search.workers=2 $extra >/dev/null 2>&1 || true
	sed -n '/^| task/,/^$/p' "$out/$packs/bench.md"
done
