# what: userfaultfd
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(323, 0))
