#!/usr/bin/env bash
# `make test`: everything CI runs, in the order that fails fastest.
#   1. `make lint` (scripts/lint.sh): rustfmt, cfn-lint, cfn-guard, actionlint, zizmor,
#      hadolint, cargo-deny, clippy (under CI, clippy lints inside the unit-test build)
#   2. unit tests (decisions, event parsing, the custom-resource framework, template
#      assertions, the app against a local MariaDB that this script starts and, if it
#      started it, stops)
#   3. end to end on the local AWS, which this script starts and, if it started it, stops
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$ROOT/.tools/bin:$PATH
# Tests that need a tool `make setup` installs fail, not skip, when it is missing.
export TANDEM_REQUIRE_TOOLS=1
# A cold CI build gains nothing from incremental compilation of the
# workspace crates (nothing to reuse) and pays for writing its caches.
if [[ ${CI:-} == true ]]; then
  export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}
  # Clippy, inside the build: `cargo clippy` is clippy-driver as cargo's
  # workspace wrapper over a check build, which compiles every dependency a
  # second time (metadata only) after the test build: five minutes of a cold
  # run. With the same wrapper and lint arguments on every cargo run here,
  # the unit-test build itself lints each workspace crate (lib, bins, tests,
  # examples) with warnings as errors, and the end-to-end builds reuse it.
  # Locally `make lint` runs `cargo clippy` as usual.
  export RUSTC_WORKSPACE_WRAPPER
  RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver)
  # How cargo-clippy passes lint arguments to clippy-driver (each argument
  # followed by the separator); the toolchain is pinned in rust-toolchain.toml.
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
  export TANDEM_CLIPPY_IN_BUILD=1
fi
start=$SECONDS

step() { echo; echo "== $* ($((SECONDS - start))s)"; }

step "make lint"
scripts/lint.sh

# The app's database tests run against a real MariaDB (scripts/mariadb.sh),
# started here and, if this run started it, stopped at exit.
started_db=no
stop_db() {
  if [[ $started_db == yes ]]; then started_db=no; scripts/mariadb.sh down; fi
}
# A background build of cargo-deny (scripts/setup.sh) that a failure left running.
stop_deny_build() {
  if [[ -f .tools/cargo-deny.pid ]]; then
    kill -TERM -- "-$(cat .tools/cargo-deny.pid)" 2>/dev/null || true
    rm -f .tools/cargo-deny.pid
  fi
}
trap 'stop_db; stop_deny_build' EXIT

step "unit and integration tests (no AWS)"
if ! scripts/mariadb.sh status >/dev/null 2>&1; then
  started_db=yes
  scripts/mariadb.sh up
fi
eval "$(scripts/mariadb.sh env)"
cargo test --workspace --quiet

step "end to end on the local AWS"
# Behind the fault proxy (pass-through until a suite asks for faults): the
# drill's night turns us-east-1 dark with it.
started_aws=no
if curl -fsS -m 2 http://127.0.0.1:4566/_microburst/health >/dev/null 2>&1; then
  echo "make test: using the local AWS already up behind its fault proxy"
elif curl -fsS -m 2 http://127.0.0.1:4566/_ministack/health >/dev/null 2>&1; then
  echo "make test: a local AWS is up without the fault proxy, which the drill needs: make local-down, then make test" >&2
  exit 1
else
  scripts/local-aws.sh up-proxied
  started_aws=yes
fi
cleanup() {
  if [[ $started_aws == yes ]]; then scripts/local-aws.sh down; else scripts/local-aws.sh stop-watch >/dev/null; fi
  stop_db
  stop_deny_build
}
trap cleanup EXIT

# The suites, in the order they run: this list, not the files' names, says
# it (renaming a file changes nothing that runs). A suite that reads what an
# earlier one recorded says so in its header and checks for it first
# (lib.sh's `requires`), failing with the suite to run before it.
#   status_logs_audit.sh reads the decisions that deploy_hook.sh, failover.sh
#     (the drill), notify.sh and release.sh audit, and the logs of their runs;
#   local-aws:rollback (the Rust tests of the rollback function's audit trail,
#     tests/state-seed/tests/local_aws.rs) runs on the stacks rollback.sh deploys;
#   topology.sh ends with `make destroy`, so the suites on the deployed stacks
#     come before it; vpc_peering.sh makes stacks of its own.
SUITES=(
  tests/e2e/custom_resource.sh
  tests/e2e/deploy_hook.sh
  tests/e2e/failover.sh
  tests/e2e/notify.sh
  tests/e2e/release.sh
  tests/e2e/rollback.sh
  local-aws:rollback
  tests/e2e/status_logs_audit.sh
  tests/e2e/topology.sh
  tests/e2e/ecs_engine.sh
  tests/e2e/vpc_peering.sh
)
# Every suite on disk is listed, and every listed one is there.
for suite in tests/e2e/*.sh; do
  [[ $suite == */lib.sh || " ${SUITES[*]} " == *" $suite "* ]] && continue
  echo "make test: $suite is not in scripts/test.sh's SUITES; add it where its records fit" >&2; exit 1
done
for suite in "${SUITES[@]}"; do
  [[ $suite == local-aws:* || -f $suite ]] && continue
  echo "make test: $suite is in scripts/test.sh's SUITES but not on disk; list it under its new name" >&2; exit 1
done

failed=0
for suite in "${SUITES[@]}"; do
  began=$SECONDS
  case $suite in
    local-aws:rollback)
      # The local AWS's endpoint and test credentials, as tests/e2e/lib.sh sets them.
      (eval "$(scripts/local-aws.sh env)" && TANDEM_LOCAL_AWS=1 cargo test --quiet -p tandem-state-seed --test local_aws) ||
        failed=1 ;;
    *) "$suite" || failed=1 ;;
  esac
  echo "make test: $suite took $((SECONDS - began))s"
done

if [[ ${TANDEM_DEFER_CARGO_DENY:-} == 1 ]]; then
  step "cargo-deny (built in the background while the tests ran)"
  if [[ -f .tools/cargo-deny.pid ]]; then
    until [[ -f .tools/cargo-deny.rc ]]; do
      kill -0 "$(cat .tools/cargo-deny.pid)" 2>/dev/null || break
      sleep 2
    done
    rm -f .tools/cargo-deny.pid
    [[ $(cat .tools/cargo-deny.rc 2>/dev/null) == 0 ]] || {
      cat .tools/cargo-deny.log
      echo "make test: building cargo-deny failed (above); run make setup"
      exit 1
    }
  fi
  scripts/deny.sh
fi

step "done"
[[ $failed -eq 0 ]] || { echo "make test: end-to-end failures above"; exit 1; }
echo "make test: all passed in $((SECONDS - start))s"
