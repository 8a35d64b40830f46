# what: fill /tmp (a 256 MiB tmpfs)
# expect: ^rc=0 verdict: ENOSPC after 25[0-9] MiB$
n = 0
try:
    with open("/tmp/fill", "wb") as f:
        while True:
            f.write(b"\0" * (1 << 20))
            f.flush()
            n += 1
except OSError as e:
    verdict(errno.errorcode[e.errno], "after", n, "MiB")
os.unlink("/tmp/fill")
