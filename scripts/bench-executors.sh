#!/bin/sh
# bench-executors.sh [N] — what an executor costs per candidate: N trivial
# scripts (copy the sample submission, print a score) run one after another
# through `automlgen run` with each executor, answered by a replay cassette
# so no model or kbsynth work is timed; prints the mean time of the script
# run as the executor reports it (start to reaped, output captured) and of
# a whole node (operator, run, evaluation, records).
# Needs an installed automlgen (scripts/quickstart.sh) or AUTOMLGEN_BIN, and
# the example tasks.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${AUTOMLGEN_BIN:-automlgen}
n=${1:-20}
task=$here/examples/tasks/iris
[ -d "$task" ] || /usr/bin/python3 "$here/scripts/make-example-tasks.py" "$here/examples/tasks" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 - "$out/trivial.jsonl" "$n" <<'PY'
import json, sys
script = ("import os, shutil\nos.makedirs('submission', exist_ok=True)\n"
          "shutil.copy('input/sample_submission.csv', 'submission/submission.csv')\n"
          "print('Final Validation Score: 0.5')\n")
with open(sys.argv[1], "w") as f:
    for _ in range(int(sys.argv[2])):
        f.write(json.dumps({"operator": "draft", "answer": {"text": "```python\n" + script + "```\n"}}) + "\n")
PY
echo "| executor | candidates | script run (ms, mean) | whole node (ms, mean) |"
echo "|---|---|---|---|"
for ex in local bwrap; do
	start=$(date +%s.%N)
	"$bin" run "$task" -q -o run.dir="$out" -o run.name="$ex" -o executor="$ex" \
		-o provider=replay -o provider.cassette="$out/trivial.jsonl" \
		-o search.policy=drafts -o search.num_drafts="$n" -o search.workers=1 \
		-o review.enabled=false -o exec.cache=false >/dev/null 2>&1 || true
	end=$(date +%s.%N)
	run=$(/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); e=[x['exec_seconds'] for x in s['nodes']]; print('%.1f' % (1000*sum(e)/len(e)))" "$out/$ex/summary.json")
	printf '| %s | %s | %s | %.1f |\n' "$ex" "$n" "$run" "$(awk "BEGIN { print 1000 * ($end - $start) / $n }")"
done
