#!/usr/bin/env bash
# The per-call cost of interpreted tool components (issue 16, item 7): scaffolds the JavaScript
# and Python template tools with scripts/new-tool.sh into bench-results/interpreted/ (again only
# when the templates or the WIT changed), builds them, and runs `e2e --interpreted` on them:
# first call (compile, then warm AOT cache), then calls/s, latency, server CPU per call and peak
# RSS at 1 and 4 in flight, fresh sandbox per call. Results: bench-results/interpreted.json.
# Extra arguments go to e2e (e.g. --rounds 5, --requests 100000).
#
# The builds use the ComponentizeJS and componentize-py that scripts/test.sh installs under
# tests/interop/ when they are there; otherwise each template installs its pinned build tool into
# its own directory on first use (npm and pip; a clear error if they cannot).
set -euo pipefail
cd "$(dirname "$0")/.."

out=bench-results/interpreted
mkdir -p "$out"
interop=$PWD/tests/interop
[ -x "$interop/.venv/bin/componentize-py" ] && export COMPONENTIZE_PY="$interop/.venv/bin/componentize-py"
[ -x "$interop/node_modules/.bin/componentize-js" ] && export COMPONENTIZE_JS="$interop/node_modules/.bin/componentize-js"

dirs=()
for lang in js python; do
  name="${lang:0:2}_words"
  dir="$out/$name"
  wasm="$dir/out/$name.wasm"
  if [ ! -f "$wasm" ] || [ -n "$(find scripts/new-tool*.sh scripts/templates wit -newer "$wasm" -print -quit)" ]; then
    echo "bench-interpreted: building the $lang template tool $name in $dir" >&2
    rm -rf "$dir"
    scripts/new-tool.sh "$name" "$dir" --lang "$lang" >/dev/null
    (cd "$dir" && ./build.sh) || { echo "bench-interpreted: building $dir failed" >&2; exit 1; }
  fi
  dirs+=(--interpreted "$dir/out")
done

target/release/e2e --server target/release/ide-agents-mcp --out bench-results "${dirs[@]}" "$@"
