# attacks.t - the attack suite (docs/security.md).  Every payload in
# tests/security/payloads/ runs in sandbox A under the isolation in
# NEXUS_ISOLATION (runc unless set; attacks-gvisor.t sets gvisor), and must
# end exactly as its header says:
#
#   # what: the attack, for the results table
#   # options: options of "nexus sandbox run" (--timeout, --max-output...)
#   # expect: ERE matched against "rc=EXIT LAST-LINE-OF-STDOUT"
#   # expect-runc: / # expect-gvisor: the same, for one isolation only
#   # expect-json: for --json payloads, the exact [exit_code, stdout, stderr]
#   # sandbox: own    the payload gets a sandbox of its own, stopped after
#                     (bombs, whose aftermath under gVisor may end the
#                     sandbox many seconds later)
#
# (// instead of # in JavaScript).  Python payloads run after _prelude.py.
# After each payload: nothing of a run that timed out is left in A; a
# neighbour sandbox B still has its file and runs code; the store is
# intact and still holds both rows; a canary file on the host is
# unchanged and nothing appeared in the host's root.  With
# NEXUS_ATTACK_RESULTS=FILE, one tab-separated line per payload goes there
# (payload, language, what, outcome) for the table in docs/security.md.
. "$top_srcdir/tests/integration/lib.sh"
need_docker default python javascript bash

ISOLATION=${NEXUS_ISOLATION:-runc}
PAYLOADS="$top_srcdir/tests/security/payloads"
diag "isolation: $ISOLATION, run transport: $NEXUS_RUN_TRANSPORT"

CANARY=$(mktemp "${TMPDIR:-/tmp}/nexus-canary.XXXXXX")
head -c 64 /dev/urandom | od -An -tx1 >"$CANARY"
canary_sum=$(sha256sum <"$CANARY")
host_root_before=$(ls -A /)
trap 'rm -f "$CANARY"; cleanup_sandboxes' EXIT

new_sandbox() { nexus sandbox create "$1" --json | jq -r .sandbox_id; }
A=$(new_sandbox attacked)
B=$(new_sandbox neighbour)
TOKEN=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
nexus sandbox run "$B" -l bash -c "echo $TOKEN > ~/marker" >/dev/null ||
	bail "cannot prepare the neighbour sandbox"

# header FILE KEY: the value of "# KEY: " (or "// KEY: ") in FILE.
header() { sed -n -E "s,^(#|//) $2: ,,p" "$1" | head -n 1; }

language_of() {
	case "$1" in
	*.py) echo python ;;
	*.js) echo javascript ;;
	*.sh) echo bash ;;
	esac
}

# The processes left in A, but for the agents and the one asking.
survivors() {
	nexus sandbox run "$A" --timeout 20 -c '
import os
me = str(os.getpid())
for p in os.listdir("/proc"):
    if not p.isdigit() or p == me:
        continue
    try:
        cmd = open("/proc/%s/cmdline" % p, "rb").read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        continue
    if cmd and "nexus-agent" not in cmd:
        print(cmd)
' 2>&1
}

attacked_alive() {
	[ "$(nexus sandbox status "$A" --verify --json 2>/dev/null | jq -r .status)" = active ]
}

# After a payload, A must take runs again (gVisor's kernel takes seconds
# to clear away a fork bomb).  Under gVisor it may instead have ended (a
# memory bomb kills the sandbox's kernel, docs/security.md); under runc
# that is a failure.  Either way the next payload gets a new sandbox.
attacked_recovers() { # attacked_recovers NAME
	for _ in $(seq 60); do
		attacked_alive || break
		[ "$(nexus sandbox run "$A" -l bash -c 'echo ready' 2>/dev/null)" = ready ] &&
			return 0
		sleep 1
	done
	if attacked_alive; then
		ok 1 "$1: its sandbox takes runs again within a minute"
	elif [ "$ISOLATION" = gvisor ]; then
		diag "$1 ended its sandbox; the next payload runs in a new one"
	else
		ok 1 "$1: its sandbox survives it"
	fi
	A=$(new_sandbox attacked)
	return 1
}

check_aftermath() { # check_aftermath NAME RC
	if attacked_recovers "$1" && [ "$2" = 124 ]; then
		is "$(survivors)" "" "$1: nothing of the timed-out run is left in its sandbox"
	fi
	is "$(nexus sandbox run "$B" -l bash -c 'cat ~/marker' 2>&1)" "$TOKEN" \
		"$1: the neighbour sandbox keeps its file and runs code"
	is "$(python3 - "$NEXUS_DATA_DIR/nexus.db" "$B" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("PRAGMA integrity_check").fetchone()[0],
      db.execute("SELECT status FROM sandboxes WHERE sandbox_id = ?", (sys.argv[2],)).fetchone()[0])
PY
)" "ok active" "$1: the store is intact and the neighbour's row unchanged"
	is "$(sha256sum <"$CANARY") $(ls -A /)" "$canary_sum $host_root_before" \
		"$1: the host's canary and root directory are untouched"
}

results() { [ -n "${NEXUS_ATTACK_RESULTS:-}" ] && printf '%s\t%s\t%s\t%s\n' "$@" >>"$NEXUS_ATTACK_RESULTS"; :; }

count=0
for file in "$PAYLOADS"/*.py "$PAYLOADS"/*.js "$PAYLOADS"/*.sh; do
	name=$(basename "$file")
	case "$name" in _*) continue ;; esac
	lang=$(language_of "$name")
	what=$(header "$file" what)
	# shellcheck disable=SC2046
	set -- $(header "$file" options)
	code="$NEXUS_DATA_DIR/payload"
	if [ "$lang" = python ]; then
		cat "$PAYLOADS/_prelude.py" "$file" >"$code"
	else
		cp "$file" "$code"
	fi
	shared=$A
	[ "$(header "$file" sandbox)" = own ] && A=$(new_sandbox "$name")
	run_cli nexus sandbox run "$A" -l "$lang" "$@" --file "$code"
	count=$((count + 1))
	want_json=$(header "$file" expect-json)
	if [ -n "$want_json" ]; then
		got=$(printf '%s' "$out" | jq -c '[.exit_code, .stdout, .stderr]' 2>&1)
		is "$got" "$want_json" "$name: $what"
		outcome="JSON exact, exit_code $(printf '%s' "$out" | jq .exit_code 2>/dev/null)"
	else
		want=$(header "$file" "expect-$ISOLATION")
		[ -n "$want" ] || want=$(header "$file" expect)
		[ -n "$want" ] || bail "$name has no expectation for $ISOLATION"
		got="rc=$rc $(printf '%s\n' "$out" | grep -v '^$' | tail -n 1)"
		got=${got% }
		like "$got" "$want" "$name: $what"
		printf '%s' "$got" | grep -Eq -- "$want" ||
			printf '%s\n' "$err" | tail -n 3 | sed 's/^/#   stderr: /'
		outcome=$got
	fi
	results "$name" "$lang" "$what" "$outcome"
	check_aftermath "$name" "$rc"
	if [ "$A" != "$shared" ]; then
		nexus sandbox stop "$A" >/dev/null 2>&1
		A=$shared
	fi
done
ok $([ "$count" -ge 30 ]; echo $?) "at least 30 payloads ran ($count)"

tap_done
