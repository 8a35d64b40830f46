# what: memory growth past the 1 GiB limit
# sandbox: own
# options: --timeout 30
# expect-runc: ^rc=137
# expect-gvisor: ^rc=(137|125|124)
blocks = []
while True:
    blocks.append(bytearray(64 << 20))
