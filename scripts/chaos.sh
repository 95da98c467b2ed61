#!/usr/bin/env bash
# `make chaos`: tandem under AWS faults, on the local AWS, with microburst
# (pinned in requirements-chaos.txt, its own venv .venv-chaos/) between the
# Lambdas and the local AWS:
#
#   CLI, tests ──────────────► 127.0.0.1:4566  microburst ──► 127.0.0.1:4567  ministack
#   the Lambdas ministack runs ─┘  (faults, by rule)              ▲
#   custom-resource answers (ResponseURL) ────────────────────────┘ (never faulted)
#
# Rules name the service and operation and match only the Lambdas' calls
# (their credential), so the CLI and the tests' own reads pass untouched
# unless a suite asks otherwise. The suites in tests/chaos/ each print
# `check` lines and append rows to .local/chaos/results.tsv; this script
# prints the matrix (and writes it to .local/chaos/RESULTS.md).
#
# It stops a local AWS that is already running (to restart it behind the
# proxy), and at the end stops what it started and starts the plain one
# again if there was one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH=$ROOT/.venv/bin:$ROOT/.tools/bin:$PATH
DIR=$ROOT/.local/chaos
mkdir -p "$DIR"
start=$SECONDS

# microburst, in its own venv, reinstalled only when requirements-chaos.txt changes.
stamp=.venv-chaos/.requirements.sha256
want=$(sha256sum requirements-chaos.txt | cut -d' ' -f1)
if [[ ! -x .venv-chaos/bin/microburst || "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  echo "chaos: installing microburst into .venv-chaos/"
  python3 -m venv .venv-chaos
  .venv-chaos/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements-chaos.txt
  echo "$want" >"$stamp"
fi

was_up=no
if curl -fsS -m 2 http://127.0.0.1:4566/_ministack/health >/dev/null 2>&1; then
  was_up=yes
  scripts/local-aws.sh down >/dev/null
fi
if curl -fsS -m 2 http://127.0.0.1:4566/ >/dev/null 2>&1; then
  echo "chaos: something that is not tandem's local AWS answers on 127.0.0.1:4566; stop it first" >&2
  exit 1
fi

mb_pid=
cleanup() {
  local rc=$?
  set +e
  if [[ -n $mb_pid ]]; then kill "$mb_pid" 2>/dev/null; wait "$mb_pid" 2>/dev/null; fi
  TANDEM_LOCAL_AWS_PORT=4567 scripts/local-aws.sh down >>"$DIR/cleanup.log" 2>&1 || true
  if [[ $was_up == yes ]]; then scripts/local-aws.sh up >/dev/null || true; fi
  exit "$rc"
}
trap cleanup EXIT

TANDEM_LOCAL_AWS_PORT=4567 TANDEM_LAMBDA_ENDPOINT_URL=http://127.0.0.1:4566 scripts/local-aws.sh up
.venv-chaos/bin/microburst --upstream http://127.0.0.1:4567 --host 127.0.0.1 --port 4566 >"$DIR/microburst.log" 2>&1 &
mb_pid=$!
for _ in $(seq 1 100); do
  curl -fsS -m 1 http://127.0.0.1:4566/_microburst/health >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS -m 1 http://127.0.0.1:4566/_microburst/health >/dev/null \
  || { echo "chaos: microburst did not start; see $DIR/microburst.log" >&2; exit 1; }
# Its first forwarded request takes seconds (it loads its service models):
# pass one through before anything with a short timeout asks.
curl -fsS -m 30 http://127.0.0.1:4566/_ministack/health >/dev/null \
  || { echo "chaos: microburst does not reach the local AWS; see $DIR/microburst.log" >&2; exit 1; }
echo "chaos: microburst on 127.0.0.1:4566, in front of the local AWS on 4567"

echo "chaos: make deploy ENV=local (behind the proxy, no faults)"
make --no-print-directory deploy ENV=local >"$DIR/deploy.log" 2>&1 \
  || { tail -n 30 "$DIR/deploy.log" >&2; exit 1; }

: >"$DIR/results.tsv"
failed=0
for suite in tests/chaos/*.sh; do
  [[ $suite == */lib.sh ]] && continue
  # CHAOS_ONLY="rollback failover" runs those suites alone.
  if [[ -n ${CHAOS_ONLY:-} && " $CHAOS_ONLY " != *" $(basename "$suite" .sh) "* ]]; then continue; fi
  "$suite" || failed=1
done

python3 - "$DIR/results.tsv" "$DIR/RESULTS.md" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
bad = [r for r in rows if len(r) != 6]
if bad:
    sys.exit(f"chaos: {len(bad)} result rows do not have 6 fields, such as {bad[0]}")
out = ["| target | fault | expected | got | seconds | reason (first 160 characters) |",
       "| --- | --- | --- | --- | --- | --- |"]
for target, fault, expected, got, secs, reason in rows:
    mark = "" if expected.startswith("any") or got.startswith(expected.split(" ")[0]) else " **FAIL**"
    reason = reason[:160].replace("|", "/")
    out.append(f"| {target} | {fault} | {expected} | {got}{mark} | {secs} | {reason} |")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
EOF
echo
[[ $failed -eq 0 ]] || { echo "make chaos: failures above ($((SECONDS - start))s)"; exit 1; }
echo "make chaos: all passed in $((SECONDS - start))s (matrix in $DIR/RESULTS.md)"
