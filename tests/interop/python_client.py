"""Interop check with the official Python MCP SDK (mcp==2.3.0), in either protocol era, over stdio
or Streamable HTTP.

Usage: python_client.py MODE SERVER_BINARY [SERVER_ARGS...]   (stdio: the SDK spawns the server)
       python_client.py MODE --url URL                        (Streamable HTTP)
MODE is `legacy` (the initialize handshake) or `auto` (the SDK probes `server/discover` and, as our
server answers it, speaks the stateless 2026-07-28 revision; the test then checks that it did).
Exercises the handshake or discovery, tools/list, ping (legacy only: 2026-07-28 removed it),
tools/call (health, echo with arguments and progress), the tool-error path, an unknown tool, and
resources, resource templates, prompts and completion (the server is started with --workspace), and
a multi round-trip call (the `conformance` test component asks two questions; the SDK answers them
through its elicitation callback: as elicitation/create requests in the legacy era, as
input_required rounds with requestState in 2026-07-28).
Exits non-zero with a message on the first mismatch; prints "python interop: ok" on success.
"""

import asyncio
import sys

import json

from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPError
from mcp.types import ElicitResult, PromptReference


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def main() -> None:
    mode, rest = sys.argv[1], sys.argv[2:]
    target = rest[1] if rest[0] == "--url" else StdioServerParameters(command=rest[0], args=rest[1:])
    asked = []

    async def on_elicit(context, params):
        asked.append(params.message)
        if "colour" in params.message:
            return ElicitResult(action="accept", content={"color": "teal"})
        return ElicitResult(action="accept", content={"name": "Ada"})

    async with Client(target, read_timeout_seconds=60, mode=mode, elicitation_callback=on_elicit) as client:
        version = client.session.protocol_version
        expected = "2026-07-28" if mode == "auto" else "2025-11-25"
        check(version == expected, f"{mode} mode negotiated {version}, expected {expected}")
        check(client.server_info.name == "ide-agents-mcp", f"serverInfo: {client.server_info}")
        check(client.server_capabilities.tools is not None, "tools capability missing")

        tools = (await client.list_tools()).tools
        names = [t.name for t in tools]
        check("ide_agents_health" in names and "echo" in names, f"tools/list: {names}")
        echo_tool = next(t for t in tools if t.name == "echo")
        check(echo_tool.input_schema["type"] == "object", "echo inputSchema")
        check("message" in echo_tool.input_schema["properties"], "echo inputSchema properties")

        if mode == "legacy":
            await client.session.send_ping()

        health = await client.call_tool("ide_agents_health", {})
        check(not health.is_error, f"health failed: {health}")
        check(health.structured_content["status"] == "ok", f"health: {health.structured_content}")
        check("echo" in health.structured_content["registered_tools"], "health lists echo")

        seen = []

        async def on_progress(progress, total, message):
            seen.append((progress, total))

        echo = await client.call_tool("echo", {"message": "héllo ✓", "steps": 3, "delay_ms": 50}, progress_callback=on_progress)
        check(not echo.is_error, f"echo failed: {echo}")
        check(echo.content[0].text == "héllo ✓", f"echo text: {echo.content}")
        check(echo.structured_content == {"message": "héllo ✓", "length": 7}, f"echo structured: {echo.structured_content}")
        # Progress notifications are delivered before the response; give the dispatcher time
        # (up to 10 s on a loaded machine).
        for _ in range(1000):
            if len(seen) == 3:
                break
            await asyncio.sleep(0.01)
        check(seen == [(1.0, 3.0), (2.0, 3.0), (3.0, 3.0)], f"progress: {seen}")

        bad = await client.call_tool("echo", {"steps": 1})
        check(bad.is_error, f"missing message must be an isError result: {bad}")
        check("message" in bad.content[0].text, f"error text names the field: {bad.content}")

        try:
            await client.call_tool("no_such_tool", {})
        except MCPError as e:
            check(e.error.code == -32602, f"unknown tool code: {e.error}")
        else:
            raise AssertionError("unknown tool must be a JSON-RPC error")

        resources = (await client.list_resources()).resources
        check([str(r.uri) for r in resources] == ["ide-agents://repo/graph"], f"resources/list: {resources}")
        templates = (await client.list_resource_templates()).resource_templates
        check(templates[0].uri_template == "ide-agents://repo/graph{?path}", f"templates: {templates}")
        read = await client.read_resource("ide-agents://repo/graph")
        graph = json.loads(read.contents[0].text)
        check(read.contents[0].mime_type == "application/json" and graph["files"] == 1, f"graph: {graph}")

        prompts = [p for p in (await client.list_prompts()).prompts if not p.name.startswith("test_")]
        check([p.name for p in prompts] == ["diff_review", "explain_error", "write_tests"], f"prompts: {prompts}")
        prompt = await client.get_prompt("write_tests", {"path": "lib.py", "framework": "pytest"})
        text = prompt.messages[0].content.text
        check(prompt.messages[0].role == "user" and "def add" in text and "pytest" in text, f"prompt: {prompt}")
        completion = await client.complete(PromptReference(type="ref/prompt", name="write_tests"), {"name": "framework", "value": "j"})
        check(completion.completion.values == ["jest", "junit"], f"completion: {completion}")

        rounds = await client.call_tool("test_input_required_result_multi_round", {})
        check(not rounds.is_error and rounds.content[0].text == "Ada likes teal", f"multi round-trip call: {rounds}")
        check(asked == ["What is your name?", "Your favourite colour?"], f"questions asked: {asked}")
    print(f"python interop: ok ({mode}, {version})")


if __name__ == "__main__":
    asyncio.run(main())
