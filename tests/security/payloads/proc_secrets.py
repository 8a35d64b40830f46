# what: reading /proc and /sys secrets: PID 1's environment and memory, kcore, the host's keys
# expect-runc: ^rc=0 verdict: environ=(EACCES|EPERM) mem=(EACCES|EPERM) kcore=(ENOENT|EACCES|EPERM) kmsg=(ENOENT|EACCES|EPERM) firmware=(ENOENT|EACCES|EPERM)$
# gVisor shows PID 1's environment (the container's four variables, no
# secret) to the same uid, but not its memory.
# expect-gvisor: ^rc=0 verdict: environ=(EACCES|EPERM|ok) mem=(EACCES|EPERM) kcore=(ENOENT|EACCES|EPERM) kmsg=(ENOENT|EACCES|EPERM) firmware=(ENOENT|EACCES|EPERM)$
def read(path):
    return attempt(lambda: open(path, "rb").read(1))
verdict("environ=" + read("/proc/1/environ"), "mem=" + read("/proc/1/mem"),
        "kcore=" + read("/proc/kcore"), "kmsg=" + read("/dev/kmsg"),
        "firmware=" + attempt(lambda: os.listdir("/sys/firmware/efi/efivars")))
