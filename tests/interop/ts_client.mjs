// Interop check with the official TypeScript MCP SDK (@modelcontextprotocol/sdk@1.32.2, which
// speaks the initialize-era protocol) over stdio or Streamable HTTP.
//
// Usage: node ts_client.mjs SERVER_BINARY [SERVER_ARGS...]   (stdio: the SDK spawns the server)
//        node ts_client.mjs --url URL                        (Streamable HTTP, with a session)
// Exercises initialize, tools/list, ping, tools/call (health, echo with arguments and progress),
// the tool-error path, an unknown tool, the catalog (whose structured content the SDK checks
// against its output schema), resources, prompts and completion (the server runs with --workspace). Exits non-zero on the first mismatch; prints
// "typescript interop: ok" on success.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [command, ...args] = process.argv.slice(2);
const transport =
  command === "--url"
    ? new StreamableHTTPClientTransport(new URL(args[0]))
    : new StdioClientTransport({ command, args, stderr: "inherit" });
const client = new Client({ name: "ts-interop", version: "1.0.0" });
await client.connect(transport);

assert.equal(client.getServerVersion().name, "ide-agents-mcp");
assert.ok(client.getServerCapabilities().tools, "tools capability");

const { tools } = await client.listTools();
const names = tools.map((t) => t.name);
assert.ok(names.includes("ide_agents_health") && names.includes("echo"), `tools/list: ${names}`);
const echoTool = tools.find((t) => t.name === "echo");
assert.equal(echoTool.inputSchema.type, "object");

await client.ping();

const health = await client.callTool({ name: "ide_agents_health", arguments: {} });
assert.ok(!health.isError, JSON.stringify(health));
assert.equal(health.structuredContent.status, "ok");

const progress = [];
const echo = await client.callTool(
  { name: "echo", arguments: { message: "héllo ✓", steps: 2, delay_ms: 50 } },
  undefined,
  { onprogress: (p) => progress.push([p.progress, p.total]) },
);
assert.ok(!echo.isError, JSON.stringify(echo));
assert.equal(echo.content[0].text, "héllo ✓");
assert.deepEqual(echo.structuredContent, { message: "héllo ✓", length: 7 });
assert.deepEqual(progress, [[1, 2], [2, 2]]);

const bad = await client.callTool({ name: "echo", arguments: { steps: 1 } });
assert.ok(bad.isError, JSON.stringify(bad));
assert.match(bad.content[0].text, /message/);

await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }), (e) => e.code === -32602);

const catalog = await client.callTool({ name: "ide_agents_catalog", arguments: { kind: "prompts" } });
assert.ok(!catalog.isError, JSON.stringify(catalog));
assert.equal(catalog.structuredContent.counts.prompts, 3);

const { resources } = await client.listResources();
assert.deepEqual(resources.map((r) => r.uri), ["ide-agents://repo/graph"]);
const read = await client.readResource({ uri: "ide-agents://repo/graph" });
assert.equal(read.contents[0].mimeType, "application/json");
assert.equal(JSON.parse(read.contents[0].text).files, 1);
const { resourceTemplates } = await client.listResourceTemplates();
assert.equal(resourceTemplates[0].uriTemplate, "ide-agents://repo/graph{?path}");

const { prompts } = await client.listPrompts();
assert.deepEqual(prompts.map((p) => p.name), ["diff_review", "explain_error", "write_tests"]);
const prompt = await client.getPrompt({ name: "explain_error", arguments: { error: "TypeError: x is undefined", language: "javascript" } });
assert.equal(prompt.messages[0].role, "user");
assert.match(prompt.messages[0].content.text, /TypeError: x is undefined/);
const completion = await client.complete({ ref: { type: "ref/prompt", name: "explain_error" }, argument: { name: "language", value: "ty" } });
assert.deepEqual(completion.completion.values, ["typescript"]);

if (command === "--url") {
  assert.ok(transport.sessionId, "an initialize-era HTTP session id");
  await transport.terminateSession();
}
await client.close();
console.log("typescript interop: ok");
