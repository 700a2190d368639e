# plexgate — `make demo` runs the whole stack locally; `make test` installs
# what the tests need (cached under $HOME/.cache) and runs every test.
#
#   make deps   idempotent installs: Debian chromium + libnss3-tools (only if
#               missing), npm packages for e2e/node, Traefik/Pebble binaries
#   make test   deps, root go vet + go test, vendor check, e2e module tests
#   make demo   the npm packages and the Traefik/Pebble binaries (no browser),
#               then start Traefik, forwardauth, the provider and the
#               stand-in Plex on fixed ports (Ctrl-C stops everything)
#   make release-check TAG=vX.Y.Z   what Traefik's plugin catalog checks

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := test

# Cached tool binaries, named by version (PLEXGATE_BIN_DIR overrides, as in the harness).
BIN ?= $(or $(PLEXGATE_BIN_DIR),$(HOME)/.cache/plexgate/bin)
NPM_CACHE ?= $(HOME)/.cache/npm
TRAEFIK_VERSION := $(shell awk '$$1 == "github.com/traefik/traefik/v3" {print $$2}' e2e/go.mod)
PEBBLE_VERSION := $(shell awk '$$1 == "github.com/letsencrypt/pebble/v2" {print $$2}' e2e/go.mod)
TRAEFIK := $(BIN)/traefik-$(TRAEFIK_VERSION)
PEBBLE := $(BIN)/pebble-$(PEBBLE_VERSION)
CHALLTESTSRV := $(BIN)/pebble-challtestsrv-$(PEBBLE_VERSION)
NODE_STAMP := e2e/node/node_modules/.npm-ci-stamp
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# The end-to-end suite starts the whole stack once; 20 minutes is generous.
E2E_TIMEOUT ?= 20m

.PHONY: deps browser-deps node-deps go-tools test unit vendor-check e2e demo release-check

deps: browser-deps node-deps go-tools

# Chromium and certutil are for the end-to-end tests' browser only; the demo does not need them.
browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v certutil >/dev/null; then \
		echo "installing chromium and libnss3-tools (apt)"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium libnss3-tools; \
	fi

node-deps: $(NODE_STAMP)

$(NODE_STAMP): e2e/node/package.json e2e/node/package-lock.json
	cd e2e/node && npm ci --cache "$(NPM_CACHE)" --prefer-offline --no-audit --no-fund
	touch $@

go-tools: $(TRAEFIK) $(PEBBLE) $(CHALLTESTSRV)

# A cold Traefik build takes about 13 minutes on 2 cores; it is cached by version.
$(TRAEFIK):
	mkdir -p $(BIN)
	cd e2e && go build -o $@.tmp github.com/traefik/traefik/v3/cmd/traefik
	mv $@.tmp $@

$(PEBBLE):
	mkdir -p $(BIN)
	cd e2e && go build -o $@.tmp github.com/letsencrypt/pebble/v2/cmd/pebble
	mv $@.tmp $@

$(CHALLTESTSRV):
	mkdir -p $(BIN)
	cd e2e && go build -o $@.tmp github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv
	mv $@.tmp $@

test: deps unit vendor-check e2e

unit:
	go vet ./...
	go test ./...

# go mod vendor into a temporary directory must reproduce vendor/ exactly.
vendor-check:
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	go mod vendor -o "$$tmp/vendor"; \
	if ! diff -r vendor "$$tmp/vendor" >/dev/null; then \
		echo "vendor/ is stale: run go mod tidy && go mod vendor"; diff -r vendor "$$tmp/vendor" | head -20; exit 1; \
	fi; \
	echo "vendor/ matches go.mod"

# -count=1: these tests run binaries and scripts that go test's cache cannot see change.
e2e:
	cd e2e && go vet ./...
	cd e2e && go test -count=1 -timeout $(E2E_TIMEOUT) ./...

demo: node-deps go-tools
	cd e2e && go build -o "$(BIN)/plexgate-demo" ./cmd/demo
	@# exec: Ctrl-C reaches the demo alone, which stops everything and exits 0
	cd e2e && exec "$(BIN)/plexgate-demo"

# make release-check TAG=v0.1.0: what Traefik's plugin catalog checks before it lists a
# version (.traefik.yml, go.mod, vendor/, New with testData under Yaegi within the catalog's
# 10 s limit, the tag's form). make test runs the same checks except the time limit and the tag.
TAG ?=
release-check:
	cd e2e && go run ./cmd/releasecheck -tag "$(TAG)"

# make bench: six routes through the real Traefik (no auth, plexgate plugin hit/miss/delegate,
# forwardAuth → forwardauth, forwardAuth → null server, an empty Yaegi plugin); writes bench/RESULTS.md and
# bench/chart.svg (about 5 minutes). BENCH_FLAGS adds flags, e.g. BENCH_FLAGS="-duration 3s -pprof".
BENCH_FLAGS ?=
.PHONY: bench
bench: go-tools
	cd e2e && go run ./cmd/bench $(BENCH_FLAGS)

# make fuzz: each fuzz target for FUZZTIME (the committed corpus under testdata/fuzz
# also runs as plain tests in make test). make soak: fixed-rate load through the real
# Traefik for SOAKTIME, checking every decision (e2e/soak_test.go, SECURITY.md).
FUZZTIME ?= 30s
SOAKTIME ?= 3m
FUZZ_TARGETS := plugin:FuzzVerifyMatchesForwardauth plugin:FuzzServeHTTP plugin:FuzzNew plugin:FuzzParsePublicKeys \
	forwardauth/handler:FuzzReturnURLCheck forwardauth/handler:FuzzValidateRequest forwardauth/config:FuzzLoadConfig \
	plugin:FuzzRefreshPointNeverLaterThanForwardauths forwardauth/authz:FuzzDenyListParse
.PHONY: fuzz soak
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; echo "== $$pkg $$name ($(FUZZTIME))"; \
		go test ./$$pkg -run "^$$name\$$" -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s; \
	done

soak: go-tools
	cd e2e && PLEXGATE_SOAKTIME=$(SOAKTIME) go test -run '^TestSoak$$' -count 1 -v -timeout 30m .
