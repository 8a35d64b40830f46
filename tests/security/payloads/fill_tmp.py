# what: fill /tmp (a 256 MiB tmpfs)
# expect: ^rc=0 verdict: ENOSPC after 25[0-9] MiB$
name, mib = fill("/tmp")
verdict(name, "after", mib, "MiB")
