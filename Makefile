# syncagent: the two commands a fresh machine needs are `make demo` and `make test`.
# Each installs what is missing (Debian packages), builds, and runs.

SHELL := /bin/bash
SWIFT ?= swift
# sshd and friends live in /usr/sbin, which a non-login PATH may lack.
export PATH := $(PATH):/usr/sbin:/sbin
BUILD_LOG := .build/build.log

.PHONY: all deps build test demo bench clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@mkdir -p .build
	$(SWIFT) build --build-tests 2>&1 | tee $(BUILD_LOG); test $${PIPESTATUS[0]} -eq 0
	@scripts/check-warnings.sh $(BUILD_LOG)

test: build
	$(SWIFT) test --skip-build --parallel --num-workers 2

demo: deps
	$(SWIFT) build --product syncagent
	$(SWIFT) build --product kubesim
	@scripts/demo.sh

bench:
	@EXTRA_PACKAGES="wrk gcc" scripts/install-deps.sh
	@for b in scripts/bench-*.sh; do echo "== $$b"; $$b; done

clean:
	rm -rf .build
