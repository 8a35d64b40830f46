# what: fill /dev/shm (64 MiB)
# expect: ^rc=0 verdict: ENOSPC after 6[0-4] MiB$
n = 0
try:
    with open("/dev/shm/fill", "wb") as f:
        while True:
            f.write(b"\0" * (1 << 20))
            f.flush()
            n += 1
except OSError as e:
    verdict(errno.errorcode[e.errno], "after", n, "MiB")
os.unlink("/dev/shm/fill")
