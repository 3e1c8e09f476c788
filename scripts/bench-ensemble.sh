#!/bin/sh
# bench-ensemble.sh [NODES] [K] [SEEDS] [TASK...] — for each example task
# and seed, one offline run (kbsynth, local executor, policy mcgs) with
# final.ensemble_k=K, then `automlgen grade` on both files the run keeps:
# the best node's own submission and the ensemble.  Prints a Markdown
# table: the members, the two graded test scores, which is better.
# WEIGHTS=equal sets final.ensemble_weights (default rank).
# Needs an installed automlgen (scripts/quickstart.sh) or AUTOMLGEN_BIN.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${AUTOMLGEN_BIN:-automlgen}
nodes=${1:-12}
k=${2:-3}
seeds=${3:-1}
weights=${WEIGHTS:-rank}
[ $# -gt 3 ] && shift 3 || set --
[ $# -gt 0 ] || set -- breast_cancer churn diabetes iris multitarget wine
tasks=$here/examples/tasks
[ -d "$tasks" ] || /usr/bin/python3 "$here/scripts/make-example-tasks.py" "$tasks" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
grade() {
	"$bin" grade "$1" "$2" --json | /usr/bin/python3 -c \
		"import json,sys; r=json.load(sys.stdin); print(repr(r['score']) if r['valid'] else 'invalid')"
}
echo "| task | metric | seed | ensemble of nodes | best node (test) | ensemble (test) | better |"
echo "|---|---|---|---|---|---|---|"
for t in "$@"; do
	seed=0
	while [ "$seed" -lt "$seeds" ]; do
		run="$t-$seed"
		"$bin" run "$tasks/$t" -q -o run.dir="$out" -o run.name="$run" -o run.seed="$seed" \
			-o executor=local -o search.max_nodes="$nodes" -o final.ensemble_k="$k" \
			-o final.ensemble_weights="$weights" \
			>/dev/null 2>&1 || true
		dir="$out/$run"
		info=$(/usr/bin/python3 - "$dir" <<'EOF'
import json, os, sys
d = sys.argv[1]
s = json.load(open(os.path.join(d, "summary.json")))
e = json.load(open(os.path.join(d, "ensemble.json"))) if os.path.exists(os.path.join(d, "ensemble.json")) else None
members = ", ".join(str(m["node"]) for m in e["members"] if m["used"]) if e and e["used"] else "not used"
print("%s|%d|%s" % (s["metric"], 1 if s["higher_is_better"] else 0, members))
EOF
)
		metric=${info%%|*}
		rest=${info#*|}
		higher=${rest%%|*}
		members=${rest#*|}
		if [ -f "$dir/best_node_submission.csv" ]; then
			best=$(grade "$tasks/$t" "$dir/best_node_submission.csv")
			ens=$(grade "$tasks/$t" "$dir/submission.csv")
		elif [ -f "$dir/submission.csv" ]; then
			best=$(grade "$tasks/$t" "$dir/submission.csv")
			ens="-"
		else
			best="no submission"
			ens="-"
		fi
		/usr/bin/python3 - "$t" "$metric" "$seed" "$members" "$best" "$ens" "$higher" <<'EOF'
import sys
t, metric, seed, members, best, ens, higher = sys.argv[1:]
def f(x):
    try:
        return float(x)
    except ValueError:
        return None
b, e = f(best), f(ens)
if b is None or e is None:
    better = "-"
elif b == e:
    better = "tie"
else:
    better = "ensemble" if (e > b) == (higher == "1") else "best node"
fmt = lambda x, v: "%.4f" % v if v is not None else x
print("| %s | %s | %s | %s | %s | %s | %s |" % (t, metric, seed, members, fmt(best, b), fmt(ens, e), better))
EOF
		seed=$((seed + 1))
	done
done
