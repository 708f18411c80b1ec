//! Test harness: spawns the real server binary over stdio with a tools directory of test
//! components and a cache directory, and speaks line-delimited JSON-RPC to it.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

/// Components built into the server (without ULTRA): health, catalog, command, resource, prompt,
/// github.
pub const CORE_COMPONENTS: usize = 6;

/// How long any single expected message may take (debug builds compile components on first use).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// Every server under test schema-checks the built-in tools' output too (release builds trust it
/// by default): the tests are where that trust is earned.
pub const CHECK_BUILTIN_OUTPUT: (&str, &str) = ("IDE_AGENTS_MCP_VALIDATE_BUILTIN_OUTPUT", "true");

/// The server binary under test.
pub fn server_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ide-agents-mcp")
}

/// A test component built by `tests/artifacts` (the `ide-agents-test-guests` crate).
pub fn guest(name: &str) -> PathBuf {
    Path::new(ide_agents_test_guests::DIR).join(format!("{name}.wasm"))
}

/// A temporary tools directory holding copies of the named test components.
pub fn tools_dir(components: &[&str]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in components {
        std::fs::copy(guest(name), dir.path().join(format!("{name}.wasm"))).unwrap();
    }
    dir
}

/// A cache directory shared by the tests that do not test caching, so each component is compiled
/// once per test run rather than once per test. Before the first test uses it, one server compiles
/// and describes `echo` and `hostile` and compiles the health built-in into it, with no time
/// pressure: otherwise the first tests, run two at a time, would race their compiles against the
/// server's 2-second discovery wait.
pub fn shared_cache() -> &'static Path {
    static CACHE: OnceLock<TempDir> = OnceLock::new();
    CACHE
        .get_or_init(|| {
            let cache = tempfile::tempdir().unwrap();
            let tools = tools_dir(&["echo", "hostile"]);
            let config = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(config.path(), "[server]\ndiscovery_wait_ms = 600000\n").unwrap();
            let args: Vec<OsString> = vec![
                "serve".into(),
                "--tools-dir".into(),
                tools.path().into(),
                "--cache-dir".into(),
                cache.path().into(),
                "--config".into(),
                config.path().into(),
                "--telemetry".into(),
                "off".into(),
            ];
            let mut server = Server::spawn(args, Some(tools), Vec::new());
            server.initialize();
            let listed = server.result("tools/list", json!({}));
            assert!(listed.to_string().contains("\"echo\""), "warming the shared cache: {listed}");
            assert_eq!(server.call("ide_agents_health", json!({}))["isError"], false);
            assert!(server.finish().status.success());
            cache
        })
        .path()
}

/// Configuration that lets `tools/list` wait up to a minute for discovery: for tests on a fresh
/// cache, which compiles every component (the default wait, 2 s, is for interactive use and is
/// shorter than a compile on a loaded machine).
pub const PATIENT_DISCOVERY: &str = "[server]\ndiscovery_wait_ms = 60000\n";

/// Writes [`PATIENT_DISCOVERY`] as a configuration file in `dir`.
pub fn patient_config(dir: &Path) -> PathBuf {
    let path = dir.join("patient.toml");
    std::fs::write(&path, PATIENT_DISCOVERY).unwrap();
    path
}

/// Reads `stream` into `seen` until `needle` is in it; false if the stream ends (or fails)
/// first.
pub fn read_until(stream: &mut impl Read, seen: &mut Vec<u8>, needle: &str) -> bool {
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(seen).contains(needle) {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    true
}

/// Waits until every thread in `threads` has finished, for at most `within` (a reader of a pipe
/// that another process keeps open must not hold a test up).
pub fn wait_finished(threads: &[std::thread::JoinHandle<()>], within: Duration) {
    let started = Instant::now();
    while !threads.iter().all(|t| t.is_finished()) && started.elapsed() < within {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Starts servers with a given tools directory, cache directory and extra flags. Telemetry goes
/// to `spans.jsonl` in the tools directory (or is off for [`Launch::bare`]).
pub struct Launch {
    args: Vec<OsString>,
    tools: Option<TempDir>,
    telemetry: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
}

impl Launch {
    /// Tools `echo` and `hostile`, the shared cache.
    pub fn new() -> Self {
        Self::with_tools(&["echo", "hostile"])
    }

    /// The given test components, the shared cache.
    pub fn with_tools(components: &[&str]) -> Self {
        let tools = tools_dir(components);
        let telemetry = Some(tools.path().join("spans.jsonl"));
        let mut launch = Self {
            args: vec!["serve".into(), "--tools-dir".into(), tools.path().into()],
            tools: Some(tools),
            telemetry,
            env: Vec::new(),
        };
        launch.args.extend(["--cache-dir".into(), shared_cache().into()]);
        launch
    }

    /// Arguments only (no tools directory, no cache flag).
    pub fn bare() -> Self {
        Self { args: vec!["serve".into()], tools: None, telemetry: None, env: Vec::new() }
    }

    /// The components in `tools` (a directory of the caller's, which also gets the
    /// [`patient_config`] file), `cache` as the cache directory, telemetry off.
    pub fn patient(tools: &Path, cache: &Path) -> Self {
        let config = patient_config(tools);
        Self::bare().args(["--tools-dir".as_ref(), tools, "--cache-dir".as_ref(), cache, "--config".as_ref(), &config])
    }

    /// Writes telemetry spans to `path`.
    pub fn telemetry(mut self, path: impl Into<PathBuf>) -> Self {
        self.telemetry = Some(path.into());
        self
    }

    /// Sets an environment variable of the server process.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Spawns the server.
    pub fn spawn(mut self) -> Server {
        let telemetry = self.telemetry.take().map_or_else(|| OsString::from("off"), OsString::from);
        self.args.extend(["--telemetry".into(), telemetry]);
        Server::spawn(self.args, self.tools, self.env)
    }
}

/// A running server process.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    /// The thread copying stderr into `stderr`; it ends at the pipe's EOF.
    stderr_reader: [std::thread::JoinHandle<()>; 1],
    next_id: i64,
    /// Notifications received while waiting for responses.
    pub notifications: Vec<Value>,
    _tools: Option<TempDir>,
}

/// What a server left behind when it exited.
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote to stderr.
    pub stderr: String,
    /// Lines on stdout not read before exit.
    pub stdout: Vec<String>,
    /// Time from closing stdin to exit.
    pub exit_time: Duration,
}

impl Server {
    fn spawn(args: Vec<OsString>, tools: Option<TempDir>, env: Vec<(OsString, OsString)>) -> Self {
        let mut child = Command::new(server_bin())
            .args(&args)
            .env("IDE_AGENTS_MCP_LOG", "info")
            .env(CHECK_BUILTIN_OUTPUT.0, CHECK_BUILTIN_OUTPUT.1)
            // Tests configure tokens themselves; a developer's own must not leak in.
            .env_remove("GITHUB_TOKEN")
            // The test's own settings last, so they win over the defaults above.
            .envs(env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn server");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        let stderr_reader = std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Self {
            stdin: child.stdin.take(),
            child,
            lines,
            stderr,
            stderr_reader: [stderr_reader],
            next_id: 1000,
            notifications: Vec::new(),
            _tools: tools,
        }
    }

    /// Everything the server wrote to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits (at most 60 s) until the server has written `needle` to stderr, which it may do
    /// after the response it concerns (stderr and stdout are read by different threads); panics
    /// with the stderr so far if it never does.
    pub fn wait_stderr(&self, needle: &str) {
        let started = Instant::now();
        while !self.stderr().contains(needle) {
            assert!(started.elapsed() < Duration::from_secs(60), "{needle:?} never on stderr:\n{}", self.stderr());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Writes `bytes` and a newline.
    pub fn send_bytes(&mut self, bytes: &[u8]) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(bytes).unwrap();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }

    /// Writes one line.
    pub fn send_raw(&mut self, line: &str) {
        self.send_bytes(line.as_bytes());
    }

    /// Writes one JSON message.
    pub fn send(&mut self, message: &Value) {
        self.send_raw(&message.to_string());
    }

    /// The next raw stdout line, or `None` after `timeout`.
    pub fn recv_raw_timeout(&mut self, timeout: Duration) -> Option<String> {
        match self.lines.recv_timeout(timeout) {
            Ok(line) => Some(line),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("server closed stdout; stderr:\n{}", self.stderr()),
        }
    }

    /// The next raw stdout line.
    pub fn recv_raw(&mut self) -> String {
        self.recv_raw_timeout(PATIENCE)
            .unwrap_or_else(|| panic!("no message from the server within {PATIENCE:?}; stderr:\n{}", self.stderr()))
    }

    /// The next stdout message, parsed (every line must be valid JSON-RPC).
    pub fn recv(&mut self) -> Value {
        let line = self.recv_raw();
        let value: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
        assert_eq!(value["jsonrpc"], "2.0", "not JSON-RPC: {line}");
        value
    }

    /// The response with `id`, keeping notifications that arrive first in `self.notifications`.
    pub fn response(&mut self, id: &Value) -> Value {
        loop {
            let message = self.recv();
            if message.get("id") == Some(id) {
                return message;
            }
            assert!(message.get("id").is_none(), "response to an unexpected id: {message}");
            self.notifications.push(message);
        }
    }

    /// Waits (at most 10 s, pinging to collect what arrives) until more than `seen` notifications
    /// of `method` have arrived. A notification may follow the answer that first shows its
    /// effect: the server changes its state, then announces it.
    pub fn wait_notifications(&mut self, method: &str, seen: usize) {
        let started = Instant::now();
        while self.notifications.iter().filter(|n| n["method"] == method).count() <= seen {
            assert!(started.elapsed() < Duration::from_secs(10), "no new {method}: {:?}", self.notifications);
            self.request("ping", json!({}));
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a request with a fresh integer id and returns the whole response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = json!(self.next_id);
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.response(&id)
    }

    /// Sends a request and returns its `result`, failing on an error response.
    pub fn result(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(response.get("error").is_none(), "{method} failed: {response}");
        response["result"].clone()
    }

    /// `initialize` + `notifications/initialized`.
    pub fn initialize(&mut self) -> Value {
        let result = self.result(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "tests", "version": "0"}}),
        );
        self.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        result
    }

    /// Calls a tool and returns its `CallToolResult`.
    pub fn call(&mut self, tool: &str, arguments: Value) -> Value {
        self.result("tools/call", json!({"name": tool, "arguments": arguments}))
    }

    /// Takes the server's stdin (for a test that writes on its own thread).
    pub fn take_stdin(&mut self) -> ChildStdin {
        self.stdin.take().expect("stdin open")
    }

    /// Closes stdin and waits for the server to exit.
    pub fn finish(mut self) -> Finished {
        drop(self.stdin.take());
        self.wait_exit()
    }

    /// Waits for the server to exit (stdin stays as it is) and collects what it left.
    pub fn wait_exit(mut self) -> Finished {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("server did not exit after stdin EOF; stderr:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let exit_time = started.elapsed();
        let mut stdout = Vec::new();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            stdout.push(line);
        }
        // Let the stderr thread read the pipe to its end.
        wait_finished(&self.stderr_reader, Duration::from_secs(10));
        Finished { status, stderr: self.stderr(), stdout, exit_time }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The MCP endpoint URL a server started with `--http 127.0.0.1:0` logged once listening.
    pub fn http_url(&self) -> String {
        let started = Instant::now();
        loop {
            let stderr = self.stderr();
            if let Some(at) = stderr.find("Streamable HTTP at ") {
                let rest = &stderr[at + "Streamable HTTP at ".len()..];
                return rest.split_whitespace().next().unwrap().trim_end_matches('"').to_owned();
            }
            assert!(started.elapsed() < PATIENCE, "the server did not start listening; stderr:\n{stderr}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM and waits for the server to exit.
    pub fn terminate(self) -> Finished {
        let pid = self.pid().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        self.wait_exit()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The text of a `CallToolResult`'s first content block.
pub fn text(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("no text content: {result}"))
}

/// A memory figure of process `pid` from `/proc/<pid>/status`, KiB (`field`: `"VmRSS:"` for the
/// resident set, `"VmHWM:"` for its peak); 0 if unreadable.
pub fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Runs the reference script `tests/interop/<script>` with the test suite's Python environment
/// (`tests/interop/.venv`, installed by `scripts/test.sh` from `requirements.txt`): `input` as JSON
/// on its stdin, its stdout parsed as JSON.
pub fn python_reference(script: &str, input: &Value) -> Value {
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/interop/.venv/bin/python");
    let script = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/interop")).join(script);
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python} ({e}); run scripts/test.sh, which installs it"));
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{} printed no JSON: {e}", script.display()))
}

/// Asserts that two JSON arrays of numbers agree element by element within `tolerance`, and
/// prints the largest difference (so a test log shows how close, not only that it passed).
pub fn assert_close(ours: &Value, theirs: &Value, tolerance: f64, what: &str) {
    let (ours, theirs) = (
        ours.as_array().unwrap_or_else(|| panic!("{what}: ours is not an array: {ours}")),
        theirs.as_array().unwrap_or_else(|| panic!("{what}: the reference is not an array: {theirs}")),
    );
    assert_eq!(ours.len(), theirs.len(), "{what}: lengths differ");
    let mut worst = 0.0f64;
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
        assert!((a - b).abs() <= tolerance, "{what}[{i}]: ours {a}, reference {b} (tolerance {tolerance})");
        worst = worst.max((a - b).abs());
    }
    eprintln!(
        "{what}: largest difference from the reference {worst:.3e} over {} values (tolerance {tolerance:e})",
        ours.len()
    );
}

/// A server in ULTRA mode (built-in tools only), initialised.
pub fn ultra_server() -> Server {
    let mut server = Launch::with_tools(&[]).args(["--ultra"]).spawn();
    server.initialize();
    server
}

/// A server (initialised) for the freshly built components in `tools`, with `work` holding its
/// configuration (`[server] discovery_wait_ms` and the compile and describe budgets raised, so
/// `tools/list` waits for a component with an interpreter in it, whose first compile takes
/// seconds, then `extra_config`) and its cache.
pub fn serve_built(tools: &Path, work: &Path, extra_config: &str) -> Server {
    let config = work.join("config.toml");
    // The compile and describe budgets raised too: two interpreted components compiling at once
    // on a loaded machine can pass the default minute, and a timed-out compile is remembered.
    std::fs::write(
        &config,
        format!(
            "[server]\ndiscovery_wait_ms = 180000\n[limits]\ncompile_timeout_ms = 900000\n\
             describe_timeout_ms = 60000\n{extra_config}"
        ),
    )
    .unwrap();
    let cache = work.join("cache");
    let mut server = Launch::bare()
        .args(["--tools-dir".as_ref(), tools.as_os_str(), "--cache-dir".as_ref(), cache.as_os_str()])
        .args(["--config".as_ref(), config.as_os_str()])
        .spawn();
    server.initialize();
    server
}

/// The names a `tools/list` result lists outside the built-ins' namespace (`ide_agents_`), in
/// list order (by name).
pub fn extension_tools(listed: &Value) -> Vec<&str> {
    let tools = listed["tools"].as_array().map(Vec::as_slice).unwrap_or_default();
    tools.iter().filter_map(|t| t["name"].as_str()).filter(|n| !n.starts_with("ide_agents_")).collect()
}
