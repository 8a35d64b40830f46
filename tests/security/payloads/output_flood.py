# what: unbounded stdout, stopped at --max-output
# options: --max-output 100000 --timeout 20
# expect: ^rc=137 \[nexus: output passed 100000 bytes; the run was stopped\]$
while True:
    sys.stdout.write("x" * 4096 + "\n")
