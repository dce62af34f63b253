# The commands the README documents: make test, make demo, make pkg.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
# wasm-pack finds wasm-opt (from the binaryen npm package) and wasm-bindgen
# on PATH instead of downloading them.
export PATH := $(CURDIR)/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: test demo pkg bench readme setup tools lint types rust-test node-test clean

test: pkg lint types rust-test node-test

demo: pkg
	node tests/demo/run.js

# Benchmarks: not part of `make test` (timings on a shared machine are noisy).
bench: pkg
	node bench/mapping.js
	node bench/collector.js

# Renders the README's settings and examples tables from the package's ./dev
# (tests/node/readme.test.js fails when they drift).
readme: pkg
	node pkg-template/readme.js --write

pkg: setup
	wasm-pack build --release --target nodejs --out-dir target/wasm-pack --out-name walkeros_destination_hubspot --no-pack
	node pkg-template/assemble.js

setup: tools node_modules/.package-lock.json

# Installs only what is missing.
tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@command -v wasm-pack >/dev/null || cargo install --locked wasm-pack
	@[ "$$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $(WASM_BINDGEN_VERSION)" ] || cargo install --locked --force wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

lint:
	cargo fmt --check
	cargo clippy --target wasm32-unknown-unknown --all-targets -- -D warnings

# The package's TypeScript declarations, checked against a typed usage file.
types:
	tsc -p tests/types/tsconfig.json

rust-test:
	wasm-pack test --node

node-test:
	node --test --test-concurrency=1 tests/node/

clean:
	rm -rf pkg target/wasm-pack
