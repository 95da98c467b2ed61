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
# The files a function declares for its zip in its Cargo.toml
# ([package.metadata.tandem] zip-files, as tandem deploy ships them:
# crates/cli/src/artifacts/zip_files.rs), one "name url" a line.
py=.venv/bin/python
[ -x "$py" ] || py=python3
zip_files() {
  "$py" - "$1" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    tandem = tomllib.load(f).get("package", {}).get("metadata", {}).get("tandem", {})
for file in tandem.get("zip-files", []):
    print(file["name"], file["url"])
PY
}
extra=$(mktemp -d)
trap 'rm -rf "$extra"' EXIT
for dir in functions/*/; do
  fn=$(basename "$dir")
  cargo lambda build --release "--$ARCH" --output-format zip -p "$fn"
  zip_files "${dir}Cargo.toml" | while read -r name url; do
    # Downloaded over HTTPS only, certificates checked; a PEM certificate
    # bundle is the only kind of file a zip takes.
    [[ $name =~ ^[A-Za-z0-9_-][A-Za-z0-9._-]*\.pem$ && $url == https://* ]] || {
      echo "package: $fn's zip-files entry $name ($url) is not a plain .pem name with an https:// URL: correct ${dir}Cargo.toml" >&2; exit 1; }
    curl --proto '=https' --proto-redir '=https' --tlsv1.2 -fsSL --max-time 60 -o "$extra/$name" "$url" || {
      host=${url#https://}; host=${host%%/*}
      echo "package: could not download $name for $fn's zip from $url: check that this machine reaches $host over HTTPS, then run make package again" >&2; exit 1; }
    [[ $(head -c 27 "$extra/$name") == "-----BEGIN CERTIFICATE-----" ]] || {
      echo "package: $name downloaded for $fn's zip from $url is not a PEM certificate bundle: check the URL in ${dir}Cargo.toml" >&2; exit 1; }
    zip -q -X -j "${CARGO_TARGET_DIR:-target}/lambda/$fn/bootstrap.zip" "$extra/$name"
    echo "package: $fn's zip holds $name ($(grep -c -- '-----END CERTIFICATE-----' "$extra/$name") certificates from $url)"
  done
  echo "package: $fn ($ARCH) $(stat -c %s "${CARGO_TARGET_DIR:-target}/lambda/$fn/bootstrap.zip") bytes zipped"
done
