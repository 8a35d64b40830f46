# what: add_key
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(248, b'user', b'k', b'v', 1, -3))
