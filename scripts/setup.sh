#!/usr/bin/env bash
# Installs every pinned tool into project-local folders, idempotently:
#   .venv/   ministack, cargo-lambda (with zig), cfn-lint, awscli  (requirements-tools.txt)
#   .tools/  cfn-guard, built with `cargo install --locked`
# A second run only compares a stamp and a version string, so it takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CFN_GUARD_VERSION=3.2.1

# Debian packages the scripts use; a stock machine has them, a slim one may not.
missing=()
for tool in curl zip jq setsid python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing ${missing[*]}; install them (Debian: apt-get install curl zip jq util-linux python3-venv)" >&2
    exit 1
  fi
  echo "setup: installing Debian packages for ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq curl zip jq util-linux python3-venv >/dev/null
fi

# Python tools: reinstall only when requirements-tools.txt changes.
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements-tools.txt | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "setup: installing Python tools into .venv/"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
  echo "$want" > "$stamp"
fi

# cfn-guard: a Rust tool, so it comes from the crates registry (the `cfn-guard`
# crate), built with its own lock file.
if [[ "$("$ROOT/.tools/bin/cfn-guard" --version 2>/dev/null)" != *"$CFN_GUARD_VERSION"* ]]; then
  echo "setup: building cfn-guard $CFN_GUARD_VERSION into .tools/ (once)"
  # Its own target dir keeps it out of the workspace's artifacts.
  CARGO_TARGET_DIR="$ROOT/.tools/build" cargo install --quiet --locked cfn-guard \
    --version "$CFN_GUARD_VERSION" --root "$ROOT/.tools"
  rm -rf "$ROOT/.tools/build"
fi

echo "setup: ok ($(.venv/bin/cargo-lambda lambda --version | cut -d' ' -f1-2), $(.tools/bin/cfn-guard --version), $(.venv/bin/cfn-lint --version))"
