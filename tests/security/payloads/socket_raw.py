# what: raw socket
# expect-runc: ^rc=0 verdict: (EPERM|EAFNOSUPPORT|EACCES)$
# expect-gvisor: ^rc=0 verdict: (EPERM|EAFNOSUPPORT|EACCES)$
verdict(attempt(lambda: socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP)))
