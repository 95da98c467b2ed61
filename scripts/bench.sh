#!/usr/bin/env bash
# `make bench`: tandem's figures beside the Python peer's, in one run, each
# against its goal; writes bench/RESULTS.md. A missed goal is reported, not a
# failure: the exit status says only whether everything was measured.
#
#   1. cold init, first invocation and peak RSS of every function (release
#      builds) and of the Python peer (awslambdaric + boto3 + crhelper),
#      through tandem-bench's Lambda Runtime API on loopback, N runs each
#   2. the arm64 release zip of every function
#   3. failover detection, from `make drill`
#   4. the deploy loop: `make deploy ENV=local` warm and no-op
#
# BENCH_RUNS (default 20) sets N. The local AWS is started if it is down and
# stopped again if this started it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$ROOT/.tools/bin:$PATH
RUNS=${BENCH_RUNS:-20}
OUT=$ROOT/.local/bench
RESULTS=$OUT/results.jsonl
mkdir -p "$OUT"
: >"$RESULTS"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
start=$SECONDS
step() { echo; echo "== bench: $* ($((SECONDS - start))s)"; }
# One figure: name, value, unit, goal (text), pass (true/false/null), note.
record() {
  jq -cn --arg name "$1" --arg value "$2" --arg unit "$3" --arg goal "$4" --argjson pass "$5" --arg note "${6:-}" \
    '{name: $name, value: $value, unit: $unit, goal: $goal, pass: $pass, note: $note}' >>"$RESULTS"
}

step "tools: the Python peer's packages, pinned, in .venv-bench/"
want=$(sha256sum bench/peer/requirements.txt | cut -d' ' -f1)
if [[ "$(cat .venv-bench/.stamp 2>/dev/null)" != "$want" ]]; then
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install --quiet --disable-pip-version-check -r bench/peer/requirements.txt
  echo "$want" >.venv-bench/.stamp
fi

started_aws=no
if ! curl -fsS -m 2 http://127.0.0.1:4566/_ministack/health >/dev/null 2>&1; then
  scripts/local-aws.sh up
  started_aws=yes
fi
cleanup() { if [[ $started_aws == yes ]]; then scripts/local-aws.sh down; fi; }
trap cleanup EXIT
eval "$(scripts/local-aws.sh env)"

step "the deploy loop (make deploy ENV=local, then again with nothing to change)"
cargo build --quiet --workspace --bins
t=$SECONDS; make --no-print-directory deploy ENV=local >"$OUT/deploy-warm.log" 2>&1; warm=$((SECONDS - t))
t=$SECONDS; make --no-print-directory deploy ENV=local >"$OUT/deploy-noop.log" 2>&1; noop=$((SECONDS - t))
record "make deploy ENV=local, warm (functions built)" "$warm" s "<= 10 s" "$([[ $warm -le 10 ]] && echo true || echo false)"
record "make deploy ENV=local, no changes" "$noop" s "<= 5 s" "$([[ $noop -le 5 ]] && echo true || echo false)"
scripts/sample-stacks.sh >/dev/null

step "cold starts: release builds for this machine, and the harness"
cargo build --quiet --release -p topology -p rollback -p deploy-hook -p failover -p tandem-bench
BENCH=$TARGET/release/tandem-bench
AWS_ENV=(--env "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL" --env "AWS_REGION=$AWS_REGION"
  --env "AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID" --env "AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY")
FN_ENV=(--env TANDEM_ENV=local --env "TANDEM_OPS_TOPIC_ARN=arn:aws:sns:$AWS_REGION:000000000000:tandem-local-ops"
  --env DRY_RUN=true --env TANDEM_PEER_REGION=us-east-2 --env TANDEM_CONFIGURED_PRIMARY=us-east-1
  --env TANDEM_DB_INSTANCE=tandem-local-db --env TANDEM_OWN_HEALTH_URL=http://127.0.0.1:18081/health
  --env TANDEM_PEER_HEALTH_URL=http://127.0.0.1:18082/health)
# A repeated alarm is acted on once (the audit's conditional put), so each run
# gets its own: __NONCE__ is replaced per run.
jq '.detail.state.timestamp = "2026-11-27T19:00:00.000+0000#__NONCE__"' events/rollback-alarm-eventbridge.json >"$OUT/rollback-event.json"
cold() { # name event -- argv...
  local name=$1 event=$2
  shift 3
  "$BENCH" cold --name "$name" --runs "$RUNS" --event "$event" --log "$OUT/$name.log" \
    "${AWS_ENV[@]}" "${FN_ENV[@]}" --env "TANDEM_STATE_TABLE=tandem-local-state" -- "$@" | tee -a "$OUT/cold.jsonl"
}
: >"$OUT/cold.jsonl"
cold topology events/cross-region-outputs-create.json -- "$TARGET/release/topology"
cold rollback "$OUT/rollback-event.json" -- "$TARGET/release/rollback"
cold deploy-hook events/deploy-hook-before-allow-traffic.json -- "$TARGET/release/deploy-hook"
cold failover events/failover-status.json -- "$TARGET/release/failover"
cold peer-cross-region-outputs events/cross-region-outputs-create.json -- \
  env -C bench/peer "$ROOT/.venv-bench/bin/python" -m awslambdaric cross_region_outputs.handler
cold peer-rollback "$OUT/rollback-event.json" -- \
  env -C bench/peer "$ROOT/.venv-bench/bin/python" -m awslambdaric rollback.handler

step "package size: make package ARCH=arm64"
make --no-print-directory package ARCH=arm64 >"$OUT/package.log" 2>&1
for zip in "$TARGET"/lambda/*/bootstrap.zip; do
  fn=$(basename "$(dirname "$zip")")
  bytes=$(stat -c %s "$zip")
  record "$fn arm64 zip" "$(awk -v b="$bytes" 'BEGIN{printf "%.2f", b/1048576}')" MiB "<= 2 MB" \
    "$([[ $bytes -le 2000000 ]] && echo true || echo false)"
done

step "failover detection: make drill ENV=local"
make --no-print-directory drill ENV=local >"$OUT/drill.log" 2>&1 || true
decide=$(grep -oE 'decided to promote [0-9.]+s' "$OUT/drill.log" | grep -oE '[0-9.]+' | head -1 || true)
if [[ -n $decide ]]; then
  record "failover: primary down to the decision (10 s probes)" "$decide" s "<= 30 s" \
    "$(awk -v d="$decide" 'BEGIN{print (d <= 30) ? "true" : "false"}')"
else
  record "failover: primary down to the decision (10 s probes)" "not measured" "" "<= 30 s" null "the drill did not report it; see .local/bench/drill.log"
fi

step "results"
python3 scripts/bench_report.py "$OUT" bench/RESULTS.md
echo "make bench: done in $((SECONDS - start))s; bench/RESULTS.md"
