#!/usr/bin/env bash
# End to end on the local AWS: the ECS release engine (release_engine =
# "ecs", [ecs_release] approval = true), from a copy of config/local.toml
# that TANDEM_CONFIG_DIR points the CLI at.
#   make deploy -> the service's deployment configuration (canary, the
#   alarms with rollback, the deploy hook at both POST_* stages, the pause
#   hook), its advanced load-balancer configuration (green and the two
#   priority-1 rules), the rollback function on the ECS engine, no
#   CodeDeploy resource -> a deploy with the repository's configuration
#   (codedeploy) refused before any change -> a release, which fails cleanly
#   at its first follow-up (ministack reports no service deployment) -> an
#   alarm during an ECS release in flight: the refused StopServiceDeployment,
#   audited, one action for two deliveries -> tandem release --approve with
#   nothing waiting -> make destroy.
# It starts from no local stacks (it runs after topology.sh, which destroys
# them) and destroys what it made, so vpc_peering.sh starts clean.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
P=us-east-1
S=us-east-2
STACK=tandem-local-region
STACKS=("$P tandem-local-bootstrap" "$S tandem-local-bootstrap" "$P $STACK" "$S $STACK" "$P tandem-local-global")
OUT=.local/e2e-ecs
mkdir -p "$OUT/config"

# The local environment on the ECS engine, with approval: config/local.toml
# with release_engine before its first table, and an [ecs_release] table.
awk '!done && /^\[/ { print "release_engine = \"ecs\""; print ""; done = 1 } { print }' config/local.toml >"$OUT/config/local.toml"
printf '\n[ecs_release]\napproval = true\n' >>"$OUT/config/local.toml"
TANDEM_CONFIG_DIR=$(realpath "$OUT/config")
export TANDEM_CONFIG_DIR
cargo build --quiet -p tandem-cli || { echo "e2e: tandem (crates/cli) did not build" >&2; exit 1; }
tandem=$(realpath "${CARGO_TARGET_DIR:-target}/debug/tandem")

# Every stack's last update and status, one line each (NONE when absent).
stacks_seen() {
  local s
  for s in "${STACKS[@]}"; do
    echo "${s#* } ${s% *} $(aws cloudformation describe-stacks --region "${s% *}" --stack-name "${s#* }" \
      --query 'Stacks[0].[LastUpdatedTime, StackStatus]' --output text 2>/dev/null || echo NONE)"
  done
}

echo "e2e: the ECS release engine"
# Start from no stacks, whatever an earlier suite or run left.
if [[ $(stacks_seen | grep -vc ' NONE$') -gt 0 ]]; then
  make --no-print-directory destroy ENV=local YES=1 >"$OUT/destroy-first.log" 2>&1
fi
left=$(stacks_seen | grep -vc ' NONE$')
check "no local stack exists before the deploy" eq "$left" 0
[[ $left -eq 0 ]] || { echo "e2e: make destroy ENV=local did not clear the stacks (see $OUT/destroy-first.log); stopping" >&2; summary; exit 1; }

out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
echo "$out" >"$OUT/deploy.log"
check "make deploy ENV=local succeeds under the ECS engine" eq "$rc" 0
[[ $rc -eq 0 ]] || { echo "$out" | tail -n 30 >&2; summary; exit 1; }

service() {  # REGION: the service as ECS describes it
  aws ecs describe-services --region "$1" --cluster tandem-local --services tandem-local-app \
    --query 'services[0]' --output json
}
for r in $P $S; do
  svc=$(service $r)
  dc=$(jq '.deploymentConfiguration' <<<"$svc")
  check "the service in $r deploys with the CANARY strategy" eq "$(jq -r .strategy <<<"$dc")" CANARY
  check "of 10 % for 5 minutes, then a 15-minute bake ($r)" eq \
    "$(jq -r '[.canaryConfiguration.canaryPercent, .canaryConfiguration.canaryBakeTimeInMinutes, .bakeTimeInMinutes] | map(tostring) | join(" ")' <<<"$dc")" "10 5 15"
  # ECS answers these as numbers; a string is what the SDK cannot read back
  # (the topology function's DescribeServices of the release).
  check "and ECS holds those as numbers, which the SDK reads back ($r)" eq \
    "$(jq -r '[.canaryConfiguration.canaryPercent, .canaryConfiguration.canaryBakeTimeInMinutes, .bakeTimeInMinutes,
      (.lifecycleHooks[] | .timeoutConfiguration.timeoutInMinutes // empty)] | map(type) | unique | join(" ")' <<<"$dc")" number
  check "the four alarms roll a release back ($r)" eq \
    "$(jq -c '[.alarms.enable, .alarms.rollback, (.alarms.alarmNames | sort)]' <<<"$dc")" \
    '[true,true,["tandem-local-5xx-rate","tandem-local-latency-p99","tandem-local-unhealthy-hosts","tandem-local-unhealthy-hosts-green"]]'
  hook_arn=$(aws lambda get-function --region $r --function-name tandem-local-deploy-hook \
    --query Configuration.FunctionArn --output text)
  check "a lifecycle hook runs the deploy hook after both traffic shifts ($r)" eq \
    "$(jq -c --arg f "$hook_arn" '[.lifecycleHooks[] | select(.hookTargetArn == $f) | (.lifecycleStages | sort)]' <<<"$dc")" \
    '[["POST_PRODUCTION_TRAFFIC_SHIFT","POST_TEST_TRAFFIC_SHIFT"]]'
  check "invoked with the ECS hook role ($r)" eq \
    "$(jq -r --arg f "$hook_arn" '.lifecycleHooks[] | select(.hookTargetArn == $f) | .roleArn | sub(".*:role/"; "")' <<<"$dc")" \
    "tandem-local-ecs-hook-$r"
  check "a PAUSE hook holds the release after the test traffic, rolling back if unanswered ($r)" eq \
    "$(jq -c '[.lifecycleHooks[] | select(.targetType == "PAUSE") | [.lifecycleStages, .timeoutConfiguration.action]]' <<<"$dc")" \
    '[[["POST_TEST_TRAFFIC_SHIFT"],"ROLLBACK"]]'
  lb=$(jq '.loadBalancers[0]' <<<"$svc")
  advanced=$(jq '.advancedConfiguration' <<<"$lb")
  check "the service's load balancer names the green target group as the alternate ($r)" eq \
    "$(jq -r .alternateTargetGroupArn <<<"$advanced")" "$(stack_output $r $STACK GreenTargetGroupArn)"
  check "with blue as its target group ($r)" eq "$(jq -r .targetGroupArn <<<"$lb")" "$(stack_output $r $STACK BlueTargetGroupArn)"
  check "and the ECS infrastructure role ($r)" eq "$(jq -r '.roleArn | sub(".*:role/"; "")' <<<"$advanced")" \
    "tandem-local-ecs-infrastructure-$r"
  for listener in Prod Test; do
    rules=$(aws elbv2 describe-rules --region $r --listener-arn "$(stack_output $r $STACK ${listener}ListenerArn)" \
      --query 'Rules[?Priority==`"1"`].RuleArn' --output json)
    field=$([[ $listener == Prod ]] && echo productionListenerRule || echo testListenerRule)
    check "the ${listener,,} listener has one priority-1 rule, the service's $field ($r)" eq \
      "$(jq -c . <<<"$rules")" "$(jq -c "[.$field]" <<<"$advanced")"
  done
  check "the rollback function stops and redeploys through ECS ($r)" eq "$(aws lambda get-function-configuration \
    --region $r --function-name tandem-local-rollback --query Environment.Variables.TANDEM_RELEASE_ENGINE --output text)" ecs
  resources=$(aws cloudformation list-stack-resources --region $r --stack-name $STACK \
    --query 'StackResourceSummaries[].LogicalResourceId' --output json)
  check "the region stack has the ECS engine's resources ($r)" eq \
    "$(jq -c '[.[] | select(. == "ProdRule" or . == "TestRule" or . == "EcsInfrastructureRole" or . == "EcsHookRole")] | sort' <<<"$resources")" \
    '["EcsHookRole","EcsInfrastructureRole","ProdRule","TestRule"]'
  check "and no CodeDeploy resource ($r)" eq \
    "$(jq -c '[.[] | select(test("CodeDeploy|DeployApplication|DeploymentGroup"))]' <<<"$resources")" '[]'
done

echo "e2e: a deploy with the repository's configuration (codedeploy) is refused before any change"
before=$(stacks_seen)
out=$(env -u TANDEM_CONFIG_DIR make --no-print-directory deploy ENV=local 2>&1); rc=$?
echo "$out" >"$OUT/switch.log"
check "make deploy with release_engine codedeploy fails (make exits 2)" eq "$rc" 2
check "naming each region stack and its engine" contains "$out" \
  "tandem-local-region in $P releases with ecs, and tandem-local-region in $S releases with ecs"
check "saying nothing was changed" contains "$out" "Nothing was changed."
check "and where the migration is" contains "$out" 'docs/operating.md, "Switching the release engine"'
check "no stack was updated" eq "$(stacks_seen)" "$before"

echo "e2e: a release under the ECS engine stops, audited, at its first follow-up"
# The image must be in both regions' repositories (replication does it on AWS).
put_image x "$P" "$S"
standby_before=$(stacks_seen | grep " $S ")
count() { aws ecs list-task-definitions --region $P --family-prefix tandem-local-app \
  --query 'length(taskDefinitionArns)' --output text; }
before=$(count)
out=$(make --no-print-directory release ENV=local IMAGE=x 2>&1); rc=$?
echo "$out" >"$OUT/release.log"
newest=$(aws ecs list-task-definitions --region $P --family-prefix tandem-local-app --sort DESC \
  --query 'taskDefinitionArns[0]' --output text)
no_deployment="ECS accepted the UpdateService of tandem-local-app to $newest but reports no service deployment to follow"
check "the release fails (ministack has no service deployments)" one_of "$rc" 1 2
check "saying ECS reports no service deployment to follow" contains "$out" "$no_deployment"
check "and that the standby was not touched" contains "$out" "$S was not touched"
check "the stack rolled back through the no-op Update" eq "$(wait_stack $P $STACK)" UPDATE_ROLLBACK_COMPLETE
check "the release resource's failure says so" contains "$(failure_reasons $P $STACK)" "$no_deployment"
check "the stack is back on no image" eq "$(stack_output $P $STACK ImageTag)" none
check "a task definition was registered on the local ECS" eq "$(count)" "$((before + 1))"
check "for image x" eq "$(aws ecs describe-task-definition --region $P --task-definition "$newest" \
  --query 'taskDefinition.containerDefinitions[0].image' --output text)" "$(stack_output $P $STACK RepositoryUri):x"

check_release_failed $P x "$newest" "$no_deployment"
check "the service still runs no task" eq "$(service $P | jq .desiredCount)" 0
check "the standby was never touched: no release recorded" eq "$(record $S state)" None
check "and its stack is as it was" eq "$(stacks_seen | grep " $S ")" "$standby_before"
check "with no image" eq "$(stack_output $S $STACK ImageTag)" none

echo "e2e: an alarm during an ECS release: the refused StopServiceDeployment, audited, once"
account=$(aws sts get-caller-identity --query Account --output text)
run=$(date +%s)
seeded=e2e-ecs-$run
arn=arn:aws:ecs:$P:$account:service-deployment/tandem-local/tandem-local-app/e2e$run
state seed-release --region $P --release-id "$seeded" --deployment "$arn" --image e2e >"$OUT/seeded.json" \
  || echo "e2e: seeding the release in flight failed" >&2
topic=$(aws lambda get-function-configuration --region $P --function-name tandem-local-rollback \
  --query Environment.Variables.TANDEM_OPS_TOPIC_ARN --output text)
# The alarm's action message, as CloudWatch publishes it to the ops topic;
# the time is opaque to the function: a key of this run's own.
changed=$run-ecs
message=$(jq -nc --arg t "$changed" \
  '{AlarmName: "tandem-local-5xx-rate", NewStateValue: "ALARM", NewStateReason: "e2e: the release made it sick", StateChangeTime: $t}')
event=alarm#tandem-local-5xx-rate#Alarm#$changed
claim=stop#$arn
# settled KEY PATTERN: waits up to 30 s for the rollback entry KEY's outcome
# to match PATTERN (a bash glob); prints the entry as it stands then.
settled() {
  local entry
  for _ in $(seq 1 60); do
    entry=$(state audit --region $P --kind rollback --key "$1")
    [[ $(jq -r '.outcome // ""' <<<"$entry") == $2 ]] && break
    sleep 0.5
  done
  echo "$entry"
}
aws sns publish --region $P --topic-arn "$topic" --message "$message" >/dev/null
decided=$(settled "$event" 'failed: *')
check "the alarm is decided as a StopServiceDeployment of the release in flight" eq \
  "$(jq -r '.decision // "None"' <<<"$decided")" StopServiceDeployment
check "naming the alarm and the release" contains "$(jq -r '.reason // ""' <<<"$decided")" \
  "alarm tandem-local-5xx-rate fired while e2e was being released in $P: stop service deployment $arn with ROLLBACK"
acted=$(settled "$claim" 'failed: *')
check "the action is claimed once per service deployment, and audited failed" contains \
  "$(jq -r '.outcome // ""' <<<"$acted")" "failed: ECS StopServiceDeployment of $arn was refused (InvalidAction"
check "with the way to stop it by hand" contains "$(jq -r '.outcome // ""' <<<"$acted")" \
  "aws ecs stop-service-deployment --service-deployment-arn $arn --stop-type ROLLBACK"
check "and that it is not retried by itself" contains "$(jq -r '.outcome // ""' <<<"$acted")" \
  "not retried automatically (one action per incident)"
check "the release stays in flight (nothing was stopped)" eq "$(record $P release_id) $(record $P state)" "$seeded in-progress"
aws sns publish --region $P --topic-arn "$topic" --message "$message" >/dev/null
again=$(settled "$event" '*acted on already*')
check "the same alarm delivered again is decided again and finds the action taken" contains \
  "$(jq -r '.outcome // ""' <<<"$again")" "$claim was acted on already: one action per incident"
check "so the audit holds one action for the service deployment" eq \
  "$(state audits --region $P --kind rollback --prefix "$claim" | jq length)" 1
check "as it was first recorded" eq "$(state audit --region $P --kind rollback --key "$claim" | jq -c '[.at, .outcome]')" \
  "$(jq -c '[.at, .outcome]' <<<"$acted")"

echo "e2e: tandem release --approve | --reject with nothing waiting"
out=$("$tandem" release --env local --approve 2>&1); rc=$?
echo "$out" >"$OUT/approve.log"
check "tandem release --approve exits 1" eq "$rc" 1
check "saying nothing waits and nothing was sent" contains "$out" "nothing in env local waits for approval, so nothing was sent"
check "with the primary's release in flight and why its hooks are unknown" contains "$out" \
  "$P (primary): release $seeded of e2e is in-progress under service deployment $arn, whose hooks could not be read (ECS does not describe service deployment $arn"
check "and the standby's" contains "$out" "$S (standby): no release yet"
check "no answer was audited" eq "$(state audits --region $P --kind release --prefix "$seeded#approval" | jq length)" 0
out=$("$tandem" release --env local --approve --output json 2>/dev/null); rc=$?
check "--output json says it was not answered" eq "$rc,$(jq -r '.answered' <<<"$out" 2>/dev/null)" "1,false"
out=$("$tandem" release --env local --reject 2>&1); rc=$?
check "tandem release --reject without --reason is refused (exits 1)" eq "$rc" 1
check "asking for the reason" contains "$out" "--reject needs --reason <text>"
out=$(env -u TANDEM_CONFIG_DIR "$tandem" release --env local --approve 2>&1); rc=$?
check "--approve with the repository's configuration (codedeploy) is refused (exits 1)" eq "$rc" 1
check "naming the engine and the settings" contains "$out" \
  "env local releases through CodeDeploy, and approval is an ECS-engine feature"

# While this deploy's secrets exist (the destroy removes them and the logs).
no_secrets_in_logs --require

echo "e2e: clean up"
check "the seeded release is forgotten" eq "$(state forget-release --region $P --release-id "$seeded")" 1
out=$(make --no-print-directory destroy ENV=local YES=1 2>&1); rc=$?
echo "$out" >"$OUT/destroy.log"
check "make destroy ENV=local succeeds" eq "$rc" 0
[[ $rc -eq 0 ]] || echo "$out" | tail -n 20 >&2
check "no local stack is left" eq "$(stacks_seen | grep -vc ' NONE$')" 0

summary
