#!/usr/bin/env bash
# Scaffolds a standalone tool component in JavaScript (ComponentizeJS 0.23.0, StarlingMonkey):
#
#   scripts/new-tool.sh NAME [DIR] --lang js      (or this script: NAME [DIR])
#
# NAME: lower case letters, digits, '-' or '_'; the tool is called NAME with '-' as '_'. DIR
# (default ./NAME) must not exist yet. It gets the WIT package (the same files as
# `ide-agents-mcp wit --out wit`), the tool's logic in logic.js with a native unit test
# (`node --test`), the component glue in app.js, a package.json pinning the build tool, and
# build.sh: one command that installs the pinned ComponentizeJS into DIR/node_modules on first use
# (or uses $COMPONENTIZE_JS) and writes DIR/out/<tool>.wasm, the only file there, for
# `ide-agents-mcp serve --tools-dir DIR/out`.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/new-tool-common.sh" js "$@"
printf '/node_modules/\n/out/\n' >"$dir/.gitignore"

cat >"$dir/package.json" <<EOF
{
  "name": "$name",
  "private": true,
  "description": "The $tool tool component for ide-agents-mcp",
  "type": "module",
  "scripts": {
    "test": "node --test",
    "build": "./build.sh"
  },
  "devDependencies": {
    "@bytecodealliance/componentize-js": "0.23.0",
    "@bytecodealliance/preview2-shim": "0.25.0"
  }
}
EOF

cat >"$dir/logic.js" <<'EOF'
// The logic of the tool: plain JavaScript, tested natively with `node --test` (no wasm).
//
// The example counts the words of a text; replace it with what your tool does. Throw an Error
// for a failure the model should see: app.js turns it into a tool error with its message.

/** Counts the words of `text` and names the longest. */
export function run(text) {
  if (typeof text !== "string" || !text.trim()) throw new Error("`text` is empty");
  const words = text.split(/\s+/).filter(Boolean);
  const longest = words.reduce((a, b) => (b.length > a.length ? b : a));
  return { words: words.length, longest };
}
EOF

cat >"$dir/logic.test.js" <<'EOF'
import assert from "node:assert/strict";
import { test } from "node:test";

import { run } from "./logic.js";

test("counts words and names the longest", () => {
  assert.deepEqual(run("the quick brown fox"), { words: 4, longest: "quick" });
});

test("empty text is an error", () => {
  assert.throws(() => run("   "), /empty/);
});
EOF

cat >"$dir/app.js" <<EOF
// \`$tool\`: an ide-agents-mcp tool component in JavaScript (ComponentizeJS).
//
// It implements the WIT interface \`ide-agents:tool/tools\` (wit/tools.wit): \`describe\` lists the
// tool with its JSON Schemas, \`call\` runs it. The server checks the arguments against the input
// schema before \`call\` and the structured output against the output schema after it. A thrown
// error becomes a tool error carrying its message (not a trap): a WIT \`result\` error is thrown
// as \`{ tag, val }\`. It uses one host import, \`log\`.

import { log } from "ide-agents:tool/log@0.1.0";

import { run } from "./logic.js";

const NAME = "$tool";
const INPUT_SCHEMA = {
  type: "object",
  properties: { text: { type: "string", description: "The text to count the words of." } },
  required: ["text"],
  additionalProperties: false,
};
const OUTPUT_SCHEMA = {
  type: "object",
  properties: { words: { type: "integer" }, longest: { type: "string" } },
  required: ["words", "longest"],
};

export const tools = {
  describe() {
    return [
      {
        name: NAME,
        title: undefined,
        description: "Counts the words of \`text\` and names the longest.",
        inputSchema: JSON.stringify(INPUT_SCHEMA),
        outputSchema: JSON.stringify(OUTPUT_SCHEMA),
        annotations: { readOnly: true, destructive: undefined, idempotent: true, openWorld: false },
      },
    ];
  },

  call(name, args) {
    if (name !== NAME) throw { tag: "unknown-tool", val: name };
    let result;
    try {
      result = run(JSON.parse(args).text);
    } catch (e) {
      throw { tag: "failed", val: \`\${e.name}: \${e.message}\` };
    }
    log("info", \`counted \${result.words} words\`);
    return {
      content: [{ tag: "text", val: \`\${result.words} words; the longest is "\${result.longest}"\` }],
      structured: JSON.stringify(result),
      isError: false,
    };
  },
};
EOF

cat >"$dir/build.sh" <<EOF
#!/usr/bin/env bash
# Builds out/$tool.wasm with ComponentizeJS 0.23.0 (installed into node_modules from package.json
# on first use; or set COMPONENTIZE_JS to a componentize-js of that version). Serve it with
#   ide-agents-mcp serve --tools-dir out        (check it first: ide-agents-mcp check out/$tool.wasm)
# \`--disable fetch-event\`: a tool is called, it does not serve HTTP. \`fetch\` stays: its requests go
# through the server's pooled client, to the origins the tool's \`http_allow\` grants. package.json
# also pins @bytecodealliance/preview2-shim: ComponentizeJS 0.23.0 imports it without declaring it.
set -euo pipefail
cd "\$(dirname "\$0")"
cjs="\${COMPONENTIZE_JS:-}"
if [ -z "\$cjs" ]; then
  if [ ! -x node_modules/.bin/componentize-js ]; then
    command -v npm >/dev/null || { echo "npm is missing: install Node.js 20 or newer" >&2; exit 1; }
    npm install --no-audit --no-fund --loglevel=error
  fi
  cjs=node_modules/.bin/componentize-js
fi
mkdir -p out
"\$cjs" app.js --wit wit --world-name tool --disable fetch-event --out out/$tool.wasm
echo "built out/$tool.wasm" >&2
EOF
chmod +x "$dir/build.sh"

cat >"$dir/README.md" <<EOF
# $tool

An ide-agents-mcp tool component written in JavaScript.

- Test the logic natively: \`node --test\`
- Build: \`./build.sh\` (ComponentizeJS 0.23.0, which embeds the StarlingMonkey engine; about 12 MB)
- Check: \`ide-agents-mcp check out/$tool.wasm\`
- Serve: \`ide-agents-mcp serve --tools-dir out\`

What JavaScript cannot do here: no files, sockets, environment or subprocesses (the sandbox grants
none; use the host interfaces in wit/); \`fetch\` works (make \`call\` async and await it) for the
origins the server's configuration grants the tool (\`[tools.$tool] http_allow\`); npm packages that need
Node's APIs (\`fs\`, \`net\`, \`process\`) do not work; the first load compiles the 12 MB component
(several seconds, once: the result is kept in the AOT cache), and each call instantiates a fresh
engine (about 1 ms of server CPU).
EOF

echo "created $dir: node --test, then ./build.sh -> out/$tool.wasm" >&2
