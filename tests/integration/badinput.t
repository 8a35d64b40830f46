# badinput.t - bad input to every command and to the HTTP API: each case
# works, or fails with one "Error:" line on stderr, nothing on stdout, its
# documented exit status, and no change to the store, the keys or Docker.
# errors.t has the contract's examples and the first cases of each kind;
# this file goes through every option, big and non-UTF-8 code, and names.
. "$top_srcdir/tests/integration/lib.sh"
need_docker default python bash

WORK="$NEXUS_DATA_DIR/work"
mkdir -p "$WORK"

# The containers of this data directory, running or not.
containers() {
	engine GET "/containers/json?all=1&filters=$(jq -rn --arg l "io.nexus.data-dir=$NEXUS_DATA_DIR" '{label: [$l]} | tojson | @uri')" | jq length
}
keys() { NEXUS_URL= nexus admin key list --json | jq -c '[.keys[] | [.key_id, .revoked_at]]'; }
# Everything a failed command must leave as it was.
state() { printf '%s|%s|%s' "$(NEXUS_URL= store_snapshot)" "$(containers)" "$(keys)"; }
# A test name on one line, whatever bytes the command holds.
name_of() { printf '%q ' "$@" | sed "s|$NEXUS_BIN|nexus|" | cut -c1-100; }

# fails WANT-RC WANT-MESSAGE CMD...: exactly "Error: WANT-MESSAGE" on
# stderr, nothing on stdout, exit WANT-RC, nothing changed.
fails() {
	local want_rc=$1 want=$2 before
	shift 2
	before=$(state)
	run_cli "$@"
	is "$rc|$(cat "$ERR_FILE")|$(wc -c <"$OUT_FILE")|$(state)" \
		"$want_rc|Error: $want|0|$before" "fails: $(name_of "$@")"
}
N=$NEXUS_BIN

SB=$(nexus sandbox create badinput --json | jq -r .sandbox_id)
long() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }

# ---- the command itself ------------------------------------------------------
fails 2 "unknown command 'bogus' (see 'nexus --help')" $N bogus
fails 2 "unknown command '--bogus' (see 'nexus --help')" $N --bogus
fails 2 "unknown command 'sand\nbox' (see 'nexus --help')" $N $'sand\nbox'
fails 2 "unknown command 'sandbox \x1b[2J' (see 'nexus sandbox --help')" $N sandbox $'\e[2J'
fails 2 "unknown command 'runtime bogus' (see 'nexus runtime --help')" $N runtime bogus
fails 2 "unknown command 'admin bogus' (see 'nexus admin --help')" $N admin bogus
fails 2 "unknown command 'admin key bogus' (see 'nexus admin key --help')" $N admin key bogus

# ---- sandbox create ----------------------------------------------------------
for ttl in 10x 99999999999999999999 1e3 0x10 ' 5' +5 -0 10081 '٣'; do
	fails 2 "--ttl must be a whole number of minutes from 1 to 10080, not '$ttl'" $N sandbox create x --ttl "$ttl"
done
fails 2 "--ttl must be a whole number of minutes from 1 to 10080, not '\t5'" $N sandbox create x --ttl $'\t5'
fails 2 "--ttl must be a whole number of minutes from 1 to 10080, not '5\n'" $N sandbox create x -t $'5\n'
fails 2 "option '-t' needs a value (see 'nexus sandbox create --help')" $N sandbox create x -t
fails 2 "option '--t' is ambiguous: write it out (see 'nexus sandbox create --help')" $N sandbox create x --t 5
fails 2 "option '--json' takes no value (see 'nexus sandbox create --help')" $N sandbox create x --json=yes
fails 2 "unknown option '-x' (see 'nexus sandbox create --help')" $N sandbox create x -x
fails 2 "unknown option '-l' (see 'nexus sandbox create --help')" $N sandbox create -lead
fails 2 "unexpected argument 'y' (see 'nexus sandbox create --help')" $N sandbox create x y
fails 2 "unexpected argument '--json' (see 'nexus sandbox create --help')" $N sandbox create -- x --json
for name in "" $'tab\there' $'esc\e[31m' $'del\x7f' $'bad\xff' $'over\xc0\xaf' $'c1\xc2\x9b31m' $'nul-less\r' "$(long 129)"; do
	fails 2 "a sandbox name must be 1 to 128 bytes of printable UTF-8" $N sandbox create "$name"
done
for agent in "" $'a\nb' $'c1\xc2\x85' "$(long 129)"; do
	fails 2 "an agent id must be 1 to 128 bytes of printable UTF-8" $N sandbox create x --agent-id "$agent"
done
for template in "" $'a\nb' "$(long 256)"; do
	fails 2 "a template must be 1 to 255 bytes of printable text" $N sandbox create x --template "$template"
done
for template in 'UPPER:tag' '../../etc' 'a b' '$(id)' ':' 'x:'; do
	fails 2 "invalid template '$template': give default, python, javascript, bash or a local docker image such as 'name:tag'" $N sandbox create x --template "$template"
done
fails 2 "'../../tmp/evil' is not a provider name (letters, digits, '-' and '_')" $N sandbox create x --provider ../../tmp/evil
fails 1 "provider 'nosuch' is not installed (no $NEXUS_PLUGIN_DIR/nosuch.so); build nexus with it or set NEXUS_PLUGIN_DIR" $N sandbox create x -p nosuch
fails 2 "the user id must be 1 to 128 bytes of printable UTF-8 (check NEXUS_USER)" env NEXUS_USER=$'ev\nil' $N sandbox create x
fails 2 "the tenant id must be 1 to 128 bytes of printable UTF-8 (check NEXUS_TENANT)" env NEXUS_TENANT=$'\e[31m' $N sandbox create x

# What is accepted: the limits themselves, the last of a repeated option.
run_cli nexus sandbox create edge --ttl 10080 --ttl 1 --json
is "$rc|$(jq -r .ttl_minutes "$OUT_FILE")" "0|1" "--ttl given twice: the last one counts; 1 is accepted"
nexus sandbox stop "$(jq -r .sandbox_id "$OUT_FILE")" >/dev/null
run_cli nexus sandbox create edge --ttl 10080 --provider "" --json
is "$rc|$(jq -r '[.ttl_minutes, .provider] | join(",")' "$OUT_FILE")" "0|10080,docker" "--ttl 10080 is accepted; an empty --provider is the default"
nexus sandbox stop "$(jq -r .sandbox_id "$OUT_FILE")" >/dev/null

# ---- sandbox run -------------------------------------------------------------
for t in -5 1.5 10x 86401 99999999999999999999 ''; do
	fails 125 "--timeout must be a whole number of seconds from 1 to 86400, not '$t'" $N sandbox run $SB -c 'print(1)' --timeout "$t"
done
fails 125 "--timeout must be a whole number of seconds from 1 to 86400, not '\n1'" $N sandbox run $SB -c 'print(1)' --timeout $'\n1'
for m in 0 -1 1073741825 abc ''; do
	fails 125 "--max-output must be a whole number of bytes from 1 to 1073741824, not '$m'" $N sandbox run $SB -c 'print(1)' --max-output "$m"
done
for lang in '' Python 'python ' ../bash; do
	fails 125 "unknown language '$lang'; use python, javascript or bash" $N sandbox run $SB -l "$lang" -c 'print(1)'
done
fails 125 "unknown language 'py\nthon'; use python, javascript or bash" $N sandbox run $SB -l $'py\nthon' -c 'print(1)'
fails 125 "option '--code' needs a value (see 'nexus sandbox run --help')" $N sandbox run $SB --code
fails 125 "option '-f' needs a value (see 'nexus sandbox run --help')" $N sandbox run $SB -f
fails 125 "option '--timeout' needs a value (see 'nexus sandbox run --help')" $N sandbox run $SB -c 1 --timeout
fails 125 "unknown option '--lang-uage' (see 'nexus sandbox run --help')" $N sandbox run $SB -c 1 --lang-uage bash
fails 125 "missing sandbox id or name (see 'nexus sandbox run --help')" $N sandbox run -c 'print(1)'
fails 125 "unexpected argument '$SB' (see 'nexus sandbox run --help')" $N sandbox run $SB $SB -c 'print(1)'
fails 125 "cannot read '': No such file or directory" $N sandbox run $SB -f ''
fails 125 "'/dev/zero' is larger than 16777216 bytes" $N sandbox run $SB -f /dev/zero
fails 125 "cannot read '/proc/self/mem': Input/output error" $N sandbox run $SB -f /proc/self/mem
printf 'print(1)\n' >"$WORK/secret.py"
chmod 600 "$WORK/secret.py"
chmod 755 "$NEXUS_DATA_DIR" "$WORK"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	fails 125 "cannot read '$WORK/secret.py': Permission denied" setpriv --reuid=65534 --regid=65534 --clear-groups $N sandbox run $SB -f "$WORK/secret.py"
else
	skip "an unreadable file needs root to drop to nobody"
fi
fails 125 "sandbox 'nosuch' not found (see 'nexus sandbox list')" $N sandbox run nosuch -c 'print(1)'
fails 125 "sandbox '\$(id)\n\x1b[2J' not found (see 'nexus sandbox list')" $N sandbox run $'$(id)\n\e[2J' -c 'print(1)'
nexus sandbox create twin >/dev/null
nexus sandbox create twin >/dev/null
fails 125 "name 'twin' matches 2 sandboxes; use a sandbox id (see 'nexus sandbox list')" $N sandbox run twin -c 'print(1)'

# What is accepted: empty code, empty stdin, /dev/null, a FIFO, repeats.
run_cli nexus sandbox run $SB -c '' --json
is "$rc|$(jq -c . "$OUT_FILE")" '0|{"stdout":"","stderr":"","exit_code":0,"execution_time":'"$(jq .execution_time "$OUT_FILE")"'}' "empty code runs and prints nothing"
run_cli sh -c "\"$N\" sandbox run $SB -c - --json </dev/null"
is "$rc|$(jq -c '[.stdout, .exit_code]' "$OUT_FILE")" '0|["",0]' "--code - with empty standard input runs empty code"
run_cli nexus sandbox run $SB -f /dev/null -l bash --json
is "$rc|$(jq -c '[.stdout, .exit_code]' "$OUT_FILE")" '0|["",0]' "--file /dev/null runs empty code"
mkfifo "$WORK/fifo"
printf 'print(6 * 7)\n' >"$WORK/fifo" &
run_cli nexus sandbox run $SB -f "$WORK/fifo"
is "$rc|$out" "0|42" "--file reads a FIFO to its end"
run_cli nexus sandbox run $SB -c 'print(1)' -c 'print(2)' -l bash -l python
is "$rc|$out" "0|2" "repeated --code and --language: the last ones count"
run_cli nexus sandbox run $SB -l bash -c 'printf 12345' --max-output 1 --timeout 86400
is "$rc|$out" "137|1
[nexus: output passed 1 bytes; the run was stopped]" "--max-output 1 and --timeout 86400 are accepted"

# ---- big code: 10 MiB runs whole; 16 MiB is the limit ------------------------
# A program that measures its own 10 MiB string literal: the length and
# digest it prints prove every byte arrived.  Bash, because python3 reads
# a program on stdin a byte per read() (60 s for 10 MiB); Python gets 1 MiB.
blob() { python3 -c 'import sys; sys.stdout.write("".join("%08x" % i for i in range(int(sys.argv[1]) // 8)))' "$1"; }
digest() { printf '%s' "$(blob "$1")" | sha256sum | cut -d' ' -f1; }
{ printf "s='"; blob $((10 << 20)); printf "'\nprintf %%s \"\$s\" | sha256sum | cut -d' ' -f1\necho \${#s}\n"; } >"$WORK/big.sh"
want="$(digest $((10 << 20)))
$((10 << 20))"
run_cli nexus sandbox run $SB -l bash -f "$WORK/big.sh" --timeout 120
is "$rc|$out" "0|$want" "10 MiB of code from --file arrives whole"
run_cli sh -c "\"$N\" sandbox run $SB -l bash -c - --timeout 120 <\"$WORK/big.sh\""
is "$rc|$out" "0|$want" "10 MiB of code from --code - arrives whole"
{ printf 'import hashlib\ns = "'; blob $((1 << 20)); printf '"\nprint(hashlib.sha256(s.encode()).hexdigest())\nprint(len(s))\n'; } >"$WORK/big.py"
run_cli nexus sandbox run $SB -f "$WORK/big.py" --timeout 120
is "$rc|$out" "0|$(digest $((1 << 20)))
$((1 << 20))" "1 MiB of Python arrives whole"
# Exactly 16 MiB runs; one byte more is refused before anything is sent.
at_size() { # at_size FILE BYTES: a bash program padded with a comment
	python3 -c 'import sys; head = b"echo ran\n#"; open(sys.argv[1], "wb").write(head + b"x" * (int(sys.argv[2]) - len(head)))' "$1" "$2"
}
at_size "$WORK/16m.sh" $((16 * 1024 * 1024))
run_cli nexus sandbox run $SB -l bash -f "$WORK/16m.sh" --timeout 120
is "$rc|$out" "0|ran" "exactly 16 MiB of code runs"
at_size "$WORK/16m1.sh" $((16 * 1024 * 1024 + 1))
fails 125 "'$WORK/16m1.sh' is larger than 16777216 bytes" $N sandbox run $SB -f "$WORK/16m1.sh"
fails 125 "'standard input' is larger than 16777216 bytes" sh -c "\"$N\" sandbox run $SB -c - <\"$WORK/16m1.sh\""
rm -f "$WORK"/16m*.sh

# ---- code and output that are not UTF-8 --------------------------------------
printf '# -*- coding: latin-1 -*-\nx = "caf\xe9"\nprint(len(x), hex(ord(x[3])))\n' >"$WORK/latin1.py"
run_cli nexus sandbox run $SB -f "$WORK/latin1.py"
is "$rc|$out" "0|4 0xe9" "a latin-1 Python file with its coding line runs byte for byte"
printf 'x = "caf\xe9"\n' >"$WORK/latin1-bare.py"
run_cli nexus sandbox run $SB -f "$WORK/latin1-bare.py"
is "$rc|$(grep -c "SyntaxError: Non-UTF-8 code starting with '\\\\xe9'" "$ERR_FILE")" "1|1" "without it, Python's own error, exit 1"
run_cli nexus sandbox run $SB -l javascript -c $'// caf\xe9\nconsole.log("ok")'
is "$rc|$out" "0|ok" "javascript with a latin-1 byte in a comment runs"
run_cli nexus sandbox run $SB -l bash -c $'echo caf\xe9; printf \'\\377\\376\\000x\' >&2'
is "$rc|$(od -An -c "$OUT_FILE" | tr -s ' ')|$(od -An -c "$ERR_FILE" | tr -s ' ')" \
	"0| c a f 351 \n| 377 376 \0 x" "invalid bytes in bash code and output pass through exactly"
run_cli nexus sandbox run $SB -l bash -c $'echo caf\xe9; printf \'\\377\\376\\000x\' >&2' --json
is "$rc|$(jq -c '[.stdout, .stderr]' "$OUT_FILE")" '0|["caf�\n","��\u0000x"]' "--json: invalid bytes become U+FFFD, NUL is escaped, the JSON is valid"

# ---- names with shell and path metacharacters: kept verbatim, harmless -------
for name in '; rm -rf /' "\$(touch $WORK/pwned)" "\`touch $WORK/pwned\`" '../../etc/passwd' 'a/b' '*' \
	'with  spaces ' "quo'te\"d" 'ünï€😀' $'\xe2\x80\xae rtl' '-lead' "$(long 128 z)" "%s%n%x" "' OR 1=1 --"; do
	run_cli nexus sandbox create --json -- "$name"
	id=$(jq -r .sandbox_id "$OUT_FILE")
	label=$(engine GET "/containers/json?all=1&filters=$(jq -rn --arg l "io.nexus.sandbox-id=$id" '{label: [$l]} | tojson | @uri')" | jq -r '.[0].Labels["io.nexus.name"]')
	listed=$(nexus sandbox list --json | jq -r --arg id "$id" '.sandboxes[] | select(.sandbox_id == $id) | .name')
	by_name=$(nexus sandbox status --json -- "$name" | jq -r .sandbox_id)
	is "$rc|$(jq -r .name "$OUT_FILE")|$label|$listed|$by_name" "0|$name|$name|$name|$id" "name kept verbatim in store, label and list, and found by name: $(name_of "$name")"
	nexus sandbox list | grep -qF -- "$id  $name"
	ok $? "the table shows it as it is: $(name_of "$name")"
	nexus sandbox stop "$id" >/dev/null
done
ok $([ ! -e "$WORK/pwned" ] && [ -e /etc/passwd ]; echo $?) "no name was run by a shell or used as a path"
run_cli nexus sandbox create agent-meta --agent-id '$(id); ../x "*"' --json
AG=$(jq -r .sandbox_id "$OUT_FILE")
is "$(nexus sandbox list --agent-id '$(id); ../x "*"' --json | jq -r '.sandboxes[].sandbox_id')" "$AG" "an agent id with metacharacters is stored and filtered on verbatim"
nexus sandbox stop $AG >/dev/null

# ---- list, status, pause, resume, stop ----------------------------------------
for filter in "--agent-id=' OR 1=1 --" "--user-id=%" "--agent-id=%" "--tenant-id=*" "--user-id=" $'--agent-id=\n'; do
	before=$(state)
	run_cli nexus sandbox list "$filter" --json
	is "$rc|$(jq -c . "$OUT_FILE")|$(state)" "0|{\"sandboxes\":[]}|$before" "list $(name_of "$filter") matches nothing, as a plain string"
done
fails 2 "unexpected argument 'x' (see 'nexus sandbox list --help')" $N sandbox list x
fails 2 "option '--user-id' needs a value (see 'nexus sandbox list --help')" $N sandbox list --user-id
fails 2 "option '--verify' takes no value (see 'nexus sandbox list --help')" $N sandbox list --verify=yes
for cmd in status pause resume stop; do
	fails 2 "missing sandbox id or name (see 'nexus sandbox $cmd --help')" $N sandbox $cmd
	fails 2 "unexpected argument 'extra' (see 'nexus sandbox $cmd --help')" $N sandbox $cmd $SB extra
	fails 2 "option '--json' takes no value (see 'nexus sandbox $cmd --help')" $N sandbox $cmd $SB --json=1
	fails 1 "sandbox 'x' OR '1'='1' not found (see 'nexus sandbox list')" $N sandbox $cmd "x' OR '1'='1"
	fails 1 "sandbox '$(long 21 z)' not found (see 'nexus sandbox list')" $N sandbox $cmd "$(long 21 z)"
	fails 1 "name 'twin' matches 2 sandboxes; use a sandbox id (see 'nexus sandbox list')" $N sandbox $cmd twin
done
fails 2 "unknown option '-v' (see 'nexus sandbox stop --help')" $N sandbox stop $SB -v
fails 1 "sandbox '\xff\xfe' not found (see 'nexus sandbox list')" $N sandbox status $'\xff\xfe'

# ---- runtime -------------------------------------------------------------------
for lang in bogus ../python 'python ' ''; do
	fails 2 "unknown runtime '$lang'; use default, python, javascript or bash" $N runtime build "$lang"
done
fails 2 "unknown runtime 'x'; use default, python, javascript or bash" $N runtime build python x
fails 2 "option '--mirror' needs a value (see 'nexus runtime build --help')" $N runtime build --mirror
fails 2 "unknown option '--json' (see 'nexus runtime build --help')" $N runtime build --json
fails 2 "unexpected argument 'python' (see 'nexus runtime list --help')" $N runtime list python
fails 2 "option '--json' takes no value (see 'nexus runtime list --help')" $N runtime list --json=1

# ---- admin key -----------------------------------------------------------------
for user in "" $'a\nb' $'c1\xc2\x9b' "$(long 129)"; do
	fails 2 "a key's user must be 1 to 128 bytes of printable UTF-8" $N admin key create --user "$user"
done
fails 2 "a key's tenant must be 1 to 128 bytes of printable UTF-8" $N admin key create --user u --tenant ''
fails 2 "a key's agent must be 1 to 128 bytes of printable UTF-8" $N admin key create --user u --agent $'\e'
fails 2 "unexpected argument 'extra' (see 'nexus admin key --help')" $N admin key create --user u extra
fails 2 "option '--admin' takes no value (see 'nexus admin key --help')" $N admin key create --user u --admin=yes
fails 2 "option '--user' needs a value (see 'nexus admin key --help')" $N admin key create --user
fails 2 "missing key id (see 'nexus admin key --help')" $N admin key revoke
fails 2 "unexpected argument 'b' (see 'nexus admin key --help')" $N admin key revoke a b
fails 1 "no API key 'x' OR '1'='1' (see 'nexus admin key list')" $N admin key revoke "x' OR '1'='1"
fails 2 "unexpected argument 'x' (see 'nexus admin key --help')" $N admin key list x

# ---- serve's options -------------------------------------------------------------
for port in '' 0 -1 65536 abc 80x 99999999999999999999 ' 80'; do
	fails 2 "--port must be a port number from 1 to 65535, not '$port'" $N serve --port "$port"
done
fails 2 "option '--port' needs a value (see 'nexus serve --help')" $N serve --port
fails 2 "option '--h' is ambiguous: write it out (see 'nexus serve --help')" $N serve --h x
fails 2 "option '--insecure' takes no value (see 'nexus serve --help')" $N serve --insecure=yes
fails 2 "unexpected argument 'now' (see 'nexus serve --help')" $N serve now
fails 2 "refusing to serve on 192.0.2.1 with no API keys: anyone who reaches it would act as admin; create a key with 'nexus admin key create --user USER', or pass --insecure" $N serve --host 192.0.2.1 --port 1
fails 1 "cannot listen on 192.0.2.1 port 1: Failed to bind to port 1: Cannot assign requested address" $N serve --host 192.0.2.1 --port 1 --insecure
before=$(state)
run_cli timeout 30 "$N" serve --host 'no such host.invalid' --port 1
is "$rc|$(wc -l <"$ERR_FILE")|$(wc -c <"$OUT_FILE")|$(state)" "2|1|0|$before" "serve: a host that does not resolve is one line, exit 2"
like "$err" "^Error: cannot use --host 'no such host.invalid': " "and names the host"

# ---- the HTTP API --------------------------------------------------------------
start_server
# api METHOD PATH [CURL-ARGS...]: the status in $code, the body in $BODY_FILE.
BODY_FILE="$WORK/body"
api() {
	local method=$1 path=$2
	shift 2
	code=$(curl -s -o "$BODY_FILE" -w '%{http_code}' -X "$method" "$@" "$URL$path")
}
# refuses WANT-CODE WANT-KIND WANT-MESSAGE METHOD PATH [BODY]: the error
# body, exactly, and nothing changed.
refuses() {
	local want_code=$1 kind=$2 msg=$3 method=$4 path=$5 before
	shift 5
	before=$(state)
	api "$method" "$path" ${1+--data-binary "$1"}
	is "$code|$(jq -c . "$BODY_FILE" 2>&1)|$(state)" \
		"$want_code|$(jq -cn --arg k "$kind" --arg m "$msg" '{error: {kind: $k, message: $m}}')|$before" \
		"refuses: $method $(name_of "$path" "${1-}")"
}
NAME_RULE="a sandbox name must be 1 to 128 bytes of printable UTF-8"
TTL_RULE="'ttl_minutes' must be a whole number from 1 to 10080"
not_json() { printf 'the request body is not one JSON value: %s (at byte %s)' "$1" "$2"; }
refuses 400 usage "$(not_json 'unexpected end of data' 8)" POST /v1/sandboxes '{"name":'
refuses 400 usage "$(not_json 'unexpected character' 8)" POST /v1/sandboxes "{'name':'x'}"
refuses 400 usage "$(not_json 'unexpected character' 13)" POST /v1/sandboxes '{"name":"x", }'
refuses 400 usage "$(not_json 'quoted object property name expected' 12)" POST /v1/sandboxes '{"name":"x",/**/"ttl_minutes":5}'
refuses 400 usage "$(not_json 'unexpected character' 13)" POST /v1/sandboxes '{"name":"x"} {"name":"y"}'
refuses 400 usage "$(not_json 'unexpected character' 0)" POST /v1/sandboxes $'\xff{"name":"x"}'
refuses 400 usage "the request body must be a JSON object" POST /v1/sandboxes '[{"name":"x"}]'
refuses 400 usage "the request body must be a JSON object" POST /v1/sandboxes '"x"'
refuses 400 usage "the request body must be a JSON object" POST /v1/sandboxes 'null'
refuses 400 usage "the request body must be a JSON object" POST /v1/sandboxes '5'
refuses 400 usage "unknown field 'Name' in the request body" POST /v1/sandboxes '{"Name":"x"}'
refuses 400 usage "'name' must be a string" POST /v1/sandboxes '{"name":5}'
refuses 400 usage "'name' must be a string" POST /v1/sandboxes '{"name":["x"]}'
refuses 400 usage "'name' must not hold a NUL byte" POST /v1/sandboxes '{"name":"a\u0000b"}'
for body in '{}' '{"name":null}' '{"name":""}' '{"name":"a\nb"}' '{"name":"\u001b[31m"}' '{"name":"\u009b"}' $'{"name":"caf\xe9"}'; do
	refuses 400 usage "$NAME_RULE" POST /v1/sandboxes "$body"
done
for ttl in 0 -1 10081 99999999999999999999 -99999999999999999999 1e3 5.0 '"5"' true NaN; do
	refuses 400 usage "$TTL_RULE" POST /v1/sandboxes "{\"name\":\"x\",\"ttl_minutes\":$ttl}"
done
refuses 400 usage "'agent_id' must be a string" POST /v1/sandboxes '{"name":"x","agent_id":{}}'
refuses 400 usage "an agent id must be 1 to 128 bytes of printable UTF-8" POST /v1/sandboxes '{"name":"x","agent_id":"\t"}'
refuses 400 usage "'../x' is not a provider name (letters, digits, '-' and '_')" POST /v1/sandboxes '{"name":"x","provider":"../x"}'
refuses 400 usage "'code' must be a string" POST /v1/sandboxes/$SB/run '{"code":5}'
refuses 400 usage "'code' is required" POST /v1/sandboxes/$SB/run '{"code":null}'
refuses 400 usage "unknown field 'lang' in the request body" POST /v1/sandboxes/$SB/run '{"code":"1","lang":"bash"}'
refuses 400 usage "'language' must be a string" POST /v1/sandboxes/$SB/run '{"code":"1","language":1}'
refuses 400 usage "unknown language 'ruby\n'; use python, javascript or bash" POST /v1/sandboxes/$SB/run '{"code":"1","language":"ruby\n"}'
for t in 0 86401 '"30"' 1.5 99999999999999999999; do
	refuses 400 usage "'timeout' must be a whole number from 1 to 86400" POST /v1/sandboxes/$SB/run "{\"code\":\"1\",\"timeout\":$t}"
done
refuses 400 usage "'max_output' must be a whole number from 1 to 1073741824" POST /v1/sandboxes/$SB/run '{"code":"1","max_output":0}'
refuses 400 usage "this request takes no body" POST /v1/sandboxes/$SB/pause '{}'
refuses 404 not_found "sandbox '\n\x1b[2J' not found (see 'nexus sandbox list')" GET '/v1/sandboxes/%0A%1B%5B2J'
refuses 404 not_found "sandbox '\xff' not found (see 'nexus sandbox list')" POST '/v1/sandboxes/%FF/run' '{"code":"1"}'
refuses 409 ambiguous "name 'twin' matches 2 sandboxes; use a sandbox id (see 'nexus sandbox list')" POST /v1/sandboxes/twin/stop
is "$(grep -c '^nexus serve: GET /v1/sandboxes/\\n\\x1b\[2J 404 ' "$SERVER_LOG")" 1 "a path with control characters is one escaped line of the server's log"

# Non-UTF-8 code in a body runs byte for byte; non-UTF-8 output is valid JSON.
api POST /v1/sandboxes/$SB/run --data-binary $'{"code":"# -*- coding: latin-1 -*-\\nx = \\"caf\xe9\\"\\nprint(len(x), hex(ord(x[3])))"}'
is "$code|$(jq -c .stdout "$BODY_FILE")" '200|"4 0xe9\n"' "HTTP: latin-1 code in the body reaches Python byte for byte"
api POST /v1/sandboxes/$SB/run --data-binary '{"language":"bash","code":"printf '"'"'\\377a\\000'"'"'"}'
is "$code|$(jq -c '[.stdout, .stdout_base64]' "$BODY_FILE")" '200|["�a\u0000","/2EA"]' "HTTP: output that is not UTF-8 is valid JSON, exact in stdout_base64"
# The remote CLI sends 10 MiB of code as the local one does.
NEXUS_URL=$URL run_cli "$N" sandbox run $SB -l bash -f "$WORK/big.sh" --timeout 120
is "$rc|$out" "0|$want" "10 MiB of code through nexus serve arrives whole"
NEXUS_URL=$URL fails 1 "sandbox 'a\nb' not found (see 'nexus sandbox list')" $N sandbox status $'a\nb'
stop_server

for id in $(nexus sandbox list --json | jq -r '.sandboxes[] | select(.name == "twin") | .sandbox_id'); do
	nexus sandbox stop $id >/dev/null
done
nexus sandbox stop $SB >/dev/null
is "$(containers)" 0 "no container is left behind"

tap_done
