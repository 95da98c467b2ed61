# tandem: every entry point a user types. `make help` lists them.
# Tools live in project-local folders (.venv/, .tools/); local AWS state in .local/.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ROOT      := $(abspath .)
VENV      := $(ROOT)/.venv
TOOLS     := $(ROOT)/.tools
export PATH := $(VENV)/bin:$(TOOLS)/bin:$(PATH)
export CARGO_TARGET_DIR ?= $(ROOT)/target

FN    ?= topology
EVENT ?= events/cross-region-outputs-create.json
ENV   ?= local

ARCH  ?= arm64

# Every target that talks to an environment starts the local AWS first when
# ENV=local (a no-op when it is up), so that each behaves the same; what it
# says goes to stderr (stdout is the target's own: OUTPUT=json).
LOCAL_UP = if [ "$(ENV)" = local ]; then scripts/local-aws.sh up >&2; fi

# Built, then run directly: `cargo run` would pass its CARGO_* variables on to
# the cargo that tandem starts, and that alone makes ring rebuild (and all above it).
TANDEM = cargo build --quiet -p tandem-cli && "$(CARGO_TARGET_DIR)/debug/tandem"

.PHONY: help setup local-up local-down deploy diff release failover failback drill destroy status logs audit roles bench chaos build package check test lint fmt invoke clean

help: ## List the targets
	@awk 'BEGIN{FS=":.*## "} /^[a-z-]+:.*## /{printf "  %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: ## Install every pinned tool into .venv/ and .tools/ (idempotent; seconds when warm)
	@scripts/setup.sh

local-up: setup ## Start the local AWS (ministack) on 127.0.0.1:4566; no-op when it is up
	@scripts/local-aws.sh up

local-down: ## Stop the local AWS that local-up started (only that pid)
	@scripts/local-aws.sh down

deploy: setup ## Deploy both regions through change sets: make deploy ENV=local|dev|prod
	@$(LOCAL_UP)
	@$(TANDEM) deploy --env "$(ENV)"

diff: setup ## Preview what a deploy would change: make diff ENV=...
	@$(LOCAL_UP)
	@$(TANDEM) diff --env "$(ENV)" $(if $(OUTPUT),--output "$(OUTPUT)",)

release: setup ## Ship IMAGE to both regions, primary first; APPROVE=1, or REJECT=1 REASON="...", answers a release waiting for approval: make release ENV=... IMAGE=...
	@if [ -z "$(IMAGE)$(APPROVE)$(REJECT)" ]; then echo "make release needs IMAGE=<tag> (pushed to the primary region's ECR repository tandem-$(ENV)-app), or APPROVE=1 / REJECT=1 REASON=\"...\" for a release waiting for approval" >&2; exit 2; fi
	@$(LOCAL_UP)
	@$(TANDEM) release --env "$(ENV)" $(if $(IMAGE),--image "$(IMAGE)",) $(if $(APPROVE),--approve,) $(if $(REJECT),--reject,) $(if $(REASON),--reason "$(REASON)",) $(if $(OUTPUT),--output "$(OUTPUT)",)

failover: setup ## Make the standby the primary now (FORCE=1 skips the lag check, DRY_RUN=1 decides only): make failover ENV=... REASON="..."
	@$(LOCAL_UP)
	@$(TANDEM) failover --env "$(ENV)" $(if $(REASON),--reason "$(REASON)",) $(if $(FORCE),--force,) $(if $(DRY_RUN),--dry-run,)

failback: setup ## Return to the configured primary after a failover, step by step (YES=1 does not ask): make failback ENV=...
	@$(LOCAL_UP)
	@$(TANDEM) failback --env "$(ENV)" $(if $(YES),--yes,)

drill: setup ## A failover game day on the local AWS behind its fault proxy (deploys first): make drill ENV=local
	@if [ "$(ENV)" != local ]; then echo "make drill runs on the local AWS only: make drill ENV=local" >&2; exit 2; fi
	@scripts/local-aws.sh up-proxied
	@scripts/mariadb.sh up >&2
	@cargo build --quiet -p tandem-app
	@$(TANDEM) deploy --env local >/dev/null
	@eval "$$(scripts/mariadb.sh env)" && $(TANDEM) drill --env local

destroy: setup ## Delete every stack in reverse order (asks first; YES=1 does not): make destroy ENV=...
	@$(LOCAL_UP)
	@$(TANDEM) destroy --env "$(ENV)" $(if $(YES),--yes,)

status: setup ## One screen: roles, stacks, releases, alarms in ALARM, failover, last decisions; exits 3 when something needs a person (OUTPUT=json for scripts): make status ENV=...
	@$(LOCAL_UP)
	@$(TANDEM) status --env "$(ENV)" $(if $(OUTPUT),--output "$(OUTPUT)",)

logs: setup ## The functions' logs from both regions, merged by time (FUNCTION=, REGION=, SINCE=15m, FILTER=, FOLLOW=1, OUTPUT=json): make logs ENV=...
	@$(LOCAL_UP)
	@$(TANDEM) logs --env "$(ENV)" $(if $(FUNCTION),--function "$(FUNCTION)",) $(if $(REGION),--region "$(REGION)",) --since "$(or $(SINCE),15m)" $(if $(FILTER),--filter "$(FILTER)",) $(if $(FOLLOW),--follow,) $(if $(OUTPUT),--output "$(OUTPUT)",)

audit: setup ## Every automated decision in both regions, merged by time (SINCE=24h, KIND=release|rollback|failover|hook|notify): make audit ENV=...
	@$(LOCAL_UP)
	@$(TANDEM) audit --env "$(ENV)" --since "$(or $(SINCE),24h)" $(if $(KIND),--kind "$(KIND)",) $(if $(OUTPUT),--output "$(OUTPUT)",)

roles: setup ## Print primary=<region> and standby=<region> (for scripts and CI): make roles ENV=...
	@$(LOCAL_UP)
	@$(TANDEM) roles --env "$(ENV)"

build: ## Build every function for the host (dev profile, shared with the tests)
	@cargo build --workspace --bins

package: setup ## Release zips for AWS (ARCH=arm64|x86-64) in target/lambda/<fn>/bootstrap.zip
	@scripts/package.sh "$(ARCH)"

invoke: setup ## Run FN locally on EVENT against the local AWS: make invoke FN=topology EVENT=events/x.json
	@scripts/invoke.sh "$(FN)" "$(EVENT)"

bench: setup ## tandem's figures beside the Python peer's, against their goals; writes bench/RESULTS.md (BENCH_RUNS=20; BENCH_SIZE_LEVERS=1 adds the size levers, ~50 min)
	@scripts/bench.sh

chaos: setup ## Fault injection (microburst) on the local AWS: every custom resource x every fault, the event functions, the CLI; the matrix in .local/chaos/RESULTS.md
	@scripts/chaos.sh

check: ## The edit-compile-test loop: rustfmt, clippy, the unit tests (no lint tools, no MariaDB, no local AWS)
	@scripts/check.sh

lint: setup ## Every static check: rustfmt, cfn-lint, cfn-guard, iam-lint, checkov, actionlint, zizmor, hadolint, cargo-deny, clippy
	@scripts/lint.sh

# Under CI (a cold machine), cargo-deny builds in the background while the
# tests run, and is checked last (scripts/setup.sh, scripts/test.sh).
test: export TANDEM_DEFER_CARGO_DENY = $(if $(filter true,$(CI)),1,)
test: setup ## Everything CI runs: lint, unit tests, then end-to-end on the local AWS
	@scripts/test.sh

fmt: ## Format the code
	@cargo fmt --all

clean: local-down ## Remove build output and local AWS state (keeps the tools)
	@scripts/mariadb.sh down
	@rm -rf target .local dist
