# isolation.t - create --isolation: runc by name, gVisor's runsc when the
# engine has it (what the container is told and what the code meets), and
# one-line refusals that change nothing: an unknown value, an engine
# without runsc, a provider with no choice to make.
. "$top_srcdir/tests/integration/lib.sh"
need_docker default

runtime_of() { engine GET "/containers/nexus-$1/json" | jq -r .HostConfig.Runtime; }
one_line_error() { # one_line_error DESCRIPTION WANT-ERE
	is "$rc $(printf '%s\n' "$err" | wc -l) $out" "2 1 " "$1: exit 2, one line, nothing on stdout"
	like "$err" "$2" "$1: the message says what is wrong"
}

# ---- runc, named explicitly ----------------------------------------------------
R=$(NEXUS_ISOLATION= nexus sandbox create by-default --json | jq -r .sandbox_id)
is "$(runtime_of "$R")" runc "the default is runc, named in the container's HostConfig"
R2=$(nexus sandbox create by-name --isolation runc --json | jq -r .sandbox_id)
is "$(runtime_of "$R2")" runc "--isolation runc"
is "$(engine GET "/containers/nexus-$R2/json" | jq -r '.Config.Labels["io.nexus.runtime"]')" runc \
	"labelled with its runtime"

# ---- refusals: one line, nothing made -------------------------------------------
before=$(store_snapshot)
containers_before=$(engine GET '/containers/json?all=1' | jq length)
run_cli nexus sandbox create bad --isolation kvm
one_line_error "--isolation kvm" "^Error: unknown isolation 'kvm'; use runc or gvisor$"
run_cli env NEXUS_ISOLATION=vm "$NEXUS_BIN" sandbox create bad
one_line_error "NEXUS_ISOLATION=vm" "^Error: NEXUS_ISOLATION is 'vm'; use runc or gvisor$"
run_cli nexus sandbox create bad --isolation "$(printf 'run\033c')"
one_line_error "an isolation with a control character" "unknown isolation '\(unprintable\)'"
# The plugin refuses before it makes any call (port 9 on loopback: discard).
run_cli env E2B_API_KEY=e2b_unused E2B_API_URL=http://127.0.0.1:9 \
	"$NEXUS_BIN" sandbox create bad --provider e2b --isolation gvisor
one_line_error "e2b with --isolation" "e2b provider has no isolation choice"
is "$(store_snapshot)" "$before" "no refusal wrote a row"
is "$(engine GET '/containers/json?all=1' | jq length)" "$containers_before" "and none made a container"

# ---- an engine without runsc: a fake one that answers what create asks first --
FAKE_SOCK="$NEXUS_DATA_DIR/fake-docker.sock"
python3 - "$FAKE_SOCK" <<'PY' &
import http.server, json, socketserver, sys

class Engine(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Api-Version", "1.41")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path.endswith("/_ping"):
            self.reply(200, "OK")
        elif path.endswith("/info"):
            self.reply(200, {"Runtimes": {"runc": {"path": "runc"}}, "DefaultRuntime": "runc"})
        elif "/images/" in path:
            self.reply(200, {"Id": "sha256:" + "0" * 64})
        else:
            self.reply(404, {"message": "the fake engine has no " + path})

    def do_POST(self):
        self.reply(500, {"message": "the fake engine makes nothing"})

    def log_message(self, *args):
        pass

class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        conn, _ = super().get_request()
        return conn, ("fake", 0)

Server(sys.argv[1], Engine).serve_forever()
PY
FAKE_PID=$!
for _ in $(seq 50); do [ -S "$FAKE_SOCK" ] && break; sleep 0.1; done
run_cli env DOCKER_HOST="unix://$FAKE_SOCK" "$NEXUS_BIN" sandbox create nogvisor --isolation gvisor
kill "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null
is "$rc $(printf '%s\n' "$err" | wc -l) $out" "$rc 1 " "an engine without runsc: one line, nothing on stdout"
ok $([ "$rc" -ne 0 ]; echo $?) "and a failure (exit $rc)"
like "$err" "^Error: gVisor is not registered with the Docker engine \(no 'runsc' runtime\)" \
	"the message says gVisor is not registered"
like "$err" "daemon.json" "and where to register it"
is "$(store_snapshot)" "$before" "and no row was written"

# ---- gVisor -----------------------------------------------------------------------
if ! engine GET /info | jq -e '.Runtimes.runsc' >/dev/null; then
	[ "${CI:-}" = true ] && bail "the engine has no runsc runtime (scripts/gvisor.sh; CI=true: this is a failure)"
	skip "the engine has no runsc runtime (scripts/gvisor.sh)"
	tap_done
	exit
fi
G=$(NEXUS_RUN_TRANSPORT=auto nexus sandbox create under-gvisor --isolation gvisor --json | jq -r .sandbox_id)
is "$(runtime_of "$G")" runsc "--isolation gvisor: the container runs under runsc"
is "$(engine GET "/containers/nexus-$G/json" | jq -c '[.HostConfig.PidsLimit, (.HostConfig.Ulimits[] | select(.Name == "nproc") | .Hard)]')" \
	"[4096,64]" "the pids cgroup caps the sentry's host tasks, RLIMIT_NPROC the processes"
gv() { NEXUS_RUN_TRANSPORT=exec nexus sandbox run "$G" "$@" 2>&1; }
# gVisor's kernel calls itself 4.4.0, whatever the host runs.
is "$(gv -l bash -c 'uname -r')" "4.4.0" "the code meets gVisor's kernel, not the host's $(uname -r)"
is "$(gv -l bash -c 'id -u; grep -E "^(CapEff|Seccomp):" /proc/self/status')" "1000
CapEff:	0000000000000000
Seccomp:	2" "uid 1000, no capabilities and a seccomp filter there too"
like "$(gv -c "
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(425, 8, ctypes.create_string_buffer(120))
print(errno.errorcode.get(ctypes.get_errno(), r))")" '^EPERM$' \
	"seccomp holds under gVisor too: io_uring is refused"
run_cli env NEXUS_RUN_TRANSPORT=auto "$NEXUS_BIN" sandbox run "$G" -c "print(6 * 7)"
is "$rc $out" "0 42" "NEXUS_RUN_TRANSPORT=auto goes by exec under gVisor"
run_cli env NEXUS_RUN_TRANSPORT=exec "$NEXUS_BIN" sandbox run "$G" -l bash --timeout 2 -c '
setsid sleep 1001 &
( ( sleep 1002 & ) & )
nohup sleep 1003 >/dev/null 2>&1 &
sleep 1004'
is "$rc" 124 "a run under gVisor times out"
is "$(gv -l bash -c 'cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\0" " " | grep -o "sleep 100[1-4]" | sort -u')" "" \
	"and what it left behind (setsid, double fork, nohup) is gone: found by start time, without a subreaper"

tap_done
