// Interop check with the official TypeScript MCP SDK (@modelcontextprotocol/sdk@1.32.2) over stdio.
//
// Usage: node ts_client.mjs SERVER_BINARY [SERVER_ARGS...]
// Exercises initialize, tools/list, ping, tools/call (health, echo with arguments and progress),
// the tool-error path and an unknown tool. Exits non-zero on the first mismatch; prints
// "typescript interop: ok" on success.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [command, ...args] = process.argv.slice(2);
const transport = new StdioClientTransport({ command, args, stderr: "inherit" });
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

await client.close();
console.log("typescript interop: ok");
