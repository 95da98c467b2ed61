#!/usr/bin/env bash
# Idempotency: AWS delivers events at least once. Every sample in events/
# goes to its deployed function twice; the proxy counts the calls that act
# (pass-through rules on every mutating operation tandem makes), and the
# audit trail is read before and after. After a delivery that was handled,
# the second must act on nothing; after one that failed (the samples' ids
# are made up, so many fail here) it is the retry, and is held only to the
# audit trail. Either way it writes no audit entry. Then the strong case for the custom
# resources: a Create of a VPC peering between the two regions' real VPCs,
# delivered twice, creates one peering (the second finds it by its tags).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/chaos/lib.sh
P=us-east-1
S=us-east-2
OUT=.local/chaos/idempotency
mkdir -p "$OUT"

# The operations that change something outside the state table.
ACTIONS=(
  "codedeploy StopDeployment" "codedeploy CreateDeployment" "codedeploy PutLifecycleEventHookExecutionStatus"
  "rds PromoteReadReplica" "secretsmanager PutSecretValue" "secretsmanager UpdateSecret"
  "ec2 CreateVpcPeeringConnection" "ec2 AcceptVpcPeeringConnection" "ec2 DeleteVpcPeeringConnection"
  "ec2 CreateRoute" "ec2 ReplaceRoute" "ec2 DeleteRoute"
  "ecs UpdateService" "ecs RegisterTaskDefinition" "sns Publish"
)
taps() {
  local rules=() a
  for a in "${ACTIONS[@]}"; do rules+=("{\"service\": \"${a% *}\", \"operation\": \"${a#* }\"}"); done
  faults "${rules[@]}"
}
# acted: the action calls that reached AWS since forget_fired, one per line, sorted.
acted() {
  curl -fsS -m 5 "$MB/fired?limit=10000" | jq -r '.[] | select(.action == "match") | "\(.service) \(.operation)"' | sort
}
# trail: every audit entry in both regions (key, time, outcome), sorted.
trail() {
  local r
  for r in $P $S; do
    state audits --region $r | jq -r '.[] | [.kind + "#" + .key, .at, .outcome] | @tsv'
  done | sort
}

# function_for SAMPLE: FUNCTION REGION
function_for() {
  case $(basename "$1") in
    rollback-*) echo "tandem-local-rollback $P" ;;
    deploy-hook-*) echo "tandem-local-deploy-hook $P" ;;
    failover-*) echo "tandem-local-failover $S" ;;
    *) echo "tandem-local-topology $P" ;;
  esac
}

# invoke FN REGION SAMPLE OUT: delivers SAMPLE; prints "failed" when the
# function returned an error or answered CloudFormation FAILED, else "ok".
invoke() {
  local error
  error=$(aws lambda invoke --region "$2" --function-name "$1" --payload "fileb://$3" "$4" \
    --query FunctionError --output text 2>/dev/null)
  if [[ $error != None ]] || [[ $(jq -r '.Status? // empty' "$4" 2>/dev/null) == FAILED ]]; then echo failed; else echo ok; fi
}
echo "e2e chaos: every sample delivered twice"
taps
for sample in events/*.json; do
  # notify exists only with a webhook; tests/e2e/notify.sh delivers a
  # message twice to it against its receiver (one post).
  [[ $(basename "$sample") == notify-* ]] && continue
  read -r fn region < <(function_for "$sample")
  name=$(basename "$sample" .json)
  forget_fired
  first=$(invoke "$fn" "$region" "$sample" "$OUT/$name.1")
  before=$(trail)
  forget_fired
  invoke "$fn" "$region" "$sample" "$OUT/$name.2" >/dev/null
  second=$(acted)
  # A hook answers CodeDeploy on every delivery: CodeDeploy takes one
  # status per hook and refuses the next (LifecycleEventAlreadyCompleted).
  [[ $fn == tandem-local-deploy-hook ]] && second=$(grep -v '^codedeploy PutLifecycleEventHookExecutionStatus$' <<<"$second")
  if [[ $first == ok ]]; then
    check "$name, delivered again after it was handled: no second action" eq "$second" ""
  fi
  # After a failed first delivery (mostly the samples' made-up ids) the
  # second is the retry: what it does depends on what the first left, so
  # only the audit trail is held to it here; the peering Create below is
  # the strong case, on real VPCs.
  check "$name, delivered again: the audit trail is as it was" eq "$(trail)" "$before"
  record "$fn" "$name twice (first: $first)" "$([[ $first == ok ]] && echo "no second action" || echo "any (a retry)")" \
    "$([[ -z $second ]] && echo "no second action" || echo "retried: $(tr '\n' ',' <<<"$second")")" - "-"
done

echo "e2e chaos: a peering Create delivered twice makes one peering"
vpc=$(stack_output $P tandem-local-region VpcId)
peer=$(stack_output $S tandem-local-region VpcId)
jq --arg vpc "$vpc" --arg peer "$peer" \
  --arg rt "$(stack_output $P tandem-local-region PrivateRouteTable1Id)" \
  --arg prt "$(stack_output $S tandem-local-region PrivateRouteTable1Id)" \
  --arg stack "arn:aws:cloudformation:$P:000000000000:stack/tandem-chaos-idem/$(date +%s)" '
  .StackId = $stack | .LogicalResourceId = "IdempotentPeer" | .RequestId = ($stack + "-create")
  | .ResourceProperties += {VpcId: $vpc, PeerVpcId: $peer, VpcCidr: "10.0.0.0/16", PeerVpcCidr: "10.1.0.0/16",
                            RouteTableIds: [$rt], PeerRouteTableIds: [$prt]}' events/vpc-peering-create.json >"$OUT/peer-create.json"
forget_fired
for k in 1 2; do
  aws lambda invoke --region $P --function-name tandem-local-topology --payload "fileb://$OUT/peer-create.json" \
    "$OUT/peer-create.$k" >/dev/null 2>&1
  acted >"$OUT/peer-create.acted.$k"
done
first=$(grep -c '^ec2 CreateVpcPeeringConnection$' "$OUT/peer-create.acted.1")
both=$(grep -c '^ec2 CreateVpcPeeringConnection$' "$OUT/peer-create.acted.2")
check "the first Create requests one peering" eq "$first" 1
check "the second Create requests none (one in all)" eq "$both" 1
pcx=$(aws ec2 describe-vpc-peering-connections --region $P \
  --filters "Name=tag:tandem:logical-id,Values=IdempotentPeer" --query 'VpcPeeringConnections[].VpcPeeringConnectionId' --output text)
check "one peering carries the resource's tags" eq "$(wc -w <<<"$pcx")" 1
record tandem-local-topology "VpcPeering Create twice" "1 peering" "$(wc -w <<<"$pcx") peering(s)" - "$pcx"
for id in $pcx; do
  jq --arg id "$id" '.RequestType = "Delete" | .PhysicalResourceId = $id | .RequestId += "-delete"' \
    "$OUT/peer-create.json" >"$OUT/peer-delete.json"
  aws lambda invoke --region $P --function-name tandem-local-topology --payload "fileb://$OUT/peer-delete.json" \
    "$OUT/peer-delete.out" >/dev/null 2>&1
done
faults
summary
