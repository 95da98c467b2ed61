#!/usr/bin/env bash
# End to end on the local AWS: the operator's view. It reads what the
# deploy_hook.sh, failover.sh (the drill), notify.sh and release.sh suites
# recorded, so scripts/test.sh runs it after them; it checks that their
# decisions are in the state tables first and, when one is missing, stops
# naming the suite to run. It adds an alarm in each region of its own. Then:
#   - `tandem logs` shows lines from both regions, in time order; --output json gives
#     the raw events; --region/--function/--filter narrow them;
#   - `tandem audit` shows the decisions those runs recorded, merged by time;
#   - `tandem status` exits 3 while an alarm is in ALARM and 0 after it is OK;
#   - every `--output json` parses and has its documented shape;
#   - completions, and an error that names who the CLI acted as.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
P=us-east-1
S=us-east-2
OUT=.local/e2e-operator
mkdir -p "$OUT"
tandem=$(realpath "${CARGO_TARGET_DIR:-target}/debug/tandem")

echo "e2e: status, logs and audit"
out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
check "make deploy ENV=local succeeds" eq "$rc" 0
[[ $rc -eq 0 ]] || { echo "$out" | tail -n 30 >&2; }
requires hook tests/e2e/deploy_hook.sh
requires failover tests/e2e/failover.sh
requires notify tests/e2e/notify.sh
requires release tests/e2e/release.sh

alarm() { aws cloudwatch set-alarm-state --region "$1" --alarm-name "$2" --state-value "$3" --state-reason "$4" >/dev/null; }
# Every tandem alarm OK, so that the baseline is "nothing needs a person"
# (the local AWS leaves alarms without data as they were set).
for r in $P $S; do
  for name in $(aws cloudwatch describe-alarms --region $r --alarm-name-prefix tandem-local- \
    --query 'MetricAlarms[].AlarmName' --output text); do
    alarm $r "$name" OK "e2e: baseline"
  done
done

# An alarm in each region reaches that region's rollback function (alarm ->
# ops topic -> Lambda), which logs and audits a decision: lines and decisions
# of this run's own in both regions.
started=$(date +%s)
alarm $P tandem-local-latency-p99 ALARM "e2e operator: p99 is slow in $P"
alarm $S tandem-local-latency-p99 ALARM "e2e operator: p99 is slow in $S"
for _ in $(seq 1 60); do
  decided=$("$tandem" audit --env local --since 10m --kind rollback --output json 2>/dev/null \
    | jq --argjson t "$started" '[.entries[] | select(.at >= $t and (.reason | contains("latency-p99")))] | length')
  [[ ${decided:-0} -ge 2 ]] && break
  sleep 0.5
done

# status: non-zero while an alarm is in ALARM.
"$tandem" status --env local >"$OUT/status-alarm.txt" 2>&1; rc=$?
check "tandem status exits 3 while an alarm is in ALARM" eq "$rc" 3
check "and says which alarm, where, under NEEDS A PERSON" contains "$(cat "$OUT/status-alarm.txt")" \
  "  - alarm tandem-local-latency-p99 in $P is firing (e2e operator: p99 is slow in $P)"
check "it names where the roles came from" contains "$(cat "$OUT/status-alarm.txt")" "tandem local: primary"
check "it shows the last decisions" contains "$(cat "$OUT/status-alarm.txt")" "Notify (rollback): alarm tandem-local-latency-p99 fired"
"$tandem" status --env local --output json >"$OUT/status.json" 2>"$OUT/status.err"; rc=$?
check "status --output json exits 3 too" eq "$rc" 3
check "its stdout is one JSON document of the documented shape" eq "$(jq -c '[.schema, (keys | sort)]' "$OUT/status.json")" \
  '["tandem.status/1",["alarms","attention","decisions","env","failover","releases","roles","schema","stacks","unreadable"]]'
check "with both alarms, the five stacks and both regions' failover" eq \
  "$(jq -c '[([.alarms[].region] | sort), (.stacks | length), ([.failover[].region] | sort), (.decisions | length <= 5)]' "$OUT/status.json")" \
  '[["us-east-1","us-east-2"],5,["us-east-1","us-east-2"],true]'
check "the stacks carry their outputs" eq "$(jq -r '.stacks[] | select(.name == "tandem-local-region" and .region == "us-east-1") | .outputs.RollbackFunctionName' "$OUT/status.json")" tandem-local-rollback
check "and the person's lines went to stderr" contains "$(cat "$OUT/status.err")" "acting as the local AWS's test user in account 000000000000"

# status: zero once every alarm is OK again (and nothing else needs a person).
alarm $P tandem-local-latency-p99 OK "e2e operator: fast again"
alarm $S tandem-local-latency-p99 OK "e2e operator: fast again"
# The drill (tests/e2e/failover.sh) left a failed failover lock in us-east-2:
# the local AWS refuses PromoteReadReplica. That needs a person too.
"$tandem" status --env local --output json >"$OUT/status-after.json" 2>/dev/null
if jq -e '.failover[] | select(.lock.step == "failed")' "$OUT/status-after.json" >/dev/null; then
  "$tandem" status --env local >"$OUT/status-lock.txt" 2>&1; rc=$?
  check "with the alarms OK, the drill's failed failover lock still needs a person (exit 3)" eq "$rc" 3
  check "and status says which failover failed and what to do" contains "$(cat "$OUT/status-lock.txt")" \
    "  - the failover to us-east-2 failed (could not promote tandem-local-db-replica"
fi
forget_locks $P; forget_locks $S
"$tandem" status --env local >"$OUT/status-ok.txt" 2>&1; rc=$?
check "tandem status exits 0 once the alarms are OK and no lock is held" eq "$rc" 0
[[ $rc -eq 0 ]] || sed -n '/NEEDS A PERSON/,$p' "$OUT/status-ok.txt" >&2
check "and says nothing needs a person" contains "$(cat "$OUT/status-ok.txt")" "needs a person: nothing"

# logs: both regions, in time order.
"$tandem" logs --env local --since 2h >"$OUT/logs.txt" 2>"$OUT/logs.err"; rc=$?
check "tandem logs exits 0" eq "$rc" 0
for r in $P $S; do
  check "it shows lines from $r" eq "$(grep -cE "^[0-9-]+ [0-9:.]+ $r " "$OUT/logs.txt" | awk '{print ($1 > 0)}')" 1
done
check "every function that ran shows up (topology, deploy-hook, rollback, failover)" eq \
  "$(awk '{print $4}' "$OUT/logs.txt" | sort -u | grep -cxE 'topology|deploy-hook|rollback|failover')" 4
check "the lines are in time order across the regions" eq "$(cut -c1-18 "$OUT/logs.txt" | LC_ALL=C sort -c && echo sorted)" sorted
check "the rollback decisions of this run are there, with their request ids" eq \
  "$(grep -E " rollback +INFO +audited .*latency-p99" "$OUT/logs.txt" | grep -cE '\[[0-9a-f-]{36}\]$' | awk '{print ($1 >= 2)}')" 1
"$tandem" logs --env local --since 2h --region $S --function rollback --filter latency-p99 >"$OUT/logs-narrow.txt" 2>/dev/null
check "--region, --function and --filter narrow the lines" eq \
  "$(awk -v r=$S '$3 != r || $4 != "rollback"' "$OUT/logs-narrow.txt" | wc -l),$(grep -vc latency-p99 "$OUT/logs-narrow.txt"),$(wc -l <"$OUT/logs-narrow.txt" | awk '{print ($1 > 0)}')" "0,0,1"
"$tandem" logs --env local --since 2h --output json >"$OUT/logs.jsonl" 2>/dev/null
check "--output json gives one raw event a line, with region, function, id, timestamp and message" eq \
  "$(jq -sc '[length > 0, (map(keys | sort) | unique)]' "$OUT/logs.jsonl")" \
  '[true,[["event_id","function","message","region","timestamp"]]]'
# --follow: a new decision shows up while following, and SIGINT stops it cleanly.
"$tandem" logs --env local --since 1s --function rollback --follow >"$OUT/follow.txt" 2>"$OUT/follow.err" &
follower=$!
sleep 1
alarm $P tandem-local-5xx-rate ALARM "e2e operator: followed"
for _ in $(seq 1 40); do grep -q "5xx-rate" "$OUT/follow.txt" && break; sleep 0.5; done
kill -INT $follower; wait $follower; rc=$?
alarm $P tandem-local-5xx-rate OK "e2e operator: done following"
check "--follow shows the decision made after it started" contains "$(cat "$OUT/follow.txt")" "alarm tandem-local-5xx-rate fired in $P"
check "and Ctrl-C stops it with exit 0" eq "$rc,$(tail -n1 "$OUT/follow.err")" "0,tandem logs: stopped"

# audit: the decisions of the earlier suites and this one, merged by time.
"$tandem" audit --env local --since 2h >"$OUT/audit.txt" 2>&1; rc=$?
check "tandem audit exits 0" eq "$rc" 0
"$tandem" audit --env local --since 2h --output json >"$OUT/audit.json" 2>/dev/null
check "audit --output json has its documented shape" eq "$(jq -c '[.schema, (keys | sort), (.entries[0] | keys | sort)]' "$OUT/audit.json")" \
  '["tandem.audit/1",["entries","env","kind","schema","since","unreadable"],["action","at","decision","key","kind","outcome","reason","region","time"]]'
check "the entries are in time order" eq "$(jq '[.entries[].at] | . == sort' "$OUT/audit.json")" true
check "both regions' trails are in it" eq "$(jq -c '[.entries[].region] | unique' "$OUT/audit.json")" '["us-east-1","us-east-2"]'
check "the release, hook, rollback, notify and drill (failover) runs are in it" eq \
  "$(jq -c '[.entries[].kind] | unique' "$OUT/audit.json")" '["failover","hook","notify","release","rollback"]'
check "the drill's promotion decision, with its reason and outcome" contains "$(cat "$OUT/audit.txt")" "us-east-2  failover  Promote"
check "each entry says why, what was done and how it went" eq \
  "$(grep -cE '^    (why|did|outcome) ' "$OUT/audit.txt")" "$(($(jq '.entries | length' "$OUT/audit.json") * 3))"
"$tandem" audit --env local --since 2h --kind rollback --output json >"$OUT/audit-rollback.json" 2>/dev/null
check "--kind narrows to one kind" eq "$(jq -c '[.kind, ([.entries[].kind] | unique)]' "$OUT/audit-rollback.json")" '["rollback",["rollback"]]'
out=$("$tandem" audit --env local --since 2 2>&1); rc=$?
check "a bad --since is refused naming the fix" eq "$rc,$(grep -c 'use a number and a unit, such as 90s, 15m' <<<"$out")" "1,1"

check "make status OUTPUT=json keeps stdout to the one document (CI job summaries read it)" eq \
  "$(make -s status ENV=local OUTPUT=json 2>/dev/null | jq -r .schema)" tandem.status/1

# diff and release: --output json.
"$tandem" diff --env local --output json >"$OUT/diff.json" 2>/dev/null; rc=$?
check "diff --output json: every stack, no changes" eq "$rc,$(jq -c '[.schema, .changes, (.stacks | length), ([.stacks[].state] | unique)]' "$OUT/diff.json")" \
  '0,["tandem.diff/1",false,5,["no-changes"]]'
"$tandem" release --env local --image e2e-not-pushed --output json >"$OUT/release.json" 2>"$OUT/release.err"; rc=$?
check "release --output json of a missing image exits 1 with a report" eq "$rc,$(jq -c '[.schema, .released, .regions[0].region, .regions[0].ok]' "$OUT/release.json")" \
  '1,["tandem.release/1",false,"us-east-1",false]'
check "whose error names the image and the fix" contains "$(jq -r .error "$OUT/release.json")" \
  "image e2e-not-pushed is not in the ECR repository tandem-local-app in us-east-1: push it"

# completions, and who the CLI acted as on an error.
check "tandem completions bash is a valid bash script" eq "$("$tandem" completions bash | bash -n && echo valid)" valid
for shell in zsh fish; do
  check "tandem completions $shell names the commands" contains "$("$tandem" completions $shell)" "audit"
done
out=$("$tandem" logs --env local --region us-west-2 2>&1); rc=$?
check "an error names the fix and who the CLI acted as" eq "$rc,$(grep -c 'not one of local.s regions: use us-east-1 or us-east-2 \[acting as the local AWS.s test user in account 000000000000, credentials from the local AWS.s fixed test credentials\]' <<<"$out")" "1,1"

LOGS_REQUIRED=1 summary
