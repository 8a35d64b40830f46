#!/bin/sh
# test.sh - the whole test suite: unit tests (no Docker), then integration
# and hardening tests against the real engine and the real runtime images.
# Installs and starts what it needs.  Ends with "N passed, N failed,
# N skipped" and exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
. scripts/lib.sh

install_packages
ensure_docker
build_nexus --enable-werror
NEXUS_RUNTIMES_DIR="$PWD/runtimes"
export NEXUS_RUNTIMES_DIR
ensure_runtimes "$PWD/nexus" default python javascript bash

status=0
make -j"$(nproc)" check >&2 || status=$?

# Count the results the test driver recorded, one .trs file per test.
passed=0 failed=0 skipped=0
for trs in $(find tests -name '*.trs'); do
	while read -r key value _; do
		[ "$key" = ":test-result:" ] || continue
		case "$value" in
		PASS | XFAIL) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)) ;;
		*) failed=$((failed + 1)) ;;
		esac
	done <"$trs"
done
[ "$failed" -eq 0 ] || status=1
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1 # the build or the harness failed outside any test
	cat tests/*/*.log 2>/dev/null | tail -n 50 >&2 || true
fi
for log in $(find tests -name '*.log'); do
	grep -q '^not ok' "$log" 2>/dev/null && { echo "--- $log" >&2; grep -B2 -A6 '^not ok' "$log" >&2; }
done
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
