#!/bin/sh
# bench-workers.sh [NODES] [LATENCY] — throughput and worker utilisation of
# the search with W = 1, 2, 4, 8 workers against a provider of fixed latency
# (kbsynth with latency_s) and the synthetic executor (instant scores), so
# the machine's cores are not what is measured.  Prints a Markdown table.
# Needs an automlgen with the synthetic executor (AUTOMLGEN_BIN to pick one).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${AUTOMLGEN_BIN:-automlgen}
nodes=${1:-48}
latency=${2:-0.2}
task=$here/examples/tasks/breast_cancer
[ -d "$task" ] || /usr/bin/python3 "$here/scripts/make-example-tasks.py" "$here/examples/tasks" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| workers | nodes | seconds | nodes/s | speed-up | worker utilisation |"
echo "|---|---|---|---|---|---|"
base=
for w in 1 2 4 8; do
	"$bin" run "$task" -q -o run.dir="$out" -o run.name="w$w" -o search.policy=mcgs \
		-o search.workers="$w" -o search.max_nodes="$nodes" -o executor=synthetic -o review.enabled=false \
		-o provider.kbsynth.latency_s="$latency" >/dev/null
	line=$(/usr/bin/python3 - "$out/w$w/summary.json" "${base:-0}" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
rate = s["nodes_total"] / s["seconds"]
base = float(sys.argv[2]) or rate
print("%d %.2f %.2f %.2f %.3f" % (s["nodes_total"], s["seconds"], rate, rate / base,
                                  s["search"]["worker_utilization"]))
PY
)
	set -- $line
	[ -n "$base" ] || base=$3
	echo "| $w | $1 | $2 | $3 | $4 | $5 |"
done
