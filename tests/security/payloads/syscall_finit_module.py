# what: finit_module
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(313, os.open('/dev/null', os.O_RDONLY), b'', 0))
