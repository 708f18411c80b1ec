//! The documented author flow, end to end: `scripts/new-tool.sh` scaffolds a standalone tool crate
//! on the SDK, its unit tests pass natively with `cargo test`, `cargo build --release --target
//! wasm32-wasip2` makes a component that is the only `.wasm` in its output directory, and the
//! server serves exactly that tool from there with `--tools-dir`. The Python template
//! (`--lang python`), the JavaScript one (`--lang js`) and the C one (`--lang c`) likewise: the
//! logic tests natively, `build.sh` makes the component with the pinned toolchain
//! (componentize-py; ComponentizeJS; clang, wit-bindgen and wasm-tools), and the server serves
//! and calls it, a raised exception, thrown error or returned error becoming a tool error with
//! its message.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use crate::support::Launch;

fn cargo(dir: &Path, target_dir: &Path, args: &[&str]) {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // The settings of the cargo running this test must not reach the scaffolded crate's builds.
    ide_agents_guest_build::isolate_from_host(&mut cmd);
    cmd.current_dir(dir).args(args).env("CARGO_TARGET_DIR", target_dir);
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
    let mut server = Launch::patient(&release, &cache).spawn();
    server.initialize();
    let listed = server.result("tools/list", json!({}));
    assert_eq!(crate::support::extension_tools(&listed), ["word_count"], "{listed}");
    let result = server.call("word_count", json!({"text": "a b a", "top": 1}));
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"]["words"], 3, "{result}");
    assert_eq!(result["structuredContent"]["top_words"], json!([{"word": "a", "count": 2}]), "{result}");
    let finished = server.finish();
    assert!(!finished.stderr.contains("already registered"), "{}", finished.stderr);
}

/// What a template built by its `build.sh` must do: scaffold `name` with `--lang lang` (the
/// listed files present), pass its native unit tests (`unit`), build with `build.sh` using the
/// build tools in `tools` (each an environment variable and the path it names), and be served
/// alone from `out/`: listed with its input schema, its structured output as the logic says, an
/// error a tool error with its message, and arguments checked before the guest runs.
fn scripted_template(lang: &str, name: &str, files: &[&str], unit: &[&str], tools: &[(&str, PathBuf)]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (_, tool) in tools {
        assert!(tool.is_file(), "{} is missing: run scripts/test.sh, which installs it", tool.display());
    }
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join(name);
    let status = Command::new("bash")
        .arg(root.join("scripts/new-tool.sh"))
        .args([name.as_ref(), dir.as_os_str(), "--lang".as_ref(), lang.as_ref()])
        .status()
        .unwrap();
    assert!(status.success(), "new-tool.sh --lang {lang} failed");
    for file in files.iter().chain(&["build.sh", "wit/world.wit", "README.md"]) {
        assert!(dir.join(file).is_file(), "{file} is missing");
    }
    let tests = Command::new(unit[0]).args(&unit[1..]).current_dir(&dir).output().unwrap();
    assert!(tests.status.success(), "the logic's tests: {}", String::from_utf8_lossy(&tests.stderr));
    let build = Command::new("bash").arg(dir.join("build.sh")).envs(tools.iter().cloned()).output().unwrap();
    assert!(build.status.success(), "build.sh: {}", String::from_utf8_lossy(&build.stderr));
    let tool = name.replace('-', "_");
    let out = dir.join("out");
    let files: Vec<String> =
        std::fs::read_dir(&out).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(files, [format!("{tool}.wasm")]);

    let mut server = crate::support::serve_built(&out, work.path(), "");
    let listed = server.result("tools/list", json!({}));
    let listed_tool = listed["tools"].as_array().unwrap().iter().find(|t| t["name"] == tool.as_str()).cloned();
    let listed_tool = listed_tool.unwrap_or_else(|| panic!("{tool} is not listed: {listed}\n{}", server.stderr()));
    assert_eq!(listed_tool["inputSchema"]["required"], json!(["text"]), "{listed_tool}");
    let result = server.call(&tool, json!({"text": "the quick brown fox"}));
    assert_eq!(result["isError"], false, "{result}");
    assert_eq!(result["structuredContent"], json!({"words": 4, "longest": "quick"}), "{result}");
    let failed = server.call(&tool, json!({"text": "   "}));
    assert_eq!(failed["isError"], true, "{failed}");
    assert!(crate::support::text(&failed).contains("Error: `text` is empty"), "{failed}");
    // Arguments are checked against the schema before the guest runs.
    let bad = server.call(&tool, json!({"text": 3}));
    assert_eq!(bad["isError"], true, "{bad}");
    server.wait_stderr("counted 4 words"); // the log import
}

/// A file of the repository's tests directory (where scripts/test.sh installs the build tools).
fn installed(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests").join(path)
}

#[test]
fn a_scaffolded_python_tool_tests_natively_builds_and_is_served() {
    let files = ["app.py", "logic.py", "test_logic.py"];
    let tools = [("COMPONENTIZE_PY", installed("interop/.venv/bin/componentize-py"))];
    scripted_template("python", "py-words", &files, &["python3", "-m", "unittest", "-q"], &tools);
}

#[test]
fn a_scaffolded_javascript_tool_tests_natively_builds_and_is_served() {
    let files = ["app.js", "logic.js", "logic.test.js", "package.json"];
    let tools = [("COMPONENTIZE_JS", installed("interop/node_modules/.bin/componentize-js"))];
    scripted_template("js", "js-words", &files, &["node", "--test"], &tools);
}

/// The C template: clang 19 and wasi-libc (Debian packages) and the pinned wasm-tools that
/// scripts/test.sh installs, with the bindings the template carries; build.sh fetches the WASI
/// adapter from crates.io itself, as it does for an author.
#[test]
fn a_scaffolded_c_tool_tests_natively_builds_and_is_served() {
    let files = ["app.c", "logic.c", "logic.h", "test_logic.c", "test.sh"];
    let tools =
        [("WASM_TOOLS", installed("interop/.venv/bin/wasm-tools")), ("CLANG", PathBuf::from("/usr/bin/clang-19"))];
    scripted_template("c", "c-words", &files, &["bash", "test.sh"], &tools);
}

/// JavaScript's `fetch` in a template-built tool (an async `call`): through `wasi:http` to the
/// server's pooled client, to the origins the tool's `http_allow` grants, and no others.
#[test]
fn a_javascript_tool_fetches_only_what_it_is_granted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("js-fetch");
    let status = Command::new("bash")
        .arg(root.join("scripts/new-tool.sh"))
        .args(["js-fetch".as_ref(), dir.as_os_str(), "--lang".as_ref(), "js".as_ref()])
        .status()
        .unwrap();
    assert!(status.success());
    let app = r#"
export const tools = {
  describe() {
    const schema = { type: "object", properties: { url: { type: "string" } }, required: ["url"] };
    return [{ name: "js_fetch", title: undefined, description: "Fetches `url`.", inputSchema: JSON.stringify(schema),
              outputSchema: undefined, annotations: {} }];
  },
  async call(name, args) {
    try {
      const response = await fetch(JSON.parse(args).url);
      return { content: [{ tag: "text", val: `${response.status} ${await response.text()}` }], structured: undefined,
               isError: false };
    } catch (e) {
      throw { tag: "failed", val: `${e.name}: ${e.message}` };
    }
  },
};
"#;
    std::fs::write(dir.join("app.js"), app).unwrap();
    let build = Command::new("bash")
        .arg(dir.join("build.sh"))
        .env("COMPONENTIZE_JS", installed("interop/node_modules/.bin/componentize-js"))
        .output()
        .unwrap();
    assert!(build.status.success(), "build.sh: {}", String::from_utf8_lossy(&build.stderr));

    let web = crate::http_server::TestServer::plain();
    let other = crate::http_server::TestServer::plain();
    let allow = format!("[tools.js_fetch]\nhttp_allow = [\"http://{}\"]\n", web.addr);
    let mut server = crate::support::serve_built(&dir.join("out"), work.path(), &allow);
    let _ = server.result("tools/list", json!({}));
    let fetched = server.call("js_fetch", json!({"url": web.url("/ok")}));
    assert_eq!(crate::support::text(&fetched), "200 ok", "{fetched}\n{}", server.stderr());
    let denied = server.call("js_fetch", json!({"url": other.url("/ok")}));
    assert_eq!(denied["isError"], true, "{denied}");
    assert!(crate::support::text(&denied).contains("NetworkError"), "{denied}");
    assert_eq!(other.accepted(), 0, "nothing was dialled");
    server.wait_stderr("is not in this tool's http_allow list");
}

/// The C template carries bindings generated from wit/ (scripts/regen-c-bindings.sh); they must be
/// regenerated when wit/ changes, which this notices: gen/WIT.sha256 is the SHA-256 of wit/*.wit
/// in name order as of the last generation.
#[test]
fn the_c_templates_bindings_are_generated_from_this_wit() {
    use sha2::{Digest, Sha256};
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("wit"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wit"))
        .collect();
    files.sort();
    let mut hasher = Sha256::new();
    for file in &files {
        hasher.update(std::fs::read(file).unwrap());
    }
    let current: String = hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let recorded = std::fs::read_to_string(root.join("scripts/templates/c/gen/WIT.sha256")).unwrap();
    assert_eq!(recorded.trim(), current, "wit/ changed: run scripts/regen-c-bindings.sh");
}
