# what: init_module (load a kernel module)
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(175, 0, 0, b''))
