# attacks-gvisor.t - the attack suite again, every sandbox under gVisor
# (runsc), runs by exec.  Needs the engine's "runsc" runtime
# (scripts/gvisor.sh); without it the file is skipped, except under
# CI=true, where that is a failure.
if ! curl -sf --max-time 5 --unix-socket "${DOCKER_HOST#unix://}" http://docker/info 2>/dev/null |
	grep -q '"runsc":' &&
	! curl -sf --max-time 5 --unix-socket /var/run/docker.sock http://docker/info 2>/dev/null |
	grep -q '"runsc":'; then
	if [ "${CI:-}" = true ]; then
		echo "Bail out! the Docker engine has no runsc runtime (scripts/gvisor.sh; CI=true: this is a failure)"
		exit 1
	fi
	echo "1..0 # SKIP the Docker engine has no runsc runtime (run scripts/gvisor.sh)"
	exit 0
fi
NEXUS_ISOLATION=gvisor
export NEXUS_ISOLATION
. "$top_srcdir/tests/security/attacks.t"
