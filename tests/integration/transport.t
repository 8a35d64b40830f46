# transport.t - the two ways a run reaches the agent (docs/protocol.md,
# "Transports"): the run socket, and docker exec.  Every other integration
# file runs with NEXUS_RUN_TRANSPORT=socket (lib.sh), and the *-exec.t
# files run them again by exec; this one checks the choice itself, and
# that code in a sandbox cannot turn the socket against the host.
. "$top_srcdir/tests/integration/lib.sh"
need_docker python

fresh() { nexus sandbox create "$1" --template python --json | jq -r .sandbox_id; }
by() { # by TRANSPORT ID CODE...: run, results in $out $err $rc
	local t=$1 id=$2
	shift 2
	rc=0
	NEXUS_RUN_TRANSPORT=$t "$NEXUS_BIN" sandbox run "$id" "$@" \
		>"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
	out=$(cat "$OUT_FILE")
	err=$(cat "$ERR_FILE")
}

# ---- both transports give the same answer -----------------------------------
A=$(fresh transport-a)
for t in socket exec auto; do
	by $t $A -c 'import os, sys; print(os.getcwd(), os.getuid()); sys.exit(3)'
	is "$rc/$out" "3//home/user 1000" "$t: output, working directory, user and exit code"
done
by socket $A -l bash -c 'grep -E "^(NoNewPrivs|Seccomp|CapEff|CapBnd):" /proc/self/status | tr -s "\t" " "'
is "$out" "CapEff: 0000000000000000
CapBnd: 0000000000000000
NoNewPrivs: 1
Seccomp: 2" "socket: the program has no capabilities, no_new_privs and the seccomp filter"
by socket $A -l bash --timeout 2 -c 'setsid sleep 1011 & sleep 1012'
is "$rc" 124 "socket: a timeout is reported"
procs_in() { engine GET "/containers/nexus-$1/top?ps_args=-eo%20pid,args" | jq -r '.Processes[] | .[1]'; }
left=$(procs_in $A | grep -c 'sleep 101[12]')
is "$left" 0 "socket: a timeout leaves no process behind"

NEXUS_RUN_TRANSPORT=bogus "$NEXUS_BIN" sandbox run $A -c 'print(1)' >"$OUT_FILE" 2>"$ERR_FILE"
is "$?" 125 "an unknown NEXUS_RUN_TRANSPORT is an error"
is "$(cat "$ERR_FILE")" "Error: NEXUS_RUN_TRANSPORT is 'bogus'; use auto, socket or exec" "and says what to use"

# ---- the host hanging up kills the run --------------------------------------
NEXUS_RUN_TRANSPORT=socket "$NEXUS_BIN" sandbox run $A -l bash -c 'sleep 1021' >/dev/null 2>&1 &
cli=$!
sleep 2
is "$(procs_in $A | grep -c 'sleep 1021')" 1 "a run is going on"
kill -9 $cli
wait $cli 2>/dev/null
sleep 1
left=$(procs_in $A | grep -c 'sleep 1021')
is "$left" 0 "a run whose nexus was killed is killed too"

# ---- code in the sandbox cannot use the socket itself ------------------------
by socket $A -c '
import socket, struct
s = socket.socket(socket.AF_UNIX)
s.connect("/.nexus/run/agent.sock")
args = b"--language\0bash\0--timeout\0" b"5\0--max-output\0" b"100\0"
code = b"echo pwned"
# init may hang up before the request is even written: any of these ends
# the same way, with not one byte of an answer.
try:
    s.sendall(b"\x02" + struct.pack(">I", len(args)) + args +
              b"\x01" + struct.pack(">I", len(code)) + code)
    print(len(s.recv(100)))
except (BrokenPipeError, ConnectionResetError):
    print(0)'
is "$out" "0" "init hangs up on a connection from inside the sandbox, unanswered"

# ---- a socket the code removed, replaced or faked ----------------------------
# sabotage NAME LANG CODE ERROR-REGEX WHAT: CODE, in a fresh sandbox, does
# something to the socket; a socket-only run must then fail and say why,
# and an auto run must go by exec.  Leaves the sandbox's id in $SABOTAGED.
sabotage() {
	SABOTAGED=$(fresh "$1")
	by auto $SABOTAGED -l "$2" -c "$3"
	by socket $SABOTAGED -c 'print(1)'
	is "$rc" 125 "socket: $5 is refused"
	like "$err" "^Error: cannot use the run socket \(NEXUS_RUN_TRANSPORT=socket\): $4" "and says why ($5)"
	by auto $SABOTAGED -c 'print(1)'
	is "$rc/$out" "0/1" "auto: the run goes by exec instead ($5)"
}

sabotage transport-b bash 'rm /.nexus/run/agent.sock' \
	"cannot open /.nexus/run/agent.sock in the sandbox: No such file or directory$" \
	"a removed socket"
sabotage transport-c bash 'rm /.nexus/run/agent.sock; ln -s /var/run/docker.sock /.nexus/run/agent.sock' \
	"/.nexus/run/agent.sock in the sandbox is not a socket$" \
	"a symlink in the socket's place, not followed,"
sabotage transport-d python '
import os, socket, subprocess, time
os.unlink("/.nexus/run/agent.sock")
server = """
import socket
s = socket.socket(socket.AF_UNIX)
s.bind("/.nexus/run/agent.sock")
s.listen()
open("/tmp/ready", "w").close()
c, _ = s.accept()
open("/tmp/got", "wb").write(c.recv(4096))
"""
subprocess.Popen(["python3", "-c", server], start_new_session=True,
                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while not os.path.exists("/tmp/ready"):
    time.sleep(0.05)' \
	"/.nexus/run/agent.sock in the sandbox is held by pid [0-9]+, not by its agent \(pid [0-9]+\)$" \
	"a listener the code bound in the agent's place"
sleep 0.5
by exec $SABOTAGED -l bash -c 'wc -c < /tmp/got'
is "$out" "0" "the fake agent got not one byte of the request"

# ---- a sandbox paused behind nexus's back -----------------------------------
engine POST "/containers/nexus-$A/pause" >/dev/null
start=$(date +%s)
by auto $A -c 'print(1)'
is "$rc" 125 "a run in a sandbox paused behind nexus's back fails"
is "$err" "Error: the sandbox is paused" "and says why"
ok $([ $(( $(date +%s) - start )) -lt 5 ]; echo $?) "at once, not at the timeout"
engine POST "/containers/nexus-$A/unpause" >/dev/null
by socket $A -c 'print(2)'
is "$rc/$out" "0/2" "after unpause the socket works again"

tap_done
