# what: bpf(BPF_MAP_CREATE)
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(321, 0, 0, 0))
