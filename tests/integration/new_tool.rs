//! The documented author flow, end to end: `scripts/new-tool.sh` scaffolds a standalone tool crate
//! on the SDK, its unit tests pass natively with `cargo test`, `cargo build --release --target
//! wasm32-wasip2` makes a component that is the only `.wasm` in its output directory, and the
//! server serves exactly that tool from there with `--tools-dir`.

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
