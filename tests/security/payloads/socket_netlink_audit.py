# what: netlink_audit socket
# expect-runc: ^rc=0 verdict: (EPERM|EAFNOSUPPORT|EACCES)$
# expect-gvisor: ^rc=0 verdict: (EPERM|EAFNOSUPPORT|EACCES)$
verdict(attempt(lambda: socket.socket(16,socket.SOCK_RAW,9)))
