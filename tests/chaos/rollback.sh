#!/usr/bin/env bash
# Chaos, the rollback function: an alarm on a release in progress, with a
# fault on each AWS call the function makes. A throttled or failing call is
# retried (the SDK's bounded retries), then the function returns an error
# naming it, so that Lambda retries the event and then sends it to the
# dead-letter queue; what it decided is audited whenever the audit write
# itself works. A redelivery once the fault is gone finishes the job, and
# the deployment is stopped at most once, whatever failed on the way.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/chaos/lib.sh
P=us-east-1
FN=tandem-local-rollback
OUT=.local/chaos/rollback
mkdir -p "$OUT"

# incident DEPLOYMENT: records a release in progress with that deployment,
# and writes the SNS delivery of an alarm on it to $OUT/DEPLOYMENT.json.
incident() {
  local d=$1 message
  state seed-release --region $P --release-id "chaos-$d" --deployment "$d" --image chaos >/dev/null
  message=$(jq -nc --arg t "$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)-$d" \
    '{AlarmName: "tandem-local-5xx-rate", NewStateValue: "ALARM", NewStateReason: "chaos", StateChangeTime: $t}')
  jq --arg m "$message" '.Records[0].Sns.Message = $m' events/rollback-alarm-sns.json >"$OUT/$d.json"
}

# deliver DEPLOYMENT: hands the alarm to the function (as SNS does); prints
# the FunctionError (None when it returned normally).
deliver() {
  aws lambda invoke --region $P --function-name $FN --payload "fileb://$OUT/$1.json" "$OUT/$1.out" \
    --query FunctionError --output text
}

# audit KEY FIELD: one field of the rollback audit entry KEY (None when absent)
audit() {
  state audit --region $P --kind rollback --key "$1" | jq -r ".$2 // \"None\""
}

# Every rule set ends with this tap: it matches and changes nothing, so the
# proxy's log counts the StopDeployment calls that reached the local AWS.
TAP='{"service": "codedeploy", "operation": "StopDeployment"}'
stops() { reached codedeploy StopDeployment; }

# cell NAME NEEDLE RULE STOPS CLAIMED: one incident under RULE (the error
# must name NEEDLE), then the same event redelivered twice without it: in
# all, STOPS StopDeployment calls reach AWS, and the incident's claim says
# CLAIMED.
cell() {
  local name=$1 needle=$2 rule=$3 want_stops=$4 claimed=$5 d error t0 took
  d="d-CHAOS$(date +%s%N | cut -c1-13)"
  incident "$d"
  forget_fired
  faults "$rule" "$TAP"
  t0=$SECONDS
  error=$(deliver "$d")
  took=$((SECONDS - t0))
  check "rollback under $name: the function returns an error (Lambda retries, then the DLQ)" eq "$error" Unhandled
  check "rollback under $name: naming the cause" contains "$(cat "$OUT/$d.out")" "$needle"
  record rollback "$name" error "$([[ $error == Unhandled ]] && echo error || echo "$error")" "$took" \
    "$(jq -r '.errorMessage // .' "$OUT/$d.out")"
  faults "$TAP"
  deliver "$d" >/dev/null
  deliver "$d" >/dev/null
  check "rollback under $name: after two redeliveries, $want_stops StopDeployment reached AWS" eq "$(stops)" "$want_stops"
  check "rollback under $name: and the claim says so" contains "$(audit "stop#$d" outcome)" "$claimed"
}

echo "e2e chaos: the rollback function under faults"
# The local AWS has no CodeDeploy: a StopDeployment that reaches it is
# refused, and the claim records that as the action's outcome.
acted="CodeDeploy StopDeployment of"
cell "DynamoDB Query throttled always" "Throttling" \
  '{"service": "dynamodb", "operation": "Query", "error": {"code": "ThrottlingException", "status": 400}}' 1 "$acted"
cell "DynamoDB PutItem (the decision and the claim) throttled always" "Throttling" \
  '{"service": "dynamodb", "operation": "PutItem", "error": {"code": "ThrottlingException", "status": 400}}' 1 "$acted"
cell "DynamoDB PutItem of the claim only, HTTP 500 always" "InternalServerError" \
  '{"service": "dynamodb", "operation": "PutItem", "body": "contains(Item.sk.S, '"'"'#stop#'"'"')", "error": {"code": "InternalServerError", "status": 500}}' 1 "$acted"
cell "DynamoDB connection reset always" "connection" \
  '{"service": "dynamodb", "reset": true}' 1 "$acted"
# A failed action is not retried by itself (one action per incident): the
# claim says so, and the operator acts or redrives.
cell "CodeDeploy StopDeployment throttled always" "Throttling" \
  '{"service": "codedeploy", "operation": "StopDeployment", "error": {"code": "ThrottlingException", "status": 400}}' 0 \
  "not retried automatically"
# The stop happened; its outcome could not be written: the claim stays
# "acting" (the decision and reason are there), the error and the event go
# to the log and the dead-letter queue, and a redelivery does not act again.
cell "DynamoDB UpdateItem (the outcomes) throttled always" "Throttling" \
  '{"service": "dynamodb", "operation": "UpdateItem", "error": {"code": "ThrottlingException", "status": 400}}' 1 acting
faults

# The releases seeded above, so that no other suite sees them in flight.
state forget-release --region $P --release-id 'chaos-d-CHAOS*' >/dev/null
LOGS_REQUIRED=1 summary
