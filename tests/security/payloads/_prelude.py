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
