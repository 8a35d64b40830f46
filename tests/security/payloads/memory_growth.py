# what: memory growth past the 1 GiB limit
# options: --timeout 30
# expect-runc: ^rc=137
# expect-gvisor: ^rc=(137|125)
blocks = []
while True:
    blocks.append(bytearray(64 << 20))
