# _prelude.py - put before every Python payload by attacks.t: one way to
# make a raw system call and name the errno, and one way to say what
# happened ("verdict: ..." is the line the suite checks).
import ctypes
import errno
import os
import socket
import sys

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def raw_syscall(nr, *args):
    """The errno's name, or "ok" when the call succeeded."""
    ctypes.set_errno(0)
    r = _libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if r >= 0:
        return "ok"
    e = ctypes.get_errno()
    return errno.errorcode.get(e, str(e))


def attempt(fn):
    """The errno's name of the OSError fn raises, or "ok"."""
    try:
        fn()
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__
    return "ok"


def verdict(*parts):
    print("verdict:", *parts, flush=True)


def fill(directory, file_mib=1 << 30):
    """Write a MiB at a time into directory, a new file every file_mib
    MiB, until a write fails; remove the files again.  Returns the errno's
    name and the MiB written."""
    n = 0
    try:
        while True:
            with open("%s/fill%d" % (directory, n // file_mib), "ab") as f:
                f.write(b"\0" * (1 << 20))
                f.flush()
            n += 1
    except OSError as e:
        name = errno.errorcode.get(e.errno, str(e.errno))
    for f in os.listdir(directory):
        if f.startswith("fill"):
            os.unlink(os.path.join(directory, f))
    return name, n
