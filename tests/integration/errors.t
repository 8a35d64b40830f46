# errors.t - the contract's Error Handling examples, verbatim, and every
# bad input: a one-line error, a non-zero exit, nothing changed.
. "$top_srcdir/tests/integration/lib.sh"
need_docker default python

SANDBOX=$(nexus sandbox create errors --json | jq -r '.sandbox_id')

# ---- Handling Timeouts (verbatim) ----------------------------------------
start=$(date +%s)
run_cli nexus sandbox run $SANDBOX -c "
import time
time.sleep(100)
" --timeout 5
elapsed=$(( $(date +%s) - start ))
is "$err" "Error: Code execution exceeded 5 second timeout" "timeout: the contract's message"
is "$rc" 124 "timeout: exit status 124"
ok $([ "$elapsed" -lt 20 ]; echo $?) "timeout: returned after ${elapsed}s, not 100"

# Code that freezes the agent running it cannot hold the CLI hostage.
run_cli nexus sandbox run $SANDBOX -l bash -c 'kill -STOP $PPID; sleep 100' --timeout 2
is "$rc-$err" "124-Error: Code execution exceeded 2 second timeout" "a run that stops its own agent still times out"

# ---- Handling Execution Errors (verbatim) --------------------------------
RESULT=$(nexus sandbox run $SANDBOX -c "print(1/0)" --json)

EXIT_CODE=$(echo $RESULT | jq -r '.exit_code')
if [ "$EXIT_CODE" != "0" ]; then
    caught=$(echo $RESULT | jq -r '.stderr')
fi
is "$EXIT_CODE" 1 "execution error: exit_code 1"
like "$caught" 'ZeroDivisionError: division by zero' "execution error: the traceback is in stderr"

run_cli nexus sandbox run $SANDBOX -c "print(1/0)"
is "$rc" 1 "human mode exits with the program's status"
like "$err" 'ZeroDivisionError' "human mode streams stderr"
run_cli nexus sandbox run $SANDBOX -c "cat report.txt"
like "$err" 'SyntaxError' "python is the default language: shell syntax is a SyntaxError"
run_cli nexus sandbox run $SANDBOX -l bash -c "exit 7"
is "$rc" 7 "bash exit status passes through"
run_cli nexus sandbox run $SANDBOX -l javascript -c "process.exit(3)"
is "$rc" 3 "node exit status passes through"
run_cli nexus sandbox run $SANDBOX -l bash -c 'kill -TERM $$'
is "$rc" 143 "a program killed by a signal exits 128+signal"

# ---- bad input: one line on stderr, non-zero exit, nothing changed -------
before=$(store_snapshot)
bad() { # bad DESCRIPTION WANT-EXIT WANT-REGEX CMD...
	desc=$1 want_rc=$2 want=$3
	shift 3
	run_cli "$@"
	is "$rc" "$want_rc" "$desc: exit status"
	like "$err" "^Error: $want" "$desc: message"
	is "$(printf '%s\n' "$err" | wc -l)" 1 "$desc: one line"
}
bad "unknown sandbox" 125 "sandbox 'nosuchsandbox' not found" nexus sandbox run nosuchsandbox -c "print(1)"
bad "unknown sandbox status" 1 "sandbox 'abcdefghij0123456789z' not found" nexus sandbox status abcdefghij0123456789z
bad "unknown language" 125 "unknown language 'ruby'; use python, javascript or bash" nexus sandbox run $SANDBOX -l ruby -c "puts 1"
bad "both -c and -f" 125 "use either --code or --file, not both" nexus sandbox run $SANDBOX -c "print(1)" -f /etc/hostname
bad "neither -c nor -f" 125 "no code given" nexus sandbox run $SANDBOX
bad "unreadable file" 125 "cannot read '/nonexistent/x.py': No such file or directory" nexus sandbox run $SANDBOX -f /nonexistent/x.py
bad "file is a directory" 125 "cannot read '/tmp': it is a directory" nexus sandbox run $SANDBOX -f /tmp
for ttl in 0 -1 abc 1.5 "" 99999999999; do
	bad "ttl '$ttl'" 2 "--ttl must be a whole number of minutes from 1 to 10080, not '$ttl'" nexus sandbox create bad-ttl --ttl "$ttl"
done
bad "timeout 0" 125 "--timeout must be a whole number of seconds from 1 to 86400, not '0'" nexus sandbox run $SANDBOX -c "print(1)" --timeout 0
bad "unknown option" 2 "unknown option '--bogus'" nexus sandbox list --bogus
bad "missing value" 2 "option '--ttl' needs a value" nexus sandbox create x --ttl
bad "missing name" 2 "missing sandbox name" nexus sandbox create
bad "extra argument" 2 "unexpected argument 'extra'" nexus sandbox status $SANDBOX extra
bad "unknown command" 2 "unknown command 'sandbox explode'" nexus sandbox explode
bad "name with a newline" 2 "a sandbox name must be 1 to 128 bytes of printable UTF-8" nexus sandbox create "$(printf 'a\nb')"
bad "missing image" 1 "image 'nexus-no-such-image:1' not found in the local Docker engine" nexus sandbox create x --template nexus-no-such-image:1
bad "docker unreachable" 1 "cannot reach the Docker engine at /nonexistent/docker.sock" env DOCKER_HOST=unix:///nonexistent/docker.sock "$NEXUS_BIN" sandbox create x
bad "docker host not unix" 2 "DOCKER_HOST" env DOCKER_HOST=tcp://127.0.0.1:2375 "$NEXUS_BIN" sandbox create x
bad "a database URL that is not sqlite" 2 "NEXUS_DATABASE_URL must be sqlite:///PATH" env NEXUS_DATABASE_URL=postgresql://user:pass@localhost/nexus "$NEXUS_BIN" sandbox create x
bad "a server that is not there" 1 "cannot reach the nexus server at http://127.0.0.1:9: " env NEXUS_URL=http://127.0.0.1:9 "$NEXUS_BIN" sandbox create x
bad "a server URL that is not http" 2 "NEXUS_URL 'ftp://x' is not an http:// or https:// URL" env NEXUS_URL=ftp://x "$NEXUS_BIN" sandbox create x
is "$(store_snapshot)" "$before" "bad input changed nothing in the store"
run_cli env NEXUS_DATABASE_URL="sqlite://$NEXUS_DATA_DIR/other.db" "$NEXUS_BIN" sandbox list --json
is "$rc-$(printf '%s' "$out" | jq -c .sandboxes)" "0-[]" "a sqlite:/// NEXUS_DATABASE_URL names another store"
ok $([ -f "$NEXUS_DATA_DIR/other.db" ]; echo $?) "and nexus created it there"

# ---- state errors ----------------------------------------------------------
nexus sandbox pause $SANDBOX >/dev/null
bad "run on a paused sandbox" 125 "sandbox '$SANDBOX' is paused; resume it with 'nexus sandbox resume $SANDBOX'" nexus sandbox run $SANDBOX -c "print(1)"
bad "pause a paused sandbox" 1 "sandbox '$SANDBOX' is already paused" nexus sandbox pause $SANDBOX
nexus sandbox resume $SANDBOX >/dev/null
bad "resume an active sandbox" 1 "sandbox '$SANDBOX' is not paused" nexus sandbox resume $SANDBOX
nexus sandbox stop $SANDBOX >/dev/null
bad "run on a stopped sandbox" 125 "sandbox '$SANDBOX' is stopped; create a new one with 'nexus sandbox create'" nexus sandbox run $SANDBOX -c "print(1)"
bad "pause a stopped sandbox" 1 "sandbox '$SANDBOX' is stopped" nexus sandbox pause $SANDBOX
bad "resume a stopped sandbox" 1 "sandbox '$SANDBOX' is stopped" nexus sandbox resume $SANDBOX
run_cli nexus sandbox stop $SANDBOX --json
is "$rc" 0 "stopping a stopped sandbox succeeds"
is "$(printf '%s' "$out" | jq -r .status)" stopped "and reports it stopped"

# ---- a template without the language ---------------------------------------
PY=$(nexus sandbox create py-only --template python --json | jq -r .sandbox_id)
run_cli nexus sandbox run $PY -l javascript -c "console.log(1)"
is "$rc" 125 "javascript in the python runtime fails"
like "$err" "^Error: .*javascript.*" "and says javascript is not available"
run_cli nexus sandbox run $PY -c "import numpy, pandas, requests; print('libs ok')"
is "$out" "libs ok" "the python runtime has numpy, pandas and requests"
nexus sandbox stop $PY >/dev/null

# ---- names: ambiguous, with metacharacters ----------------------------------
A=$(nexus sandbox create 'twin $(touch /tmp/pwned) `x` ;|&' --json | jq -r .sandbox_id)
B=$(nexus sandbox create 'twin $(touch /tmp/pwned) `x` ;|&' --json | jq -r .sandbox_id)
bad "ambiguous name" 1 "name 'twin .*' matches 2 sandboxes; use a sandbox id" nexus sandbox status 'twin $(touch /tmp/pwned) `x` ;|&'
is "$(nexus sandbox status $A --json | jq -r .name)" 'twin $(touch /tmp/pwned) `x` ;|&' "names with shell metacharacters are kept verbatim"
ok $([ ! -e /tmp/pwned ]; echo $?) "and never run"
nexus sandbox stop $A >/dev/null
run_cli nexus sandbox status 'twin $(touch /tmp/pwned) `x` ;|&' --json
is "$(printf '%s' "$out" | jq -r .sandbox_id)" "$B" "once one is stopped the name means the live one"
nexus sandbox stop $B >/dev/null

tap_done
