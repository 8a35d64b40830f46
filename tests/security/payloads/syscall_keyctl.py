# what: keyctl(GET_KEYRING_ID)
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(250, 0, -3, 0))
