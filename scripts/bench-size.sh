#!/usr/bin/env bash
# The package-size levers, each measured: the topology function (the largest)
# built for arm64 with one profile setting changed at a time from what ships
# (opt-level "s", thin LTO, one codegen unit), in a target directory of its
# own (each variant rebuilds every dependency: about 25 minutes each on 2
# cores; opt-level "z" with fat LTO together is left out for that reason).
# Prints one JSON line per variant, the shipped zip first:
#   {"function", "variant", "opt_level", "lto", "bytes"}
#
#   scripts/bench-size.sh OUTDIR SHIPPED_ZIP
#
# panic stays "unwind" in every variant: the runner catches a handler's panic
# and still answers CloudFormation.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:?usage: bench-size.sh OUTDIR SHIPPED_ZIP}
SHIPPED=${2:?usage: bench-size.sh OUTDIR SHIPPED_ZIP}
export CARGO_TARGET_DIR=$OUT/size-target
fn=topology
line() {
  jq -cn --arg variant "$1" --arg opt "$2" --arg lto "$3" --argjson bytes "$4" \
    '{function: "topology", variant: $variant, opt_level: $opt, lto: $lto, bytes: $bytes}'
}
line shipped s thin "$(stat -c %s "$SHIPPED")"
for variant in "opt-level z:z:thin" "fat LTO:s:fat"; do
  IFS=: read -r name opt lto <<<"$variant"
  CARGO_PROFILE_RELEASE_OPT_LEVEL=$opt CARGO_PROFILE_RELEASE_LTO=$lto \
    cargo lambda build --quiet --release --arm64 --output-format zip -p "$fn" >&2
  line "$name" "$opt" "$lto" "$(stat -c %s "$CARGO_TARGET_DIR/lambda/$fn/bootstrap.zip")"
done
