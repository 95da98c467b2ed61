#!/usr/bin/env bash
# End to end on the local AWS: ops alerts reach a chat webhook (issue 23 §3).
# A tiny HTTPS receiver on loopback stands in for the chat service (not an
# AWS service), with a certificate made here. `make deploy ENV=local` with
# TANDEM_OPS_WEBHOOK_URL pointing at it makes each region's notify function
# and the secret holding the URL; the function trusts the receiver's
# certificate through SSL_CERT_FILE (set on the function here, as only the
# local environment does; TLS is verified as on AWS). Then a publish to the
# ops topic reaches the receiver through SNS -> Lambda (the local AWS
# delivers to Lambda subscriptions), as `{"text": ...}`, audited; a refused
# post fails the invocation and is audited "failed:"; and the URL never
# appears in any log. The stacks are deployed again without the webhook at
# the end, which removes the function and its secret.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
source tests/e2e/lib.sh
P=us-east-1
TOPIC=arn:aws:sns:$P:000000000000:tandem-local-ops
OUT=.local/e2e-notify
PORT=18443
TOKEN="e2e-secret-$(date +%s)-$RANDOM"
mkdir -p "$OUT"
rm -f "$OUT/received.jsonl"

echo "e2e: notify"
# A CA and a certificate for 127.0.0.1 that it signed (a self-signed leaf
# would do for rustls only without CA:TRUE, which openssl adds by default).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=tandem e2e CA" \
  -keyout "$OUT/ca.key" -out "$OUT/ca.pem" >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$OUT/hook.key" -out "$OUT/hook.csr" >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' >"$OUT/hook.ext"
openssl x509 -req -in "$OUT/hook.csr" -CA "$OUT/ca.pem" -CAkey "$OUT/ca.key" -CAcreateserial -days 1 \
  -extfile "$OUT/hook.ext" -out "$OUT/hook.pem" >/dev/null 2>&1

# The receiver: answers 200 to POST /hooks/<token>, 404 to any other path,
# and appends each body it took to received.jsonl.
cat >"$OUT/receiver.py" <<'PY'
import http.server, json, ssl, sys
out, token = sys.argv[1], sys.argv[2]
class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.path != "/hooks/" + token:
            self.send_response(404); self.end_headers(); return
        with open(out + "/received.jsonl", "a") as f:
            f.write(json.dumps({"type": self.headers.get("content-type"), "body": json.loads(body)}) + "\n")
        self.send_response(200); self.send_header("content-length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[3])), Hook)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(out + "/hook.pem", out + "/hook.key")
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
python3 "$OUT/receiver.py" "$OUT" "$TOKEN" $PORT &
RECEIVER=$!
trap 'kill $RECEIVER 2>/dev/null' EXIT
sleep 1

URL="https://127.0.0.1:$PORT/hooks/$TOKEN"
out=$(TANDEM_OPS_WEBHOOK_URL=$URL make --no-print-directory deploy ENV=local 2>&1); rc=$?
check "make deploy ENV=local with a webhook succeeds" eq "$rc" 0
[[ $rc -eq 0 ]] || { echo "$out" | tail -n 30 >&2; }
check "the deploy's output does not repeat the webhook URL" eq "$(grep -c "$TOKEN" <<<"$out")" 0
check "the region stack made the notify function" eq \
  "$(stack_output $P tandem-local-region NotifyFunctionName)" tandem-local-notify
check "the secret holds the URL" eq "$(aws secretsmanager get-secret-value --region $P \
  --secret-id tandem-local/ops-webhook --query SecretString --output text)" "$URL"
check "no topic has an HTTPS subscription" eq "$(aws sns list-subscriptions-by-topic --region $P --topic-arn $TOPIC \
  --query "length(Subscriptions[?Protocol=='https'])" --output text)" 0
check "the notify function is subscribed to the ops topic" eq "$(aws sns list-subscriptions-by-topic --region $P \
  --topic-arn $TOPIC --query "length(Subscriptions[?Protocol=='lambda' && ends_with(Endpoint, ':tandem-local-notify')])" \
  --output text)" 1

# Only here: the function trusts the receiver's CA (SSL_CERT_FILE replaces
# the system's roots for rustls-native-certs), as no template sets it.
vars=$(aws lambda get-function-configuration --region $P --function-name tandem-local-notify \
  --query Environment.Variables --output json | jq -c --arg ca "$PWD/$OUT/ca.pem" '. + {SSL_CERT_FILE: $ca}')
aws lambda update-function-configuration --region $P --function-name tandem-local-notify \
  --environment "{\"Variables\": $vars}" >/dev/null

# received_with NEEDLE: waits up to 30 s for a post whose text holds NEEDLE; prints it.
received_with() {
  for _ in $(seq 1 60); do
    if [[ -f $OUT/received.jsonl ]] && grep -qF "$1" "$OUT/received.jsonl"; then
      grep -F "$1" "$OUT/received.jsonl" | head -n 1; return
    fi
    sleep 0.5
  done
  echo "NONE"
}
audit() {  # ID FIELD: one field of the audit entry of message ID (None when absent)
  state audit --region $P --kind notify --key "$1" | jq -r ".$2 // \"None\""
}

# An alarm, as CloudWatch publishes it to the topic.
nonce=$(date +%s%N)
alarm="{\"AlarmName\":\"tandem-local-e2e-$nonce\",\"AlarmDescription\":\"e2e: the notify check\",\"NewStateValue\":\"ALARM\",\"NewStateReason\":\"e2e: threshold crossed\",\"StateChangeTime\":\"$(date -u +%Y-%m-%dT%H:%M:%S.000+0000)\",\"AlarmArn\":\"arn:aws:cloudwatch:$P:000000000000:alarm:tandem-local-e2e-$nonce\"}"
id=$(aws sns publish --region $P --topic-arn $TOPIC --subject "ALARM: e2e" --message "$alarm" --query MessageId --output text)
# The rollback function's decision about the same alarm reaches the webhook
# too, in either order: wait for the alarm's own post.
got=$(received_with "[ALARM] tandem-local-e2e-$nonce")
check "the alarm reached the webhook through topic -> Lambda -> HTTPS" eq \
  "$(jq -r .body.text <<<"$got" 2>/dev/null)" "[ALARM] tandem-local-e2e-$nonce in $P: e2e: the notify check
e2e: threshold crossed"
check "as JSON with only a text field" eq "$(jq -c '[.type, (.body | keys)]' <<<"$got" 2>/dev/null)" '["application/json",["text"]]'
for _ in $(seq 1 20); do [[ $(audit "$id" outcome) == delivered* ]] && break; sleep 0.5; done
check "the delivery is audited with its reason" eq "$(audit "$id" reason)|$(audit "$id" outcome)" \
  "alarm tandem-local-e2e-$nonce is ALARM in $P|delivered: the webhook answered HTTP 200"

# One of tandem's own decisions, as the failover function publishes it.
decision="{\"source\":\"tandem-failover\",\"region\":\"$P\",\"decision\":\"Watch\",\"reason\":\"e2e $nonce: the primary answered\",\"outcome\":\"none\"}"
aws sns publish --region $P --topic-arn $TOPIC --subject "tandem failover in $P: Watch" --message "$decision" >/dev/null
check "a failover decision reads as one" eq "$(jq -r .body.text <<<"$(received_with "e2e $nonce: the primary")")" \
  "[tandem failover] $P: Watch
e2e $nonce: the primary answered
Outcome: none"

# The same message delivered twice (Lambda's at-least-once): one post.
event=$(jq -c --arg id "dup-$nonce" --arg m "e2e duplicate $nonce" \
  '.Records[0].Sns.MessageId = $id | .Records[0].Sns.Message = $m | .Records[0].Sns.Subject = null' events/notify-alarm-sns.json)
for _ in 1 2; do
  aws lambda invoke --region $P --function-name tandem-local-notify \
    --payload "$event" "$OUT/dup.json" >/dev/null
done
received_with "e2e duplicate $nonce" >/dev/null
check "a redelivered message is posted once" eq "$(grep -c "e2e duplicate $nonce" "$OUT/received.jsonl")" 1

# A webhook that refuses: the invocation fails naming the status, audited.
# (aws-cli v1 would fetch an https:// argument: the value goes in a file.)
(umask 077; printf '%s' "https://127.0.0.1:$PORT/hooks/revoked-$TOKEN" >"$OUT/revoked.url")
aws secretsmanager put-secret-value --region $P --secret-id tandem-local/ops-webhook \
  --secret-string "file://$OUT/revoked.url" >/dev/null
aws lambda update-function-configuration --region $P --function-name tandem-local-notify \
  --environment "{\"Variables\": $(jq -c '. + {TANDEM_RESTART: "1"}' <<<"$vars")}" >/dev/null
event=$(jq -c --arg id "refused-$nonce" '.Records[0].Sns.MessageId = $id' events/notify-alarm-sns.json)
aws lambda invoke --region $P --function-name tandem-local-notify \
  --payload "$event" "$OUT/refused.json" >"$OUT/refused.meta"
check "a refused post fails the invocation" eq "$(jq -r .FunctionError "$OUT/refused.meta")" Unhandled
check "with one sentence naming the status" contains "$(cat "$OUT/refused.json")" "answered HTTP 404"
check "and the audit says failed, with the reason" contains "$(audit "refused-$nonce" outcome)" \
  "failed: the chat webhook at 127.0.0.1 answered HTTP 404"
check "the error does not repeat the URL" eq "$(grep -c "$TOKEN" "$OUT/refused.json")" 0

# The URL never reaches a log (lib.sh's check reads the secret too).
check "no function logged the webhook's token" eq \
  "$(grep -c "$TOKEN" "$MINISTACK_LOG" 2>/dev/null || true)" 0

# Every function log in both regions, while the secret exists (it holds the
# revoked URL now, which carries the token too).
no_secrets_in_logs --require

# Back to no webhook: the function and its secret go with the next deploy.
out=$(make --no-print-directory deploy ENV=local 2>&1); rc=$?
check "make deploy ENV=local without a webhook succeeds" eq "$rc" 0
[[ $rc -eq 0 ]] || { echo "$out" | tail -n 30 >&2; }
check "and removes the notify function" eq "$(aws lambda get-function --region $P \
  --function-name tandem-local-notify >/dev/null 2>&1 && echo there || echo gone)" gone

LOGS_REQUIRED=1 summary
