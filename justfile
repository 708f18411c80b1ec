# ide-agents-mcp tasks (optional: every step below is a plain command too; `cargo install just`).
# `just --list` shows them all.

# Build the shipped tool components' core modules (wasm32-unknown-unknown: no WASI) into
# guest-tools/target; server/build.rs builds them and makes them components.
build-guests:
    rustup target add wasm32-unknown-unknown
    cd guest-tools && cargo build --release --target wasm32-unknown-unknown

# Build the test-only components into tests/guests/target (the benches' `echo`).
build-test-guests:
    rustup target add wasm32-wasip2
    cd tests/guests && cargo build --release --target wasm32-wasip2

# Run every test (installs the interop clients on first use).
test *ARGS:
    scripts/test.sh {{ARGS}}

# clippy -D warnings and rustfmt --check: host, shipped guests, test guests.
lint:
    cargo fmt --all --check
    cd guest-tools && cargo fmt --all --check
    cd tests/guests && cargo fmt --all --check
    cd tests/guests-wasi-free && cargo fmt --all --check
    cargo clippy --release --workspace --all-targets -- -D warnings
    cd guest-tools && cargo clippy --target wasm32-unknown-unknown --workspace -- -D warnings
    cd tests/guests && cargo clippy --target wasm32-wasip2 --workspace -- -D warnings
    cd tests/guests-wasi-free && cargo clippy --target wasm32-unknown-unknown --workspace -- -D warnings

# Run the server over stdio (release build).
run *ARGS:
    cargo run --release -p ide-agents-mcp -- serve {{ARGS}}

# Micro benchmarks and end-to-end benchmarks of the release binary, the latter against the floor and
# the TypeScript SDK's stdio server (same run, alternating); results (JSON, markdown, chart.svg) in
# bench-results/.
bench *ARGS: build-test-guests
    cargo build --release -p ide-agents-mcp -p ide-agents-mcp-benches
    cd benches/peers/ts && npm ci --no-audit --no-fund --loglevel=error
    target/release/micro --out bench-results --guests tests/guests/target/wasm32-wasip2/release
    target/release/e2e --server target/release/ide-agents-mcp --guests tests/guests/target/wasm32-wasip2/release --floor target/release/floor --ts benches/peers/ts/stdio.mjs --out bench-results {{ARGS}}
    just bench-http
    just bench-interpreted
    just bench-ultra

# The ULTRA ML tools against their Python reference libraries, same input, same run (the interop
# venv from scripts/test.sh has the libraries); results in bench-results/ultra.json.
bench-ultra *ARGS:
    cargo build --release -p ide-agents-mcp
    tests/interop/.venv/bin/python benches/ultra_bench.py --out bench-results/ultra.json {{ARGS}}

# Ours against the TypeScript SDK's stdio server only (health at 1 and 16 in flight, alternating).
bench-peers *ARGS:
    cargo build --release -p ide-agents-mcp -p ide-agents-mcp-benches
    cd benches/peers/ts && npm ci --no-audit --no-fund --loglevel=error
    target/release/e2e --server target/release/ide-agents-mcp --ts benches/peers/ts/stdio.mjs --peers-only --out bench-results {{ARGS}}

# Interpreted tool components (the JavaScript and Python templates, built on first use): per-call
# cost at 1 and 4 in flight, fresh sandbox per call; results in bench-results/interpreted.json.
bench-interpreted *ARGS:
    cargo build --release -p ide-agents-mcp -p ide-agents-mcp-benches
    scripts/bench-interpreted.sh {{ARGS}}

# Streamable HTTP: ours (both eras) against the TypeScript SDK's and rmcp's servers, same tool.
bench-http: build-test-guests
    cargo build --release -p ide-agents-mcp -p ide-agents-mcp-benches
    cargo build --release --manifest-path benches/peers/rmcp/Cargo.toml
    cd benches/peers/ts && npm ci --no-audit --no-fund --loglevel=error
    target/release/http --server target/release/ide-agents-mcp --guests tests/guests/target/wasm32-wasip2/release --ts benches/peers/ts/server.mjs --rmcp benches/peers/rmcp/target/release/rmcp-peer --out bench-results

# Scaffold a standalone tool on the SDK in DIR (default ./NAME, from where `just` is run); add
# `--lang python`, `--lang js` or `--lang c` for a tool in that language.
[no-cd]
new-tool NAME *DIR:
    {{justfile_directory()}}/scripts/new-tool.sh {{NAME}} {{DIR}}

# Fuzz the JSON-RPC layer and the tools/call path for SECONDS each (nightly + cargo-fuzz);
# new corpus entries land in fuzz/corpus/. Built without the built-in tools (the nightly here has no
# wasm32-wasip2 standard library; the targets do not run components).
fuzz SECONDS="60":
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
    cd fuzz && IDE_AGENTS_MCP_NO_GUESTS=1 cargo +nightly fuzz run jsonrpc_message -- -max_total_time={{SECONDS}}
    cd fuzz && IDE_AGENTS_MCP_NO_GUESTS=1 cargo +nightly fuzz run call_path -- -max_total_time={{SECONDS}}
