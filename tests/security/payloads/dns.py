# what: DNS lookup
# expect: ^rc=0 verdict: no resolution \(.*\)$
try:
    socket.getaddrinfo("example.com", 80)
    verdict("resolved")
except socket.gaierror as e:
    verdict("no resolution (%s)" % e.strerror)
