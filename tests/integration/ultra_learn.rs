//! The ULTRA learning tools (`guest-tools/ultra_learn`) through the server: evaluation metrics,
//! text classifiers and projections checked against scikit-learn
//! (`tests/interop/reference/ultra_learn.py`) on generated data, and bad input refused with the
//! argument named.

use serde_json::{Value, json};

use crate::support::{Server, assert_close as close, python_reference, ultra_server};

/// A small deterministic generator (64-bit LCG, top bits), so the data needs no crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        ((self.next() * n as f64) as usize).min(n - 1)
    }
}

const TOPICS: [[&str; 6]; 3] = [
    ["cache", "memory", "evict", "hit", "miss", "lru"],
    ["http", "request", "header", "status", "proxy", "tls"],
    ["schema", "json", "field", "type", "validate", "enum"],
];
const COMMON: [&str; 7] = ["the", "and", "with", "for", "of", "data", "value"];

/// A text mostly of common words, some of `topic`'s and a few of another topic's.
fn doc(rng: &mut Lcg, topic: usize) -> String {
    let len = 3 + rng.below(10);
    (0..len)
        .map(|_| {
            let r = rng.next();
            if r < 0.3 {
                TOPICS[topic][rng.below(6)]
            } else if r < 0.45 {
                TOPICS[rng.below(3)][rng.below(6)]
            } else {
                COMMON[rng.below(7)]
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The reference's answer for `tool` on `args`.
fn reference(tool: &str, args: &Value) -> Value {
    let mut input = args.clone();
    input["tool"] = json!(tool);
    python_reference("reference/ultra_learn.py", &input)
}

/// The structured output of a successful call.
fn structured(server: &mut Server, tool: &str, args: &Value) -> Value {
    let result = server.call(tool, args.clone());
    assert_eq!(result["isError"], false, "{result}");
    result["structuredContent"].clone()
}

fn prf(v: &Value) -> Value {
    json!([v["precision"], v["recall"], v["f1"]])
}

/// Graded relevance 0-3 and scores rounded to whole numbers (ties), one query without relevant
/// items, some queries in list order (no scores).
fn queries(rng: &mut Lcg) -> Value {
    let queries: Vec<Value> = (0..20)
        .map(|q| {
            let m = 2 + rng.below(13);
            let relevance: Vec<usize> = (0..m).map(|_| if q == 5 { 0 } else { rng.below(4) }).collect();
            if q % 3 == 0 {
                json!({"relevance": relevance})
            } else {
                let scores: Vec<f64> = (0..m).map(|_| (rng.next() * 3.0).round()).collect();
                json!({"relevance": relevance, "scores": scores})
            }
        })
        .collect();
    json!(queries)
}

#[test]
fn evaluation_matches_sklearn_metrics() {
    let mut rng = Lcg(7);
    let n = 300;
    let multi_labels: Vec<usize> = (0..n).map(|_| rng.below(3)).collect();
    // Class 3 is only ever predicted: its recall is 0/0 (reported 0 with a warning).
    let multi_predictions: Vec<usize> =
        multi_labels.iter().map(|&y| if rng.next() < 0.6 { y } else { rng.below(4) }).collect();
    let positive: Vec<bool> = (0..n).map(|_| rng.next() < 0.4).collect();
    // Probabilities rounded to 2 decimals, so tied scores occur.
    let scores: Vec<f64> =
        positive.iter().map(|&p| ((0.3 * f64::from(u8::from(p)) + 0.7 * rng.next()) * 100.0).round() / 100.0).collect();
    let names: Vec<&str> = positive.iter().map(|&p| if p { "spam" } else { "ham" }).collect();
    let thresholded: Vec<&str> = scores.iter().map(|&s| if s > 0.5 { "spam" } else { "ham" }).collect();
    let bits: Vec<u8> = positive.iter().map(|&p| u8::from(p)).collect();
    let bit_predictions: Vec<u8> = scores.iter().map(|&s| u8::from(s > 0.5)).collect();
    let cases = [
        json!({"labels": multi_labels, "predictions": multi_predictions}),
        json!({"labels": names, "predictions": thresholded, "scores": scores, "pos_label": "spam",
               "queries": queries(&mut rng), "k": 5}),
        json!({"labels": bits, "predictions": bit_predictions, "scores": scores, "queries": queries(&mut rng)}),
    ];
    let mut server = ultra_server();
    for (i, args) in cases.iter().enumerate() {
        let ours = structured(&mut server, "ide_agents_ultra_evaluate", args);
        let theirs = reference("evaluate", args);
        let c = &ours["classification"];
        assert_eq!(c["classes"], theirs["classes"], "case {i}");
        assert_eq!(c["confusion_matrix"], theirs["confusion_matrix"], "case {i}");
        close(&json!([c["accuracy"]]), &json!([theirs["accuracy"]]), 1e-9, &format!("{i} accuracy"));
        for (ours_key, theirs_key) in [("macro_avg", "macro"), ("micro_avg", "micro"), ("weighted_avg", "weighted")] {
            close(&prf(&c[ours_key]), &theirs[theirs_key], 1e-9, &format!("{i} {theirs_key}"));
        }
        let per_class: Vec<Value> = c["per_class"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| [p["precision"].clone(), p["recall"].clone(), p["f1"].clone(), p["support"].clone()])
            .collect();
        let theirs_per_class: Vec<Value> =
            theirs["per_class"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().clone()).collect();
        close(&json!(per_class), &json!(theirs_per_class), 1e-9, &format!("{i} per class"));
        if i == 0 {
            assert!(c.get("binary").is_none() && !ours["warnings"].as_array().unwrap().is_empty(), "{ours}");
            continue;
        }
        close(&prf(&c["binary"]), &theirs["binary"], 1e-9, &format!("{i} binary"));
        let p = &ours["probabilistic"];
        let keys = ["roc_auc", "average_precision", "log_loss", "brier"];
        close(
            &json!(keys.map(|k| p[k].clone())),
            &json!(keys.map(|k| theirs[k].clone())),
            1e-9,
            &format!("{i} ROC AUC, AP, log loss, Brier"),
        );
        let r = &ours["ranking"];
        for key in ["ndcg", "reciprocal_rank", "recall_at_k"] {
            let per_query: Vec<Value> = r["per_query"].as_array().unwrap().iter().map(|q| q[key].clone()).collect();
            close(&json!(per_query), &theirs[key], 1e-9, &format!("{i} {key} per query"));
        }
        close(&json!([r["ndcg"], r["mrr"], r["recall_at_k"]]), &theirs["mean"], 1e-9, &format!("{i} ranking means"));
    }
}

#[test]
fn classifiers_match_sklearn() {
    let mut rng = Lcg(11);
    let mut server = ultra_server();
    // Two classes as strings (one weight vector), three as integers (multinomial).
    for (classes, n, folds, c, alpha) in [(2usize, 61usize, 4usize, 1.0, 0.5), (3, 73, 5, 2.0, 1.0)] {
        let topics: Vec<usize> = (0..n).map(|_| rng.below(classes)).collect();
        let texts: Vec<String> = topics.iter().map(|&t| doc(&mut rng, t)).collect();
        let labels: Value = if classes == 2 {
            json!(topics.iter().map(|&t| ["no", "yes"][t]).collect::<Vec<_>>())
        } else {
            json!(topics)
        };
        let mut predict: Vec<String> = (0..9)
            .map(|_| {
                let topic = rng.below(classes);
                doc(&mut rng, topic)
            })
            .collect();
        predict.push("nothing known here zz".into());
        let args =
            json!({"texts": texts, "labels": labels, "predict": predict, "folds": folds, "C": c, "alpha": alpha});
        let ours = structured(&mut server, "ide_agents_ultra_classify", &args);
        let theirs = reference("classify", &args);
        for (model, tolerance) in [("naive_bayes", 1e-9), ("logistic", 1e-4)] {
            let (o, t) = (&ours[model], &theirs[model]);
            assert_eq!(ours["classes"], t["classes"], "{model}");
            let predictions = o["predictions"].as_array().unwrap();
            let probabilities: Vec<Value> =
                predictions.iter().flat_map(|p| p["probabilities"].as_array().unwrap().clone()).collect();
            let theirs_probabilities: Vec<Value> =
                t["probabilities"].as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().clone()).collect();
            close(
                &json!(probabilities),
                &json!(theirs_probabilities),
                tolerance,
                &format!("{classes} classes {model} probabilities"),
            );
            let labels: Vec<Value> = predictions.iter().map(|p| p["label"].clone()).collect();
            assert_eq!(json!(labels), t["predictions"], "{classes} classes {model}");
            close(&o["cv_accuracy"], &t["cv_accuracy"], 1e-12, &format!("{classes} classes {model} CV accuracy"));
        }
    }
}

#[test]
fn projections_match_sklearn_up_to_sign() {
    let mut rng = Lcg(13);
    // Correlated columns (each a mix of the previous ones), shifted off the origin.
    let tall: Vec<Vec<f64>> = (0..40)
        .map(|_| {
            let mut row: Vec<f64> = Vec::new();
            for j in 0..6 {
                let mix: f64 = row.iter().sum::<f64>() * 0.3;
                row.push(3.0 + rng.next() * (j + 1) as f64 + mix);
            }
            row
        })
        .collect();
    let wide: Vec<Vec<f64>> = (0..5).map(|_| (0..8).map(|_| rng.next() - 0.5).collect()).collect();
    let topics: Vec<usize> = (0..30).map(|_| rng.below(3)).collect();
    let texts: Vec<String> = topics.iter().map(|&t| doc(&mut rng, t)).collect();
    let cases = [
        json!({"vectors": tall, "n_components": 3}),
        json!({"vectors": wide}),
        json!({"texts": texts, "n_components": 3, "svg": true, "labels": topics}),
    ];
    let mut server = ultra_server();
    for (i, args) in cases.iter().enumerate() {
        let result = server.call("ide_agents_ultra_project", args.clone());
        assert_eq!(result["isError"], false, "{result}");
        let ours = &result["structuredContent"];
        let theirs = reference("project", args);
        let (oc, tc) = (ours["components"].as_array().unwrap(), theirs["components"].as_array().unwrap());
        assert_eq!(oc.len(), tc.len());
        // Align each component's sign with the reference's (an SVD fixes a vector up to sign).
        let signs: Vec<f64> = oc
            .iter()
            .zip(tc)
            .map(|(o, t)| {
                let dot: f64 = o
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(t.as_array().unwrap())
                    .map(|(a, b)| a.as_f64().unwrap() * b.as_f64().unwrap())
                    .sum();
                dot.signum()
            })
            .collect();
        let flip = |rows: &Value, per_row: bool| -> Value {
            let flat: Vec<f64> = rows
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
                .flat_map(|(r, row)| {
                    let signs = &signs;
                    row.as_array()
                        .unwrap()
                        .iter()
                        .enumerate()
                        .map(move |(c, x)| x.as_f64().unwrap() * if per_row { signs[r] } else { signs[c] })
                })
                .collect();
            json!(flat)
        };
        let flat = |rows: &Value| -> Value {
            json!(rows.as_array().unwrap().iter().flat_map(|r| r.as_array().unwrap().clone()).collect::<Vec<_>>())
        };
        close(&flip(&ours["components"], true), &flat(&theirs["components"]), 1e-6, &format!("{i} components"));
        close(&flip(&ours["coordinates"], false), &flat(&theirs["coordinates"]), 1e-6, &format!("{i} coordinates"));
        close(&ours["explained_variance"], &theirs["explained_variance"], 1e-6, &format!("{i} explained variance"));
        close(&ours["explained_variance_ratio"], &theirs["explained_variance_ratio"], 1e-6, &format!("{i} ratio"));
        let images: Vec<&Value> =
            result["content"].as_array().unwrap().iter().filter(|c| c["type"] == "image").collect();
        if i == 2 {
            assert_eq!(images.len(), 1, "{result}");
            assert_eq!(images[0]["mimeType"], "image/svg+xml");
        } else {
            assert!(images.is_empty());
        }
    }
}

#[test]
fn bad_input_is_refused_naming_the_argument() {
    let mut server = ultra_server();
    let cases = [
        ("ide_agents_ultra_evaluate", json!({"labels": [0, 1, 1], "predictions": [0, 1]}), "/predictions"),
        ("ide_agents_ultra_evaluate", json!({"labels": [0, 1], "scores": [0.2, 1.5]}), "/scores/1"),
        ("ide_agents_ultra_evaluate", json!({"labels": [0, 1], "scores": [0.2]}), "/scores"),
        ("ide_agents_ultra_evaluate", json!({"labels": [1, 1], "scores": [0.2, 0.7]}), "/labels"),
        ("ide_agents_ultra_evaluate", json!({"labels": [0, 1], "predictions": [0, "a"]}), "/predictions/1"),
        ("ide_agents_ultra_evaluate", json!({"labels": [], "predictions": []}), "/labels"),
        ("ide_agents_ultra_evaluate", json!({"queries": [{"relevance": [1, -1]}]}), "/queries/0/relevance/1"),
        ("ide_agents_ultra_evaluate", json!({"queries": [{"relevance": [1, 0], "scores": [1]}]}), "/queries/0/scores"),
        ("ide_agents_ultra_classify", json!({"texts": ["aa bb", "cc dd"], "labels": [1, 1], "folds": 2}), "/labels"),
        ("ide_agents_ultra_classify", json!({"texts": ["aa bb", "cc dd"], "labels": [1], "folds": 2}), "/labels"),
        ("ide_agents_ultra_classify", json!({"texts": ["aa bb", "cc dd"], "labels": [1, 2]}), "/folds"),
        ("ide_agents_ultra_classify", json!({"texts": ["a", "b"], "labels": [1, 2], "folds": 2}), "/texts"),
        ("ide_agents_ultra_project", json!({"vectors": [[1, 2], [3]]}), "/vectors/1"),
        ("ide_agents_ultra_project", json!({"vectors": [[1, 2, 3], [4, 5, 7]], "n_components": 3}), "/n_components"),
        ("ide_agents_ultra_project", json!({"vectors": []}), "/vectors"),
        ("ide_agents_ultra_project", json!({"texts": ["a", "b", "c"]}), "/texts"),
    ];
    for (tool, args, pointer) in cases {
        let result = server.call(tool, args.clone());
        assert_eq!(result["isError"], true, "{tool} {args}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(&format!("{pointer}:")), "{tool} {args}: expected {pointer} in {text}");
    }
}
