# e2b.t - the e2b provider plugin, end to end through the CLI, against the
# E2B-compatible fake in tests/fake/e2b_server.py: every command, code that
# must arrive unchanged, timeouts, and hostile or broken answers, each a
# one-line error that leaves the store as it was.  Needs no Docker.
. "$top_srcdir/tests/integration/lib.sh"

[ -f "$NEXUS_PLUGIN_DIR/e2b.so" ] || {
	[ "${CI:-}" = true ] && bail "no e2b.so in $NEXUS_PLUGIN_DIR (CI=true: this is a failure)"
	skip_all "the e2b plugin is not built (configure --disable-e2b?)"
}

FAKE_OUT="$NEXUS_DATA_DIR/fake.out"
python3 "$top_srcdir/tests/fake/e2b_server.py" --port 0 >"$FAKE_OUT" 2>"$NEXUS_DATA_DIR/fake.log" &
FAKE_PID=$!
for _ in $(seq 100); do
	grep -q '^PORT ' "$FAKE_OUT" 2>/dev/null && break
	sleep 0.1
done
PORT=$(sed -n 's/^PORT //p' "$FAKE_OUT")
[ -n "$PORT" ] || bail "the fake E2B did not start: $(cat "$NEXUS_DATA_DIR/fake.log")"
trap 'kill $FAKE_PID 2>/dev/null; wait $FAKE_PID 2>/dev/null; cleanup_sandboxes' EXIT

export E2B_API_URL="http://127.0.0.1:$PORT"
export E2B_ENVD_URL="http://127.0.0.1:$PORT/envd/{sandboxID}"
KEY=e2b_test_key
fake() { curl -s --max-time 10 -X POST -d "$1" "$E2B_API_URL/_fake/mode" >/dev/null; }
fake_state() { curl -s --max-time 10 "$E2B_API_URL/_fake/state"; }
last_e2b_id() { fake_state | jq -r '.sandboxes[-1].id'; }
rows() { nexus sandbox list --json | jq -c '[.sandboxes[] | [.name, .status]]'; }
e2b() { E2B_API_KEY=$KEY run_cli nexus "$@"; }
one_line() { # one_line DESCRIPTION WANT-RC WANT-REGEX: after an e2b command
	is "$rc" "$2" "$1: exit status"
	like "$err" "^Error: $3" "$1: message"
	is "$(printf '%s\n' "$err" | wc -l)" 1 "$1: one line"
}

# ---- without a key, without the plugin -------------------------------------------
run_cli nexus sandbox create nokey --provider e2b
one_line "no E2B_API_KEY" 2 'E2B API key required: set E2B_API_KEY'
E2B_API_KEY=$KEY NEXUS_PLUGIN_DIR=/nonexistent run_cli nexus sandbox create noplugin --provider e2b
one_line "no plugin installed" 1 "provider 'e2b' is not installed \(no /nonexistent/e2b.so\)"
# A plugin of another ABI, and a file that is no shared object at all.
BAD="$NEXUS_DATA_DIR/plugins"
mkdir -p "$BAD"
cat >"$BAD/old.c" <<'C'
#include "nexus-provider.h"
static const nx_provider old = { .abi_version = 99, .struct_size = 16, .name = "old" };
const nx_provider *nx_provider_plugin(void) { return &old; }
C
${CC:-cc} -shared -fPIC -I"$top_srcdir/src" -o "$BAD/old.so" "$BAD/old.c"
printf 'not an ELF file\n' >"$BAD/junk.so"
E2B_API_KEY=$KEY NEXUS_PLUGIN_DIR=$BAD run_cli nexus sandbox create x --provider old
one_line "a plugin of another ABI" 1 "provider $BAD/old.so has ABI 99 \(size 16\); this nexus needs ABI 2"
E2B_API_KEY=$KEY NEXUS_PLUGIN_DIR=$BAD run_cli nexus sandbox create x --provider junk
one_line "a file that is not a plugin" 1 "cannot load provider plugin $BAD/junk.so: "
is "$(rows)" "[]" "none of them left a row"
run_cli nexus sandbox list
is "$rc" 0 "the rest of nexus works without the key"

# ---- every command -------------------------------------------------------------------
e2b sandbox create work --provider e2b --ttl 7 --json
is "$rc|$(printf '%s' "$out" | jq -r '.provider + "/" + .status')" "0|e2b/active" "create: the record says provider e2b"
SB=$(printf '%s' "$out" | jq -r .sandbox_id)
EID=$(last_e2b_id)
is "$(fake_state | jq -r ".sandboxes[] | select(.id == \"$EID\") | .timeout")" 420 "the TTL is E2B's timeout, in seconds"

e2b sandbox run $SB -c 'print("hello from e2b")'
is "$rc|$out" "0|hello from e2b" "run python"
e2b sandbox run $SB -l javascript -c 'console.log(6 * 7)'
is "$rc|$out" "0|42" "run javascript"
e2b sandbox run $SB -l bash -c 'echo out; echo err >&2; exit 3'
is "$rc|$out|$err" "3|out|err" "run bash: stdout, stderr and the exit code"
e2b sandbox run $SB -l bash -c 'echo x > note.txt; cat note.txt' --json
is "$(printf '%s' "$out" | jq -c '[.stdout, .stderr, .exit_code]')" '["x\n","",0]' "run --json"
code=$(printf '%s\n' 'print("""q'"'"'"$(uname)`id`\\ é €""")' 'print("line2")')
e2b sandbox run $SB -c "$code"
is "$out" "$(printf '%s\n%s' "q'\"\$(uname)\`id\`\\ é €" line2)" "quotes, \$(), backticks, backslashes, newlines and non-ASCII arrive unchanged"
big=$(python3 -c 'print("# " + "x" * 70000); print("print(\"big ok\")")')
e2b sandbox run $SB -c "$big"
is "$rc|$out" "0|big ok" "code over 64 KiB goes through the files API"
requests=$(fake_state | jq -r '.requests[] | .method + " " + .path')
like "$requests" "POST /sandboxes/$EID/timeout" "each run posts the timeout again (the idle TTL)"

e2b sandbox run $SB -l bash --timeout 2 -c 'echo started; sleep 60'
is "$rc|$out|$err" "124|started|Error: Code execution exceeded 2 second timeout" "a timeout prints the spec's message"
like "$(fake_state | jq -c '.requests[] | select(.path | endswith("SendSignal")) | .body')" 'SIGNAL_SIGKILL' "and kills the process in the sandbox"
sleep 0.5
is "$(pgrep -f 'sleep 60$' | wc -l)" 0 "which is gone"

e2b sandbox status $SB --verify --json
is "$(printf '%s' "$out" | jq -c '[.status, .verified, .provider_status]')" '["active",true,"active"]' "status --verify asks E2B"
e2b sandbox pause $SB
is "$rc|$(fake_state | jq -r ".sandboxes[] | select(.id == \"$EID\") | .state")" "0|paused" "pause pauses the E2B sandbox"
e2b sandbox resume $SB --json
is "$rc|$(printf '%s' "$out" | jq -r .status)|$(fake_state | jq -r ".sandboxes[] | select(.id == \"$EID\") | .state")" "0|active|running" "resume connects it again"
e2b sandbox list --verify --json
is "$(printf '%s' "$out" | jq -c '[.sandboxes[] | [.name, .provider_status]]')" '[["work","active"]]' "list --verify"
e2b sandbox stop $SB
is "$rc|$(fake_state | jq -r "[.sandboxes[] | select(.id == \"$EID\")] | length")" "0|0" "stop kills the E2B sandbox"
e2b sandbox stop $SB
is "$rc" 0 "stopping again succeeds"

e2b sandbox create gone --provider e2b --json
GONE=$(printf '%s' "$out" | jq -r .sandbox_id)
curl -s -X DELETE -H "X-API-Key: $KEY" "$E2B_API_URL/sandboxes/$(last_e2b_id)" >/dev/null
e2b sandbox status $GONE --verify --json
is "$(printf '%s' "$out" | jq -c '[.status, .provider_status]')" '["stopped","stopped"]' "--verify finds a sandbox E2B no longer has (404) stopped"

# The plugin's paths under valgrind: loaded, run, timed out, unloaded.
e2b sandbox create vg --provider e2b --json
VG=$(printf '%s' "$out" | jq -r .sandbox_id)
for args in "run|0|-c|print(1)" "timeout|124|-l|bash|--timeout|1|-c|sleep 5" "stop|0"; do
	IFS='|' read -r name want rest <<<"$args"
	IFS='|' read -r -a extra <<<"$rest"
	action=$name
	[ "$name" = timeout ] && action=run
	rc=0
	E2B_API_KEY=$KEY valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --log-file="$NEXUS_DATA_DIR/vg-$name.txt" \
		"$NEXUS_BIN" sandbox $action $VG "${extra[@]}" >/dev/null 2>&1 || rc=$?
	is "$rc" "$want" "valgrind: $name through the plugin, no memory errors or leaks"
	[ "$rc" = 99 ] && sed 's/^/#   /' "$NEXUS_DATA_DIR/vg-$name.txt"
done

# ---- hostile and broken answers ------------------------------------------------------
fake '{"next_mode": "unsupported_pause"}'
e2b sandbox create nopause --provider e2b --json
NP=$(printf '%s' "$out" | jq -r .sandbox_id)
e2b sandbox pause $NP
one_line "a deployment without pause" 1 "E2B doesn't support pause/resume. Use stop to destroy the sandbox.$"
e2b sandbox status $NP --json
is "$(printf '%s' "$out" | jq -r .status)" active "the sandbox is still active"

e2b sandbox create target --provider e2b --json
T=$(printf '%s' "$out" | jq -r .sandbox_id)
TID=$(last_e2b_id)
for mode_want in "truncate|stream ended before the process did" \
		 "bad_envelope|stream ended before the process did" \
		 "bad_json|stream envelope that is not a JSON object" \
		 "huge_envelope|stream envelope of 67108864 bytes" \
		 "bad_base64|stdout data that is not base64" \
		 "error_trailer|E2B ended the run with an error: boom"; do
	mode=${mode_want%%|*}
	fake "{\"sandbox\": \"$TID\", \"mode\": \"$mode\"}"
	before=$(rows)
	e2b sandbox run $T -c 'print(1)'
	one_line "$mode" 125 ".*${mode_want#*|}"
	is "$(rows)" "$before" "$mode: the store is unchanged"
done
fake "{\"sandbox\": \"$TID\", \"mode\": \"stall\"}"
start=$(date +%s)
e2b sandbox run $T --timeout 2 -c 'print(1)'
one_line "a sandbox that stalls" 124 "Code execution exceeded 2 second timeout$"
ok $([ $(( $(date +%s) - start )) -lt 10 ]; echo $?) "it times out on the run's own clock"

fake "{\"sandbox\": \"$TID\", \"mode\": \"http500\"}"
e2b sandbox stop $T
one_line "E2B answering 500" 1 "E2B could not kill the sandbox \(HTTP 500"
is "$(nexus sandbox status $T --json | jq -r .status)" active "a stop that failed leaves the row active"

for status_want in "401|E2B refused the API key \(HTTP 401" "409|E2B could not create the sandbox \(HTTP 409" \
		   "500|E2B could not create the sandbox \(HTTP 500"; do
	fake "{\"create_status\": ${status_want%%|*}}"
	before=$(rows)
	e2b sandbox create failing --provider e2b
	one_line "create answered ${status_want%%|*}" 1 "${status_want#*|}"
	is "$(rows)" "$before" "create answered ${status_want%%|*}: no row"
done
E2B_API_KEY=wrong_key run_cli nexus sandbox create badkey --provider e2b
one_line "a wrong key" 1 "E2B refused the API key \(HTTP 401: Invalid API key\); check E2B_API_KEY"

# ---- the core binary knows nothing of the plugin -------------------------------------
is "$(nm "$NEXUS_BIN" 2>/dev/null | awk '{ print $NF }' | grep -ci e2b)" 0 "nm: no e2b symbol in nexus"
# Library names only: the load addresses ldd prints are random hex.
is "$(ldd "$NEXUS_BIN" | awk '{ print $1 }' | grep -cE 'e2b|libcurl')" 0 "ldd: nexus links neither the plugin nor libcurl"

tap_done
