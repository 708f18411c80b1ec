#!/usr/bin/env python3
"""Before/after figures for the hostile-component classes of docs/SECURITY.md.

Runs one server binary (pass it as the first argument) against the test components in
`tests/guests` (built by `cargo test --release --no-run`; pass their directory as the second
argument) and prints one JSON object per class with what a hostile component achieved: how long
startup or other tools were held up, bytes written, peak RSS. Run it against an old and a new
binary to compare:

    python3 benches/hostile_figures.py target/release/ide-agents-mcp \
        target/release/build/ide-agents-test-guests-*/out/guest-target/wasm32-wasip2/release

Standard library only. Each case starts a fresh server with its own cache directory.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time


def slow_to_compile(live):
    """A component whose one function keeps `live` values on the operand stack (see hardening.rs)."""

    def leb(n):
        out = bytearray()
        while True:
            b, n = n & 0x7F, n >> 7
            if n:
                out.append(b | 0x80)
            else:
                out.append(b)
                return bytes(out)

    def sleb(n):
        out = bytearray()
        while True:
            b, n = n & 0x7F, n >> 7
            if (n == 0 and not b & 0x40) or (n == -1 and b & 0x40):
                out.append(b)
                return bytes(out)
            out.append(b | 0x80)

    def section(i, payload):
        return bytes([i]) + leb(len(payload)) + payload

    body = bytearray(b"\x00")
    for i in range(live):
        body += bytes([0x20, 0]) + b"\x42" + sleb(i * 7919 + 3) + b"\x7e"
    body += b"\x7c" * (live - 1) + b"\x0b"
    module = (b"\0asm\x01\0\0\0" + section(1, leb(1) + bytes([0x60, 1, 0x7E, 1, 0x7E]))
              + section(3, leb(1) + b"\x00") + section(10, leb(1) + leb(len(body)) + bytes(body)))
    return b"\0asm\x0d\0\x01\0" + section(1, module)


class Server:
    def __init__(self, binary, tools, config="", workspace=None):
        self.dir = tempfile.mkdtemp()
        os.mkdir(f"{self.dir}/tools")
        for name, source in tools.items():
            if isinstance(source, bytes):
                open(f"{self.dir}/tools/{name}.wasm", "wb").write(source)
            else:
                shutil.copy(source, f"{self.dir}/tools/{name}.wasm")
        open(f"{self.dir}/config.toml", "w").write(config)
        args = [binary, "serve", "--tools-dir", f"{self.dir}/tools", "--config", f"{self.dir}/config.toml",
                "--cache-dir", f"{self.dir}/cache", "--telemetry", "off"]
        if workspace:
            args += ["--workspace", workspace]
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stderr_bytes = 0
        self.stderr_text = []
        threading.Thread(target=self._drain, daemon=True).start()
        self.next_id = 0
        self.notifications = []

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr_bytes += len(line)
            if len(self.stderr_text) < 5000:
                self.stderr_text.append(line.decode("utf-8", "replace"))

    def send(self, message):
        if isinstance(message.get("id"), (int, str)) and "method" in message:
            print("  ->", message["method"], message.get("params", {}).get("name", ""), file=sys.stderr, flush=True)
        self.proc.stdin.write((json.dumps(message) + "\n").encode())
        self.proc.stdin.flush()

    def request(self, method, params, id_=None):
        self.next_id += 1
        id_ = id_ or self.next_id
        self.send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        return self.response(id_)

    def response(self, id_):
        for i, seen in enumerate(self.notifications):
            if seen.get("id") == id_:
                return self.notifications.pop(i)
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("server closed stdout: " + "".join(self.stderr_text[-20:]))
            message = json.loads(line)
            if message.get("id") == id_:
                return message
            self.notifications.append(message)

    def initialize(self):
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "figures", "version": "0"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return time.monotonic() - self.started

    def call(self, tool, arguments=None):
        started = time.monotonic()
        result = self.request("tools/call", {"name": tool, "arguments": arguments or {}}).get("result", {})
        return result, time.monotonic() - started

    def peak_rss_mib(self):
        for line in open(f"/proc/{self.proc.pid}/status"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
        return None

    def threads(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/task"))

    def close(self):
        print("  closed", file=sys.stderr, flush=True)
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def text(result):
    content = result.get("content") or [{}]
    return content[0].get("text", "")


def main():
    binary, guests = sys.argv[1], sys.argv[2]
    g = lambda name: f"{guests}/{name}.wasm"  # noqa: E731
    figures = {}


    s = Server(binary, {"describe_loop": g("describe_loop"), "echo": g("echo")})
    figures["1_startup_with_looping_describe"] = {"initialize_s": round(s.initialize(), 3)}
    s.close()

    s = Server(binary, {"bomb": slow_to_compile(20000), "echo": g("echo")})
    init = s.initialize()
    _, health = s.call("ide_agents_health")
    figures["2_compile_bomb_183KB"] = {"initialize_s": round(init, 3), "health_s": round(health, 3),
                                      "server_peak_rss_mib": s.peak_rss_mib()}
    s.close()

    s = Server(binary, {"describe_huge": g("describe_huge")})
    s.initialize()
    listed = s.request("tools/list", {})
    figures["3_huge_registration"] = {"tools_list_bytes": len(json.dumps(listed)),
                                      "tools": len(listed["result"]["tools"])}
    s.close()

    s = Server(binary, {"badschema": g("badschema")})
    s.initialize()
    names = [t["name"] for t in s.request("tools/list", {})["result"]["tools"]]
    result, _ = s.call("badschema_broken_output")
    figures["4_schema_fails_open"] = {"bad_tools_registered": sum(n.startswith("badschema_") for n in names) - 1,
                                      "unchecked_output_passed": result.get("isError") is False}
    s.close()

    workspace = tempfile.mkdtemp()
    os.mkfifo(f"{workspace}/pipe")
    s = Server(binary, {"hostile": g("hostile")},
               f"[limits]\ncall_timeout_ms = 1000\n[tools.hostile_read.read_roots]\nworkspace = {json.dumps(workspace)}\n")
    s.initialize()
    before = s.threads()
    started = time.monotonic()
    for i in range(32):
        s.send({"jsonrpc": "2.0", "id": f"f{i}", "method": "tools/call",
                "params": {"name": "hostile_read", "arguments": {"path": "pipe"}}})
    for i in range(32):
        s.response(f"f{i}")
    figures["7_fifo_reads"] = {"32_reads_s": round(time.monotonic() - started, 3),
                               "threads_added": s.threads() - before}
    s.close()

    s = Server(binary, {"hostile": g("hostile"), "impostor": g("impostor")})
    s.initialize()
    s.call("impostor_grants", {"set": "precious"})
    s.call("hostile_cache_flood", {"entries": 1500})
    kept_before = text(s.call("impostor_grants", {"get": True})[0])
    stored_after = text(s.call("impostor_grants", {"set": "new"})[0])
    figures["8_cache_flood"] = {"victim_entry_kept": kept_before, "victim_set_after_flood": stored_after,
                                "victim_reads_new": text(s.call("impostor_grants", {"get": True})[0])}
    s.close()

    s = Server(binary, {"impostor": g("impostor")}, workspace=workspace)
    s.initialize()
    names = [t["name"] for t in s.request("tools/list", {})["result"]["tools"]]
    taken, _ = s.call("ide_agents_ultra_rank") if "ide_agents_ultra_rank" in names else ({}, 0)
    figures["9_builtin_name_taken"] = {"registered": "ide_agents_ultra_rank" in names,
                                       "impostor_saw": text(taken) if taken else None}
    s.close()

    s = Server(binary, {"hostile": g("hostile")}, "[limits]\ncall_timeout_ms = 60000\n")
    s.initialize()
    s.request("logging/setLevel", {"level": "debug"})
    before = s.stderr_bytes
    s.send({"jsonrpc": "2.0", "id": "flood", "method": "tools/call",
            "params": {"name": "hostile_log_flood", "arguments": {"records": 3000},
                       "_meta": {"progressToken": "p"}}})
    time.sleep(3)  # not reading: what does the server hold for us?
    peak = s.peak_rss_mib()
    s.response("flood")
    time.sleep(0.3)
    forged = sum(line.startswith("2026-01-01T00:00:00") for line in s.stderr_text)
    figures["10_11_log_and_progress_flood"] = {
        "stderr_bytes": s.stderr_bytes - before, "forged_lines": forged,
        "notifications": len(s.notifications), "peak_rss_mib_while_client_not_reading": peak}
    s.close()

    s = Server(binary, {"hostile": g("hostile")}, "[limits]\nmax_output_bytes = 4194304\n")
    s.initialize()
    def raw_call(tool, arguments=None):
        s.send({"jsonrpc": "2.0", "id": tool, "method": "tools/call", "params": {"name": tool, "arguments": arguments or {}}})
        line = s.proc.stdout.readline()
        try:
            result = json.loads(line).get("result", {})
        except RecursionError:
            result = {"client_parser": "crashed (RecursionError)"}
        return line, result

    line, _ = raw_call("hostile_escaped_output", {"bytes": 1 << 20})
    _, many = raw_call("hostile_many_items")
    _, deep = raw_call("hostile_deep_output")
    _, link = raw_call("hostile_file_link")
    figures["12_13_15_output"] = {
        "escaped_answer_bytes_with_4MiB_limit": len(line),
        "100k_items_passed": many.get("isError") is False,
        "depth_10000_passed": deep.get("client_parser") or deep.get("isError") is False,
        "file_link_passed": link.get("isError") is False}
    s.close()

    s = Server(binary, {"hostile": g("hostile"), "echo": g("echo")}, "[limits]\ncall_timeout_ms = 10000\n")
    s.initialize()
    s.call("echo", {"message": "warm"})
    for i in range(96):
        s.send({"jsonrpc": "2.0", "id": f"h{i}", "method": "tools/call",
                "params": {"name": "hostile_sleep" if i % 2 == 0 else "hostile_spin", "arguments": {}}})
    time.sleep(0.5)
    _, health = s.call("ide_agents_health")
    figures["14_slots_hogged"] = {"health_wait_s": round(health, 3)}
    s.close()

    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
