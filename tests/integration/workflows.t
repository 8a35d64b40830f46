# workflows.t - the contract's Common Workflows, run verbatim, and the
# exact JSON shape of every command.
. "$top_srcdir/tests/integration/lib.sh"
need_docker default
WORK=$(mktemp -d)
cd "$WORK" || bail "no temp dir"
trap 'cleanup_sandboxes; rm -rf "$WORK"' EXIT

# ---- Quick One-Off Execution (verbatim) --------------------------------
out=$(
SANDBOX=$(nexus sandbox create temp --json | jq -r '.sandbox_id')
nexus sandbox run $SANDBOX -c "print('Hello')"
nexus sandbox stop $SANDBOX
)
like "$out" '^Hello$' "quick one-off: run prints Hello"
like "$out" 'Stopped sandbox temp' "quick one-off: stop reports the sandbox"

# ---- Reuse Sandbox for Multiple Tasks (verbatim) -----------------------
out=$(
SANDBOX=$(nexus sandbox create batch-processor --ttl 30 --json | jq -r '.sandbox_id')

nexus sandbox run $SANDBOX -c "print('Task 1')"
nexus sandbox run $SANDBOX -c "print('Task 2')"
nexus sandbox run $SANDBOX -c "print('Task 3')"

nexus sandbox stop $SANDBOX
)
is "$(printf '%s\n' "$out" | grep '^Task')" "Task 1
Task 2
Task 3" "reuse: three tasks in order"

# ---- Data Analysis Pipeline (verbatim, with the scripts it names) -------
cat >load_data.py <<'PY'
rows = [{"city": "Oslo", "temp": 4}, {"city": "Lima", "temp": 19}, {"city": "Cairo", "temp": 25}]
import json
with open("raw.json", "w") as f:
    json.dump(rows, f)
print("loaded", len(rows))
PY
cat >transform_data.py <<'PY'
import json
import pandas as pd
df = pd.DataFrame(json.load(open("raw.json")))
df["temp_f"] = df["temp"] * 9 / 5 + 32
df.to_csv("clean.csv", index=False)
print("transformed", len(df))
PY
cat >generate_report.py <<'PY'
import pandas as pd
df = pd.read_csv("clean.csv")
with open("report.txt", "w") as f:
    f.write(f"mean temp_f: {df['temp_f'].mean():.1f}\n")
print("report written")
PY
out=$(
SANDBOX=$(nexus sandbox create data-analysis --ttl 60 --json | jq -r '.sandbox_id')

nexus sandbox run $SANDBOX -f load_data.py
nexus sandbox run $SANDBOX -f transform_data.py
nexus sandbox run $SANDBOX -f generate_report.py

nexus sandbox run $SANDBOX -c "cat report.txt"

nexus sandbox stop $SANDBOX
)
like "$out" 'loaded 3' "pipeline: load_data.py ran"
like "$out" 'transformed 3' "pipeline: transform_data.py ran (pandas)"
like "$out" 'report written' "pipeline: generate_report.py ran"
# "run -c 'cat report.txt'" is Python by default (plain python3, not
# IPython): a SyntaxError on stderr, checked in errors.t.
like "$out" 'Stopped sandbox data-analysis' "pipeline: stopped"

# ---- Multi-Language Workflow (verbatim) --------------------------------
out=$(
SANDBOX=$(nexus sandbox create multi-lang --ttl 30 --json | jq -r '.sandbox_id')

nexus sandbox run $SANDBOX -l python -c "
import json
data = {'count': 42}
with open('data.json', 'w') as f:
    json.dump(data, f)
"

nexus sandbox run $SANDBOX -l javascript -c "
const fs = require('fs');
const data = JSON.parse(fs.readFileSync('data.json'));
console.log('Count:', data.count);
"

nexus sandbox run $SANDBOX -l bash -c "
cat data.json
ls -lh
df -h
"

nexus sandbox stop $SANDBOX
)
like "$out" 'Count: 42' "multi-language: javascript reads what python wrote"
like "$out" '\{"count": 42\}' "multi-language: bash sees the same file"
like "$out" 'data\.json' "multi-language: ls lists it"
like "$out" 'Filesystem' "multi-language: df runs"

# ---- JSON shapes, field by field -----------------------------------------
keys() { printf '%s' "$1" | jq -c 'keys_unsorted'; }
types() { printf '%s' "$1" | jq -c '[.[] | type]'; }

created=$(nexus sandbox create shapes --json)
SB=$(printf '%s' "$created" | jq -r .sandbox_id)
is "$(keys "$created")" '["sandbox_id","name","user_id","agent_id","tenant_id","provider","template_id","status","created_at","last_active_at","paused_at","stopped_at","ttl_minutes","expires_at","uptime_seconds"]' "create --json has the contract's fields in order"
is "$(types "$created")" '["string","string","string","null","string","string","null","string","string","string","null","null","number","string","number"]' "create --json field types"
like "$SB" '^[a-z0-9]{21}$' "sandbox id is 21 lowercase alphanumerics"
is "$(printf '%s' "$created" | jq -r '.name + " " + .user_id + " " + .tenant_id + " " + .provider + " " + .status + " " + (.ttl_minutes|tostring)')" "shapes tester default docker active 10" "create --json values"
like "$(printf '%s' "$created" | jq -r .created_at)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$' "timestamps look like 2025-11-03T01:03:40"
c=$(printf '%s' "$created" | jq -r .created_at)
e=$(printf '%s' "$created" | jq -r .expires_at)
is "$(( $(date -ud "$e" +%s) - $(date -ud "$c" +%s) ))" 600 "expires_at = created_at + 10 minutes"

st=$(nexus sandbox status "$SB" --json)
is "$(keys "$st")" "$(keys "$created")" "status --json has the same fields as create"

ran=$(nexus sandbox run "$SB" -c "print(42)" --json)
is "$(keys "$ran")" '["stdout","stderr","exit_code","execution_time"]' "run --json fields"
is "$(types "$ran")" '["string","string","number","number"]' "run --json types"
is "$(printf '%s' "$ran" | jq -r .stdout)" "42" "run --json stdout"

listed=$(nexus sandbox list --json)
is "$(printf '%s' "$listed" | jq -c 'keys_unsorted')" '["sandboxes"]' "list --json has one key"
is "$(printf '%s' "$listed" | jq -c ".sandboxes[] | select(.sandbox_id == \"$SB\") | keys_unsorted")" '["sandbox_id","name","status","created_at","expires_at","ttl_minutes","uptime_seconds"]' "list entries have the contract's fields"
verified=$(nexus sandbox list --verify --json)
is "$(printf '%s' "$verified" | jq -c ".sandboxes[] | select(.sandbox_id == \"$SB\") | keys_unsorted")" '["sandbox_id","name","status","verified","provider_status","created_at","expires_at","ttl_minutes","uptime_seconds"]' "list --verify adds verified and provider_status"
is "$(printf '%s' "$verified" | jq -c ".sandboxes[] | select(.sandbox_id == \"$SB\") | [.verified, .provider_status]")" '[true,"active"]' "list --verify values for a live sandbox"

paused=$(nexus sandbox pause "$SB" --json)
is "$(keys "$paused")" '["sandbox_id","name","status","paused_at","expires_at"]' "pause --json fields"
is "$(printf '%s' "$paused" | jq -c '[.status, (.paused_at|type), .expires_at]')" '["paused","string",null]' "pause: paused, paused_at set, expires_at null"
resumed=$(nexus sandbox resume "$SB" --json)
is "$(keys "$resumed")" '["sandbox_id","name","status","paused_at","expires_at"]' "resume --json fields"
is "$(printf '%s' "$resumed" | jq -c '[.status, .paused_at, (.expires_at|type)]')" '["active",null,"string"]' "resume: active, paused_at null, expires_at set"
stopped=$(nexus sandbox stop "$SB" --json)
is "$(keys "$stopped")" '["sandbox_id","name","status","stopped_at","expires_at"]' "stop --json fields"
is "$(printf '%s' "$stopped" | jq -c '[.status, (.stopped_at|type), .expires_at]')" '["stopped","string",null]' "stop: stopped, stopped_at set, expires_at null"
is "$(engine GET "/containers/json?all=1&filters=%7B%22label%22%3A%5B%22io.nexus.sandbox-id%3D$SB%22%5D%7D" | jq length)" 0 "stop leaves no container"

# ---- addressing by name, agent id, human output ------------------------
nexus sandbox create by-name --agent-id agent_123 >/dev/null
run_cli nexus sandbox run by-name -c "print('by name')"
is "$out" "by name" "a sandbox can be addressed by its name"
is "$(nexus sandbox list --agent-id agent_123 --json | jq -r '[.sandboxes[].name] | join(",")')" "by-name" "list --agent-id filters by agent"
is "$(nexus sandbox status by-name --json | jq -r .agent_id)" "agent_123" "create --agent-id sets agent_id"
is "$(echo "print('test')" | nexus sandbox run by-name -c -)" "test" "-c - reads the code from standard input"
is "$(printf 'echo "$((6 * 7))"\n' | nexus sandbox run by-name -l bash -c -)" "42" "bash code from standard input"
code=$(cat <<'PY'
print('''quotes ' " $(x) `y` \\ ünï''')
PY
)
is "$(nexus sandbox run by-name -c "$code")" 'quotes '"'"' " $(x) `y` \ ünï' "code arrives byte for byte: quotes, \$(), backticks, backslash, non-ASCII"
run_cli nexus sandbox list
like "$out" 'SANDBOX ID +NAME +STATUS' "list prints a table"
like "$out" 'by-name +active' "the table shows the sandbox"
run_cli nexus sandbox status by-name
like "$out" 'Status: +active' "status prints readable fields"
nexus sandbox stop by-name >/dev/null

tap_done
