//! Resources, prompts and the catalog: `ide_agents_resource` (repo.graph, kb.snippet, build.logs)
//! as a tool and as MCP resources behind the resource cache; `ide_agents_prompt` and MCP prompts
//! with completion; `ide_agents_catalog`; and the read-only `workspace` roots, which nothing can
//! leave through `..`, absolute paths or symlinks.

use std::path::Path;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::{Launch, Server, shared_cache};

/// A workspace with Rust, Python and TS/JS files, a notes folder and a logs folder.
struct Fixture {
    dir: TempDir,
}

fn write(root: &Path, path: &str, text: &str) {
    let file = root.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

const DIFF: &str = "diff --git a/src/util.rs b/src/util.rs\n--- a/src/util.rs\n+++ b/src/util.rs\n@@ -1 +1,2 @@\n pub fn helper() {}\n+pub fn other() {}\n";

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        for (path, text) in [
            (
                "src/lib.rs",
                "mod util;\npub mod net;\nuse crate::util::helper;\nuse serde::Deserialize;\nuse std::{collections::HashMap, fmt};\n",
            ),
            ("src/util.rs", "use super::net::Client;\npub fn helper() {}\n"),
            ("src/net/mod.rs", "mod http;\npub struct Client;\n"),
            ("src/net/http.rs", "use crate::util;\n"),
            ("app/__init__.py", ""),
            ("app/main.py", "import os\nfrom app import models\nfrom .views import index\nimport requests\n"),
            ("app/models.py", "from . import helpers\n"),
            ("app/helpers.py", "X = 1\n"),
            ("app/views.py", "from .models import X\n"),
            (
                "web/index.ts",
                "import { a } from './lib/a';\nimport React from 'react';\nconst b = require('./b.js');\nexport * from '@scope/pkg/sub';\n",
            ),
            ("web/lib/a.ts", "import './missing';\n"),
            ("web/b.js", "module.exports = 1;\n"),
            ("node_modules/dep/index.js", "import 'never-graphed';\n"),
            ("changes.diff", DIFF),
        ] {
            write(&ws, path, text);
        }
        let outside = dir.path().join("outside.txt");
        std::fs::write(&outside, "outside the workspace").unwrap();
        std::os::unix::fs::symlink(&outside, ws.join("escape-link")).unwrap();
        let kb = dir.path().join("kb");
        write(
            &kb,
            "rust.md",
            "# Ownership\nEach value has one owner. The borrow checker rejects use after move.\n\n## Lifetimes\nLifetimes name how long references live.\n",
        );
        write(&kb, "python/asyncio.md", "# Asyncio\nThe event loop runs coroutines. Use asyncio.run to start.\n");
        let logs = dir.path().join("logs");
        write(&logs, "old.log", "error: ancient failure\n");
        let old = std::fs::File::options().write(true).open(logs.join("old.log")).unwrap();
        old.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
        write(
            &logs,
            "build.log",
            "   Compiling demo v0.1.0\nwarning: unused variable: `x`\nerror[E0382]: borrow of moved value: `v`\n  --> src/main.rs:4:5\nerror: could not compile `demo`\n",
        );
        Self { dir }
    }

    fn path(&self, sub: &str) -> std::path::PathBuf {
        self.dir.path().join(sub)
    }

    fn spawn(&self) -> Server {
        let config = format!(
            "[roots]\nworkspace = {:?}\nkb = {:?}\nlogs = {:?}\n",
            self.path("ws"),
            self.path("kb"),
            self.path("logs")
        );
        std::fs::write(self.path("config.toml"), config).unwrap();
        let mut server = Launch::bare()
            .args([
                "--config".as_ref(),
                self.path("config.toml").as_os_str(),
                "--cache-dir".as_ref(),
                shared_cache().as_os_str(),
            ])
            .telemetry(self.path("spans.jsonl"))
            .spawn();
        server.initialize();
        server
    }
}

fn edge<'a>(graph: &'a Value, from: &str, module: &str) -> &'a Value {
    graph["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["from"] == from && e["module"] == module)
        .unwrap_or_else(|| panic!("no edge {from} -> {module} in {:#}", graph["edges"]))
}

#[test]
fn repo_graph_resolves_rust_python_and_ts_imports() {
    let fixture = Fixture::new();
    let mut server = fixture.spawn();
    let result = server.call("ide_agents_resource", json!({"name": "repo.graph"}));
    assert_eq!(result["isError"], false, "{result}");
    let graph = &result["structuredContent"];
    for (from, module, kind, to) in [
        ("src/lib.rs", "mod util", "internal", json!("src/util.rs")),
        ("src/lib.rs", "mod net", "internal", json!("src/net/mod.rs")),
        ("src/lib.rs", "crate::util::helper", "internal", json!("src/util.rs")),
        ("src/lib.rs", "serde::Deserialize", "external", Value::Null),
        ("src/lib.rs", "std::collections::HashMap", "external", Value::Null),
        ("src/util.rs", "super::net::Client", "internal", json!("src/net/mod.rs")),
        ("src/net/mod.rs", "mod http", "internal", json!("src/net/http.rs")),
        ("src/net/http.rs", "crate::util", "internal", json!("src/util.rs")),
        ("app/main.py", "os", "external", Value::Null),
        ("app/main.py", "app", "internal", json!("app/__init__.py")),
        ("app/main.py", ".views", "internal", json!("app/views.py")),
        ("app/models.py", ".helpers", "internal", json!("app/helpers.py")),
        ("web/index.ts", "./lib/a", "internal", json!("web/lib/a.ts")),
        ("web/index.ts", "./b.js", "internal", json!("web/b.js")),
        ("web/index.ts", "react", "external", Value::Null),
        ("web/lib/a.ts", "./missing", "unresolved", Value::Null),
    ] {
        let e = edge(graph, from, module);
        assert_eq!((e["kind"].as_str(), &e["to"]), (Some(kind), &to), "{from} -> {module}: {e}");
    }
    let externals: Vec<&str> =
        graph["external"].as_array().unwrap().iter().map(|e| e["module"].as_str().unwrap()).collect();
    assert!(externals.contains(&"@scope/pkg") && externals.contains(&"std"), "{externals:?}");
    let files: Vec<&str> = graph["nodes"].as_array().unwrap().iter().map(|n| n["path"].as_str().unwrap()).collect();
    assert!(!files.iter().any(|f| f.starts_with("node_modules")), "dependencies are skipped: {files:?}");
    assert_eq!(files.len(), 12, "{files:?}");
}

#[test]
fn resources_are_served_natively_behind_the_cache() {
    let fixture = Fixture::new();
    let mut server = fixture.spawn();
    let init = server.result(
        "initialize",
        json!({"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}}),
    );
    for capability in ["resources", "prompts", "completions"] {
        assert!(init["capabilities"].get(capability).is_some(), "{init}");
    }
    let listed = server.result("resources/list", json!({}));
    let uris: Vec<&str> = listed["resources"].as_array().unwrap().iter().map(|r| r["uri"].as_str().unwrap()).collect();
    assert_eq!(uris, ["ide-agents://repo/graph", "ide-agents://build/logs"]);
    let templates = server.result("resources/templates/list", json!({}));
    let kb = templates["resourceTemplates"].as_array().unwrap().iter().find(|t| t["name"] == "kb.snippet").unwrap();
    assert_eq!(kb["uriTemplate"], "ide-agents://kb/snippet{?query,limit}");

    let read = server.result("resources/read", json!({"uri": "ide-agents://repo/graph"}));
    let contents = &read["contents"][0];
    assert_eq!(
        (contents["uri"].as_str(), contents["mimeType"].as_str()),
        (Some("ide-agents://repo/graph"), Some("application/json"))
    );
    let graph: Value = serde_json::from_str(contents["text"].as_str().unwrap()).unwrap();
    assert_eq!(graph["files"], 12);
    let again = server.result("resources/read", json!({"uri": "ide-agents://repo/graph"}));
    assert_eq!(again, read, "second read from the cache");

    let snippets =
        server.result("resources/read", json!({"uri": "ide-agents://kb/snippet?query=borrow%20checker&limit=2"}));
    let found: Value = serde_json::from_str(snippets["contents"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(found["snippets"][0]["file"], "rust.md");
    assert_eq!(found["snippets"][0]["heading"], "Ownership");
    assert_eq!(found["snippets"][0]["line_start"], 1);

    let logs = server.result("resources/read", json!({"uri": "ide-agents://build/logs?lines=2"}));
    let logs: Value = serde_json::from_str(logs["contents"][0]["text"].as_str().unwrap()).unwrap();
    let newest = &logs["files"][0];
    assert_eq!(
        (newest["path"].as_str(), newest["errors"].as_u64(), newest["warnings"].as_u64()),
        (Some("build.log"), Some(2), Some(1))
    );
    assert_eq!(newest["error_lines"][0], json!({"line": 3, "text": "error[E0382]: borrow of moved value: `v`"}));
    assert_eq!(newest["tail"].as_array().unwrap().len(), 2);
    assert_eq!(logs["files"][1]["path"], "old.log");

    for (uri, code) in [
        ("ide-agents://nothing/here", -32002),
        ("file:///etc/passwd", -32002),
        ("ide-agents://kb/snippet?query=x&bogus=1", -32602),
        ("ide-agents://kb/snippet", -32602),
    ] {
        let response = server.request("resources/read", json!({"uri": uri}));
        assert_eq!(response["error"]["code"], code, "{uri}: {response}");
    }

    let health = server.call("ide_agents_health", json!({}));
    let resource_cache = health["structuredContent"]["caches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "resource")
        .unwrap()
        .clone();
    assert_eq!(resource_cache["hits"], 1, "{resource_cache}");
    let finished = server.finish();
    assert!(finished.status.success());
    let spans = std::fs::read_to_string(fixture.path("spans.jsonl")).unwrap();
    let reads = spans.lines().filter(|l| l.contains("\"resources/read\"")).count();
    assert_eq!(reads, 4, "one tool call per cache miss (graph, kb, logs, the failing kb read):\n{spans}");
}

#[test]
fn nothing_leaves_the_granted_roots() {
    let fixture = Fixture::new();
    let mut server = fixture.spawn();
    for path in ["..", "../kb", "/etc", "src/../../kb"] {
        let result = server.call("ide_agents_resource", json!({"name": "repo.graph", "path": path}));
        assert_eq!(result["isError"], true, "{path}: {result}");
        assert!(result["content"][0]["text"].as_str().unwrap().contains("invalid path"), "{path}: {result}");
    }
    for path in ["escape-link", "../outside.txt", "/etc/passwd"] {
        let result = server.request("prompts/get", json!({"name": "write_tests", "arguments": {"path": path}}));
        assert_eq!(result["error"]["code"], -32602, "{path}: {result}");
        let message = result["error"]["message"].as_str().unwrap();
        assert!(!message.contains("outside the workspace") && message.contains("/arguments/path"), "{path}: {message}");
    }
    // A server with no roots offers no resources and says how to grant one.
    let mut bare = Launch::bare().args(["--cache-dir".as_ref(), shared_cache().as_os_str()]).spawn();
    bare.initialize();
    assert_eq!(bare.result("resources/list", json!({}))["resources"], json!([]));
    let refused = bare.request("resources/read", json!({"uri": "ide-agents://repo/graph"}));
    assert_eq!(refused["error"]["code"], -32002);
    assert!(refused["error"]["message"].as_str().unwrap().contains("--workspace"), "{refused}");
    let tool = bare.call("ide_agents_resource", json!({"name": "repo.graph"}));
    assert_eq!(tool["isError"], true);
    assert!(tool["content"][0]["text"].as_str().unwrap().contains("not granted"), "{tool}");
}

#[test]
fn prompts_render_with_arguments_and_complete_their_values() {
    let fixture = Fixture::new();
    let mut server = fixture.spawn();
    let listed = server.result("prompts/list", json!({}));
    let names: Vec<&str> = listed["prompts"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["diff_review", "explain_error", "write_tests"]);
    let explain = &listed["prompts"][1];
    assert_eq!(
        explain["arguments"][0],
        json!({"name": "error", "description": "The error message or stack trace.", "required": true})
    );

    let got = server.result("prompts/get", json!({"name": "explain_error", "arguments": {"error": "error[E0382]: borrow of moved value", "language": "rust"}}));
    assert_eq!(got["messages"][0]["role"], "user");
    let text = got["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(text.contains("error[E0382]") && text.contains("from rust"), "{text}");

    let review = server
        .result("prompts/get", json!({"name": "diff_review", "arguments": {"path": "changes.diff", "focus": "tests"}}));
    let text = review["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(text.contains("+pub fn other() {}") && text.contains("1 files, +1 -0") && text.contains("tests"), "{text}");
    let inline = server.result("prompts/get", json!({"name": "diff_review", "arguments": {"diff": DIFF}}));
    assert!(inline["messages"][0]["content"]["text"].as_str().unwrap().contains("src/util.rs"));

    let tests = server.result(
        "prompts/get",
        json!({"name": "write_tests", "arguments": {"path": "src/util.rs", "framework": "cargo-test"}}),
    );
    let text = tests["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(text.contains("```rust\nuse super::net::Client;") && text.contains("`cargo-test`"), "{text}");

    for (params, needle) in [
        (json!({"name": "explain_error"}), "missing required argument \"error\""),
        (json!({"name": "explain_error", "arguments": {"error": 5}}), "must be a string"),
        (json!({"name": "nope"}), "unknown prompt"),
        (json!({"name": "diff_review", "arguments": {}}), "give `diff` or `path`"),
        (json!({"name": "diff_review", "arguments": {"path": "missing.diff"}}), "does not exist"),
    ] {
        let response = server.request("prompts/get", params.clone());
        assert_eq!(response["error"]["code"], -32602, "{params}: {response}");
        assert!(response["error"]["message"].as_str().unwrap().contains(needle), "{params}: {response}");
    }

    let completed = server.result(
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "write_tests"}, "argument": {"name": "framework", "value": "py"}}),
    );
    assert_eq!(completed["completion"], json!({"values": ["pytest"], "total": 1, "hasMore": false}));
    let languages = server.result(
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "explain_error"}, "argument": {"name": "language", "value": "c"}}),
    );
    assert_eq!(languages["completion"]["values"], json!(["c", "cpp", "csharp"]));
    let paths = server.result(
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "write_tests"}, "argument": {"name": "path", "value": "src/n"}}),
    );
    assert_eq!(paths["completion"]["values"], json!(["src/net/"]));
    let top = server.result(
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "diff_review"}, "argument": {"name": "path", "value": "ch"}}),
    );
    assert_eq!(top["completion"]["values"], json!(["changes.diff"]));
    let escape = server.result(
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "diff_review"}, "argument": {"name": "path", "value": "../"}}),
    );
    assert_eq!(escape["completion"]["values"], json!([]), "nothing outside the root");
    let bad = server.request(
        "completion/complete",
        json!({"ref": {"type": "ref/prompt", "name": "nope"}, "argument": {"name": "x", "value": ""}}),
    );
    assert_eq!(bad["error"]["code"], -32602);

    // The same prompt as a tool call.
    let tool = server.call("ide_agents_prompt", json!({"name": "explain_error", "arguments": {"error": "boom"}}));
    assert_eq!(tool["isError"], false);
    assert_eq!(tool["structuredContent"]["messages"][0]["role"], "user");
}

#[test]
fn the_catalog_lists_tools_with_group_and_load_state_resources_and_prompts() {
    let fixture = Fixture::new();
    let mut server = fixture.spawn();
    let catalog = server.call("ide_agents_catalog", json!({}));
    assert_eq!(catalog["isError"], false, "{catalog}");
    let c = &catalog["structuredContent"];
    let tool = |name: &str| c["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).cloned().unwrap();
    let me = tool("ide_agents_catalog");
    assert_eq!(
        (me["group"].as_str(), me["loaded"].as_bool(), me["component"].as_str()),
        (Some("core"), Some(true), Some("builtin:catalog"))
    );
    assert_eq!(tool("ide_agents_github_get_issue")["loaded"], false, "not called yet");
    assert_eq!(tool("ide_agents_command")["input_schema"]["required"], json!(["method"]));
    assert_eq!(c["counts"], json!({"tools": 11, "resources": 3, "prompts": 3}));
    assert!(
        c["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["uri"] == "ide-agents://kb/snippet{?query,limit}" && r["template"] == true)
    );

    let only = server.call("ide_agents_catalog", json!({"kind": "tools", "group": "ultra", "include_schemas": false}));
    assert_eq!(only["structuredContent"]["counts"], json!({"tools": 0, "resources": 0, "prompts": 0}));
    let bad = server.call("ide_agents_catalog", json!({"kind": "everything"}));
    assert_eq!(bad["isError"], true);
    assert!(bad["content"][0]["text"].as_str().unwrap().contains("kind"), "{bad}");
}
