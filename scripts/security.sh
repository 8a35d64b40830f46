#!/bin/sh
# security.sh - see for yourself what docs/security.md claims: the attack
# suite under runc and under gVisor, the fault tests, the bad-input tests
# and the fuzz corpus replay, against the real engine and the real images.
# Installs and starts what it needs (as scripts/test.sh does), builds in
# build/, prints one table row per attack payload (its outcome under each
# runtime), then "N passed, N failed"; exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
top=$PWD
. scripts/lib.sh

install_packages
ensure_docker
ensure_gvisor
build_for_suite "$top"

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
fuzz=$(cd build && find tests/fuzz -maxdepth 1 -name 'replay_*' ! -name '*.*' -perm -u+x | sort)
status=0
(
	cd build
	NEXUS_ATTACK_RESULTS=$results/runc make check TESTS=tests/security/attacks.t >&2
) || status=1
(
	cd build
	NEXUS_ATTACK_RESULTS=$results/gvisor make check TESTS=tests/security/attacks-gvisor.t >&2
) || status=1
# shellcheck disable=SC2086
(cd build && make check TESTS="tests/integration/faults.t tests/integration/badinput.t $fuzz" >&2) ||
	status=1

python3 - "$results/runc" "$results/gvisor" <<'PY'
import sys
rows = {}
for column, path in enumerate(sys.argv[1:]):
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        name, lang, what, outcome = line.split("\t")
        rows.setdefault(name, [lang, what, "-", "-"])[2 + column] = outcome
print("| payload | language | attack | runc | gVisor |")
print("|---|---|---|---|---|")
for name, (lang, what, runc, gvisor) in rows.items():
    print("| %s | %s | %s | `%s` | `%s` |" % (name, lang, what, runc, gvisor))
PY

# shellcheck disable=SC2046
count_results $(find build/tests/security build/tests/integration/faults.trs \
	build/tests/integration/badinput.trs build/tests/fuzz -name '*.trs' 2>/dev/null)
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed, $skipped skipped"
exit "$status"
