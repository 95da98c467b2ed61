#!/usr/bin/env bash
# make invoke FN=<function> EVENT=events/<file>.json
# Runs a function on this machine through `cargo lambda watch` (left running
# for the next invoke; `make local-down` stops it) against the local AWS, and
# prints what the function returned. Starts whatever is not running yet.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FN=${1:?usage: invoke.sh FUNCTION EVENT_FILE}
EVENT=${2:?usage: invoke.sh FUNCTION EVENT_FILE}
WATCH_DIR=$ROOT/.local/watch
WATCH_PID=$WATCH_DIR/watch.pid
WATCH_LOG=$WATCH_DIR/watch.log
WATCH_PORT=${TANDEM_WATCH_PORT:-9000}

[[ -f $EVENT ]] || { echo "invoke: no event file $EVENT; the samples are in events/" >&2; exit 2; }
[[ -d functions/$FN ]] || { echo "invoke: no function $FN; the functions are: $(ls functions | tr '\n' ' ')" >&2; exit 2; }

scripts/local-aws.sh up >/dev/null
eval "$(scripts/local-aws.sh env)"
# The sample events read this stack; it is cheap and idempotent to ensure.
scripts/sample-stacks.sh >/dev/null

# What the functions read from their template's environment, for the local
# stacks; the rollback function decides and audits but acts on nothing here.
# The failover function runs as the primary's here (us-east-1 is the configured
# primary), so every sample decides and none promotes.
FUNCTION_ENV="TANDEM_ENV=local,TANDEM_OPS_TOPIC_ARN=arn:aws:sns:$AWS_REGION:000000000000:tandem-local-ops,DRY_RUN=true"
FUNCTION_ENV+=",TANDEM_PEER_REGION=us-east-2,TANDEM_CONFIGURED_PRIMARY=us-east-1,TANDEM_DB_INSTANCE=tandem-local-db"
FUNCTION_ENV+=",TANDEM_OWN_HEALTH_URL=http://127.0.0.1:18081/health,TANDEM_PEER_HEALTH_URL=http://127.0.0.1:18082/health"
# One short probe round (AWS: 10 s probes over a 50 s round): a sample
# decides in seconds, on the same rules.
FUNCTION_ENV+=",TANDEM_PROBE_INTERVAL_SECS=1,TANDEM_PROBE_TIMEOUT_SECS=1,TANDEM_ROUND_SECS=3"

watch_up() { [[ -f $WATCH_PID ]] && kill -0 "$(cat "$WATCH_PID")" 2>/dev/null; }
if ! watch_up; then
  mkdir -p "$WATCH_DIR"
  setsid cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" --timeout 300 \
    --env-var "AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL,AWS_REGION=$AWS_REGION,AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY,$FUNCTION_ENV" \
    >"$WATCH_LOG" 2>&1 < /dev/null &
  echo $! > "$WATCH_PID"
  for _ in $(seq 1 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$WATCH_PORT") 2>/dev/null && break
    watch_up || { cat "$WATCH_LOG" >&2; exit 1; }
    sleep 0.2
  done
  echo "invoke: cargo lambda watch up on 127.0.0.1:$WATCH_PORT (log $WATCH_LOG)" >&2
fi

# The first invoke of a function compiles it, so allow for a build.
cargo lambda invoke "$FN" --invoke-address 127.0.0.1 --invoke-port "$WATCH_PORT" \
  --data-file "$EVENT"
echo
