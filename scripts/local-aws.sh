#!/usr/bin/env bash
# Starts and stops the local AWS (ministack) for this checkout.
#   scripts/local-aws.sh up     start on 127.0.0.1:4566 unless it is already up
#   scripts/local-aws.sh down   stop what `up` started (its pid and that pid's process group)
#   scripts/local-aws.sh up-proxied   the same behind the fault proxy: ministack on 4567,
#                                     microburst (pass-through until told otherwise) on 4566,
#                                     the Lambdas sending their calls through it. The drill's
#                                     region outage and `make test` use it.
#   scripts/local-aws.sh env    print the variables a client needs, for `eval`
# `make chaos` (scripts/chaos.sh) moves it aside: TANDEM_LOCAL_AWS_PORT puts
# it on another port, and TANDEM_LAMBDA_ENDPOINT_URL is where the Lambdas it
# runs send their AWS calls (the fault proxy, in front of it on 4566).
# State, temp files, the pid file and the log live under .local/ministack/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=$ROOT/.local/ministack
PID_FILE=$DIR/ministack.pid
LOG_FILE=$DIR/ministack.log
PORT=${TANDEM_LOCAL_AWS_PORT:-4566}
URL=http://127.0.0.1:$PORT
LAMBDA_ENDPOINT_URL=${TANDEM_LAMBDA_ENDPOINT_URL:-$URL}

healthy() { curl -fsS -m 2 "$URL/_ministack/health" >/dev/null 2>&1; }
running() { [[ -f $PID_FILE ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

up() {
  if running && healthy; then
    echo "local AWS: already up on $URL (pid $(cat "$PID_FILE"))"
    return 0
  fi
  if healthy; then
    echo "local AWS: something else answers on $URL; stop it, or use it by hand" >&2
    return 1
  fi
  mkdir -p "$DIR/tmp" "$DIR/state"
  # AWS_ENDPOINT_URL is inherited by the Lambdas it runs, so they call it back
  # (or the fault proxy); custom-resource ResponseURLs name GATEWAY_PORT.
  # setsid gives it its own process group, so `down` also stops the Lambda
  # processes it spawned, and nothing else.
  env BIND_HOST=127.0.0.1 GATEWAY_PORT=$PORT \
      AWS_ENDPOINT_URL=$LAMBDA_ENDPOINT_URL MINISTACK_REGION=us-east-1 \
      TMPDIR="$DIR/tmp" STATE_DIR="$DIR/state" PERSIST_STATE=0 \
      AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
      setsid "$ROOT/.venv/bin/ministack" >"$LOG_FILE" 2>&1 < /dev/null &
  echo $! > "$PID_FILE"
  for _ in $(seq 1 100); do
    if healthy; then
      echo "local AWS: up on $URL (pid $(cat "$PID_FILE"), log $LOG_FILE)"
      return 0
    fi
    if ! running; then break; fi
    sleep 0.2
  done
  echo "local AWS: did not become healthy; last lines of $LOG_FILE:" >&2
  tail -n 20 "$LOG_FILE" >&2 || true
  down
  return 1
}

MB_PID_FILE=$DIR/microburst.pid
MB_LOG_FILE=$DIR/microburst.log
proxied() { curl -fsS -m 2 http://127.0.0.1:4566/_microburst/health >/dev/null 2>&1; }

up_proxied() {
  if proxied && TANDEM_LOCAL_AWS_PORT=4567 "$0" status >/dev/null 2>&1; then
    echo "local AWS: already up behind the fault proxy on http://127.0.0.1:4566"
    return 0
  fi
  if curl -fsS -m 2 http://127.0.0.1:4566/ >/dev/null 2>&1 || healthy; then
    echo "local AWS: something answers on 127.0.0.1:4566 without the fault proxy; make local-down first" >&2
    return 1
  fi
  [[ -x $ROOT/.venv-chaos/bin/microburst ]] || { echo "local AWS: microburst is missing; run make setup" >&2; return 1; }
  TANDEM_LOCAL_AWS_PORT=4567 TANDEM_LAMBDA_ENDPOINT_URL=http://127.0.0.1:4566 "$0" up
  setsid "$ROOT/.venv-chaos/bin/microburst" --upstream http://127.0.0.1:4567 --host 127.0.0.1 --port 4566 \
    >"$MB_LOG_FILE" 2>&1 < /dev/null &
  echo $! > "$MB_PID_FILE"
  for _ in $(seq 1 100); do proxied && break; sleep 0.1; done
  # Its first forwarded request takes seconds (it loads its service models).
  if ! proxied || ! curl -fsS -m 60 http://127.0.0.1:4566/_ministack/health >/dev/null; then
    echo "local AWS: the fault proxy did not start; see $MB_LOG_FILE" >&2
    down
    return 1
  fi
  echo "local AWS: the fault proxy on http://127.0.0.1:4566 (pid $(cat "$MB_PID_FILE")), in front of it"
}

stop_proxy() {
  [[ -f $MB_PID_FILE ]] || return 0
  local pid
  pid=$(cat "$MB_PID_FILE")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$MB_PID_FILE"
  echo "fault proxy: stopped (pid $pid)"
}

stop_watch() {
  # `make invoke` leaves `cargo lambda watch` running for the next invoke.
  local watch_pid=$ROOT/.local/watch/watch.pid
  if [[ -f $watch_pid ]]; then
    kill -TERM -- "-$(cat "$watch_pid")" 2>/dev/null || true
    rm -f "$watch_pid"
    echo "cargo lambda watch: stopped"
  fi
}

down() {
  stop_watch
  stop_proxy
  if [[ ! -f $PID_FILE ]]; then
    echo "local AWS: not running (no pid file)"
    return 0
  fi
  local pid
  pid=$(cat "$PID_FILE")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    echo "local AWS: stopped (pid $pid)"
  else
    echo "local AWS: pid $pid was not running"
  fi
  rm -f "$PID_FILE"
}

env_vars() {
  cat <<ENV
export AWS_ENDPOINT_URL=$URL
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
ENV
}

case "${1:-}" in
  up) up ;;
  up-proxied) up_proxied ;;
  status) running && healthy ;;
  down) down ;;
  env) env_vars ;;
  stop-watch) stop_watch ;;
  *) echo "usage: $0 up|up-proxied|down|status|env|stop-watch" >&2; exit 2 ;;
esac
