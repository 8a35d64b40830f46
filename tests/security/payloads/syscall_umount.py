# what: umount2 /tmp (detach)
# expect: ^rc=(0 verdict: EPERM|159)$
verdict(raw_syscall(166, b'/tmp', 2))
