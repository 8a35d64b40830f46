# what: sethostname
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(170, b'pwned', 5))
