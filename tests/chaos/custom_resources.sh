#!/usr/bin/env bash
# Chaos, custom resources: every custom resource the topology function
# serves x every fault, each a real stack (tests/chaos/cr-stack.yaml) on the
# local AWS with the fault on one call the function makes for it. Each cell
# asserts that the stack reaches a terminal state within the function's
# timeout + 60 s (900 + 60), and that a failure's reason names its cause.
# Then: a handler panic, and bad properties.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/chaos/lib.sh
P=us-east-1
S=us-east-2
BOUND=960   # the topology function's Timeout (900 s) + 60 s
TEMPLATE=tests/chaos/cr-stack.yaml
peer_vpc=$(stack_output $S tandem-local-region VpcId)
peer_table=$(stack_output $S tandem-local-region PrivateRouteTable1Id)
repository=$(stack_output $P tandem-local-region RepositoryUri)
n=0

# run_cell KIND FAULT EXPECTED REASON_NEEDLE [RULE]: one stack of KIND under
# RULE; EXPECTED is CREATE_COMPLETE or CREATE_FAILED; a failure's reason must
# contain REASON_NEEDLE.
run_cell() {
  local kind=$1 fault=$2 expected=$3 needle=$4 rule=${5:-} stack status reason t0 took
  n=$((n + 1))
  stack="tandem-chaos-$kind-$n"
  if [[ -n $rule ]]; then faults "$rule" || return; else faults; fi
  t0=$SECONDS
  aws cloudformation create-stack --region $P --stack-name "$stack" --template-body "file://$TEMPLATE" \
    --disable-rollback --parameters \
    ParameterKey=Kind,ParameterValue="$kind" ParameterKey=PeerVpcId,ParameterValue="$peer_vpc" \
    ParameterKey=PeerRouteTableId,ParameterValue="$peer_table" \
    ParameterKey=RepositoryUri,ParameterValue="$repository" ParameterKey=Nonce,ParameterValue="$n" >/dev/null
  status=$(stack_status $P "$stack")
  while [[ $status == *_IN_PROGRESS && $((SECONDS - t0)) -lt $BOUND ]]; do
    sleep 1; status=$(stack_status $P "$stack")
  done
  took=$((SECONDS - t0))
  faults
  # The custom resource's own reason (the stack's line repeats it).
  reason=$(failure_reasons $P "$stack" | awk -F'\t' -v s="$stack" '$1 != s {print $2; exit}')
  check "$kind under $fault: $expected within ${BOUND}s (took ${took}s)" eq "$status" "$expected"
  if [[ $expected == CREATE_FAILED ]]; then
    check "$kind under $fault: the reason names the cause" contains "$reason" "$needle"
    check "$kind under $fault: and never a Rust Debug dump" not_debug "$reason"
  fi
  # The image's repository address says nothing in the matrix.
  reason=${reason//"$repository"/<repository>}
  record "$kind" "$fault" "$expected" "$status" "$took" "${reason:-(none)}"
  aws cloudformation delete-stack --region $P --stack-name "$stack"
  check "$kind under $fault: the stack deletes once the fault is gone" one_of "$(wait_stack $P "$stack")" NONE DELETE_COMPLETE
}

# not_debug TEXT: no `Struct { field: ... }` or `Variant("...")` in TEXT.
not_debug() {
  if grep -Eq '[A-Z][A-Za-z]+ \{ [a-z_]+: |[A-Z][A-Za-z]+\("' <<<"$1"; then
    echo "       a Debug dump: ${1:0:300}" >&2; return 1
  fi
}

# The faults, as microburst rules for SERVICE/OPERATION (THROTTLE is that
# service's throttling code, ERROR500 and ERROR503 its server errors).
matrix() {
  local kind=$1 service=$2 op=$3 throttle=$4 error500=$5 error503=$6 clean=$7 clean_needle=$8
  local on="\"service\": \"$service\", \"operation\": \"$op\""
  echo "e2e chaos: $kind, faults on $service $op"
  run_cell "$kind" none "$clean" "$clean_needle"
  run_cell "$kind" "throttled twice, then served" "$clean" "$clean_needle" \
    "{$on, \"times\": 2, \"error\": {\"code\": \"$throttle\", \"status\": 400}}"
  run_cell "$kind" "throttled always" CREATE_FAILED "$throttle" \
    "{$on, \"error\": {\"code\": \"$throttle\", \"status\": 400}}"
  run_cell "$kind" "HTTP 500 always" CREATE_FAILED "$error500" \
    "{$on, \"error\": {\"code\": \"$error500\", \"status\": 500}}"
  run_cell "$kind" "HTTP 503 always" CREATE_FAILED "$error503" \
    "{$on, \"error\": {\"code\": \"$error503\", \"status\": 503}}"
  run_cell "$kind" "connection reset always" CREATE_FAILED "connection closed before message completed" \
    "{$on, \"reset\": true}"
  run_cell "$kind" "25 s latency, past each attempt's 20 s" CREATE_FAILED "did not answer within the client's timeout" \
    "{$on, \"latency\": {\"min\": 25000, \"max\": 25000}}"
  run_cell "$kind" "a hang (no answer for 10 min)" CREATE_FAILED "did not answer within the client's timeout" \
    "{$on, \"timeout_ms\": 600000}"
}

echo "e2e chaos: custom resources under faults"
matrix outputs cloudformation DescribeStacks Throttling InternalFailure ServiceUnavailable CREATE_COMPLETE ""
matrix peering ec2 CreateVpcPeeringConnection RequestLimitExceeded InternalError Unavailable CREATE_COMPLETE ""
# The local AWS has no CodeDeploy: with no fault, the release fails there, naming it.
matrix bluegreen ecs RegisterTaskDefinition ThrottlingException ServerException ServiceUnavailableException \
  CREATE_FAILED CreateDeployment

echo "e2e chaos: a handler that panics, and bad properties"
fn=tandem-local-topology
env_before=$(aws lambda get-function-configuration --region $P --function-name $fn --query Environment.Variables --output json)
aws lambda update-function-configuration --region $P --function-name $fn \
  --environment "$(jq -c '{Variables: (. + {TANDEM_CHAOS_PANIC: "Custom::CrossRegionOutputs"})}' <<<"$env_before")" >/dev/null
run_cell outputs "a panic in the handler" CREATE_FAILED "internal error: the handler panicked (make chaos asked"
aws lambda update-function-configuration --region $P --function-name $fn \
  --environment "$(jq -c '{Variables: .}' <<<"$env_before")" >/dev/null
run_cell badprops "bad properties (Region us-nowhere-9)" CREATE_FAILED "us-nowhere-9"

summary
