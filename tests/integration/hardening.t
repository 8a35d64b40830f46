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
like "$(sh_in 'unshare -U true 2>&1; echo rc=$?')" 'rc=1' "unshare is refused"
like "$(sh_in 'cat /proc/1/environ 2>&1 >/dev/null; echo rc=$?')" 'rc=1' "PID 1 (the agent) cannot be read by the code"
nexus sandbox stop $SB >/dev/null

tap_done
