#!/usr/bin/env bash
# Chaos, the CLI: `tandem` against a CloudFormation API that throttles, then
# fails. A throttled call is retried and the command succeeds; any other
# failure is reported with the stack and the reason, and exits non-zero.
# These rules match the CLI's credential (`test`), not the Lambdas'.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/chaos/lib.sh
tandem=$(realpath "${CARGO_TARGET_DIR:-target}/debug/tandem")

# cli_faults RULE...: like `faults`, for the CLI's calls.
cli_faults() { FROM_LAMBDAS='{"authorization": "Credential=test/"}' faults "$@"; }

# cell NAME RULE COMMAND EXPECTED_RC NEEDLE
cell() {
  local name=$1 rule=$2 cmd=$3 want=$4 needle=$5 out rc t0 took
  cli_faults "$rule"
  t0=$SECONDS
  out=$($tandem $cmd --env local 2>&1); rc=$?
  took=$((SECONDS - t0))
  faults
  check "tandem $cmd under $name: exits $want" eq "$rc" "$want"
  check "tandem $cmd under $name: says so" contains "$out" "$needle"
  record "tandem $cmd" "$name" "exit $want" "exit $rc" "$took" "$(tail -n 3 <<<"$out")"
}

echo "e2e chaos: the CLI under CloudFormation faults"
cell "DescribeStacks throttled twice" \
  '{"service": "cloudformation", "operation": "DescribeStacks", "times": 2, "error": {"code": "Throttling", "status": 400}}' \
  status 0 "tandem-local-region"
cell "CreateChangeSet throttled twice" \
  '{"service": "cloudformation", "operation": "CreateChangeSet", "times": 2, "error": {"code": "Throttling", "status": 400}}' \
  deploy 0 "no changes"
cell "CreateChangeSet HTTP 500 always" \
  '{"service": "cloudformation", "operation": "CreateChangeSet", "error": {"code": "InternalFailure", "status": 500}}' \
  deploy 1 "tandem-local-bootstrap"
cell "DescribeStacks access denied" \
  '{"service": "cloudformation", "operation": "DescribeStacks", "error": {"code": "AccessDenied", "status": 403, "message": "not allowed"}}' \
  status 1 "AccessDenied"
faults
summary
