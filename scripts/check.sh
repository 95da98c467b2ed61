#!/usr/bin/env bash
# `make check`: the edit-compile-test loop. rustfmt, then one build of every
# workspace crate and test that clippy lints as it compiles (warnings are
# errors, as in CI), then the unit tests. No lint tools, no MariaDB (the app's
# database tests say SKIPPED), no local AWS: `make test` runs everything.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
cargo fmt --all -- --check || { echo "make check: run make fmt" >&2; exit 1; }
# clippy-driver as the workspace's compiler wrapper: the test build lints
# each workspace crate, so clippy costs no second build (scripts/test.sh).
RUSTC_WORKSPACE_WRAPPER=$(rustup which clippy-driver)
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
cargo test --workspace --quiet
echo "make check: passed in $((SECONDS - start))s"
