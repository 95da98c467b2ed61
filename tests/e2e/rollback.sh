#!/usr/bin/env bash
# End to end on the local AWS: the rollback function as `make deploy
# ENV=local` deploys it. With a release recorded as in progress, an alarm set
# to ALARM reaches the function through alarm -> ops topic -> Lambda (the
# local AWS emits no alarm EventBridge events); the decision and the refused
# CodeDeploy call (no CodeDeploy here) land in the audit trail. The same SNS
# message delivered twice gives one decision and one action. Every sample in
# events/ runs through `make invoke` with DRY_RUN=true.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
P=us-east-1
TABLE=tandem-local-state
TOPIC=arn:aws:sns:$P:000000000000:tandem-local-ops
OUT=.local/e2e-rollback
mkdir -p "$OUT"

echo "e2e: rollback"
out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
check "make deploy ENV=local succeeds" eq "$rc" 0
[[ $rc -eq 0 ]] || { echo "$out" | tail -n 30 >&2; }
check "the region stack made the rollback function" eq \
  "$(stack_output $P tandem-local-region RollbackFunctionName)" tandem-local-rollback

# release DEPLOYMENT: records a release in progress in us-east-1, the newest
# (removed again at the end, so that no other suite sees it in flight).
FAKES=()
release() {
  local now sk; now=$(date +%s)
  sk="$(printf %013d $((now + 1)))#e2e-$1"
  FAKES+=("$sk")
  aws dynamodb put-item --region $P --table-name $TABLE --item "{
    \"pk\":{\"S\":\"release#$P\"},\"sk\":{\"S\":\"$sk\"},
    \"release_id\":{\"S\":\"e2e-$1\"},\"region\":{\"S\":\"$P\"},\"image\":{\"S\":\"e2e\"},
    \"task_definition\":{\"S\":\"arn:aws:ecs:$P:000000000000:task-definition/tandem-local-app:9\"},
    \"deployment_id\":{\"S\":\"$1\"},\"state\":{\"S\":\"in-progress\"},\"started_at\":{\"N\":\"$((now + 1))\"}}"
}
# audit SK ATTRIBUTE: one attribute of an audit entry (None when absent).
audit() {
  aws dynamodb get-item --region $P --table-name $TABLE \
    --key "{\"pk\":{\"S\":\"audit\"},\"sk\":{\"S\":\"$1\"}}" --query "Item.$2.S" --output text
}
# wait_audit SK: waits up to 30 s for the entry's outcome to be final (not "decided" or "acting"); prints it.
wait_audit() {
  local outcome
  for _ in $(seq 1 60); do
    outcome=$(audit "$1" outcome)
    [[ $outcome != None && $outcome != decided && $outcome != acting ]] && { echo "$outcome"; return; }
    sleep 0.5
  done
  echo "TIMEOUT($outcome)"
}

deployment="d-E2E$(date +%s)"
release "$deployment"
aws cloudwatch set-alarm-state --region $P --alarm-name tandem-local-5xx-rate \
  --state-value OK --state-reason "e2e: reset" >/dev/null
aws cloudwatch set-alarm-state --region $P --alarm-name tandem-local-5xx-rate \
  --state-value ALARM --state-reason "e2e: the release made it sick" >/dev/null
incident="rollback#stop#$deployment"
outcome=$(wait_audit "$incident")
check "the alarm reached the function and claimed the stop of the release's deployment" contains \
  "$outcome" "failed: CodeDeploy StopDeployment of $deployment failed"
check "the claim records the decision" eq "$(audit "$incident" decision)" StopDeployment
check "with a reason naming the alarm and the release" contains "$(audit "$incident" reason)" \
  "alarm tandem-local-5xx-rate fired while e2e was being released in $P"
check "and says it will not retry by itself" contains "$outcome" "not retried automatically"

# The same SNS message twice: one action.
deployment="d-DUP$(date +%s)"
release "$deployment"
message="{\"AlarmName\":\"tandem-local-latency-p99\",\"NewStateValue\":\"ALARM\",\"NewStateReason\":\"e2e\",\"StateChangeTime\":\"$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)-dup\"}"
event_sk="rollback#alarm#tandem-local-latency-p99#Alarm#$(jq -r .StateChangeTime <<<"$message")"
aws sns publish --region $P --topic-arn $TOPIC --message "$message" >/dev/null
first=$(wait_audit "$event_sk")
first_at=$(aws dynamodb get-item --region $P --table-name $TABLE \
  --key "{\"pk\":{\"S\":\"audit\"},\"sk\":{\"S\":\"rollback#stop#$deployment\"}}" --query Item.at.N --output text)
aws sns publish --region $P --topic-arn $TOPIC --message "$message" >/dev/null
sleep 3
check "the first delivery acted" contains "$first" "failed: CodeDeploy StopDeployment of $deployment failed"
# The first delivery's action failed (no CodeDeploy here): its decision says
# "failed:", so the redelivery is decided again, and finds the incident
# acted on already.
for _ in $(seq 1 60); do
  second=$(audit "$event_sk" outcome)
  [[ $second == *"acted on already"* ]] && break
  sleep 0.5
done
check "the second delivery was decided again, and took no second action" contains "$second" \
  "was acted on already: one action per incident"
check "and the one action as it was" eq "$(aws dynamodb get-item --region $P --table-name $TABLE \
  --key "{\"pk\":{\"S\":\"audit\"},\"sk\":{\"S\":\"rollback#stop#$deployment\"}}" --query Item.at.N --output text)" "$first_at"
check "one action record for the incident" eq "$(aws dynamodb query --region $P --table-name $TABLE \
  --key-condition-expression 'pk = :pk AND begins_with(sk, :s)' \
  --expression-attribute-values "{\":pk\":{\"S\":\"audit\"},\":s\":{\"S\":\"rollback#stop#$deployment\"}}" \
  --query Count --output text)" 1

# Every sample through `make invoke`, with DRY_RUN=true.
for sample in events/rollback-*.json; do
  answer=$(make --no-print-directory invoke FN=rollback EVENT="$sample" 2>"$OUT/invoke.err")
  check "make invoke FN=rollback EVENT=$sample decides" contains "$answer" '"decision"'
done

for sk in "${FAKES[@]}"; do
  aws dynamodb delete-item --region $P --table-name $TABLE \
    --key "{\"pk\":{\"S\":\"release#$P\"},\"sk\":{\"S\":\"$sk\"}}"
done

LOGS_REQUIRED=1 summary
