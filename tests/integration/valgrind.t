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
vg list-again sandbox list --verify --json
check "list --verify over rows verified before" 0
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

# Remote mode: the HTTP client and the records read back from JSON.
start_server
KEY=$("$NEXUS_BIN" admin key create --user tester 2>/dev/null)
export NEXUS_URL=$URL NEXUS_API_KEY=$KEY
vg remote-create sandbox create vg-remote --json
check "remote create" 0
SB=$(printf '%s' "$out" | jq -r .sandbox_id)
vg remote-run sandbox run $SB -l bash -c 'printf "\377x"; exit 3'
check "remote run" 3
vg remote-timeout sandbox run $SB -l bash --timeout 1 -c 'echo a; sleep 5'
check "remote run past its timeout" 124
vg remote-list sandbox list --json
check "remote list" 0
vg remote-stop sandbox stop $SB --json
check "remote stop" 0
export NEXUS_API_KEY=nxk_bad
vg remote-badkey sandbox list
check "remote, key refused" 1
unset NEXUS_URL NEXUS_API_KEY
stop_server

# The server itself: requests of every kind, then SIGTERM.
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
report="$NEXUS_DATA_DIR/vg-serve.txt"
# exec all the way down, so that $! is valgrind's own pid for the kill.
(exec "$top_builddir/libtool" --mode=execute valgrind -q --leak-check=full \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--log-file="$report" "$NEXUS_SERVER" --port $PORT 2>/dev/null) &
vg_pid=$!
for _ in $(seq 200); do
	curl -sf --max-time 1 "http://127.0.0.1:$PORT/v1/health" >/dev/null 2>&1 && break
	sleep 0.1
done
H="Authorization: Bearer $KEY"
api() { curl -s --max-time 60 -H "$H" "$@" >/dev/null; }
sb=$(curl -s -H "$H" -d '{"name":"vg-serve"}' "http://127.0.0.1:$PORT/v1/sandboxes" | jq -r .sandbox_id)
api -d '{"code":"print(1)"}' "http://127.0.0.1:$PORT/v1/sandboxes/$sb/run"
api -d '{"code":"import time; time.sleep(3)","timeout":1}' "http://127.0.0.1:$PORT/v1/sandboxes/$sb/run"
api "http://127.0.0.1:$PORT/v1/sandboxes?verify=true"
api -d '{"name":' "http://127.0.0.1:$PORT/v1/sandboxes"
api -H "Authorization: Bearer nxk_bad" "http://127.0.0.1:$PORT/v1/sandboxes"
api -X POST "http://127.0.0.1:$PORT/v1/sandboxes/$sb/stop"
kill -TERM $vg_pid
vg_rc=0
wait $vg_pid || vg_rc=$?
check "serve" 0

tap_done
