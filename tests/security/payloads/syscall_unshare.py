# what: unshare(CLONE_NEWUSER)
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(272, 0x10000000))
