# lib.sh - shared by setup.sh and test.sh: install what nexus needs on a
# Debian or Ubuntu machine and make sure a Docker engine answers.

NEXUS_PACKAGES="build-essential autoconf automake libtool pkg-config \
libcurl4-openssl-dev libjson-c-dev libsqlite3-dev libseccomp-dev libcap-dev \
libmicrohttpd-dev nettle-dev docker.io debootstrap ca-certificates curl jq python3 valgrind"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'Error: %s\n' "$*" >&2; exit 1; }

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "this step needs root: run it as root or install sudo"
	fi
}

install_packages() {
	missing=
	for p in $NEXUS_PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	say "installing:$missing"
	as_root apt-get update -q >&2
	# shellcheck disable=SC2086
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >&2
}

docker_socket() {
	case "${DOCKER_HOST:-}" in
	unix://*) printf '%s\n' "${DOCKER_HOST#unix://}" ;;
	*) printf '/var/run/docker.sock\n' ;;
	esac
}

docker_answers() {
	curl -sf --max-time 5 --unix-socket "$(docker_socket)" http://docker/_ping >/dev/null 2>&1
}

# Start dockerd when nothing answers: through systemd where it runs the
# machine, else by hand in the background (its PID in /run/nexus-dockerd.pid).
ensure_docker() {
	docker_answers && return 0
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		say "starting docker with systemctl"
		as_root systemctl start docker >&2 || true
	fi
	if ! docker_answers; then
		say "starting dockerd in the background (log: /var/log/nexus-dockerd.log)"
		as_root sh -c 'dockerd >/var/log/nexus-dockerd.log 2>&1 & echo $! >/run/nexus-dockerd.pid'
	fi
	i=0
	while ! docker_answers; do
		i=$((i + 1))
		[ "$i" -gt 60 ] && die "the Docker engine did not start; see /var/log/nexus-dockerd.log"
		sleep 1
	done
	say "docker engine is up"
}

# Register gVisor's runsc with the engine as runtime "runsc", for
# "nexus sandbox create --isolation gvisor".  The flags are the ones that
# work on this kind of machine (shared/spec/hardening-facts.md): no
# network (runsc's own netstack refuses to start in the root network
# namespace), the ptrace platform (no KVM), and --oci-seccomp, without
# which runsc ignores the container's seccomp profile.  Other keys of an
# existing daemon.json are kept; the engine rereads its runtimes on SIGHUP.
ensure_gvisor() {
	command -v runsc >/dev/null 2>&1 || NEXUS_PACKAGES=runsc install_packages
	curl -sf --max-time 5 --unix-socket "$(docker_socket)" http://docker/info |
		grep -q '"runsc":' && return 0
	say "registering gVisor (runsc) with the Docker engine in /etc/docker/daemon.json"
	as_root python3 - "$(command -v runsc)" <<'PY'
import json, os, sys
path = "/etc/docker/daemon.json"
try:
    with open(path) as f:
        config = json.load(f)
except FileNotFoundError:
    config = {}
config.setdefault("runtimes", {})["runsc"] = {
    "path": sys.argv[1],
    "runtimeArgs": ["--network=none", "--platform=ptrace", "--oci-seccomp"],
}
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path + ".tmp", "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")
os.replace(path + ".tmp", path)
PY
	if [ -r /run/nexus-dockerd.pid ] &&
		[ "$(cat "/proc/$(cat /run/nexus-dockerd.pid)/comm" 2>/dev/null)" = dockerd ]; then
		as_root kill -HUP "$(cat /run/nexus-dockerd.pid)"
	else
		as_root systemctl reload docker >&2
	fi
	i=0
	until curl -sf --max-time 5 --unix-socket "$(docker_socket)" http://docker/info |
		grep -q '"runsc":'; do
		i=$((i + 1))
		[ "$i" -gt 20 ] && die "the Docker engine did not take the runsc runtime; see its log"
		sleep 0.5
	done
}

# Build out of tree, so in-tree builds of a developer are never touched.
build_nexus() { # build_nexus DIR [configure options...]
	dir=$1
	shift
	[ -f config.status ] && die "this tree is configured in place; run 'make distclean' first (scripts build in build/)"
	[ -x configure ] || ./autogen.sh >&2
	mkdir -p "$dir"
	(cd "$dir" && ../configure "$@" >&2 && make -j"$(nproc)" >&2)
}

# The build the suites run against the real engine: build/ with warnings
# as errors, the tree's runtimes/ and every runtime image built.
build_for_suite() { # build_for_suite TOP
	build_nexus build --enable-werror
	NEXUS_RUNTIMES_DIR="$1/runtimes"
	export NEXUS_RUNTIMES_DIR
	ensure_runtimes "$1/build/nexus" default python javascript bash
}

# Count the results the test driver recorded in .trs files into $passed,
# $failed and $skipped.
count_results() { # count_results TRS-FILE...
	passed=0 failed=0 skipped=0
	for trs in "$@"; do
		while read -r key value _; do
			[ "$key" = ":test-result:" ] || continue
			case "$value" in
			PASS | XFAIL) passed=$((passed + 1)) ;;
			SKIP) skipped=$((skipped + 1)) ;;
			*) failed=$((failed + 1)) ;;
			esac
		done <"$trs"
	done
}

# Build the runtime images that are missing, with the given nexus binary.
ensure_runtimes() { # ensure_runtimes NEXUS-BINARY [LANG...]
	bin=$1
	shift
	need=
	for lang in "$@"; do
		curl -sf --unix-socket "$(docker_socket)" \
			"http://docker/images/nexus-runtime:$lang/json" >/dev/null 2>&1 ||
			need="$need $lang"
	done
	[ -z "$need" ] && return 0
	say "building runtime images:$need (a few minutes, once)"
	# shellcheck disable=SC2086
	as_root env NEXUS_RUNTIMES_DIR="${NEXUS_RUNTIMES_DIR:-}" "$bin" runtime build $need
}
