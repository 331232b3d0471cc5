# make bench: builds bin/sori-bench and measures Sori against the Node
# reference server (docs/BENCHMARKS.md). The Makefile includes this file:
#
#	include bench/bench.mk
#
# REPEAT sets the repetitions of each scenario (3); BENCH_FLAGS adds flags
# to `sori-bench run`, e.g. BENCH_FLAGS="-max-conns 10000 -duration 5s".
# Needs node and the npm packages (npm ci) for the Node server.
GO ?= go
REPEAT ?= 3
BENCH_FLAGS ?=

.PHONY: bench bench-build
bench-build:
	$(GO) build -o bin/sori-bench ./cmd/sori-bench

bench: bench-build
	bin/sori-bench run -repeat $(REPEAT) -out docs/bench $(BENCH_FLAGS)
