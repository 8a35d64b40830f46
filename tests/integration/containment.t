# containment.t - what a run cannot do: outlive its timeout, starve its
# sandbox's neighbours, or hold its output back.
. "$top_srcdir/tests/integration/lib.sh"
need_docker default

A=$(nexus sandbox create contain-a --json | jq -r .sandbox_id)
B=$(nexus sandbox create contain-b --json | jq -r .sandbox_id)
procs_in() { engine GET "/containers/nexus-$1/top?ps_args=-eo%20pid,args" | jq -r '.Processes[] | .[1]'; }
neighbour_ok() {
	run_cli nexus sandbox run $B -c "print('b alive')" --timeout 20
	is "$out" "b alive" "the neighbour sandbox still runs code ($1)"
}

# ---- a timeout leaves nothing behind ---------------------------------------
run_cli nexus sandbox run $A -l bash --timeout 2 -c '
setsid sleep 1001 &
( ( sleep 1002 & ) & )
nohup sleep 1003 >/dev/null 2>&1 &
sleep 1004'
is "$rc" 124 "the run times out"
sleep 1
left=$(procs_in $A | grep -c 'sleep 100[1-4]')
is "$left" 0 "setsid, double-forked, nohup'd and plain children are all gone"

# Normal completion may leave background processes (documented).
nexus sandbox run $A -l bash -c 'setsid sleep 1005 >/dev/null 2>&1 &' >/dev/null
is "$(procs_in $A | grep -c 'sleep 1005')" 1 "a run that ends normally may leave a background process"

# ---- output streams before the program ends ----------------------------------
stamps=$(nexus sandbox run $A -c "
import time
print('first', flush=True)
time.sleep(2)
print('second')
" | while IFS= read -r line; do echo "$(date +%s%N) $line"; done)
t1=$(printf '%s\n' "$stamps" | awk '$2 == "first" {print $1}')
t2=$(printf '%s\n' "$stamps" | awk '$2 == "second" {print $1}')
ok $([ -n "$t1" ] && [ -n "$t2" ] && [ $(( (t2 - t1) / 1000000 )) -ge 1500 ]; echo $?) "the first line arrives before the second exists ($(( (t2 - t1) / 1000000 )) ms apart)"

# ---- resource attacks stay inside -------------------------------------------
# The bomb's own shell stays, so the run lasts until its timeout, which
# must then find and kill every copy (a bomb that detaches and lets its run
# end normally is a background process like any other: it lives on until
# the sandbox stops, confined to the sandbox's pids limit).
run_cli nexus sandbox run $A -l bash --timeout 5 -c ':(){ :|:& };:; sleep 60'
is "$rc" 124 "a fork bomb runs into its timeout"
sleep 1
is "$(procs_in $A | grep -c '/proc/self/fd/3')" 0 "and no copy of it survives"
neighbour_ok "fork bomb"
run_cli nexus sandbox run $A -c "print(len(open('/proc/self/status').read()) > 0)" --timeout 20
is "$out" "True" "the bombed sandbox itself recovers"

run_cli nexus sandbox run $A -c "
while True:
    print('x' * 4096)
" --timeout 20 --max-output 1000000
is "$rc" 137 "an endless writer is stopped at --max-output (exit 137)"
like "$(printf '%s' "$out" | tail -n 1)" '^\[nexus: output passed 1000000 bytes; the run was stopped\]$' "with the marker as the last line"
ok $([ "$(printf '%s' "$out" | wc -c)" -lt 1100000 ]; echo $?) "and no more than the cap reaches the caller"
neighbour_ok "output flood"

run_cli nexus sandbox run $A -c "
blocks = []
while True:
    blocks.append(bytearray(64 << 20))
" --timeout 30
ok $([ "$rc" -ne 0 ]; echo $?) "a memory bomb ends (exit $rc)"
is "$(engine GET /containers/nexus-$A/json | jq -r .State.Status)" running "the sandbox survives its own memory bomb"
neighbour_ok "memory bomb"

run_cli nexus sandbox run $A -c "print('a recovers')"
is "$out" "a recovers" "and runs code afterwards"

tap_done
