//! `ide-agents-mcp check FILE.wasm`: a servable component passes with its tools, schemas, imports
//! and costs; one that imports what the host does not link, a core module and a file that is not
//! WebAssembly fail with the reason; the compile lands in the AOT cache.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{guest, server_bin};

fn check(file: &Path, cache: &Path, json: bool) -> Output {
    let mut command = Command::new(server_bin());
    command.arg("check").arg(file).arg("--cache-dir").arg(cache).args(["--log", "warn"]);
    if json {
        command.arg("--json");
    }
    command.output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_servable_component_passes_with_its_tools_imports_and_costs() {
    let cache = tempfile::tempdir().unwrap();
    let first = check(&guest("echo"), cache.path(), false);
    assert!(first.status.success(), "{first:?}");
    let report = stdout(&first);
    assert!(report.contains("compiled within the compile budget"), "{report}");
    assert!(report.contains("ok       ide-agents:tool/log@0.1.0"), "{report}");
    assert!(report.contains("    echo: Returns `message` unchanged"), "{report}");
    assert!(report.contains("\"required\":[\"message\"]"), "{report}");
    assert!(report.contains("fresh instance") && report.ends_with("ok: the server will serve it\n"), "{report}");
    // The artifact is in the AOT cache: a second check (or a server sharing the cache) loads it.
    let second = check(&guest("echo"), cache.path(), true);
    assert!(second.status.success(), "{second:?}");
    let json: Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(json["load"]["Ok"]["kind"], "aot", "{json}");
    assert!(Path::new(json["load"]["Ok"]["artifact"].as_str().unwrap()).is_file());
    let tools: Vec<&str> =
        json["describe"]["Ok"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(tools, ["echo", "echo_calls"]);
    assert!(json["instantiate_us"].as_f64().unwrap() > 0.0);
}

#[test]
fn an_unlinkable_import_is_named_with_the_reason() {
    let cache = tempfile::tempdir().unwrap();
    let out = check(&guest("otherworld"), cache.path(), false);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = stdout(&out);
    assert!(report.contains("MISSING  test:otherworld/clock: not part of the ide-agents:tool world"), "{report}");
    assert!(report.contains("link: FAILED") && report.contains("not servable"), "{report}");
}

#[test]
fn a_core_module_and_a_non_wasm_file_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, wasm_encoder::Module::new().finish()).unwrap();
    let out = check(&core, dir.path(), false);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("core WebAssembly module, not a component"), "{out:?}");
    let text = dir.path().join("tool.wasm");
    std::fs::write(&text, "fn main() {}").unwrap();
    let out = check(&text, dir.path(), false);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a WebAssembly binary"), "{out:?}");
    assert!(out.stdout.is_empty());
}

/// The pool's core-instance limit per component is a setting: a component over it does not
/// load, and the reason names the key that raises it (interpreted languages need more than
/// Rust's handful: a componentize-py build with `--stub-wasi` holds 38).
#[test]
fn the_core_instance_limit_is_configurable_and_named_when_hit() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[limits]\nmax_core_instances_per_component = 2\n").unwrap();
    let out = Command::new(server_bin())
        .arg("check")
        .arg(guest("echo"))
        .arg("--config")
        .arg(&config)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .args(["--log", "warn"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report = stdout(&out);
    assert!(report.contains("exceeds the configured maximum of 2"), "{report}");
    assert!(report.contains("limits.max_core_instances_per_component"), "{report}");
    std::fs::write(&config, "[limits]\nmax_core_instances_per_component = 0\n").unwrap();
    let refused = Command::new(server_bin()).arg("check").arg(guest("echo")).arg("--config").arg(&config).output();
    let refused = refused.unwrap();
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(message.contains("limits.max_core_instances_per_component"), "{message}");
}
