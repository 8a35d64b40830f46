# what: setuid escalation: setuid(0), and the image's setuid-root passwd and su while they wait for a password
# expect: ^rc=0 verdict: setuid=EPERM passwd=1000/1000 su=1000/1000$
import subprocess
import time


def ids_while_waiting(argv):
    """Effective uid/gid of a setuid program as it waits for input."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ids = "gone"
    for _ in range(50):
        time.sleep(0.05)
        try:
            status = open("/proc/%d/status" % p.pid).read().splitlines()
        except OSError:
            break
        uid = [l.split()[2] for l in status if l.startswith("Uid:")]
        gid = [l.split()[2] for l in status if l.startswith("Gid:")]
        ids = "%s/%s" % (uid[0], gid[0])
        if p.poll() is None and "password" in "".join(status).lower() or _ > 5:
            break
    p.kill()
    p.communicate()
    return ids


verdict("setuid=" + attempt(lambda: os.setuid(0)),
        "passwd=" + ids_while_waiting(["/usr/bin/passwd"]),
        "su=" + ids_while_waiting(["/usr/bin/su", "-c", "id"]))
