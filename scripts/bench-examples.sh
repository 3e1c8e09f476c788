#!/bin/sh
# bench-examples.sh [DRAFTS] — run the offline search on every example task
# and grade each submission against the private answers; prints a Markdown
# table (validation score, graded test score, valid nodes, wall time).
# Needs an installed automlgen (scripts/quickstart.sh) or AUTOMLGEN_BIN.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${AUTOMLGEN_BIN:-automlgen}
drafts=${1:-5}
tasks=$here/examples/tasks
[ -d "$tasks" ] || /usr/bin/python3 "$here/scripts/make-example-tasks.py" "$tasks" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "| task | metric | validation | test (graded) | valid nodes | seconds |"
echo "|---|---|---|---|---|---|"
for dir in "$tasks"/*/; do
	t=$(basename "$dir")
	start=$(date +%s.%N)
	"$bin" run "$dir" -q -o run.dir="$out" -o run.name="$t" \
		-o executor=local -o search.policy=drafts -o search.num_drafts="$drafts" \
		>/dev/null 2>&1 || true
	end=$(date +%s.%N)
	sum="$out/$t/summary.json"
	metric=$(/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['metric'])" "$sum")
	val=$(/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); b=s['best_score']; print('%.4f' % b if b is not None else '-')" "$sum")
	nv=$(/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print('%d/%d' % (s['nodes_by_status']['valid'], s['nodes_total']))" "$sum")
	if [ -f "$out/$t/submission.csv" ]; then
		test=$("$bin" grade "$dir" "$out/$t/submission.csv" --json | /usr/bin/python3 -c "import json,sys; print('%.4f' % json.load(sys.stdin)['score'])")
	else
		test="no submission"
	fi
	printf '| %s | %s | %s | %s | %s | %.0f |\n' "$t" "$metric" "$val" "$test" "$nv" \
		"$(awk "BEGIN { print $end - $start }")"
done
