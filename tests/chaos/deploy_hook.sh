#!/usr/bin/env bash
# Chaos, the deploy hook: a CodeDeploy lifecycle hook with a fault on each
# kind of AWS call the hook makes. CodeDeploy must always get its answer: a
# failing look at the green side is answered Failed, naming the call; a
# failing audit write does not hold the answer back; a failing report makes
# the function return an error (Lambda retries it), and the redelivery
# reports. The local AWS has no CodeDeploy, so a report that reaches it is
# refused there: the proxy's log shows that it was sent.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/chaos/lib.sh
P=us-east-1
FN=tandem-local-deploy-hook
OUT=.local/chaos/deploy-hook
mkdir -p "$OUT"
TAP='{"service": "codedeploy", "operation": "PutLifecycleEventHookExecutionStatus"}'
reports() { reached codedeploy PutLifecycleEventHookExecutionStatus; }

# hook ID: the sample hook event with its own execution id, in $OUT/ID.json.
hook() { jq --arg id "$1" '.LifecycleEventHookExecutionId = $id' events/deploy-hook-after-allow-test-traffic.json >"$OUT/$1.json"; }
# deliver ID: invokes the hook; prints the FunctionError (None when none).
deliver() {
  aws lambda invoke --region $P --function-name $FN --payload "fileb://$OUT/$1.json" "$OUT/$1.out" \
    --query FunctionError --output text
}
audit() {  # ID FIELD: one field of the hook's audit entry for execution ID (None when absent)
  state audit --region $P --kind hook --key "d-7HQK2M3TA#$1" | jq -r ".$2 // \"None\""
}

# cell NAME RULE REPORTS NEEDLE: one hook under RULE; REPORTS reports reach
# AWS on the first delivery; the audit (or, without one, the error) names NEEDLE.
cell() {
  local name=$1 rule=$2 want=$3 needle=$4 id t0 took error said
  id="chaos-$(date +%s%N | cut -c1-16)"
  hook "$id"
  forget_fired
  faults "$rule" "$TAP"
  t0=$SECONDS
  error=$(deliver "$id")
  took=$((SECONDS - t0))
  check "deploy-hook under $name: $want report(s) reached AWS" eq "$(reports)" "$want"
  said="$(audit "$id" reason) $(audit "$id" outcome) $(cat "$OUT/$id.out")"
  check "deploy-hook under $name: the audit or the error names the cause" contains "$said" "$needle"
  record deploy-hook "$name" "$want report(s)" "$(reports) report(s), error: $error" "$took" "$said"
  if [[ $want == 0 ]]; then
    faults "$TAP"
    deliver "$id" >/dev/null
    check "deploy-hook under $name: the redelivery reports" eq "$(reports)" 1
  fi
}

echo "e2e chaos: the deploy hook under faults"
cell "ELB calls throttled always (the green side cannot be read)" \
  '{"service": "elbv2", "error": {"code": "Throttling", "status": 400}}' 1 "Throttling"
cell "DynamoDB (the audit) throttled always" \
  '{"service": "dynamodb", "error": {"code": "ThrottlingException", "status": 400}}' 1 "CodeDeploy refused"
cell "the report throttled always" \
  '{"service": "codedeploy", "operation": "PutLifecycleEventHookExecutionStatus", "error": {"code": "ThrottlingException", "status": 400}}' \
  0 "Throttling"
faults
summary
