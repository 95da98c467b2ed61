#!/usr/bin/env bash
# End to end on the local AWS: the deploy hook as `make deploy ENV=local`
# deploys it, invoked with the samples in events/ as CodeDeploy and ECS would
# invoke it. The local AWS has no CodeDeploy and no running tasks, so the
# whole chain runs up to the report: the hook reads the test listener and
# the green target group on the local ELB, finds no targets, gives up after
# its (local) budget, audits a Failed decision in the state table, and the
# report that CodeDeploy would take is refused: a clean, audited failure.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
P=us-east-1
OUT=.local/e2e-deploy-hook
mkdir -p "$OUT"

echo "e2e: deploy-hook"
out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
check "make deploy ENV=local succeeds" eq "$rc" 0
[[ $rc -eq 0 ]] || { echo "$out" | tail -n 30 >&2; }

fn=$(aws cloudformation describe-stacks --region $P --stack-name tandem-local-region \
  --query "Stacks[0].Outputs[?OutputKey=='DeployHookFunctionName'].OutputValue" --output text)
check "the region stack made the hook function" eq "$fn" tandem-local-deploy-hook

# invoke EVENT NAME: invokes the hook with events/EVENT; the answer in $OUT/NAME.json,
# the function error type (or none) on stdout.
invoke() {
  aws lambda invoke --region $P --function-name "$fn" \
    --payload "fileb://events/$1" "$OUT/$2.json" --query FunctionError --output text 2>"$OUT/$2.err"
}
audit() {  # KEY FIELD: one field of the hook's audit entry (None when absent)
  state audit --region $P --kind hook --key "$1" | jq -r ".$2 // \"None\""
}

key="d-7HQK2M3TA#$(jq -r .LifecycleEventHookExecutionId events/deploy-hook-after-allow-test-traffic.json)"
error=$(invoke deploy-hook-after-allow-test-traffic.json codedeploy)
check "a CodeDeploy hook whose report is refused fails the invocation (for Lambda to retry)" eq "$error" Unhandled
check "the error names the call CodeDeploy refused" contains "$(cat "$OUT/codedeploy.json")" \
  "CodeDeploy refused PutLifecycleEventHookExecutionStatus (Failed for hook"
check "the decision is audited as Failed" eq "$(audit "$key" decision)" Failed
check "with the reason: no green targets within the budget" contains "$(audit "$key" reason)" \
  "has no targets yet"
check "and the refused report as its outcome" contains "$(audit "$key" outcome)" "CodeDeploy refused"
first_at=$(audit "$key" at)
invoke deploy-hook-after-allow-test-traffic.json again >/dev/null
check "a second delivery of the same hook leaves the one audit entry as it was" eq \
  "$(audit "$key" at)" "$first_at"

error=$(invoke deploy-hook-ecs-post-test-traffic-shift.json ecs)
check "an ECS hook is answered, not failed (exit: $error)" eq "$error" None
check "with IN_PROGRESS while the green targets are not there" eq "$(jq -c . "$OUT/ecs.json")" \
  '{"hookStatus":"IN_PROGRESS","callBackDelay":30}'

error=$(invoke deploy-hook-malformed.json malformed)
check "a malformed event fails the invocation" eq "$error" Unhandled
check "named tandem.BadEvent, saying what the function takes" contains "$(cat "$OUT/malformed.json")" "tandem.BadEvent"

echo "e2e: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
