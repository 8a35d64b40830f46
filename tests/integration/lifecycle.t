# lifecycle.t - TTL, pause and resume, --verify against a container killed
# behind nexus's back, restarts, and parallel CLI processes.
. "$top_srcdir/tests/integration/lib.sh"
need_docker default

secs() { date -ud "$1" +%s; }
label_filter() { printf '%%7B%%22label%%22%%3A%%5B%%22io.nexus.sandbox-id%%3D%s%%22%%5D%%7D' "$1"; }
containers_of() { engine GET "/containers/json?all=1&filters=$(label_filter "$1")" | jq length; }

# ---- a run resets the TTL; pause clears it; resume starts a fresh one -----
SB=$(nexus sandbox create ttl-rules --ttl 5 --json | jq -r .sandbox_id)
e0=$(nexus sandbox status $SB --json | jq -r .expires_at)
sleep 2
nexus sandbox run $SB -c "pass" >/dev/null
st=$(nexus sandbox status $SB --json)
is "$(( $(secs "$(printf '%s' "$st" | jq -r .expires_at)") - $(secs "$(printf '%s' "$st" | jq -r .last_active_at)") ))" 300 "expires_at = last_active_at + ttl"
ok $([ "$(secs "$(printf '%s' "$st" | jq -r .expires_at)")" -gt "$(secs "$e0")" ]; echo $?) "a run moves expires_at later"
p=$(nexus sandbox pause $SB --json)
is "$(printf '%s' "$p" | jq -r .expires_at)" null "a paused sandbox does not expire"
is "$(engine GET /containers/nexus-$SB/json | jq -r .State.Status)" paused "the container is frozen"
sleep 2
r=$(nexus sandbox resume $SB --json)
ok $([ $(( $(secs "$(printf '%s' "$r" | jq -r .expires_at)") - $(date -u +%s) )) -ge 298 ]; echo $?) "resume starts a fresh TTL"
run_cli nexus sandbox run $SB -c "print('after resume')"
is "$out" "after resume" "a resumed sandbox runs code"
nexus sandbox stop $SB >/dev/null

# ---- expiry with no nexus process alive: the container ends itself ---------
# short-lived runs once, leaving behind a process that signals PID 1 as the
# host's "touch" does: neither it nor the signals may keep the sandbox
# alive.  refreshed is paused and resumed 50 s into its 1-minute TTL, a
# pause too short for the agent to notice by itself: the resume must still
# give it a fresh TTL.
SB=$(nexus sandbox create short-lived --ttl 1 --json | jq -r .sandbox_id)
RF=$(nexus sandbox create refreshed --ttl 1 --json | jq -r .sandbox_id)
nexus sandbox run $SB -l bash -c 'nohup sh -c "while :; do kill -USR1 1; sleep 0.5; done" >/dev/null 2>&1 &' >/dev/null
# What a nexus killed between making a container and writing its row
# leaves: a labelled container with no row.
orphan() { # orphan SANDBOX-ID: start one, print its container id
	engine POST /containers/create "$(jq -nc --arg dir "$NEXUS_DATA_DIR" --arg id "$1" \
		'{Image: "nexus-runtime:default", Cmd: ["sleep", "infinity"], User: "1000:1000",
		  NetworkDisabled: true, HostConfig: {NetworkMode: "none", AutoRemove: true},
		  Labels: {"io.nexus.managed": "true", "io.nexus.data-dir": $dir, "io.nexus.sandbox-id": $id}}')" |
		jq -r .Id
}
OLD_ORPHAN=$(orphan orphanoldaaaaaaaaaaaa)
engine POST "/containers/$OLD_ORPHAN/start" >/dev/null
sleep 50
nexus sandbox pause $RF >/dev/null
nexus sandbox resume $RF >/dev/null
sleep 25
is "$(containers_of $SB)" 0 "after the TTL the container has ended and is removed"
is "$(containers_of $RF)" 1 "a resumed sandbox lives on past its first TTL"
run_cli nexus sandbox run $RF -c "print('still here')"
is "$out" "still here" "and runs code"
nexus sandbox stop $RF >/dev/null
NEW_ORPHAN=$(orphan orphannewaaaaaaaaaaaa)
engine POST "/containers/$NEW_ORPHAN/start" >/dev/null
# A create under way holds the create lock shared (flock(1) here).
flock -s "$NEXUS_DATA_DIR/create.lock" "$NEXUS_BIN" sandbox list --verify >/dev/null
is "$(engine GET "/containers/$OLD_ORPHAN/json" | jq -r '.Id // "gone"')" gone "list --verify removes a container of this store that has no row"
is "$(engine GET "/containers/$NEW_ORPHAN/json" | jq -r .State.Status)" running "but while a create is under way, not one made less than a minute ago (its row may be on the way)"
nexus sandbox list --verify >/dev/null
is "$(engine GET "/containers/$NEW_ORPHAN/json" | jq -r '.Id // "gone"')" gone "with no create under way, a new one goes too"
engine DELETE "/containers/$NEW_ORPHAN?force=true" >/dev/null
st=$(nexus sandbox status $SB --json)
is "$(printf '%s' "$st" | jq -r .status)" stopped "the next command records it stopped"
is "$(printf '%s' "$st" | jq -r .expires_at)" null "a stopped sandbox has no expiry"
ok $([ "$(secs "$(printf '%s' "$st" | jq -r .stopped_at)")" -le "$(( $(secs "$(printf '%s' "$st" | jq -r .last_active_at)") + 61 ))" ]; echo $?) "stopped_at is the moment of expiry"

# ---- --verify after a container is killed behind nexus's back ---------------
SB=$(nexus sandbox create victim --json | jq -r .sandbox_id)
engine DELETE "/containers/nexus-$SB?force=true" >/dev/null
is "$(nexus sandbox list --json | jq -r ".sandboxes[] | select(.sandbox_id == \"$SB\") | .status")" active "without --verify the cached status is shown"
v=$(nexus sandbox list --verify --json | jq -c ".sandboxes[] | select(.sandbox_id == \"$SB\") | [.status, .verified, .provider_status]")
is "$v" '["stopped",true,"stopped"]' "--verify finds it gone and says so"
is "$(nexus sandbox status $SB --json | jq -r .status)" stopped "and writes it back"
run_cli nexus sandbox run $SB -c "print(1)"
like "$err" "is stopped" "running code in it then fails clearly"

SB=$(nexus sandbox create victim2 --json | jq -r .sandbox_id)
engine POST "/containers/nexus-$SB/kill" >/dev/null
sleep 1
run_cli nexus sandbox run $SB -c "print(1)"
is "$rc" 125 "a run in a killed sandbox fails"
like "$err" "has ended" "and says the sandbox has ended"
is "$(nexus sandbox status $SB --json | jq -r .status)" stopped "the row is then stopped"

SB=$(nexus sandbox create frozen-behind --json | jq -r .sandbox_id)
engine POST "/containers/nexus-$SB/pause" >/dev/null
is "$(nexus sandbox status $SB --verify --json | jq -c '[.status, .provider_status]')" '["paused","paused"]' "status --verify records a pause done behind nexus's back"
nexus sandbox stop $SB >/dev/null
is "$(containers_of $SB)" 0 "stopping a paused sandbox removes its container"

# ---- state survives nexus: every command is a new process ----------------
SB=$(nexus sandbox create survivor --json | jq -r .sandbox_id)
nexus sandbox run $SB -c "open('/home/user/mark', 'w').write('kept')" >/dev/null
is "$(nexus sandbox run $SB -c "print(open('/home/user/mark').read())")" kept "files persist between runs and nexus processes"

# ---- dockerd restart (only when this suite started dockerd itself) ----------
if [ -n "${NEXUS_TEST_DOCKERD_PIDFILE:-}" ] && [ -r "$NEXUS_TEST_DOCKERD_PIDFILE" ]; then
	PZ=$(nexus sandbox create paused-at-restart --json | jq -r .sandbox_id)
	nexus sandbox pause $PZ >/dev/null
	pid=$(cat "$NEXUS_TEST_DOCKERD_PIDFILE")
	kill -TERM "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 1; done
	sh -c 'dockerd >>/var/log/nexus-dockerd.log 2>&1 & echo $! >"$1"' sh "$NEXUS_TEST_DOCKERD_PIDFILE"
	i=0
	until curl -sf --unix-socket "$DOCKER_SOCK" http://docker/_ping >/dev/null 2>&1 || [ $i -gt 60 ]; do sleep 1; i=$((i+1)); done
	is "$(nexus sandbox status $SB --json | jq -r .status)" active "after a dockerd restart the row is still there"
	is "$(nexus sandbox status $SB --verify --json | jq -c '[.status, .verified, .provider_status]')" '["stopped",true,"stopped"]' "and --verify tells the truth: the container did not survive"
	is "$(nexus sandbox list --verify --json | jq -c --arg id $PZ '.sandboxes[] | select(.sandbox_id == $id) | [.status, .provider_status]')" \
		'["stopped","stopped"]' "so does list --verify for a sandbox paused at the restart"
	is "$(containers_of $SB):$(containers_of $PZ)" 0:0 "and no container of theirs is left"
	S2=$(nexus sandbox create after-restart --json | jq -r .sandbox_id)
	is "$(nexus sandbox run $S2 -c "print('up')")" up "sandboxes work again after the restart"
else
	for i in 1 2 3 4 5; do skip "dockerd restart: this suite did not start dockerd"; done
fi

# ---- a create that fails after its container exists leaves nothing -------
# Another process holds the database's write lock past nexus's busy timeout:
# the row cannot be written, so the container must go too.
hold_lock
run_cli nexus sandbox create doomed
release_lock
is "$rc" 1 "create fails while the database stays locked"
like "$err" "^Error: .*locked" "and says the database is locked"
is "$(engine GET "/containers/json?all=1&filters=%7B%22label%22%3A%5B%22io.nexus.name%3Ddoomed%22%5D%7D" | jq length)" 0 "no container is left behind"
is "$(nexus sandbox list --json | jq '[.sandboxes[] | select(.name == "doomed")] | length')" 0 "and no row"

# ---- parallel CLI processes never lose or corrupt rows -----------------------
before=$(nexus sandbox list --json | jq '.sandboxes | length')
dir=$(mktemp -d)
for i in 1 2 3 4 5 6 7 8 9 10; do
	( nexus sandbox create "par-$i" --json >"$dir/$i.json" 2>"$dir/$i.err"; echo $? >"$dir/$i.rc" ) &
done
wait
ok $(cat "$dir"/*.rc | grep -qv '^0$'; [ $? -ne 0 ]; echo $?) "10 parallel creates all succeed"
is "$(cat "$dir"/*.json | jq -r .sandbox_id | sort -u | wc -l)" 10 "10 distinct ids"
is "$(nexus sandbox list --json | jq '.sandboxes | length')" "$((before + 10))" "10 new rows"
for id in $(cat "$dir"/*.json | jq -r .sandbox_id); do
	( nexus sandbox run "$id" -c "print('$id')" >"$dir/run-$id" 2>&1; nexus sandbox stop "$id" >/dev/null 2>&1 ) &
done
wait
bad_runs=0
for id in $(cat "$dir"/*.json | jq -r .sandbox_id); do
	[ "$(cat "$dir/run-$id")" = "$id" ] || bad_runs=$((bad_runs + 1))
done
is "$bad_runs" 0 "10 parallel runs each print their own id"
is "$(nexus sandbox list --json | jq '[.sandboxes[] | select(.name | startswith("par-")) | select(.status == "stopped")] | length')" 10 "10 parallel stops all recorded"
rm -rf "$dir"

tap_done
