//! Bad components in a tools directory are reported with their path and reason; every other tool
//! keeps working.

use serde_json::json;

use crate::support::{Launch, guest, shared_cache};

#[test]
fn unusable_files_are_reported_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(guest("echo"), dir.path().join("echo.wasm")).unwrap();
    std::fs::write(dir.path().join("garbage.wasm"), b"this is not wasm").unwrap();
    std::fs::write(dir.path().join("core-module.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::copy(guest("otherworld"), dir.path().join("otherworld.wasm")).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"ignored: not .wasm").unwrap();
    let mut server =
        Launch::bare().args(["--tools-dir".as_ref(), dir.path(), "--cache-dir".as_ref(), shared_cache()]).spawn();
    server.initialize();
    let tools = server.result("tools/list", json!({}));
    let names: Vec<&str> = tools["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    let extensions: Vec<&&str> = names.iter().filter(|n| !n.starts_with("ide_agents_")).collect();
    assert_eq!(extensions, [&"echo", &"echo_calls"], "only echo's tools come from the directory: {names:?}");
    assert!(names.contains(&"ide_agents_health"));
    assert_eq!(server.call("echo", json!({"message": "ok"}))["isError"], false);
    // Reports reach stderr on their own pipe, possibly after the answers above.
    for file in ["garbage.wasm", "core-module.wasm", "otherworld.wasm"] {
        server.wait_stderr(&dir.path().join(file).display().to_string());
    }
    let stderr = server.stderr();
    for (file, reason) in [
        ("garbage.wasm", "not a valid WebAssembly component"),
        ("core-module.wasm", "not a valid WebAssembly component"),
        ("otherworld.wasm", "does not fit the ide-agents:tool world"),
    ] {
        let path = dir.path().join(file).display().to_string();
        assert!(
            stderr.lines().any(|l| l.contains("skipping component") && l.contains(&path) && l.contains(reason)),
            "expected a report for {file} ({reason}) in:\n{stderr}"
        );
    }
    assert!(!stderr.contains("notes.txt"));
}

#[test]
fn a_missing_tools_directory_is_a_startup_error() {
    let server = Launch::bare().args(["--tools-dir", "/nonexistent/tools"]).spawn();
    let finished = server.finish();
    assert!(!finished.status.success());
    assert!(finished.stderr.contains("cannot read tools directory /nonexistent/tools"), "{}", finished.stderr);
}
