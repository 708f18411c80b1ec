// Benchmark peer: the official TypeScript MCP SDK (1.32.2) serving one trivial tool, `echo`, over
// Streamable HTTP, in the SDK's documented stateless pattern (a server and transport per request,
// JSON responses). Usage: node server.mjs [PORT]  (0 picks one; the address goes to stderr).
import http from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

function makeServer() {
  const server = new McpServer({ name: "ts-peer", version: "1.0.0" });
  server.registerTool(
    "echo",
    { description: "Returns message", inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: "text", text: message }] }),
  );
  return server;
}

const httpServer = http.createServer(async (req, res) => {
  if (req.url !== "/mcp" || req.method !== "POST") {
    res.writeHead(405).end();
    return;
  }
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const server = makeServer();
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on("close", () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
});
httpServer.keepAliveTimeout = 60_000;
httpServer.listen(Number(process.argv[2] ?? 0), "127.0.0.1", () => {
  console.error(`listening on http://127.0.0.1:${httpServer.address().port}/mcp`);
});
