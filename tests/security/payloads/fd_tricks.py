# what: workdir and /proc/self/fd tricks of runc's CVEs (leaked host fds, /proc/self/exe overwrite, cwd outside the root)
# expect: ^rc=0 verdict: cwd=/home/user leaked_fds=0 exe_write=(ETXTBSY|EACCES|EROFS|EPERM) escape=(ENOENT|EACCES|ok-inside)$
leaked = 0
for fd in os.listdir("/proc/self/fd"):
    try:
        target = os.readlink("/proc/self/fd/" + fd)
    except OSError:
        continue
    if target.startswith("/") and not target.startswith(("/dev/null", "/memfd:nexus-code", "/proc/", "/home/user", "/tmp", "/usr", "/.nexus", "/dev/pts")):
        leaked += 1
        print("fd", fd, "->", target)
def climb():
    fd = os.open("/proc/self/cwd/../../../../..", os.O_RDONLY | os.O_DIRECTORY)
    names = os.listdir(fd)
    os.close(fd)
    if ".nexus" not in names:
        raise OSError(errno.EACCES, "outside")
escape = attempt(climb)
verdict("cwd=" + os.getcwd(), "leaked_fds=%d" % leaked,
        "exe_write=" + attempt(lambda: open("/proc/self/exe", "wb")),
        "escape=" + ("ok-inside" if escape == "ok" else escape))
