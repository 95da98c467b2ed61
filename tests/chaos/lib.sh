# shellcheck shell=bash
# Shared by the chaos suites (scripts/chaos.sh runs them): the e2e helpers,
# plus the fault proxy's rules and the matrix's result rows.
# Source it from the repo root.

source tests/e2e/lib.sh
MB=http://127.0.0.1:4566/_microburst
RESULTS=.local/chaos/results.tsv
# The Lambdas sign with the account as their access key (ministack); the
# CLI and these tests sign as `test`. Every rule gets this match, so a fault
# hits the functions and nothing else.
FROM_LAMBDAS='{"authorization": "Credential=000000000000/"}'

# faults RULE...: replaces the proxy's rules with these JSON objects (each
# must name a service: a rule without one also matches unsigned requests,
# such as the custom-resource answers); no argument clears them.
faults() {
  local body
  body=$(IFS=,; jq -c --argjson h "$FROM_LAMBDAS" '[.[] | . + {headers: $h}]' <<<"[$*]") || return 1
  if jq -e 'any(.[]; (.service // "*") == "*")' <<<"$body" >/dev/null; then
    echo "chaos: every rule must name its service: $body" >&2; return 1
  fi
  curl -fsS -m 5 -X POST "$MB/rules" -H 'content-type: application/json' -d "$body" >/dev/null \
    || { echo "chaos: the proxy refused the rules $body" >&2; return 1; }
}

# fired: the faults the proxy injected since the last `forget_fired`, one
# `service operation` line each.
fired() { curl -fsS -m 5 "$MB/fired?limit=10000" | jq -r '.[] | "\(.service) \(.operation)"'; }
# reached SERVICE OPERATION: how many of those calls a pass-through rule (one
# with no effect) let through to the local AWS since `forget_fired`.
reached() {
  curl -fsS -m 5 "$MB/fired?limit=10000" \
    | jq --arg s "$1" --arg o "$2" '[.[] | select(.service == $s and .operation == $o and .action == "match")] | length'
}
forget_fired() { curl -fsS -m 5 -X DELETE "$MB/fired" >/dev/null; }

# record TARGET FAULT EXPECTED GOT SECONDS REASON: one row of the matrix.
record() {
  local field row=()
  for field in "$@"; do row+=("$(tr '\n\t' '  ' <<<"$field" | sed 's/ *$//')"); done
  (IFS=$'\t'; echo "${row[*]}") >>"$RESULTS"
}
