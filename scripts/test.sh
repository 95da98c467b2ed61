#!/usr/bin/env bash
# `make test`: everything CI runs, in the order that fails fastest.
#   1. rustfmt, unit tests (decisions, event parsing, the custom-resource framework, the app
#      against a local MariaDB that this script starts and, if it started it, stops), clippy
#   2. templates: cfn-lint, cfn-guard policy rules (assertion tests run with the unit tests)
#   3. end to end on the local AWS, which this script starts and, if it started it, stops
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$ROOT/.tools/bin:$PATH
# Tests that need a tool `make setup` installs fail, not skip, when it is missing.
export TANDEM_REQUIRE_TOOLS=1
# A cold CI build gains nothing from incremental compilation of the
# workspace crates (nothing to reuse) and pays for writing its caches.
if [[ ${CI:-} == true ]]; then export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}; fi
start=$SECONDS

step() { echo; echo "== $* ($((SECONDS - start))s)"; }

step "format"
cargo fmt --all -- --check

# The app's database tests run against a real MariaDB (scripts/mariadb.sh),
# started here and, if this run started it, stopped at exit.
started_db=no
stop_db() {
  if [[ $started_db == yes ]]; then started_db=no; scripts/mariadb.sh down; fi
}
trap stop_db EXIT

step "unit and integration tests (no AWS)"
if ! scripts/mariadb.sh status >/dev/null 2>&1; then
  started_db=yes
  scripts/mariadb.sh up
fi
eval "$(scripts/mariadb.sh env)"
cargo test --workspace --quiet

step "clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "templates"
templates=(tests/fixtures/*.yaml)
[[ -d cfn ]] && templates+=($(find cfn -maxdepth 1 -name '*.yaml' | sort))
cfn-lint "${templates[@]}"
echo "cfn-lint: ${#templates[@]} templates clean"
if compgen -G "cfn/guard/*.guard" >/dev/null; then
  cfn-guard validate --data cfn/bootstrap.yaml --data cfn/region.yaml --data cfn/global.yaml \
    --rules cfn/guard/ --show-summary fail
  echo "cfn-guard: every rule in cfn/guard/ passes"
fi

step "end to end on the local AWS"
started_aws=no
if ! curl -fsS -m 2 http://127.0.0.1:4566/_ministack/health >/dev/null 2>&1; then
  scripts/local-aws.sh up
  started_aws=yes
fi
cleanup() {
  if [[ $started_aws == yes ]]; then scripts/local-aws.sh down; else scripts/local-aws.sh stop-watch >/dev/null; fi
  stop_db
}
trap cleanup EXIT

failed=0
for suite in tests/e2e/*.sh; do
  [[ $suite == */lib.sh ]] && continue
  "$suite" || failed=1
done

step "done"
[[ $failed -eq 0 ]] || { echo "make test: end-to-end failures above"; exit 1; }
echo "make test: all passed in $((SECONDS - start))s"
