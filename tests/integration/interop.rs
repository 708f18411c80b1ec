//! Interop with the official MCP clients: the Python SDK (`mcp==2.3.0`) and the TypeScript SDK
//! (`@modelcontextprotocol/sdk@1.32.2`), each spawning the server over stdio. The clients are
//! installed by `scripts/test.sh` into `tests/interop/`. With `CI=true` a missing client fails the
//! test; elsewhere the test is skipped with a message.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::{server_bin, shared_cache, tools_dir};

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop")
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Runs a client script; `None` when its runtime is not installed (and we are not in CI).
fn run_client(what: &str, program: PathBuf, installed: bool, script: &str) {
    if !installed {
        assert!(!in_ci(), "{what} client is not installed; run scripts/test.sh, which installs it");
        eprintln!("SKIPPED: {what} interop: client not installed (run scripts/test.sh to install it)");
        return;
    }
    let tools = tools_dir(&["echo"]);
    let workspace = tempfile::tempdir().unwrap();
    std::fs::write(workspace.path().join("lib.py"), "def add(a, b):\n    return a + b\n").unwrap();
    let output = Command::new(program)
        .current_dir(interop_dir())
        .env(crate::support::CHECK_BUILTIN_OUTPUT.0, crate::support::CHECK_BUILTIN_OUTPUT.1)
        .arg(script)
        .arg(server_bin())
        .arg("serve")
        .arg("--tools-dir")
        .arg(tools.path())
        .arg("--cache-dir")
        .arg(shared_cache())
        .arg("--workspace")
        .arg(workspace.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run the {what} client: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what} interop failed\nstdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains(&format!("{} interop: ok", what.to_lowercase())), "stdout:\n{stdout}\nstderr:\n{stderr}");
}

#[test]
fn python_sdk_client() {
    let python = interop_dir().join(".venv/bin/python");
    let installed =
        python.exists() && Command::new(&python).args(["-c", "import mcp"]).output().is_ok_and(|o| o.status.success());
    run_client("Python", python, installed, "python_client.py");
}

#[test]
fn typescript_sdk_client() {
    let installed = interop_dir().join("node_modules/@modelcontextprotocol/sdk/package.json").exists();
    run_client("TypeScript", PathBuf::from("node"), installed, "ts_client.mjs");
}
