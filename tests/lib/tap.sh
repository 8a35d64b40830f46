# tap.sh - TAP helpers for the shell tests.  Source it, call ok/is/..., end
# with tap_done.  A test that needs Docker calls need_docker first: without
# an engine it skips the whole file, except under CI=true, where it fails.

TAP_N=0
TAP_FAILED=0

ok() { # ok COND-EXIT-STATUS DESCRIPTION
	TAP_N=$((TAP_N + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $TAP_N - $2"
	else
		TAP_FAILED=$((TAP_FAILED + 1))
		echo "not ok $TAP_N - $2"
	fi
}

# is GOT WANT DESCRIPTION
is() {
	if [ "$1" = "$2" ]; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %s\n#   want: %s\n' "$1" "$2"
	fi
}

# like GOT EXTENDED-REGEX DESCRIPTION
like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok 0 "$3"
	else
		ok 1 "$3"
		printf '#   got:  %s\n#   want match: %s\n' "$1" "$2"
	fi
}

diag() { printf '# %s\n' "$*"; }

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}

bail() {
	echo "Bail out! $*"
	exit 1
}

tap_done() {
	echo "1..$TAP_N"
	[ "$TAP_FAILED" -eq 0 ]
}

skip() { # skip REASON: one test point that did not run
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N # SKIP $1"
}
