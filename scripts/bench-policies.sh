#!/bin/sh
# bench-policies.sh [NODES] [SEEDS] [TASKS...] — an ablation of the search
# policy alone: mcgs, mcts and greedy on the same node budget, with the
# offline kbsynth provider and the synthetic executor (no Python: each
# candidate is scored at once by a known function of its recipe with
# hidden optima, see plugins/synthetic/synthetic.c), one worker, seeds
# 1..SEEDS, on a few example tasks.  Prints Markdown tables: per policy
# the mean best quality, how often it was the best of the three on a
# (task, seed), the node at which the final best was found, and how its
# expansions were spent (summary.json's search.primary / evolution /
# reference / aggregation); then the mean best score per task.
#
# The quality is the synthetic q in [0, 1], higher is better: the score
# itself for a higher-is-better metric, 1 - score for a lower-is-better
# one (the executor reports 1 - q there), so tasks can be averaged.
#
# Needs an automlgen with the synthetic executor (AUTOMLGEN_BIN to pick
# one, AUTOMLGEN_PLUGIN_PATH / AUTOMLGEN_LIBRARY_PATH for a build tree)
# and the example tasks (TASKS_DIR, default examples/tasks; in a build
# directory _build/examples/tasks).  KEEP=DIR keeps the run directories
# (a run already there is not made again); POLICIES="mcgs mcts" picks
# policies; EXTRA="-o key=value ..." is passed to every run.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${AUTOMLGEN_BIN:-automlgen}
nodes=${1:-30}
seeds=${2:-10}
[ $# -ge 2 ] && shift 2 || shift $#
[ $# -gt 0 ] || set -- iris breast_cancer wine diabetes multitarget
tasks=${TASKS_DIR:-$here/examples/tasks}
policies=${POLICIES:-mcgs mcts greedy}
[ -d "$tasks/$1" ] || /usr/bin/python3 "$here/scripts/make-example-tasks.py" "$tasks" >/dev/null
if [ -n "${KEEP:-}" ]; then
	out=$KEEP
	mkdir -p "$out"
else
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
for t in "$@"; do
	for p in $policies; do
		s=1
		while [ "$s" -le "$seeds" ]; do
			if [ -f "$out/$t-$p-$s/summary.json" ]; then
				s=$((s + 1))
				continue
			fi
			# shellcheck disable=SC2086
			"$bin" run "$tasks/$t" -q -o executor=synthetic -o review.enabled=false \
				-o search.policy="$p" -o run.seed="$s" -o search.max_nodes="$nodes" \
				-o search.workers=1 -o run.dir="$out" -o run.name="$t-$p-$s" \
				${EXTRA:-} >/dev/null 2>&1 || echo "run $t $p seed $s failed" >&2
			s=$((s + 1))
		done
	done
done
/usr/bin/python3 - "$out" "$nodes" "$seeds" "$policies" "$@" <<'PY'
import json, os, sys

out, nodes, seeds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
policies, tasks = sys.argv[4].split(), sys.argv[5:]
modes = ["primary", "evolution", "reference", "aggregation"]

def load(t, p, s):
    try:
        with open(os.path.join(out, "%s-%s-%d" % (t, p, s), "summary.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

def quality(r):
    if r is None or r.get("best_score") is None:
        return None
    return r["best_score"] if r["higher_is_better"] else 1 - r["best_score"]

runs = {(t, p, s): load(t, p, s) for t in tasks for p in policies
        for s in range(1, seeds + 1)}
wins = {p: 0 for p in policies}
sole = {p: 0 for p in policies}
cells = 0
for t in tasks:
    for s in range(1, seeds + 1):
        q = {p: quality(runs[t, p, s]) for p in policies}
        got = [v for v in q.values() if v is not None]
        if not got:
            continue
        cells += 1
        top = max(got)
        best = [p for p in policies if q[p] is not None and abs(q[p] - top) < 1e-12]
        for p in best:
            wins[p] += 1
        if len(best) == 1:
            sole[best[0]] += 1

def mean(v):
    v = [x for x in v if x is not None]
    return sum(v) / len(v) if v else float("nan")

print("| policy | runs | mean best quality | best of the three (alone) | "
      "node of the final best | primary / evolution / reference / aggregation per run |")
print("|---|---|---|---|---|---|")
for p in policies:
    rs = [runs[t, p, s] for t in tasks for s in range(1, seeds + 1)]
    ok = [r for r in rs if r is not None]
    by_mode = " / ".join("%.1f" % mean([r["search"].get(m, 0) for r in ok]) for m in modes)
    print("| %s | %d | %.4f | %d of %d (%d) | %.1f | %s |" % (
        p, len(ok), mean([quality(r) for r in rs]), wins[p], cells, sole[p],
        mean([r["best_node"] for r in ok if r.get("best_node") is not None]), by_mode))
print()
print("| task | metric | " + " | ".join(policies) + " |")
print("|---|---|" + "---|" * len(policies))
for t in tasks:
    some = next((r for r in (runs[t, p, s] for p in policies for s in range(1, seeds + 1))
                 if r is not None), None)
    metric = "%s (%s)" % (some["metric"], "higher" if some["higher_is_better"] else "lower") \
        if some else "?"
    cols = ["%.4f" % mean([runs[t, p, s]["best_score"] if runs[t, p, s] else None
                           for s in range(1, seeds + 1)]) for p in policies]
    print("| %s | %s | %s |" % (t, metric, " | ".join(cols)))
PY
