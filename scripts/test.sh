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
build_for_suite "$top"
if [ -r /run/nexus-dockerd.pid ] &&
	[ "$(cat "/proc/$(cat /run/nexus-dockerd.pid)/comm" 2>/dev/null)" = dockerd ]; then
	# dockerd is ours: the lifecycle test may restart it.
	NEXUS_TEST_DOCKERD_PIDFILE=/run/nexus-dockerd.pid
	export NEXUS_TEST_DOCKERD_PIDFILE
fi
(cd build && make check >&2) || status=1

# shellcheck disable=SC2046
count_results $(find build-asan build -name '*.trs')
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
