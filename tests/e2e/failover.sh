#!/usr/bin/env bash
# End to end on the local AWS: the failover function as `make deploy
# ENV=local` deploys it in both regions, and `make drill ENV=local`: the
# primary's /health stops answering, the standby's function detects and
# decides within its window, attempts the promotion, and records the local
# AWS's refusal of PromoteReadReplica as a clean failure with the roles
# unchanged; twenty triggers at once give one promotion. Then the CLI's
# failover, status and bad input, and every sample through `make invoke`.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
P=us-east-1
S=us-east-2
tandem=$(realpath "${CARGO_TARGET_DIR:-target}/debug/tandem")

echo "e2e: failover"
# make drill deploys first.
out=$(make --no-print-directory drill ENV=local 2>&1); rc=$?
check "make drill ENV=local passes" eq "$rc" 0
for r in $P $S; do
  check "the failover function is deployed in $r" eq "$(stack_output $r tandem-local-region FailoverFunctionName)" tandem-local-failover
done
check "the standby probes the primary's /health (from the config)" eq "$(aws lambda get-function-configuration --region $S \
  --function-name tandem-local-failover --query 'Environment.Variables.TANDEM_PEER_HEALTH_URL' --output text)" \
  "http://127.0.0.1:18081/health"
echo "$out" | grep -E '^  (ok|FAIL) ' | sed 's/^/    drill: /'
check "the drill says so" contains "$out" "drill: passed"
decided=$(grep -oE 'decided to promote [0-9.]+s after the fall' <<<"$out" | grep -oE '[0-9.]+s')
detected=$(grep -oE 'counted [0-9.]+s after the fall' <<<"$out" | grep -oE '[0-9.]+s')
check "it measured detection ($detected) and decision ($decided)" eq "$([[ -n $detected && -n $decided ]] && echo yes)" yes
check "the refusal is named in the lock" contains "$out" "Unknown RDS action: PromoteReadReplica"
check "twenty triggers gave one promotion" contains "$out" "20 triggers at once: 1 promotion"

roles=$(aws dynamodb get-item --region $S --table-name tandem-local-state \
  --key '{"pk":{"S":"region-roles"},"sk":{"S":"current"}}' --query 'Item.primary.S' --output text)
check "no roles were written by the failed promotion" one_of "$roles" None ""
audit=$(aws dynamodb get-item --region $S --table-name tandem-local-state \
  --key '{"pk":{"S":"audit"},"sk":{"S":"failover#promotion#0"}}' --query 'Item.outcome.S' --output text)
check "the audit trail records the failed outcome" contains "$audit" "failed: could not promote tandem-local-db-replica"

out=$($tandem status --env local 2>&1); rc=$?
check "tandem status shows the failover lock and its error" contains "$out" "us-east-2 failover lock: step failed"
check "and the last decisions" contains "$out" "us-east-2 Promote"

# The drill stopped both apps: the standby's own /health fails now.
out=$($tandem failover --env local --dry-run --reason "e2e: a planned check" 2>&1); rc=$?
check "tandem failover --dry-run while the standby is sick refuses (exit 3)" eq "$rc" 3
check "naming the standby's own /health" contains "$out" "own /health fails"

payload=$(mktemp)
aws lambda invoke --region $S --function-name tandem-local-failover --payload '{"action":"promote"}' \
  "$payload" >/dev/null 2>&1
check "a bad manual event is refused naming the field and the fix" contains "$(cat "$payload")" 'field `action` is \"promote\": use \"failover\" or \"status\"'
check "with a named error type, not a Rust type path" contains "$(cat "$payload")" '"errorType": "tandem.BadEvent"'
aws lambda invoke --region $S --function-name tandem-local-failover --payload '{"action":"failover"}' \
  "$payload" >/dev/null 2>&1
check "a manual failover without a reason is refused" contains "$(cat "$payload")" 'field `reason` is missing'
rm -f "$payload"

echo "e2e: failback"
# After a failover: us-east-2 is the primary, its promoted replica a writer.
rds create-db-instance --region $S --db-instance-identifier tandem-local-db-replica --engine mysql \
  --db-instance-class db.t4g.micro --allocated-storage 20 --master-username e2e --master-user-password e2e-password >/dev/null
put_roles $S $S $P
dbs() { for r in $P $S; do rds describe-db-instances --region "$r" --query 'DBInstances[].DBInstanceIdentifier' --output text; done; }
before=$(dbs)
out=$($tandem failback --env local </dev/null 2>&1); rc=$?
check "tandem failback without --yes and no terminal refuses" eq "$rc" 1
check "asking for a terminal or --yes" contains "$out" "run it in a terminal, or pass --yes"
out=$($tandem failback --env local --yes 2>&1); rc=$?
check "tandem failback plans from the first step" contains "$out" "[1/11] create tandem-local-db-next in us-east-1, a read replica of the writer in us-east-2"
check "the local AWS's refusal of a cross-region replica stops it (exit 1)" eq "$rc" 1
check "naming the call, the source and that nothing changed" contains "$out" "could not create tandem-local-db-next in us-east-1 from arn:aws:rds:us-east-2:"
check "nothing changed indeed" contains "$out" "nothing was changed"
check "every database is where it was" eq "$(dbs)" "$before"
rds delete-db-instance --region $S --db-instance-identifier tandem-local-db-replica --skip-final-snapshot >/dev/null
aws dynamodb delete-item --region $S --table-name tandem-local-state --key '{"pk":{"S":"region-roles"},"sk":{"S":"current"}}'

for sample in events/failover-*.json; do
  answer=$(make --no-print-directory invoke FN=failover EVENT="$sample" 2>/dev/null); rc=$?
  check "make invoke FN=failover EVENT=$sample decides" contains "$answer" '"decision"'
done
summary
