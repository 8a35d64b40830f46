# what: ptrace(PTRACE_ATTACH) of PID 1
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(101, 16, 1, 0, 0))
