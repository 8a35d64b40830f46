# lib.sh - setup for the integration tests: the built nexus, an empty data
# directory of its own, the real Docker engine.  Every sandbox a test file
# makes is stopped when it ends, whatever happened.

. "$top_srcdir/tests/lib/tap.sh"

NEXUS_BIN="${NEXUS_BIN:-$top_builddir/nexus}"
NEXUS_DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nexus-test.XXXXXX")
NEXUS_AGENT="${NEXUS_AGENT:-$top_builddir/nexus-agent}"
NEXUS_SERVER="${NEXUS_SERVER:-$top_builddir/nexus-server}"
# The build tree's seccomp/: container.json and the compiled .bpf filters.
NEXUS_SECCOMP_DIR="${NEXUS_SECCOMP_DIR:-$top_builddir/seccomp}"
NEXUS_RUNTIMES_DIR="${NEXUS_RUNTIMES_DIR:-$top_srcdir/runtimes}"
NEXUS_USER="${NEXUS_USER:-tester}"
# The build tree's plugins (libtool leaves the shared objects in .libs).
NEXUS_PLUGIN_DIR="${NEXUS_PLUGIN_DIR:-$top_builddir/providers/e2b/.libs}"
# Runs must come over the run socket unless a test says otherwise: with
# "auto", a broken socket would go unnoticed behind the exec fallback.
# Under gVisor (NEXUS_ISOLATION=gvisor) there is no run socket the host
# can reach: runs go by exec.
if [ "${NEXUS_ISOLATION:-}" = gvisor ]; then
	NEXUS_RUN_TRANSPORT="${NEXUS_RUN_TRANSPORT:-exec}"
fi
NEXUS_RUN_TRANSPORT="${NEXUS_RUN_TRANSPORT:-socket}"
export NEXUS_DATA_DIR NEXUS_AGENT NEXUS_SERVER NEXUS_SECCOMP_DIR NEXUS_RUNTIMES_DIR NEXUS_USER \
	NEXUS_RUN_TRANSPORT NEXUS_PLUGIN_DIR

# The spec's examples call "nexus": make that name mean this build.
nexus() { "$NEXUS_BIN" "$@"; }

DOCKER_SOCK=/var/run/docker.sock
case "${DOCKER_HOST:-}" in unix://*) DOCKER_SOCK=${DOCKER_HOST#unix://} ;; esac

# Raw Engine API calls, for checking what nexus did behind its back.
engine() { # engine METHOD PATH [JSON-BODY]
	if [ $# -ge 3 ]; then
		curl -s --max-time 30 --unix-socket "$DOCKER_SOCK" -X "$1" \
			-H 'Content-Type: application/json' -d "$3" "http://docker$2"
	else
		curl -s --max-time 30 --unix-socket "$DOCKER_SOCK" -X "$1" "http://docker$2"
	fi
}

need_docker() {
	if ! curl -sf --max-time 5 --unix-socket "$DOCKER_SOCK" http://docker/_ping >/dev/null 2>&1; then
		[ "${CI:-}" = true ] && bail "no Docker engine at $DOCKER_SOCK (CI=true: this is a failure)"
		skip_all "no Docker engine at $DOCKER_SOCK"
	fi
	for image in "$@"; do
		if ! engine GET "/images/nexus-runtime:$image/json" | grep -q '"Id"'; then
			[ "${CI:-}" = true ] && bail "runtime image nexus-runtime:$image is not built (CI=true: this is a failure)"
			skip_all "runtime image nexus-runtime:$image is not built (nexus runtime build $image)"
		fi
	done
}

# start_server [ARGS...]: nexus serve on a free loopback port, in the
# background, with its log in $SERVER_LOG; sets $URL and $SERVER_PID and
# waits until it answers.  stop_server sends SIGTERM and waits; its exit
# status is in $server_rc.  cleanup_sandboxes stops a server left running.
SERVER_PID=
start_server() {
	SERVER_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	URL="http://127.0.0.1:$SERVER_PORT"
	SERVER_LOG="$NEXUS_DATA_DIR/serve.log"
	"$NEXUS_BIN" serve --port "$SERVER_PORT" "$@" 2>>"$SERVER_LOG" &
	SERVER_PID=$!
	for _ in $(seq 100); do
		curl -sf --max-time 1 "$URL/v1/health" >/dev/null 2>&1 && return 0
		kill -0 $SERVER_PID 2>/dev/null || break
		sleep 0.1
	done
	bail "nexus serve did not start: $(cat "$SERVER_LOG")"
}
stop_server() {
	server_rc=
	[ -n "$SERVER_PID" ] || return 0
	kill -TERM $SERVER_PID 2>/dev/null
	server_rc=0
	wait $SERVER_PID || server_rc=$?
	SERVER_PID=
}

# hold_lock [readers]: take the database's write lock from another process
# and keep it until release_lock (or the end of the test file); returns once
# it is held.  With "readers", shut readers out too (exclusive locking mode
# and a write: WAL lets readers past a plain write lock).
LOCK_READY="$NEXUS_DATA_DIR/.lock-ready" LOCK_RELEASE="$NEXUS_DATA_DIR/.lock-release"
LOCKER=
hold_lock() {
	rm -f "$LOCK_READY" "$LOCK_RELEASE"
	python3 - "$NEXUS_DATA_DIR/nexus.db" "$LOCK_READY" "$LOCK_RELEASE" "${1:-}" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[4] == "readers":
    db.execute("PRAGMA locking_mode = EXCLUSIVE")
db.execute("BEGIN EXCLUSIVE")
if sys.argv[4] == "readers":
    db.execute("UPDATE sandboxes SET name = name")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
db.execute("ROLLBACK")
PY
	LOCKER=$!
	until [ -e "$LOCK_READY" ]; do
		kill -0 $LOCKER 2>/dev/null || bail "the lock holder died"
		sleep 0.05
	done
}
release_lock() {
	[ -n "$LOCKER" ] || return 0
	touch "$LOCK_RELEASE"
	wait $LOCKER
	LOCKER=
}

# Every live sandbox of the data directory, whoever's: read from the
# store itself, since a listing shows one user's.
live_sandboxes() {
	python3 - "$NEXUS_DATA_DIR/nexus.db" <<'PY' 2>/dev/null
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for (sid,) in db.execute("SELECT sandbox_id FROM sandboxes WHERE status != 'stopped'"):
    print(sid)
PY
}

cleanup_sandboxes() {
	stop_server
	release_lock
	for id in $(live_sandboxes); do
		NEXUS_URL= nexus sandbox stop "$id" >/dev/null 2>&1 || true
	done
	rm -rf "$NEXUS_DATA_DIR"
}
trap cleanup_sandboxes EXIT

# run_cli OUT ERR CMD...: run, keeping stdout and stderr apart; sets $rc.
OUT_FILE="$NEXUS_DATA_DIR/.out"
ERR_FILE="$NEXUS_DATA_DIR/.err"
run_cli() {
	rc=0
	"$@" >"$OUT_FILE" 2>"$ERR_FILE" || rc=$?
	out=$(cat "$OUT_FILE")
	err=$(cat "$ERR_FILE")
}

# The sandbox ids in the store, sorted: to show that nothing changed.
store_snapshot() {
	nexus sandbox list --json | jq -c '[.sandboxes[] | [.sandbox_id, .status]] | sort'
}
