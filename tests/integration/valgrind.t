# valgrind.t - the CLI's main paths leak nothing and touch no memory they
# should not, under valgrind against the real engine.
. "$top_srcdir/tests/integration/lib.sh"
need_docker default
command -v valgrind >/dev/null 2>&1 || bail "valgrind is not installed"

vg() { # vg NAME ARGS...: run nexus under valgrind; its report in $report
	name=$1
	shift
	report="$NEXUS_DATA_DIR/vg-$name.txt"
	libtool --mode=execute valgrind -q --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		--log-file="$report" "$NEXUS_BIN" "$@" >"$OUT_FILE" 2>"$ERR_FILE"
	vg_rc=$?
	out=$(cat "$OUT_FILE")
}
check() { # check NAME WANT-RC
	is "$vg_rc" "$2" "$1: exit status, no memory errors or leaks"
	[ "$vg_rc" = 99 ] && sed 's/^/#   /' "$report"
	return 0
}
libtool() { "$top_builddir/libtool" "$@"; }

vg create sandbox create vg --json
check "create" 0
SB=$(printf '%s' "$out" | jq -r .sandbox_id)
vg run sandbox run $SB -c "print('x' * 100000)"
check "run" 0
vg run-json sandbox run $SB -l bash -c 'printf "\377\000bad"; exit 3' --json
check "run --json with hostile bytes" 0
vg timeout sandbox run $SB -c "import time; time.sleep(30)" --timeout 1
check "run past its timeout" 124
vg list sandbox list --verify --json
check "list --verify" 0
vg status sandbox status vg
check "status" 0
vg pause sandbox pause $SB
check "pause" 0
vg resume sandbox resume $SB --json
check "resume" 0
vg stop sandbox stop $SB
check "stop" 0
vg notfound sandbox status nosuchname
check "an error path" 1
export DOCKER_HOST=unix:///nonexistent.sock
vg nodocker sandbox create x
unset DOCKER_HOST
check "docker unreachable" 1

tap_done
