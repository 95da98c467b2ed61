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
trap stop_db EXIT

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
