# what: kexec_load
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(246, 0, 0, 0, 0))
