# completion.t - the bash completion (completions/nexus.bash) offers the
# commands, options and values of nexus, and live sandboxes from
# 'nexus sandbox list --json'; the zsh one (completions/_nexus) loads.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/completions/nexus.bash"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# complete WORD...: the sorted suggestions, space-separated, for the
# command line WORD... with the cursor in the last WORD ('' for a new one).
complete_line() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_nexus nexus "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}

complete -p nexus 2>/dev/null | grep -q -- '-F _nexus nexus$'
ok $? "complete -F _nexus nexus is registered"

is "$(complete_line nexus '')" "admin runtime sandbox serve" "top-level commands"
is "$(complete_line nexus -)" "--help --version -h" "top-level options"
is "$(complete_line nexus s)" "sandbox serve" "top-level commands by prefix"
is "$(complete_line nexus sandbox '')" \
	"create list pause resume run status stop" "sandbox commands"
is "$(complete_line nexus sandbox r)" "resume run" "sandbox commands by prefix"
is "$(complete_line nexus runtime '')" "build list" "runtime commands"
is "$(complete_line nexus admin '')" "key" "admin commands"
is "$(complete_line nexus admin key '')" "create list revoke" \
	"admin key commands"
is "$(complete_line nexus admin key create -)" \
	"--admin --agent --help --json --tenant --user -a -h -j -t -u" \
	"admin key create options"
is "$(complete_line nexus admin key list -)" "--help --json -h -j" \
	"admin key list options"
is "$(complete_line nexus admin key revoke -)" "--help --json -h -j" \
	"admin key revoke options"
is "$(complete_line nexus serve -)" "--help --host --insecure --port -h -p" \
	"serve options"

is "$(complete_line nexus sandbox run box -)" \
	"--code --file --help --json --language --max-output --timeout -c -f -h -j -l" \
	"sandbox run options"
is "$(complete_line nexus sandbox run box --l)" "--language" \
	"sandbox run options by prefix"
is "$(complete_line nexus sandbox create x --)" \
	"--agent-id --help --isolation --json --provider --template --ttl" "sandbox create options"
is "$(complete_line nexus sandbox list -)" \
	"--agent-id --help --json --tenant-id --user-id --verify -a -h -j -t -u -v" \
	"sandbox list options"
is "$(complete_line nexus sandbox list '')" \
	"--agent-id --help --json --tenant-id --user-id --verify -a -h -j -t -u -v" \
	"no operand: an empty word gets the options"
is "$(complete_line nexus runtime build -)" "--help --mirror --suite -h" \
	"runtime build options (the source's --mirror and --suite)"
is "$(complete_line nexus runtime list -)" "--help --json -h -j" \
	"runtime list options"

is "$(complete_line nexus sandbox run box --language '')" \
	"bash javascript python" "--language values"
is "$(complete_line nexus sandbox run box -l j)" "javascript" "-l values"
is "$(complete_line nexus sandbox run box -jl '')" "bash javascript python" \
	"-l at the end of a cluster of short options"
is "$(complete_line nexus sandbox run box --language = '')" \
	"bash javascript python" "--language= (split at = by bash)"
is "$(complete_line nexus sandbox run box --language = p)" "python" \
	"--language=p (split at = by bash)"
is "$(complete_line nexus sandbox run box --language=b)" "--language=bash" \
	"--language=b in one word"
is "$(complete_line nexus sandbox create x --template '')" \
	"bash default javascript python" "--template values"
is "$(complete_line nexus sandbox run box --timeout '')" "" \
	"--timeout: no suggestions"
is "$(complete_line nexus sandbox run box --code '')" "" \
	"--code: no suggestions"
is "$(complete_line nexus runtime build python '')" "bash default javascript" \
	"runtime build: the languages not given yet"

mkdir "$tmp/dir" && touch "$tmp/dir/hello.py" "$tmp/dir/hello.sh"
is "$(complete_line nexus sandbox run box --file "$tmp/dir/hello.")" \
	"$tmp/dir/hello.py $tmp/dir/hello.sh" "--file completes files"
is "$(complete_line nexus sandbox run box -f "$tmp/dir/hello.p")" \
	"$tmp/dir/hello.py" "-f completes files"

# A stub nexus: fixed 'sandbox list --json' and 'admin key list --json'
# answers, and a log of its runs.
calls="$tmp/calls"
nexus() {
	echo "$*" >>"$calls"
	if [ "$*" = "admin key list --json" ]; then
		cat <<'EOF'
{
  "keys": [
    {"key_id": "k1live", "user_id": "alice", "admin": false, "revoked_at": null},
    {"key_id": "k2gone", "user_id": "bob", "admin": true, "revoked_at": "2025-11-03T01:03:40"},
    {"key_id": "k3live", "user_id": "carol", "agent_id": null, "revoked_at": null}
  ]
}
EOF
		return
	fi
	[ "$*" = "sandbox list --json" ] || return 2
	cat <<'EOF'
{
  "sandboxes": [
    {
      "sandbox_id": "ipi7dxuc5687axlhm5hmd",
      "name": "demo-sandbox-1",
      "status": "active",
      "created_at": "2025-11-03T01:03:40",
      "ttl_minutes": 10,
      "uptime_seconds": 123.4
    },
    {"sandbox_id":"k2mz0qv8w1c4r7t9y3p5a","name":"web \"box\"","status":"paused","expires_at":null},
    {"sandbox_id":"zz9stopped00000000000","name":"old-one","status":"stopped"},
    {
      "sandbox_id": "b4n6m8q0s2u4w6y8a0c2e",
      "name": "demo-sandbox-2",
      "status": "active"
    }
  ]
}
EOF
}

sbx_all='b4n6m8q0s2u4w6y8a0c2e demo-sandbox-1 demo-sandbox-2 ipi7dxuc5687axlhm5hmd k2mz0qv8w1c4r7t9y3p5a web\ \"box\"'
: >"$calls"
is "$(complete_line nexus sandbox run '')" "$sbx_all" \
	"run SANDBOX: ids and names of the sandboxes not stopped"
is "$(wc -l <"$calls" | tr -d ' ')" 1 "the list is asked once per completion"
is "$(complete_line nexus sandbox status demo)" \
	"demo-sandbox-1 demo-sandbox-2" "status SANDBOX by name prefix"
is "$(complete_line nexus sandbox stop ipi)" "ipi7dxuc5687axlhm5hmd" \
	"stop SANDBOX by id prefix"
is "$(complete_line nexus sandbox pause --json '')" "$sbx_all" \
	"pause SANDBOX after an option"
is "$(complete_line nexus sandbox resume web)" 'web\ \"box\"' \
	"resume SANDBOX: a name with a space and quotes, escaped"
is "$(complete_line nexus sandbox run --language bash '')" "$sbx_all" \
	"run SANDBOX after an option and its value"
: >"$calls"
is "$(complete_line nexus sandbox run demo-sandbox-1 '')" \
	"--code --file --help --json --language --max-output --timeout -c -f -h -j -l" \
	"run: with SANDBOX given, an empty word gets the options"
is "$(complete_line nexus sandbox run demo-sandbox-1 d)" "" \
	"run: no second SANDBOX"
is "$(wc -c <"$calls" | tr -d ' ')" 0 "no list when no SANDBOX is wanted"
is "$(complete_line nexus sandbox create '')" "" \
	"create NAME: no sandboxes offered"
: >"$calls"
is "$(complete_line nexus admin key revoke '')" "k1live k3live" \
	"admin key revoke KEY-ID: the keys not revoked"
is "$(cat "$calls")" "admin key list --json" "the key list is asked once"

# A nexus that fails, or says nothing useful, gives no suggestions and no
# noise.
nexus() { echo "Error: cannot open the database" >&2; return 1; }
out=$(complete_line nexus sandbox run '' 2>&1)
is "$out" "" "a failing list: no suggestions, nothing printed"
nexus() { echo 'not json'; }
is "$(complete_line nexus sandbox run '' 2>&1)" "" "a list that is not JSON: no suggestions"
unset -f nexus
out=$(PATH=$tmp/empty COMP_WORDS=(nexus sandbox run '') COMP_CWORD=3
	_nexus 2>&1; echo "[${COMPREPLY[*]}]")
is "$out" "[]" "no nexus at all: no suggestions, nothing printed"

# zsh: the completion function loads and is bound to nexus.
if command -v zsh >/dev/null 2>&1; then
	out=$(cd "$top_srcdir" && HOME=$tmp zsh -fc '
		autoload -U compinit
		fpath=(completions $fpath)
		compinit -u -D
		[[ $_comps[nexus] == _nexus ]] || { echo "not bound: $_comps[nexus]"; exit 1; }
		autoload -U +X _nexus || exit 1
		(( $+functions[_nexus] )) || { echo "not loaded"; exit 1; }
	' 2>&1)
	is "$?-$out" "0-" "zsh: compinit binds _nexus to nexus and loads it without error"
else
	skip "zsh not installed"
fi

tap_done
