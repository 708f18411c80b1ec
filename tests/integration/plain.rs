//! Plain typed components: a component exporting ordinary typed functions (no `tools` export) is
//! served, each function a tool whose schemas come from its WIT types. The Rust `plain` test
//! component covers nested records, variants, enums, flags, options, tuples, lists and results,
//! docs from a `package-docs` section, a resource (not served) and a result too large to lift;
//! a JavaScript one built with ComponentizeJS (the pinned toolchain the JS template uses) runs
//! unchanged too, its doc comments put back by `embed-docs`. `check` reports such a component as
//! plain, with what it does not serve.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::support::{Launch, Server, guest, server_bin, text};

fn tool<'a>(listed: &'a Value, name: &str) -> &'a Value {
    listed["tools"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap_or_else(|| panic!("{name}: {listed}"))
}

fn plain_server() -> Server {
    let mut server = Launch::with_tools(&["plain"]).spawn();
    server.initialize();
    server
}

#[test]
fn each_exported_function_is_a_tool_with_schemas_from_its_types() {
    let mut server = plain_server();
    let listed = server.result("tools/list", json!({}));
    assert_eq!(
        crate::support::extension_tools(&listed),
        ["check", "geometry_area", "geometry_describe", "geometry_translate", "greet", "huge", "nothing"],
        "resource functions are not served: {listed}"
    );
    // Docs from the component's package-docs section; otherwise the WIT signature.
    assert_eq!(tool(&listed, "greet")["description"], "Greets `name`.");
    assert_eq!(tool(&listed, "geometry_area")["description"], "Area.");
    assert_eq!(
        tool(&listed, "geometry_describe")["description"],
        "WebAssembly function `geometry/describe`: `func(style: flags { bold, italic, underline }, sizes: tuple<u8, s64>) \
         -> string`."
    );
    let greet = tool(&listed, "greet");
    assert_eq!(greet["inputSchema"]["required"], json!(["name"]), "an option parameter may be left out");
    assert_eq!(
        greet["inputSchema"]["properties"]["times"]["anyOf"][1],
        json!({"type": "integer", "minimum": 0, "maximum": 255})
    );
    assert_eq!(greet["outputSchema"]["properties"]["result"], json!({"type": "string"}));
    let area = tool(&listed, "geometry_area");
    let shape = &area["inputSchema"]["properties"]["shape"]["oneOf"];
    assert_eq!(shape[2], json!({"const": "empty"}), "{shape}");
    assert_eq!(shape[1]["properties"]["rect"]["prefixItems"][0]["required"], json!(["x", "y"]), "{shape}");
    assert_eq!(area["outputSchema"]["properties"]["result"], json!({"type": "number"}), "ok side of the result");
    let translate = tool(&listed, "geometry_translate");
    let labelled = &translate["inputSchema"]["properties"]["points"]["items"];
    assert_eq!(labelled["required"], json!(["name", "at", "tags"]), "{labelled}");
    assert_eq!(labelled["additionalProperties"], false);
    assert!(tool(&listed, "nothing").get("outputSchema").is_none());
}

#[test]
fn calls_convert_nested_values_both_ways() {
    let mut server = plain_server();
    let greeted = server.call("greet", json!({"name": "ada", "times": 2}));
    assert_eq!(greeted["structuredContent"], json!({"result": "hello ada, hello ada"}), "{greeted}");
    assert_eq!(server.call("greet", json!({"name": "ada"}))["structuredContent"]["result"], "hello ada");

    let rect = json!({"shape": {"rect": [{"x": 0, "y": 0}, {"x": 2.5, "y": 4}]}, "unit": "metric"});
    assert_eq!(server.call("geometry_area", rect)["structuredContent"], json!({"result": 10.0}));
    assert_eq!(server.call("geometry_area", json!({"shape": "empty"}))["structuredContent"], json!({"result": 0.0}));
    let negative = server.call("geometry_area", json!({"shape": {"circle": -1.0}}));
    assert_eq!(negative["isError"], true, "an err result is a tool error: {negative}");
    assert_eq!(text(&negative), "negative radius -1");

    let points = json!([{"name": "a", "at": {"x": 1, "y": 2}, "tags": ["t", "u"]},
                        {"name": "b", "at": {"x": -1, "y": 0}, "tags": [], "note": "n"}]);
    let moved = server.call("geometry_translate", json!({"points": points, "by": {"x": 0.5, "y": -2}}));
    assert_eq!(
        moved["structuredContent"]["result"],
        json!([{"name": "a", "at": {"x": 1.5, "y": 0.0}, "tags": ["t", "u"], "note": null},
               {"name": "b", "at": {"x": -0.5, "y": -2.0}, "tags": [], "note": "n"}]),
        "{moved}"
    );
    let described = server
        .call("geometry_describe", json!({"style": ["bold", "underline"], "sizes": [255, -9007199254740993_i64]}));
    assert_eq!(described["structuredContent"]["result"], "Style { bits: 5 } (255, -9007199254740993)", "{described}");

    assert_eq!(server.call("check", json!({"ok": true}))["structuredContent"], json!({"result": null}));
    let failed = server.call("check", json!({"ok": false}));
    assert_eq!((failed["isError"].clone(), text(&failed)), (json!(true), "not ok"), "{failed}");
    let nothing = server.call("nothing", json!({}));
    assert_eq!(nothing["isError"], false, "{nothing}");
    assert!(nothing.get("structuredContent").is_none(), "{nothing}");
}

#[test]
fn arguments_that_do_not_fit_the_types_are_refused_with_the_place() {
    let mut server = plain_server();
    for (tool, arguments, needle) in [
        ("greet", json!({"name": "ada", "times": 256}), "times"),
        ("greet", json!({}), "name"),
        ("geometry_area", json!({"shape": {"square": 1}}), "shape"),
        ("geometry_area", json!({"shape": "empty", "unit": "furlong"}), "unit"),
        ("geometry_describe", json!({"style": ["bold", "blink"], "sizes": [1, 2]}), "style"),
        ("geometry_describe", json!({"style": [], "sizes": [1, 2.5]}), "sizes"),
        (
            "geometry_translate",
            json!({"points": [{"name": "a", "at": {"x": 1}, "tags": []}], "by": {"x": 0, "y": 0}}),
            "points",
        ),
    ] {
        let refused = server.call(tool, arguments.clone());
        assert_eq!(refused["isError"], true, "{tool} {arguments}: {refused}");
        assert!(text(&refused).contains(needle), "{tool} {arguments}: {refused}");
    }
    // Still serving.
    assert_eq!(server.call("greet", json!({"name": "b"}))["structuredContent"]["result"], "hello b");
}

/// A function returning a list too large to lift costs its own call: wasmtime's hostcall fuel
/// (set from the output limit) stops the lift, and the server goes on.
#[test]
fn a_result_too_large_to_lift_fails_its_call_only() {
    let mut server = plain_server();
    let small = server.call("huge", json!({"len": 1000}));
    assert_eq!(small["structuredContent"]["result"].as_array().map(Vec::len), Some(1000), "{small}");
    let rss_before = crate::support::proc_status_kib(server.pid(), "VmRSS:");
    let huge = server.call("huge", json!({"len": 20_000_000}));
    assert_eq!(huge["isError"], true, "{huge}");
    assert!(text(&huge).contains("too much data"), "{huge}");
    let rss_after = crate::support::proc_status_kib(server.pid(), "VmRSS:");
    assert!(rss_after < rss_before + 256 * 1024, "RSS grew from {rss_before} to {rss_after} KiB");
    assert_eq!(server.call("greet", json!({"name": "c"}))["structuredContent"]["result"], "hello c");
}

#[test]
fn check_reports_a_plain_component_and_what_it_does_not_serve() {
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(server_bin())
        .arg("check")
        .arg(guest("plain"))
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["--log", "error"])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("plain typed component: 7 exported function(s) served as tools"), "{report}");
    assert!(report.contains("    greet: Greets `name`."), "{report}");
    assert!(report.contains("not served: `test:plain/geometry#[method]counter.next`"), "{report}");
    assert!(report.contains("cost: fresh instance"), "{report}");
}

/// A plain component in JavaScript (ComponentizeJS, as the JS template pins it) with an exported
/// interface: nested records in and out, and a `result` whose `err` (a thrown value) is a tool
/// error with its message.
#[test]
fn a_plain_javascript_component_runs_unchanged() {
    let work = tempfile::tempdir().unwrap();
    let wit = work.path().join("wit");
    std::fs::create_dir_all(&wit).unwrap();
    std::fs::write(
        wit.join("world.wit"),
        "package test:plainjs;

interface shapes {
    record point { x: f64, y: f64 }
    record segment { name: string, ends: tuple<point, point>, weight: option<u32> }
    variant measurement { length(f64), none }
    /// The length of `segment`, times its weight.
    measure: func(segment: segment) -> result<measurement, string>;
    reverse: func(segments: list<segment>) -> list<segment>;
}

world plain {
    export shapes;
    export greet: func(name: string) -> string;
}
",
    )
    .unwrap();
    std::fs::write(
        work.path().join("app.js"),
        r#"
export const shapes = {
  measure(segment) {
    if (segment.name === "") throw "a segment needs a name";
    const [a, b] = segment.ends;
    if (a.x === b.x && a.y === b.y) return { tag: "none" };
    return { tag: "length", val: Math.hypot(b.x - a.x, b.y - a.y) * (segment.weight ?? 1) };
  },
  reverse(segments) {
    return segments.map((s) => ({ ...s, ends: [s.ends[1], s.ends[0]] })).reverse();
  },
};
export function greet(name) { return `hello ${name}`; }
"#,
    )
    .unwrap();
    let out = work.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let componentize = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/node_modules/.bin/componentize-js");
    let build = Command::new(componentize)
        .current_dir(work.path())
        .args(["app.js", "--wit", "wit", "--world-name", "plain", "--disable", "fetch-event", "--out"])
        .arg(out.join("plainjs.wasm"))
        .output()
        .unwrap();
    assert!(build.status.success(), "componentize-js: {}", String::from_utf8_lossy(&build.stderr));
    // ComponentizeJS drops doc comments; `embed-docs` puts them back.
    let embedded = Command::new(server_bin())
        .arg("embed-docs")
        .arg(out.join("plainjs.wasm"))
        .arg("--wit")
        .arg(&wit)
        .output()
        .unwrap();
    assert!(embedded.status.success(), "embed-docs: {}", String::from_utf8_lossy(&embedded.stderr));

    let mut server = crate::support::serve_built(&out, work.path(), "");
    let listed = server.result("tools/list", json!({}));
    let measure = tool(&listed, "shapes_measure");
    assert_eq!(measure["description"], "The length of `segment`, times its weight.", "{measure}");
    assert!(tool(&listed, "shapes_reverse")["description"].as_str().unwrap().starts_with("WebAssembly function"));
    let segment = &measure["inputSchema"]["properties"]["segment"];
    assert_eq!(segment["required"], json!(["name", "ends"]), "{segment}");
    assert_eq!(measure["outputSchema"]["properties"]["result"]["oneOf"][1], json!({"const": "none"}), "{measure}");
    assert_eq!(server.call("greet", json!({"name": "js"}))["structuredContent"], json!({"result": "hello js"}));

    let segment = json!({"name": "s", "ends": [{"x": 0, "y": 0}, {"x": 3, "y": 4}], "weight": 2});
    let measured = server.call("shapes_measure", json!({"segment": segment}));
    assert_eq!(measured["structuredContent"], json!({"result": {"length": 10.0}}), "{measured}");
    let point = json!({"segment": {"name": "p", "ends": [{"x": 1, "y": 1}, {"x": 1, "y": 1}]}});
    assert_eq!(server.call("shapes_measure", point)["structuredContent"], json!({"result": "none"}));
    let unnamed = json!({"segment": {"name": "", "ends": [{"x": 0, "y": 0}, {"x": 1, "y": 0}]}});
    let refused = server.call("shapes_measure", unnamed);
    assert_eq!((refused["isError"].clone(), text(&refused)), (json!(true), "a segment needs a name"), "{refused}");

    let reversed = server.call("shapes_reverse", json!({"segments": [segment]}));
    assert_eq!(
        reversed["structuredContent"]["result"],
        json!([{"name": "s", "ends": [{"x": 3.0, "y": 4.0}, {"x": 0.0, "y": 0.0}], "weight": 2}]),
        "{reversed}"
    );
}
