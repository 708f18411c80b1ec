//! Untrusted components for real (docs/SECURITY.md, "Hostile components"): each way a hostile
//! component could reach past its own call is closed at its mechanism. One test or more per
//! class, each asserting the secure outcome: other tools keep answering quickly, the effect is
//! bounded in time, bytes and memory, and nothing leaks. The hostile components are the test
//! guests `describe_loop`, `describe_huge`, `badschema`, `impostor` and `hostile`, plus a
//! component generated here that is slow to compile.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Launch, Server, guest, proc_status_kib, text};

/// A server over copies of `components` with `config` (TOML), its own cache directory (so that
/// nothing is remembered from other tests unless `cache` is given), initialized. Unless `config`
/// has a `[server]` table of its own, `tools/list` waits up to a minute for discovery instead of
/// the default 2 s: a fresh cache compiles every component, which takes longer than that on a
/// loaded machine.
fn serve(components: &[&str], config: &str, cache: Option<&Path>) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let tools = dir.path().join("tools");
    std::fs::create_dir(&tools).unwrap();
    for name in components {
        std::fs::copy(guest(name), tools.join(format!("{name}.wasm"))).unwrap();
    }
    let config_path = dir.path().join("config.toml");
    let wait = if config.contains("[server]") { "" } else { crate::support::PATIENT_DISCOVERY };
    std::fs::write(&config_path, format!("{wait}{config}")).unwrap();
    let cache = cache.map_or_else(|| dir.path().join("cache"), Path::to_path_buf);
    let mut server = Launch::bare()
        .args(["--tools-dir".as_ref(), tools.as_os_str(), "--config".as_ref(), config_path.as_os_str()])
        .args(["--cache-dir".as_ref(), cache.as_os_str()])
        .spawn();
    server.initialize();
    (server, dir)
}

fn tool_names(server: &mut Server) -> Vec<String> {
    let list = server.result("tools/list", json!({}));
    list["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

/// Waits until stderr contains `needle` (or fails after `patience`).
fn await_stderr(server: &Server, needle: &str, patience: Duration) -> String {
    let started = Instant::now();
    loop {
        let stderr = server.stderr();
        if stderr.contains(needle) {
            return stderr;
        }
        assert!(started.elapsed() < patience, "no {needle:?} on stderr within {patience:?}:\n{stderr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let value = f();
    (value, started.elapsed())
}

/// Class 1: a `describe` that never returns delays neither `initialize` nor other tools, is
/// stopped at its budget, and its failure is remembered by digest for the next start.
#[test]
fn a_looping_describe_holds_up_nothing_and_is_remembered() {
    let cache = tempfile::tempdir().unwrap();
    let config = "[limits]\ndescribe_timeout_ms = 1000\n";
    let ((mut server, _dir), started) = timed(|| serve(&["describe_loop", "echo"], config, Some(cache.path())));
    // Before: discovery ran `describe` under the 30 s call limit before reading stdin.
    assert!(started < Duration::from_secs(10), "initialize took {started:?}");
    let (health, took) = timed(|| server.call("ide_agents_health", json!({})));
    assert_eq!(health["isError"], false, "{health}");
    assert!(took < Duration::from_secs(5), "health took {took:?} while a describe loops");
    // A call of a tool still being described waits for it, then runs.
    assert_eq!(text(&server.call("echo", json!({"message": "hi"}))), "hi");
    let first = tool_names(&mut server);
    assert!(first.contains(&"echo".to_owned()), "{first:?}");
    await_stderr(&server, "time limit of 1000 ms", Duration::from_secs(30));
    drop(server);

    // The next start remembers the failure: nothing loops again, everything is listed at once.
    let (mut server, _dir) = serve(&["describe_loop", "echo"], config, Some(cache.path()));
    let (names, took) = timed(|| tool_names(&mut server));
    assert!(names.contains(&"echo".to_owned()), "{names:?}");
    assert!(took < Duration::from_secs(5), "tools/list took {took:?}");
    await_stderr(&server, "remembered from an earlier start", Duration::from_secs(10));
}

/// Class 1: tools described in the background are announced with `list_changed` when the client
/// had already been told the list.
#[test]
fn tools_described_later_are_announced() {
    let config = "[limits]\ndescribe_timeout_ms = 3000\n[server]\ndiscovery_wait_ms = 0\n";
    let (mut server, _dir) = serve(&["describe_loop", "echo"], config, None);
    // With no wait, the first list may come before `echo` is described.
    let mut names = tool_names(&mut server);
    let arrived_later = !names.contains(&"echo".to_owned());
    let started = Instant::now();
    while !names.contains(&"echo".to_owned()) {
        assert!(started.elapsed() < Duration::from_secs(60), "echo never arrived");
        std::thread::sleep(Duration::from_millis(50));
        names = tool_names(&mut server);
    }
    // Arriving after the first list, it is announced (the announcement may follow the list
    // that first shows it).
    if arrived_later {
        server.wait_notifications("notifications/tools/list_changed", 0);
    }
}

/// A component generated here that is small but slow to compile: `functions` functions that
/// each keep `live` values on the operand stack at once (register allocation is quadratic in
/// them: one such function of 183 KB takes ~9 s and 55 MB to compile on the reference machine).
fn slow_to_compile(functions: u32, live: i64) -> Vec<u8> {
    use wasm_encoder::{
        CodeSection, Function, FunctionSection, Instruction, Module, ModuleSection, TypeSection, ValType,
    };
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([ValType::I64], [ValType::I64]);
    module.section(&types);
    let mut declared = FunctionSection::new();
    (0..functions).for_each(|_| {
        declared.function(0);
    });
    module.section(&declared);
    let mut code = CodeSection::new();
    for _ in 0..functions {
        let mut f = Function::new([]);
        for i in 0..live {
            f.instruction(&Instruction::LocalGet(0));
            f.instruction(&Instruction::I64Const(i * 7919 + 3));
            f.instruction(&Instruction::I64Mul);
        }
        (1..live).for_each(|_| {
            f.instruction(&Instruction::I64Add);
        });
        f.instruction(&Instruction::End);
        code.function(&f);
    }
    module.section(&code);
    let mut component = wasm_encoder::Component::new();
    component.section(&ModuleSection(&module));
    component.finish()
}

/// Class 2: compiling an untrusted component has a time and a memory budget, enforced in a
/// compiler process; over it, only that component fails, and the server's memory is untouched.
/// A component over the size cap is refused before compiling.
#[test]
fn compiling_is_bounded_in_time_memory_and_size() {
    // `echo` is compiled once (under the default budget) into a cache the cases share, so each
    // case's budget meets only the slow component.
    let cache = tempfile::tempdir().unwrap();
    let (mut warm, _dir) = serve(&["echo"], "", Some(cache.path()));
    assert_eq!(text(&warm.call("echo", json!({"message": "warm"}))), "warm");
    drop(warm);
    let (small, large) = (slow_to_compile(1, 20_000), slow_to_compile(8, 20_000));
    assert!(small.len() < 200 << 10 && large.len() > 1 << 20);
    for (config, bomb, expected) in [
        ("[limits]\ncompile_timeout_ms = 300\n", &small, "longer than its budget of 300 ms"),
        ("[limits]\ncompile_memory_mib = 96\n", &small, "memory budget of 96 MiB"),
        ("[limits]\nmax_component_mib = 1\n", &large, "more than the limit of 1048576 bytes"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let tools = dir.path().join("tools");
        std::fs::create_dir(&tools).unwrap();
        std::fs::write(tools.join("bomb.wasm"), bomb).unwrap();
        std::fs::copy(guest("echo"), tools.join("echo.wasm")).unwrap();
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).unwrap();
        let mut server = Launch::bare()
            .args(["--tools-dir".as_ref(), tools.as_os_str(), "--config".as_ref(), config_path.as_os_str()])
            .args(["--cache-dir".as_ref(), cache.path().as_os_str()])
            .spawn();
        server.initialize();
        let (health, took) = timed(|| server.call("ide_agents_health", json!({})));
        assert_eq!(health["isError"], false);
        assert!(took < Duration::from_secs(5), "{config}: health took {took:?}");
        assert_eq!(text(&server.call("echo", json!({"message": "ok"}))), "ok", "{config}");
        await_stderr(&server, expected, Duration::from_secs(60));
        // The compile ran in a child process: the server's own peak stays small.
        let peak = proc_status_kib(server.pid(), "VmHWM:");
        assert!(peak < 150 << 10, "{config}: server peak RSS {peak} KiB");
    }
}

/// Class 3: a component that declares 1,000 tools with 8 KiB descriptions is refused whole,
/// with a message naming the cap; `tools/list` stays small.
#[test]
fn registration_is_capped() {
    let (mut server, _dir) = serve(&["describe_huge", "echo"], "", None);
    let names = tool_names(&mut server);
    assert!(!names.iter().any(|n| n.starts_with("huge_")), "{} tools", names.len());
    await_stderr(&server, "declares 1000 tools, more than the limit of 64", Duration::from_secs(30));
    let list = server.request("tools/list", json!({}));
    assert!(list.to_string().len() < 200 << 10, "tools/list is {} bytes", list.to_string().len());
}

/// Classes 4 and 5: a tool whose schema does not compile, or uses a pattern the linear-time
/// engine cannot run, is not registered; the good tool of the same component is.
#[test]
fn schemas_fail_closed() {
    let (mut server, _dir) = serve(&["badschema"], "", None);
    let names = tool_names(&mut server);
    assert!(names.contains(&"badschema_ok".to_owned()), "{names:?}");
    for refused in ["badschema_broken_output", "badschema_lookahead"] {
        assert!(!names.contains(&refused.to_owned()), "{refused} must not be registered: {names:?}");
        let response = server.request("tools/call", json!({"name": refused, "arguments": {}}));
        assert_eq!(response["error"]["code"], -32602, "{response}");
    }
    let stderr = await_stderr(&server, "badschema_lookahead", Duration::from_secs(10));
    assert!(stderr.contains("output schema does not compile"), "{stderr}");
}

/// Class 5: a large input is validated off the async workers; meanwhile health answers.
#[test]
fn large_arguments_are_checked_off_the_async_workers() {
    let (mut server, _dir) = serve(&["echo"], "", None);
    let message = "é".repeat(1 << 20);
    let result = server.call("echo", json!({"message": message}));
    assert_eq!(result["isError"], false, "{}", text(&result));
    assert_eq!(result["structuredContent"]["length"], 1 << 20);
    let bad = server.call("echo", json!({"message": 1, "padding": "x".repeat(1 << 20)}));
    assert_eq!(bad["isError"], true);
    assert!(text(&bad).contains("/message"), "{}", text(&bad));
}

/// Class 6: a tool cannot set connection-level headers such as `Host`.
#[test]
fn forbidden_request_headers_are_refused() {
    let config = "[tools.hostile_host_header]\nhttp_allow = [\"http://127.0.0.1:9\"]\n";
    let (mut server, _dir) = serve(&["hostile"], config, None);
    let result = server.call("hostile_host_header", json!({"url": "http://127.0.0.1:9/"}));
    assert!(text(&result).contains("Denied") && text(&result).contains("forbidden header"), "{result}");
}

/// Class 7: a FIFO (or device) in a granted root neither blocks a thread nor is read; many such
/// reads at once leave other tools answering.
#[test]
fn special_files_are_refused_without_blocking() {
    let workspace = tempfile::tempdir().unwrap();
    let fifo = workspace.path().join("pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    std::fs::write(workspace.path().join("plain.txt"), "plain").unwrap();
    let config = format!("[tools.hostile_read.read_roots]\nworkspace = {:?}\n", workspace.path());
    let (mut server, _dir) = serve(&["hostile"], &config, None);
    assert_eq!(text(&server.call("hostile_read", json!({"path": "plain.txt"}))), "read 5 bytes");
    let started = Instant::now();
    for id in 0..32 {
        server.send(&json!({"jsonrpc": "2.0", "id": format!("fifo{id}"), "method": "tools/call",
            "params": {"name": "hostile_read", "arguments": {"path": "pipe"}}}));
    }
    server.send(&json!({"jsonrpc": "2.0", "id": "health", "method": "tools/call",
        "params": {"name": "ide_agents_health", "arguments": {}}}));
    for _ in 0..33 {
        let response = server.recv();
        let answer = text(&response["result"]).to_owned();
        if response["id"] == "health" {
            assert_eq!(response["result"]["isError"], false);
        } else {
            assert!(answer.contains("InvalidPath") && answer.contains("not a regular file"), "{answer}");
        }
    }
    // Before: each read blocked a thread until a writer opened the FIFO (never).
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

/// Class 8: a component that floods the guest cache evicts only its own entries.
#[test]
fn one_component_cannot_evict_anothers_cache() {
    let (mut server, _dir) = serve(&["hostile", "impostor"], "", None);
    assert_eq!(text(&server.call("impostor_grants", json!({"set": "precious"}))), "true");
    // 1,500 entries of 64 KiB, reread: 94 MiB against a 16 MiB quota and a 64 MiB total.
    let kept: u64 = text(&server.call("hostile_cache_flood", json!({"entries": 1500}))).parse().unwrap();
    assert!(kept > 0);
    assert_eq!(text(&server.call("impostor_grants", json!({"get": true}))), "precious");
}

/// Class 9: an extension cannot take a built-in's name (and its grants), nor a name another
/// component has; grants pinned to a digest go to that component only.
#[test]
fn names_and_grants_cannot_be_taken() {
    let workspace = tempfile::tempdir().unwrap();
    let config = format!(
        "[roots]\nworkspace = {:?}\n[tools.impostor_grants]\nsha256 = \"{}\"\nconfig = {{ base_url = \"https://granted.example\" }}\n",
        workspace.path(),
        "0".repeat(64)
    );
    let (mut server, _dir) = serve(&["hostile", "impostor"], &config, None);
    let names = tool_names(&mut server);
    assert!(!names.contains(&"ide_agents_ultra_rank".to_owned()), "ULTRA is off: {names:?}");
    let stderr = await_stderr(&server, "belong to the built-in tools", Duration::from_secs(10));
    assert!(stderr.contains("another component already registered this name"), "{stderr}");
    let rank = server.request("tools/call", json!({"name": "ide_agents_ultra_rank", "arguments": {}}));
    assert_eq!(rank["error"]["code"], -32602);
    let report: Value = serde_json::from_str(text(&server.call("impostor_grants", json!({})))).unwrap();
    assert_eq!(report, json!({"roots": [], "secret": false, "config": null}), "pinned to another digest");
    drop(server);

    let digest = {
        use sha2::Digest;
        let bytes = std::fs::read(guest("impostor")).unwrap();
        sha2::Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let config = format!(
        "[tools.impostor_grants]\nsha256 = \"{digest}\"\ncomponent = \"impostor.wasm\"\nconfig = {{ base_url = \"https://granted.example\" }}\n"
    );
    let (mut server, _dir) = serve(&["impostor"], &config, None);
    let report: Value = serde_json::from_str(text(&server.call("impostor_grants", json!({})))).unwrap();
    assert_eq!(report["config"], "https://granted.example", "{report}");
}

/// Classes 10 and 11: a call that floods the log and the client is cut at its budgets: stderr
/// grows by a bounded amount, no line can be forged, notifications are rate-limited and progress
/// messages cut, and the server's memory stays bounded while the client does not read.
#[test]
fn logging_and_notifications_are_bounded_and_cannot_forge_lines() {
    let (mut server, _dir) = serve(&["hostile"], "[limits]\ncall_timeout_ms = 60000\n", None);
    server.result("logging/setLevel", json!({"level": "debug"}));
    let before = server.stderr().len();
    server.send(&json!({"jsonrpc": "2.0", "id": "flood", "method": "tools/call",
        "params": {"name": "hostile_log_flood", "arguments": {"records": 3000}, "_meta": {"progressToken": "p"}}}));
    // Not reading for a while: whatever the server queues for us must stay bounded.
    std::thread::sleep(Duration::from_secs(2));
    let response = server.response(&json!("flood"));
    assert_eq!(text(&response["result"]), "wrote 3000");
    let peak = proc_status_kib(server.pid(), "VmHWM:");
    assert!(peak < 150 << 10, "peak RSS {peak} KiB");
    let (logs, progress): (Vec<&Value>, Vec<&Value>) =
        server.notifications.iter().partition(|n| n["method"] == "notifications/message");
    // 3,000 of each were attempted, 48 MiB of log and 192 MiB of progress messages.
    assert!(logs.len() + progress.len() <= 64 + 2 * 100 * 60, "{} notifications", logs.len() + progress.len());
    assert!(logs.len() + progress.len() < 1000, "{} notifications", logs.len() + progress.len());
    assert!(progress.iter().all(|p| p["params"]["message"].as_str().is_none_or(|m| m.len() <= 1024)));
    server.wait_stderr("log budget");
    let stderr = server.stderr();
    let grown = stderr.len() - before;
    assert!(grown < 1 << 20, "stderr grew by {grown} bytes");
    assert!(stderr.contains("log budget"), "no truncation marker");
    for line in stderr.lines() {
        assert!(!line.starts_with("2026-01-01T00:00:00.000000Z"), "forged line: {line}");
        assert!(!line.contains('\u{1b}'), "raw escape sequence: {line:?}");
    }
    // Health answers right after.
    assert_eq!(server.call("ide_agents_health", json!({}))["isError"], false);
}

/// Classes 12, 13 and 15: the output limit counts what is sent (escaping and framing), the
/// number of content blocks is capped, structured output has the input side's depth limit, and
/// resource links must use a scheme the tool may produce.
#[test]
fn output_is_measured_as_sent_and_checked_like_input() {
    let config = "[limits]\nmax_output_bytes = 4194304\n";
    let (mut server, _dir) = serve(&["hostile"], config, None);
    // 1 MiB of control characters is 6 MiB once escaped: over the 4 MiB limit.
    let escaped = server.call("hostile_escaped_output", json!({"bytes": 1 << 20}));
    assert_eq!(escaped["isError"], true);
    assert!(text(&escaped).contains("more than its limit of 4194304 bytes"), "{}", text(&escaped));
    let small = server.call("hostile_escaped_output", json!({"bytes": 1000}));
    assert_eq!(small["isError"], false);
    for (tool, expected) in [
        ("hostile_many_items", "content blocks, more than the limit of 1024"),
        ("hostile_deep_output", "nested deeper than 128 levels"),
        ("hostile_file_link", "scheme `file:`"),
    ] {
        let result = server.call(tool, json!({}));
        assert_eq!(result["isError"], true, "{tool}");
        assert!(text(&result).contains(expected), "{tool}: {}", text(&result));
    }
}

/// Class 14: a component that fills its share of the call slots cannot delay other components,
/// health above all.
#[test]
fn one_component_cannot_take_every_slot() {
    let config = "[limits]\ncall_timeout_ms = 60000\n";
    let (mut server, _dir) = serve(&["hostile", "echo"], config, None);
    // Both tools answer once first, so that the timed calls below measure waiting for a slot,
    // not the first compile of their components (a fresh cache).
    assert_eq!(server.call("ide_agents_health", json!({}))["isError"], false);
    assert_eq!(text(&server.call("echo", json!({"message": "warm"}))), "warm");
    // 96 sleeping calls over two tools of one component: more than the whole server's 64 slots.
    for id in 0..96 {
        let tool = if id % 2 == 0 { "hostile_sleep" } else { "hostile_spin" };
        server.send(&json!({"jsonrpc": "2.0", "id": format!("hog{id}"), "method": "tools/call",
            "params": {"name": tool, "arguments": {}}}));
    }
    std::thread::sleep(Duration::from_millis(500));
    let (health, took) = timed(|| server.call("ide_agents_health", json!({})));
    assert_eq!(health["isError"], false);
    // A starved call would wait for the hogs' 60-second limit; 5 s leaves room for a loaded machine.
    assert!(took < Duration::from_secs(5), "health waited {took:?}");
    let (echo, took) = timed(|| server.call("echo", json!({"message": "still here"})));
    assert_eq!(text(&echo), "still here");
    assert!(took < Duration::from_secs(5), "echo waited {took:?}");
}
