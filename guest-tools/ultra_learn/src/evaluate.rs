//! `ide_agents_ultra_evaluate`: metrics of predictions against true labels, and of rankings
//! against graded relevance, defined as scikit-learn defines them (checked against
//! `sklearn.metrics` by the test suite):
//!
//! - from `predictions`: accuracy; precision, recall and F1 per class and averaged `binary`
//!   (the `pos_label` class only), `macro` (unweighted mean over classes), `micro` (from the
//!   summed counts) and `weighted` (mean weighted by each class's true count); the confusion
//!   matrix (rows true, columns predicted) over the sorted union of the classes. A ratio whose
//!   denominator is 0 is 0 and named in `warnings` (scikit-learn's default `zero_division="warn"`);
//!   F1 is `2 tp / (2 tp + fp + fn)`.
//! - from `scores` (binary: the probability of `pos_label`): ROC AUC (the Mann-Whitney statistic:
//!   a tied positive/negative pair counts one half, which is the trapezoidal area under
//!   scikit-learn's ROC curve), average precision (`sum (R_n - R_{n-1}) P_n` over the distinct
//!   scores, highest first: a step function, no interpolation), log loss (probabilities clipped to
//!   `[eps, 1 - eps]`, eps = 2^-52) and the Brier score.
//! - from `queries`: NDCG@k with linear gains and `1 / log2(rank + 1)` discounts, where items of
//!   equal score share the average gain of their group (`ndcg_score(ignore_ties=False)`), a query
//!   without relevant items scoring 0; MRR and recall@k over the items in score order (ties keep
//!   the input order).

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Largest number of labelled rows.
const MAX_ROWS: usize = 1_000_000;
/// Largest number of queries.
const MAX_QUERIES: usize = 100_000;
/// Largest number of items of one query.
const MAX_ITEMS: usize = 100_000;
/// Smallest probability log loss takes (numpy's float64 machine epsilon, as scikit-learn clips).
const LOG_LOSS_EPS: f64 = f64::EPSILON;

pub struct Evaluate;

impl Tool for Evaluate {
    const NAME: &'static str = "ide_agents_ultra_evaluate";
    const TITLE: Option<&'static str> = Some("Evaluate predictions");
    const DESCRIPTION: &'static str = "Metrics as scikit-learn defines them. Classification (`labels` with \
                                       `predictions` and/or binary `scores`): accuracy, precision/recall/F1 \
                                       (binary, macro, micro, weighted, per class), confusion matrix, ROC AUC, \
                                       average precision, log loss, Brier score. Ranking (`queries`): NDCG@k \
                                       (ties averaged), MRR, recall@k.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Evaluation;

    fn call(args: Args) -> Result<Reply<Evaluation>, Error> {
        let evaluation = evaluate(&args)?;
        let text = evaluation.text();
        Ok(Reply::new(evaluation).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// True labels (all integers or all strings), one per row.
    #[schemars(length(min = 1, max = MAX_ROWS))]
    labels: Option<Vec<Label>>,
    /// Predicted labels, one per row of `labels`.
    #[schemars(length(min = 1, max = MAX_ROWS))]
    predictions: Option<Vec<Label>>,
    /// Binary classification only (exactly two classes in `labels`): the predicted probability
    /// of `pos_label` for each row, in [0, 1].
    #[schemars(length(min = 1, max = MAX_ROWS))]
    scores: Option<Vec<f64>>,
    /// The positive class of the `binary` average and of `scores`; default the greater of the
    /// two classes (1 for 0/1 labels). Must be one of the classes.
    pos_label: Option<Label>,
    /// Ranking: one object per query, each item's graded relevance and optionally its score.
    #[schemars(length(min = 1, max = MAX_QUERIES))]
    queries: Option<Vec<Query>>,
    /// Cut-off of NDCG@k and recall@k (default: every item of the query).
    #[schemars(range(min = 1))]
    k: Option<usize>,
}

/// A class label: an integer or a string.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Label {
    Int(i64),
    Text(String),
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Text(s) => write!(f, "{s:?}"),
        }
    }
}

/// One query's items: in ranked order (best first) when `scores` is absent, else ranked by
/// `scores`, highest first.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Query {
    /// Graded relevance of each item (>= 0; > 0 counts as relevant for MRR and recall@k).
    #[schemars(length(min = 1, max = MAX_ITEMS))]
    relevance: Vec<f64>,
    /// The ranker's score of each item (equal scores are ties).
    #[schemars(length(min = 1, max = MAX_ITEMS))]
    scores: Option<Vec<f64>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Evaluation {
    /// Metrics of `predictions` (absent without them).
    #[serde(skip_serializing_if = "Option::is_none")]
    classification: Option<Classification>,
    /// Metrics of `scores` (absent without them).
    #[serde(skip_serializing_if = "Option::is_none")]
    probabilistic: Option<Probabilistic>,
    /// Metrics of `queries` (absent without them).
    #[serde(skip_serializing_if = "Option::is_none")]
    ranking: Option<Ranking>,
    /// Ratios with a zero denominator, reported as 0 (scikit-learn's `zero_division="warn"`).
    warnings: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Classification {
    n: usize,
    accuracy: f64,
    /// The sorted union of true and predicted classes: the order of `per_class` and of the
    /// confusion matrix's rows and columns.
    classes: Vec<Label>,
    /// The `pos_label` class's scores; only when there are exactly two classes.
    #[serde(skip_serializing_if = "Option::is_none")]
    binary: Option<Averaged>,
    macro_avg: Averaged,
    micro_avg: Averaged,
    weighted_avg: Averaged,
    per_class: Vec<PerClass>,
    /// `confusion_matrix[i][j]`: rows whose true class is `classes[i]`, predicted `classes[j]`.
    confusion_matrix: Vec<Vec<u64>>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Averaged {
    precision: f64,
    recall: f64,
    f1: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct PerClass {
    label: Label,
    precision: f64,
    recall: f64,
    f1: f64,
    /// Rows whose true class this is.
    support: u64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Probabilistic {
    n: usize,
    /// The class `scores` give the probability of.
    pos_label: Label,
    roc_auc: f64,
    average_precision: f64,
    log_loss: f64,
    brier: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Ranking {
    queries: usize,
    /// The cut-off used (null: every item).
    k: Option<usize>,
    /// Mean NDCG@k over the queries.
    ndcg: f64,
    /// Mean reciprocal rank of the first relevant item (0 for a query with none).
    mrr: f64,
    /// Mean share of each query's relevant items within the first k (0 for a query with none).
    recall_at_k: f64,
    per_query: Vec<QueryMetrics>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct QueryMetrics {
    ndcg: f64,
    reciprocal_rank: f64,
    recall_at_k: f64,
}

fn evaluate(args: &Args) -> Result<Evaluation, Error> {
    let mut warnings = Vec::new();
    if args.labels.is_none() && args.queries.is_none() {
        return Err(Error::invalid("/labels", "give `labels` with `predictions` and/or `scores`, or `queries`"));
    }
    let (mut classification, mut probabilistic) = (None, None);
    if let Some(labels) = &args.labels {
        if args.predictions.is_none() && args.scores.is_none() {
            return Err(Error::invalid("/predictions", "`labels` need `predictions` and/or `scores`"));
        }
        same_kind(labels, "/labels", None)?;
        if let Some(predictions) = &args.predictions {
            if predictions.len() != labels.len() {
                return Err(Error::invalid(
                    "/predictions",
                    format!("{} predictions for {} labels; they must pair up", predictions.len(), labels.len()),
                ));
            }
            same_kind(predictions, "/predictions", Some(&labels[0]))?;
            classification = Some(classify(labels, predictions, args.pos_label.as_ref(), &mut warnings)?);
        }
        if let Some(scores) = &args.scores {
            probabilistic = Some(probabilities(labels, scores, args.pos_label.as_ref())?);
        }
    } else if args.predictions.is_some() || args.scores.is_some() {
        return Err(Error::invalid("/labels", "`predictions` and `scores` need the true `labels`"));
    }
    let ranking = args.queries.as_ref().map(|q| rank(q, args.k)).transpose()?;
    Ok(Evaluation { classification, probabilistic, ranking, warnings })
}

/// All labels integers, or all strings (and of the same kind as `like`).
fn same_kind(labels: &[Label], pointer: &str, like: Option<&Label>) -> Result<(), Error> {
    let first = like.unwrap_or(&labels[0]);
    match labels.iter().position(|l| std::mem::discriminant(l) != std::mem::discriminant(first)) {
        Some(i) => Err(Error::invalid(
            &format!("{pointer}/{i}"),
            "labels must be all integers or all strings, in `labels` and `predictions` alike",
        )),
        None => Ok(()),
    }
}

/// `num / den`, or 0 with a warning when `den` is 0.
fn ratio(num: f64, den: f64, what: &str, warnings: &mut Vec<String>) -> f64 {
    if den == 0.0 {
        warnings.push(format!("{what} is ill-defined (no rows to divide by): reported as 0"));
        0.0
    } else {
        num / den
    }
}

/// Precision, recall, F1 of counts.
fn scores_of(tp: f64, fp: f64, fn_: f64, what: &str, warnings: &mut Vec<String>) -> Averaged {
    Averaged {
        precision: ratio(tp, tp + fp, &format!("precision of {what}"), warnings),
        recall: ratio(tp, tp + fn_, &format!("recall of {what}"), warnings),
        f1: ratio(2.0 * tp, 2.0 * tp + fp + fn_, &format!("F1 of {what}"), warnings),
    }
}

fn classify(
    labels: &[Label],
    predictions: &[Label],
    pos_label: Option<&Label>,
    warnings: &mut Vec<String>,
) -> Result<Classification, Error> {
    let mut classes: Vec<Label> = labels.iter().chain(predictions).cloned().collect();
    classes.sort();
    classes.dedup();
    let c = classes.len();
    let index = |l: &Label| classes.binary_search(l).unwrap_or_default();
    let mut matrix = vec![vec![0u64; c]; c];
    for (t, p) in labels.iter().zip(predictions) {
        matrix[index(t)][index(p)] += 1;
    }
    let n = labels.len();
    let correct: u64 = (0..c).map(|i| matrix[i][i]).sum();
    let mut per_class = Vec::with_capacity(c);
    let (mut sum_tp, mut sum_fp, mut sum_fn) = (0.0, 0.0, 0.0);
    for (i, label) in classes.iter().enumerate() {
        let tp = matrix[i][i] as f64;
        let support: u64 = matrix[i].iter().sum();
        let predicted: u64 = matrix.iter().map(|row| row[i]).sum();
        let (fp, fn_) = (predicted as f64 - tp, support as f64 - tp);
        (sum_tp, sum_fp, sum_fn) = (sum_tp + tp, sum_fp + fp, sum_fn + fn_);
        let s = scores_of(tp, fp, fn_, &format!("class {label}"), warnings);
        per_class.push(PerClass { label: label.clone(), precision: s.precision, recall: s.recall, f1: s.f1, support });
    }
    let mean = |f: fn(&PerClass) -> f64, w: fn(&PerClass) -> f64| {
        let total: f64 = per_class.iter().map(w).sum();
        per_class.iter().map(|p| f(p) * w(p)).sum::<f64>() / total
    };
    let macro_avg = Averaged {
        precision: mean(|p| p.precision, |_| 1.0),
        recall: mean(|p| p.recall, |_| 1.0),
        f1: mean(|p| p.f1, |_| 1.0),
    };
    let weighted_avg = Averaged {
        precision: mean(|p| p.precision, |p| p.support as f64),
        recall: mean(|p| p.recall, |p| p.support as f64),
        f1: mean(|p| p.f1, |p| p.support as f64),
    };
    let micro_avg = scores_of(sum_tp, sum_fp, sum_fn, "the micro average", warnings);
    let binary = if c == 2 {
        let pos = positive(&classes, pos_label)?;
        let p = &per_class[pos];
        Some(Averaged { precision: p.precision, recall: p.recall, f1: p.f1 })
    } else {
        None
    };
    Ok(Classification {
        n,
        accuracy: correct as f64 / n as f64,
        classes,
        binary,
        macro_avg,
        micro_avg,
        weighted_avg,
        per_class,
        confusion_matrix: matrix,
    })
}

/// The index of the positive class among two sorted classes: `pos_label`'s, default the greater.
fn positive(classes: &[Label], pos_label: Option<&Label>) -> Result<usize, Error> {
    match pos_label {
        None => Ok(1),
        Some(p) => classes.iter().position(|c| c == p).ok_or_else(|| {
            Error::invalid("/pos_label", format!("{p} is not one of the classes {} and {}", classes[0], classes[1]))
        }),
    }
}

fn probabilities(labels: &[Label], scores: &[f64], pos_label: Option<&Label>) -> Result<Probabilistic, Error> {
    if scores.len() != labels.len() {
        return Err(Error::invalid(
            "/scores",
            format!("{} scores for {} labels; they must pair up", scores.len(), labels.len()),
        ));
    }
    if let Some(i) = scores.iter().position(|s| !(0.0..=1.0).contains(s)) {
        return Err(Error::invalid(&format!("/scores/{i}"), format!("{} is not a probability in [0, 1]", scores[i])));
    }
    let mut classes: Vec<Label> = labels.to_vec();
    classes.sort();
    classes.dedup();
    if classes.len() != 2 {
        return Err(Error::invalid(
            "/labels",
            format!("`scores` need exactly two classes in `labels` (binary), found {}", classes.len()),
        ));
    }
    let pos = classes[positive(&classes, pos_label)?].clone();
    let y: Vec<bool> = labels.iter().map(|l| *l == pos).collect();
    let n = y.len() as f64;
    let log_loss = y
        .iter()
        .zip(scores)
        .map(|(&yi, &s)| {
            let p = s.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
            -if yi { p.ln() } else { (1.0 - p).ln() }
        })
        .sum::<f64>()
        / n;
    let brier = y.iter().zip(scores).map(|(&yi, &s)| (s - f64::from(u8::from(yi))).powi(2)).sum::<f64>() / n;
    let (roc_auc, average_precision) = ranked_metrics(&y, scores);
    Ok(Probabilistic { n: y.len(), pos_label: pos, roc_auc, average_precision, log_loss, brier })
}

/// ROC AUC and average precision, walking the distinct scores from the highest down.
fn ranked_metrics(y: &[bool], scores: &[f64]) -> (f64, f64) {
    let mut order: Vec<usize> = (0..y.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = y.iter().filter(|v| **v).count() as f64;
    let negatives = y.len() as f64 - positives;
    let (mut tp, mut fp, mut area, mut ap) = (0.0, 0.0, 0.0, 0.0);
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        let (mut group_tp, mut group_fp) = (0.0, 0.0);
        while end < order.len() && scores[order[end]] == scores[order[start]] {
            if y[order[end]] {
                group_tp += 1.0
            } else {
                group_fp += 1.0
            }
            end += 1;
        }
        // Pairs won outright (this group's positives over negatives below, counted later as
        // negatives pass) and tied pairs within the group, one half each.
        area += group_fp * (tp + group_tp / 2.0);
        (tp, fp) = (tp + group_tp, fp + group_fp);
        ap += group_tp / positives * (tp / (tp + fp));
        start = end;
    }
    (area / (positives * negatives), ap)
}

fn rank(queries: &[Query], k: Option<usize>) -> Result<Ranking, Error> {
    let mut per_query = Vec::with_capacity(queries.len());
    for (q, query) in queries.iter().enumerate() {
        let rel = &query.relevance;
        if let Some(i) = rel.iter().position(|r| *r < 0.0) {
            return Err(Error::invalid(&format!("/queries/{q}/relevance/{i}"), "relevance must be >= 0"));
        }
        let scores: Vec<f64> = match &query.scores {
            Some(s) if s.len() != rel.len() => {
                return Err(Error::invalid(
                    &format!("/queries/{q}/scores"),
                    format!("{} scores for {} relevance values; they must pair up", s.len(), rel.len()),
                ));
            }
            Some(s) => s.clone(),
            None => (0..rel.len()).map(|i| -(i as f64)).collect(),
        };
        per_query.push(query_metrics(rel, &scores, k));
    }
    let m = per_query.len() as f64;
    let mean = |f: fn(&QueryMetrics) -> f64| per_query.iter().map(f).sum::<f64>() / m;
    Ok(Ranking {
        queries: per_query.len(),
        k,
        ndcg: mean(|q| q.ndcg),
        mrr: mean(|q| q.reciprocal_rank),
        recall_at_k: mean(|q| q.recall_at_k),
        per_query,
    })
}

fn query_metrics(rel: &[f64], scores: &[f64], k: Option<usize>) -> QueryMetrics {
    let n = rel.len();
    let cut = k.unwrap_or(n).min(n);
    let discount: Vec<f64> = (0..n).map(|i| if i < cut { 1.0 / (i as f64 + 2.0).log2() } else { 0.0 }).collect();
    // Items by score, highest first; ties keep the input order (a stable sort).
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    // DCG with tied groups sharing their mean gain over the group's discounts.
    let mut dcg = 0.0;
    let mut start = 0;
    while start < n {
        let mut end = start;
        while end < n && scores[order[end]] == scores[order[start]] {
            end += 1;
        }
        let mean_gain = order[start..end].iter().map(|&i| rel[i]).sum::<f64>() / (end - start) as f64;
        dcg += mean_gain * discount[start..end].iter().sum::<f64>();
        start = end;
    }
    let mut ideal: Vec<f64> = rel.to_vec();
    ideal.sort_by(|a, b| b.total_cmp(a));
    let ideal_dcg: f64 = ideal.iter().zip(&discount).map(|(g, d)| g * d).sum();
    let relevant = rel.iter().filter(|r| **r > 0.0).count();
    let first = order.iter().position(|&i| rel[i] > 0.0);
    let found = order[..cut].iter().filter(|&&i| rel[i] > 0.0).count();
    QueryMetrics {
        ndcg: if ideal_dcg > 0.0 { dcg / ideal_dcg } else { 0.0 },
        reciprocal_rank: first.map_or(0.0, |p| 1.0 / (p as f64 + 1.0)),
        recall_at_k: if relevant > 0 { found as f64 / relevant as f64 } else { 0.0 },
    }
}

impl Evaluation {
    fn text(&self) -> String {
        let mut lines = Vec::new();
        if let Some(c) = &self.classification {
            lines.push(format!(
                "{} rows, {} classes: accuracy {:.4}; macro P/R/F1 {:.4}/{:.4}/{:.4}; weighted F1 {:.4}{}",
                c.n,
                c.classes.len(),
                c.accuracy,
                c.macro_avg.precision,
                c.macro_avg.recall,
                c.macro_avg.f1,
                c.weighted_avg.f1,
                c.binary.as_ref().map_or(String::new(), |b| format!(
                    "; binary P/R/F1 {:.4}/{:.4}/{:.4}",
                    b.precision, b.recall, b.f1
                )),
            ));
        }
        if let Some(p) = &self.probabilistic {
            lines.push(format!(
                "scores for {}: ROC AUC {:.4}, average precision {:.4}, log loss {:.4}, Brier {:.4}",
                p.pos_label, p.roc_auc, p.average_precision, p.log_loss, p.brier
            ));
        }
        if let Some(r) = &self.ranking {
            let k = r.k.map_or("all".to_owned(), |k| k.to_string());
            lines.push(format!(
                "{} queries: NDCG@{k} {:.4}, MRR {:.4}, recall@{k} {:.4}",
                r.queries, r.ndcg, r.mrr, r.recall_at_k
            ));
        }
        if !self.warnings.is_empty() {
            lines.push(format!("{} ratios with a zero denominator reported as 0", self.warnings.len()));
        }
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str) -> Result<Evaluation, Error> {
        evaluate(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn classification_matches_hand_counts() {
        let e =
            run(r#"{"labels": [0, 1, 1, 0, 1], "predictions": [0, 1, 0, 1, 1], "scores": [0.1, 0.8, 0.4, 0.4, 0.9]}"#)
                .unwrap();
        let c = e.classification.unwrap();
        assert_eq!((c.accuracy, c.confusion_matrix.clone()), (0.6, vec![vec![1, 1], vec![1, 2]]));
        let b = c.binary.unwrap();
        assert_eq!((b.precision, b.recall), (2.0 / 3.0, 2.0 / 3.0));
        let p = e.probabilistic.unwrap();
        // Pairs (pos, neg): 0.8 and 0.9 beat both; 0.4 ties 0.4 and beats 0.1: (2 + 2 + 1.5) / 6.
        assert_eq!(p.roc_auc, 5.5 / 6.0);
        // Thresholds 0.9, 0.8, 0.4: recall steps 1/3, 1/3, 1/3 at precisions 1, 1, 3/4.
        assert!((p.average_precision - (1.0 + 1.0 + 0.75) / 3.0).abs() < 1e-15);
    }

    #[test]
    fn zero_division_is_zero_with_a_warning() {
        let e = run(r#"{"labels": ["a", "b", "c"], "predictions": ["a", "a", "a"]}"#).unwrap();
        let c = e.classification.unwrap();
        assert_eq!(c.per_class[1].precision, 0.0);
        assert!(e.warnings.iter().any(|w| w.contains("precision of class \"b\"")), "{:?}", e.warnings);
        assert!(c.binary.is_none());
    }

    #[test]
    fn ndcg_averages_tied_groups() {
        let e = run(r#"{"queries": [{"relevance": [1, 0], "scores": [0.5, 0.5]}], "k": 2}"#).unwrap();
        let r = e.ranking.unwrap();
        let expected = 0.5 * (1.0 + 1.0 / 3f64.log2());
        assert!((r.ndcg - expected).abs() < 1e-15);
        assert_eq!((r.mrr, r.recall_at_k), (1.0, 1.0));
    }

    #[test]
    fn bad_input_names_the_argument() {
        let unpaired = run(r#"{"labels": [0, 1], "predictions": [0]}"#).unwrap_err();
        assert!(matches!(&unpaired, Error::InvalidArguments(m) if m.starts_with("/predictions:")), "{unpaired:?}");
        let range = run(r#"{"labels": [0, 1], "scores": [0.2, 1.5]}"#).unwrap_err();
        assert!(matches!(&range, Error::InvalidArguments(m) if m.starts_with("/scores/1:")), "{range:?}");
        let one = run(r#"{"labels": [1, 1], "scores": [0.2, 0.5]}"#).unwrap_err();
        assert!(matches!(&one, Error::InvalidArguments(m) if m.starts_with("/labels:")), "{one:?}");
        let mixed = run(r#"{"labels": [1, 0], "predictions": [1, "a"]}"#).unwrap_err();
        assert!(matches!(&mixed, Error::InvalidArguments(m) if m.starts_with("/predictions/1:")), "{mixed:?}");
        let pos = run(r#"{"labels": [1, 0], "predictions": [1, 0], "pos_label": 7}"#).unwrap_err();
        assert!(matches!(&pos, Error::InvalidArguments(m) if m.starts_with("/pos_label:")), "{pos:?}");
        assert!(run(r#"{}"#).is_err());
    }
}
