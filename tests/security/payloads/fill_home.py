# what: fill the home directory (a 512 MiB tmpfs), 64 MiB files at a time
# options: --timeout 60
# expect-runc: ^rc=0 verdict: ENOSPC after 5[01][0-9] MiB$
# expect-gvisor: ^rc=(0 verdict: ENOSPC after 5[01][0-9] MiB|137|125)
n = 0
home = os.path.expanduser("~")
try:
    while True:
        with open("%s/fill%d" % (home, n // 64), "ab") as f:
            f.write(b"\0" * (1 << 20))
            f.flush()
        n += 1
except OSError as e:
    verdict(errno.errorcode[e.errno], "after", n, "MiB")
for f in os.listdir(home):
    if f.startswith("fill"):
        os.unlink(os.path.join(home, f))
