#!/usr/bin/env bash
# The custom-resource framework as the work grows, on the local AWS (real
# CloudFormation running the real topology function), for `make bench`:
#   - a stack of 1, 10 and 50 Custom::CrossRegionOutputs resources (each
#     reading tandem-sample-source in us-east-2): create time, per resource
#   - one resource whose response Data is about 1, 2 and 4 KB (a source stack
#     with four outputs of 256, 512 or 1024 characters): the outcome, since
#     CloudFormation takes at most 4096 bytes of response
# Prints one JSON line per case. Needs `make deploy ENV=local` and
# scripts/sample-stacks.sh first; deletes what it made.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench-scale.sh OUTDIR}
eval "$(scripts/local-aws.sh env)"
P=us-east-1
S=us-east-2
TOKEN=$(aws cloudformation list-exports --region $P \
  --query "Exports[?Name=='tandem-local-topology-arn'].Value" --output text)
[[ -n $TOKEN && $TOKEN != None ]] || { echo "bench-scale: no tandem-local-topology-arn export; run make deploy ENV=local" >&2; exit 1; }

# readers N SOURCE KEYS...: a template with N readers of SOURCE's outputs KEYS.
readers() {
  local n=$1 source=$2; shift 2
  echo "Resources:"
  for i in $(seq 1 "$n"); do
    cat <<EOF
  Reader$i:
    Type: Custom::CrossRegionOutputs
    Properties:
      ServiceToken: $TOKEN
      ServiceTimeout: 120
      Region: $S
      StackName: $source
      OutputKeys: [$(IFS=,; echo "$*")]
EOF
  done
}

# create REGION NAME TEMPLATE: creates the stack and waits; prints
# "<seconds> <status> <reason of the first failed resource>".
create() {
  local region=$1 name=$2 template=$3 t status reason
  t=$(date +%s.%N)
  aws cloudformation create-stack --region "$region" --stack-name "$name" --template-body "file://$template" >/dev/null
  # Polled twice a second: the CLI's waiter sleeps in 5 s steps.
  while status=$(aws cloudformation describe-stacks --region "$region" --stack-name "$name" \
    --query 'Stacks[0].StackStatus' --output text) && [[ $status == *_IN_PROGRESS ]]; do
    sleep 0.5
  done
  reason=$(aws cloudformation describe-stack-events --region "$region" --stack-name "$name" \
    --query "StackEvents[?ResourceStatus=='CREATE_FAILED'] | [-1].ResourceStatusReason" --output text)
  echo "$(awk -v a="$t" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}') $status $reason"
}

delete() {
  aws cloudformation delete-stack --region "$1" --stack-name "$2"
  aws cloudformation wait stack-delete-complete --region "$1" --stack-name "$2" 2>/dev/null || true
}

for n in 1 10 50; do
  name=tandem-bench-readers-$n
  readers "$n" tandem-sample-source VpcId DbArn >"$OUT/$name.yaml"
  read -r secs status reason < <(create $P "$name" "$OUT/$name.yaml")
  jq -cn --argjson n "$n" --arg secs "$secs" --arg status "$status" --arg reason "$reason" \
    '{case: "readers", resources: $n, seconds: ($secs | tonumber), per_resource: (($secs | tonumber) / $n), status: $status, reason: (if $reason == "None" then null else $reason end)}'
  delete $P "$name"
done

for size in 256 512 1024; do
  source=tandem-bench-source-$size
  value=$(head -c "$size" /dev/zero | tr '\0' x)
  {
    echo "Resources:"
    echo "  Handle: { Type: AWS::CloudFormation::WaitConditionHandle }"
    echo "Outputs:"
    for k in A B C D; do echo "  Out$k: { Value: $value }"; done
  } >"$OUT/$source.yaml"
  create $S "$source" "$OUT/$source.yaml" >/dev/null
  name=tandem-bench-data-$size
  readers 1 "$source" OutA OutB OutC OutD >"$OUT/$name.yaml"
  read -r secs status reason < <(create $P "$name" "$OUT/$name.yaml")
  jq -cn --argjson bytes $((4 * size)) --arg secs "$secs" --arg status "$status" --arg reason "$reason" \
    '{case: "data", data_bytes: $bytes, seconds: ($secs | tonumber), status: $status, reason: (if $reason == "None" then null else $reason end)}'
  delete $P "$name"
  delete $S "$source"
done
