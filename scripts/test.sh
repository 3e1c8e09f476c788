#!/bin/sh
# test.sh — install the dependencies, build, and run the whole test suite
# (make check), then again under AddressSanitizer + UndefinedBehaviorSanitizer
# and under ThreadSanitizer (the search runs parallel workers), unless
# --no-sanitizers is given.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
sanitizers=yes
[ "${1:-}" = "--no-sanitizers" ] && sanitizers=no
[ "${AML_SKIP_DEPS:-}" = 1 ] || sh scripts/install-deps.sh --test
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
jobs=$(nproc)

run_suite() { # build-dir configure-flags...
	dir=$1; shift
	mkdir -p "$dir"
	(cd "$dir" && ../configure -q "$@" 2>&1 | grep -v "cannot remove 'core'" || true)
	if ! make -C "$dir" -j"$jobs" check >"$dir/check.out" 2>&1; then
		cat "$dir/check.out" | tail -40
		for f in $(find "$dir/tests" -name '*.log' ! -name 'test-suite.log'); do
			if grep -q '^not ok\|^ERROR\|^FAIL' "$f" 2>/dev/null; then
				echo "=== $f"; tail -60 "$f"
			fi
		done
		echo "tests: failed in $dir"
		exit 1
	fi
	grep -E '^# (TOTAL|PASS|FAIL|ERROR|SKIP)' "$dir/check.out"
	pass=$((pass + $(sed -n 's/^# PASS: *//p' "$dir/check.out")))
	fail=$((fail + $(sed -n 's/^# FAIL: *//p' "$dir/check.out") + $(sed -n 's/^# ERROR: *//p' "$dir/check.out")))
}
pass=0
fail=0

echo "== make check"
run_suite _build-test
if [ $sanitizers = yes ]; then
	echo "== make check under ASan + UBSan"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_suite _build-asan --enable-sanitizers
	echo "== make check under ThreadSanitizer"
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		run_suite _build-tsan --enable-tsan
fi
echo "tests: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
