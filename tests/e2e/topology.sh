#!/usr/bin/env bash
# End to end on the local AWS: the whole two-region topology, as a user runs it.
#   make deploy ENV=local -> every stack in both regions complete -> the pieces
#   are really there -> a second deploy says "no changes" -> make destroy
#   leaves nothing tagged with the environment in either region.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
P=us-east-1
S=us-east-2

echo "e2e: make deploy ENV=local"
# Start from nothing, whatever an earlier run left.
make --no-print-directory destroy ENV=local YES=1 >/dev/null 2>&1

t0=$SECONDS
out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
cold=$((SECONDS - t0))
check "make deploy ENV=local succeeds (cold, ${cold}s)" eq "$rc" 0
[[ $rc -eq 0 ]] || echo "$out" | tail -n 30 >&2

for stack in "$P tandem-local-bootstrap" "$S tandem-local-bootstrap" "$P tandem-local-region" "$S tandem-local-region" "$P tandem-local-global"; do
  status=$(stack_status "${stack% *}" "${stack#* }")
  check "${stack#* } in ${stack% *} is complete" one_of "$status" CREATE_COMPLETE UPDATE_COMPLETE
done

vpc_cidr() { aws ec2 describe-vpcs --region "$1" --filters Name=tag:tandem:env,Values=local --query 'Vpcs[].CidrBlock' --output text; }
check "the primary VPC is 10.0.0.0/16" eq "$(vpc_cidr $P)" 10.0.0.0/16
check "the standby VPC is 10.1.0.0/16" eq "$(vpc_cidr $S)" 10.1.0.0/16

pcx=$(stack_output $P tandem-local-global VpcPeeringConnectionId)
pcx_status() { aws ec2 describe-vpc-peering-connections --region "$1" --vpc-peering-connection-ids "$pcx" --query 'VpcPeeringConnections[0].Status.Code' --output text 2>/dev/null; }
check "the peering $pcx is active in the primary region" eq "$(pcx_status $P)" active
check "and in the standby region" eq "$(pcx_status $S)" active
routes_to() {  # REGION STACK CIDR: how many of the stack's private route tables route CIDR over the peering
  local n=0 rt
  for key in PrivateRouteTable1Id PrivateRouteTable2Id; do
    rt=$(stack_output "$1" "$2" $key)
    [[ $(aws ec2 describe-route-tables --region "$1" --route-table-ids "$rt" \
      --query "RouteTables[0].Routes[?DestinationCidrBlock=='$3'].VpcPeeringConnectionId" --output text) == "$pcx" ]] && n=$((n + 1))
  done
  echo $n
}
check "both primary private route tables route 10.1.0.0/16 over the peering" eq "$(routes_to $P tandem-local-region 10.1.0.0/16)" 2
check "both standby private route tables route 10.0.0.0/16 over the peering" eq "$(routes_to $S tandem-local-region 10.0.0.0/16)" 2

for r in $P $S; do
  check "ECS service runs in $r" eq "$(aws ecs describe-services --region "$r" --cluster tandem-local --services tandem-local-app \
    --query 'services[0].serviceName' --output text)" tandem-local-app
  check "with zero tasks, kept when the deploy left DesiredCount out of the template ($r)" eq \
    "$(aws ecs describe-services --region "$r" --cluster tandem-local --services tandem-local-app \
    --query 'services[0].desiredCount' --output text)" 0
  check "the ALB in $r has blue and green target groups on /health" eq "$(aws elbv2 describe-target-groups --region "$r" \
    --names tandem-local-blue tandem-local-green --query 'TargetGroups[].HealthCheckPath' --output text)" "/health	/health"
  check "alarms in $r send to the ops topic" contains "$(aws cloudwatch describe-alarms --region "$r" --alarm-name-prefix tandem-local- \
    --query 'MetricAlarms[].AlarmActions[0]' --output text)" ":tandem-local-ops"
  check "the dashboard for $r exists" eq "$(aws cloudwatch get-dashboard --region "$r" --dashboard-name "tandem-local-$r" \
    --query DashboardName --output text 2>/dev/null)" "tandem-local-$r"
  check "the DB secret exists in $r" eq "$(aws secretsmanager describe-secret --region "$r" --secret-id tandem-local/db \
    --query Name --output text 2>/dev/null)" tandem-local/db
  check "the topology function runs provided.al2023 in $r" eq "$(aws lambda get-function --region "$r" \
    --function-name tandem-local-topology --query Configuration.Runtime --output text 2>/dev/null)" provided.al2023
done

zone=$(stack_output $P tandem-local-global HostedZoneId)
record() { aws route53 list-resource-record-sets --hosted-zone-id "$zone" \
  --query "ResourceRecordSets[?Failover=='$1'].AliasTarget.DNSName" --output text; }
check "the PRIMARY record points at the primary ALB" eq "$(record PRIMARY)" "$(stack_output $P tandem-local-region AlbDnsName)."
check "the SECONDARY record points at the standby ALB" eq "$(record SECONDARY)" "$(stack_output $S tandem-local-region AlbDnsName)."

t0=$SECONDS
out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
noop=$((SECONDS - t0))
check "a second deploy succeeds (${noop}s)" eq "$rc" 0
check "and says no changes" contains "$out" "no changes: every stack and function is up to date"

out=$(make --no-print-directory diff ENV=local 2>&1); rc=$?
check "make diff ENV=local exits 0" eq "$rc" 0
check "make diff previews every stack with no changes" eq "$(grep -c ': no changes$' <<<"$out")" 5
out=$(make --no-print-directory status ENV=local 2>&1); rc=$?
check "make status ENV=local exits 0" eq "$rc" 0
check "make status shows the roles" contains "$out" "tandem local: primary us-east-1, standby us-east-2 (from"
check "and every stack settled" eq "$(grep -cE '^  tandem-local-[a-z]+ +us-east-[12] +(CREATE|UPDATE)_COMPLETE$' <<<"$out")" 5
check "and nothing needs a person" contains "$out" "needs a person: nothing"
out=$(TANDEM_CLOUDFORMATION_ROLE_ARN=arn:aws:iam::123456789012:role/tandem-ci-dev-cloudformation make -s diff ENV=local 2>&1) && rc=0 || rc=$?
check "a CloudFormation service role is refused for the local AWS, before any change set" eq "$rc" 2
check "naming the variable and the fix" contains "$out" "TANDEM_CLOUDFORMATION_ROLE_ARN is set for the local AWS, which has no service roles: unset it for ENV=local"
out=$(make -s roles ENV=local 2>&1)
check "make roles ENV=local prints the configured roles for scripts" eq "$(grep -E '^(primary|standby)=' <<<"$out" | tr '\n' ' ')" "primary=us-east-1 standby=us-east-2 "

echo "e2e: a deploy after a failover keeps every database, secret and the global stack"
dbs() { for r in $P $S; do rds describe-db-instances --region "$r" --query 'DBInstances[].DBInstanceArn' --output text; done; }
secrets() { for r in $P $S; do aws secretsmanager describe-secret --region "$r" --secret-id tandem-local/db --query ARN --output text; done; }
dbs_before=$(dbs); secrets_before=$(secrets)
check "before: the writer exists in the primary region" contains "$dbs_before" ":db:tandem-local-db"
put_roles $S $S $P
out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
check "make deploy with the roles swapped succeeds" eq "$rc" 0
[[ $rc -eq 0 ]] || echo "$out" | tail -n 30 >&2
check "it read the roles from the state table" contains "$out" "primary us-east-2, standby us-east-1 (from the state table)"
check "the database instances are the same ones" eq "$(dbs)" "$dbs_before"
check "the DB secrets are the same ones" eq "$(secrets)" "$secrets_before"
check "make roles follows the state table (the deploy workflow pushes the image there)" eq \
  "$(make -s roles ENV=local 2>/dev/null | grep -E '^(primary|standby)=' | tr '\n' ' ')" "primary=us-east-2 standby=us-east-1 "
check "the hosted zone is the same one" eq "$(stack_output $P tandem-local-global HostedZoneId)" "$zone"
check "the peering is the same one" eq "$(stack_output $P tandem-local-global VpcPeeringConnectionId)" "$pcx"
check "no global stack was made in the new primary region" eq "$(stack_status $S tandem-local-global)" NONE
check "and keeps its database origin" eq "$(stack_output $S tandem-local-region DbOrigin)" replica
check "the PRIMARY record points at the new primary's ALB" eq "$(record PRIMARY)" "$(stack_output $S tandem-local-region AlbDnsName)."
check "the SECONDARY record points at the old primary's ALB" eq "$(record SECONDARY)" "$(stack_output $P tandem-local-region AlbDnsName)."
# Back to the configured roles (a failback's record), for the rest of the run.
sleep 1
put_roles $S $P $S
out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
check "a deploy back to the configured roles succeeds" eq "$rc" 0
check "and still keeps the database instances" eq "$(dbs)" "$dbs_before"

out=$(make --no-print-directory destroy ENV=local </dev/null 2>&1); rc=$?
check "destroy without --yes and no terminal fails (make exits 2)" eq "$rc" 2
check "and refuses, asking for confirmation" contains "$out" "destroy needs confirmation"
check "and deletes nothing" one_of "$(stack_status $P tandem-local-global)" CREATE_COMPLETE UPDATE_COMPLETE

# While this deploy's secrets exist: nothing so far logged them.
no_secrets_in_logs

t0=$SECONDS
out=$(make --no-print-directory destroy ENV=local YES=1 2>&1); rc=$?
destroy=$((SECONDS - t0))
check "make destroy ENV=local succeeds (${destroy}s)" eq "$rc" 0
[[ $rc -eq 0 ]] || echo "$out" | tail -n 20 >&2
# still_there ARN: whether a tagged resource really still exists. The local
# AWS's tagging API keeps the tags of deleted DynamoDB tables and ECS services,
# so those are checked directly; a KMS key cannot be deleted at once, on AWS
# either: a key pending deletion counts as gone.
still_there() {
  local arn=$1 region
  region=$(cut -d: -f4 <<<"$arn")
  case $arn in
    arn:aws:dynamodb:*:table/*)
      aws dynamodb describe-table --region "$region" --table-name "${arn##*/}" >/dev/null 2>&1 ;;
    arn:aws:ecs:*:service/*)
      local cluster_service=${arn#*:service/}
      [[ $(aws ecs describe-services --region "$region" --cluster "${cluster_service%/*}" \
        --services "${cluster_service#*/}" --query 'services[0].status' --output text 2>/dev/null) == ACTIVE ]] ;;
    arn:aws:kms:*)
      [[ $(aws kms describe-key --region "$region" --key-id "$arn" --query KeyMetadata.KeyState \
        --output text 2>/dev/null) != PendingDeletion ]] ;;
    *) true ;;
  esac
}
for r in $P $S; do
  left=""
  for arn in $(aws resourcegroupstaggingapi get-resources --region "$r" --tag-filters Key=tandem:env,Values=local \
    --query 'ResourceTagMappingList[].ResourceARN' --output text); do
    still_there "$arn" && left+="$arn "
  done
  check "nothing tagged tandem:env=local is left in $r" eq "$left" ""
done
echo "e2e timings: deploy cold ${cold}s, no-op ${noop}s, destroy ${destroy}s"

echo "e2e: bad input gets one line naming the fix"
tandem=$(realpath "${CARGO_TARGET_DIR:-target}/debug/tandem")
out=$(make --no-print-directory deploy ENV=staging 2>&1); rc=$?
check "make deploy with an unknown env fails (make exits 2)" eq "$rc" 2
check "an unknown env is refused naming the envs" contains "$out" 'unknown environment "staging": use one of dev, prod, local'
out=$($tandem deploy --env dev 2>&1); rc=$?
check "tandem deploy with a dev config without certificates exits 1" eq "$rc" 1
check "a dev config without certificates is refused naming the key" contains "$out" "certificate_arn is empty"
# A checkout whose dev config is complete, run with no credentials at all
# (and no instance metadata lookups): the error says how to provide them.
scratch=$(mktemp -d)
mkdir -p "$scratch/cfn" "$scratch/config"
cp cfn/*.yaml "$scratch/cfn/"
sed 's|certificate_arn = ""|certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/x"|' config/dev.toml > "$scratch/config/dev.toml"
out=$(cd "$scratch" && env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_ENDPOINT_URL -u AWS_PROFILE \
  HOME="$scratch" AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  "$tandem" status --env dev 2>&1); rc=$?
check "tandem status with no credentials for a real env exits 1" eq "$rc" 1
check "no credentials for a real env is refused naming the region and where it looked" contains "$out" \
  "no usable AWS credentials for env dev in us-east-1 (credentials from the default profile, SSO or an instance role (no AWS_PROFILE or AWS_ACCESS_KEY_ID is set)): export AWS_PROFILE"
out=$(cd "$scratch" && env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_ENDPOINT_URL AWS_PROFILE=tandem-typo \
  HOME="$scratch" AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
  "$tandem" status --env dev 2>&1); rc=$?
check "a wrong profile is named as the credentials source" eq "$rc,$(grep -c 'credentials from profile tandem-typo (AWS_PROFILE)' <<<"$out")" "1,1"
rm -rf "$scratch"

summary
