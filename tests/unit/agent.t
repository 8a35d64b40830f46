# agent.t - nexus-agent run, on the host without Docker: frames, exit
# codes, streaming, timeout and output cap, bad requests, a host that goes
# away, and that a timeout leaves no process behind however it hid
# (setsid, double fork, nohup, fork loop).
#
# Each case is a directory under $TMP/cases; one python3 driver runs them
# all at once (their timeouts overlap, so the file takes a few seconds),
# then the checks below read what each run's frames said.
. "$top_srcdir/tests/lib/tap.sh"

AGENT=$top_builddir/nexus-agent
[ -x "$AGENT" ] || bail "$AGENT not built"
command -v python3 >/dev/null || skip_all "python3 is needed to build and decode frames"

TMP=$(mktemp -d)
# Leftover processes are found by this marker, unique to this test run:
# every process a case leaves behind on purpose runs "sleep 97$$N".
M=97$$
cleanup() {
	for pid in $(pgrep -f "sleep $M" 2>/dev/null); do
		kill -9 "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

# The driver: for each case, start the agent, write the request, decode
# the frames as they arrive, and write one "key value" line per fact.
cat >"$TMP/run.py" <<'EOF'
import os, struct, subprocess, sys, threading, time

agent, casedir, filters = sys.argv[1], sys.argv[2], sys.argv[3]

def read_exact(f, n):
    b = b""
    while len(b) < n:
        c = f.read1(n - len(b))
        if not c:
            return None
        b += c
    return b

def run_case(name):
    d = os.path.join(casedir, name)
    arg = lambda k: open(os.path.join(d, k)).read().strip()
    opts = arg("opts").split()
    body = open(os.path.join(d, "code"), "rb").read()
    request = body if "raw" in opts else struct.pack(">BI", 1, len(body)) + body
    env = dict(os.environ)
    if "no-path" in opts:
        env["PATH"] = "/nonexistent"
    lines = []
    t0 = time.monotonic()
    p = subprocess.Popen([agent, "run", "--language", arg("lang"),
                          "--timeout", arg("timeout"),
                          "--max-output", arg("maxout"),
                          "--seccomp-dir",
                          "/nonexistent" if "no-filter" in opts else filters],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, env=env)
    try:
        p.stdin.write(request)
        p.stdin.flush()
        if "close-stdin" in opts:
            p.stdin.close()
    except BrokenPipeError:
        pass  # the agent may refuse its arguments before reading
    if "close-after-hello" in opts:
        read_exact(p.stdout, 9)
        p.stdout.close()
    else:
        data = {0x81: b"", 0x82: b""}
        first, order = None, []
        while True:
            h = read_exact(p.stdout, 5)
            if h is None:
                break
            t, n = struct.unpack(">BI", h)
            payload = read_exact(p.stdout, n) if n else b""
            if payload is None:
                lines.append("truncated %d" % t)
                break
            order.append("%02x" % t)
            if t == 0x80:
                lines.append("hello %d" % struct.unpack(">I", payload))
            elif t in data:
                first = first or time.monotonic()
                data[t] += payload
            elif t == 0x83:
                lines.append("error " + payload.decode())
            elif t == 0x84:
                r, v, e = struct.unpack(">BIQ", payload)
                lines.append("exit %d %d" % (r, v))
        for t, key in ((0x81, "stdout"), (0x82, "stderr")):
            lines.append("%s %r" % (key, data[t].decode(errors="replace")))
            lines.append("%s_len %d" % (key, len(data[t])))
        lines.append("order " + " ".join(order))
        if first:
            lines.append("first_data_ms %d" % ((first - t0) * 1000))
    lines.append("total_ms %d" % ((time.monotonic() - t0) * 1000))
    try:
        p.wait(timeout=20)
        lines.append("status %d" % p.returncode)
    except subprocess.TimeoutExpired:
        p.kill()
        lines.append("status hung")
    with open(os.path.join(d, "out"), "w") as f:
        f.write("\n".join(lines) + "\n")

threads = [threading.Thread(target=run_case, args=(n,))
           for n in sorted(os.listdir(casedir))]
for t in threads:
    t.start()
for t in threads:
    t.join()
EOF

# case NAME LANG TIMEOUT MAXOUT CODE [OPTS...]
# OPTS: raw (CODE is the whole request, printf escapes), close-stdin,
# close-after-hello, no-path (PATH without the interpreter), no-filter
# (--seccomp-dir without the language's filter; the others get the build
# tree's seccomp/).
case_() {
	d=$TMP/cases/$1
	mkdir -p "$d"
	printf '%s\n' "$2" >"$d/lang"
	printf '%s\n' "$3" >"$d/timeout"
	printf '%s\n' "$4" >"$d/maxout"
	shift 4
	code=$1
	shift
	printf '%s\n' "$*" >"$d/opts"
	case " $* " in
	*" raw "*) printf "$code" >"$d/code" ;;
	*) printf '%s' "$code" >"$d/code" ;;
	esac
}
# field CASE KEY: the value the driver wrote
field() { sed -n "s/^$2 //p" "$TMP/cases/$1/out" 2>/dev/null | head -n 1; }
lt() { [ -n "$1" ] && [ "$1" -lt "$2" ]; echo $?; }

# Reasons, as in src/agent/protocol.h.
EXITED=0 SIGNALED=1 TIMEOUT=2 OUTPUT_LIMIT=3 AGENT_FAILURE=4
HAVE_NODE=0
command -v node >/dev/null && HAVE_NODE=1

# ---- the cases ---------------------------------------------------------------
case_ py python 10 100000 'import sys
print("to stdout")
print("to stderr", file=sys.stderr)
sys.exit(3)'
case_ sh bash 10 100000 'echo "$((6 * 7))"; echo oops >&2; exit 0'
case_ sig bash 10 100000 'echo before; kill -KILL $$'
case_ stdin bash 10 100000 'read -r line; echo "read rc $?"'
case_ pypath python 10 100000 'import os, sys
print(os.path.realpath(sys.path[0] or ".") == os.path.realpath("."))'
[ $HAVE_NODE = 1 ] && case_ js javascript 10 100000 \
	'console.log("js", [1, 2, 3].map(x => x * 2).join(","));
console.error("warn"); process.exit(4)'
case_ nointerp python 10 100000 'print(1)' no-path
case_ stream python 10 100000 'import time
print("first")
time.sleep(2)
print("second")'
case_ timeout bash 1 100000 "setsid sleep ${M}1 &
( ( sleep ${M}2 & ) & )
nohup sleep ${M}3 >/dev/null 2>&1 &
echo started
sleep 30"
case_ forkloop bash 1 100000 "f() { sleep ${M}4 & f & wait; }; f"
case_ background bash 10 100000 "sleep ${M}5 & echo done"
case_ capout python 10 1000 'import sys, time
sys.stdout.write("x" * 100000)
sys.stdout.flush()
time.sleep(30)'
case_ caperr python 10 1000 'import sys; sys.stderr.write("e" * 5000)'
case_ capexact python 10 10 'print("123456789", end="")'
case_ badtype python 10 100 '\002\000\000\000\001x' raw
case_ huge python 10 100 '\001\377\377\377\377' raw
case_ short python 10 100 '\001\000\000\000\100print(1)' raw close-stdin
case_ badtimeout python 0 100 'print(1)'
case_ badlang cobol 10 100 'print(1)'
case_ sigterm bash 10 100000 'kill -TERM $PPID; sleep 0.2; echo still here'
case_ hostgone bash 30 100000 "sleep ${M}6" close-after-hello
case_ nofilter python 10 100000 'print(1)' no-filter
case_ filtered python 10 100000 'import ctypes, resource
print(open("/proc/self/status").read())
print("cpu", resource.getrlimit(resource.RLIMIT_CPU))
print("fsize", resource.getrlimit(resource.RLIMIT_FSIZE))
print("nofile", resource.getrlimit(resource.RLIMIT_NOFILE))
print("keyctl", ctypes.CDLL(None).syscall(250, 0, 0, 0, 0))'

python3 "$TMP/run.py" "$AGENT" "$TMP/cases" "$top_builddir/seccomp" || bail "the driver failed"
# Give the kernel a moment to finish the SIGKILLs before looking.
sleep 0.3

# ---- output, exit codes --------------------------------------------------------
is "$(field py hello)" 1 "python: hello with protocol version 1"
is "$(field py stdout)" "'to stdout\\n'" "python: stdout relayed"
is "$(field py stderr)" "'to stderr\\n'" "python: stderr kept apart"
is "$(field py exit)" "$EXITED 3" "python: exit status 3"
is "$(field py status)" 0 "agent exits 0 after delivering EXIT"
like "$(field py order)" '^80 .*84$' "hello first, exit last"

is "$(field sh stdout)" "'42\\n'" "bash: stdout"
is "$(field sh stderr)" "'oops\\n'" "bash: stderr"
is "$(field sh exit)" "$EXITED 0" "bash: exit 0"
is "$(field sig exit)" "$SIGNALED 9" "bash: killed by SIGKILL: reason signal, value 9"
is "$(field stdin stdout)" "'read rc 1\\n'" "bash: stdin is empty (/dev/null)"
is "$(field pypath stdout)" "'True\\n'" "python: the working directory is on the import path"

if [ $HAVE_NODE = 1 ]; then
	is "$(field js stdout)" "'js 2,4,6\\n'" "javascript: stdout"
	is "$(field js stderr)" "'warn\\n'" "javascript: stderr"
	is "$(field js exit)" "$EXITED 4" "javascript: exit status 4"
else
	for i in 1 2 3; do echo "ok - # SKIP node not installed"; done
fi

is "$(field nointerp exit)" "$AGENT_FAILURE 0" "missing interpreter: agent failure"
like "$(field nointerp error)" '^python3 is not installed' \
	"missing interpreter: the error says which"

# ---- streaming ---------------------------------------------------------------
first=$(field stream first_data_ms) total=$(field stream total_ms)
ok "$(lt "$first" $((total - 1000)))" \
	"output streams: first chunk after ${first}ms, end after ${total}ms"
is "$(field stream stdout)" "'first\\nsecond\\n'" "streamed output complete"

# ---- timeout: nothing survives -----------------------------------------------
is "$(field timeout exit)" "$TIMEOUT 0" "timeout: reason timeout"
is "$(field timeout stdout)" "'started\\n'" "timeout: output before it is kept"
ok "$(lt "$(field timeout total_ms)" 5000)" \
	"timeout: over in $(field timeout total_ms)ms"
is "$(pgrep -f "sleep ${M}[123]" | tr '\n' ' ')" "" \
	"timeout: setsid, double-forked and nohup children are gone"
is "$(field forkloop exit)" "$TIMEOUT 0" "fork loop: reason timeout"
is "$(pgrep -f "sleep ${M}4" | tr '\n' ' ')" "" "fork loop: nothing left"

# ---- a normal exit does not wait for background processes ---------------------
is "$(field background exit)" "$EXITED 0" "background child: program exit reported"
ok "$(lt "$(field background total_ms)" 5000)" \
	"background child holding the pipes does not hold the end ($(field background total_ms)ms)"
ok "$(pgrep -f "sleep ${M}5" >/dev/null; echo $?)" \
	"background child keeps running (documented)"

# ---- output cap ----------------------------------------------------------------
is "$(field capout exit)" "$OUTPUT_LIMIT 1" "output cap: reason output limit, stdout"
is "$(field capout stdout_len)" 1000 "output cap: exactly --max-output bytes relayed"
ok "$(lt "$(field capout total_ms)" 8000)" "output cap: run killed at once"
is "$(field caperr exit)" "$OUTPUT_LIMIT 2" "output cap on stderr: value 2"
is "$(field caperr stderr_len)" 1000 "output cap on stderr: 1000 bytes"
is "$(field capexact exit)" "$EXITED 0" "output of exactly the cap is not over it"

# ---- bad requests and arguments -----------------------------------------------
is "$(field badtype exit)" "$AGENT_FAILURE 0" "wrong frame type: agent failure"
like "$(field badtype error)" 'not a code frame' "wrong frame type: said so"
like "$(field huge error)" 'over the limit' "4 GiB code frame refused before reading it"
is "$(field huge status)" 0 "a refused request still ends with EXIT, status 0"
like "$(field short error)" 'request ended early' "short code frame refused, no hang"
like "$(field badtimeout error)" "invalid --timeout" "timeout 0 refused"
like "$(field badlang error)" "unknown language 'cobol'" "unknown language refused"
is "$(field badlang order)" "80 83 84" "usage errors: hello, error, exit"

is "$(field sigterm exit)" "$EXITED 0" "SIGTERM from the run's own code is ignored"
is "$(field sigterm stdout)" "'still here\\n'" "and the run goes on"

# ---- per-run hardening (the build tree's filters) ------------------------------
is "$(field nofilter exit)" "$AGENT_FAILURE 0" "no seccomp filter: agent failure"
like "$(field nofilter error)" 'the seccomp filter for python is missing: reinstall nexus' \
	"no seccomp filter: said so, and nothing ran"
st=$(field filtered stdout)
like "$st" 'Seccomp:\\t2' "the program runs under a seccomp filter"
like "$st" 'NoNewPrivs:\\t1' "no_new_privs is set"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	like "$st" "$c:\\\\t0000000000000000" "$c is empty"
done
like "$st" 'cpu \(12, 12\)' "RLIMIT_CPU is the timeout plus 2 s"
like "$st" 'fsize \(536870912, 536870912\)' "RLIMIT_FSIZE is 512 MiB"
like "$st" 'nofile \(1024, 1024\)' "RLIMIT_NOFILE is 1024"
is "$(field filtered exit)" "$SIGNALED 31" "keyctl kills the program: SIGSYS (31)"

# ---- the host goes away ----------------------------------------------------------
ok "$(lt "$(field hostgone total_ms)" 5000)" \
	"host gone: agent ends without waiting for the timeout"
is "$(field hostgone status)" 1 "host gone: agent exits 1 (no EXIT delivered)"
is "$(pgrep -f "sleep ${M}6" | tr '\n' ' ')" "" "host gone: the run is killed"

tap_done
