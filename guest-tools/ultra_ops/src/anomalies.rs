//! `ide_agents_ultra_anomalies`: anomalies in a numeric series (build times, latencies), three
//! ways, as numpy and ruptures compute them (checked against them by the test suite):
//!
//! - robust z-score `0.6745 * (x - median) / MAD`, MAD = median of `|x - median|`, flagged when
//!   `|z| > threshold`. When MAD = 0 (over half the points equal) the score falls back to
//!   `(x - median) / (1.253314 * MeanAD)`, MeanAD = mean of `|x - median|` (the usual modified
//!   z-score convention); when that is 0 too (all points equal) every score is 0;
//! - IQR fences: Q1 and Q3 by numpy's default (linear) percentile, fences at
//!   `Q1 - iqr_k * IQR` and `Q3 + iqr_k * IQR`; a point's score is how far it lies outside the
//!   fences (0 inside), in the series' units;
//! - change points by PELT with the L2 cost, exactly as `ruptures.Pelt(model="l2", min_size,
//!   jump).fit(x).predict(pen=penalty)` finds them: the same admissible points, the same pruning,
//!   the same tie-breaking (the first of equal partitions), the same floating-point costs (numpy's
//!   pairwise sums). Costs are first estimated from prefix sums; only where an estimate is too
//!   close to a decision to be sure are they computed exactly, segment by segment.

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Longest series: PELT keeps up to every earlier point admissible on a series without changes,
/// so its work grows with the square of the length.
const MAX_SERIES: usize = 10_000;
/// Default robust z-score threshold (Iglewicz and Hoaglin's 3.5).
const DEFAULT_THRESHOLD: f64 = 3.5;
/// Default IQR fence multiplier (Tukey's 1.5).
const DEFAULT_IQR_K: f64 = 1.5;
/// Default minimum segment length of PELT (ruptures' default).
const DEFAULT_MIN_SIZE: usize = 2;
/// Default PELT subsampling step (1: every point may be a change point).
const DEFAULT_JUMP: usize = 1;
/// The robust z-score's constant: the 0.75 quantile of the standard normal.
const Z_MAD: f64 = 0.6745;
/// The MeanAD fallback's constant: sqrt(pi / 2), MeanAD's ratio to the standard deviation.
const Z_MEAN_AD: f64 = 1.253314;
/// Indices listed in the text summary, per method.
const LISTED: usize = 20;

pub struct Anomalies;

impl Tool for Anomalies {
    const NAME: &'static str = "ide_agents_ultra_anomalies";
    const TITLE: Option<&'static str> = Some("Find anomalies in a series");
    const DESCRIPTION: &'static str = "Finds anomalies in a numeric series (build times, latencies): points with a \
                                       robust z-score (median/MAD) above `threshold`, points outside the IQR fences, \
                                       and change points where the mean shifts (PELT with the L2 cost, as ruptures \
                                       computes it). Returns per-point scores, flagged indices and the segments.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Report;

    fn call(args: Args) -> Result<Reply<Report>, Error> {
        let report = analyse(&args)?;
        let text = report.text();
        Ok(Reply::new(report).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The values, in time order.
    #[schemars(length(min = 1, max = MAX_SERIES))]
    series: Vec<f64>,
    /// Robust z-score above which (in absolute value) a point is flagged (default 3.5).
    #[serde(default = "default_threshold")]
    #[schemars(range(min = 0.0))]
    threshold: f64,
    /// IQR fence multiplier: fences at Q1 - k * IQR and Q3 + k * IQR (default 1.5).
    #[serde(default = "default_iqr_k")]
    #[schemars(range(min = 0.0))]
    iqr_k: f64,
    /// PELT's cost per change point (ruptures' `pen`). Default: the BIC-style `2 * s^2 * ln(n)`,
    /// with s the noise level estimated as 1.4826 * MAD of the first differences / sqrt(2) (the
    /// population standard deviation if that is 0).
    #[schemars(range(min = 0.0))]
    penalty: Option<f64>,
    /// Minimum segment length (default 2, as ruptures).
    #[serde(default = "default_min_size")]
    #[schemars(range(min = 1, max = MAX_SERIES))]
    min_size: usize,
    /// Change points only at multiples of this (default 1: anywhere; ruptures' `jump`).
    #[serde(default = "default_jump")]
    #[schemars(range(min = 1, max = MAX_SERIES))]
    jump: usize,
}

fn default_threshold() -> f64 {
    DEFAULT_THRESHOLD
}

fn default_iqr_k() -> f64 {
    DEFAULT_IQR_K
}

fn default_min_size() -> usize {
    DEFAULT_MIN_SIZE
}

fn default_jump() -> usize {
    DEFAULT_JUMP
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Report {
    /// Points in the series.
    n: usize,
    robust_z: RobustZ,
    iqr: Iqr,
    /// Ends of the segments PELT finds, as ruptures returns them: sorted, exclusive, the last is n.
    change_points: Vec<usize>,
    pelt: Pelt,
}

#[derive(Debug, Serialize, JsonSchema)]
struct RobustZ {
    median: f64,
    /// Median absolute deviation from the median.
    mad: f64,
    /// True when MAD was 0 and the scores use the MeanAD fallback.
    mean_ad_fallback: bool,
    threshold: f64,
    /// The score of each point.
    scores: Vec<f64>,
    /// Indices with |score| > threshold.
    flagged: Vec<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Iqr {
    q1: f64,
    q3: f64,
    iqr: f64,
    k: f64,
    lower_fence: f64,
    upper_fence: f64,
    /// How far each point lies outside the fences (0 inside).
    scores: Vec<f64>,
    /// Indices outside the fences.
    flagged: Vec<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Pelt {
    /// The penalty used (given or default).
    penalty: f64,
    min_size: usize,
    jump: usize,
    /// The segments between change points, with their means.
    segments: Vec<Segment>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Segment {
    /// First index.
    start: usize,
    /// One past the last index.
    end: usize,
    mean: f64,
}

fn analyse(args: &Args) -> Result<Report, Error> {
    let x = &args.series;
    if x.is_empty() {
        return Err(Error::invalid("/series", "is empty"));
    }
    if x.len() < args.min_size {
        return Err(Error::invalid(
            "/series",
            format!("{} points; change points need at least min_size = {}", x.len(), args.min_size),
        ));
    }
    // Sums of squares must stay finite for the scores and costs to mean anything.
    if !x.iter().map(|v| v * v).sum::<f64>().is_finite() {
        return Err(Error::invalid("/series", "values too large (their squares overflow)"));
    }
    let penalty = args.penalty.unwrap_or_else(|| default_penalty(x));
    let change_points = pelt(x, penalty, args.min_size, args.jump);
    let mut start = 0;
    let segments = change_points
        .iter()
        .map(|&end| {
            let segment = Segment { start, end, mean: pairwise(end - start, |i| x[start + i]) / (end - start) as f64 };
            start = end;
            segment
        })
        .collect();
    Ok(Report {
        n: x.len(),
        robust_z: robust_z(x, args.threshold),
        iqr: iqr(x, args.iqr_k),
        change_points,
        pelt: Pelt { penalty, min_size: args.min_size, jump: args.jump, segments },
    })
}

impl Report {
    fn text(&self) -> String {
        let list = |indices: &[usize]| {
            let shown: Vec<String> = indices.iter().take(LISTED).map(usize::to_string).collect();
            let more =
                if indices.len() > LISTED { format!(", ... ({} more)", indices.len() - LISTED) } else { String::new() };
            format!("[{}{more}]", shown.join(", "))
        };
        let z = &self.robust_z;
        let q = &self.iqr;
        let segments: Vec<String> =
            self.pelt.segments.iter().map(|s| format!("{}..{} mean {:.6}", s.start, s.end, s.mean)).collect();
        format!(
            "{} points. Robust z (median {:.6}, MAD {:.6}{}): {} above {}: {}.\n\
             IQR fences [{:.6}, {:.6}]: {} outside: {}.\n\
             Change points (PELT, L2, penalty {:.6}): {:?}; segments: {}.",
            self.n,
            z.median,
            z.mad,
            if z.mean_ad_fallback { ", MeanAD fallback" } else { "" },
            z.flagged.len(),
            z.threshold,
            list(&z.flagged),
            q.lower_fence,
            q.upper_fence,
            q.flagged.len(),
            list(&q.flagged),
            self.pelt.penalty,
            self.change_points,
            segments.join("; "),
        )
    }
}

/// numpy's pairwise summation of `f(0), ..., f(n - 1)` (what `np.sum` does on a contiguous
/// float64 array): 8 accumulators up to 128 values, halving above, a plain loop under 8.
fn pairwise(n: usize, f: impl Fn(usize) -> f64 + Copy) -> f64 {
    fn sum(start: usize, n: usize, f: impl Fn(usize) -> f64 + Copy) -> f64 {
        if n < 8 {
            (start..start + n).fold(0.0, |acc, i| acc + f(i))
        } else if n <= 128 {
            let mut r = [0.0; 8];
            for (j, rj) in r.iter_mut().enumerate() {
                *rj = f(start + j);
            }
            let whole = n - n % 8;
            for i in (8..whole).step_by(8) {
                for (j, rj) in r.iter_mut().enumerate() {
                    *rj += f(start + i + j);
                }
            }
            let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for i in whole..n {
                res += f(start + i);
            }
            res
        } else {
            let half = n / 2;
            let half = half - half % 8;
            sum(start, half, f) + sum(start + half, n - half, f)
        }
    }
    sum(0, n, f)
}

/// The values sorted ascending.
fn sorted(x: &[f64]) -> Vec<f64> {
    let mut s = x.to_vec();
    s.sort_by(f64::total_cmp);
    s
}

/// numpy's `percentile(x, q)` (method "linear") of sorted values, `q` in [0, 1].
fn quantile(s: &[f64], q: f64) -> f64 {
    let virtual_index = (s.len() - 1) as f64 * q;
    let below = virtual_index.floor();
    let gamma = virtual_index - below;
    let i = below as usize;
    let (a, b) = (s[i], s[(i + 1).min(s.len() - 1)]);
    let diff = b - a;
    if gamma >= 0.5 { b - diff * (1.0 - gamma) } else { a + diff * gamma }
}

/// numpy's `median`: the middle value, or the mean of the middle two.
fn median(s: &[f64]) -> f64 {
    let n = s.len();
    if n % 2 == 1 { s[n / 2] } else { (s[n / 2 - 1] + s[n / 2]) / 2.0 }
}

fn robust_z(x: &[f64], threshold: f64) -> RobustZ {
    let med = median(&sorted(x));
    let deviations: Vec<f64> = x.iter().map(|v| (v - med).abs()).collect();
    let mad = median(&sorted(&deviations));
    let mean_ad = pairwise(deviations.len(), |i| deviations[i]) / deviations.len() as f64;
    let scores: Vec<f64> = if mad > 0.0 {
        x.iter().map(|v| Z_MAD * (v - med) / mad).collect()
    } else if mean_ad > 0.0 {
        x.iter().map(|v| (v - med) / (Z_MEAN_AD * mean_ad)).collect()
    } else {
        vec![0.0; x.len()]
    };
    let flagged = (0..x.len()).filter(|&i| scores[i].abs() > threshold).collect();
    RobustZ { median: med, mad, mean_ad_fallback: mad == 0.0, threshold, scores, flagged }
}

fn iqr(x: &[f64], k: f64) -> Iqr {
    let s = sorted(x);
    let (q1, q3) = (quantile(&s, 0.25), quantile(&s, 0.75));
    let iqr = q3 - q1;
    let (lower_fence, upper_fence) = (q1 - k * iqr, q3 + k * iqr);
    let scores: Vec<f64> = x.iter().map(|&v| (lower_fence - v).max(v - upper_fence).max(0.0)).collect();
    let flagged = (0..x.len()).filter(|&i| x[i] < lower_fence || x[i] > upper_fence).collect();
    Iqr { q1, q3, iqr, k, lower_fence, upper_fence, scores, flagged }
}

/// `2 * s^2 * ln(n)`, s = 1.4826 * MAD(first differences) / sqrt(2), or the population standard
/// deviation when that is 0; 0 for a single point.
fn default_penalty(x: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return 0.0;
    }
    let diffs: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let center = median(&sorted(&diffs));
    let mad = median(&sorted(&diffs.iter().map(|d| (d - center).abs()).collect::<Vec<_>>()));
    let mut s = 1.4826 * mad / std::f64::consts::SQRT_2;
    if s == 0.0 {
        let mean = pairwise(n, |i| x[i]) / n as f64;
        s = (pairwise(n, |i| (x[i] - mean) * (x[i] - mean)) / n as f64).sqrt();
    }
    2.0 * s * s * (n as f64).ln()
}

/// ruptures' `CostL2.error(start, end)` to the bit: `signal[start:end].var() * (end - start)`,
/// numpy's two-pass variance with pairwise sums.
fn exact_cost(x: &[f64], start: usize, end: usize) -> f64 {
    let m = end - start;
    let mean = pairwise(m, |i| x[start + i]) / m as f64;
    let var = pairwise(m, |i| {
        let d = x[start + i] - mean;
        d * d
    }) / m as f64;
    var * m as f64
}

/// One candidate last segment `(t, bkp)` of a PELT step: the partition total estimated from prefix
/// sums, and computed exactly where needed.
struct Candidate {
    t: usize,
    /// The best total of `x[..t]`.
    before: f64,
    estimate: f64,
    exact: Option<f64>,
}

impl Candidate {
    /// The total exactly as ruptures computes it: `before + (cost + pen)`.
    fn exact(&mut self, x: &[f64], bkp: usize, penalty: f64) -> f64 {
        *self.exact.get_or_insert_with(|| self.before + (exact_cost(x, self.t, bkp) + penalty))
    }
}

/// ruptures' `Pelt._seg` + `predict`: the sorted segment ends (the last is `x.len()`).
///
/// ruptures keeps, for every reachable end `bkp`, the best partition of `x[..bkp]` and its total
/// `sum(partition.values())`: the best earlier total plus `(cost + pen)`, added in that order. We
/// keep the same totals, computed with the same operations, so every comparison (the first
/// minimum, and pruning by `total <= best + pen`) decides as it does. Each cost is first estimated
/// from prefix sums (within `tolerance` of the exact cost, a generous bound on the rounding of
/// both); a decision the estimate cannot settle uses the exact cost.
fn pelt(x: &[f64], penalty: f64, min_size: usize, jump: usize) -> Vec<usize> {
    let n = x.len();
    let shift = pairwise(n, |i| x[i]) / n as f64;
    let mut s1 = vec![0.0; n + 1];
    let mut s2 = vec![0.0; n + 1];
    let (mut abs_sum, mut max_abs) = (0.0f64, 0.0f64);
    for (i, v) in x.iter().enumerate() {
        let y = v - shift;
        s1[i + 1] = s1[i] + y;
        s2[i + 1] = s2[i] + y * y;
        abs_sum += y.abs();
        max_abs = max_abs.max(y.abs());
    }
    let tolerance = 32.0 * n as f64 * f64::EPSILON * (s2[n] + max_abs * abs_sum);
    let estimate = |t: usize, b: usize| {
        let sum = s1[b] - s1[t];
        ((s2[b] - s2[t]) - sum * sum / (b - t) as f64).max(0.0)
    };
    let margin = |value: f64| tolerance + 8.0 * f64::EPSILON * value.abs();

    // total[t]: the total of the best partition of x[..t], if one exists; from[t]: its last start.
    let mut total: Vec<Option<f64>> = vec![None; n + 1];
    let mut from = vec![0usize; n + 1];
    total[0] = Some(0.0);
    let mut ends: Vec<usize> = (0..n).step_by(jump).filter(|&k| k >= min_size).collect();
    ends.push(n);
    let mut admissible: Vec<usize> = Vec::new();
    for bkp in ends {
        admissible.push((bkp - min_size) / jump * jump);
        let mut candidates: Vec<Candidate> = admissible
            .iter()
            .filter_map(|&t| {
                total[t].map(|before| Candidate {
                    t,
                    before,
                    estimate: before + (estimate(t, bkp) + penalty),
                    exact: None,
                })
            })
            .collect();
        let lowest = candidates.iter().map(|c| c.estimate).fold(f64::INFINITY, f64::min);
        let mut best: Option<(usize, f64)> = None;
        for c in candidates.iter_mut() {
            if c.estimate <= lowest + 2.0 * margin(lowest) {
                let value = c.exact(x, bkp, penalty);
                if best.is_none_or(|(_, b)| value < b) {
                    best = Some((c.t, value));
                }
            }
        }
        let Some((t_best, best_total)) = best else { continue };
        total[bkp] = Some(best_total);
        from[bkp] = t_best;
        // ruptures zips the admissible points with the candidates (which skip points without a
        // partition): the pairing and the truncation to the shorter list are kept as they are.
        let threshold = best_total + penalty;
        let keep: Vec<bool> = candidates
            .iter_mut()
            .map(|c| {
                if let Some(value) = c.exact {
                    value <= threshold
                } else if c.estimate + margin(c.estimate) < threshold {
                    true
                } else if c.estimate - margin(c.estimate) > threshold {
                    false
                } else {
                    c.exact(x, bkp, penalty) <= threshold
                }
            })
            .collect();
        admissible = admissible.iter().zip(keep).filter(|(_, k)| *k).map(|(&t, _)| t).collect();
    }
    let mut change_points = Vec::new();
    let mut end = n;
    while end > 0 {
        change_points.push(end);
        end = from[end];
    }
    change_points.reverse();
    change_points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> Args {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn pairwise_sum_follows_numpys_blocks() {
        // 1e16 + 1 + ... loses every 1 in a left-to-right loop; numpy's blocks keep most (the
        // value is numpy's `np.sum`).
        let v: Vec<f64> = (0..300).map(|i| if i == 0 { 1e16 } else { 1.0 }).collect();
        assert_eq!(pairwise(v.len(), |i| v[i]), 1.000000000000029e16);
        assert_eq!(pairwise(3, |i| [1.0, 2.0, 3.0][i]), 6.0);
    }

    #[test]
    fn percentiles_and_median_as_numpy() {
        let s = sorted(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!((quantile(&s, 0.25), quantile(&s, 0.75), median(&s)), (1.75, 3.25, 2.5));
    }

    #[test]
    fn a_step_is_one_change_point_and_a_spike_is_flagged() {
        let mut series: Vec<f64> = (0..40).map(|i| 10.0 + f64::from(i % 3) * 0.1).collect();
        series.extend((0..40).map(|i| 20.0 + f64::from(i % 3) * 0.1));
        series[10] = 50.0;
        let json = serde_json::json!({"series": series, "penalty": 10.0}).to_string();
        let report = analyse(&args(&json)).unwrap();
        assert_eq!(report.change_points, [10, 12, 40, 80], "as ruptures: the spike is a segment of min_size 2");
        assert!(report.iqr.flagged.contains(&10), "{:?}", report.iqr);
        let report = analyse(&args(r#"{"series": [1, 1, 1, 1, 1, 9]}"#)).unwrap();
        assert!(report.robust_z.mean_ad_fallback && report.robust_z.flagged == [5], "{:?}", report.robust_z);
        assert_eq!(report.change_points.last(), Some(&6));
    }

    #[test]
    fn too_short_for_min_size() {
        let err = analyse(&args(r#"{"series": [1, 2], "min_size": 3}"#)).unwrap_err();
        assert!(format!("{err:?}").contains("/series"), "{err:?}");
    }
}
