# serve.t - nexus serve: keys and tenants, the remote CLI printing what the
# local one prints, limits, the reaper, and a SIGTERM that loses nothing.
. "$top_srcdir/tests/integration/lib.sh"
need_docker python

# as KEY CMD...: the CLI in remote mode with KEY ("" for none); results in
# $out $err $rc.
as() {
	local key=$1
	shift
	rc=0
	NEXUS_URL=$URL NEXUS_API_KEY=$key "$NEXUS_BIN" "$@" >"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
	out=$(cat "$OUT_FILE")
	err=$(cat "$ERR_FILE")
}
# local_cli CMD...: the same command here, as the user the server runs as.
local_cli() { run_cli env -u NEXUS_URL "$NEXUS_BIN" "$@"; }
http() { # http METHOD PATH [BODY] [CURL-ARGS...]: status in $code, body in $body
	local method=$1 path=$2 data=${3-}
	shift 3 2>/dev/null || shift $#
	body=$(curl -s -o - -w '\n%{http_code}' -X "$method" ${data:+-d "$data"} "$@" "$URL$path")
	code=${body##*$'\n'}
	body=${body%$'\n'*}
}
# Times, ids and uptimes differ between any two calls; the rest must not.
normalize() {
	sed -E 's/[a-z0-9]{21}/ID/g; s/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}/TIME/g;
		s/"(uptime_seconds|execution_time)": [0-9.]+/"\1": N/; s/[0-9.]+(s|m|h)?( *)$/N\2/; s/^Uptime: .*/Uptime: N/'
}

# ---- no keys: loopback only --------------------------------------------------
run_cli "$NEXUS_BIN" serve --host 0.0.0.0 --port 1
is "$rc" 2 "a non-loopback address with no keys is refused"
like "$err" "^Error: refusing to serve on 0.0.0.0 with no API keys" "and says why"

start_server
http GET /v1/health
is "$code $(printf '%s' "$body" | jq -r .status)" "200 ok" "health answers"
as "" sandbox create keyless --json
is "$rc $(printf '%s' "$out" | jq -r .user_id)" "0 $NEXUS_USER" "with no keys, requests act as the server's user"

# ---- the same output, remote and local ---------------------------------------
SB=$(printf '%s' "$out" | jq -r .sandbox_id)
for args in "sandbox run $SB -c print('x')" "sandbox status $SB" "sandbox status $SB --json" \
	    "sandbox list" "sandbox list --json" "sandbox status nosuch" "sandbox list --verify --json"; do
	# shellcheck disable=SC2086
	as "" $args
	remote="$rc|$(printf '%s' "$out" | normalize)|$err"
	# shellcheck disable=SC2086
	local_cli $args
	is "$remote" "$rc|$(printf '%s' "$out" | normalize)|$err" "remote and local print the same: $args"
done
for lang_code in "bash|printf '\\377\\000ok'; echo err >&2; exit 3" "python|import sys; print('é'); sys.exit(4)"; do
	lang=${lang_code%%|*}
	code=${lang_code#*|}
	# The exact bytes, NULs included, straight from the files.
	as "" sandbox run $SB -l $lang -c "$code" 2>/dev/null
	r_all="$rc|$err|$(od -c <"$OUT_FILE")"
	local_cli sandbox run $SB -l $lang -c "$code" 2>/dev/null
	is "$r_all" "$rc|$err|$(od -c <"$OUT_FILE")" "remote run prints the exact bytes, stderr and exit code ($lang)"
	as "" sandbox run $SB -l $lang -c "$code" --json
	r_out=$(printf '%s' "$out" | normalize)
	local_cli sandbox run $SB -l $lang -c "$code" --json
	is "$r_out" "$(printf '%s' "$out" | normalize)" "remote run --json prints the same JSON ($lang)"
done
as "" sandbox run $SB -l bash --timeout 1 -c 'echo started; sleep 10'
is "$rc|$out|$err" "124|started|Error: Code execution exceeded 1 second timeout" "a remote timeout prints what ran, then the spec's message, exit 124"
for action in pause resume stop; do
	as "" sandbox $action $SB --json
	r_json=$(printf '%s' "$out" | normalize) r_rc=$rc
	other=$(NEXUS_URL= nexus sandbox create keyless --json | jq -r .sandbox_id)
	[ $action = resume ] && NEXUS_URL= nexus sandbox pause $other >/dev/null
	local_cli sandbox $action $other --json
	is "$r_rc|$r_json" "$rc|$(printf '%s' "$out" | normalize)" "remote and local $action --json print the same shape"
	NEXUS_URL= nexus sandbox stop $other >/dev/null
done
as "" sandbox stop $SB
is "$rc|$out" "0|Stopped sandbox keyless ($SB)" "stopping a stopped sandbox remotely succeeds as locally"

# ---- keys and tenants ---------------------------------------------------------
ALICE=$("$NEXUS_BIN" admin key create --user alice 2>/dev/null)
BOB=$("$NEXUS_BIN" admin key create --user bob --agent bot-1 2>/dev/null)
ROOT=$("$NEXUS_BIN" admin key create --user root --admin 2>/dev/null)
OTHER=$("$NEXUS_BIN" admin key create --user alice --tenant acme 2>/dev/null)
like "$ALICE" '^nxk_[a-z0-9]{12}_[0-9a-f]{64}$' "a key is printed once, in its format"
keys=$("$NEXUS_BIN" admin key list --json)
is "$(printf '%s' "$keys" | jq -r '[.keys[] | .user_id + "/" + .tenant_id + "/" + (.agent_id // "-") + "/" + (.admin | tostring)] | join(" ")')" \
	"alice/default/-/false bob/default/bot-1/false root/default/-/true alice/acme/-/false" "key list shows who holds each key"
ok $(printf '%s' "$keys" | grep -q "${ALICE#nxk_????????????_}"; echo $(( ! $? ))) "the list never shows a secret"
ok $(grep -qa "${ALICE#nxk_????????????_}" "$NEXUS_DATA_DIR/nexus.db"; echo $(( ! $? ))) "the store keeps no key, only its hash"

as "" sandbox list
is "$rc|$err" "1|Error: the nexus server at $URL refused the request: an API key is required (Authorization: Bearer KEY) (check NEXUS_API_KEY)" "once keys exist, a request without one is refused"
as "nxk_000000000000_$(printf '0%.0s' $(seq 64))" sandbox list
like "$err" "refused the request: invalid or revoked API key" "an unknown key is refused"

as "$ALICE" sandbox create a1 --json
A1=$(printf '%s' "$out" | jq -r .sandbox_id)
is "$(printf '%s' "$out" | jq -r '.user_id + "/" + .tenant_id')" "alice/default" "a sandbox belongs to its key's user and tenant"
as "$BOB" sandbox create b1 --json
is "$(printf '%s' "$out" | jq -r .agent_id)" "bot-1" "a key's agent is recorded on its sandboxes"
B1=$(printf '%s' "$out" | jq -r .sandbox_id)

for cmd in "status $A1" "run $A1 -c print(1)" "pause $A1" "resume $A1" "stop $A1" "status a1"; do
	# shellcheck disable=SC2086
	as "$BOB" sandbox $cmd
	like "$rc|$err" "^(1|125)\|Error: sandbox '[^']+' not found" "bob cannot see alice's sandbox: $cmd"
done
as "$OTHER" sandbox status $A1
like "$err" "not found" "nor can alice's key in another tenant"
as "$BOB" sandbox list --json
is "$(printf '%s' "$out" | jq -r '[.sandboxes[].name] | join(",")')" "b1" "bob lists only his own"
as "$BOB" sandbox list --user-id alice
is "$rc|$err" "1|Error: listing another user's sandboxes is for admins only" "listing another user is for admins only"
as "$BOB" sandbox list --tenant-id acme
is "$rc|$err" "1|Error: listing another tenant's sandboxes is for admins only" "so is listing another tenant"
as "$ROOT" sandbox list --user-id alice --json
is "$(printf '%s' "$out" | jq -r '[.sandboxes[].sandbox_id] | join(",")')" "$A1" "an admin lists any user"
as "$ROOT" sandbox status $B1 --json
is "$rc|$(printf '%s' "$out" | jq -r .name)" "0|b1" "an admin sees any sandbox by id"
as "$ALICE" sandbox run a1 -c 'print("mine")'
is "$rc|$out" "0|mine" "alice runs code in her sandbox by name"
http GET /v1/sandboxes/$A1 "" -H "X-API-Key: $ALICE"
is "$code" 200 "X-API-Key works as well as Authorization: Bearer"

id=$(printf '%s' "$BOB" | cut -c5-16)
"$NEXUS_BIN" admin key revoke $id >/dev/null
as "$BOB" sandbox list
is "$rc|$err" "1|Error: the nexus server at $URL refused the request: invalid or revoked API key (check NEXUS_API_KEY)" "a revoked key is refused"
run_cli "$NEXUS_BIN" admin key revoke nosuchkeyid1
is "$rc|$err" "1|Error: no API key 'nosuchkeyid1' (see 'nexus admin key list')" "revoking an unknown key says so"

# ---- what the server refuses --------------------------------------------------
http POST /v1/sandboxes '{"name":"x","colour":"red"}' -H "Authorization: Bearer $ALICE"
is "$code|$(printf '%s' "$body" | jq -r .error.message)" "400|unknown field 'colour' in the request body" "an unknown field is refused"
http POST /v1/sandboxes '{"name":' -H "Authorization: Bearer $ALICE"
is "$code|$(printf '%s' "$body" | jq -r .error.kind)" "400|usage" "a broken body is refused"
http POST /v1/sandboxes/$A1/run "" -H "Authorization: Bearer $ALICE"
is "$code|$(printf '%s' "$body" | jq -r .error.message)" "400|'code' is required" "a run needs code"
big="$NEXUS_DATA_DIR/big.json"
python3 -c 'import json,sys; json.dump({"code": "#" * (16 * 1024 * 1024 + 1)}, open(sys.argv[1], "w"))' "$big"
http POST /v1/sandboxes/$A1/run "@$big" -H "Authorization: Bearer $ALICE"
is "$code|$(printf '%s' "$body" | jq -r .error.kind)" "413|too_large" "code over 16 MiB is refused"
python3 -c 'import sys; open(sys.argv[1], "w").write("{\"code\": \"" + "#" * (64 * 1024 * 1024) + "\"}")' "$big"
http POST /v1/sandboxes/$A1/run "@$big" -H "Authorization: Bearer $ALICE"
is "$code|$(printf '%s' "$body" | jq -r .error.kind)" "413|too_large" "a body over 64 MiB is refused"
rm -f "$big"
http PUT /v1/sandboxes "" -H "Authorization: Bearer $ALICE"
is "$code" 405 "a method a path does not take is refused"
http GET /v2/nothing "" -H "Authorization: Bearer $ALICE"
is "$code" 404 "an unknown path is not found"

# ---- the reaper -------------------------------------------------------------------
as "$ALICE" sandbox create short --ttl 1 --json
SHORT=$(printf '%s' "$out" | jq -r .sandbox_id)
row_status() { python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT status FROM sandboxes WHERE sandbox_id = ?", (sys.argv[2],)).fetchone()[0])' "$NEXUS_DATA_DIR/nexus.db" "$1"; }
sleep 63
is "$(row_status $SHORT)" stopped "the server stops an expired sandbox with nobody asking"

# ---- SIGTERM while a run is in flight -------------------------------------------
NEXUS_URL=$URL NEXUS_API_KEY=$ALICE "$NEXUS_BIN" sandbox run a1 -l bash -c 'sleep 3; echo finished' \
	>"$NEXUS_DATA_DIR/run.out" 2>&1 &
client=$!
sleep 1
kill -TERM $SERVER_PID
sleep 0.5
http GET /v1/health
ok $([ "$code" != 200 ]; echo $?) "a stopping server takes no new connection"
wait $client
is "$?|$(cat "$NEXUS_DATA_DIR/run.out")" "0|finished" "the run in flight finishes and is answered"
server_rc=0
wait $SERVER_PID || server_rc=$?
SERVER_PID=
is "$server_rc" 0 "then the server exits 0"
like "$(cat "$SERVER_LOG")" "Terminated: finishing 1 request\(s\) in flight" "after saying what it waits for"
v=$(NEXUS_URL= nexus sandbox list --user-id alice --json | jq -c '.sandboxes[] | select(.name == "a1") | [.status, (.expires_at > .created_at)]')
is "$v" '["active",true]' "the run was recorded"
as "$ALICE" sandbox list
like "$rc|$err" "^1\|Error: cannot reach the nexus server at $URL: " "a server that is gone is one line naming the URL"

tap_done
