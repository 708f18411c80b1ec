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

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Newton iterations for Platt scaling (it converges in well under 50).
const PLATT_MAX_ITERATIONS: usize = 200;
/// Stop when the gradient's largest component is below this.
const PLATT_TOLERANCE: f64 = 1e-12;
/// Default bins of the expected calibration error.
const DEFAULT_BINS: usize = 10;

pub struct Calibrate;

impl Tool for Calibrate {
    const NAME: &'static str = "ide_agents_ultra_calibrate";
    const TITLE: Option<&'static str> = Some("Calibrate scores");
    const DESCRIPTION: &'static str = "Fits Platt scaling and isotonic regression that turn scores into calibrated \
                                       probabilities, from score/label pairs; applies both to `apply_to` scores; \
                                       reports Brier score and expected calibration error before and after each \
                                       method.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Calibration;

    fn call(args: Args) -> Result<Reply<Calibration>, Error> {
        let calibration = calibrate(&args)?;
        let text = calibration.text(args.bins);
        Ok(Reply::new(calibration).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Model scores (any real numbers; probabilities for the 'before' metrics).
    #[schemars(length(min = 2, max = 1_000_000))]
    scores: Vec<f64>,
    /// The true outcome of each score: 1/true or 0/false.
    #[schemars(length(min = 2, max = 1_000_000))]
    labels: Vec<Label>,
    /// New scores to calibrate with the fitted models.
    #[schemars(length(max = 1_000_000))]
    apply_to: Option<Vec<f64>>,
    /// Equal-width bins for the calibration error (default 10).
    #[serde(default = "default_bins")]
    #[schemars(range(min = 2, max = 1000))]
    bins: usize,
}

fn default_bins() -> usize {
    DEFAULT_BINS
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(untagged)]
enum Label {
    Int(#[schemars(range(max = 1))] u8),
    Bool(bool),
}

impl Label {
    fn positive(self) -> bool {
        matches!(self, Self::Bool(true) | Self::Int(1))
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Calibration {
    /// Pairs fitted on.
    n: usize,
    positives: usize,
    platt: Platt,
    isotonic: Isotonic,
    metrics: Metrics,
    /// With `apply_to`: those scores and their calibrated probabilities.
    #[serde(skip_serializing_if = "Option::is_none")]
    calibrated: Option<Calibrated>,
}

/// Brier score and expected calibration error on the fitting data: of the raw scores (clipped to
/// [0, 1]) and of each method's probabilities.
#[derive(Debug, Serialize, JsonSchema)]
struct Metrics {
    before: Scores,
    platt: Scores,
    isotonic: Scores,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Scores {
    brier: f64,
    ece: f64,
}

impl Scores {
    fn of(p: &[f64], y: &[f64], bins: usize) -> Self {
        Self { brier: brier(p, y), ece: ece(p, y, bins) }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
struct Calibrated {
    scores: Vec<f64>,
    platt: Vec<f64>,
    isotonic: Vec<f64>,
}

/// Fits both methods on `args` and applies them.
fn calibrate(args: &Args) -> Result<Calibration, Error> {
    if args.scores.len() != args.labels.len() {
        return Err(Error::invalid(
            "/labels",
            format!("{} labels for {} scores; they must pair up", args.labels.len(), args.scores.len()),
        ));
    }
    let y: Vec<f64> = args.labels.iter().map(|l| if l.positive() { 1.0 } else { 0.0 }).collect();
    let positives = y.iter().filter(|v| **v > 0.0).count();
    if positives == 0 || positives == y.len() {
        return Err(Error::invalid("/labels", "need at least one 0 and one 1 to calibrate"));
    }
    let s = &args.scores;
    let platt = Platt::fit(s, &y);
    let iso = Isotonic::fit(s, &y);
    let raw: Vec<f64> = s.iter().map(|v| v.clamp(0.0, 1.0)).collect();
    let p_platt: Vec<f64> = s.iter().map(|&v| platt.predict(v)).collect();
    let p_iso: Vec<f64> = s.iter().map(|&v| iso.predict(v)).collect();
    let metrics = Metrics {
        before: Scores::of(&raw, &y, args.bins),
        platt: Scores::of(&p_platt, &y, args.bins),
        isotonic: Scores::of(&p_iso, &y, args.bins),
    };
    let calibrated = args.apply_to.as_ref().map(|new| Calibrated {
        platt: new.iter().map(|&v| platt.predict(v)).collect(),
        isotonic: new.iter().map(|&v| iso.predict(v)).collect(),
        scores: new.clone(),
    });
    Ok(Calibration { n: s.len(), positives, platt, isotonic: iso, metrics, calibrated })
}

impl Calibration {
    fn text(&self, bins: usize) -> String {
        let m = &self.metrics;
        format!(
            "{} pairs ({} positive). Platt: a = {:.6}, b = {:.6}. Isotonic: {} steps.\n\
             Brier: before {:.4}, Platt {:.4}, isotonic {:.4}. ECE ({bins} bins): before {:.4}, Platt {:.4}, isotonic {:.4}.",
            self.n,
            self.positives,
            self.platt.a,
            self.platt.b,
            self.isotonic.x.len(),
            m.before.brier,
            m.platt.brier,
            m.isotonic.brier,
            m.before.ece,
            m.platt.ece,
            m.isotonic.ece,
        )
    }
}

/// `p = 1 / (1 + exp(a * s + b))`.
#[derive(Debug, Serialize, JsonSchema)]
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
#[derive(Debug, Serialize, JsonSchema)]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> Args {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn isotonic_pools_violators_and_interpolates() {
        let iso = Isotonic::fit(&[0.1, 0.2, 0.3, 0.4], &[0.0, 1.0, 0.0, 1.0]);
        assert_eq!((iso.x.as_slice(), iso.y.as_slice()), (&[0.1, 0.2, 0.3, 0.4][..], &[0.0, 0.5, 0.5, 1.0][..]));
        assert_eq!((iso.predict(0.0), iso.predict(0.25), iso.predict(9.0)), (0.0, 0.5, 1.0));
    }

    #[test]
    fn labels_must_pair_up_and_hold_both_classes() {
        let unpaired = calibrate(&args(r#"{"scores": [0.1, 0.2, 0.3], "labels": [0, 1]}"#)).unwrap_err();
        assert_eq!(unpaired, Error::InvalidArguments("/labels: 2 labels for 3 scores; they must pair up".into()));
        assert!(calibrate(&args(r#"{"scores": [0.1, 0.2], "labels": [true, true]}"#)).is_err());
        let fitted =
            calibrate(&args(r#"{"scores": [0.1, 0.9, 0.2, 0.8], "labels": [0, true, false, 1], "apply_to": [0.5]}"#))
                .unwrap();
        assert_eq!((fitted.n, fitted.positives, fitted.metrics.isotonic.brier), (4, 2, 0.0));
        assert!(fitted.platt.a < 0.0, "higher scores, higher probabilities: {fitted:?}");
        assert_eq!(fitted.calibrated.unwrap().scores, [0.5]);
    }
}
