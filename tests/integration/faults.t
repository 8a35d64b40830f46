# faults.t - crashes, restarts and resource faults lose no sandbox and no
# row: nexus killed with SIGKILL in the middle of create, run and stop; a
# container removed behind nexus's back; the database locked by another
# process; the data directory's disk full; 50 CLI processes at once.
# The dockerd restart is lifecycle.t's (only when the suite started dockerd).
. "$top_srcdir/tests/integration/lib.sh"
need_docker default

now_ms() { date +%s%3N; }
ms_to_s() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# The containers labelled for a data directory (this test's by default), as
# [{id, name, state}]: what the engine holds, whatever the store says.
containers_of_dir() { # [DATA-DIR]
	local filter
	filter=$(jq -rn --arg l "io.nexus.data-dir=${1:-$NEXUS_DATA_DIR}" '{label: [$l]} | tojson | @uri')
	engine GET "/containers/json?all=1&filters=$filter" |
		jq -c '[.[] | {id: .Labels["io.nexus.sandbox-id"], name: .Labels["io.nexus.name"], state: .State}]'
}

# Run 'list --verify', the command that repairs, then print one line per
# disagreement left between the engine and the store: a container whose row
# is missing, stopped or of another state, or a live row with no container.
disagreements() {
	local rows
	rows=$(nexus sandbox list --verify --json) || { echo "list --verify failed"; return; }
	jq -rn --argjson r "$rows" --argjson c "$(containers_of_dir)" '
		($r.sandboxes | map({key: .sandbox_id, value: .status}) | from_entries) as $row |
		($c | map({key: .id, value: .state}) | from_entries) as $ctr |
		($c[] | select([$row[.id] // "missing", .state] |
				IN(["active", "running"], ["paused", "paused"]) | not) |
			"container of \(.id) is \(.state), its row \($row[.id] // "missing")"),
		($r.sandboxes[] | select(.status != "stopped" and $ctr[.sandbox_id] == null) |
			"row \(.sandbox_id) is \(.status) with no container")'
}

# agree WHAT: 0 when disagreements finds none, else each as a diagnostic.
agree() {
	local d
	d=$(disagreements)
	[ -z "$d" ] && return 0
	printf '%s\n' "$d" | while read -r l; do diag "$1: $l"; done
	return 1
}

row_status() { nexus sandbox status "$1" --json | jq -r .status; }
rows_named() { nexus sandbox list --json | jq --arg n "$1" '[.sandboxes[] | select(.name == $n)] | length'; }
containers_named() { containers_of_dir | jq --arg n "$1" '[.[] | select(.name == $n)] | length'; }
container_state() { containers_of_dir | jq -r --arg id "$1" '[.[] | select(.id == $id) | .state][0] // "gone"'; }
integrity() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$1"; }
lines() { [ -z "$1" ] && echo 0 || printf '%s\n' "$1" | wc -l; }

# kill_after MS CMD...: start CMD (a program, not a function: $! must be
# its pid), SIGKILL it MS milliseconds later; $killed is 1 if it was still
# running then.
kill_after() {
	local ms=$1 pid st=0
	shift
	"$@" >/dev/null 2>&1 &
	pid=$!
	sleep "$(ms_to_s "$ms")"
	kill -KILL $pid 2>/dev/null
	# (A redirection of its own: bash reports the killed job on stderr.)
	{ wait $pid; } 2>/dev/null || st=$?
	killed=$([ $st -eq 137 ] && echo 1 || echo 0)
}

KILLS=${KILLS:-8}
# The k-th of KILLS delays spread evenly over a measured duration.
delay() { echo $(($1 * $2 / (KILLS + 1))); }

# ---- kill -9 in the middle of create ---------------------------------------
nexus sandbox create first >/dev/null # (this one also makes the database)
t=$(now_ms)
nexus sandbox create measure >/dev/null
create_ms=$(($(now_ms) - t))
diag "a create takes $create_ms ms; killing $KILLS creates at even steps through it"
mid=0 before=0 after=0 bad=0
for k in $(seq $KILLS); do
	kill_after "$(delay $k $create_ms)" "$NEXUS_BIN" sandbox create "kc-$k"
	c=$(containers_named "kc-$k") r=$(rows_named "kc-$k")
	if [ "$killed" = 0 ] || [ "$r" = 1 ]; then after=$((after + 1))
	elif [ "$c" = 0 ]; then before=$((before + 1))
	else mid=$((mid + 1))
	fi
	agree "after killing create kc-$k" || bad=$((bad + 1))
done
diag "creates killed before their container: $before, between container and row: $mid, after the row: $after"
ok $([ $mid -ge 1 ]; echo $?) "at least one kill landed between a create's container and its row"
is "$bad" 0 "after every killed create, list --verify leaves no container without a live row and no live row without a container"
is "$(containers_of_dir | jq '[.[] | select(.name | startswith("kc-"))] | length')" \
	"$(nexus sandbox list --json | jq '[.sandboxes[] | select((.name | startswith("kc-")) and .status == "active")] | length')" \
	"every create that got its row kept its container"
run_cli nexus sandbox create after-kills --json
is "$rc" 0 "the next create succeeds"

# ---- kill -9 in the middle of run ------------------------------------------
SB=$(nexus sandbox create runner --json | jq -r .sandbox_id)
t=$(now_ms)
nexus sandbox run $SB -l bash -c 'sleep 1' >/dev/null
run_ms=$(($(now_ms) - t))
diag "a 1-second run takes $run_ms ms; killing $KILLS runs at even steps through it"
# Run in the sandbox after a kill: wait for the killed run's sleep to go,
# print how many are left, then whether the program had started and not
# ended (mid) or not (edge).
check='count() {
	n=0
	for f in /proc/[0-9]*/cmdline; do
		[ "$(tr "\0" " " <"$f" 2>/dev/null)" = "sleep 1.0K " ] && n=$((n + 1))
	done
	echo $n
}
for i in $(seq 50); do [ "$(count)" = 0 ] && break; sleep 0.1; done
count
[ -e ~/started-K ] && [ ! -e ~/ended-K ] && echo mid || echo edge'
mids= leftover=0 bad=0 next_failed=0
for k in $(seq $KILLS); do
	# Each run's sleep has its own length, to be told from the others.
	kill_after "$(delay $k $run_ms)" "$NEXUS_BIN" sandbox run $SB -l bash \
		-c "touch ~/started-$k; sleep 1.0$k; touch ~/ended-$k"
	run_cli nexus sandbox run $SB -l bash -c "${check//K/$k}"
	[ "$rc" = 0 ] || { next_failed=$((next_failed + 1)); diag "run after kill $k: $rc $err"; }
	[ "$(printf '%s\n' "$out" | head -1)" = 0 ] || leftover=$((leftover + 1))
	[ "$killed" = 1 ] && [ "$(printf '%s\n' "$out" | tail -1)" = mid ] && mids="$mids $k"
	agree "after killing run $k" || bad=$((bad + 1))
done
mid=$(echo $mids | wc -w)
diag "runs killed while their program ran: $mid of $KILLS"
ok $([ $mid -ge 1 ]; echo $?) "at least one kill landed while the program ran"
is "$next_failed" 0 "after every killed run the next run in the same sandbox works"
is "$leftover" 0 "no process of a killed run is left in the sandbox"
is "$bad" 0 "and the row and the container agree"
# Every sleep would have ended by now: a program that went on after its
# run was killed would have made its ended- file.
is "$(nexus sandbox run $SB -l bash -c "sleep 1.2; for k in $mids; do [ -e ~/ended-\$k ] && echo \$k; done; true")" "" \
	"no program whose run was killed went on to finish"
st=$(nexus sandbox status $SB --json)
is "$(( $(date -ud "$(printf '%s' "$st" | jq -r .expires_at)" +%s) - $(date -ud "$(printf '%s' "$st" | jq -r .last_active_at)" +%s) ))" 600 \
	"a killed run's hold on expiry ends with the next run"

# ---- kill -9 in the middle of stop -----------------------------------------
ids=()
for k in $(seq 0 $KILLS); do
	ids+=("$(nexus sandbox create "ks-$k" --json | jq -r .sandbox_id)")
done
t=$(now_ms)
nexus sandbox stop "${ids[0]}" >/dev/null
stop_ms=$(($(now_ms) - t))
diag "a stop takes $stop_ms ms; killing $KILLS stops at even steps through it"
mid=0 bad=0 restop=0
for k in $(seq $KILLS); do
	id=${ids[$k]}
	kill_after "$(delay $k $stop_ms)" "$NEXUS_BIN" sandbox stop "$id"
	# Mid-stop: the container is going or gone but the row still active.
	[ "$killed" = 1 ] && [ "$(row_status "$id")" = active ] &&
		[ "$(container_state "$id")" != running ] && mid=$((mid + 1))
	agree "after killing stop $k" || bad=$((bad + 1))
	run_cli nexus sandbox stop "$id"
	[ "$rc" = 0 ] && [ "$(row_status "$id")" = stopped ] &&
		[ "$(container_state "$id")" = gone ] || restop=$((restop + 1))
done
diag "stops killed between removing the container and writing the row: $mid of $KILLS"
is "$bad" 0 "after every killed stop, list --verify leaves the row and the container agreeing"
is "$restop" 0 "and stopping it again succeeds, with the row stopped and no container"

# ---- a container removed behind nexus's back -------------------------------
NB=$(nexus sandbox create neighbour --json | jq -r .sandbox_id)
V=$(nexus sandbox create removed --json | jq -r .sandbox_id)
P=$(nexus sandbox create paused-removed --json | jq -r .sandbox_id)
Q=$(nexus sandbox create pause-removed --json | jq -r .sandbox_id)
nexus sandbox pause $P >/dev/null
for id in $V $P $Q; do engine DELETE "/containers/nexus-$id?force=true" >/dev/null; done
run_cli nexus sandbox run $V -c "print(1)"
is "$rc" 125 "run in a sandbox whose container was removed fails"
like "$err" "^Error: sandbox '$V' has ended \(its container is gone\)" "with a clear error"
is "$(lines "$err")" 1 "of one line"
is "$(row_status $V)" stopped "and the row is stopped"
run_cli nexus sandbox resume $P
is "$rc" 1 "resume of a paused sandbox whose container was removed fails"
is "$(lines "$err")" 1 "with one line"
like "$err" "^Error: .*(ended|gone|no such|not found)" "that says the container is gone"
is "$(row_status $P)" stopped "and the row is stopped"
run_cli nexus sandbox pause $Q
is "$rc" 1 "pause of a sandbox whose container was removed fails"
like "$err" "^Error: .*(ended|gone|no such|not found)" "saying the container is gone"
is "$(row_status $Q)" stopped "and the row is stopped"
is "$(nexus sandbox run $NB -c "print('unaffected')")" unaffected "the neighbour still runs code"
is "$(row_status $NB)" active "and is still active"
run_cli nexus sandbox stop $V
is "$rc:$(row_status $V)" 0:stopped "stopping the removed sandbox succeeds"

# ---- the database locked by another process --------------------------------
L1=$(nexus sandbox create lock-run --json | jq -r .sandbox_id)
L2=$(nexus sandbox create lock-stop --json | jq -r .sandbox_id)
before=$(store_snapshot)
dir=$(mktemp -d)
TIMED=()
timed() { # NAME CMD...: run CMD in the background, its rc, time, stdout and stderr in $dir/NAME.*
	local name=$1
	shift
	( t=$(now_ms); rc=0; "$@" >"$dir/$name.out" 2>"$dir/$name.err" || rc=$?
	  echo "$rc $(($(now_ms) - t))" >"$dir/$name.rc" ) &
	TIMED+=($!)
}
hold_lock
timed create nexus sandbox create lock-create
timed run nexus sandbox run $L1 -l bash -c "touch ~/ran-under-lock"
timed stop nexus sandbox stop $L2
timed list nexus sandbox list --json
wait "${TIMED[@]}"
release_lock
LOCKED_MSG="^Error: the state database '$NEXUS_DATA_DIR/nexus.db' is locked by another process; try again$"
for cmd in create run stop; do
	read -r rc ms <"$dir/$cmd.rc"
	err=$(cat "$dir/$cmd.err")
	ok $([ "$rc" -ne 0 ] && [ "$ms" -ge 9000 ]; echo $?) "$cmd waits for the lock (${ms} ms), then fails (status $rc)"
	like "$err" "$LOCKED_MSG" "$cmd says the database is locked, in one line"
	is "$(lines "$err")" 1 "$cmd prints nothing more"
done
read -r rc ms <"$dir/list.rc"
is "$rc" 0 "list reads while another process writes (WAL)"
is "$(jq -r --arg id $L2 '.sandboxes[] | select(.sandbox_id == $id) | .status' "$dir/list.out")" active "and shows the rows as they were"
is "$(integrity "$NEXUS_DATA_DIR/nexus.db")" ok "the database passes integrity_check"
is "$(store_snapshot)" "$before" "no row was added or changed"
is "$(containers_named lock-create)" 0 "the failed create left no container"
run_cli nexus sandbox run $L1 -l bash -c 'ls ~'
is "$rc:$out" 0: "the locked run never ran its code, and the sandbox runs again after the release"
run_cli nexus sandbox stop $L2
is "$rc:$(row_status $L2)" 0:stopped "the stop that failed under the lock completes when run again"
is "$(disagreements)" "" "and the store and the engine agree"

# A lock that shuts readers out too: then list and status wait and fail.
TIMED=()
hold_lock readers
timed list nexus sandbox list
timed status nexus sandbox status $L1
wait "${TIMED[@]}"
release_lock
for cmd in list status; do
	read -r rc ms <"$dir/$cmd.rc"
	ok $([ "$rc" -ne 0 ] && [ "$ms" -ge 9000 ]; echo $?) "$cmd waits for a lock that shuts out readers (${ms} ms), then fails (status $rc)"
	is "$(cat "$dir/$cmd.err")" "${LOCKED_MSG:1:-1}" "$cmd says the database is locked, in one line"
done
is "$(integrity "$NEXUS_DATA_DIR/nexus.db"):$(row_status $L1)" ok:active "the database is intact after it"

# A lock held for less than the busy timeout: the command waits it out.
TIMED=()
hold_lock
timed create nexus sandbox create lock-brief
timed run nexus sandbox run $L1 -c "print('waited')"
sleep 2 # the fault: the lock is held this long
release_lock
wait "${TIMED[@]}"
for cmd in create run; do
	read -r rc ms <"$dir/$cmd.rc"
	ok $([ "$rc" -eq 0 ] && [ "$ms" -ge 1900 ]; echo $?) "$cmd waits out a 2 s lock (${ms} ms) and succeeds (status $rc)"
done
is "$(cat "$dir/run.out")" waited "the run's output is its own"
is "$(rows_named lock-brief):$(containers_named lock-brief)" 1:1 "the create made its row and its container"
rm -rf "$dir"

# ---- the data directory's disk full ----------------------------------------
FULL=$(mktemp -d "${TMPDIR:-/tmp}/nexus-full.XXXXXX")
cleanup_full() {
	for id in $(NEXUS_DATA_DIR=$FULL live_sandboxes); do
		NEXUS_DATA_DIR=$FULL nexus sandbox stop "$id" >/dev/null 2>&1
	done
	umount "$FULL" 2>/dev/null
	rmdir "$FULL"
	cleanup_sandboxes
}
trap cleanup_full EXIT
if mount -t tmpfs -o size=2m,mode=0700 nexus-faults "$FULL" 2>/dev/null; then
	full() { NEXUS_DATA_DIR=$FULL nexus "$@"; }
	F1=$(full sandbox create full-run --json | jq -r .sandbox_id)
	F2=$(full sandbox create full-stop --json | jq -r .sandbox_id)
	F3=$(full sandbox create full-resume --json | jq -r .sandbox_id)
	full sandbox pause $F3 >/dev/null
	before=$(NEXUS_DATA_DIR=$FULL store_snapshot)
	dd if=/dev/zero of="$FULL/fill" bs=16k 2>/dev/null
	is "$(df --output=avail "$FULL" | tail -1 | tr -d ' ')" 0 "the data directory's disk is full"
	FULL_MSG="^Error: cannot write the state database '$FULL/nexus.db': database or disk is full$"
	run_cli full sandbox create full-create
	is "$rc" 1 "create fails on a full disk"
	like "$err" "$FULL_MSG" "saying so, in one line"
	is "$(containers_of_dir "$FULL" | jq '[.[] | select(.name == "full-create")] | length')" 0 "and leaves no container"
	run_cli full sandbox run $F1 -l bash -c 'touch ~/ran-on-full-disk'
	is "$rc" 125 "run fails on a full disk"
	like "$err" "$FULL_MSG" "saying so, in one line"
	run_cli full sandbox stop $F2
	is "$rc" 1 "stop fails on a full disk"
	like "$err" "$FULL_MSG" "saying so, in one line"
	# Pause and resume act on the container before the row: failing, they
	# must leave the container as the row says.
	run_cli full sandbox pause $F1
	is "$rc" 1 "pause fails on a full disk"
	like "$err" "$FULL_MSG" "saying so, in one line"
	is "$(engine GET "/containers/nexus-$F1/json" | jq -r .State.Status)" running "and leaves the container running, as its row says"
	run_cli full sandbox resume $F3
	is "$rc" 1 "resume fails on a full disk"
	like "$err" "$FULL_MSG" "saying so, in one line"
	is "$(engine GET "/containers/nexus-$F3/json" | jq -r .State.Status)" paused "and leaves the container paused, as its row says"
	is "$(integrity "$FULL/nexus.db")" ok "the database passes integrity_check"
	is "$(NEXUS_DATA_DIR=$FULL store_snapshot)" "$before" "and its rows are as they were"
	rm "$FULL/fill"
	run_cli full sandbox create full-after
	is "$rc" 0 "with space again, create works"
	run_cli full sandbox run $F1 -l bash -c 'ls ~'
	is "$rc:$out" 0: "run works, and the failed run had not run its code"
	run_cli full sandbox resume $F3
	is "$rc:$(NEXUS_DATA_DIR=$FULL row_status $F3)" 0:active "resume works"
	run_cli full sandbox stop $F2
	is "$rc:$(NEXUS_DATA_DIR=$FULL row_status $F2)" 0:stopped "stop completes"
	is "$(NEXUS_DATA_DIR=$FULL disagreements)" "" "and the store and the engine agree"
else
	skip "cannot mount a tmpfs (not root?): no disk-full tests"
fi

# ---- 50 CLI processes at once ----------------------------------------------
N=50
dir=$(mktemp -d)
t=$(now_ms)
for i in $(seq $N); do
	( rc=0; timeout 300 "$NEXUS_BIN" sandbox create "par-$i" --json >"$dir/$i.json" 2>"$dir/$i.err" || rc=$?
	  echo $rc >"$dir/$i.rc" ) &
done
wait
diag "$N parallel creates took $(($(now_ms) - t)) ms"
is "$(cat "$dir"/*.rc | sort | uniq -c | sed 's/^ *//')" "$N 0" "$N parallel creates all succeed"
cat "$dir"/*.err | head -5 | while read -r l; do diag "$l"; done
PAR=$(cat "$dir"/*.json | jq -r .sandbox_id | sort -u)
is "$(lines "$PAR")" $N "$N distinct ids"
is "$(nexus sandbox list --json | jq -r '.sandboxes[] | select((.name | startswith("par-")) and .status == "active") | .sandbox_id' | sort)" \
	"$PAR" "every one has an active row"
is "$(containers_of_dir | jq -r '.[] | select((.name | startswith("par-")) and .state == "running") | .id' | sort)" \
	"$PAR" "and a running container"
t=$(now_ms)
for id in $PAR; do
	( timeout 300 "$NEXUS_BIN" sandbox run "$id" -c "print('$id')" >"$dir/run-$id" 2>&1; echo $? >"$dir/run-$id.rc" ) &
done
wait
diag "$N parallel runs took $(($(now_ms) - t)) ms"
bad=0
for id in $PAR; do
	[ "$(cat "$dir/run-$id.rc"):$(cat "$dir/run-$id")" = "0:$id" ] || { bad=$((bad + 1)); diag "run $id: $(cat "$dir/run-$id")"; }
done
is "$bad" 0 "$N parallel runs all succeed, each printing its own id"
t=$(now_ms)
for id in $PAR; do
	( timeout 300 "$NEXUS_BIN" sandbox stop "$id" >/dev/null 2>"$dir/stop-$id"; echo $? >"$dir/stop-$id.rc" ) &
done
wait
diag "$N parallel stops took $(($(now_ms) - t)) ms"
is "$(cat "$dir"/stop-*.rc | sort | uniq -c | sed 's/^ *//')" "$N 0" "$N parallel stops all succeed"
is "$(nexus sandbox list --json | jq '[.sandboxes[] | select((.name | startswith("par-")) and .status == "stopped")] | length')" \
	$N "every row is stopped"
is "$(containers_of_dir | jq '[.[] | select(.name | startswith("par-"))] | length')" 0 "and no container is left"
rm -rf "$dir"
is "$(disagreements)" "" "at the end the store and the engine agree"

tap_done
