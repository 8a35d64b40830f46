# what: setns into a namespace
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(308, os.open('/proc/self/ns/mnt', os.O_RDONLY), 0))
