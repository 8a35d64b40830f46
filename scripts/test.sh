#!/bin/sh
# test.sh - the whole test suite: unit tests (no Docker) under ASan and
# UBSan, then everything (unit, integration, hardening) against the real
# engine and the real runtime images.  Installs and starts what it needs.
# Ends with "N passed, N failed, N skipped"; exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
. scripts/lib.sh

install_packages
ensure_docker
# The attack suite runs a second time under gVisor.
ensure_gvisor

status=0
say "unit tests under AddressSanitizer and UndefinedBehaviorSanitizer"
(build_nexus build-asan --enable-werror --enable-sanitizer=address,undefined &&
	cd build-asan && make check-unit >&2) || status=1

say "the whole suite against the real engine"
build_nexus build --enable-werror
NEXUS_RUNTIMES_DIR="$top/runtimes"
export NEXUS_RUNTIMES_DIR
ensure_runtimes "$top/build/nexus" default python javascript bash
if [ -r /run/nexus-dockerd.pid ] &&
	[ "$(cat "/proc/$(cat /run/nexus-dockerd.pid)/comm" 2>/dev/null)" = dockerd ]; then
	# dockerd is ours: the lifecycle test may restart it.
	NEXUS_TEST_DOCKERD_PIDFILE=/run/nexus-dockerd.pid
	export NEXUS_TEST_DOCKERD_PIDFILE
fi
(cd build && make check >&2) || status=1

# Count the results the test driver recorded, one .trs file per test.
passed=0 failed=0 skipped=0
for trs in $(find build-asan build -name '*.trs'); do
	while read -r key value _; do
		[ "$key" = ":test-result:" ] || continue
		case "$value" in
		PASS | XFAIL) passed=$((passed + 1)) ;;
		SKIP) skipped=$((skipped + 1)) ;;
		*) failed=$((failed + 1)) ;;
		esac
	done <"$trs"
done
for log in $(find build-asan build -name '*.log' ! -name 'config.log' ! -name test-suite.log); do
	if grep -q '^not ok\|^Bail out' "$log"; then
		echo "--- $log" >&2
		grep -A8 '^not ok\|^Bail out' "$log" >&2
	fi
done
# The build or the harness failed outside any test.
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
