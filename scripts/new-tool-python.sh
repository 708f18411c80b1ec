#!/usr/bin/env bash
# Scaffolds a standalone tool component in Python (componentize-py 0.25.1):
#
#   scripts/new-tool.sh NAME [DIR] --lang python      (or this script: NAME [DIR])
#
# NAME: lower case letters, digits, '-' or '_'; the tool is called NAME with '-' as '_'. DIR
# (default ./NAME) must not exist yet. It gets the WIT package (the same files as
# `ide-agents-mcp wit --out wit`), the tool's logic in logic.py with a native unit test
# (`python3 -m unittest`), the component glue in app.py, and build.sh: one command that installs
# the pinned componentize-py into DIR/.venv on first use (or uses $COMPONENTIZE_PY) and writes
# DIR/out/<tool>.wasm, the only file there, for `ide-agents-mcp serve --tools-dir DIR/out`.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/new-tool-common.sh" python "$@"
printf '/.venv/\n/out/\n__pycache__/\n/wit_world/\n' >"$dir/.gitignore"

cat >"$dir/logic.py" <<EOF
"""The logic of \`$tool\`: plain Python, tested natively with \`python3 -m unittest\` (no wasm).

The example counts the words of a text; replace it with what your tool does. Raise an exception
for a failure the model should see: app.py turns it into a tool error with its message.
"""


def run(text: str) -> dict:
    """Counts the words of \`text\` and names the longest."""
    if not text.strip():
        raise ValueError("\`text\` is empty")
    words = text.split()
    return {"words": len(words), "longest": max(words, key=len)}
EOF

cat >"$dir/test_logic.py" <<'EOF'
import unittest

import logic


class LogicTest(unittest.TestCase):
    def test_counts_words_and_names_the_longest(self):
        self.assertEqual(logic.run("the quick brown fox"), {"words": 4, "longest": "quick"})

    def test_empty_text_is_an_error(self):
        with self.assertRaises(ValueError):
            logic.run("   ")


if __name__ == "__main__":
    unittest.main()
EOF

cat >"$dir/app.py" <<EOF
"""\`$tool\`: an ide-agents-mcp tool component in Python (componentize-py).

It implements the WIT interface \`ide-agents:tool/tools\` (wit/tools.wit): \`describe\` lists the
tool with its JSON Schemas, \`call\` runs it. The server checks the arguments against the input
schema before \`call\` and the structured output against the output schema after it. An exception
becomes a tool error carrying its message (not a trap). It uses one host import, \`log\`.
"""

import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import log, types

import logic

NAME = "$tool"
INPUT_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "description": "The text to count the words of."}},
    "required": ["text"],
    "additionalProperties": False,
}
OUTPUT_SCHEMA = {
    "type": "object",
    "properties": {"words": {"type": "integer"}, "longest": {"type": "string"}},
    "required": ["words", "longest"],
}


class Tools(exports.Tools):
    def describe(self) -> list[types.ToolDescriptor]:
        return [
            types.ToolDescriptor(
                name=NAME,
                title=None,
                description="Counts the words of \`text\` and names the longest.",
                input_schema=json.dumps(INPUT_SCHEMA),
                output_schema=json.dumps(OUTPUT_SCHEMA),
                annotations=types.ToolAnnotations(read_only=True, destructive=None, idempotent=True, open_world=False),
            )
        ]

    def call(self, name: str, arguments: str) -> types.CallResult:
        if name != NAME:
            raise Err(types.ToolError_UnknownTool(name))
        try:
            result = logic.run(json.loads(arguments)["text"])
        except Exception as e:
            raise Err(types.ToolError_Failed(f"{type(e).__name__}: {e}"))
        log.log(log.Level.INFO, f"counted {result['words']} words")
        text = f"{result['words']} words; the longest is {result['longest']!r}"
        return types.CallResult(content=[types.Content_Text(text)], structured=json.dumps(result), is_error=False)
EOF

cat >"$dir/build.sh" <<EOF
#!/usr/bin/env bash
# Builds out/$tool.wasm with componentize-py 0.25.1 (installed into .venv on first use; or set
# COMPONENTIZE_PY to a componentize-py of that version). Serve it with
#   ide-agents-mcp serve --tools-dir out        (check it first: ide-agents-mcp check out/$tool.wasm)
set -euo pipefail
cd "\$(dirname "\$0")"
cpy="\${COMPONENTIZE_PY:-}"
if [ -z "\$cpy" ]; then
  if [ ! -x .venv/bin/componentize-py ]; then
    python3 -m venv .venv || { echo "python3 -m venv failed: install python3-venv" >&2; exit 1; }
    .venv/bin/pip install --quiet componentize-py==0.25.1
  fi
  cpy=.venv/bin/componentize-py
fi
mkdir -p out
"\$cpy" -d wit -w tool componentize app -o out/$tool.wasm
echo "built out/$tool.wasm" >&2
EOF
chmod +x "$dir/build.sh"

cat >"$dir/README.md" <<EOF
# $tool

An [ide-agents-mcp](https://github.com/) tool component written in Python.

- Test the logic natively: \`python3 -m unittest\`
- Build: \`./build.sh\` (componentize-py 0.25.1; about 18 MB, CPython included)
- Check: \`ide-agents-mcp check out/$tool.wasm\`
- Serve: \`ide-agents-mcp serve --tools-dir out\`

What Python cannot do here: no files, sockets, environment or subprocesses (the sandbox grants
none; use the host interfaces in wit/, e.g. \`http\` for allow-listed requests); packages with
native extensions do not build; the first load compiles the 18 MB component (about 10-20 s, once:
the result is kept in the AOT cache), and each call instantiates a fresh CPython (about 1-2 ms).
EOF

echo "created $dir: python3 -m unittest, then ./build.sh -> out/$tool.wasm" >&2
