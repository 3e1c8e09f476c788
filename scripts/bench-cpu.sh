#!/bin/sh
# bench-cpu.sh [SECONDS] [N] — CPU utilisation with W parallel candidates:
# N CPU-bound scripts (each a pure-Python loop of about SECONDS of CPU, one
# thread) run through `automlgen run` with W = 1, 2, 4 workers and each
# executor, answered by a replay cassette; prints the wall time of the
# whole run (its start-up included) and the utilisation = the CPU time the
# scripts report for themselves / (wall time x cores).
# W = cores should keep every core busy; more workers than cores must not
# cost more than the cores give (pin_cpus shares the slots).
# Needs an installed automlgen (scripts/quickstart.sh) or AUTOMLGEN_BIN, and
# the example tasks.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${AUTOMLGEN_BIN:-automlgen}
secs=${1:-2}
n=${2:-8}
cores=$(nproc)
task=$here/examples/tasks/iris
[ -d "$task" ] || /usr/bin/python3 "$here/scripts/make-example-tasks.py" "$here/examples/tasks" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 - "$out/burn.jsonl" "$n" "$secs" <<'PY'
import json, sys, time
n, secs = int(sys.argv[2]), float(sys.argv[3])
# calibrate the scripts' own loop here, so each burns about secs of CPU
t, k = time.process_time(), 0
for _ in range(2000000):
    k += 1
loops = int(2000000 * secs / (time.process_time() - t))
with open(sys.argv[1], "w") as f:
    for i in range(n):
        script = ("import os, shutil, time\nk = 0\nfor _ in range(%d):\n    k += 1\n"
                  "print('cpu %%.3f' %% time.process_time())\n"
                  "os.makedirs('submission', exist_ok=True)\n"
                  "shutil.copy('input/sample_submission.csv', 'submission/submission.csv')\n"
                  "print('Final Validation Score: 0.%d')\n" % (loops, i + 1))
        f.write(json.dumps({"operator": "draft", "answer": {"text": "```python\n" + script + "```\n"}}) + "\n")
PY
echo "$n scripts of about $secs s of CPU each, $cores cores"
echo
echo "| executor | workers | wall (s) | scripts' CPU (s) | utilisation |"
echo "|---|---|---|---|---|"
for ex in local bwrap; do
	for w in 1 2 4; do
		start=$(date +%s.%N)
		"$bin" run "$task" -q \
			-o run.dir="$out" -o run.name="$ex-$w" -o executor="$ex" \
			-o provider=replay -o provider.cassette="$out/burn.jsonl" \
			-o search.policy=drafts -o search.num_drafts="$n" -o search.workers="$w" \
			-o review.enabled=false -o exec.cache=false >/dev/null 2>&1 || true
		end=$(date +%s.%N)
		cpu=$(cat "$out/$ex-$w"/nodes/*/stdout.txt | awk '$1 == "cpu" { s += $2 } END { print s + 0 }')
		awk -v ex="$ex" -v w="$w" -v c="$cores" -v cpu="$cpu" -v wall="$(awk "BEGIN { print $end - $start }")" \
			'BEGIN { printf "| %s | %d | %.1f | %.1f | %.0f%% |\n", ex, w, wall, cpu, 100 * cpu / (wall * c) }' 
	done
done
