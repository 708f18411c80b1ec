//! Lazy loading and the on-disk cache: a warm descriptor cache means `tools/list` compiles
//! nothing; the first call compiles and stores the AOT artifact; the next process reuses it;
//! corrupt cache files are detected and rebuilt.

use std::path::Path;

use serde_json::json;

use crate::support::{CORE_COMPONENTS, Finished, Launch, tools_dir};

fn count(stderr: &str, needle: &str) -> usize {
    stderr.lines().filter(|l| l.contains(needle)).count()
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

fn run(tools: &Path, cache: &Path, steps: impl FnOnce(&mut crate::support::Server)) -> Finished {
    let mut server = Launch::patient(tools, cache).spawn();
    server.initialize();
    steps(&mut server);
    let finished = server.finish();
    assert!(finished.status.success(), "stderr:\n{}", finished.stderr);
    finished
}

#[test]
fn warm_descriptor_cache_means_tools_list_compiles_nothing_and_first_call_writes_the_artifact() {
    let tools = tools_dir(&["echo"]);
    let cache = tempfile::tempdir().unwrap();

    // Cold: the built-ins' descriptors are embedded in the binary, so discovery compiles only the
    // component it has never seen (echo) to ask it for its tools, and keeps both results.
    let cold = run(tools.path(), cache.path(), |s| {
        let tools = s.result("tools/list", json!({}));
        assert!(tools["tools"].as_array().unwrap().len() > CORE_COMPONENTS, "{tools}");
    });
    assert_eq!(count(&cold.stderr, "compiled component"), 1, "echo only:\n{}", cold.stderr);
    assert_eq!(files(&cache.path().join("descriptors")).len(), 1);
    let listed_cold = cold.stderr;

    // Descriptors warm, artifacts gone (as after a wasmtime upgrade, which changes the engine key).
    for f in files(&cache.path().join("aot")) {
        std::fs::remove_file(f).unwrap();
    }
    let listed = run(tools.path(), cache.path(), |s| {
        let tools = s.result("tools/list", json!({}));
        let names: Vec<&str> = tools["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"echo") && names.contains(&"ide_agents_health"), "{names:?}");
        assert!(!names.iter().any(|n| n.starts_with("ide_agents_ultra")), "ULTRA tools are off: {names:?}");
    });
    assert!(!listed_cold.contains("builtin:ultra"), "the ULTRA component is not even read without ULTRA");
    assert_eq!(count(&listed.stderr, "compiled component"), 0, "{}", listed.stderr);
    assert_eq!(count(&listed.stderr, "loaded component"), 0, "{}", listed.stderr);
    assert!(files(&cache.path().join("aot")).is_empty(), "tools/list wrote an artifact");

    // The first call compiles its component (only that one) and stores the artifact.
    let first = run(tools.path(), cache.path(), |s| {
        let health = s.call("ide_agents_health", json!({}));
        assert_eq!(health["structuredContent"]["loaded_tools"], json!(["ide_agents_health"]));
        assert_eq!(s.call("echo", json!({"message": "x"}))["isError"], false);
        let health = s.call("ide_agents_health", json!({}));
        assert_eq!(health["structuredContent"]["loaded_tools"], json!(["echo", "echo_calls", "ide_agents_health"]));
    });
    assert_eq!(count(&first.stderr, "compiled component"), 2, "{}", first.stderr);
    let artifacts = files(&cache.path().join("aot"));
    assert_eq!(artifacts.len(), 2, "{artifacts:?}");
    assert!(artifacts.iter().all(|a| a.extension().is_some_and(|e| e == "cwasm")));

    // A second process reuses the artifacts: nothing is compiled.
    let second = run(tools.path(), cache.path(), |s| {
        assert_eq!(s.call("echo", json!({"message": "y"}))["isError"], false);
    });
    assert_eq!(count(&second.stderr, "compiled component"), 0, "{}", second.stderr);
    assert_eq!(count(&second.stderr, "loaded component from AOT cache"), 1, "{}", second.stderr);
}

#[test]
fn corrupt_or_truncated_cache_files_are_detected_and_rebuilt() {
    let tools = tools_dir(&["echo"]);
    let cache = tempfile::tempdir().unwrap();
    run(tools.path(), cache.path(), |s| {
        s.call("echo", json!({"message": "warm"}));
        s.call("ide_agents_health", json!({}));
    });
    let artifacts = files(&cache.path().join("aot"));
    assert_eq!(artifacts.len(), 2, "echo and health were compiled: {artifacts:?}");
    let mut bytes = std::fs::read(&artifacts[0]).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&artifacts[0], &bytes).unwrap();
    std::fs::write(&artifacts[1], &bytes[..100]).unwrap();
    for d in files(&cache.path().join("descriptors")) {
        std::fs::write(d, b"{\"format\": 1, \"tools\": [tru").unwrap();
    }

    let repaired = run(tools.path(), cache.path(), |s| {
        assert_eq!(s.call("echo", json!({"message": "ok"}))["content"][0]["text"], "ok");
        assert_eq!(s.call("ide_agents_health", json!({}))["isError"], false);
    });
    // Only echo's descriptors are cached (the built-ins' are embedded): discovery described echo
    // again, and both components, whose artifacts were corrupt, were recompiled.
    assert_eq!(count(&repaired.stderr, "ignoring corrupt descriptor cache entry"), 1, "{}", repaired.stderr);
    assert_eq!(count(&repaired.stderr, "compiled component"), 2, "{}", repaired.stderr);

    let clean = run(tools.path(), cache.path(), |s| {
        s.call("echo", json!({"message": "ok"}));
    });
    assert_eq!(count(&clean.stderr, "compiled component"), 0, "cache repaired:\n{}", clean.stderr);
}

#[test]
fn corrupt_artifact_alone_is_recompiled_on_call() {
    let tools = tools_dir(&["echo"]);
    let cache = tempfile::tempdir().unwrap();
    run(tools.path(), cache.path(), |s| {
        s.call("echo", json!({"message": "warm"}));
    });
    for a in files(&cache.path().join("aot")) {
        let mut bytes = std::fs::read(&a).unwrap();
        let last = bytes.len() - 40;
        bytes[last] ^= 1;
        std::fs::write(&a, &bytes).unwrap();
    }
    let repaired = run(tools.path(), cache.path(), |s| {
        assert_eq!(s.call("echo", json!({"message": "ok"}))["content"][0]["text"], "ok");
    });
    assert_eq!(count(&repaired.stderr, "ignoring corrupt AOT artifact"), 1, "{}", repaired.stderr);
    assert_eq!(count(&repaired.stderr, "compiled component"), 1, "{}", repaired.stderr);
}
