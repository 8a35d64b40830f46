# what: vsock socket
# expect-runc: ^rc=0 verdict: (EPERM|EAFNOSUPPORT|EACCES)$
# expect-gvisor: ^rc=0 verdict: (EPERM|EAFNOSUPPORT|EACCES)$
verdict(attempt(lambda: socket.socket(40,socket.SOCK_STREAM,0)))
