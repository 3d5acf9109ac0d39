# syncagent: the two commands a fresh machine needs are `make demo` and `make test`.
# Each installs what is missing (Debian packages), builds, and runs.

SHELL := /bin/bash
SWIFT ?= swift
# sshd and friends live in /usr/sbin, which a non-login PATH may lack.
export PATH := $(PATH):/usr/sbin:/sbin
BUILD_LOG := .build/build.log
RELEASE_LOG := .build/release.log

.PHONY: all deps build release test demo bench bench-all clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@mkdir -p .build
	$(SWIFT) build --build-tests 2>&1 | tee $(BUILD_LOG); test $${PIPESTATUS[0]} -eq 0
	@scripts/check-warnings.sh $(BUILD_LOG)

# Every product (syncagent, kubesim, syncbench) as users build it; the end-to-end tests run these binaries.
release: deps
	@mkdir -p .build
	$(SWIFT) build -c release 2>&1 | tee $(RELEASE_LOG); test $${PIPESTATUS[0]} -eq 0
	@scripts/check-warnings.sh $(RELEASE_LOG)

# Unit tests run debug; every test that starts syncagent or kubesim runs the release binaries built above.
test: export REQUIRE_TEST_TOOLS := 1
test: build release
	$(SWIFT) test --skip-build --parallel --num-workers 2

demo: deps
	$(SWIFT) build --product syncagent
	$(SWIFT) build --product kubesim
	@scripts/demo.sh

# Issue 14's benchmark: syncagent against kubectl at N = 100, 1,000, 5,000 per region (release builds), written to
# Benchmarks/RESULTS.md and Benchmarks/results.png. BENCH_ARGS passes options, e.g. BENCH_ARGS="--sizes 100 --runs 1".
bench:
	@scripts/bench.sh $(BENCH_ARGS)

# The older, narrower benchmarks: every scripts/bench-*.sh in turn.
bench-all:
	@EXTRA_PACKAGES="wrk gcc" scripts/install-deps.sh
	@for b in scripts/bench-*.sh; do echo "== $$b"; $$b; done

clean:
	rm -rf .build
