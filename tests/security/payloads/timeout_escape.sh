# what: escaping the timeout with nohup, setsid and a double fork
# options: --timeout 2
# expect: ^rc=124
nohup sleep 1001 >/dev/null 2>&1 &
setsid sleep 1002 >/dev/null 2>&1 &
( ( sleep 1003 & ) & )
setsid bash -c 'while :; do sleep 1; done' &
sleep 1004
