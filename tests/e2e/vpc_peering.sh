#!/usr/bin/env bash
# End to end on the local AWS: Custom::VpcPeering between two regions.
#  1. the peer: a VPC 10.1.0.0/16 and a route table in us-east-2;
#  2. Create, in us-east-1 (VPC 10.0.0.0/16, two route tables, the function):
#     the peering is active in both regions and both sides route via it;
#  3. Update moves the route from table A to table B: same peering, routes reconciled;
#  4. Delete: the peering is deleted and its routes are gone;
#  5. overlapping CIDRs: the stack ends ROLLBACK_COMPLETE with the reason,
#     and no peering was requested.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh

echo "e2e: Custom::VpcPeering"
P=us-east-1
S=us-east-2
PEER=tandem-e2e-peering-peer
MAIN=tandem-e2e-peering
BROKEN=tandem-e2e-peering-broken
# forget_logs: removes the test functions' log groups, so that the checks read this run's lines only.
forget_logs() {
  for fn in $MAIN $BROKEN; do
    aws logs delete-log-group --region $P --log-group-name "/aws/lambda/$fn-topology" 2>/dev/null
  done
}
for s in "$P $MAIN" "$P $BROKEN" "$S $PEER"; do
  aws cloudformation delete-stack --region "${s% *}" --stack-name "${s#* }" 2>/dev/null; wait_stack "${s% *}" "${s#* }" >/dev/null
done
forget_logs
key=$(package_function topology)

# peering_status REGION PCX: the peering's status code as REGION sees it.
peering_status() {
  aws ec2 describe-vpc-peering-connections --region "$1" --vpc-peering-connection-ids "$2" \
    --query 'VpcPeeringConnections[0].Status.Code' --output text
}
# route_via REGION TABLE CIDR: the peering that TABLE routes CIDR to (empty when none).
route_via() {
  aws ec2 describe-route-tables --region "$1" --route-table-ids "$2" \
    --query "RouteTables[0].Routes[?DestinationCidrBlock=='$3'].VpcPeeringConnectionId" --output text 2>/dev/null ||
    echo "(no route table $2 in $1)"
}
# peering_stack VERB STACK VPC_CIDR LOCAL_TABLES: creates or updates a us-east-1 stack with a peering.
peering_stack() {
  local params
  params=$(jq -cn --arg b "$ARTIFACTS" --arg k "$key" --arg c "$3" --arg t "$4" --arg v "$peer_vpc" --arg r "$peer_rtb" '[
    {ParameterKey: "ArtifactBucket", ParameterValue: $b}, {ParameterKey: "CodeKey", ParameterValue: $k},
    {ParameterKey: "VpcCidr", ParameterValue: $c}, {ParameterKey: "LocalTables", ParameterValue: $t},
    {ParameterKey: "PeerRegion", ParameterValue: "us-east-2"}, {ParameterKey: "PeerVpcId", ParameterValue: $v},
    {ParameterKey: "PeerVpcCidr", ParameterValue: "10.1.0.0/16"}, {ParameterKey: "PeerRouteTableId", ParameterValue: $r}]')
  aws cloudformation "$1-stack" --region $P --stack-name "$2" --capabilities CAPABILITY_NAMED_IAM \
    --template-body file://tests/fixtures/peering-stack.yaml --parameters "$params" >/dev/null
  wait_stack $P "$2"
}

# 1. The peer side.
aws cloudformation create-stack --region $S --stack-name $PEER \
  --template-body file://tests/fixtures/peering-peer.yaml >/dev/null
check "peer stack created in us-east-2" eq "$(wait_stack $S $PEER)" CREATE_COMPLETE
peer_vpc=$(stack_output $S $PEER VpcId)
peer_rtb=$(stack_output $S $PEER RouteTableId)

# 2. Create.
check "peering stack created in us-east-1" eq "$(peering_stack create $MAIN 10.0.0.0/16 A)" CREATE_COMPLETE
pcx=$(stack_output $P $MAIN PeeringId)
rtb_a=$(stack_output $P $MAIN RouteTableA)
rtb_b=$(stack_output $P $MAIN RouteTableB)
check "GetAtt VpcPeeringConnectionId gives a peering id" contains "$pcx" pcx-
check "the physical id is the peering id" eq "$(stack_output $P $MAIN PeeringRef)" "$pcx"
check "the peering is active in us-east-1" eq "$(peering_status $P "$pcx")" active
check "the peering is active in us-east-2" eq "$(peering_status $S "$pcx")" active
check "it connects the two VPCs" eq "$(aws ec2 describe-vpc-peering-connections --region $P --vpc-peering-connection-ids "$pcx" \
  --query 'VpcPeeringConnections[0].[RequesterVpcInfo.VpcId, AccepterVpcInfo.VpcId, AccepterVpcInfo.Region]' --output text)" \
  "$(stack_output $P $MAIN VpcId)	$peer_vpc	us-east-2"
check "it is tagged with its resource in the peer region too" eq "$(aws ec2 describe-vpc-peering-connections --region $S \
  --vpc-peering-connection-ids "$pcx" --query "VpcPeeringConnections[0].Tags[?Key=='tandem:logical-id'].Value" --output text)" Peering
check "table A routes 10.1.0.0/16 via the peering" eq "$(route_via $P "$rtb_a" 10.1.0.0/16)" "$pcx"
check "table B is not routed (not listed)" eq "$(route_via $P "$rtb_b" 10.1.0.0/16)" ""
check "the peer's table routes 10.0.0.0/16 via the peering" eq "$(route_via $S "$peer_rtb" 10.0.0.0/16)" "$pcx"

# 3. Update: table B instead of table A.
check "peering stack updated to table B" eq "$(peering_stack update $MAIN 10.0.0.0/16 B)" UPDATE_COMPLETE
check "the update keeps the same peering" eq "$(stack_output $P $MAIN PeeringId)" "$pcx"
check "table A no longer routes to the peer" eq "$(route_via $P "$rtb_a" 10.1.0.0/16)" ""
check "table B now routes 10.1.0.0/16 via the peering" eq "$(route_via $P "$rtb_b" 10.1.0.0/16)" "$pcx"
check "the peer's route stays" eq "$(route_via $S "$peer_rtb" 10.0.0.0/16)" "$pcx"

# 4. Delete.
aws cloudformation delete-stack --region $P --stack-name $MAIN
check "peering stack deleted" eq "$(wait_stack $P $MAIN)" NONE
check "the peering is deleted (us-east-1)" eq "$(peering_status $P "$pcx")" deleted
check "the peering is deleted (us-east-2)" eq "$(peering_status $S "$pcx")" deleted
check "the peer's route is removed" eq "$(route_via $S "$peer_rtb" 10.0.0.0/16)" ""
logs=$(aws logs filter-log-events --region $P --log-group-name "/aws/lambda/$MAIN-topology" \
  --query 'events[].message' --output text 2>/dev/null)
check "the Delete removed table B's route" contains "$logs" "Delete { table: \\\"$rtb_b\\\""
check "the function answered the Delete with SUCCESS" contains "$logs" '"request_type":"Delete","status":"Success"'
check "the function logged no ResponseURL" eq "$(grep -c cfn-response <<<"$logs")" 0

# 5. Overlapping CIDRs cannot route: the stack rolls back and says why.
check "a peering of overlapping VPCs rolls the stack back" eq "$(peering_stack create $BROKEN 10.1.0.0/16 A)" ROLLBACK_COMPLETE
# shellcheck disable=SC2016 # the backticks are literal text in the message
check "the stack events show the reason" contains "$(failure_reasons $P $BROKEN)" \
  'properties `VpcCidr` (10.1.0.0/16) and `PeerVpcCidr` (10.1.0.0/16) overlap, and AWS cannot route'
broken_id=$(aws cloudformation describe-stacks --region $P --stack-name $BROKEN --query 'Stacks[0].StackId' --output text)
check "no peering was requested for it" eq "$(aws ec2 describe-vpc-peering-connections --region $P \
  --filters "Name=tag:tandem:stack-id,Values=$broken_id" --query 'length(VpcPeeringConnections)' --output text)" 0

aws cloudformation delete-stack --region $P --stack-name $BROKEN
aws cloudformation delete-stack --region $S --stack-name $PEER
check "clean-up leaves no test stack" eq "$(wait_stack $P $BROKEN) $(wait_stack $S $PEER)" "NONE NONE"
forget_logs

summary
