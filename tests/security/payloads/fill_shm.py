# what: fill /dev/shm (64 MiB)
# expect: ^rc=0 verdict: ENOSPC after 6[0-4] MiB$
name, mib = fill("/dev/shm")
verdict(name, "after", mib, "MiB")
