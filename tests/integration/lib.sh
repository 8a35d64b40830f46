# lib.sh - setup for the integration tests: the built nexus, an empty data
# directory of its own, the real Docker engine.  Every sandbox a test file
# makes is stopped when it ends, whatever happened.

. "$top_srcdir/tests/lib/tap.sh"

NEXUS_BIN="${NEXUS_BIN:-$top_builddir/nexus}"
NEXUS_DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/nexus-test.XXXXXX")
NEXUS_AGENT="${NEXUS_AGENT:-$top_builddir/nexus-agent}"
# The build tree's seccomp/: container.json and the compiled .bpf filters.
NEXUS_SECCOMP_DIR="${NEXUS_SECCOMP_DIR:-$top_builddir/seccomp}"
NEXUS_RUNTIMES_DIR="${NEXUS_RUNTIMES_DIR:-$top_srcdir/runtimes}"
NEXUS_USER="${NEXUS_USER:-tester}"
# Runs must come over the run socket unless a test says otherwise: with
# "auto", a broken socket would go unnoticed behind the exec fallback.
NEXUS_RUN_TRANSPORT="${NEXUS_RUN_TRANSPORT:-socket}"
export NEXUS_DATA_DIR NEXUS_AGENT NEXUS_SECCOMP_DIR NEXUS_RUNTIMES_DIR NEXUS_USER \
	NEXUS_RUN_TRANSPORT

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

cleanup_sandboxes() {
	for id in $(nexus sandbox list --json 2>/dev/null | jq -r '.sandboxes[] | select(.status != "stopped") | .sandbox_id'); do
		nexus sandbox stop "$id" >/dev/null 2>&1 || true
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
