# what: open_by_handle_at (the Shocker escape)
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(304, os.open('/', os.O_RDONLY), ctypes.create_string_buffer(16), 0))
