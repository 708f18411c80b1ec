// Benchmark peer: the official TypeScript MCP SDK (1.32.2) over stdio with one native tool,
// `health`, that reports a status object of the same shape and size as ours (uptime, RSS, tool
// names, counters) as text and structured content. No output schema: neither server validates its
// own tool's output on this path (ours trusts built-in schemas in release builds).
// The tool is named like ours so that the same load drives both. Usage: node stdio.mjs
// (`e2e --ts benches/peers/ts/stdio.mjs` runs it against ours, alternating, same run).
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";

const started = Date.now();
const tools = [
  "ide_agents_catalog", "ide_agents_command", "ide_agents_github_comment_issue", "ide_agents_github_get_issue",
  "ide_agents_github_get_pull", "ide_agents_github_get_pull_diff", "ide_agents_github_list_pulls",
  "ide_agents_github_search_code", "ide_agents_health", "ide_agents_prompt", "ide_agents_resource",
];
let served = 0;
const server = new McpServer({ name: "ts-peer", version: "1.0.0" });
server.registerTool("ide_agents_health", { description: "Server health and statistics" }, async () => {
  served += 1;
  const rss = process.memoryUsage.rss();
  const uptime = Date.now() - started;
  const report = {
    status: "ok", server: "ts-peer", version: "1.0.0", runtime: process.version, protocol_version: "2025-06-18",
    uptime_ms: uptime, registered_tools: tools, loaded_tools: ["ide_agents_health"], calls_served: served,
    ultra: false, rss_bytes: rss,
    caches: ["schema", "resource", "prompt", "guest"].map((name) => ({ name, hits: 0, misses: 0, entries: 0, hit_rate: null })),
    telemetry: { enabled: true, queued: 0, flushed: 0, dropped: 0, write_errors: 0 },
    http: { requests: 0, in_flight: 0, waits: 0, connections_opened: 0 },
  };
  const text = `ok: ts-peer 1.0.0 (node ${process.version}), up ${(uptime / 1000).toFixed(1)} s, ${tools.length} tools, ${served} calls served, RSS ${(rss / 1e6).toFixed(1)} MB`;
  return { content: [{ type: "text", text }], structuredContent: report, isError: false };
});
await server.connect(new StdioServerTransport());
