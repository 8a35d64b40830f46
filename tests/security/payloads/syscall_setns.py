# what: setns into a namespace
# expect-runc: ^rc=(0 verdict: EPERM|159)$
# gVisor has no /proc/PID/ns files to open.
# expect-gvisor: ^rc=(0 verdict: (EPERM|no namespace files)|159)$
try:
    fd = os.open("/proc/self/ns/mnt", os.O_RDONLY)
except OSError:
    verdict("no namespace files")
else:
    verdict(raw_syscall(308, fd, 0))
