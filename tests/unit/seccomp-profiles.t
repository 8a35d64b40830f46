# seccomp-profiles.t - every profile in seccomp-profiles/ passes
# tests/seccomp-check, and the checker rejects deliberately broken ones.
#
# With NEXUS_SECCOMP_LIVE=1 (and Docker), it also runs the syscall probes of
# docs/seccomp.md in a container with nexus's hardening and the profile:
#   NEXUS_SECCOMP_LIVE=1 make check TESTS=tests/unit/seccomp-profiles.t
# NEXUS_SECCOMP_IMAGE names the image (default nexus-trial:latest).
. "$top_srcdir/tests/lib/tap.sh"

CHECK="$top_builddir/tests/seccomp-check"
PROFILES="$top_srcdir/seccomp-profiles"
GOOD="$PROFILES/container.json"
[ -x "$CHECK" ] || bail "$CHECK is not built (make tests/seccomp-check)"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# ---- the shipped profiles --------------------------------------------------

for f in "$PROFILES"/*.json; do
	out=$("$CHECK" "$f" 2>&1)
	ok $? "$(basename "$f") passes seccomp-check"
	[ -n "$out" ] && diag "$out"
done
out=$("$CHECK" "$GOOD" 2>/dev/null)
like "$out" ': ok: [0-9]+ rules, [0-9]+ BPF instructions, ENOSYS above ' \
	"a clean profile gets one summary line"

# ---- broken profiles: each must be rejected for the intended reason --------

# reject NAME PATTERN [COUNT] - the checker exits 1 on $T/NAME.json with a
# problem line matching PATTERN (and exactly COUNT lines when given).
reject() {
	out=$("$CHECK" "$T/$1.json" 2>&1)
	rc=$?
	is "$rc" 1 "$1: rejected (exit 1)"
	like "$out" "$2" "$1: says why"
	if [ -n "$3" ]; then
		is "$(printf '%s\n' "$out" | grep -c .)" "$3" \
			"$1: $3 problem line(s), nothing else"
	fi
}

# mutate NAME SED-ARGS... - write $T/NAME.json from the good profile.
mutate() {
	name=$1
	shift
	sed "$@" "$GOOD" >"$T/$name.json"
	if cmp -s "$GOOD" "$T/$name.json"; then
		bail "mutation $name changed nothing: update this test"
	fi
}

mutate unknown-name -e 's/"getpid", /"getpid", "no_such_syscall", /'
reject unknown-name 'unknown syscall "no_such_syscall"' 1

mutate not-native -e 's/"getpid", /"getpid", "chown32", /'
reject not-native '"chown32" is not a syscall on x86_64' 1

mutate iouring-allowed \
	-e 's/"io_uring_setup", "io_uring_enter"/"io_uring_enter"/' \
	-e 's/"getpid", /"getpid", "io_uring_setup", /'
reject iouring-allowed 'io_uring_setup answers allow on x86_64, want errno EPERM' 1

mutate iouring-killed -e '/"names": \["io_uring_setup"/{n;s/"SCMP_ACT_ERRNO",/"SCMP_ACT_KILL_PROCESS"/;n;d;}'
reject iouring-killed 'io_uring_setup answers kill process on x86_64, want errno EPERM' 3

mutate clone3-eperm -e 's/"errnoRet": 38/"errnoRet": 1/'
reject clone3-eperm 'clone3 answers errno EPERM on x86_64, want errno ENOSYS' 1

mutate vsock-allowed -e 's/"syscalls": \[/"syscalls": [ { "names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": 40, "op": "SCMP_CMP_EQ" } ] },/'
reject vsock-allowed 'socket\(AF_VSOCK, .* answers allow' 1

# The rule later Docker versions use: any family but AF_VSOCK (40). It is
# compared on 64 bits, so 0x100000028 passes and the kernel opens AF_VSOCK.
mutate docker-socket-rule -e 's/"syscalls": \[/"syscalls": [ { "names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": 40, "op": "SCMP_CMP_NE" } ] },/'
reject docker-socket-rule 'socket\(AF_PACKET, '
like "$out" 'socket\(AF_ALG, ' "docker-socket-rule: AF_ALG named"
like "$out" 'socket\(AF_VSOCK, .*family word 0x100000028' \
	"docker-socket-rule: AF_VSOCK via the upper 32 bits named"

# AF_INET with any socket type: raw sockets come through.
mutate inet-any-type -e '0,/"value": 15, "valueTwo": 1,/s//"value": 0, "valueTwo": 0,/'
reject inet-any-type 'socket\(AF_INET, 0x3, 0\) .* answers allow' 1

# Netlink beyond NETLINK_ROUTE: drop the protocol condition of the rules.
mutate netlink-any -e '/{ "index": 0, "value": 16, "op"/{n;s/},$/}/;n;d;}'
reject netlink-any 'socket\(AF_NETLINK, 0x[23], 1\) .* answers allow' 1

mutate no-architectures -e '/"architectures"/d'
reject no-architectures 'no "architectures": runc then adds no ENOSYS stub' 1

# i386 as well: socketcall() hides the socket family from seccomp.
mutate with-i386 -e 's/"architectures": \["SCMP_ARCH_X86_64"\]/"architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]/'
reject with-i386 'socketcall\(1, \.\.\.\) is allowed on x86'

mutate clone-namespaces -e 's/"value": 2114060288/"value": 0/'
reject clone-namespaces 'clone with CLONE_NEWUSER is allowed on x86_64'

mutate mount-allowed -e 's/"mount", "umount2"/"umount2"/' \
	-e 's/"getpid", /"getpid", "mount", /'
reject mount-allowed 'mount is allowed by syscalls\[0\]; it must be denied' 2

mutate default-allow -e 's/"defaultAction": "SCMP_ACT_ERRNO"/"defaultAction": "SCMP_ACT_ALLOW"/' \
	-e '/"defaultErrnoRet"/d'
reject default-allow 'defaultAction SCMP_ACT_ALLOW lets every unlisted syscall through'

mutate misspelt-key -e 's/"errnoRet": 38/"errnoret": 38/'
reject misspelt-key 'syscalls\[[0-9]+\]: unknown field "errnoret"'

mutate same-arg-twice -e '0,/{ "index": 0, "value": 1, "op": "SCMP_CMP_EQ" }/s//{ "index": 0, "value": 1, "op": "SCMP_CMP_EQ" }, { "index": 0, "value": 2, "op": "SCMP_CMP_EQ" }/'
reject same-arg-twice 'a second condition on argument 0; runc ORs such conditions'

mutate errno-as-string -e 's/"errnoRet": 38/"errnoRet": "ENOSYS"/'
reject errno-as-string 'syscalls\[[0-9]+\]: want a non-negative integer, got string'

mutate bad-json -e 's/"defaultErrnoRet": 1,/"defaultErrnoRet": 1,,/'
reject bad-json 'bad JSON at offset [0-9]+' 1

head -c 200 "$GOOD" >"$T/truncated.json"
reject truncated 'bad JSON at offset 200: unexpected end of file' 1

printf '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []} trailing' \
	>"$T/trailing.json"
reject trailing 'bad JSON at offset 52: ' 1

out=$("$CHECK" "$T/does-not-exist.json" 2>&1)
is "$?" 1 "a missing file is a problem"
like "$out" 'does-not-exist.json: cannot read: No such file' "and says so"

out=$("$CHECK" "$GOOD" "$T/unknown-name.json" 2>&1)
is "$?" 1 "several profiles: one bad one fails the run"
like "$out" 'container.json: ok' "the good one is still reported ok"

"$CHECK" >/dev/null 2>&1
is "$?" 2 "no profile is a usage error (exit 2)"

# ---- optional: what a container with the profile meets ---------------------

live_probes() {
	image=${NEXUS_SECCOMP_IMAGE:-nexus-trial:latest}
	# The hardening nexus uses, as in docs/seccomp.md.
	set -- --rm -i --security-opt "seccomp=$GOOD" \
		--security-opt no-new-privileges --cap-drop ALL --read-only \
		--network none --user 1000:1000 \
		--tmpfs /tmp:rw,nosuid,nodev,size=64m,nr_inodes=16384 \
		--tmpfs /home/user:rw,nosuid,nodev,size=64m,nr_inodes=16384,uid=1000,gid=1000 \
		--pids-limit 256 --memory 512m --memory-swap 512m -w /home/user \
		"$image"
	out=$(docker run "$@" python3 - <<'EOF'
import ctypes, errno, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
buf = ctypes.create_string_buffer(256)
P = ctypes.addressof(buf)
def call(nr, *args):
    pid = os.fork()
    if pid == 0:
        ctypes.set_errno(0)
        r = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) for a in args])
        os._exit(0 if r >= 0 else min(ctypes.get_errno(), 250))
    _, st = os.waitpid(pid, 0)
    if os.WIFSIGNALED(st):
        return "SIG%d" % os.WTERMSIG(st)
    e = os.WEXITSTATUS(st)
    return errno.errorcode.get(e, "ok") if e else "ok"
for name, nr, args in [
        ("io_uring_setup", 425, (1, P)), ("clone3", 435, (P, 88)),
        ("socket(AF_VSOCK)", 41, (40, 1, 0)),
        ("socket(AF_VSOCK|1<<32)", 41, (40 | 1 << 32, 1, 0)),
        ("socket(AF_ALG)", 41, (38, 5, 0)),
        ("socket(AF_PACKET)", 41, (17, 3, 0x300)),
        ("socket(AF_INET,SOCK_RAW)", 41, (2, 3, 1)),
        ("socket(AF_NETLINK,AUDIT)", 41, (16, 3, 9)),
        ("unshare(CLONE_NEWUSER)", 272, (0x10000000,)),
        ("mount", 165, (P, P, P, 0, 0)), ("keyctl", 250, (0, 2**64 - 3, 0)),
        ("bpf", 321, (5, P, 128)), ("ptrace(TRACEME)", 101, (0, 0, 0, 0)),
        ("userfaultfd", 323, (0,)), ("mseal", 462, (0, 0, 0)),
        ("socket(AF_UNIX)", 41, (1, 1, 0)),
        ("socket(AF_INET,TCP)", 41, (2, 1, 6)),
        ("socket(AF_NETLINK,ROUTE)", 41, (16, 3, 0))]:
    print(name, call(nr, *args))
EOF
)
	for want in "io_uring_setup EPERM" "clone3 ENOSYS" \
		"socket(AF_VSOCK) EPERM" "socket(AF_VSOCK|1<<32) EPERM" \
		"socket(AF_ALG) EPERM" "socket(AF_PACKET) EPERM" \
		"socket(AF_INET,SOCK_RAW) EPERM" "socket(AF_NETLINK,AUDIT) EPERM" \
		"unshare(CLONE_NEWUSER) EPERM" "mount EPERM" "keyctl EPERM" \
		"bpf EPERM" "ptrace(TRACEME) EPERM" "userfaultfd EPERM" \
		"mseal ENOSYS" "socket(AF_UNIX) ok" "socket(AF_INET,TCP) ok" \
		"socket(AF_NETLINK,ROUTE) ok"; do
		printf '%s\n' "$out" | grep -qxF "$want"
		ok $? "live: $want"
	done

	out=$(docker run "$@" sh -c '
		python3 -c "
import threading, subprocess, multiprocessing, tempfile, json, numpy, pandas
t = threading.Thread(target=print); t.start(); t.join()
subprocess.run([\"true\"], check=True)
with multiprocessing.Pool(2) as p: assert p.map(abs, [-1]) == [1]
with tempfile.NamedTemporaryFile() as f: json.dump({}, open(f.name, \"w\"))
print(\"python\", int(numpy.arange(4).sum()), len(pandas.DataFrame({\"a\": [1]})))" &&
		node -e "
const { Worker } = require(\"worker_threads\");
const cp = require(\"child_process\");
new Worker(\"require(\\\"worker_threads\\\").parentPort.postMessage(1)\", { eval: true })
  .on(\"message\", async () => { await new Promise(r => setTimeout(r, 5));
    console.log(\"node\", cp.spawnSync(\"true\").status); process.exit(0); });" &&
		echo "{\"a\":[1,2]}" | jq -c ".a | length" && ps -e >/dev/null &&
		df /tmp >/dev/null && ls -la / >/dev/null && echo shell ok' 2>&1)
	like "$out" 'python 6 1' "live: python threads, subprocess, multiprocessing, numpy, pandas"
	like "$out" 'node 0' "live: node worker_threads, timers, spawnSync"
	like "$out" 'shell ok' "live: bash pipeline, jq, ps, df, ls"
	[ -n "$out" ] && diag "$out"
}

if [ "${NEXUS_SECCOMP_LIVE:-}" = 1 ]; then
	if docker info >/dev/null 2>&1; then
		live_probes
	else
		ok 1 "NEXUS_SECCOMP_LIVE=1 but Docker does not answer"
	fi
fi

tap_done
