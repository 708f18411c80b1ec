//! The documented author flow, end to end: `scripts/new-tool.sh` scaffolds a standalone tool crate
//! on the SDK, its unit tests pass natively with `cargo test`, `cargo build --release --target
//! wasm32-wasip2` makes a component that is the only `.wasm` in its output directory, and the
//! server serves exactly that tool from there with `--tools-dir`. The Python template
//! (`--lang python`) likewise: its logic tests natively, `build.sh` makes the component with the
//! pinned componentize-py, and the server serves and calls it, a raised exception becoming a tool
//! error with its message.

use std::path::Path;
use std::process::Command;

use serde_json::json;

use crate::support::Launch;

fn cargo(dir: &Path, target_dir: &Path, args: &[&str]) {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(dir).args(args).env("CARGO_TARGET_DIR", target_dir);
    // The settings of the cargo running this test must not reach the scaffolded crate's builds.
    for var in ide_agents_guest_build::HOST_ONLY_VARS.iter().filter(|v| **v != "CARGO_TARGET_DIR") {
        cmd.env_remove(var);
    }
    let output = cmd.output().expect("run cargo");
    assert!(
        output.status.success(),
        "cargo {args:?} in {} failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_scaffolded_tool_tests_natively_builds_and_is_served_alone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("word-count");
    let status = Command::new("bash")
        .arg(root.join("scripts/new-tool.sh"))
        .args(["word-count".as_ref(), dir.as_os_str()])
        .status()
        .unwrap();
    assert!(status.success(), "new-tool.sh failed");
    let source = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
    for leftover in ["echo", "hostile", "test-only"] {
        assert!(!source.contains(leftover), "the scaffold mentions {leftover:?}:\n{source}");
    }
    let mut again = Command::new("bash");
    again.arg(root.join("scripts/new-tool.sh")).args(["word-count".as_ref(), dir.as_os_str()]);
    assert!(!again.output().unwrap().status.success(), "an existing directory must not be overwritten");

    // A target directory kept between runs (inside cargo's, for tests) saves rebuilding the
    // SDK's dependencies every time; it holds only this crate's outputs.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("new-tool-target");
    cargo(&dir, &target, &["test", "--quiet"]);
    cargo(&dir, &target, &["build", "--release", "--target", "wasm32-wasip2"]);
    let release = target.join("wasm32-wasip2/release");
    let wasm: Vec<String> = std::fs::read_dir(&release)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wasm"))
        .collect();
    assert_eq!(wasm, ["word_count.wasm"], "only the author's component is in {}", release.display());

    let cache = work.path().join("cache");
    let mut server = Launch::bare()
        .args(["--tools-dir".as_ref(), release.as_os_str(), "--cache-dir".as_ref(), cache.as_os_str()])
        .spawn();
    server.initialize();
    let listed = server.result("tools/list", json!({}));
    let extensions: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .filter(|n| !n.starts_with("ide_agents_"))
        .collect();
    assert_eq!(extensions, ["word_count"], "{listed}");
    let result = server.call("word_count", json!({"text": "a b a", "top": 1}));
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["words"], 3, "{result}");
    assert_eq!(result["structuredContent"]["top_words"], json!([{"word": "a", "count": 2}]), "{result}");
    let finished = server.finish();
    assert!(!finished.stderr.contains("already registered"), "{}", finished.stderr);
}

#[test]
fn a_scaffolded_python_tool_tests_natively_builds_and_is_served() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let componentize = root.join("tests/interop/.venv/bin/componentize-py");
    assert!(componentize.is_file(), "{} is missing: run scripts/test.sh, which installs it", componentize.display());
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("py-words");
    let status = Command::new("bash")
        .arg(root.join("scripts/new-tool.sh"))
        .args(["py-words".as_ref(), dir.as_os_str(), "--lang".as_ref(), "python".as_ref()])
        .status()
        .unwrap();
    assert!(status.success(), "new-tool.sh --lang python failed");
    for file in ["app.py", "logic.py", "test_logic.py", "build.sh", "wit/world.wit", "README.md"] {
        assert!(dir.join(file).is_file(), "{file} is missing");
    }
    let unit = Command::new("python3").args(["-m", "unittest", "-q"]).current_dir(&dir).output().unwrap();
    assert!(unit.status.success(), "the logic's tests: {}", String::from_utf8_lossy(&unit.stderr));
    let build = Command::new("bash").arg(dir.join("build.sh")).env("COMPONENTIZE_PY", &componentize).output().unwrap();
    assert!(build.status.success(), "build.sh: {}", String::from_utf8_lossy(&build.stderr));
    let out = dir.join("out");
    let files: Vec<String> =
        std::fs::read_dir(&out).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(files, ["py_words.wasm"]);

    // Compiling the 18 MB component takes seconds on first load: let tools/list wait for it.
    let config = work.path().join("config.toml");
    std::fs::write(&config, "[server]\ndiscovery_wait_ms = 180000\n").unwrap();
    let cache = work.path().join("cache");
    let mut server = Launch::bare()
        .args(["--tools-dir".as_ref(), out.as_os_str(), "--cache-dir".as_ref(), cache.as_os_str()])
        .args(["--config".as_ref(), config.as_os_str()])
        .spawn();
    server.initialize();
    let listed = server.result("tools/list", json!({}));
    let tool = listed["tools"].as_array().unwrap().iter().find(|t| t["name"] == "py_words").cloned();
    let tool = tool.unwrap_or_else(|| panic!("py_words is not listed: {listed}\n{}", server.stderr()));
    assert_eq!(tool["inputSchema"]["required"], json!(["text"]), "{tool}");
    let result = server.call("py_words", json!({"text": "the quick brown fox"}));
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"], json!({"words": 4, "longest": "quick"}), "{result}");
    let failed = server.call("py_words", json!({"text": "   "}));
    assert_eq!(failed["isError"], true, "{failed}");
    assert!(crate::support::text(&failed).contains("ValueError: `text` is empty"), "{failed}");
    // Arguments are checked against the schema before Python runs.
    let bad = server.call("py_words", json!({"text": 3}));
    assert_eq!(bad["isError"], true, "{bad}");
}
