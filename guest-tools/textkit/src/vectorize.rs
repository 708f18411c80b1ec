//! Bag-of-words vectors as scikit-learn builds them by default (checked against scikit-learn by
//! the `ultra_text` integration tests):
//!
//! - [`sklearn_tokens`]: `CountVectorizer`'s default analyzer: lowercase, then the runs of two or
//!   more word characters (`token_pattern=r"(?u)\b\w\w+\b"`);
//! - [`analyze`]: those tokens' word n-grams joined by one space, as
//!   `CountVectorizer(ngram_range=...)`;
//! - [`Vocabulary`] / [`count_matrix`]: the fitted vocabulary (terms sorted, as `vocabulary_`'s
//!   column order) and raw counts, rows sparse with ascending column indices;
//! - [`tfidf`] / [`transform`]: `TfidfTransformer` defaults: `idf = ln((1 + n) / (1 + df)) + 1`,
//!   raw counts times idf, rows L2-normalised (a zero row stays zero);
//! - [`cosine`], [`dot`], [`dense`]: helpers on sparse rows.
//!
//! `\w` here is `char::is_alphanumeric` or `_`. Python's `\w` differs only on rare characters
//! (Rust counts a few combining marks with the Alphabetic property as alphanumeric; Python does
//! not), so texts in those scripts may tokenise differently.

use rustc_hash::FxHashMap;

/// A sparse row: (column, value), columns strictly ascending.
pub type SparseRow = Vec<(usize, f64)>;

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The tokens of an already lowercased text: the maximal runs of word characters that are at
/// least two characters long.
fn tokens_of(lower: &str) -> impl Iterator<Item = &str> {
    lower.split(|c: char| !is_word(c)).filter(|t| t.chars().nth(1).is_some())
}

/// scikit-learn's default tokens of `text`: lowercased, then the maximal runs of word characters
/// that are at least two characters long.
pub fn sklearn_tokens(text: &str) -> Vec<String> {
    tokens_of(&text.to_lowercase()).map(str::to_owned).collect()
}

/// The analyzed terms of `text`: the word n-grams of its [`sklearn_tokens`] for `n` in
/// `min..=max`, each joined by one space (for `min == 1` the tokens themselves come first, as
/// scikit-learn's `_word_ngrams`).
pub fn analyze(text: &str, ngram_range: (usize, usize)) -> Vec<String> {
    let mut out = Vec::new();
    for_each_term(text, ngram_range, |term| out.push(term.to_owned()));
    out
}

/// Calls `f` with each analyzed term of `text`, in [`analyze`]'s order, without allocating a
/// string per term (n-grams of two or more words share one buffer).
fn for_each_term(text: &str, (min, max): (usize, usize), mut f: impl FnMut(&str)) {
    let lower = text.to_lowercase();
    if max <= 1 {
        if min <= 1 {
            tokens_of(&lower).for_each(f);
        }
        return;
    }
    let tokens: Vec<&str> = tokens_of(&lower).collect();
    if min <= 1 {
        tokens.iter().for_each(|t| f(t));
    }
    let mut joined = String::new();
    for n in min.max(2)..=max.min(tokens.len()) {
        for window in tokens.windows(n) {
            joined.clear();
            for (i, token) in window.iter().enumerate() {
                if i > 0 {
                    joined.push(' ');
                }
                joined.push_str(token);
            }
            f(&joined);
        }
    }
}

/// Room for every term of a unigram text (a word takes at least three bytes with its separator),
/// so a text's term list is not regrown token by token.
fn term_capacity(text: &str) -> usize {
    text.len() / 3 + 1
}

/// Columns (with repeats, in any order) as a sparse row of counts.
fn count_columns(mut columns: Vec<usize>) -> SparseRow {
    columns.sort_unstable();
    let mut row: SparseRow = Vec::with_capacity(columns.len());
    for col in columns {
        match row.last_mut() {
            Some((last, count)) if *last == col => *count += 1.0,
            _ => row.push((col, 1.0)),
        }
    }
    row
}

/// A fitted vocabulary: every term seen, sorted (column `i` is `terms()[i]`).
#[derive(Debug, Clone)]
pub struct Vocabulary {
    terms: Vec<String>,
    index: FxHashMap<String, usize>,
    ngram_range: (usize, usize),
}

impl Vocabulary {
    /// The vocabulary of `texts` and their raw counts (`CountVectorizer.fit_transform`; the
    /// vocabulary is empty if no text has a token: scikit-learn raises "empty vocabulary" then,
    /// and callers should refuse it), each text analyzed once: terms get ids as first seen, and
    /// the ids become columns once the terms are sorted.
    pub fn fit_transform(texts: &[&str], ngram_range: (usize, usize)) -> (Self, Vec<SparseRow>) {
        let mut seen: FxHashMap<String, usize> = FxHashMap::default();
        let ids: Vec<Vec<usize>> = texts
            .iter()
            .map(|text| {
                let mut ids = Vec::with_capacity(term_capacity(text));
                for_each_term(text, ngram_range, |term| {
                    let next = seen.len();
                    ids.push(match seen.get(term) {
                        Some(&id) => id,
                        None => *seen.entry(term.to_owned()).or_insert(next),
                    });
                });
                ids
            })
            .collect();
        let mut by_id: Vec<(String, usize)> = seen.into_iter().collect();
        by_id.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut column_of = vec![0; by_id.len()];
        for (column, (_, id)) in by_id.iter().enumerate() {
            column_of[*id] = column;
        }
        let rows =
            ids.into_iter().map(|ids| count_columns(ids.into_iter().map(|id| column_of[id]).collect())).collect();
        let terms: Vec<String> = by_id.into_iter().map(|(term, _)| term).collect();
        let index = terms.iter().enumerate().map(|(i, t)| (t.clone(), i)).collect();
        (Self { terms, index, ngram_range }, rows)
    }

    /// The terms, in column order.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// Number of terms (columns).
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// Whether no term was seen.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The column of `term`.
    pub fn column(&self, term: &str) -> Option<usize> {
        self.index.get(term).copied()
    }

    /// Raw counts of the known terms of `text` (`CountVectorizer.transform`: unknown terms are
    /// dropped).
    pub fn counts(&self, text: &str) -> SparseRow {
        let mut columns = Vec::with_capacity(term_capacity(text));
        for_each_term(text, self.ngram_range, |term| columns.extend(self.index.get(term)));
        count_columns(columns)
    }
}

/// `CountVectorizer(ngram_range).fit_transform(texts)`: the sorted terms and each text's counts.
pub fn count_matrix(texts: &[&str], ngram_range: (usize, usize)) -> (Vec<String>, Vec<SparseRow>) {
    let (vocabulary, rows) = Vocabulary::fit_transform(texts, ngram_range);
    (vocabulary.terms, rows)
}

/// `TfidfTransformer().fit_transform(counts)`: the smooth idf of each of the `n_terms` columns
/// (`ln((1 + n) / (1 + df)) + 1`, `n` = rows) and the rows weighted by it and L2-normalised.
pub fn tfidf(counts: &[SparseRow], n_terms: usize) -> (Vec<f64>, Vec<SparseRow>) {
    let mut df = vec![0usize; n_terms];
    for row in counts {
        for &(col, value) in row {
            if value != 0.0 {
                df[col] += 1;
            }
        }
    }
    let n = counts.len() as f64 + 1.0;
    let idf: Vec<f64> = df.iter().map(|&d| (n / (d as f64 + 1.0)).ln() + 1.0).collect();
    let rows = transform(counts, &idf);
    (idf, rows)
}

/// A fitted idf applied to new count rows (`TfidfTransformer.transform`): each count times its
/// column's idf, then each row L2-normalised.
pub fn transform(counts: &[SparseRow], idf: &[f64]) -> Vec<SparseRow> {
    counts
        .iter()
        .map(|row| {
            let mut row: SparseRow = row.iter().map(|&(col, v)| (col, v * idf[col])).collect();
            l2_normalize(&mut row);
            row
        })
        .collect()
}

/// Divides `row` by its Euclidean norm (a zero row is left as it is).
pub fn l2_normalize(row: &mut [(usize, f64)]) {
    let norm = row.iter().map(|(_, v)| v * v).sum::<f64>().sqrt();
    if norm > 0.0 {
        for (_, v) in row {
            *v /= norm;
        }
    }
}

/// Dot product of two sparse rows.
pub fn dot(a: &[(usize, f64)], b: &[(usize, f64)]) -> f64 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

/// Cosine similarity of two sparse rows (0 when either is zero), as
/// `sklearn.metrics.pairwise.cosine_similarity`.
pub fn cosine(a: &[(usize, f64)], b: &[(usize, f64)]) -> f64 {
    let (na, nb) = (dot(a, a).sqrt(), dot(b, b).sqrt());
    if na == 0.0 || nb == 0.0 { 0.0 } else { dot(a, b) / (na * nb) }
}

/// A sparse row as a dense vector of `n` columns.
pub fn dense(row: &[(usize, f64)], n: usize) -> Vec<f64> {
    let mut out = vec![0.0; n];
    for &(col, v) in row {
        out[col] = v;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_sklearns_default_pattern() {
        assert_eq!(
            sklearn_tokens("Hello, a snake_case World42 x! Ünïcode"),
            ["hello", "snake_case", "world42", "ünïcode"]
        );
        assert_eq!(analyze("a b c d", (1, 2)), Vec::<String>::new());
        assert_eq!(analyze("aa bb cc", (1, 2)), ["aa", "bb", "cc", "aa bb", "bb cc"]);
        assert_eq!(analyze("aa bb cc", (3, 5)), ["aa bb cc"]);
    }

    #[test]
    fn tfidf_matches_sklearn_by_hand() {
        // TfidfVectorizer().fit_transform(["the cat", "the dog the"]):
        // vocabulary [cat, dog, the]; idf = ln(3/2)+1, ln(3/2)+1, ln(3/3)+1 = 1.
        let (terms, counts) = count_matrix(&["the cat", "the dog the"], (1, 1));
        assert_eq!(terms, ["cat", "dog", "the"]);
        assert_eq!(counts[1], [(1, 1.0), (2, 2.0)]);
        let (idf, rows) = tfidf(&counts, terms.len());
        let a = 1.5f64.ln() + 1.0;
        assert!((idf[0] - a).abs() < 1e-15 && idf[2] == 1.0);
        let norm = (a * a + 4.0).sqrt();
        assert!((rows[1][0].1 - a / norm).abs() < 1e-15 && (rows[1][1].1 - 2.0 / norm).abs() < 1e-15);
        assert!((cosine(&rows[0], &rows[1]) - dot(&rows[0], &rows[1])).abs() < 1e-15);
        let fresh = transform(&[Vocabulary::fit_transform(&["the cat"], (1, 1)).0.counts("zebra")], &idf);
        assert!(fresh[0].is_empty(), "a text with no known term is a zero row");
        assert_eq!(dense(&rows[0], 3)[1], 0.0);
    }
}
