//! Text retrieval for tool components: [`tokenize`], [`Bm25`] (Okapi BM25 with Lucene's
//! non-negative IDF) and [`NgramVector`] (word and character 3-gram counts hashed into a fixed
//! number of buckets, L2-normalised, compared by cosine). Deterministic: no randomness, no
//! floating-point reductions whose order depends on hashing.

pub mod code;
pub mod vectorize;

use std::borrow::Cow;
use std::collections::HashMap;

/// BM25 term-frequency saturation.
pub const DEFAULT_K1: f64 = 1.2;
/// BM25 length normalisation.
pub const DEFAULT_B: f64 = 0.75;
/// Buckets of a hashed n-gram vector (2^18: collisions are rare for snippet-sized texts).
pub const NGRAM_BUCKETS: u32 = 1 << 18;

/// Lowercased runs of alphanumeric characters (`_` and punctuation separate tokens).
pub fn tokenize(text: &str) -> Vec<String> {
    tokens(text).map(Cow::into_owned).collect()
}

/// [`tokenize`]'s tokens without collecting them: ASCII is classified byte by byte, and tokens
/// that are lowercase ASCII already are borrowed from `text`.
pub fn tokens(text: &str) -> impl Iterator<Item = Cow<'_, str>> {
    /// Whether the character at byte `i` is a letter or digit, and its length in bytes.
    #[inline(always)]
    fn class(text: &str, i: usize) -> (bool, usize) {
        let byte = text.as_bytes()[i];
        if byte.is_ascii() {
            (byte.is_ascii_alphanumeric(), 1)
        } else {
            let c = text[i..].chars().next().expect("i is on a character boundary");
            (c.is_alphanumeric(), c.len_utf8())
        }
    }
    let mut i = 0;
    std::iter::from_fn(move || {
        let start = loop {
            if i == text.len() {
                return None;
            }
            let (alphanumeric, width) = class(text, i);
            if alphanumeric {
                break i;
            }
            i += width;
        };
        let mut lowercase_ascii = true;
        while i < text.len() {
            let (alphanumeric, width) = class(text, i);
            if !alphanumeric {
                break;
            }
            lowercase_ascii &= width == 1 && !text.as_bytes()[i].is_ascii_uppercase();
            i += width;
        }
        let token = &text[start..i];
        Some(if lowercase_ascii { Cow::Borrowed(token) } else { Cow::Owned(token.to_lowercase()) })
    })
}

/// A BM25 index over a fixed set of documents.
pub struct Bm25 {
    k1: f64,
    b: f64,
    /// Term counts of each document.
    docs: Vec<HashMap<String, u32>>,
    lengths: Vec<usize>,
    avg_len: f64,
    /// Documents containing each term.
    df: HashMap<String, u32>,
}

impl Bm25 {
    /// Indexes `docs` (each already tokenised).
    pub fn new(docs: &[Vec<String>], k1: f64, b: f64) -> Self {
        let mut df: HashMap<String, u32> = HashMap::new();
        let mut counts = Vec::with_capacity(docs.len());
        for doc in docs {
            let mut tf: HashMap<String, u32> = HashMap::new();
            for t in doc {
                *tf.entry(t.clone()).or_default() += 1;
            }
            for t in tf.keys() {
                *df.entry(t.clone()).or_default() += 1;
            }
            counts.push(tf);
        }
        let lengths: Vec<usize> = docs.iter().map(Vec::len).collect();
        let total: usize = lengths.iter().sum();
        let avg_len = if docs.is_empty() { 0.0 } else { total as f64 / docs.len() as f64 };
        Self { k1, b, docs: counts, lengths, avg_len, df }
    }

    /// `ln(1 + (N - df + 0.5) / (df + 0.5))`.
    pub fn idf(&self, term: &str) -> f64 {
        let n = self.docs.len() as f64;
        let df = f64::from(self.df.get(term).copied().unwrap_or(0));
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// Each query token's contribution to document `doc`'s score, in query order (a token
    /// repeated in the query counts each time).
    pub fn term_scores<'q>(&self, query: &'q [String], doc: usize) -> Vec<(&'q str, f64)> {
        let len = self.lengths[doc] as f64;
        let norm = if self.avg_len > 0.0 { len / self.avg_len } else { 0.0 };
        query
            .iter()
            .map(|t| {
                let tf = f64::from(self.docs[doc].get(t).copied().unwrap_or(0));
                let score = if tf == 0.0 {
                    0.0
                } else {
                    self.idf(t) * tf * (self.k1 + 1.0) / (tf + self.k1 * (1.0 - self.b + self.b * norm))
                };
                (t.as_str(), score)
            })
            .collect()
    }

    /// Document `doc`'s BM25 score for `query`.
    pub fn score(&self, query: &[String], doc: usize) -> f64 {
        self.term_scores(query, doc).iter().map(|(_, s)| s).sum()
    }
}

/// A sparse, L2-normalised vector of hashed word and character 3-gram counts.
#[derive(Debug, Clone, Default)]
pub struct NgramVector {
    /// (bucket, weight), sorted by bucket, buckets distinct.
    weights: Vec<(u32, f64)>,
}

impl NgramVector {
    /// The vector of `text`: each word (token) and each character 3-gram of the lowercased text
    /// (whitespace collapsed, padded with one space at each end) adds 1 to its bucket.
    pub fn new(text: &str) -> Self {
        let mut buckets: Vec<u32> = tokenize(text).iter().map(|t| bucket(b"w:", t.as_bytes())).collect();
        let normalised: String = text.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
        let chars: Vec<char> = format!(" {normalised} ").chars().collect();
        let mut gram = String::new();
        for window in chars.windows(3) {
            gram.clear();
            gram.extend(window);
            buckets.push(bucket(b"c:", gram.as_bytes()));
        }
        buckets.sort_unstable();
        let mut weights: Vec<(u32, f64)> = Vec::new();
        for b in buckets {
            match weights.last_mut() {
                Some((last, w)) if *last == b => *w += 1.0,
                _ => weights.push((b, 1.0)),
            }
        }
        let norm = weights.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            for (_, w) in &mut weights {
                *w /= norm;
            }
        }
        Self { weights }
    }

    /// Cosine similarity with `other` (both are normalised, so this is the dot product of the
    /// buckets they share, found by walking both sorted lists once).
    pub fn cosine(&self, other: &Self) -> f64 {
        let (a, b) = (&self.weights, &other.weights);
        let (mut i, mut j, mut dot) = (0, 0, 0.0);
        while i < a.len() && j < b.len() {
            match a[i].0.cmp(&b[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += a[i].1 * b[j].1;
                    i += 1;
                    j += 1;
                }
            }
        }
        dot
    }
}

/// FNV-1a 64 of `prefix` + `bytes`, folded into [`NGRAM_BUCKETS`].
fn bucket(prefix: &[u8], bytes: &[u8]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in prefix.iter().chain(bytes) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % u64::from(NGRAM_BUCKETS)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_the_lowercased_alphanumeric_runs() {
        for text in
            ["A b c a b c", "Ünïcode ÄND ascii", "snake_case camelCase 42x", "--", "", "ﬁ ǅ Σ x²y ٣٤", "a\u{301}b"]
        {
            let plain: Vec<String> =
                text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_lowercase).collect();
            assert_eq!(tokenize(text), plain, "{text:?}");
        }
    }

    #[test]
    fn bm25_matches_the_formula() {
        let docs: Vec<Vec<String>> =
            ["the cat sat", "the dog sat on the cat", "birds fly"].iter().map(|d| tokenize(d)).collect();
        let index = Bm25::new(&docs, DEFAULT_K1, DEFAULT_B);
        let q = tokenize("cat");
        // df(cat) = 2, N = 3: idf = ln(1 + 1.5/2.5); doc 0: tf 1, len 3, avg 11/3.
        let idf = (1.0f64 + 1.5 / 2.5).ln();
        let expected = idf * 2.2 / (1.0 + 1.2 * (0.25 + 0.75 * 3.0 / (11.0 / 3.0)));
        assert!((index.score(&q, 0) - expected).abs() < 1e-12);
        assert_eq!(index.score(&q, 2), 0.0);
        assert!(index.score(&q, 0) > index.score(&q, 1), "shorter document ranks higher");
    }

    #[test]
    fn ngram_similarity_is_normalised_and_deterministic() {
        let a = NgramVector::new("parse the configuration file");
        let b = NgramVector::new("configuration file parser");
        let c = NgramVector::new("zebra");
        assert!((a.cosine(&a) - 1.0).abs() < 1e-12);
        assert!(a.cosine(&b) > a.cosine(&c));
        assert_eq!(a.cosine(&b), NgramVector::new("configuration file parser").cosine(&a));
        assert_eq!(tokenize("Hello, snake_case World42"), ["hello", "snake", "case", "world42"]);
    }
}
