# what: inode exhaustion: empty files in /tmp until none are left
# options: --timeout 30
# expect-runc: ^rc=0 verdict: ENOSPC after 655[0-9][0-9] files$
# expect-gvisor: ^rc=(0 verdict: ENOSPC after 655[0-9][0-9] files|124)$
import shutil
os.mkdir("/tmp/inodes")
n = 0
try:
    while n < 1000000:
        open("/tmp/inodes/%d" % n, "wb").close()
        n += 1
    verdict("no limit after", n, "files")
except OSError as e:
    verdict(errno.errorcode[e.errno], "after", n, "files")
shutil.rmtree("/tmp/inodes")
