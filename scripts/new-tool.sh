#!/usr/bin/env bash
# Scaffolds a tool component: guest-tools/NAME, a copy of the echo tool renamed, added to the
# guest workspace. Build it with `just build-guests`; the component lands in
# guest-tools/target/wasm32-wasip2/release/NAME.wasm, ready for `--tools-dir`.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:?usage: scripts/new-tool.sh NAME (a crate name: lower case, digits, '-' or '_')}"
[[ "$name" =~ ^[a-z][a-z0-9_-]*$ ]] || { echo "invalid crate name: $name" >&2; exit 2; }
dir="guest-tools/$name"
[ -e "$dir" ] && { echo "$dir already exists" >&2; exit 1; }
mkdir -p "$dir/src"
sed "s/^name = \"echo\"/name = \"$name\"/" guest-tools/echo/Cargo.toml > "$dir/Cargo.toml"
tool="${name//-/_}"
sed -e "s/\"echo\"/\"$tool\"/g" -e "s/struct Echo/struct Tool/; s/impl Guest for Echo/impl Guest for Tool/; s/export!(Echo)/export!(Tool)/" \
    -e "s|^//! \`echo\`: a test-only tool.*|//! \`$tool\`: describe what this tool does.|" guest-tools/echo/src/lib.rs > "$dir/src/lib.rs"
sed -i "s/^members = \[\(.*\)\]/members = [\1, \"$name\"]/" guest-tools/Cargo.toml
echo "created $dir (tool name: $tool); edit $dir/src/lib.rs, then: just build-guests"
