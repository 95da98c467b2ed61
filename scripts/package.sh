#!/usr/bin/env bash
# Release builds of every function for AWS Lambda (provided.al2023), zipped:
#   target/lambda/<function>/bootstrap.zip
# ARCH is arm64 (what the stacks deploy; Graviton) or x86-64. cargo-lambda
# cross-compiles with the zig that its pip package brings.
set -euo pipefail
cd "$(dirname "$0")/.."
ARCH=${1:-arm64}
case $ARCH in
  arm64) triple=aarch64-unknown-linux-gnu ;;
  x86-64) triple=x86_64-unknown-linux-gnu ;;
  *) echo "package: ARCH must be arm64 or x86-64, not $ARCH" >&2; exit 2 ;;
esac
if ! rustup target list --installed | grep -qx "$triple"; then
  rustup target add "$triple"
fi
for dir in functions/*/; do
  fn=$(basename "$dir")
  cargo lambda build --release "--$ARCH" --output-format zip -p "$fn"
  echo "package: $fn ($ARCH) $(stat -c %s "${CARGO_TARGET_DIR:-target}/lambda/$fn/bootstrap.zip") bytes zipped"
done
