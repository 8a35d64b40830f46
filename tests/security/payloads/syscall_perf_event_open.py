# what: perf_event_open
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(298, ctypes.create_string_buffer(128), 0, -1, -1, 0))
