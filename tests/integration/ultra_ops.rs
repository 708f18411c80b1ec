//! The ULTRA ops tools (`guest-tools/ultra_ops`) against their reference libraries
//! (`tests/interop/reference/ultra_ops.py`): anomaly scores against numpy and change points
//! against ruptures' PELT, Holt against statsmodels and the linear trend against its OLS
//! prediction intervals, log templates against drain3 (inline and from a file under the `logs`
//! root); and bad input, refused naming the argument.
//!
//! Generated values are rounded to 3 decimals so that both sides read the same f64 from JSON.

use serde_json::{Value, json};

use crate::support::{Launch, Server, assert_close as close, python_reference, text, ultra_server};

const REFERENCE: &str = "reference/ultra_ops.py";

/// A small deterministic generator (64-bit LCG, top bits), so the data needs no crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal: the sum of 12 uniforms, centred.
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.next()).sum::<f64>() - 6.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() * n as f64) as usize
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn ok(server: &mut Server, tool: &str, args: Value) -> Value {
    let result = server.call(tool, args);
    assert_eq!(result["isError"], false, "{result}");
    result["structuredContent"].clone()
}

fn refused(server: &mut Server, tool: &str, args: Value, argument: &str) {
    let result = server.call(tool, args);
    assert_eq!(result["isError"], true, "{result}");
    assert!(text(&result).contains(argument), "the error should name {argument}: {result}");
}

#[test]
fn anomalies_match_numpy_and_ruptures() {
    let mut rng = Lcg(7);
    // Build latencies: a level shift, a slow stretch, spikes.
    let latencies: Vec<f64> = (0..300)
        .map(|i| {
            let level = if (120..200).contains(&i) { 125.0 } else { 100.0 };
            let spike = if i % 47 == 13 { 60.0 } else { 0.0 };
            round3(level + spike + 5.0 * rng.normal())
        })
        .collect();
    // Small integers: many exactly equal partition costs, so ties decide.
    let counts: Vec<f64> = (0..200).map(|i| (rng.below(3) + if i >= 90 { 6 } else { 0 }) as f64).collect();
    let mut server = ultra_server();
    for args in [
        json!({"series": latencies, "penalty": 300.0}),
        json!({"series": latencies, "penalty": 50.0, "threshold": 3.0, "iqr_k": 1.0}),
        json!({"series": counts, "penalty": 4.0, "min_size": 3, "jump": 2}),
        json!({"series": counts, "penalty": 1.0}),
    ] {
        let ours = ok(&mut server, "ide_agents_ultra_anomalies", args.clone());
        let mut query = args.clone();
        query["tool"] = json!("anomalies");
        let theirs = python_reference(REFERENCE, &query);
        assert_eq!(ours["change_points"], theirs["change_points"], "PELT change points, {}", args["penalty"]);
        assert_eq!(
            ours["change_points"].as_array().unwrap().last(),
            Some(&json!(args["series"].as_array().unwrap().len()))
        );
        close(&ours["robust_z"]["scores"], &theirs["z"], 1e-9, "robust z-scores");
        close(&ours["iqr"]["scores"], &theirs["iqr_scores"], 1e-9, "IQR excess");
        close(
            &json!([ours["robust_z"]["median"], ours["robust_z"]["mad"], ours["iqr"]["q1"], ours["iqr"]["q3"]]),
            &json!([theirs["median"], theirs["mad"], theirs["q1"], theirs["q3"]]),
            1e-9,
            "median, MAD, Q1, Q3",
        );
        assert_eq!(ours["robust_z"]["flagged"], theirs["z_flagged"]);
        assert_eq!(ours["iqr"]["flagged"], theirs["iqr_flagged"]);
    }
    // The default penalty is reported, and ruptures finds the same points with it.
    let ours = ok(&mut server, "ide_agents_ultra_anomalies", json!({"series": latencies}));
    let penalty = ours["pelt"]["penalty"].clone();
    let theirs = python_reference(REFERENCE, &json!({"tool": "anomalies", "series": latencies, "penalty": penalty}));
    assert_eq!(ours["change_points"], theirs["change_points"]);
    let cps = ours["change_points"].as_array().unwrap();
    assert!(cps.iter().any(|c| (118..=122).contains(&c.as_u64().unwrap())), "the shift at 120: {cps:?}");
}

#[test]
fn forecasts_match_statsmodels() {
    let mut rng = Lcg(11);
    let series: Vec<f64> =
        (0..60).map(|i| round3(40.0 + 0.8 * f64::from(i) + 3.0 * (f64::from(i) / 4.0).sin() + rng.normal())).collect();
    let mut server = ultra_server();
    let args = json!({"series": series, "horizon": 12, "alpha": 0.3, "beta": 0.1});
    let ours = ok(&mut server, "ide_agents_ultra_forecast", args.clone());
    let mut query = args;
    query["tool"] = json!("forecast");
    let theirs = python_reference(REFERENCE, &query);
    close(&ours["holt"]["fitted"], &theirs["holt_fitted"], 1e-9, "Holt fitted values");
    close(&ours["holt"]["forecast"], &theirs["holt_forecast"], 1e-9, "Holt forecast");
    close(&json!([ours["holt"]["sse"]]), &json!([theirs["holt_sse"]]), 1e-9, "Holt SSE");
    close(&ours["linear"]["forecast"], &theirs["linear_forecast"], 1e-9, "linear forecast");
    close(&ours["linear"]["lower"], &theirs["linear_lower"], 1e-6, "linear interval, lower");
    close(&ours["linear"]["upper"], &theirs["linear_upper"], 1e-6, "linear interval, upper");

    // Fitted parameters: our SSE within 1% of statsmodels' fit (lower is fine).
    for args in [json!({"series": series, "horizon": 5}), json!({"series": series, "horizon": 5, "alpha": 0.5})] {
        let ours = ok(&mut server, "ide_agents_ultra_forecast", args.clone());
        let mut query = args;
        query["tool"] = json!("forecast");
        let theirs = python_reference(REFERENCE, &query);
        let (sse, reference) = (ours["holt"]["sse"].as_f64().unwrap(), theirs["holt_fit_sse"].as_f64().unwrap());
        eprintln!("Holt fitted SSE: ours {sse}, statsmodels {reference}");
        assert!(sse <= reference * 1.01, "ours {sse}, statsmodels {reference}");
        assert_eq!(ours["holt"]["alpha_fitted"], query.get("alpha").is_none());
    }
}

/// Log lines of a few shapes, with numbers, IPs, hex values, ids and free words.
fn log_lines(rng: &mut Lcg, n: usize) -> Vec<String> {
    let words = ["cache", "worker", "job", "retry", "disk", "net", "user", "failed", "done", "alpha"];
    (0..n)
        .map(|_| {
            let w = |rng: &mut Lcg| words[rng.below(words.len())];
            let num = |rng: &mut Lcg| rng.below(100_000).to_string();
            match rng.below(8) {
                0 => format!("connection from 10.0.{}.{}:{} accepted", rng.below(256), rng.below(256), num(rng)),
                1 => format!("worker {} finished job {} in {}ms", num(rng), w(rng), num(rng)),
                2 => format!("ptr=0x{:x} size={} flags={},{}", rng.below(1 << 30), num(rng), w(rng), w(rng)),
                3 => format!(
                    "device {:02x}:{:02x}:{:02x}:{:02x} state {}",
                    rng.below(256),
                    rng.below(256),
                    rng.below(256),
                    rng.below(256),
                    w(rng)
                ),
                4 => (0..rng.below(6)).map(|_| w(rng)).collect::<Vec<_>>().join(" "),
                5 => format!("GET /api/{}/{} {} {}", w(rng), num(rng), ["200", "404", "500"][rng.below(3)], num(rng)),
                6 => format!("error: {} {} at v{}.{} line {}", w(rng), w(rng), rng.below(9), rng.below(9), num(rng)),
                _ => format!("{} {} {} {}", w(rng), w(rng), w(rng), w(rng)),
            }
        })
        .collect()
}

/// Our templates as sorted (template, count) pairs and each line's template, for comparison with
/// the reference's.
fn templates_of(ours: &Value) -> (Value, Value) {
    let templates = ours["templates"].as_array().unwrap();
    let mut pairs: Vec<(String, u64)> =
        templates.iter().map(|t| (t["template"].as_str().unwrap().to_owned(), t["count"].as_u64().unwrap())).collect();
    pairs.sort();
    let per_line: Vec<Value> = ours["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| templates[i.as_u64().unwrap() as usize]["template"].clone())
        .collect();
    (json!(pairs), json!(per_line))
}

fn drain3(ours: &Value, lines: &[String], options: &Value) -> Value {
    let mut query = options.clone();
    query["tool"] = json!("log_patterns");
    query["lines"] = json!(lines);
    query["masking"] = ours["masking"].clone();
    python_reference(REFERENCE, &query)
}

#[test]
fn log_templates_match_drain3() {
    let mut rng = Lcg(3);
    let lines = log_lines(&mut rng, 3000);
    let mut server = ultra_server();
    for options in [
        json!({}),
        json!({"depth": 5, "similarity_threshold": 0.6, "max_children": 4}),
        json!({"extra_delimiters": ["=", ","]}),
    ] {
        let mut args = options.clone();
        args["lines"] = json!(lines);
        let ours = ok(&mut server, "ide_agents_ultra_log_patterns", args);
        let theirs = drain3(&ours, &lines, &options);
        let (pairs, per_line) = templates_of(&ours);
        assert_eq!(pairs, theirs["templates"], "templates and counts, {options}");
        assert_eq!(per_line, theirs["line_templates"], "each line's template, {options}");
        assert!(
            ours["masking"].as_array().unwrap().len() == 4
                && ours["templates"][0]["examples"].as_array().unwrap().len() == 3
        );
    }
    // Without masking, the same comparison with no instructions.
    let ours = ok(&mut server, "ide_agents_ultra_log_patterns", json!({"lines": lines, "mask": false}));
    assert_eq!(ours["masking"], json!([]));
    let (pairs, _) = templates_of(&ours);
    assert_eq!(pairs, drain3(&ours, &lines, &json!({}))["templates"]);
}

#[test]
fn log_templates_from_a_file_under_the_logs_root() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let lines = log_lines(&mut Lcg(5), 500);
    std::fs::write(logs.join("app.log"), lines.join("\n") + "\n").unwrap();
    std::fs::write(dir.path().join("outside.log"), "secret 1\n").unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, format!("[roots]\nlogs = {logs:?}\n")).unwrap();
    let mut server =
        Launch::with_tools(&[]).args(["--ultra".as_ref(), "--config".as_ref(), config.as_os_str()]).spawn();
    server.initialize();
    let ours = ok(&mut server, "ide_agents_ultra_log_patterns", json!({"path": "app.log"}));
    assert_eq!(ours["lines"], 500);
    let theirs = drain3(&ours, &lines, &json!({}));
    let (pairs, per_line) = templates_of(&ours);
    assert_eq!(pairs, theirs["templates"]);
    assert_eq!(per_line, theirs["line_templates"]);
    refused(&mut server, "ide_agents_ultra_log_patterns", json!({"path": "../outside.log"}), "/path");
    refused(&mut server, "ide_agents_ultra_log_patterns", json!({"path": "missing.log"}), "/path");
    refused(&mut server, "ide_agents_ultra_log_patterns", json!({"path": "app.log", "lines": ["x"]}), "/path");
}

#[test]
fn bad_input_is_refused_naming_the_argument() {
    let mut server = ultra_server();
    let anomalies = "ide_agents_ultra_anomalies";
    refused(&mut server, anomalies, json!({"series": []}), "/series");
    refused(&mut server, anomalies, json!({"series": [1, 2, 3], "penalty": -1}), "/penalty");
    refused(&mut server, anomalies, json!({"series": [1, 2], "min_size": 3}), "/series");
    refused(&mut server, anomalies, json!({"series": [1e200, 1]}), "/series");
    let forecast = "ide_agents_ultra_forecast";
    refused(&mut server, forecast, json!({"series": [], "horizon": 3}), "/series");
    refused(&mut server, forecast, json!({"series": [5], "horizon": 3}), "/series");
    refused(&mut server, forecast, json!({"series": [1, 2, 3], "horizon": 0}), "/horizon");
    refused(&mut server, forecast, json!({"series": [1, 2, 3], "horizon": 2, "alpha": 1.5}), "/alpha");
    refused(&mut server, forecast, json!({"series": [1, 2, 3], "horizon": 2, "beta": -0.1}), "/beta");
    let logs = "ide_agents_ultra_log_patterns";
    refused(&mut server, logs, json!({"lines": []}), "/lines");
    refused(&mut server, logs, json!({}), "/lines");
    refused(&mut server, logs, json!({"lines": ["a"], "depth": 2}), "/depth");
    // No `logs` root is granted to this server: a path cannot be read.
    refused(&mut server, logs, json!({"path": "app.log"}), "/path");
}
