# what: settimeofday
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(164, ctypes.create_string_buffer(16), 0))
