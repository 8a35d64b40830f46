# what: cgroup release_agent: mount a cgroup, write release_agent and notify_on_release
# expect: ^rc=(0 verdict: mount=refused release_agent=refused notify=refused|159)$
v() { if (echo "$2" > "$1") 2>/dev/null; then echo written; else echo refused; fi; }
mkdir -p /tmp/cg
if mount -t cgroup -o rdma cgroup /tmp/cg 2>/dev/null; then m=mounted; else m=refused; fi
ra=refused; for f in /sys/fs/cgroup/release_agent /sys/fs/cgroup/*/release_agent /tmp/cg/release_agent; do
	[ -e "$f" ] && [ "$(v "$f" /tmp/x)" = written ] && ra=written
done
nr=refused; for f in /sys/fs/cgroup/notify_on_release /sys/fs/cgroup/*/notify_on_release; do
	[ -e "$f" ] && [ "$(v "$f" 1)" = written ] && nr=written
done
echo "verdict: mount=$m release_agent=$ra notify=$nr"
