# what: looking for docker.sock, containerd and the host's filesystems
# expect: ^rc=0 verdict: sockets=0 host_mounts=0 rw_binds=0$
n=0
for s in /var/run/docker.sock /run/docker.sock /run/containerd/containerd.sock /var/run/docker /run/docker; do
	[ -e "$s" ] && n=$((n + 1))
done
m=$(grep -cE ' (/host|/hostfs|/rootfs|/var/lib/docker)' /proc/self/mountinfo)
# Mounts from the host's disk (not tmpfs, proc, sysfs, overlay...) that are writable.
rw=$(awk '$5 != "/" && $6 ~ /^rw/ { for (i = 7; $i != "-"; i++); if ($(i+1) !~ /^(tmpfs|proc|sysfs|overlay|devpts|mqueue|cgroup|cgroup2|9p)$/) c++ } END { print c + 0 }' /proc/self/mountinfo)
echo "verdict: sockets=$n host_mounts=$m rw_binds=$rw"
