//! The reference agents backend (`docs/backend-api.md`) on loopback: runs allow-listed commands,
//! each in a fresh temporary directory, and reports exit code, stdout and stderr. Used by the
//! `ide_agents_command` tests.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::http_server::{ApiReply, ApiRequest, TestServer};

/// Commands the backend runs: name -> (program, description).
const ALLOWED: &[(&str, &str, &str)] = &[
    ("echo", "echo", "Prints its arguments"),
    ("cat", "cat", "Copies stdin to stdout"),
    ("pwd", "pwd", "Prints the working directory"),
    ("sleep", "sleep", "Waits N seconds"),
    ("false", "false", "Fails with exit code 1"),
    ("sh", "sh", "POSIX shell (for tests that need stderr and exit codes)"),
];
/// Output kept per stream.
const OUTPUT_CAP: usize = 64 << 10;
/// Timeout when the request gives none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

struct Run {
    record: Value,
    child: Option<Child>,
    cancel: bool,
    _dir: tempfile::TempDir,
}

/// A running reference backend.
pub struct Backend {
    /// The HTTP server.
    pub server: TestServer,
}

impl Backend {
    /// Starts a backend that requires `token` when given.
    pub fn start(token: Option<&str>) -> Self {
        let runs: Arc<Mutex<HashMap<String, Run>>> = Arc::default();
        let token = token.map(|t| format!("Bearer {t}"));
        let server = TestServer::api(Arc::new(move |req: ApiRequest| {
            if let Some(expected) = &token
                && req.header("authorization") != Some(expected.as_str())
            {
                return error(401, "unauthorized", "a valid bearer token is required");
            }
            route(&runs, req)
        }));
        Self { server }
    }

    /// The backend's base URL.
    pub fn url(&self) -> String {
        self.server.url("")
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn reply(status: u16, body: &Value) -> ApiReply {
    (status, "application/json", body.to_string().into_bytes())
}

fn error(status: u16, code: &str, message: &str) -> ApiReply {
    reply(status, &json!({"error": {"code": code, "message": message}}))
}

fn route(runs: &Arc<Mutex<HashMap<String, Run>>>, req: ApiRequest) -> ApiReply {
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["v1", "commands"]) => {
            let commands: Vec<Value> = ALLOWED.iter().map(|(n, _, d)| json!({"name": n, "description": d})).collect();
            reply(200, &json!({ "commands": commands }))
        }
        ("POST", ["v1", "runs"]) => start(runs, &req.body),
        ("GET", ["v1", "runs", id]) => match runs.lock().unwrap().get(*id) {
            Some(run) => reply(200, &run.record),
            None => error(404, "not_found", &format!("no run {id}")),
        },
        ("POST", ["v1", "runs", id, "cancel"]) => {
            let id = id.to_string();
            if let Some(run) = runs.lock().unwrap().get_mut(&id) {
                run.cancel = true;
            } else {
                return error(404, "not_found", &format!("no run {id}"));
            }
            wait_until_done(runs, &id, Duration::from_secs(10));
            reply(200, &runs.lock().unwrap()[&id].record)
        }
        _ => error(404, "not_found", &format!("no endpoint {} {}", req.method, req.path)),
    }
}

fn start(runs: &Arc<Mutex<HashMap<String, Run>>>, body: &[u8]) -> ApiReply {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return error(400, "bad_request", "the body is not JSON");
    };
    let Some(name) = request["command"].as_str() else {
        return error(400, "bad_request", "`command` is required");
    };
    let Some((_, program, _)) = ALLOWED.iter().find(|(n, ..)| *n == name) else {
        return error(403, "not_allowed", &format!("command {name:?} is not on the allow-list"));
    };
    let args: Vec<String> =
        request["args"].as_array().into_iter().flatten().filter_map(|a| a.as_str().map(str::to_owned)).collect();
    let timeout = request["timeout_ms"].as_u64().map_or(DEFAULT_TIMEOUT, Duration::from_millis);
    let wait = request["wait"].as_bool().unwrap_or(true);
    let dir = tempfile::tempdir().unwrap();
    let mut child = match Command::new(program)
        .args(&args)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return error(400, "bad_request", &format!("cannot start {name}: {e}")),
    };
    let mut stdin = child.stdin.take().unwrap();
    let input = request["stdin"].as_str().unwrap_or_default().to_owned();
    std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let outputs: Vec<Arc<Mutex<Vec<u8>>>> = vec![Arc::default(), Arc::default()];
    let pipes: Vec<Box<dyn Read + Send>> =
        vec![Box::new(child.stdout.take().unwrap()), Box::new(child.stderr.take().unwrap())];
    let mut readers = Vec::new();
    for (mut pipe, sink) in pipes.into_iter().zip(outputs.clone()) {
        readers.push(std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        }));
    }
    let id = format!("run-{}", runs.lock().unwrap().len() + 1);
    let record = json!({"id": id, "command": name, "args": args, "status": "running", "exit_code": null,
                        "stdout": "", "stderr": "", "truncated": false, "started_ms": now_ms(), "finished_ms": null});
    runs.lock().unwrap().insert(id.clone(), Run { record, child: Some(child), cancel: false, _dir: dir });
    let (runs_bg, id_bg) = (runs.clone(), id.clone());
    std::thread::spawn(move || supervise(&runs_bg, &id_bg, timeout, &outputs, &readers));
    if wait {
        wait_until_done(runs, &id, timeout + Duration::from_secs(5));
    }
    reply(201, &runs.lock().unwrap()[&id].record)
}

/// Polls the run's process until it exits, is cancelled or times out; keeps its record current.
fn supervise(
    runs: &Mutex<HashMap<String, Run>>,
    id: &str,
    timeout: Duration,
    outputs: &[Arc<Mutex<Vec<u8>>>],
    readers: &[std::thread::JoinHandle<()>],
) {
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(5));
        let mut guard = runs.lock().unwrap();
        let run = guard.get_mut(id).unwrap();
        let child = run.child.as_mut().unwrap();
        let (status, code) = match child.try_wait().unwrap() {
            Some(exit) => (if exit.success() { "succeeded" } else { "failed" }, exit.code()),
            None if run.cancel => {
                let _ = child.kill();
                let _ = child.wait();
                ("cancelled", None)
            }
            None if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                ("timed_out", None)
            }
            None => continue,
        };
        drop(guard);
        // The pipe readers end at EOF, once they hold all the process wrote.
        crate::support::wait_finished(readers, Duration::from_secs(10));
        let text = |i: usize| {
            let bytes = outputs[i].lock().unwrap();
            (String::from_utf8_lossy(&bytes[..bytes.len().min(OUTPUT_CAP)]).into_owned(), bytes.len() > OUTPUT_CAP)
        };
        let ((stdout, t1), (stderr, t2)) = (text(0), text(1));
        let mut runs = runs.lock().unwrap();
        let record = &mut runs.get_mut(id).unwrap().record;
        record["status"] = json!(status);
        record["exit_code"] = json!(code);
        record["stdout"] = json!(stdout);
        record["stderr"] = json!(stderr);
        record["truncated"] = json!(t1 || t2);
        record["finished_ms"] = json!(now_ms());
        return;
    }
}

fn wait_until_done(runs: &Mutex<HashMap<String, Run>>, id: &str, limit: Duration) {
    let started = Instant::now();
    while runs.lock().unwrap()[id].record["status"] == "running" && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(5));
    }
}
