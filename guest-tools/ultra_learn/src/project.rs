//! `ide_agents_ultra_project`: 2-D or 3-D projections, as scikit-learn computes them (checked
//! against scikit-learn by the test suite):
//!
//! - `vectors`: `PCA(n_components)`: the columns centred, the top right singular vectors as
//!   `components`, `coordinates = X_centred V`, `explained_variance = s^2 / (n - 1)` and its share
//!   of the total variance;
//! - `texts`: `TruncatedSVD(n_components)` of `TfidfVectorizer()` features, not centred:
//!   `coordinates = X V`, `explained_variance` the variance of each coordinate column (divided by
//!   n), its ratio to the summed variance of X's columns.
//!
//! The SVD is exact: the cyclic Jacobi eigensolver on the smaller Gram matrix (`X X^T` or
//! `X^T X`), right singular vectors from `X^T u / s` when rows are fewer. Signs follow
//! scikit-learn's `svd_flip(u_based_decision=False)`: each component's largest-magnitude entry is
//! positive. With `svg`, a scatter plot of the first two coordinates is added as an image block.

use ide_agents_tool::types::{Content, Media};
use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::vectorize::{SparseRow, Vocabulary, dense, tfidf};

use crate::evaluate::Label;

/// Largest number of rows (vectors or texts).
const MAX_ROWS: usize = 5_000;
/// Largest dimension of a vector.
const MAX_DIMS: usize = 2_000;
/// The Gram matrix is `min(rows, columns)` square; Jacobi costs its cube, so this bounds a call
/// to well under a second.
const MAX_GRAM: usize = 250;
/// Largest `rows * columns` (the cost of forming the Gram matrix).
const MAX_CELLS: usize = 2_000_000;
/// Largest total size of the texts, in bytes.
const MAX_TOTAL_BYTES: usize = 4 << 20;
/// Jacobi sweeps at most (it converges quadratically, in well under 20).
const MAX_SWEEPS: usize = 60;
/// An off-diagonal entry is zero when this many times it does not change either diagonal entry.
const NEGLIGIBLE: f64 = 100.0;
/// A singular value below this share of the largest counts as zero.
const RANK_TOLERANCE: f64 = 1e-10;
/// SVG canvas size and margin, in pixels.
const SVG_WIDTH: f64 = 560.0;
const SVG_HEIGHT: f64 = 420.0;
const SVG_MARGIN: f64 = 48.0;
/// Point colours, cycled by label.
const PALETTE: [&str; 8] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];

pub struct Project;

impl Tool for Project {
    const NAME: &'static str = "ide_agents_ultra_project";
    const TITLE: Option<&'static str> = Some("Project to 2-D/3-D");
    const DESCRIPTION: &'static str = "Projects dense `vectors` by PCA, or `texts` by truncated SVD of their TF-IDF \
                                       (LSA), to 2 or 3 components, as scikit-learn computes them: coordinates, \
                                       components, explained variance and its ratio; optionally an SVG scatter \
                                       plot labelled by `labels`.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Projection;

    fn call(args: Args) -> Result<Reply<Projection>, Error> {
        let projection = project(&args)?;
        let text = projection.text();
        let reply = Reply::new(projection).text(text);
        if !args.svg {
            return Ok(reply);
        }
        let svg = scatter(&reply.output, args.labels.as_deref());
        Ok(reply.content(Content::Image(Media { data: svg.into_bytes(), mime_type: "image/svg+xml".into() })))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Dense vectors, all of one length (PCA). Give this or `texts`.
    #[schemars(length(min = 1, max = MAX_ROWS))]
    vectors: Option<Vec<Vec<f64>>>,
    /// Texts (truncated SVD of their TF-IDF). Give this or `vectors`.
    #[schemars(length(min = 1, max = MAX_ROWS))]
    texts: Option<Vec<String>>,
    /// Components to keep (default 2); at most min(rows, columns) and the data's rank.
    #[serde(default = "default_components")]
    #[schemars(range(min = 2, max = 3))]
    n_components: usize,
    /// Add an SVG scatter plot of the first two coordinates.
    #[serde(default)]
    svg: bool,
    /// A label per row, written beside its point in the plot (points of one label share a colour).
    #[schemars(length(min = 1, max = MAX_ROWS))]
    labels: Option<Vec<Label>>,
}

fn default_components() -> usize {
    2
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Projection {
    /// `pca` (vectors) or `truncated_svd` (texts).
    method: String,
    /// Rows projected.
    n: usize,
    /// Columns of the input: the vectors' length, or the TF-IDF vocabulary's size.
    dimensions: usize,
    /// Each row's coordinates on the components.
    coordinates: Vec<Vec<f64>>,
    /// The components (unit vectors over the input columns), strongest first.
    components: Vec<Vec<f64>>,
    explained_variance: Vec<f64>,
    /// Each component's variance over the total variance of the input.
    explained_variance_ratio: Vec<f64>,
    /// For `texts`: the vocabulary, in the order of the components' columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    terms: Option<Vec<String>>,
}

fn project(args: &Args) -> Result<Projection, Error> {
    let (rows, terms, pointer) = match (&args.vectors, &args.texts) {
        (Some(vectors), None) => (centred(vectors)?, None, "/vectors"),
        (None, Some(texts)) => {
            let (rows, terms) = text_features(texts)?;
            (rows, Some(terms), "/texts")
        }
        _ => return Err(Error::invalid("/vectors", "give exactly one of `vectors` and `texts`")),
    };
    if let Some(labels) = &args.labels
        && labels.len() != rows.len()
    {
        return Err(Error::invalid("/labels", format!("{} labels for {} rows", labels.len(), rows.len())));
    }
    let (n, d) = (rows.len(), terms.as_ref().map_or_else(|| args.vectors.as_ref().map_or(0, |v| v[0].len()), Vec::len));
    let k = args.n_components;
    if k > n.min(d) {
        return Err(Error::invalid(
            "/n_components",
            format!("{k} components from {n} rows of {d} columns; at most {}", n.min(d)),
        ));
    }
    if n.min(d) > MAX_GRAM || n * d > MAX_CELLS {
        return Err(Error::invalid(
            pointer,
            format!(
                "{n} rows of {d} columns; at most min(rows, columns) = {MAX_GRAM} and rows * columns = {MAX_CELLS}"
            ),
        ));
    }
    let (values, mut components) = top_right_singular(&rows, d, k);
    let top = values[0].max(0.0).sqrt();
    if values.iter().any(|v| v.max(0.0).sqrt() <= RANK_TOLERANCE * top) {
        return Err(Error::invalid(
            "/n_components",
            format!("the data's rank is below {k}: a component would be arbitrary"),
        ));
    }
    for v in &mut components {
        let largest = (0..d).fold(0, |best, i| if v[i].abs() > v[best].abs() { i } else { best });
        if v[largest] < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
    }
    let coordinates: Vec<Vec<f64>> =
        rows.iter().map(|r| components.iter().map(|v| r.iter().map(|&(c, x)| x * v[c]).sum()).collect()).collect();
    let total_squares: f64 = rows.iter().flatten().map(|(_, x)| x * x).sum();
    let nf = n as f64;
    let (method, explained_variance, total) = if terms.is_none() {
        ("pca", values.iter().map(|v| v / (nf - 1.0)).collect(), total_squares / (nf - 1.0))
    } else {
        let variance = |col: &dyn Fn(&Vec<f64>) -> f64| {
            let mean = coordinates.iter().map(col).sum::<f64>() / nf;
            coordinates.iter().map(|c| (col(c) - mean).powi(2)).sum::<f64>() / nf
        };
        let explained: Vec<f64> = (0..k).map(|j| variance(&|c: &Vec<f64>| c[j])).collect();
        let mut column_sums = vec![0.0; d];
        for &(c, x) in rows.iter().flatten() {
            column_sums[c] += x;
        }
        let total = (total_squares - column_sums.iter().map(|s| s * s / nf).sum::<f64>()) / nf;
        ("truncated_svd", explained, total)
    };
    if total <= 0.0 || !total.is_finite() {
        return Err(Error::invalid(pointer, "the data has no variance to explain"));
    }
    Ok(Projection {
        method: method.to_owned(),
        n,
        dimensions: d,
        explained_variance_ratio: explained_variance.iter().map(|v| v / total).collect(),
        explained_variance,
        coordinates,
        components,
        terms,
    })
}

/// The vectors as rows with every column, centred (each column's mean subtracted).
fn centred(vectors: &[Vec<f64>]) -> Result<Vec<SparseRow>, Error> {
    let d = vectors[0].len();
    if d == 0 || d > MAX_DIMS {
        return Err(Error::invalid("/vectors/0", format!("{d} dimensions; 1 to {MAX_DIMS}")));
    }
    if let Some(i) = vectors.iter().position(|v| v.len() != d) {
        return Err(Error::invalid(
            &format!("/vectors/{i}"),
            format!("{} dimensions, the first has {d}", vectors[i].len()),
        ));
    }
    let n = vectors.len() as f64;
    let means: Vec<f64> = (0..d).map(|c| vectors.iter().map(|v| v[c]).sum::<f64>() / n).collect();
    if means.iter().any(|m| !m.is_finite()) {
        return Err(Error::invalid("/vectors", "values too large to average"));
    }
    Ok(vectors.iter().map(|v| v.iter().zip(&means).map(|(x, m)| x - m).enumerate().collect()).collect())
}

/// TF-IDF rows of the texts (`TfidfVectorizer()` defaults) and the vocabulary.
fn text_features(texts: &[String]) -> Result<(Vec<SparseRow>, Vec<String>), Error> {
    let bytes: usize = texts.iter().map(String::len).sum();
    if bytes > MAX_TOTAL_BYTES {
        return Err(Error::invalid("/texts", format!("{bytes} bytes of text; at most {MAX_TOTAL_BYTES}")));
    }
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (vocabulary, counts) = Vocabulary::fit_transform(&texts, (1, 1));
    if vocabulary.is_empty() {
        return Err(Error::invalid("/texts", "no text has a word of two or more letters or digits"));
    }
    let (_, rows) = tfidf(&counts, vocabulary.len());
    Ok((rows, vocabulary.terms().to_vec()))
}

/// The `k` largest eigenvalues of `X^T X` (squared singular values of X, `d` columns) and their
/// unit eigenvectors, from the eigen-decomposition of the smaller Gram matrix.
fn top_right_singular(rows: &[SparseRow], d: usize, k: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = rows.len();
    if n <= d {
        let mut gram = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                let v = textkit::vectorize::dot(&rows[i], &rows[j]);
                (gram[i * n + j], gram[j * n + i]) = (v, v);
            }
        }
        let (values, vectors) = jacobi(gram, n);
        let order = descending(&values);
        let components = order[..k]
            .iter()
            .map(|&e| {
                let s = values[e].max(0.0).sqrt();
                let mut v = vec![0.0; d];
                for (i, row) in rows.iter().enumerate() {
                    for &(c, x) in row {
                        v[c] += vectors[e * n + i] * x;
                    }
                }
                v.iter_mut().for_each(|x| *x /= s);
                v
            })
            .collect();
        (order[..k].iter().map(|&e| values[e]).collect(), components)
    } else {
        let mut gram = vec![0.0; d * d];
        for row in rows {
            let x = dense(row, d);
            for a in 0..d {
                for b in 0..=a {
                    gram[a * d + b] += x[a] * x[b];
                }
            }
        }
        for a in 0..d {
            for b in 0..a {
                gram[b * d + a] = gram[a * d + b];
            }
        }
        let (values, vectors) = jacobi(gram, d);
        let order = descending(&values);
        let components = order[..k].iter().map(|&e| vectors[e * d..(e + 1) * d].to_vec()).collect();
        (order[..k].iter().map(|&e| values[e]).collect(), components)
    }
}

/// Indices of `values`, largest first (equal values keep their order).
fn descending(values: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    order
}

/// Eigenvalues and eigenvectors (row `j` of the row-major `n x n` result is the `j`th vector) of
/// the symmetric row-major matrix `a`, by cyclic Jacobi rotations. An off-diagonal entry
/// negligible beside both its diagonal entries is set to zero (as Numerical Recipes does), so the
/// sweeps end with a diagonal matrix.
fn jacobi(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; n * n];
    (0..n).for_each(|i| v[i * n + i] = 1.0);
    for _ in 0..MAX_SWEEPS {
        let mut rotated = false;
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                let (app, aqq) = (a[p * n + p], a[q * n + q]);
                if apq == 0.0 {
                    continue;
                }
                if app.abs() + NEGLIGIBLE * apq.abs() == app.abs() && aqq.abs() + NEGLIGIBLE * apq.abs() == aqq.abs() {
                    (a[p * n + q], a[q * n + p]) = (0.0, 0.0);
                    continue;
                }
                rotated = true;
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + theta.hypot(1.0));
                let c = 1.0 / t.hypot(1.0);
                let s = t * c;
                // Rows p and q (contiguous), mirrored into columns p and q.
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                a[p * n + p] = app - t * apq;
                a[q * n + q] = aqq + t * apq;
                (a[p * n + q], a[q * n + p]) = (0.0, 0.0);
                for k in 0..n {
                    if k != p && k != q {
                        (a[k * n + p], a[k * n + q]) = (a[p * n + k], a[q * n + k]);
                    }
                }
                let (vp, vq) = v.split_at_mut(q * n);
                for (x, y) in vp[p * n..(p + 1) * n].iter_mut().zip(&mut vq[..n]) {
                    (*x, *y) = (c * *x - s * *y, s * *x + c * *y);
                }
            }
        }
        if !rotated {
            break;
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// Escapes text for SVG.
fn xml(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// An SVG scatter plot of the first two coordinates, points labelled and coloured by `labels`.
fn scatter(p: &Projection, labels: Option<&[Label]>) -> String {
    let (xs, ys): (Vec<f64>, Vec<f64>) = p.coordinates.iter().map(|c| (c[0], c[1])).unzip();
    let range = |v: &[f64]| {
        let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| (l.min(x), h.max(x)));
        if hi > lo { (lo, hi) } else { (lo - 1.0, hi + 1.0) }
    };
    let ((x0, x1), (y0, y1)) = (range(&xs), range(&ys));
    let px = |x: f64| SVG_MARGIN + (x - x0) / (x1 - x0) * (SVG_WIDTH - 2.0 * SVG_MARGIN);
    let py = |y: f64| SVG_HEIGHT - SVG_MARGIN - (y - y0) / (y1 - y0) * (SVG_HEIGHT - 2.0 * SVG_MARGIN);
    let mut distinct: Vec<&Label> = labels.map(|l| l.iter().collect()).unwrap_or_default();
    distinct.sort();
    distinct.dedup();
    let ratio = &p.explained_variance_ratio;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{SVG_WIDTH}\" height=\"{SVG_HEIGHT}\" font-family=\"sans-serif\" font-size=\"10\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <rect x=\"{SVG_MARGIN}\" y=\"{SVG_MARGIN}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#ccc\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">component 1 ({:.1}%)</text>\n\
         <text x=\"14\" y=\"{}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {})\">component 2 ({:.1}%)</text>\n",
        SVG_WIDTH - 2.0 * SVG_MARGIN,
        SVG_HEIGHT - 2.0 * SVG_MARGIN,
        SVG_WIDTH / 2.0,
        SVG_HEIGHT - 14.0,
        ratio[0] * 100.0,
        SVG_HEIGHT / 2.0,
        SVG_HEIGHT / 2.0,
        ratio[1] * 100.0,
    );
    for (i, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
        let label = labels.map(|l| &l[i]);
        let colour =
            label.map_or(PALETTE[0], |l| PALETTE[distinct.binary_search(&l).unwrap_or_default() % PALETTE.len()]);
        svg.push_str(&format!("<circle cx=\"{:.2}\" cy=\"{:.2}\" r=\"3.5\" fill=\"{colour}\"/>\n", px(x), py(y)));
        if let Some(l) = label {
            let text = match l {
                Label::Int(v) => v.to_string(),
                Label::Text(s) => s.clone(),
            };
            svg.push_str(&format!("<text x=\"{:.2}\" y=\"{:.2}\">{}</text>\n", px(x) + 5.0, py(y) - 4.0, xml(&text)));
        }
    }
    svg.push_str("</svg>\n");
    svg
}

impl Projection {
    fn text(&self) -> String {
        let shares: Vec<String> = self.explained_variance_ratio.iter().map(|r| format!("{:.1}%", r * 100.0)).collect();
        format!(
            "{} of {} rows ({} columns) to {} components; explained variance ratio {} (total {:.1}%)",
            if self.method == "pca" { "PCA" } else { "Truncated SVD of TF-IDF" },
            self.n,
            self.dimensions,
            self.components.len(),
            shares.join(", "),
            self.explained_variance_ratio.iter().sum::<f64>() * 100.0
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: &str) -> Result<Projection, Error> {
        project(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn jacobi_diagonalises() {
        let (values, vectors) = jacobi(vec![2.0, 1.0, 1.0, 2.0], 2);
        let order = descending(&values);
        assert!((values[order[0]] - 3.0).abs() < 1e-15 && (values[order[1]] - 1.0).abs() < 1e-15);
        assert!((vectors[order[0] * 2].abs() - 0.5f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn pca_of_a_line_explains_everything_on_the_first_component() {
        let p = run(r#"{"vectors": [[0, 0, 1], [1, 2, 0], [2, 4, 1], [3, 6, 0]], "n_components": 2}"#).unwrap();
        assert!(p.explained_variance_ratio[0] > 0.9, "{p:?}");
        let c = &p.components[0];
        assert!(c[1] > 0.0 && (c[1] - 2.0 * c[0]).abs() < 1e-12, "largest entry positive: {c:?}");
        let t = run(r#"{"texts": ["cache memory", "cache hit", "http header", "http proxy"]}"#).unwrap();
        assert_eq!((t.method.as_str(), t.dimensions, t.coordinates.len()), ("truncated_svd", 6, 4));
    }

    #[test]
    fn bad_input_names_the_argument() {
        let err = |json: &str| match run(json).unwrap_err() {
            Error::InvalidArguments(m) => m,
            other => panic!("{other:?}"),
        };
        assert!(err(r#"{"vectors": [[1, 2], [3]]}"#).starts_with("/vectors/1:"));
        assert!(err(r#"{"vectors": [[1, 2, 3], [3, 4, 5]], "n_components": 3}"#).starts_with("/n_components:"));
        assert!(err(r#"{"vectors": [[1, 2, 3], [2, 4, 6], [3, 6, 9]]}"#).starts_with("/n_components:"));
        assert!(err(r#"{"texts": ["a", "b"]}"#).starts_with("/texts:"));
        assert!(err(r#"{"vectors": [[1, 2], [3, 4]], "texts": ["aa"]}"#).starts_with("/vectors:"));
        assert!(err(r#"{"vectors": [[1, 2], [3, 4], [5, 1]], "labels": ["a"]}"#).starts_with("/labels:"));
    }

    #[test]
    fn svg_has_a_point_per_row() {
        let p = run(r#"{"vectors": [[0, 1], [1, 0], [2, 2]]}"#).unwrap();
        let svg = scatter(&p, Some(&[Label::Text("a<b".into()), Label::Int(1), Label::Int(1)]));
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("a&lt;b"));
    }
}
