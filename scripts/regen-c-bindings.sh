#!/usr/bin/env bash
# Regenerates the C tool template's bindings (scripts/templates/c/gen: tool.c, tool.h,
# tool_component_type.o) from wit/ with wit-bindgen 0.61.1, and records the WIT they were made
# from (gen/WIT.sha256: the SHA-256 of wit/*.wit in name order), which a test compares with wit/.
# Run it after changing wit/. Uses $WIT_BINDGEN, or installs wit-bindgen-cli 0.61.1 (C generator
# only, a few minutes) into target/wit-bindgen.
set -euo pipefail
cd "$(dirname "$0")/.."
bindgen="${WIT_BINDGEN:-target/wit-bindgen/bin/wit-bindgen}"
if [ ! -x "$bindgen" ]; then
  cargo install --quiet --locked wit-bindgen-cli --version 0.61.1 --no-default-features --features c \
    --root target/wit-bindgen
fi
"$bindgen" --version | grep -q '^wit-bindgen-cli 0.61.1' || { echo "need wit-bindgen 0.61.1: $("$bindgen" --version)" >&2; exit 1; }
out=scripts/templates/c/gen
rm -rf "$out" && mkdir -p "$out"
"$bindgen" c wit --world tool --out-dir "$out" >/dev/null
cat $(printf '%s\n' wit/*.wit | LC_ALL=C sort) | sha256sum | cut -d' ' -f1 >"$out/WIT.sha256"
echo "regenerated $out for $(cat "$out/WIT.sha256")" >&2
