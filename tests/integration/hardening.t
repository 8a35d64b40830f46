# hardening.t - what the engine was told (the container's configuration)
# and what code inside actually meets.
. "$top_srcdir/tests/integration/lib.sh"
need_docker default

SB=$(nexus sandbox create hardened --json | jq -r .sandbox_id)
cfg=$(engine GET "/containers/nexus-$SB/json")
hc() { printf '%s' "$cfg" | jq -c "$1"; }

is "$(hc .Config.User)" '"1000:1000"' "runs as a non-root user"
is "$(hc .HostConfig.CapDrop)" '["ALL"]' "all capabilities dropped"
is "$(hc .HostConfig.CapAdd)" 'null' "none added"
is "$(hc '.HostConfig.SecurityOpt | map(select(startswith("no-new-privileges"))) | length')" 1 "no-new-privileges"
is "$(hc '.HostConfig.SecurityOpt | map(select(startswith("seccomp="))) | length')" 1 "our own seccomp profile"
is "$(hc '.HostConfig.SecurityOpt[] | select(startswith("seccomp=")) | ltrimstr("seccomp=") | fromjson | .defaultAction')" '"SCMP_ACT_ERRNO"' "the profile denies by default"
is "$(hc .HostConfig.ReadonlyRootfs)" true "read-only root filesystem"
is "$(hc .HostConfig.NetworkMode)" '"none"' "no network"
is "$(hc .HostConfig.IpcMode)" '"private"' "private IPC"
is "$(hc .HostConfig.Privileged)" false "not privileged"
is "$(hc '[.HostConfig.Memory, .HostConfig.MemorySwap] | (.[0] == .[1] and .[0] > 0)')" true "memory limit with no swap"
is "$(hc '.HostConfig.PidsLimit > 0')" true "pids limit"
is "$(hc '.HostConfig.NanoCpus > 0')" true "CPU limit"
like "$(hc '.HostConfig.Tmpfs["/tmp"]')" 'size=[0-9]+,nr_inodes=[0-9]+' "/tmp is a size- and inode-capped tmpfs"
like "$(hc '.HostConfig.Tmpfs["/home/user"]')" 'nr_inodes=[0-9]+,uid=1000,gid=1000' "home is a capped tmpfs owned by the user"
is "$(hc '.Config.Labels["io.nexus.sandbox-id"]')" "\"$SB\"" "labelled with the sandbox id"
is "$(hc '.Config.Labels["io.nexus.user"]')" '"tester"' "labelled with the owner"
is "$(hc .HostConfig.AutoRemove)" true "removed when it ends"
is "$(hc '[.Mounts[] | select(.Destination == "/etc/hosts" or .Destination == "/etc/resolv.conf" or .Destination == "/etc/hostname" or .Destination == "/.nexus/nexus-agent") | .RW] | [length, all(. == false)]')" '[4,true]' "hosts, resolv.conf, hostname and the agent are read-only"

sh_in() { nexus sandbox run $SB -l bash -c "$1" 2>&1; }
is "$(sh_in 'id -u; id -g')" "1000
1000" "code runs as uid and gid 1000"
like "$(sh_in 'touch /usr/x 2>&1; echo rc=$?' | tr '\n' ' ')" 'Read-only file system.*rc=1' "the root filesystem is read-only"
like "$(sh_in 'echo x >> /etc/hosts 2>&1; echo rc=$?')" 'rc=1' "/etc/hosts cannot be written"
is "$(sh_in 'echo ok > ~/f && echo ok > /tmp/f && cat ~/f /tmp/f')" "ok
ok" "home and /tmp are writable"
is "$(sh_in 'grep -c . /proc/net/dev')" 3 "only the loopback interface exists"
is "$(sh_in 'grep CapEff /proc/self/status')" "CapEff:	0000000000000000" "no effective capabilities"
is "$(sh_in 'grep NoNewPrivs /proc/self/status')" "NoNewPrivs:	1" "no_new_privs is set"
is "$(sh_in 'grep ^Seccomp: /proc/self/status')" "Seccomp:	2" "a seccomp filter is in force"
like "$(nexus sandbox run $SB -c "
import socket
try:
    socket.socket(40, socket.SOCK_STREAM)
    print('vsock open')
except OSError as e:
    print('vsock denied', e.errno)
" 2>&1)" '^vsock denied' "AF_VSOCK sockets are denied"
like "$(nexus sandbox run $SB -c "
import socket
try:
    socket.create_connection(('1.1.1.1', 53), timeout=3)
    print('connected')
except OSError as e:
    print('no network', e.errno)
" 2>&1)" '^no network' "no route out"
like "$(sh_in 'unshare -U true 2>&1; echo rc=$?')" 'rc=159' "unshare kills the process that asks (SIGSYS)"
like "$(sh_in 'cat /proc/1/environ 2>&1 >/dev/null; echo rc=$?')" 'rc=1' "PID 1 (the agent) cannot be read by the code"

# ---- per-run hardening by the agent: rlimits, capabilities, filter ----------
st=$(sh_in 'grep -E "^(Seccomp|NoNewPrivs|Cap[A-Za-z]+):" /proc/self/status; echo "t=$(ulimit -t) f=$(ulimit -f) n=$(ulimit -n)"')
like "$st" 'Seccomp:[[:space:]]+2' "the run has a seccomp filter of its own"
like "$st" 'NoNewPrivs:[[:space:]]+1' "no_new_privs is set"
is "$(printf '%s\n' "$st" | grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb):[[:space:]]+0{16}$' | wc -l | tr -d ' ')" 5 \
	"every capability set is empty, bounding and ambient included"
like "$st" 't=[0-9]+ f=524288 n=1024' "RLIMIT_CPU, RLIMIT_FSIZE (512 MiB) and RLIMIT_NOFILE are in force"
is "$(nexus sandbox run $SB -c 'import resource; print(resource.getrlimit(resource.RLIMIT_CPU)[0] > 0, resource.getrlimit(resource.RLIMIT_FSIZE)[0])' 2>&1)" \
	"True 536870912" "python sees the limits too"

run_cli nexus sandbox run $SB -c "import ctypes
print('before', flush=True)
ctypes.CDLL(None).syscall(250, 0, 0, 0, 0)  # keyctl
print('after')"
is "$rc" 159 "python: keyctl kills the program, exit 159 (128 + SIGSYS)"
is "$out" "before" "python: nothing runs after the blocked call"
like "$err" '\[nexus: the program was killed for a blocked system call \(seccomp\)\]' \
	"python: stderr says why"
is "$(nexus sandbox run $SB -c "import ctypes
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(120)
print(libc.syscall(425, 1, buf), ctypes.get_errno())  # io_uring_setup" 2>&1)" "-1 1" \
	"python: io_uring_setup answers EPERM (libuv and friends fall back)"
run_cli nexus sandbox run $SB -l bash -c 'exec unshare -U true'
is "$rc" 159 "bash: unshare as the program: exit 159"
like "$err" 'killed for a blocked system call \(seccomp\)' "bash: stderr says why"
is "$(nexus sandbox run $SB -l javascript -c "
const r = require('child_process').spawnSync('unshare', ['-U', 'true']);
console.log(r.signal, require('os').networkInterfaces().lo.length > 0)" 2>&1)" "SIGSYS true" \
	"javascript: a child asking for unshare dies of SIGSYS; node itself carries on"
nexus sandbox stop $SB >/dev/null

tap_done
