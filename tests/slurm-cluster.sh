#!/bin/sh
# slurm-cluster.sh — start or stop a single-node Slurm cluster on localhost
# for the slurm executor's tests, without systemd:
#
#   sh tests/slurm-cluster.sh start DIR   # DIR: a fresh, empty folder
#   SLURM_CONF=DIR/slurm.conf sbatch ...  # use it
#   sh tests/slurm-cluster.sh stop DIR
#
# start writes DIR/slurm.conf from tests/data/slurm/slurm.conf.in (two free
# ports, a fresh StateSaveLocation and SlurmdSpoolDir under DIR, auth/none),
# runs slurmctld -D and slurmd -D in the background (logs in DIR) and waits
# until the node is idle; it prints DIR/slurm.conf and exits 0, or says what
# failed (the daemons' logs) and exits 1.  stop ends the daemons by the PIDs
# start recorded, slurmd first, and waits for them to exit.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
template=$here/data/slurm/slurm.conf.in
[ $# -eq 2 ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
cmd=$1
dir=$2

# A TCP port nobody listens on or uses (ports in /proc/net/tcp{,6} are hex).
free_port() {
	used=$(awk 'NR > 1 { split($2, a, ":"); print a[2] }' /proc/net/tcp /proc/net/tcp6 \
		2>/dev/null | sort -u)
	n=0
	while [ $n -lt 200 ]; do
		p=$(awk -v s="$(( $$ * 1000 + n * 10 + $1 ))" \
			'BEGIN { srand(s); print 20000 + int(rand() * 40000) }')
		hex=$(printf '%04X' "$p")
		if ! echo "$used" | grep -qx "$hex"; then
			echo "$p"
			return 0
		fi
		n=$((n + 1))
	done
	echo "no free port found" >&2
	return 1
}

# Send TERM to the daemon whose PID is in $1 and wait (up to 10 s, then
# KILL) until it is gone.
stop_pid() {
	[ -f "$1" ] || return 0
	pid=$(cat "$1")
	rm -f "$1"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	n=0
	while kill -0 "$pid" 2>/dev/null; do
		n=$((n + 1))
		if [ $n -eq 100 ]; then
			kill -KILL "$pid" 2>/dev/null || true
		elif [ $n -gt 150 ]; then
			echo "slurm daemon $pid does not exit" >&2
			return 1
		fi
		sleep 0.1
	done
}

case $cmd in
start)
	for b in slurmctld slurmd sinfo sbatch squeue scontrol scancel; do
		command -v $b >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
		command -v $b >/dev/null 2>&1 || {
			echo "$b not found: install Debian's slurmctld slurmd slurm-client" >&2
			exit 1
		}
	done
	[ -f "$template" ] || { echo "no $template" >&2; exit 1; }
	mkdir -p "$dir/state" "$dir/spool"
	dir=$(cd "$dir" && pwd)
	user=$(id -un)
	ctld=$(free_port 1)
	slurmd=$(free_port 2)
	[ "$slurmd" != "$ctld" ] || slurmd=$((ctld + 1))
	sed -e "s|@DIR@|$dir|g" -e "s|@USER@|$user|g" \
	    -e "s|@CTLD_PORT@|$ctld|g" -e "s|@SLURMD_PORT@|$slurmd|g" \
	    "$template" >"$dir/slurm.conf"
	SLURM_CONF=$dir/slurm.conf
	export SLURM_CONF
	slurmctld -D -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 </dev/null &
	echo $! >"$dir/ctld.pid"
	slurmd -D -f "$SLURM_CONF" -N amlnode >"$dir/slurmd.out" 2>&1 </dev/null &
	echo $! >"$dir/slurmd.run.pid"
	n=0
	while :; do
		state=$(sinfo -h -n amlnode -o %t 2>/dev/null || true)
		[ "$state" = idle ] && break
		n=$((n + 1))
		if [ $n -gt 300 ] || ! kill -0 "$(cat "$dir/ctld.pid")" 2>/dev/null ||
		   ! kill -0 "$(cat "$dir/slurmd.run.pid")" 2>/dev/null; then
			echo "the test cluster did not become idle (node state '$state'); logs:" >&2
			tail -n 5 "$dir/slurmctld.out" "$dir/slurmd.out" "$dir/slurmctld.log" \
				"$dir/slurmd.log" >&2 2>/dev/null || true
			stop_pid "$dir/slurmd.run.pid" || true
			stop_pid "$dir/ctld.pid" || true
			exit 1
		fi
		sleep 0.1
	done
	echo "$SLURM_CONF"
	;;
stop)
	rc=0
	stop_pid "$dir/slurmd.run.pid" || rc=1
	stop_pid "$dir/ctld.pid" || rc=1
	exit $rc
	;;
*)
	echo "usage: $0 start|stop DIR" >&2
	exit 2
	;;
esac
