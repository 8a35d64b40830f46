# what: io_uring_setup
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(425, 8, ctypes.create_string_buffer(120)))
