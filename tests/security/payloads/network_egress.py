# what: network egress to a public address
# expect-runc: ^rc=0 verdict: ENETUNREACH$
# expect-gvisor: ^rc=0 verdict: (ENETUNREACH|EHOSTUNREACH)$
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.settimeout(3)
verdict(attempt(lambda: s.connect(("192.0.2.1", 80))))
