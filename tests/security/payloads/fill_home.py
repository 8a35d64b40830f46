# what: fill the home directory (a 512 MiB tmpfs), 64 MiB files at a time
# options: --timeout 60
# expect-runc: ^rc=0 verdict: ENOSPC after 5[01][0-9] MiB$
# expect-gvisor: ^rc=(0 verdict: ENOSPC after 5[01][0-9] MiB|137|125)
name, mib = fill(os.path.expanduser("~"), file_mib=64)
verdict(name, "after", mib, "MiB")
