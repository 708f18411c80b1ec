//! `ide_agents_ultra_classify`: text classifiers trained on labelled texts, as scikit-learn fits
//! them (checked against scikit-learn by the test suite):
//!
//! - `naive_bayes`: `MultinomialNB(alpha)` on `CountVectorizer()` counts:
//!   `log P(c) + sum_t x_t log((N_ct + alpha) / (N_c + alpha |V|))`, normalised by log-sum-exp;
//! - `logistic`: `LogisticRegression(C)` on `TfidfVectorizer()` features, at the optimum of
//!   `C * sum_i logloss_i + 0.5 * ||W||^2` (intercepts not penalised): for two classes one weight
//!   vector (the probability of the greater class is the sigmoid), for three or more the
//!   multinomial softmax with one vector per class. Minimised by L-BFGS with a backtracking
//!   line search until the gradient's largest component is below [`GRADIENT_TOLERANCE`] (relative
//!   to `C * n`), a step lowers the objective by no more than [`DECREASE_TOLERANCE`] of
//!   `max(|f|, C * n)`, or no step lowers it. These are scikit-learn's stopping rules for
//!   `lbfgs` (`gtol=tol`, `ftol=64 * eps` on its objective, which is ours divided by `C * n`).
//!   Unlike scikit-learn's, our L-BFGS is preconditioned by the diagonal of the objective's
//!   Hessian at the start (see [`Logistic::preconditioner`]) and keeps 20 correction pairs, not
//!   10: the same optimum in under a quarter of the steps (82 against 353 for a fit and two
//!   folds of 10,000 texts).
//!
//! Cross-validation is `cross_val_score(pipeline, texts, labels, cv=KFold(folds))`: contiguous
//! folds without shuffling (the first `n % folds` folds one row larger), the vectorizer refit on
//! each training part; a training part with one class predicts that class. A fold's logistic fit
//! starts from the whole set's weights (its terms' weights, or 0): the optimum is unique, so only
//! the number of steps to reach it changes.

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::vectorize::{SparseRow, Vocabulary, tfidf, transform};

use crate::evaluate::Label;

/// Largest number of training texts.
const MAX_TEXTS: usize = 10_000;
/// Largest number of texts to predict.
const MAX_PREDICT: usize = 10_000;
/// Largest total size of all texts, in bytes.
const MAX_TOTAL_BYTES: usize = 4 << 20;
/// Largest number of classes.
const MAX_CLASSES: usize = 20;
/// Default number of cross-validation folds.
const DEFAULT_FOLDS: usize = 5;
/// L-BFGS stops when the gradient's largest component is below this times `max(1, C * n)`.
const GRADIENT_TOLERANCE: f64 = 1e-10;
/// L-BFGS stops when a step lowers the objective by at most this share of `max(|f|, C * n)`
/// (scikit-learn's `ftol`: 64 machine epsilons).
const DECREASE_TOLERANCE: f64 = 64.0 * f64::EPSILON;
/// L-BFGS iterations at most.
const MAX_ITERATIONS: usize = 10_000;
/// Correction pairs L-BFGS keeps (scikit-learn keeps 10; 20 saves a fifth of the steps of a
/// preconditioned fit, at 4 vector operations per pair and step, cheap next to the objective).
const LBFGS_MEMORY: usize = 20;
/// Sufficient decrease of a line-search step, as a share of the slope times the step.
const ARMIJO: f64 = 1e-4;
/// Relative change of the objective that rounding can hide.
const ROUNDING: f64 = 1e-12;
/// A step within rounding is taken when the slope along the line shrank to this share.
const CURVATURE: f64 = 0.9;
/// The line search gives up below this step (the quasi-Newton step is 1).
const MIN_STEP: f64 = 1e-10;

pub struct Classify;

impl Tool for Classify {
    const NAME: &'static str = "ide_agents_ultra_classify";
    const TITLE: Option<&'static str> = Some("Classify texts");
    const DESCRIPTION: &'static str = "Trains text classifiers on labelled `texts` and predicts the class \
                                       probabilities of `predict` texts: multinomial naive Bayes on word counts \
                                       and/or L2 logistic regression on TF-IDF, as scikit-learn fits them; \
                                       reports k-fold cross-validated accuracy.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Classification;

    fn call(args: Args) -> Result<Reply<Classification>, Error> {
        let classification = classify(&args)?;
        let text = classification.text();
        Ok(Reply::new(classification).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Training texts (tokens: lowercased runs of two or more word characters, as scikit-learn).
    #[schemars(length(min = 2, max = MAX_TEXTS))]
    texts: Vec<String>,
    /// The class of each training text (all integers or all strings).
    #[schemars(length(min = 2, max = MAX_TEXTS))]
    labels: Vec<Label>,
    /// Texts to classify (words not seen in training are ignored).
    #[serde(default)]
    #[schemars(length(max = MAX_PREDICT))]
    predict: Vec<String>,
    /// `naive_bayes`, `logistic`, or a list of them (default both).
    #[serde(default = "default_model")]
    model: Models,
    /// Additive (Laplace/Lidstone) smoothing of naive Bayes (default 1.0).
    #[serde(default = "default_one")]
    #[schemars(range(min = 1e-10, max = 1e6))]
    alpha: f64,
    /// Inverse L2 regularisation strength of logistic regression (default 1.0).
    #[serde(default = "default_one", rename = "C")]
    #[schemars(range(min = 1e-6, max = 1e6))]
    c: f64,
    /// Cross-validation folds (default 5); must not exceed the number of texts.
    #[serde(default = "default_folds")]
    #[schemars(range(min = 2, max = 100))]
    folds: usize,
}

fn default_model() -> Models {
    Models::Many(vec![Model::NaiveBayes, Model::Logistic])
}

fn default_one() -> f64 {
    1.0
}

fn default_folds() -> usize {
    DEFAULT_FOLDS
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Model {
    NaiveBayes,
    Logistic,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum Models {
    One(Model),
    Many(#[schemars(length(min = 1, max = 2))] Vec<Model>),
}

impl Models {
    fn contains(&self, model: Model) -> bool {
        match self {
            Self::One(m) => *m == model,
            Self::Many(ms) => ms.contains(&model),
        }
    }
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Classification {
    /// Training texts.
    n: usize,
    /// The classes, sorted (integers numerically, strings by code point): the order of every
    /// `probabilities` list.
    classes: Vec<Label>,
    folds: usize,
    /// Multinomial naive Bayes on counts (when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    naive_bayes: Option<ModelResult>,
    /// Logistic regression on TF-IDF (when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    logistic: Option<ModelResult>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct ModelResult {
    /// One per `predict` text, in order.
    predictions: Vec<Prediction>,
    /// Accuracy on each held-out fold, in fold order.
    cv_accuracy: Vec<f64>,
    /// Mean of `cv_accuracy`.
    cv_mean: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Prediction {
    /// The most probable class (the first of equals).
    label: Label,
    /// The probability of each class, in `classes` order.
    probabilities: Vec<f64>,
}

fn classify(args: &Args) -> Result<Classification, Error> {
    let n = args.texts.len();
    if args.labels.len() != n {
        return Err(Error::invalid(
            "/labels",
            format!("{} labels for {} texts; they must pair up", args.labels.len(), n),
        ));
    }
    let bytes: usize = args.texts.iter().chain(&args.predict).map(String::len).sum();
    if bytes > MAX_TOTAL_BYTES {
        return Err(Error::invalid("/texts", format!("{bytes} bytes of text; at most {MAX_TOTAL_BYTES}")));
    }
    if let Some(i) =
        args.labels.iter().position(|l| std::mem::discriminant(l) != std::mem::discriminant(&args.labels[0]))
    {
        return Err(Error::invalid(&format!("/labels/{i}"), "labels must be all integers or all strings"));
    }
    let mut classes = args.labels.clone();
    classes.sort();
    classes.dedup();
    if classes.len() < 2 {
        return Err(Error::invalid("/labels", "need at least two classes"));
    }
    if classes.len() > MAX_CLASSES {
        return Err(Error::invalid("/labels", format!("{} classes; at most {MAX_CLASSES}", classes.len())));
    }
    if args.folds > n {
        return Err(Error::invalid("/folds", format!("{} folds for {n} texts; at most one fold per text", args.folds)));
    }
    let y: Vec<usize> = args.labels.iter().map(|l| classes.binary_search(l).unwrap_or_default()).collect();
    let texts: Vec<&str> = args.texts.iter().map(String::as_str).collect();
    let predict: Vec<&str> = args.predict.iter().map(String::as_str).collect();
    let run = |model: Model| -> Result<Option<ModelResult>, Error> {
        if !args.model.contains(model) {
            return Ok(None);
        }
        let fit = |train: &[&str], y: &[usize], test: &[&str], start: Option<&Fitted>| {
            fit_predict(model, args, train, y, test, classes.len(), start)
        };
        let (probabilities, fitted) = fit(&texts, &y, &predict, None)?;
        let predictions = probabilities
            .into_iter()
            .map(|p| Prediction { label: classes[argmax(&p)].clone(), probabilities: p })
            .collect();
        let mut cv_accuracy = Vec::with_capacity(args.folds);
        for (start, end) in folds(n, args.folds) {
            let train: Vec<&str> = texts[..start].iter().chain(&texts[end..]).copied().collect();
            let train_y: Vec<usize> = y[..start].iter().chain(&y[end..]).copied().collect();
            let (p, _) = fit(&train, &train_y, &texts[start..end], fitted.as_ref())?;
            let correct = p.iter().zip(&y[start..end]).filter(|(p, y)| argmax(p) == **y).count();
            cv_accuracy.push(correct as f64 / (end - start) as f64);
        }
        let cv_mean = cv_accuracy.iter().sum::<f64>() / cv_accuracy.len() as f64;
        Ok(Some(ModelResult { predictions, cv_accuracy, cv_mean }))
    };
    let naive_bayes = run(Model::NaiveBayes)?;
    let logistic = run(Model::Logistic)?;
    Ok(Classification { n, classes, folds: args.folds, naive_bayes, logistic })
}

/// `KFold(folds)` test ranges: contiguous, the first `n % folds` one longer.
fn folds(n: usize, folds: usize) -> Vec<(usize, usize)> {
    let mut start = 0;
    (0..folds)
        .map(|i| {
            let len = n / folds + usize::from(i < n % folds);
            start += len;
            (start - len, start)
        })
        .collect()
}

/// The first index of the largest value.
fn argmax(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |best, i| if v[i] > v[best] { i } else { best })
}

/// A fitted logistic regression with what it was fitted on: a cross-validation fold's fit starts
/// from it ([`Fitted::start_for`]).
struct Fitted {
    terms: Vec<String>,
    present: Vec<usize>,
    theta: Vec<f64>,
}

impl Fitted {
    /// Starting weights for a fit on `terms` (sorted) with the classes `present`: this fit's
    /// weights of the terms both have (0 for the others) and its intercepts; `None` when the
    /// classes differ. The optimum is unique (the objective is strictly convex), so a start only
    /// changes how many steps it takes to reach it, and a fold's optimum is near the whole
    /// set's.
    fn start_for(&self, terms: &[String], present: &[usize]) -> Option<Vec<f64>> {
        if present != self.present {
            return None;
        }
        let vectors = Logistic::vectors(present.len());
        let mut theta = vec![0.0; vectors * (terms.len() + 1)];
        let mut mine = self.terms.iter().enumerate().peekable();
        for (column, term) in terms.iter().enumerate() {
            while mine.next_if(|(_, t)| t.as_str() < term.as_str()).is_some() {}
            if let Some((from, _)) = mine.next_if(|(_, t)| *t == term) {
                theta[column * vectors..(column + 1) * vectors]
                    .copy_from_slice(&self.theta[from * vectors..(from + 1) * vectors]);
            }
        }
        let intercepts = self.terms.len() * vectors;
        theta[terms.len() * vectors..].copy_from_slice(&self.theta[intercepts..]);
        Some(theta)
    }
}

/// Fits `model` on `train` (classes `y`, indices into `k` classes) and returns the probabilities
/// of every class for each `test` text (0 for a class absent from `train`), and for logistic
/// regression the fit (a logistic fit starts from `start`'s weights where it can).
fn fit_predict(
    model: Model,
    args: &Args,
    train: &[&str],
    y: &[usize],
    test: &[&str],
    k: usize,
    start: Option<&Fitted>,
) -> Result<(Vec<Vec<f64>>, Option<Fitted>), Error> {
    let (vocabulary, counts) = Vocabulary::fit_transform(train, (1, 1));
    if vocabulary.is_empty() {
        return Err(Error::invalid("/texts", "no training text has a word of two or more letters or digits"));
    }
    let test_counts: Vec<SparseRow> = test.iter().map(|t| vocabulary.counts(t)).collect();
    // The classes present in this training set, sorted, and each row's index among them.
    let mut present: Vec<usize> = y.to_vec();
    present.sort_unstable();
    present.dedup();
    let local: Vec<usize> = y.iter().map(|c| present.binary_search(c).unwrap_or_default()).collect();
    let mut fitted = None;
    let local_probabilities: Vec<Vec<f64>> = if present.len() == 1 {
        vec![vec![1.0]; test.len()]
    } else {
        match model {
            Model::NaiveBayes => {
                let nb = NaiveBayes::fit(&counts, &local, present.len(), vocabulary.len(), args.alpha);
                test_counts.iter().map(|x| nb.predict(x)).collect()
            }
            Model::Logistic => {
                let (idf, features) = tfidf(&counts, vocabulary.len());
                let theta = start.and_then(|s| s.start_for(vocabulary.terms(), &present));
                let lr = Logistic::fit(&features, &local, present.len(), vocabulary.len(), args.c, theta);
                let probabilities = transform(&test_counts, &idf).iter().map(|x| lr.predict(x)).collect();
                fitted = Some(Fitted { terms: vocabulary.terms().to_vec(), present: present.clone(), theta: lr.theta });
                probabilities
            }
        }
    };
    let probabilities = local_probabilities
        .into_iter()
        .map(|p| {
            let mut full = vec![0.0; k];
            for (&c, v) in present.iter().zip(p) {
                full[c] = v;
            }
            full
        })
        .collect();
    Ok((probabilities, fitted))
}

/// `ln(sum(exp(v)))` without overflow.
fn log_sum_exp(v: &[f64]) -> f64 {
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + v.iter().map(|x| (x - max).exp()).sum::<f64>().ln()
}

/// `exp(v - log_sum_exp(v))`.
fn softmax(v: &[f64]) -> Vec<f64> {
    let lse = log_sum_exp(v);
    v.iter().map(|x| (x - lse).exp()).collect()
}

struct NaiveBayes {
    log_prior: Vec<f64>,
    /// `log_prob[c][t]`.
    log_prob: Vec<Vec<f64>>,
}

impl NaiveBayes {
    fn fit(counts: &[SparseRow], y: &[usize], k: usize, terms: usize, alpha: f64) -> Self {
        let mut feature = vec![vec![0.0; terms]; k];
        let mut class_count = vec![0.0f64; k];
        for (row, &c) in counts.iter().zip(y) {
            class_count[c] += 1.0;
            for &(t, v) in row {
                feature[c][t] += v;
            }
        }
        let n = counts.len() as f64;
        let log_prob = feature
            .into_iter()
            .map(|f| {
                let total = (f.iter().sum::<f64>() + alpha * terms as f64).ln();
                f.iter().map(|v| (v + alpha).ln() - total).collect()
            })
            .collect();
        Self { log_prior: class_count.iter().map(|c| c.ln() - n.ln()).collect(), log_prob }
    }

    fn predict(&self, x: &[(usize, f64)]) -> Vec<f64> {
        let joint: Vec<f64> = self
            .log_prob
            .iter()
            .zip(&self.log_prior)
            .map(|(lp, prior)| prior + x.iter().map(|&(t, v)| v * lp[t]).sum::<f64>())
            .collect();
        softmax(&joint)
    }
}

/// Logistic regression weights: for each term its weight in every vector side by side, then the
/// vectors' intercepts (so a row's terms read and write adjacent weights); one vector for two
/// classes, one per class otherwise.
struct Logistic {
    theta: Vec<f64>,
    terms: usize,
    classes: usize,
}

/// Training rows in one block (compressed sparse rows): row `i` is `columns[starts[i]..starts[i +
/// 1]]` with `values` alongside.
struct Rows {
    starts: Vec<usize>,
    columns: Vec<usize>,
    values: Vec<f64>,
}

impl Rows {
    fn new(x: &[SparseRow]) -> Self {
        let mut rows = Self { starts: vec![0], columns: Vec::new(), values: Vec::new() };
        for row in x {
            rows.columns.extend(row.iter().map(|&(t, _)| t));
            rows.values.extend(row.iter().map(|&(_, v)| v));
            rows.starts.push(rows.columns.len());
        }
        rows
    }

    #[inline]
    fn row(&self, i: usize) -> (&[usize], &[f64]) {
        let range = self.starts[i]..self.starts[i + 1];
        (&self.columns[range.clone()], &self.values[range])
    }
}

impl Logistic {
    fn vectors(classes: usize) -> usize {
        if classes == 2 { 1 } else { classes }
    }

    /// The decision values of a row, given as (column, value) pairs, into `z` (one per vector).
    #[inline(always)]
    fn decision_into(theta: &[f64], terms: usize, row: impl Iterator<Item = (usize, f64)>, z: &mut [f64]) {
        let vectors = z.len();
        z.copy_from_slice(&theta[terms * vectors..]);
        for (t, v) in row {
            for (zk, w) in z.iter_mut().zip(&theta[t * vectors..(t + 1) * vectors]) {
                *zk += v * w;
            }
        }
    }

    /// The objective `C * sum(log-loss) + 0.5 * ||W||^2` and its gradient.
    fn objective(theta: &[f64], x: &Rows, y: &[usize], terms: usize, vectors: usize, c: f64) -> (f64, Vec<f64>) {
        // A fixed vector count lets the compiler unroll and vectorise the per-term loops (most
        // classifiers have two to four classes); the same body serves any count.
        match vectors {
            1 => Self::objective_of::<1>(theta, x, y, terms, vectors, c),
            3 => Self::objective_of::<3>(theta, x, y, terms, vectors, c),
            4 => Self::objective_of::<4>(theta, x, y, terms, vectors, c),
            _ => Self::objective_of::<0>(theta, x, y, terms, vectors, c),
        }
    }

    /// [`Self::objective`] for `V` vectors (`V == 0`: `vectors`, known only at run time).
    fn objective_of<const V: usize>(
        theta: &[f64],
        x: &Rows,
        y: &[usize],
        terms: usize,
        vectors: usize,
        c: f64,
    ) -> (f64, Vec<f64>) {
        let vectors = if V == 0 { vectors } else { V };
        let mut grad = vec![0.0; theta.len()];
        let mut f = 0.0;
        let mut z = [0.0; MAX_CLASSES];
        let z = &mut z[..vectors];
        for (i, &yi) in y.iter().enumerate() {
            let (columns, values) = x.row(i);
            Self::decision_into(theta, terms, columns.iter().copied().zip(values.iter().copied()), z);
            // z becomes C * dloss/dz for each vector.
            if vectors == 1 {
                let target = if yi == 1 { 1.0 } else { 0.0 };
                // log(1 + e^z) - target * z, stably.
                let z0 = z[0];
                f += if z0 > 0.0 { z0 + (-z0).exp().ln_1p() } else { z0.exp().ln_1p() } - target * z0;
                z[0] = c * (1.0 / (1.0 + (-z0).exp()) - target);
            } else {
                // A comparison, not `f64::max`: WebAssembly has no instruction with `max`'s NaN
                // rule, so `max` is a call to libm's `fmax` (4% of a fit's time).
                let max = z.iter().copied().fold(f64::NEG_INFINITY, |m, v| if v > m { v } else { m });
                let zy = z[yi];
                let mut sum = 0.0;
                for zk in z.iter_mut() {
                    *zk = (*zk - max).exp();
                    sum += *zk;
                }
                // log-sum-exp(z) - z[yi].
                f += max + sum.ln() - zy;
                for zk in z.iter_mut() {
                    *zk = c * *zk / sum;
                }
                z[yi] -= c;
            }
            for (&t, &v) in columns.iter().zip(values) {
                for (g, d) in grad[t * vectors..(t + 1) * vectors].iter_mut().zip(z.iter()) {
                    *g += d * v;
                }
            }
            for (g, d) in grad[terms * vectors..].iter_mut().zip(z.iter()) {
                *g += d;
            }
        }
        f *= c;
        for (w, g) in theta[..terms * vectors].iter().zip(&mut grad) {
            f += 0.5 * w * w;
            *g += w;
        }
        (f, grad)
    }

    /// The inverse of the objective's Hessian diagonal at `theta`: `1 / (1 + C * sum_i x_it^2 *
    /// p_ik (1 - p_ik))` for the weight of term `t` in vector `k` (the 1 is the L2 term's), and
    /// `1 / (1 + C * sum_i p_ik (1 - p_ik))` for an intercept (the same floor, as an intercept's
    /// curvature vanishes where the rows are separated with certainty, and a first step scaled by
    /// its inverse would be out of all proportion). L-BFGS starts from it as its inverse Hessian:
    /// an intercept's curvature (about `C * n / 4` at the start) dwarfs a term's (`1 + C * sum
    /// x^2`, the TF-IDF rows having unit length), and an unscaled start spends most of its steps
    /// balancing the two. One pass over the rows, like one evaluation of the objective.
    fn preconditioner(theta: &[f64], x: &Rows, y: &[usize], terms: usize, vectors: usize, c: f64) -> Vec<f64> {
        let mut curvature = vec![0.0; theta.len()];
        let mut z = [0.0; MAX_CLASSES];
        let z = &mut z[..vectors];
        for i in 0..y.len() {
            let (columns, values) = x.row(i);
            Self::decision_into(theta, terms, columns.iter().copied().zip(values.iter().copied()), z);
            // z becomes C * p (1 - p) for each vector.
            if vectors == 1 {
                let p = 1.0 / (1.0 + (-z[0]).exp());
                z[0] = c * p * (1.0 - p);
            } else {
                let p = softmax(z);
                for (zk, pk) in z.iter_mut().zip(p) {
                    *zk = c * pk * (1.0 - pk);
                }
            }
            for (&t, &v) in columns.iter().zip(values) {
                for (h, d) in curvature[t * vectors..(t + 1) * vectors].iter_mut().zip(z.iter()) {
                    *h += d * v * v;
                }
            }
            for (h, d) in curvature[terms * vectors..].iter_mut().zip(z.iter()) {
                *h += d;
            }
        }
        curvature.iter().map(|h| 1.0 / (1.0 + h)).collect()
    }

    /// Fits from `start` (zero weights without one).
    fn fit(x: &[SparseRow], y: &[usize], classes: usize, terms: usize, c: f64, start: Option<Vec<f64>>) -> Self {
        let rows = Rows::new(x);
        let vectors = Self::vectors(classes);
        let objective = |theta: &[f64]| Self::objective(theta, &rows, y, terms, vectors, c);
        let scale = (c * x.len() as f64).max(1.0);
        let start = start.unwrap_or_else(|| vec![0.0; vectors * (terms + 1)]);
        let preconditioner = Self::preconditioner(&start, &rows, y, terms, vectors, c);
        let theta = lbfgs(start, objective, &preconditioner, GRADIENT_TOLERANCE * scale, scale);
        Self { theta, terms, classes }
    }

    fn predict(&self, x: &[(usize, f64)]) -> Vec<f64> {
        let mut z = vec![0.0; Self::vectors(self.classes)];
        Self::decision_into(&self.theta, self.terms, x.iter().copied(), &mut z);
        if self.classes == 2 {
            let p = 1.0 / (1.0 + (-z[0]).exp());
            vec![1.0 - p, p]
        } else {
            softmax(&z)
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimises a smooth convex function from `x` by L-BFGS with a backtracking line search, its
/// initial inverse Hessian the diagonal `preconditioner` (scaled at each step by `s.y / y.D y`,
/// Shanno and Phua's scaling in the preconditioned metric; unscaled for the first step). Stops
/// when the gradient's largest component is below `tolerance`, when a step lowers the objective
/// by at most [`DECREASE_TOLERANCE`] of `max(|f|, scale)`, when no step lowers it, or after
/// [`MAX_ITERATIONS`].
fn lbfgs(
    mut x: Vec<f64>,
    f: impl Fn(&[f64]) -> (f64, Vec<f64>),
    preconditioner: &[f64],
    tolerance: f64,
    scale: f64,
) -> Vec<f64> {
    let (mut fx, mut g) = f(&x);
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::with_capacity(LBFGS_MEMORY);
    for _ in 0..MAX_ITERATIONS {
        if g.iter().all(|v| v.abs() < tolerance) {
            break;
        }
        // Two-loop recursion: d = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = history.last().map_or(1.0, |(s, y, _)| {
            dot(s, y) / y.iter().zip(preconditioner).map(|(yi, di)| yi * yi * di).sum::<f64>()
        });
        q.iter_mut().zip(preconditioner).for_each(|(v, di)| *v *= gamma * di);
        for ((s, y, rho), a) in history.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let slope = dot(&g, &direction);
        if slope >= 0.0 {
            break;
        }
        // Backtrack until the objective decreases enough (Armijo), or, once the change is
        // within rounding of the objective, until the slope along the line has shrunk
        // (Hager and Zhang's approximate Wolfe condition).
        let mut step = 1.0;
        let accepted = loop {
            let candidate: Vec<f64> = x.iter().zip(&direction).map(|(xi, di)| xi + step * di).collect();
            let (fc, gc) = f(&candidate);
            let armijo = fc < fx && fc <= fx + ARMIJO * step * slope;
            let approximate = fc <= fx + ROUNDING * fx.abs() && dot(&gc, &direction).abs() <= CURVATURE * -slope;
            if armijo || approximate {
                break Some((candidate, fc, gc));
            }
            step /= 2.0;
            if step < MIN_STEP {
                break None;
            }
        };
        let Some((next, f_next, g_next)) = accepted else { break };
        let s: Vec<f64> = next.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_next.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 0.0 {
            if history.len() == LBFGS_MEMORY {
                history.remove(0);
            }
            history.push((s, y, 1.0 / sy));
        }
        let settled = fx - f_next <= DECREASE_TOLERANCE * fx.abs().max(f_next.abs()).max(scale);
        (x, fx, g) = (next, f_next, g_next);
        if settled {
            break;
        }
    }
    x
}

impl Classification {
    fn text(&self) -> String {
        let mut lines = vec![format!(
            "{} training texts, {} classes, {}-fold cross-validation",
            self.n,
            self.classes.len(),
            self.folds
        )];
        for (name, result) in [("naive Bayes", &self.naive_bayes), ("logistic regression", &self.logistic)] {
            let Some(r) = result else { continue };
            let labels: Vec<String> = r.predictions.iter().take(10).map(|p| p.label.to_string()).collect();
            lines.push(format!(
                "{name}: CV accuracy {:.4}; predicted {}{}",
                r.cv_mean,
                labels.join(", "),
                if r.predictions.len() > 10 { ", ..." } else { "" }
            ));
        }
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str) -> Result<Classification, Error> {
        classify(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn separable_rows_with_a_large_c_reach_the_optimum() {
        // Separated with near certainty, the intercepts' curvature all but vanishes at the
        // optimum; the fit must still get there (gradient relative to C * n, as it stops).
        let x: Vec<SparseRow> =
            vec![vec![(0, 1.0)], vec![(1, 1.0)], vec![(0, 0.6), (2, 0.8)], vec![(1, 0.6), (2, 0.8)]];
        for c in [1.0, 1e3, 1e6] {
            for (y, k) in [(vec![0, 1, 0, 1], 2), (vec![0, 1, 2, 1], 3)] {
                let lr = Logistic::fit(&x, &y, k, 3, c, None);
                let (_, g) = Logistic::objective(&lr.theta, &Rows::new(&x), &y, 3, Logistic::vectors(k), c);
                let largest = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                assert!(largest / (c * 4.0) < 1e-8, "C {c}, {k} classes: gradient {largest:e}");
            }
        }
    }

    #[test]
    fn kfold_ranges_are_contiguous_the_first_longer() {
        assert_eq!(folds(7, 3), [(0, 3), (3, 5), (5, 7)]);
    }

    #[test]
    fn both_models_separate_obvious_classes() {
        let c = run(r#"{"texts": ["good great fine", "great good", "bad awful", "awful terrible bad"],
                        "labels": ["pos", "pos", "neg", "neg"], "predict": ["good day", "terrible day"], "folds": 2}"#)
        .unwrap();
        for r in [c.naive_bayes.unwrap(), c.logistic.unwrap()] {
            let labels: Vec<String> = r.predictions.iter().map(|p| p.label.to_string()).collect();
            assert_eq!(labels, ["\"pos\"", "\"neg\""]);
            assert!((r.predictions[0].probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn logistic_reaches_a_zero_gradient() {
        let x: Vec<SparseRow> = vec![vec![(0, 1.0)], vec![(1, 1.0)], vec![(0, 0.5), (1, 0.5)]];
        for (y, k) in [(vec![0, 1, 1], 2), (vec![0, 1, 2], 3)] {
            let lr = Logistic::fit(&x, &y, k, 2, 1.0, None);
            let (_, g) = Logistic::objective(&lr.theta, &Rows::new(&x), &y, 2, Logistic::vectors(k), 1.0);
            // A fit stops at a gradient below 1e-10 * C * n or once a step lowers the objective
            // by no more than 64 machine epsilons of it; on three rows the second comes first,
            // near a gradient of 5e-9 (a fit stopped early is off by 1e-2 or more).
            assert!(g.iter().all(|v| v.abs() < 1e-8), "{g:?}");
        }
    }

    #[test]
    fn bad_input_names_the_argument() {
        let err = |json: &str| match run(json).unwrap_err() {
            Error::InvalidArguments(m) => m,
            other => panic!("{other:?}"),
        };
        assert!(err(r#"{"texts": ["aa", "bb"], "labels": [1]}"#).starts_with("/labels:"));
        assert!(err(r#"{"texts": ["aa", "bb"], "labels": [1, 1]}"#).starts_with("/labels:"));
        assert!(err(r#"{"texts": ["aa", "bb"], "labels": [1, 2]}"#).starts_with("/folds:"));
        assert!(err(r#"{"texts": ["a", "b"], "labels": [1, 2], "folds": 2}"#).starts_with("/texts:"));
    }
}
