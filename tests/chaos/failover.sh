#!/usr/bin/env bash
# Chaos, the failover function: a person forces a failover in the standby
# (us-east-2), with a fault on each kind of call the function makes on the
# way to the promotion. Whatever fails, nothing is half-done: PromoteReadReplica
# reaches AWS at most once a request, the roles are never written by a failed
# promotion, and the lock or the answer names the cause. The local AWS has
# no cross-region replica and refuses PromoteReadReplica: as `make drill`
# does, a stand-in source and replica in the standby, removed after, and a
# static file server stands in for the standby's app (its /health).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/chaos/lib.sh
S=us-east-2
FN=tandem-local-failover
OUT=.local/chaos/failover
mkdir -p "$OUT/standby-app"
TAP='{"service": "rds", "operation": "PromoteReadReplica"}'
promotions() { reached rds PromoteReadReplica; }

aws rds create-db-instance --region $S --db-instance-identifier tandem-local-chaos-source --engine mysql \
  --db-instance-class db.t4g.micro --allocated-storage 20 --master-username chaos \
  --master-user-password chaos-only-password >/dev/null
aws rds create-db-instance-read-replica --region $S --db-instance-identifier tandem-local-db-replica \
  --source-db-instance-identifier tandem-local-chaos-source >/dev/null
for _ in $(seq 1 60); do
  [[ $(aws rds describe-db-instances --region $S --db-instance-identifier tandem-local-db-replica \
    --query 'DBInstances[0].DBInstanceStatus' --output text) == available ]] && break
  sleep 1
done
echo ok >"$OUT/standby-app/health"
python3 -m http.server 18082 --bind 127.0.0.1 --directory "$OUT/standby-app" >/dev/null 2>&1 &
app=$!
finish() {
  kill "$app" 2>/dev/null
  for db in tandem-local-db-replica tandem-local-chaos-source; do
    aws rds delete-db-instance --region $S --db-instance-identifier $db --skip-final-snapshot >/dev/null 2>&1
  done
}
trap finish EXIT

roles() { state roles --region $S | jq -r '.primary // "None"'; }
# lock_error: the newest failover lock's step and error, tab-separated (None when none).
lock_error() { state locks --region $S | jq -r 'last // {} | [.step // "None", .error // "None"] | @tsv'; }
roles_before=$(roles)
# cell NAME RULE PROMOTIONS NEEDLE: one forced failover under RULE.
cell() {
  local name=$1 rule=$2 want=$3 needle=$4 t0 took error said
  # Each cell starts as a first request.
  forget_locks $S
  forget_fired
  faults "$rule" "$TAP"
  jq -nc --arg r "chaos: $name" '{action: "failover", reason: $r, force: true, dry_run: false}' >"$OUT/event.json"
  t0=$SECONDS
  error=$(aws lambda invoke --region $S --function-name $FN --payload "fileb://$OUT/event.json" "$OUT/answer.json" \
    --query FunctionError --output text)
  took=$((SECONDS - t0))
  faults
  said="$(cat "$OUT/answer.json") lock: $(lock_error)"
  check "failover under $name: PromoteReadReplica reached AWS $want time(s)" eq "$(promotions)" "$want"
  check "failover under $name: the roles were not written" eq "$(roles)" "$roles_before"
  check "failover under $name: the answer or the lock names the cause" contains "$said" "$needle"
  check "failover under $name: the lock is left claimed (held to its lease), failed, or not taken" one_of \
    "$(lock_error | cut -f1)" claimed failed None
  record failover "$name" "$want promotion(s), roles unchanged" \
    "$(promotions) promotion(s), roles $([[ $(roles) == "$roles_before" ]] && echo unchanged || echo CHANGED), error: $error" \
    "$took" "$said"
}

echo "e2e chaos: the failover function under faults"
# Without a fault the promotion reaches the local AWS, which refuses it.
cell "none" '{"service": "sts", "operation": "none"}' 1 "PromoteReadReplica"
cell "DynamoDB PutItem (the lock) throttled always" \
  '{"service": "dynamodb", "operation": "PutItem", "error": {"code": "ThrottlingException", "status": 400}}' 0 "Throttling"
# The promotion is asked for once; recording its step then fails: the lock
# stays claimed to its lease, and the roles are not written.
cell "DynamoDB UpdateItem (the lock's steps) throttled always" \
  '{"service": "dynamodb", "operation": "UpdateItem", "error": {"code": "ThrottlingException", "status": 400}}' 1 "Throttling"
cell "RDS DescribeDBInstances throttled always" \
  '{"service": "rds", "operation": "DescribeDBInstances", "error": {"code": "Throttling", "status": 400}}' 0 "Throttling"
cell "RDS PromoteReadReplica throttled always" \
  '{"service": "rds", "operation": "PromoteReadReplica", "error": {"code": "Throttling", "status": 400}}' 0 "Throttling"
cell "RDS PromoteReadReplica, connection reset always" \
  '{"service": "rds", "operation": "PromoteReadReplica", "reset": true}' 0 "connection closed"
forget_locks $S
summary
