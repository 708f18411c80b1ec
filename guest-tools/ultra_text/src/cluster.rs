//! `ide_agents_ultra_cluster`: k-means over the TF-IDF vectors of `texts` (scikit-learn's
//! `TfidfVectorizer` defaults) or over numeric `vectors`, as scikit-learn's
//! `KMeans(n_clusters=k, init=X[init], n_init=1, algorithm="lloyd", tol=0)` computes it:
//!
//! - initial centres: the rows `init`, else greedy k-means++ (scikit-learn's variant:
//!   `2 + floor(ln k)` candidates per centre, each drawn with probability proportional to the
//!   squared distance to the nearest centre so far, the one lowering the total most kept) driven
//!   by a SplitMix64 generator seeded with `seed`, so the same seed gives the same clustering;
//! - Lloyd iterations: assign each row to its nearest centre (by `|c|² - 2 x·c`, as scikit-learn;
//!   ties to the lower centre), move each centre to its rows' mean; a centre left without rows is moved
//!   onto the row farthest from its own centre (farthest first, ties by row; scikit-learn's
//!   relocation). Stop when no label changes or no centre moves, or after `max_iter` (then the
//!   rows are assigned once more to the final centres);
//! - `inertia`: the sum of squared distances of the rows to their centres; `silhouette`: the
//!   mean silhouette coefficient (Euclidean; a row alone in its cluster scores 0), defined for
//!   2 to n - 1 distinct labels, as `sklearn.metrics.silhouette_score`.
//!
//! Without `k` (and `init`), k is chosen in 2..=min(10, n - 1): one seeded k-means++ run per k,
//! the highest silhouette wins (ties: the smaller k).

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::vectorize::{SparseRow, count_matrix, dense, tfidf};

/// Most texts (their rows stay sparse: a Lloyd step costs their non-zeros times k).
const MAX_TEXTS: usize = 10_000;
/// Most vectors (dense rows: a Lloyd step and the silhouette cost rows × dimensions and more).
const MAX_VECTORS: usize = 5_000;
/// Most cells of dense data: vectors' rows × dimensions; for texts, the dense centres, k × terms
/// (k at most [`MAX_AUTO_K`] when it is chosen).
const MAX_CELLS: usize = 4_000_000;
/// Largest magnitude of a vector component (so that squared distances stay finite).
const MAX_ABS: f64 = 1e100;
/// Default Lloyd iteration bound (scikit-learn's).
const DEFAULT_MAX_ITER: usize = 300;
/// Largest k tried when choosing k.
const MAX_AUTO_K: usize = 10;
/// Heaviest centre terms listed per cluster (texts).
const TOP_TERMS: usize = 5;

pub struct Cluster;

impl Tool for Cluster {
    const NAME: &'static str = "ide_agents_ultra_cluster";
    const TITLE: Option<&'static str> = Some("Cluster texts or vectors");
    const DESCRIPTION: &'static str = "k-means (Lloyd, k-means++ seeding with a fixed seed, or given initial rows) \
                                       over the TF-IDF vectors of `texts` or over numeric `vectors`; returns labels, \
                                       inertia, mean silhouette, cluster sizes and, for texts, each cluster's top \
                                       terms. Without `k`, picks k in 2..10 by the best silhouette.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Clustering;

    fn call(args: Args) -> Result<Reply<Clustering>, Error> {
        let clustering = cluster(args)?;
        let text = clustering.text();
        Ok(Reply::new(clustering).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["texts"]}, {"required": ["vectors"]}]))]
pub struct Args {
    /// Texts to cluster by their TF-IDF vectors (give this or `vectors`).
    #[schemars(length(min = 1, max = MAX_TEXTS))]
    texts: Option<Vec<String>>,
    /// Numeric rows to cluster, all of one length (give this or `texts`).
    #[schemars(length(min = 1, max = MAX_VECTORS))]
    vectors: Option<Vec<Vec<f64>>>,
    /// Clusters; omit to choose k in 2..=min(10, n - 1) by the best silhouette.
    #[schemars(range(min = 1, max = MAX_TEXTS))]
    k: Option<usize>,
    /// Seed of the k-means++ initialisation (default 0).
    #[serde(default)]
    seed: u64,
    /// Row indices of the initial centres instead of k-means++: distinct, one per cluster.
    #[schemars(length(min = 1, max = MAX_TEXTS))]
    init: Option<Vec<usize>>,
    /// Lloyd iteration bound (default 300).
    #[serde(default = "default_max_iter")]
    #[schemars(range(min = 1, max = 10000))]
    max_iter: usize,
}

fn default_max_iter() -> usize {
    DEFAULT_MAX_ITER
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Clustering {
    k: usize,
    rows: usize,
    dimensions: usize,
    /// Each row's cluster, 0-based.
    labels: Vec<usize>,
    /// Sum of squared distances of the rows to their centres.
    inertia: f64,
    /// Mean silhouette coefficient; null unless 2 <= distinct labels <= rows - 1.
    silhouette: Option<f64>,
    /// Rows per cluster.
    sizes: Vec<usize>,
    /// Lloyd iterations run.
    iterations: usize,
    /// Whether the labels (or centres) stopped changing before `max_iter`.
    converged: bool,
    /// The rows the centres started at (given or chosen by k-means++).
    init: Vec<usize>,
    /// For `vectors`: the final centres.
    #[serde(skip_serializing_if = "Option::is_none")]
    centers: Option<Vec<Vec<f64>>>,
    /// For `texts`: each cluster's heaviest centre terms.
    #[serde(skip_serializing_if = "Option::is_none")]
    top_terms: Option<Vec<Vec<TermWeight>>>,
    /// When k was chosen: the silhouette and inertia of each k tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    k_search: Option<Vec<KScore>>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct TermWeight {
    term: String,
    /// The term's mean TF-IDF weight in the cluster.
    weight: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct KScore {
    k: usize,
    silhouette: Option<f64>,
    inertia: f64,
}

impl Clustering {
    fn text(&self) -> String {
        let silhouette = self.silhouette.map_or("undefined".to_owned(), |s| format!("{s:.4}"));
        let mut out = format!(
            "k-means: {} rows into {} clusters, inertia {:.6}, silhouette {silhouette}, {} iterations{}",
            self.rows,
            self.k,
            self.inertia,
            self.iterations,
            if self.converged { "" } else { " (not converged)" }
        );
        for (c, size) in self.sizes.iter().enumerate() {
            out.push_str(&format!("\ncluster {c}: {size} rows"));
            if let Some(terms) = &self.top_terms {
                let terms: Vec<&str> = terms[c].iter().map(|t| t.term.as_str()).collect();
                out.push_str(&format!(" ({})", terms.join(", ")));
            }
        }
        out
    }
}

/// One k-means run's result.
struct Fit {
    labels: Vec<usize>,
    centers: Vec<Vec<f64>>,
    inertia: f64,
    iterations: usize,
    converged: bool,
}

/// The rows to cluster, sparse (TF-IDF rows are mostly zeros; numeric rows keep their non-zero
/// values), with their squared norms.
struct Rows {
    rows: Vec<SparseRow>,
    dimensions: usize,
    /// `|x|²` of each row.
    norms: Vec<f64>,
}

impl Rows {
    fn new(rows: Vec<SparseRow>, dimensions: usize) -> Self {
        let norms = rows.iter().map(|r| r.iter().map(|(_, v)| v * v).sum()).collect();
        Self { rows, dimensions, norms }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }
}

fn cluster(args: Args) -> Result<Clustering, Error> {
    let (rows, terms, pointer, max_rows) = match (args.texts, args.vectors) {
        (Some(texts), None) => {
            let (rows, terms) = text_rows(&texts)?;
            (rows, Some(terms), "/texts", MAX_TEXTS)
        }
        (None, Some(vectors)) => (check_vectors(vectors)?, None, "/vectors", MAX_VECTORS),
        _ => return Err(Error::invalid("/texts", "give either `texts` or `vectors`")),
    };
    let n = rows.len();
    if n > max_rows {
        return Err(Error::invalid(pointer, format!("{n} rows; at most {max_rows}")));
    }
    let k = args.k.or(args.init.as_ref().map(Vec::len));
    let centres = k.unwrap_or(MAX_AUTO_K).min(n);
    if centres * rows.dimensions > MAX_CELLS {
        return Err(Error::invalid(
            pointer,
            format!("{centres} centres × {} dimensions is over {MAX_CELLS} cells", rows.dimensions),
        ));
    }
    if let Some(k) = k
        && k > n
    {
        return Err(Error::invalid(if args.k.is_some() { "/k" } else { "/init" }, format!("k = {k} > {n} rows")));
    }
    let (k, init, fit, score, k_search) = match (k, args.init) {
        (Some(k), Some(init)) => {
            check_init(&init, k, n)?;
            let fit = lloyd(&rows, &init, args.max_iter);
            let score = silhouette(&rows, &fit.labels);
            (k, init, fit, score, None)
        }
        (Some(k), None) => {
            let init = kmeans_plus_plus(&rows, k, args.seed);
            let fit = lloyd(&rows, &init, args.max_iter);
            let score = silhouette(&rows, &fit.labels);
            (k, init, fit, score, None)
        }
        (None, _) => {
            if n < 3 {
                return Err(Error::invalid("/k", format!("choosing k needs at least 3 rows; {n} given: give `k`")));
            }
            let mut best: Option<(usize, Vec<usize>, Fit, Option<f64>)> = None;
            let mut search = Vec::new();
            for k in 2..=MAX_AUTO_K.min(n - 1) {
                let init = kmeans_plus_plus(&rows, k, args.seed);
                let fit = lloyd(&rows, &init, args.max_iter);
                let s = silhouette(&rows, &fit.labels);
                search.push(KScore { k, silhouette: s, inertia: fit.inertia });
                let better =
                    best.as_ref().is_none_or(|b| s.unwrap_or(f64::NEG_INFINITY) > b.3.unwrap_or(f64::NEG_INFINITY));
                if better {
                    best = Some((k, init, fit, s));
                }
            }
            let (k, init, fit, score) = best.expect("at least k = 2 was tried");
            (k, init, fit, score, Some(search))
        }
    };
    let mut sizes = vec![0; k];
    for &l in &fit.labels {
        sizes[l] += 1;
    }
    let top_terms = terms.map(|terms| {
        fit.centers
            .iter()
            .map(|c| {
                let mut order: Vec<usize> = (0..c.len()).filter(|&j| c[j] > 0.0).collect();
                order.sort_by(|&a, &b| c[b].total_cmp(&c[a]).then(a.cmp(&b)));
                order.iter().take(TOP_TERMS).map(|&j| TermWeight { term: terms[j].clone(), weight: c[j] }).collect()
            })
            .collect()
    });
    Ok(Clustering {
        k,
        rows: n,
        dimensions: rows.dimensions,
        silhouette: score,
        labels: fit.labels,
        inertia: fit.inertia,
        sizes,
        iterations: fit.iterations,
        converged: fit.converged,
        init,
        centers: if top_terms.is_none() { Some(fit.centers) } else { None },
        top_terms,
        k_search,
    })
}

/// The sparse TF-IDF rows of `texts` and the terms (columns).
fn text_rows(texts: &[String]) -> Result<(Rows, Vec<String>), Error> {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (terms, counts) = count_matrix(&refs, (1, 1));
    if terms.is_empty() {
        return Err(Error::invalid("/texts", "empty vocabulary: no text has a word of two or more characters"));
    }
    let (_, rows) = tfidf(&counts, terms.len());
    Ok((Rows::new(rows, terms.len()), terms))
}

/// `vectors` as sparse rows, refused unless they share one non-zero length and every value is
/// at most [`MAX_ABS`] in magnitude.
fn check_vectors(vectors: Vec<Vec<f64>>) -> Result<Rows, Error> {
    let d = vectors[0].len();
    if d == 0 {
        return Err(Error::invalid("/vectors/0", "an empty row"));
    }
    if vectors.len() * d > MAX_CELLS {
        return Err(Error::invalid("/vectors", format!("{} rows × {d} is over {MAX_CELLS} cells", vectors.len())));
    }
    let mut rows = Vec::with_capacity(vectors.len());
    for (i, row) in vectors.into_iter().enumerate() {
        if row.len() != d {
            return Err(Error::invalid(&format!("/vectors/{i}"), format!("{} values; row 0 has {d}", row.len())));
        }
        if let Some(j) = row.iter().position(|v| v.abs() > MAX_ABS) {
            return Err(Error::invalid(&format!("/vectors/{i}/{j}"), format!("magnitude over {MAX_ABS:e}")));
        }
        rows.push(row.into_iter().enumerate().filter(|&(_, v)| v != 0.0).collect());
    }
    Ok(Rows::new(rows, d))
}

/// `init` must have `k` distinct row indices below `n`.
fn check_init(init: &[usize], k: usize, n: usize) -> Result<(), Error> {
    if init.len() != k {
        return Err(Error::invalid("/init", format!("{} rows for k = {k}; give one per cluster", init.len())));
    }
    for (j, &row) in init.iter().enumerate() {
        if row >= n {
            return Err(Error::invalid(&format!("/init/{j}"), format!("row {row} out of range (0..{n})")));
        }
        if init[..j].contains(&row) {
            return Err(Error::invalid(&format!("/init/{j}"), format!("row {row} repeated")));
        }
    }
    Ok(())
}

/// `x·c` of a sparse row and a dense vector: one product per non-zero of the row.
fn dot_dense(row: &[(usize, f64)], dense: &[f64]) -> f64 {
    row.iter().map(|&(j, x)| x * dense[j]).sum()
}

/// The squared distance of a sparse row to a dense vector, summed over every column in order
/// (exact, no norm expansion: used for the inertia and the relocation of empty clusters).
fn squared_distance(row: &[(usize, f64)], dense: &[f64]) -> f64 {
    let mut values = row.iter().peekable();
    let mut sum = 0.0;
    for (j, &c) in dense.iter().enumerate() {
        let x = values.next_if(|&&(col, _)| col == j).map_or(0.0, |&(_, x)| x);
        sum += (x - c) * (x - c);
    }
    sum
}

/// `|c|²` of a dense centre, rounded as scikit-learn's `row_norms` (numpy's
/// `einsum("ij,ij->i")` with 128-bit SIMD) rounds it: two running sums, of the even and of the
/// odd columns, each taking its columns in blocks of four, the last of a block first, then
/// added. It must round alike: a text sharing no term with any centre is exactly as far from
/// each in real numbers, so the rounded `|c|²` alone picks its nearest centre.
fn squared_norm(c: &[f64]) -> f64 {
    let mut lanes = [0.0; 2];
    let blocks = c.chunks_exact(8);
    let tail = blocks.remainder();
    for block in blocks {
        for (lane, sum) in lanes.iter_mut().enumerate() {
            for step in (0..4).rev() {
                let x = block[2 * step + lane];
                *sum += x * x;
            }
        }
    }
    for pair in tail.chunks(2) {
        for (sum, x) in lanes.iter_mut().zip(pair) {
            *sum += x * x;
        }
    }
    lanes[0] + lanes[1]
}

/// Index of the nearest centre (ties: the lower), ranked as scikit-learn's Lloyd step ranks
/// them: by `|c|² - 2 x·c` (`|x|²` is the same for every centre). A text sharing no term with
/// any centre is then exactly as far from each in real numbers, and goes to the centre of the
/// smallest computed `|c|²`, as in scikit-learn.
fn nearest(row: &[(usize, f64)], centers: &[Vec<f64>], center_norms: &[f64]) -> usize {
    let mut best = (0, f64::INFINITY);
    for (c, (center, norm)) in centers.iter().zip(center_norms).enumerate() {
        let d = norm - 2.0 * dot_dense(row, center);
        if d < best.1 {
            best = (c, d);
        }
    }
    best.0
}

/// Every row's nearest centre.
fn assign(rows: &Rows, centers: &[Vec<f64>]) -> Vec<usize> {
    let norms: Vec<f64> = centers.iter().map(|c| squared_norm(c)).collect();
    rows.rows.iter().map(|r| nearest(r, centers, &norms)).collect()
}

/// Lloyd's algorithm from the rows `init` (see the module doc). `iterations` counts as
/// scikit-learn's `n_iter_`: the assignment + update steps run, the last being the one after
/// which no label changed (or no centre moved).
fn lloyd(rows: &Rows, init: &[usize], max_iter: usize) -> Fit {
    let (k, d) = (init.len(), rows.dimensions);
    let mut centers: Vec<Vec<f64>> = init.iter().map(|&i| dense(&rows.rows[i], d)).collect();
    let mut labels_old: Vec<usize> = vec![usize::MAX; rows.len()];
    let (mut iterations, mut converged, mut strict) = (0, false, false);
    let mut labels = Vec::new();
    while iterations < max_iter {
        iterations += 1;
        labels = assign(rows, &centers);
        let mut sums = vec![vec![0.0; d]; k];
        let mut weights = vec![0.0; k];
        for (row, &l) in rows.rows.iter().zip(&labels) {
            weights[l] += 1.0;
            for &(j, x) in row {
                sums[l][j] += x;
            }
        }
        relocate_empty(rows, &centers, &labels, &mut sums, &mut weights);
        let biggest = (0..k).fold(0, |b, c| if weights[c] > weights[b] { c } else { b });
        for c in 0..k {
            if weights[c] > 0.0 {
                let scale = 1.0 / weights[c];
                sums[c].iter_mut().for_each(|s| *s *= scale);
            }
        }
        for c in 0..k {
            if weights[c] <= 0.0 {
                sums[c] = sums[biggest].clone();
            }
        }
        let shift: f64 =
            centers.iter().zip(&sums).flat_map(|(a, b)| a.iter().zip(b)).map(|(x, y)| (x - y) * (x - y)).sum();
        centers = sums;
        if labels == labels_old {
            (converged, strict) = (true, true);
            break;
        }
        if shift <= 0.0 {
            converged = true;
            break;
        }
        labels_old.clone_from(&labels);
    }
    if !strict {
        labels = assign(rows, &centers);
    }
    let inertia = rows.rows.iter().zip(&labels).map(|(r, &l)| squared_distance(r, &centers[l])).sum();
    Fit { labels, centers, inertia, iterations, converged }
}

/// scikit-learn's `_relocate_empty_clusters_dense` on the cluster sums: each empty cluster takes
/// the row farthest from its centre (farthest first, ties by row), which leaves its old cluster.
fn relocate_empty(rows: &Rows, centers: &[Vec<f64>], labels: &[usize], sums: &mut [Vec<f64>], weights: &mut [f64]) {
    let empty: Vec<usize> = (0..weights.len()).filter(|&c| weights[c] == 0.0).collect();
    if empty.is_empty() {
        return;
    }
    let distances: Vec<f64> = rows.rows.iter().zip(labels).map(|(r, &l)| squared_distance(r, &centers[l])).collect();
    if distances.iter().all(|&d| d == 0.0) {
        return;
    }
    let mut far: Vec<usize> = (0..rows.len()).collect();
    far.sort_by(|&a, &b| distances[b].total_cmp(&distances[a]).then(a.cmp(&b)));
    for (&new, &row) in empty.iter().zip(&far) {
        let old = labels[row];
        // The empty cluster's sums are all zero: only the row's non-zero columns change.
        for &(j, x) in &rows.rows[row] {
            sums[old][j] -= x;
            sums[new][j] = x;
        }
        weights[new] = 1.0;
        weights[old] -= 1.0;
    }
}

/// SplitMix64: a small, well-mixed 64-bit generator.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Greedy k-means++ (see the module doc): the rows chosen as initial centres. Squared distances
/// are `max(|x|² + |y|² - 2 x·y, 0)`, as scikit-learn's k-means++ computes them.
fn kmeans_plus_plus(rows: &Rows, k: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix64(seed);
    let n = rows.len();
    let trials = 2 + (k as f64).ln().floor() as usize;
    let distances_to = |candidate: usize| -> Vec<f64> {
        let y = dense(&rows.rows[candidate], rows.dimensions);
        let norm = rows.norms[candidate];
        rows.rows.iter().zip(&rows.norms).map(|(r, n)| (n + norm - 2.0 * dot_dense(r, &y)).max(0.0)).collect()
    };
    let first = ((rng.uniform() * n as f64) as usize).min(n - 1);
    let mut chosen = vec![first];
    let mut closest = distances_to(first);
    let mut potential: f64 = closest.iter().sum();
    while chosen.len() < k {
        let mut best: Option<(usize, f64, Vec<f64>)> = None;
        for _ in 0..trials {
            let target = rng.uniform() * potential;
            let mut cumulative = 0.0;
            let candidate = closest
                .iter()
                .position(|&d| {
                    cumulative += d;
                    cumulative >= target
                })
                .unwrap_or(n - 1);
            let distances: Vec<f64> = distances_to(candidate).iter().zip(&closest).map(|(&d, &c)| c.min(d)).collect();
            let total: f64 = distances.iter().sum();
            if best.as_ref().is_none_or(|b| total < b.1) {
                best = Some((candidate, total, distances));
            }
        }
        let (candidate, total, distances) = best.expect("at least two trials");
        chosen.push(candidate);
        (potential, closest) = (total, distances);
    }
    chosen
}

/// Mean silhouette coefficient, or `None` unless 2 <= distinct labels <= n - 1, with
/// scikit-learn's distances `sqrt(max(|x|² + |y|² - 2 x·y, 0))` (0 from a row to itself).
///
/// Each row needs its sum of distances to every cluster. Done pair by pair that is n² dense
/// distances; instead, as two rows sharing no column have `x·y = 0` and a distance that depends
/// on their norms alone, a row's sums start from `Σ sqrt(|x|² + |y|²)` over all rows `y`,
/// computed once per distinct (cluster, norm) (TF-IDF rows have norm 1 or 0, up to rounding: a
/// few per cluster), and only the rows sharing a column with it, found with their dot products
/// through a column -> rows index, are corrected to their true distance.
fn silhouette(rows: &Rows, labels: &[usize]) -> Option<f64> {
    let n = rows.len();
    let k = labels.iter().max().map_or(0, |m| m + 1);
    let mut sizes = vec![0usize; k];
    for &l in labels {
        sizes[l] += 1;
    }
    let distinct = sizes.iter().filter(|&&s| s > 0).count();
    if distinct < 2 || distinct > n - 1 {
        return None;
    }
    // norm_counts[c]: the distinct squared norms of cluster c's rows, with their counts.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| labels[a].cmp(&labels[b]).then(rows.norms[a].total_cmp(&rows.norms[b])));
    let mut norm_counts: Vec<Vec<(f64, f64)>> = vec![Vec::new(); k];
    for &i in &order {
        let counts = &mut norm_counts[labels[i]];
        match counts.last_mut() {
            Some((norm, count)) if *norm == rows.norms[i] => *count += 1.0,
            _ => counts.push((rows.norms[i], 1.0)),
        }
    }
    // postings[j]: the rows with a non-zero in column j, and that value.
    let mut postings: Vec<Vec<(usize, f64)>> = vec![Vec::new(); rows.dimensions];
    for (i, row) in rows.rows.iter().enumerate() {
        for &(j, x) in row {
            postings[j].push((i, x));
        }
    }
    let (mut dots, mut touched, mut sharing) = (vec![0.0; n], vec![false; n], Vec::new());
    let mut sums = vec![0.0; k];
    let mut total = 0.0;
    for i in 0..n {
        let norm = rows.norms[i];
        for (sum, counts) in sums.iter_mut().zip(&norm_counts) {
            *sum = counts.iter().map(|&(other, count)| count * (norm + other).sqrt()).sum();
        }
        for &(j, x) in &rows.rows[i] {
            for &(other, y) in &postings[j] {
                if !touched[other] {
                    touched[other] = true;
                    sharing.push(other);
                }
                dots[other] += x * y;
            }
        }
        for other in sharing.drain(..) {
            let norms = norm + rows.norms[other];
            let distance = if other == i { 0.0 } else { (norms - 2.0 * dots[other]).max(0.0).sqrt() };
            sums[labels[other]] += distance - norms.sqrt();
            (dots[other], touched[other]) = (0.0, false);
        }
        let own = labels[i];
        if sizes[own] < 2 {
            continue;
        }
        let a = sums[own] / (sizes[own] - 1) as f64;
        let b = (0..k)
            .filter(|&c| c != own && sizes[c] > 0)
            .map(|c| sums[c] / sizes[c] as f64)
            .fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 {
            total += (b - a) / m;
        }
    }
    Some(total / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> Args {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn two_obvious_groups_by_init_and_by_seed() {
        let json = r#"{"vectors": [[0, 0], [0, 1], [10, 10], [10, 11], [0.5, 0.5]], "init": [0, 2]}"#;
        let c = cluster(args(json)).unwrap();
        assert_eq!(c.labels, [0, 0, 1, 1, 0]);
        assert_eq!(c.sizes, [3, 2]);
        // Centres (1/6, 1/2) and (10, 10.5): inertia = 3 points around the first + 2 * 0.25.
        let first = [vec![(1, 1.0)], vec![(0, 0.5), (1, 0.5)]]
            .iter()
            .map(|p| squared_distance(p, &[0.5 / 3.0, 0.5]))
            .sum::<f64>()
            + squared_distance(&[], &[0.5 / 3.0, 0.5]);
        assert!((c.inertia - first - 0.5).abs() < 1e-12 && c.converged);
        let seeded =
            cluster(args(r#"{"vectors": [[0, 0], [0, 1], [10, 10], [10, 11], [0.5, 0.5]], "k": 2, "seed": 7}"#))
                .unwrap();
        assert_eq!(seeded.sizes.iter().copied().max(), Some(3));
        let auto = cluster(args(r#"{"vectors": [[0, 0], [0, 1], [10, 10], [10, 11], [0.5, 0.5]]}"#)).unwrap();
        assert_eq!(auto.k, 2, "{:?}", auto.k_search);
    }

    #[test]
    fn silhouette_by_hand() {
        // Clusters {0, 1} and {4}: row 0: a = 1, b = 4, s = 3/4; row 1: a = 1, b = 3, s = 2/3;
        // row 2 alone: 0.
        let rows = check_vectors(vec![vec![0.0], vec![1.0], vec![4.0]]).unwrap();
        let s = silhouette(&rows, &[0, 0, 1]).unwrap();
        assert!((s - (0.75 + 2.0 / 3.0) / 3.0).abs() < 1e-15);
        assert_eq!(silhouette(&rows, &[0, 0, 0]), None);
        assert_eq!(silhouette(&rows, &[0, 1, 2]), None);
    }

    #[test]
    fn texts_get_top_terms() {
        let c = cluster(args(
            r#"{"texts": ["cats purr", "cats meow", "rust borrow checker", "rust lifetimes"], "k": 2, "init": [0, 2]}"#,
        ))
        .unwrap();
        assert_eq!(c.labels, [0, 0, 1, 1]);
        let terms = c.top_terms.unwrap();
        assert_eq!((terms[0][0].term.as_str(), terms[1][0].term.as_str()), ("cats", "rust"));
    }

    #[test]
    fn bad_input_names_the_argument() {
        let message = |json: &str| match cluster(args(json)).unwrap_err() {
            Error::InvalidArguments(m) => m,
            other => panic!("{other:?}"),
        };
        assert!(message(r#"{"vectors": [[1], [2]], "k": 3}"#).starts_with("/k:"));
        assert!(message(r#"{"vectors": [[1], [2, 3]]}"#).starts_with("/vectors/1:"));
        assert!(message(r#"{"vectors": [[1], [2]], "init": [0, 2]}"#).starts_with("/init/1:"));
        assert!(message(r#"{"vectors": [[1], [2]], "init": [1, 1]}"#).starts_with("/init/1:"));
        assert!(message(r#"{"vectors": [[1], [2]], "k": 1, "init": [0, 1]}"#).starts_with("/init:"));
        assert!(message(r#"{"texts": ["a", "b !"]}"#).starts_with("/texts: empty vocabulary"));
        assert!(message(r#"{"vectors": [[1], [2]]}"#).starts_with("/k:"));
    }
}
