#!/usr/bin/env bash
# End to end on the local AWS: `make release ENV=local IMAGE=x` runs the
# whole chain of a release up to the one call the local AWS refuses: the
# stack update of ImageTag, the Custom::BlueGreenDeployment resource in the
# topology function, a task definition registered on the local ECS, the
# release recorded in the state table, then CodeDeploy's CreateDeployment
# (no CodeDeploy here). The release must fail cleanly: the stack update fails
# naming CodeDeploy, the stack rolls back through the resource's no-op
# Update, the release record says failed, the standby is never touched, and
# nothing is left in flight.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
P=us-east-1
S=us-east-2
STACK=tandem-local-region
OUT=.local/e2e-release
mkdir -p "$OUT"

echo "e2e: release"
out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
check "make deploy ENV=local succeeds" eq "$rc" 0
[[ $rc -eq 0 ]] || { echo "$out" | tail -n 30 >&2; }
check "before any release the stack has no image" eq "$(stack_output $P $STACK ImageTag)" none
check "and the service runs no task" eq "$(aws ecs describe-services --region $P --cluster tandem-local \
  --services tandem-local-app --query 'services[0].desiredCount' --output text)" 0

# The image must be in both regions' repositories (replication does it on AWS).
put_image x "$P" "$S"

before=$(aws ecs list-task-definitions --region $P --family-prefix tandem-local-app \
  --query 'length(taskDefinitionArns)' --output text)
out=$(make --no-print-directory release ENV=local IMAGE=x 2>&1); rc=$?
echo "$out" >"$OUT/release.log"
check "the release fails (no CodeDeploy on the local AWS)" one_of "$rc" 1 2
check "naming the region and CodeDeploy" contains "$out" "CodeDeploy CreateDeployment in tandem-local/tandem-local-app was refused"
check "and stopping before the standby" contains "$out" "$P"

check "the stack rolled back through the no-op Update" eq "$(wait_stack $P $STACK)" UPDATE_ROLLBACK_COMPLETE
check "the release resource's failure names CodeDeploy" contains "$(failure_reasons $P $STACK)" \
  "CodeDeploy CreateDeployment"
check "the stack is back on no image" eq "$(stack_output $P $STACK ImageTag)" none

after=$(aws ecs list-task-definitions --region $P --family-prefix tandem-local-app \
  --query 'length(taskDefinitionArns)' --output text)
check "a task definition was registered on the local ECS" eq "$after" "$((before + 1))"
newest=$(aws ecs list-task-definitions --region $P --family-prefix tandem-local-app --sort DESC \
  --query 'taskDefinitionArns[0]' --output text)
container=$(aws ecs describe-task-definition --region $P --task-definition "$newest" \
  --query 'taskDefinition.containerDefinitions[0]' --output json)
check "for image x" eq "$(jq -r .image <<<"$container")" "$(stack_output $P $STACK RepositoryUri):x"
check "with its tag in the environment" eq \
  "$(jq -r '.environment[] | select(.name=="TANDEM_IMAGE_TAG") | .value' <<<"$container")" x
check "and no region role baked in" eq "$(jq '[.environment[] | select(.name=="TANDEM_REGION_ROLE")] | length' <<<"$container")" 0
check "tagged with its settings' fingerprint" eq "$(aws ecs describe-task-definition --region $P \
  --task-definition "$newest" --include TAGS --query "tags[?key=='tandem:spec'] | length(@)" --output text)" 1

check_release_failed $P x "$newest" "CodeDeploy CreateDeployment"
check "the service still runs no task" eq "$(aws ecs describe-services --region $P --cluster tandem-local \
  --services tandem-local-app --query 'services[0].desiredCount' --output text)" 0
check "the standby was never touched" eq "$(record $S state)" None
check "and its stack has no image" eq "$(stack_output $S $STACK ImageTag)" none

status=$(make --no-print-directory status ENV=local 2>&1)
check "tandem status shows the failed release" contains "$status" "failed"

summary
