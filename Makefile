# ocpp-bridge: the two set-up commands are `make run` and `make test`.
SWIFT ?= swift
SHELL := /bin/bash
PYTHON ?= python3
DEB_PACKAGES := libsqlite3-dev liblua5.4-dev sqlite3 python3-venv openssl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
VENV := .venv

.PHONY: deps venv build release run test test-swift test-interop fuzz generate clean

# Install the Debian packages the build and the tests need, only those missing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; fi

# The Python venv with the interop peer (PyPI `ocpp`, `websockets`, pytest).
venv: $(VENV)/.installed
$(VENV)/.installed: requirements-interop.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r requirements-interop.txt
	touch $@

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product ocpp-bridge

# Run the bridge on its embedded defaults: OCPP on 0.0.0.0:9000, REST API on 127.0.0.1:8080, ./data/bridge.sqlite.
run: release
	mkdir -p data
	$$($(SWIFT) build -c release --show-bin-path)/ocpp-bridge serve --db data/bridge.sqlite

# `swift build --build-tests` builds the executable too; the interop suite runs that binary.
test: deps venv
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$$($(SWIFT) build --show-bin-path)/ocpp-fuzz Tests/fuzz/corpus
	OCPP_BRIDGE_BIN=$$($(SWIFT) build --show-bin-path)/ocpp-bridge $(VENV)/bin/pytest -q Tests/interop
	$(MAKE) fuzz

# libFuzzer over the frame parser and every payload decoder (docs/security.md), for FUZZ_SECONDS, starting from
# the corpus in Tests/fuzz/corpus. New inputs go to a temporary folder; a crash fails the run and leaves its
# input in .build-fuzz/artifacts/. Linked with lld: gold fails on the fuzzer runtime's objects.
FUZZ_SECONDS ?= 60
fuzz:
	$(SWIFT) build -c release --scratch-path .build-fuzz --product ocpp-fuzz --toolset Tests/fuzz/lld-toolset.json \
	  -Xswiftc -sanitize=fuzzer -Xswiftc -DFUZZING
	mkdir -p .build-fuzz/artifacts && rm -rf .build-fuzz/new-corpus && mkdir -p .build-fuzz/new-corpus
	.build-fuzz/release/ocpp-fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -artifact_prefix=.build-fuzz/artifacts/ .build-fuzz/new-corpus Tests/fuzz/corpus 2>&1 | grep -v '^#' | tail -20; \
	  test $${PIPESTATUS[0]} -eq 0

test-interop: deps venv
	$(SWIFT) build --build-tests
	OCPP_BRIDGE_BIN=$$($(SWIFT) build --show-bin-path)/ocpp-bridge $(VENV)/bin/pytest -q Tests/interop

# Regenerate the committed OCPP 1.6 and 2.0.1 payload types from the official JSON schemas shipped by PyPI `ocpp`.
generate: venv
	$(VENV)/bin/python tools/generate-ocpp16.py
	$(VENV)/bin/python tools/generate-ocpp201.py
