# what: process_vm_readv of PID 1
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(310, 1, ctypes.create_string_buffer(16), 1, ctypes.create_string_buffer(16), 1, 0))
