#!/usr/bin/env bash
# End to end on the local AWS: the failover function as `make deploy
# ENV=local` deploys it in both regions, and `make drill ENV=local`, the
# whole night of an outage behind the fault proxy: us-east-1 goes dark, the
# standby's function detects it, fences us-east-1 first and attempts the
# promotion (the local AWS's refusal of PromoteReadReplica is a clean,
# audited failure), twenty triggers at once give one promotion, the CLI
# works with us-east-1 dark, the promotion finishes from what a completed
# PromoteReadReplica leaves, us-east-1 comes back and fences itself, and no
# write reaches its old writer after the fence (counted here in MariaDB).
# Then the CLI's failover, status and bad input, and every sample through
# `make invoke`.
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
check "it fenced us-east-1 before promoting" contains "$out" "fenced first: us-east-1 is fenced at epoch"
check "the CLI worked with us-east-1 dark" contains "$out" "tandem status with us-east-1 dark: exit Some(3)"
check "us-east-1, back, fenced itself" contains "$out" "us-east-1's function found the newer epoch and demoted itself: Demote"
times=$(grep -E '^drill: times: ' <<<"$out")
check "it printed the night's three times: $times" contains "$times" "back -> self-fenced"

# The writes that reached us-east-1's old writer after the fence, counted in
# the database itself (the drill counted the app's answers).
fence_ms=$(grep -oE 'fence at [0-9]+ ms' <<<"$out" | grep -oE '[0-9]+')
sql() { MYSQL_PWD=$TANDEM_TEST_DB_PASSWORD mariadb -h "$TANDEM_TEST_DB_HOST" -P "$TANDEM_TEST_DB_PORT" \
  -u "$TANDEM_TEST_DB_USER" -N -e "$1"; }
after=$(sql "SELECT COUNT(*) FROM tandem_drill_us_east_1.tandem_writes WHERE UNIX_TIMESTAMP(at) * 1000 >= ${fence_ms:-0}")
check "rows in us-east-1's old writer written after the fence: $after (goal 0)" eq "$after" 0
before=$(sql "SELECT COUNT(*) FROM tandem_drill_us_east_1.tandem_writes WHERE UNIX_TIMESTAMP(at) * 1000 < ${fence_ms:-0}")
check "while rows before the fence landed there ($before)" eq "$([[ ${before:-0} -gt 0 ]] && echo yes)" yes
promoted=$(sql "SELECT COUNT(*) FROM tandem_drill_us_east_2.tandem_writes WHERE UNIX_TIMESTAMP(at) * 1000 >= ${fence_ms:-0}")
check "and the promoted writer in us-east-2 took writes after it ($promoted)" eq "$([[ ${promoted:-0} -gt 0 ]] && echo yes)" yes

start=$(grep -oE 'refuses them \(the standby\); epoch [0-9]+' <<<"$out" | grep -oE '[0-9]+$')
for r in $P $S; do
  epoch=$(state roles --region $r | jq -r '"\(.primary),\(.epoch)"')
  check "the drill restored $r's roles to us-east-1 two epochs on, as a failback would" eq "$epoch" "us-east-1,$((start + 2))"
done
audit=$(state audits --region $S --kind failover --prefix 'promotion#' | jq -r '.[].outcome')
check "the audit trail records the finished promotion" contains "$audit" "done: us-east-2 is the primary at epoch $((start + 1))"
demoted=$(state audit --region $P --kind failover --key "demoted#$((start + 1))" | jq -r '.outcome // "None"')
check "and us-east-1's trail its demotion" eq "$demoted" "fenced"

out=$($tandem status --env local 2>&1); rc=$?
check "tandem status after the restore shows us-east-1's writes open again" contains "$out" "us-east-1 writes: open (epoch $((start + 2)))"
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
# Back to us-east-1 as the primary, in both tables, at a later epoch.
put_roles $P $P $S; put_roles $S $P $S

for sample in events/failover-*.json; do
  answer=$(make --no-print-directory invoke FN=failover EVENT="$sample" 2>/dev/null); rc=$?
  check "make invoke FN=failover EVENT=$sample decides" contains "$answer" '"decision"'
done
summary
