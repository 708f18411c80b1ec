//! `ide_agents_ultra_calibrate`: Platt scaling and isotonic regression fitted on score/label
//! pairs, as scikit-learn defines them (checked against scikit-learn by the test suite):
//!
//! - Platt: `p = 1 / (1 + exp(a * s + b))`, fitted by Newton's method with backtracking on the
//!   cross-entropy against Platt's smoothed targets `(N+ + 1) / (N+ + 2)` and `1 / (N- + 2)`
//!   (scikit-learn's `_sigmoid_calibration`, which uses L-BFGS-B to the same optimum);
//! - isotonic: equal scores merged (label mean, weight = count), weighted pool-adjacent-violators,
//!   predictions linearly interpolated between fitted points and clipped at the ends
//!   (`IsotonicRegression(out_of_bounds="clip")`).
//!
//! Metrics: Brier score (mean squared error of the probability) and expected calibration error
//! over equal-width bins, before (the raw scores, clipped to [0, 1]) and after each method, on the
//! fitting data.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::exports::ide_agents::tool::tools::{ToolDescriptor, ToolError};

pub const NAME: &str = "ide_agents_ultra_calibrate";
/// Newton iterations for Platt scaling (it converges in well under 50).
const PLATT_MAX_ITERATIONS: usize = 200;
/// Stop when the gradient's largest component is below this.
const PLATT_TOLERANCE: f64 = 1e-12;

#[derive(Deserialize)]
struct Args {
    scores: Vec<f64>,
    labels: Vec<Label>,
    apply_to: Option<Vec<f64>>,
    bins: Option<usize>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Label {
    Bool(bool),
    Int(u8),
}

pub fn descriptor() -> ToolDescriptor {
    let metrics = json!({"type": "object", "properties": {"brier": {"type": "number"}, "ece": {"type": "number"}},
                         "required": ["brier", "ece"]});
    let numbers = json!({"type": "array", "items": {"type": "number"}});
    ToolDescriptor {
        name: NAME.into(),
        title: Some("Calibrate scores".into()),
        description: "Fits Platt scaling and isotonic regression that turn scores into calibrated probabilities, \
                      from score/label pairs; applies both to `apply_to` scores; reports Brier score and expected \
                      calibration error before and after each method."
            .into(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "scores": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 1000000,
                           "description": "Model scores (any real numbers; probabilities for the 'before' metrics)."},
                "labels": {"type": "array", "items": {"anyOf": [{"type": "integer", "enum": [0, 1]}, {"type": "boolean"}]},
                           "minItems": 2, "maxItems": 1000000,
                           "description": "The true outcome of each score: 1/true or 0/false."},
                "apply_to": {"type": "array", "items": {"type": "number"}, "maxItems": 1000000,
                             "description": "New scores to calibrate with the fitted models."},
                "bins": {"type": "integer", "minimum": 2, "maximum": 1000,
                         "description": "Equal-width bins for the calibration error (default 10)."}
            },
            "required": ["scores", "labels"],
            "additionalProperties": false
        })
        .to_string(),
        output_schema: Some(
            json!({
                "type": "object",
                "properties": {
                    "n": {"type": "integer"}, "positives": {"type": "integer"},
                    "platt": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"},
                              "iterations": {"type": "integer"}}, "required": ["a", "b"]},
                    "isotonic": {"type": "object", "properties": {"x": numbers, "y": numbers}, "required": ["x", "y"]},
                    "metrics": {"type": "object", "properties": {"before": metrics, "platt": metrics, "isotonic": metrics},
                                "required": ["before", "platt", "isotonic"]},
                    "calibrated": {"type": "object", "properties": {"scores": numbers, "platt": numbers, "isotonic": numbers}}
                },
                "required": ["n", "positives", "platt", "isotonic", "metrics"]
            })
            .to_string(),
        ),
        annotations: crate::pure(),
    }
}

pub fn run(arguments: &str) -> crate::Answer {
    let args: Args = crate::parse(arguments)?;
    if args.scores.len() != args.labels.len() {
        return Err(ToolError::InvalidArguments(format!(
            "/labels: {} labels for {} scores; they must pair up",
            args.labels.len(),
            args.scores.len()
        )));
    }
    let y: Vec<f64> =
        args.labels.iter().map(|l| if matches!(l, Label::Bool(true) | Label::Int(1)) { 1.0 } else { 0.0 }).collect();
    let positives = y.iter().filter(|v| **v > 0.0).count();
    if positives == 0 || positives == y.len() {
        return Err(ToolError::InvalidArguments("/labels: need at least one 0 and one 1 to calibrate".into()));
    }
    let s = &args.scores;
    let bins = args.bins.unwrap_or(10);
    let platt = Platt::fit(s, &y);
    let iso = Isotonic::fit(s, &y);
    let raw: Vec<f64> = s.iter().map(|v| v.clamp(0.0, 1.0)).collect();
    let p_platt: Vec<f64> = s.iter().map(|&v| platt.predict(v)).collect();
    let p_iso: Vec<f64> = s.iter().map(|&v| iso.predict(v)).collect();
    let metrics = |p: &[f64]| json!({"brier": brier(p, &y), "ece": ece(p, &y, bins)});
    let (before, after_platt, after_iso) = (metrics(&raw), metrics(&p_platt), metrics(&p_iso));
    let mut out = json!({
        "n": s.len(), "positives": positives,
        "platt": {"a": platt.a, "b": platt.b, "iterations": platt.iterations},
        "isotonic": {"x": iso.x, "y": iso.y},
        "metrics": {"before": before, "platt": after_platt, "isotonic": after_iso},
    });
    if let Some(new) = &args.apply_to {
        let platt_new: Vec<f64> = new.iter().map(|&v| platt.predict(v)).collect();
        let iso_new: Vec<f64> = new.iter().map(|&v| iso.predict(v)).collect();
        out["calibrated"] = json!({"scores": new, "platt": platt_new, "isotonic": iso_new});
    }
    let m = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let text = format!(
        "{} pairs ({} positive). Platt: a = {:.6}, b = {:.6}. Isotonic: {} steps.\n\
         Brier: before {:.4}, Platt {:.4}, isotonic {:.4}. ECE ({bins} bins): before {:.4}, Platt {:.4}, isotonic {:.4}.",
        s.len(),
        positives,
        platt.a,
        platt.b,
        iso.x.len(),
        m(&before, "brier"),
        m(&after_platt, "brier"),
        m(&after_iso, "brier"),
        m(&before, "ece"),
        m(&after_platt, "ece"),
        m(&after_iso, "ece"),
    );
    Ok((out, text))
}

/// `p = 1 / (1 + exp(a * s + b))`.
struct Platt {
    a: f64,
    b: f64,
    iterations: usize,
}

/// `ln(1 + e^z)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 0.0 { z + (-z).exp().ln_1p() } else { z.exp().ln_1p() }
}

impl Platt {
    fn fit(s: &[f64], y: &[f64]) -> Self {
        let positives = y.iter().filter(|v| **v > 0.0).count() as f64;
        let negatives = y.len() as f64 - positives;
        let high = (positives + 1.0) / (positives + 2.0);
        let low = 1.0 / (negatives + 2.0);
        let t: Vec<f64> = y.iter().map(|v| if *v > 0.0 { high } else { low }).collect();
        // Cross-entropy of targets t against p = 1/(1+e^z), z = a*s + b:
        // -t ln p - (1-t) ln(1-p) = t * softplus(z) + (1-t) * softplus(-z).
        let loss = |a: f64, b: f64| -> f64 {
            s.iter()
                .zip(&t)
                .map(|(&si, &ti)| {
                    let z = a * si + b;
                    ti * softplus(z) + (1.0 - ti) * softplus(-z)
                })
                .sum()
        };
        let (mut a, mut b) = (0.0, ((negatives + 1.0) / (positives + 1.0)).ln());
        let mut current = loss(a, b);
        let mut iterations = 0;
        for _ in 0..PLATT_MAX_ITERATIONS {
            iterations += 1;
            let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for (&si, &ti) in s.iter().zip(&t) {
                let p = 1.0 / (1.0 + (a * si + b).exp());
                let d = ti - p; // dL/dz
                ga += d * si;
                gb += d;
                let w = p * (1.0 - p);
                haa += w * si * si;
                hab += w * si;
                hbb += w;
            }
            if ga.abs().max(gb.abs()) < PLATT_TOLERANCE {
                break;
            }
            // Newton direction, with a tiny ridge so a flat direction cannot divide by zero.
            let (haa, hbb) = (haa + 1e-12, hbb + 1e-12);
            let det = haa * hbb - hab * hab;
            let (da, db) = (-(hbb * ga - hab * gb) / det, -(haa * gb - hab * ga) / det);
            let mut step = 1.0;
            let mut improved = false;
            while step > 1e-10 {
                let (na, nb) = (a + step * da, b + step * db);
                let next = loss(na, nb);
                if next <= current {
                    (a, b, current) = (na, nb, next);
                    improved = true;
                    break;
                }
                step /= 2.0;
            }
            if !improved {
                break;
            }
        }
        Self { a, b, iterations }
    }

    fn predict(&self, s: f64) -> f64 {
        1.0 / (1.0 + (self.a * s + self.b).exp())
    }
}

/// A non-decreasing step-and-ramp function through fitted points `(x, y)`.
struct Isotonic {
    x: Vec<f64>,
    y: Vec<f64>,
}

impl Isotonic {
    fn fit(s: &[f64], labels: &[f64]) -> Self {
        let mut order: Vec<usize> = (0..s.len()).collect();
        order.sort_by(|&i, &j| s[i].total_cmp(&s[j]).then(labels[i].total_cmp(&labels[j])));
        // Merge equal scores: the mean label, weighted by how many there are.
        let (mut x, mut y, mut w): (Vec<f64>, Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new(), Vec::new());
        for &i in &order {
            if x.last() == Some(&s[i]) {
                let k = y.len() - 1;
                y[k] = (y[k] * w[k] + labels[i]) / (w[k] + 1.0);
                w[k] += 1.0;
            } else {
                x.push(s[i]);
                y.push(labels[i]);
                w.push(1.0);
            }
        }
        // Pool adjacent violators: blocks of (mean, weight, length).
        let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(y.len());
        for (&yi, &wi) in y.iter().zip(&w) {
            blocks.push((yi, wi, 1));
            while blocks.len() > 1 && blocks[blocks.len() - 2].0 > blocks[blocks.len() - 1].0 {
                let (m2, w2, n2) = blocks.pop().unwrap_or_default();
                let last = blocks.len() - 1;
                let (m1, w1, n1) = blocks[last];
                blocks[last] = ((m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2);
            }
        }
        let fitted: Vec<f64> = blocks.iter().flat_map(|&(m, _, n)| std::iter::repeat_n(m, n)).collect();
        Self { x, y: fitted }
    }

    /// Linear interpolation between fitted points, clipped to the first and last.
    fn predict(&self, s: f64) -> f64 {
        let (x, y) = (&self.x, &self.y);
        if s <= x[0] {
            return y[0];
        }
        if s >= x[x.len() - 1] {
            return y[y.len() - 1];
        }
        let i = x.partition_point(|&v| v <= s); // x[i-1] <= s < x[i]
        let (x0, x1, y0, y1) = (x[i - 1], x[i], y[i - 1], y[i]);
        y0 + (y1 - y0) * (s - x0) / (x1 - x0)
    }
}

fn brier(p: &[f64], y: &[f64]) -> f64 {
    p.iter().zip(y).map(|(pi, yi)| (pi - yi).powi(2)).sum::<f64>() / p.len() as f64
}

/// Expected calibration error over `bins` equal-width bins of [0, 1].
fn ece(p: &[f64], y: &[f64], bins: usize) -> f64 {
    let mut count = vec![0usize; bins];
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    for (&pi, &yi) in p.iter().zip(y) {
        let b = ((pi * bins as f64).floor() as usize).min(bins - 1);
        count[b] += 1;
        sum_p[b] += pi;
        sum_y[b] += yi;
    }
    let n = p.len() as f64;
    (0..bins).filter(|&b| count[b] > 0).map(|b| (sum_p[b] - sum_y[b]).abs() / n).sum()
}
