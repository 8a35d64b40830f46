# what: alg socket
# expect-runc: ^rc=0 verdict: (EPERM|EAFNOSUPPORT|EACCES)$
# expect-gvisor: ^rc=0 verdict: (EPERM|EAFNOSUPPORT|EACCES)$
verdict(attempt(lambda: socket.socket(38,socket.SOCK_SEQPACKET,0)))
