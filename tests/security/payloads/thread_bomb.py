# what: thread bomb: threads until the pids limit says no
# sandbox: own
# options: --timeout 30
# expect: ^rc=0 verdict: capped at [0-9]+ threads$
import threading, time
n = 0
try:
    while n < 100000:
        threading.Thread(target=time.sleep, args=(20,), daemon=True).start()
        n += 1
    verdict("uncapped")
except RuntimeError:
    verdict("capped at", n, "threads")
    os._exit(0)
