//! The ULTRA tools: absent (not even read) without `--ultra`, listed and lazily loaded with it;
//! calibration numerics checked against scikit-learn, BM25 against a plain reference
//! implementation (`tests/interop/sklearn_reference.py`), ranking determinism and explanations.

use serde_json::{Value, json};

use crate::support::{Launch, Server, assert_close as close, python_reference, ultra_server};

/// A small deterministic generator (64-bit LCG, top bits), so the data needs no crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn names(server: &mut Server) -> Vec<String> {
    let tools = server.result("tools/list", json!({}));
    tools["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn ultra_tools_exist_only_in_ultra_mode_and_load_on_first_call() {
    let mut off = Launch::with_tools(&[]).spawn();
    off.initialize();
    assert!(!names(&mut off).iter().any(|n| n.starts_with("ide_agents_ultra")));
    let refused = off.request("tools/call", json!({"name": "ide_agents_ultra_rank", "arguments": {}}));
    assert_eq!(refused["error"]["code"], -32602);
    let finished = off.finish();
    assert!(!finished.stderr.contains("builtin:ultra"), "{}", finished.stderr);

    let mut on = ultra_server();
    let listed = names(&mut on);
    assert!(
        listed.contains(&"ide_agents_ultra_rank".to_owned())
            && listed.contains(&"ide_agents_ultra_calibrate".to_owned())
    );
    let health = on.call("ide_agents_health", json!({}));
    assert_eq!(health["structuredContent"]["ultra"], true);
    assert!(
        !health["structuredContent"]["loaded_tools"].as_array().unwrap().iter().any(|t| t == "ide_agents_ultra_rank")
    );
    let ranked = on.call("ide_agents_ultra_rank", json!({"query": "x", "candidates": ["x"]}));
    assert_eq!(ranked["isError"], false, "{ranked}");
    let health = on.call("ide_agents_health", json!({}));
    let loaded = health["structuredContent"]["loaded_tools"].as_array().unwrap().clone();
    assert!(loaded.iter().any(|t| t == "ide_agents_ultra_calibrate"), "one component, both tools: {loaded:?}");
    let catalog = on.call("ide_agents_catalog", json!({"group": "ultra", "kind": "tools", "include_schemas": false}));
    assert_eq!(catalog["structuredContent"]["counts"]["tools"], 15, "rank, calibrate and the thirteen of issue 15");
}

#[test]
fn calibration_and_bm25_match_the_references() {
    let mut rng = Lcg(42);
    // Scores of an over-confident model: labels drawn with probability sigmoid(3 * (s - 0.5)),
    // scores rounded to 2 decimals so that equal scores (ties) occur.
    let n = 400;
    let scores: Vec<f64> = (0..n).map(|_| (rng.next() * 100.0).round() / 100.0).collect();
    let labels: Vec<u8> =
        scores.iter().map(|s| u8::from(rng.next() < 1.0 / (1.0 + (-3.0 * (s - 0.5)).exp()))).collect();
    let apply_to: Vec<f64> = (0..=40).map(|i| -0.1 + 1.2 * f64::from(i) / 40.0).collect();
    let words = ["cache", "schema", "tool", "sandbox", "memory", "limit", "http", "pool", "span", "batch", "wasm"];
    let docs: Vec<String> = (0..30)
        .map(|_| {
            let len = 3 + (rng.next() * 25.0) as usize;
            (0..len).map(|_| words[(rng.next() * words.len() as f64) as usize]).collect::<Vec<_>>().join(" ")
        })
        .collect();
    let query = "sandbox memory limit memory";

    let mut server = ultra_server();
    let calibrated =
        server.call("ide_agents_ultra_calibrate", json!({"scores": scores, "labels": labels, "apply_to": apply_to}));
    assert_eq!(calibrated["isError"], false, "{calibrated}");
    let ours = &calibrated["structuredContent"];
    let ranked = server.call("ide_agents_ultra_rank", json!({"query": query, "candidates": docs}));
    assert_eq!(ranked["isError"], false, "{ranked}");

    let theirs = python_reference(
        "sklearn_reference.py",
        &json!({"scores": scores, "labels": labels, "apply_to": apply_to, "query": query, "docs": docs}),
    );
    close(&ours["calibrated"]["isotonic"], &theirs["isotonic"], 1e-6, "isotonic");
    close(&ours["calibrated"]["platt"], &theirs["platt"], 1e-3, "platt");
    close(
        &json!([ours["platt"]["a"], ours["platt"]["b"]]),
        &json!([theirs["platt_a"], theirs["platt_b"]]),
        1e-3,
        "platt a, b",
    );
    close(&json!([ours["metrics"]["platt"]["brier"]]), &json!([theirs["brier_platt"]]), 1e-6, "brier platt");
    close(&json!([ours["metrics"]["isotonic"]["brier"]]), &json!([theirs["brier_isotonic"]]), 1e-9, "brier isotonic");
    let before = &ours["metrics"]["before"];
    assert!(ours["metrics"]["isotonic"]["ece"].as_f64().unwrap() < before["ece"].as_f64().unwrap());

    let mut bm25 = vec![Value::Null; docs.len()];
    for item in ranked["structuredContent"]["results"].as_array().unwrap() {
        bm25[item["index"].as_u64().unwrap() as usize] = item["bm25"].clone();
    }
    close(&json!(bm25), &theirs["bm25"], 1e-9, "bm25");
}

#[test]
fn ranking_blends_bm25_with_ngram_similarity_deterministically() {
    let mut server = ultra_server();
    let args = json!({
        "query": "parse the configuration file",
        "candidates": [
            {"id": "unrelated", "text": "render a chart of throughput"},
            {"id": "config", "text": "Configuration is parsed from a TOML file at startup; the file names every key."},
            {"id": "typo", "text": "configuraton fil parsing"},
            "plain string candidate about files"
        ],
        "top_k": 3
    });
    let first = server.call("ide_agents_ultra_rank", args.clone());
    let results = first["structuredContent"]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["id"], "config");
    assert!(results[0]["explanation"].as_str().unwrap().contains("matched"), "{}", results[0]);
    let typo = results.iter().find(|r| r["id"] == "typo").expect("the n-gram part ranks a misspelling above noise");
    assert!(typo["similarity"].as_f64().unwrap() > 0.2 && typo["bm25"] == 0.0, "{typo}");
    let again = server.call("ide_agents_ultra_rank", args);
    assert_eq!(first, again, "deterministic");

    let alpha_one =
        server.call("ide_agents_ultra_rank", json!({"query": "file", "candidates": ["file", "files"], "alpha": 1.0}));
    assert_eq!(alpha_one["structuredContent"]["results"][1]["score"], 0.0, "alpha 1 is BM25 alone");
    let bad = server.call("ide_agents_ultra_rank", json!({"query": "x", "candidates": [{"id": "no text"}]}));
    assert_eq!(bad["isError"], true);
    assert!(bad["content"][0]["text"].as_str().unwrap().contains("candidates"), "{bad}");
    let unpaired = server.call("ide_agents_ultra_calibrate", json!({"scores": [0.1, 0.2, 0.3], "labels": [0, 1]}));
    assert!(unpaired["content"][0]["text"].as_str().unwrap().contains("/labels"), "{unpaired}");
    let one_class = server.call("ide_agents_ultra_calibrate", json!({"scores": [0.1, 0.2], "labels": [1, 1]}));
    assert_eq!(one_class["isError"], true);
}
