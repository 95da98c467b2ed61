# shellcheck shell=bash
# Shared helpers for the end-to-end tests: assertions with a pass/fail tally,
# and CloudFormation waits that poll quickly (the local AWS is fast).
# Source it; it expects to run from the repo root.

eval "$(scripts/local-aws.sh env)"
PASSED=0
FAILED=0

# check NAME COMMAND...: runs COMMAND; counts and prints the result.
check() {
  local name=$1; shift
  if "$@"; then
    PASSED=$((PASSED + 1)); echo "  ok   $name"
  else
    FAILED=$((FAILED + 1)); echo "  FAIL $name" >&2
  fi
}

# eq ACTUAL EXPECTED: equality with a diagnostic. Exit codes are checked with
# it too: `check "... exits 0" eq "$rc" 0`. A failing recipe makes `make`
# exit 2, whatever the command in it exited with; `tandem` itself exits 1 on
# an error.
eq() {
  [[ "$1" == "$2" ]] && return 0
  echo "       expected: $2" >&2; echo "       actual:   $1" >&2; return 1
}

# one_of ACTUAL ALLOWED...: ACTUAL equals one of the ALLOWED values exactly
# (check "stack is complete" one_of "$status" CREATE_COMPLETE UPDATE_COMPLETE).
one_of() {
  local actual=$1 allowed; shift
  for allowed in "$@"; do
    [[ "$actual" == "$allowed" ]] && return 0
  done
  echo "       expected one of: $*" >&2; echo "       actual:          $actual" >&2; return 1
}

# contains HAYSTACK NEEDLE
contains() {
  [[ "$1" == *"$2"* ]] && return 0
  echo "       expected to contain: $2" >&2; echo "       actual: ${1:0:600}" >&2; return 1
}

# stack_status REGION NAME: the status, or NONE when the stack is gone.
stack_status() {
  aws cloudformation describe-stacks --region "$1" --stack-name "$2" \
    --query 'Stacks[0].StackStatus' --output text 2>/dev/null || echo NONE
}

# wait_stack REGION NAME: waits until the stack is no longer in progress; prints its status.
wait_stack() {
  local status
  for _ in $(seq 1 600); do
    status=$(stack_status "$1" "$2")
    [[ $status == *_IN_PROGRESS ]] || { echo "$status"; return 0; }
    sleep 0.5
  done
  echo "TIMEOUT($status)"
}

# rds ARGS...: the RDS CLI against the local AWS (aws-cli v1 ignores AWS_ENDPOINT_URL for RDS).
rds() { aws rds --endpoint-url "$AWS_ENDPOINT_URL" "$@"; }

# state COMMAND ARGS...: the local AWS's state table through tandem-core's
# typed records (tests/state-seed, test support, not the operator CLI):
# seed-release, forget-release, put-roles, clear-locks write; roles,
# last-release, releases, audit, audits, locks print one JSON document (null
# when absent); requires checks another suite's records. Built once here
# (dev profile, the shared target directory); `state --help` lists it all.
cargo build --quiet -p tandem-state-seed || { echo "e2e: tandem-state-seed (tests/state-seed) did not build" >&2; exit 1; }
STATE_SEED=$(realpath "${CARGO_TARGET_DIR:-target}/debug/tandem-state-seed")
state() { "$STATE_SEED" "$@"; }

# requires KIND SUITE: this suite reads the KIND decisions that SUITE records;
# it stops here, naming SUITE to run first, when neither region audited one
# in the last two hours.
requires() {
  state requires --kind "$1" --suite "$2" || exit 1
}

# put_roles REGION PRIMARY STANDBY: records the roles in REGION's state
# table, as the failover function does in the new primary's, at an epoch
# above any earlier one (the time: epochs only grow).
put_roles() {
  state put-roles --region "$1" --primary "$2" --standby "$3" >/dev/null
}

# stack_output REGION NAME KEY
stack_output() {
  aws cloudformation describe-stacks --region "$1" --stack-name "$2" \
    --query "Stacks[0].Outputs[?OutputKey=='$3'].OutputValue" --output text
}

# failure_reasons REGION NAME: every FAILED event's reason, one per line.
failure_reasons() {
  aws cloudformation describe-stack-events --region "$1" --stack-name "$2" \
    --query "StackEvents[?contains(ResourceStatus, 'FAILED')].[LogicalResourceId, ResourceStatusReason]" --output text
}

# package_function NAME: builds the function for the host (dev profile, shared
# with the tests' build) and uploads its zip; prints the S3 key.
ARTIFACTS=tandem-local-artifacts
package_function() {
  local fn=$1 dir key
  dir=.local/dist/$fn
  cargo build --quiet -p "$fn"
  mkdir -p "$dir"
  cp "${CARGO_TARGET_DIR:-target}/debug/$fn" "$dir/bootstrap"
  (cd "$dir" && rm -f "$fn.zip" && zip -qj "$fn.zip" bootstrap)
  key="$fn/$(sha256sum "$dir/$fn.zip" | cut -c1-16).zip"
  aws s3api head-bucket --bucket "$ARTIFACTS" >/dev/null 2>&1 || aws s3 mb "s3://$ARTIFACTS" >/dev/null
  aws s3 cp --quiet "$dir/$fn.zip" "s3://$ARTIFACTS/$key"
  echo "$key"
}

# forget_locks REGION: removes REGION's failover locks, as if no promotion
# had been tried there (a failed drill leaves its lock, which needs a person).
forget_locks() {
  state clear-locks --region "$1" >/dev/null
}

# no_secrets_in_logs [--require]: the functions' logs so far hold no
# custom-resource ResponseURL (a presigned URL: whoever has it can answer for
# the stack), no database password and no chat webhook URL of the secrets
# that exist now. The
# logs: every function log group in both regions (CloudWatch Logs, where the
# custom resources' invocations log), and what the local AWS copies into its
# own log from the invocations it was asked for.
MINISTACK_LOG=.local/ministack/ministack.log
no_secrets_in_logs() {
  local found region
  found=$(.venv/bin/python tests/e2e/logs_hold_no_secrets.py "$MINISTACK_LOG") \
    || { check "the functions' logs could be read" eq "failed" "read"; return; }
  # --require: this suite ran functions that log, so an empty log means the
  # check would pass for nothing (the log's format changed, say).
  if [[ ${1:-} == --require ]]; then
    check "the functions logged something to check ($(jq .lines <<<"$found") lines)" \
      eq "$(jq '.lines > 0' <<<"$found")" true
  fi
  check "no function logged a ResponseURL" eq "$(jq .response_urls <<<"$found")" 0
  for region in $(jq -r '.passwords | keys[]' <<<"$found"); do
    check "no function logged the database password ($region)" eq "$(jq ".passwords[\"$region\"]" <<<"$found")" 0
  done
  for region in $(jq -r '.webhooks | keys[]' <<<"$found"); do
    check "no function logged the chat webhook's URL ($region)" eq "$(jq ".webhooks[\"$region\"]" <<<"$found")" 0
  done
}

# summary: the closing tally; fails when anything failed.
# TAG REGION...: an image TAG in each region's tandem-local-app repository
# (any manifest will do: nothing runs it); one that is there already counts.
put_image() {
  local tag=$1 region err
  shift
  local manifest='{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}'
  for region in "$@"; do
    err=$(aws ecr put-image --region "$region" --repository-name tandem-local-app --image-tag "$tag" \
      --image-manifest "$manifest" 2>&1 >/dev/null) \
      || grep -q ImageTagAlreadyExists <<<"$err" \
      || echo "put-image in $region failed: $err" >&2
  done
}

record() {  # REGION FIELD: one field of the region's newest release record (None when absent)
  state last-release --region "$1" | jq -r ".$2 // \"None\""
}

# REGION IMAGE TASK_DEFINITION REASON: the region's newest release failed
# for IMAGE with TASK_DEFINITION, its record and its audited outcome give
# REASON, and nothing is left in flight there.
check_release_failed() {
  local region=$1 image=$2 task_definition=$3 reason=$4 release_id
  check "the release record says failed" eq "$(record "$region" state)" failed
  check "for image $image" eq "$(record "$region" image)" "$image"
  check "with the task definition it registered" eq "$(record "$region" task_definition)" "$task_definition"
  check "and the reason: $reason" contains "$(record "$region" reason)" "$reason"
  release_id=$(record "$region" release_id)
  check "the failure is audited with its reason" contains \
    "$(state audit --region "$region" --kind release --key "$release_id#outcome" | jq -r '.reason // "None"')" "$reason"
  check "nothing is left in flight in $region" eq \
    "$(state releases --region "$region" | jq '[.[] | select(.state == "in-progress")] | length')" 0
}

summary() {
  # A suite that runs functions which log sets LOGS_REQUIRED=1.
  no_secrets_in_logs ${LOGS_REQUIRED:+--require}
  echo "e2e: $PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]]
}
