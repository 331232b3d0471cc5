# Sori: Go Socket.IO server. `make` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

GO ?= go
NODE ?= node
NPM ?= npm
# staticcheck 2026.2.2 (module v0.8.2, needs Go >= 1.26). go run pkg@version
# leaves go.mod/go.sum alone. scripts/setup.sh reads this line.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
ARGS ?=
FUZZTIME ?= 5m
TEST_FUZZTIME ?= 10s
ifneq ($(CI),)
TEST_FUZZTIME := 10s
endif
# Upper bound for the Node test run (seconds).
NODE_TEST_TIMEOUT ?= 900
SUITE ?= all

BUNDLE_SRC := node_modules/socket.io-client/dist
BUNDLE_DST := clientbundle/dist
BUNDLE_FILES := socket.io.js socket.io.js.map socket.io.min.js socket.io.min.js.map socket.io.esm.min.js socket.io.esm.min.js.map

# Node test files. Not `node --test test/`: Node 20 runs every .mjs under a
# directory named test, so test/helpers and test/fixtures would run as tests.
NODE_TESTS = $(shell find test -name node_modules -prune -o -type f \( -name '*.test.mjs' -o -name '*.test.js' \) -print | sort)
NODE_TEST_CMD = $(NODE) --test --test-concurrency=1 --test-reporter=spec $(NODE_TESTS)

# Go files that gofmt checks (no node_modules, no testdata, no hidden dirs).
GO_FILES = $(shell find . \( -name node_modules -o -name testdata -o -name '.?*' \) -prune -o -type f -name '*.go' -print)

# Runs every fuzz target for $(1): "dir FuzzName" pairs found by grep, so new
# targets are picked up automatically. Failing inputs land in testdata/fuzz/.
define fuzz_all
targets=$$(grep -rEo --include='*_test.go' --exclude-dir=node_modules --exclude-dir=testdata --exclude-dir='.?*' \
	'^func Fuzz[A-Za-z0-9_]*\(' . | sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]*)\($$#\1 \2#' | sort -u); \
if [[ -z "$$targets" ]]; then echo "no fuzz targets found"; exit 0; fi; \
failed=(); \
while read -r dir name; do \
	echo "--- fuzz $$dir $$name for $(1)"; \
	$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(1) "$$dir" || failed+=("$$dir:$$name"); \
done <<<"$$targets"; \
if [[ $${#failed[@]} -gt 0 ]]; then echo "fuzz FAILED: $${failed[*]}"; exit 1; fi; \
echo "fuzz: $$(wc -l <<<"$$targets") target(s) ok"
endef

-include bench/bench.mk

.PHONY: help setup bundle build run lint vet staticcheck gotest fuzz fuzz-short nodetest test soak gobench conformance clean

help: ## List the targets
	@echo "Sori make targets:"
	@grep -E '^[a-zA-Z_-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | awk -F ':.*## ' '{ printf "  %-12s %s\n", $$1, $$2 }'
	@echo "Variables: ARGS (run), FUZZTIME (fuzz, $(FUZZTIME)), SUITE=engine|socket|all and RUNS (conformance)"

setup: ## Check Go/Node, install chromium + redis-server (root), npm ci, go mod download
	@scripts/setup.sh

bundle: ## Copy the socket.io-client browser bundles into clientbundle/dist
	@if [[ ! -d $(BUNDLE_SRC) ]]; then $(NPM) ci --no-audit --no-fund --loglevel=error; fi
	@mkdir -p $(BUNDLE_DST)
	@for f in $(BUNDLE_FILES); do \
		cmp -s $(BUNDLE_SRC)/$$f $(BUNDLE_DST)/$$f || cp $(BUNDLE_SRC)/$$f $(BUNDLE_DST)/$$f; \
	done

build: bundle ## Build bin/sori-chat, bin/sori-conformance, ... (and internal/cmd test servers)
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build -o bin/ ./cmd/...
	@if [[ -d internal/cmd ]]; then echo "CGO_ENABLED=0 $(GO) build -o bin/ ./internal/cmd/..."; CGO_ENABLED=0 $(GO) build -o bin/ ./internal/cmd/...; fi

run: build ## Build and run the chat server (http://localhost:3000); ARGS=... passes flags
	bin/sori-chat $(ARGS)

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

lint: ## gofmt -l (must be empty), go vet, staticcheck
	@out=$$(gofmt -l $(GO_FILES) </dev/null); if [[ -n "$$out" ]]; then echo "gofmt: these files need formatting (run gofmt -w):"; echo "$$out"; exit 1; fi
	@echo "gofmt: ok"
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

gotest:
	$(GO) test -race -count=1 ./...

fuzz: ## Fuzz every fuzz target for FUZZTIME each (default 5m), then keep the corpus in testdata/fuzz
	@$(call fuzz_all,$(FUZZTIME))
	@cache=$$($(GO) env GOCACHE)/fuzz/$$($(GO) list -m); \
	for d in $$(cd $$cache 2>/dev/null && find . -mindepth 1 -type d -name 'Fuzz*'); do \
		dir=$$(dirname $$d); name=$$(basename $$d); \
		mkdir -p $$dir/testdata/fuzz/$$name && cp -n $$cache/$$d/* $$dir/testdata/fuzz/$$name/ 2>/dev/null || true; \
	done; echo "fuzz: corpus kept in */testdata/fuzz (commit it)"

fuzz-short:
	@$(call fuzz_all,$(TEST_FUZZTIME))

nodetest: ## Node interop/browser tests only (needs make build)
	@if [[ -z "$(strip $(NODE_TESTS))" ]]; then echo "no Node test files under test/"; exit 0; fi
	timeout --kill-after=30 $(NODE_TEST_TIMEOUT) $(NODE_TEST_CMD)

# Steps run in order; build failure stops, later steps all run so one report
# shows every failure. The last line says PASSED or FAILED.
test: ## build, lint, go test -race, 10s fuzz per target, Node tests
	@start=$$(date +%s); failed=(); \
	step() { local name=$$1; shift; echo; echo "==> $$name"; \
		if ! $(MAKE) "$$@"; then failed+=("$$name"); return 1; fi; }; \
	if step build build; then \
		step lint lint || true; \
		step "go test" gotest || true; \
		step fuzz fuzz-short || true; \
		step "node tests" nodetest || true; \
	fi; \
	secs=$$(( $$(date +%s) - start )); echo; \
	if [[ $${#failed[@]} -eq 0 ]]; then \
		echo "make test: PASSED (build, lint, go test -race, fuzz $(TEST_FUZZTIME)/target, node tests) in $${secs}s"; \
	else \
		msg=$$(printf '%s, ' "$${failed[@]}"); \
		echo "make test: FAILED in $${secs}s: $${msg%, }"; exit 1; \
	fi

soak: ## Long soak: thousands of chat clients joining, chatting, leaving, reconnecting, reset (SORI_SOAK=long)
	SORI_SOAK=long $(GO) test -race -count=1 -timeout 30m -run '^TestSoak$$' -v ./chat/

gobench: ## Go micro-benchmarks of the codecs and the server
	$(GO) test -bench=. -benchmem -run='^$$' ./...

conformance: build ## Official Engine.IO/Socket.IO suites vs bin/sori-conformance (SUITE=engine|socket|all, RUNS=3)
	scripts/conformance.sh $(SUITE)

clean: ## Remove bin/, the copied bundles and test output
	rm -rf bin
	cd $(BUNDLE_DST) 2>/dev/null && rm -f $(BUNDLE_FILES) || true
	find test/output -type f ! -name .gitignore -delete 2>/dev/null || true
