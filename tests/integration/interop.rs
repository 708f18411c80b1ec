//! Interop with the official MCP clients: the Python SDK (`mcp==2.3.0`, both protocol eras) and
//! the TypeScript SDK (`@modelcontextprotocol/sdk@1.32.2`, initialize era), each over stdio (the
//! client spawns the server) and over Streamable HTTP (`serve --http`). The clients are
//! installed by `scripts/test.sh` into `tests/interop/`. With `CI=true` a missing client fails the
//! test; elsewhere the test is skipped with a message.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{Launch, server_bin, shared_cache, tools_dir};

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// How a client reaches the server.
#[derive(Clone, Copy, Debug)]
enum Transport {
    /// The client spawns the server and speaks over its stdin and stdout.
    Stdio,
    /// The test starts the server with `--http 127.0.0.1:0`; the client gets the URL.
    Http,
}

/// Runs a client script (`client_args` first, then the server command or `--url URL`); skipped
/// when its runtime is not installed (and we are not in CI).
fn run_client(what: &str, program: PathBuf, installed: bool, script: &str, client_args: &[&str], transport: Transport) {
    if !installed {
        assert!(!in_ci(), "{what} client is not installed; run scripts/test.sh, which installs it");
        eprintln!("SKIPPED: {what} interop: client not installed (run scripts/test.sh to install it)");
        return;
    }
    // The Python client also makes a multi round-trip call, served by the conformance fixtures.
    let tools = tools_dir(if script == "python_client.py" { &["echo", "conformance"] } else { &["echo"] });
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("lib.py"), "def add(a, b):\n    return a + b\n").unwrap();
    let mut server_args: Vec<std::ffi::OsString> = vec!["serve".into(), "--tools-dir".into(), tools.path().into()];
    server_args.extend(["--cache-dir".into(), shared_cache().into(), "--workspace".into(), workspace.path().into()]);
    let mut command = Command::new(program);
    command
        .current_dir(interop_dir())
        .env(crate::support::CHECK_BUILTIN_OUTPUT.0, crate::support::CHECK_BUILTIN_OUTPUT.1)
        .arg(script)
        .args(client_args);
    let http_server = match transport {
        Transport::Stdio => {
            command.arg(server_bin()).args(&server_args);
            None
        }
        Transport::Http => {
            let server = Launch::bare().args(server_args.iter().skip(1)).args(["--http", "127.0.0.1:0"]).spawn();
            command.arg("--url").arg(server.http_url());
            Some(server)
        }
    };
    let output = command.output().unwrap_or_else(|e| panic!("cannot run the {what} client: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if let Some(server) = http_server {
        let finished = server.terminate();
        stderr.push_str(&format!("\nserver stderr:\n{}", finished.stderr));
        assert!(finished.status.success(), "the HTTP server did not exit cleanly on SIGTERM:\n{stderr}");
    }
    assert!(output.status.success(), "{what} interop ({transport:?}) failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains(&format!("{} interop: ok", what.to_lowercase())), "stdout:\n{stdout}\nstderr:\n{stderr}");
}

fn python() -> (PathBuf, bool) {
    let python = interop_dir().join(".venv/bin/python");
    let installed =
        python.exists() && Command::new(&python).args(["-c", "import mcp"]).output().is_ok_and(|o| o.status.success());
    (python, installed)
}

#[test]
fn python_sdk_client_initialize_era_over_stdio() {
    let (python, installed) = python();
    run_client("Python", python, installed, "python_client.py", &["legacy"], Transport::Stdio);
}

#[test]
fn python_sdk_client_2026_07_28_over_stdio() {
    let (python, installed) = python();
    run_client("Python", python, installed, "python_client.py", &["auto"], Transport::Stdio);
}

#[test]
fn python_sdk_client_both_eras_over_http() {
    let (python, installed) = python();
    run_client("Python", python.clone(), installed, "python_client.py", &["auto"], Transport::Http);
    run_client("Python", python, installed, "python_client.py", &["legacy"], Transport::Http);
}

fn typescript_installed() -> bool {
    interop_dir().join("node_modules/@modelcontextprotocol/sdk/package.json").exists()
}

#[test]
fn typescript_sdk_client_over_stdio() {
    run_client("TypeScript", PathBuf::from("node"), typescript_installed(), "ts_client.mjs", &[], Transport::Stdio);
}

#[test]
fn typescript_sdk_client_over_http() {
    run_client("TypeScript", PathBuf::from("node"), typescript_installed(), "ts_client.mjs", &[], Transport::Http);
}
