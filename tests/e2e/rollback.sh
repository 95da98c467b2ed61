#!/usr/bin/env bash
# End to end on the local AWS: the rollback function as `make deploy
# ENV=local` deploys it, and every sample in events/ through `make invoke`
# with DRY_RUN=true. What the function records when an alarm fires during a
# release (the decision, the refused CodeDeploy call, one action for a
# message delivered twice) is read as typed records by the Rust test
# tests/state-seed/tests/local_aws.rs, which scripts/test.sh runs right
# after this suite, on the stacks it deployed.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
P=us-east-1
OUT=.local/e2e-rollback
mkdir -p "$OUT"

echo "e2e: rollback"
out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
check "make deploy ENV=local succeeds" eq "$rc" 0
[[ $rc -eq 0 ]] || { echo "$out" | tail -n 30 >&2; }
check "the region stack made the rollback function" eq \
  "$(stack_output $P tandem-local-region RollbackFunctionName)" tandem-local-rollback

# Every sample through `make invoke`, with DRY_RUN=true.
for sample in events/rollback-*.json; do
  answer=$(make --no-print-directory invoke FN=rollback EVENT="$sample" 2>"$OUT/invoke.err")
  check "make invoke FN=rollback EVENT=$sample decides" contains "$answer" '"decision"'
done

LOGS_REQUIRED=1 summary
