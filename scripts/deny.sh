#!/usr/bin/env bash
# cargo-deny's offline checks (bans, licences, sources), errors only: the
# duplicate-version warnings are listed in full by CI's advisories job, which
# also checks the advisories (they need the network). make lint runs it, or,
# under CI, make test at its end (scripts/test.sh), once its build is done.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo-deny --log-level error --locked check --hide-inclusion-graph bans licenses sources
