//! `ide_agents_ultra_duplicates`: near-duplicate texts or files by MinHash and LSH banding.
//!
//! - Shingles: each item is tokenised by [`textkit::tokenize`] (lowercased runs of letters and
//!   digits) and its shingles are the distinct runs of `shingle_size` consecutive tokens, joined
//!   by one space; an item with fewer tokens has one shingle (all of them), an item without tokens
//!   none (it is listed in `empty` and never paired).
//! - MinHash: each shingle is hashed to 32 bits (its tokens' hashes, FNV-1a 64 and the
//!   SplitMix64 finaliser, folded by the finaliser; the high half; a token is hashed once and
//!   shingles are never stored); permutation `i` maps a hash `h` to `a_i * h + b_i` (wrapping
//!   32-bit arithmetic, `a_i` odd, so a bijection; the pairs are drawn by SplitMix64 from `seed`),
//!   and an item's signature is the minimum per permutation (a loop the compiler runs four lanes
//!   at a time with SIMD). The estimated Jaccard of two items is the fraction of equal
//!   signature entries.
//! - LSH: the signature is cut into `bands` bands of `rows` rows, chosen as the most rows for
//!   which a pair at exactly the threshold becomes a candidate (shares a band) with probability
//!   `1 - (1 - t^rows)^bands >= 0.99` ([`RECALL_TARGET`]); unused signature entries are ignored.
//!   Items are grouped per band by sorting on a hash of their band, and two items are candidates
//!   when their bands are equal.
//! - Every candidate pair gets its exact Jaccard (shared shingles / all shingles of the two,
//!   shingles compared as token sequences; the sets are made only for items in candidates);
//!   only pairs with exact Jaccard >= `threshold` are reported, so there are no false positives;
//!   a pair above the threshold is missed only if LSH did not make it a candidate.

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::rank::read_text;

/// Default tokens per shingle.
const DEFAULT_SHINGLE_SIZE: usize = 3;
/// Default MinHash signature length.
const DEFAULT_NUM_PERM: usize = 128;
/// Default least Jaccard of a reported pair.
const DEFAULT_THRESHOLD: f64 = 0.8;
/// Default seed of the MinHash permutations.
const DEFAULT_SEED: u64 = 1;
/// Default cap on the pairs returned.
const DEFAULT_MAX_PAIRS: usize = 1000;
/// Probability with which LSH must make a pair at exactly the threshold a candidate.
const RECALL_TARGET: f64 = 0.99;
/// Most items (texts and files together).
const MAX_ITEMS: usize = 5000;
/// Pairs named in the text summary.
const SUMMARY_PAIRS: usize = 10;

pub struct Duplicates;

impl Tool for Duplicates {
    const NAME: &'static str = "ide_agents_ultra_duplicates";
    const TITLE: Option<&'static str> = Some("Find near-duplicates");
    const DESCRIPTION: &'static str = "Finds near-duplicate texts or workspace files: MinHash signatures of token \
                                       shingles, LSH banding for candidate pairs, and the exact Jaccard similarity \
                                       of every candidate; reports the pairs at or above `threshold`. Deterministic \
                                       for a given `seed`.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Found;

    fn call(mut args: Args) -> Result<Reply<Found>, Error> {
        let (ids, texts) = load(&mut args)?;
        let found = duplicates(&ids, &texts, &args)?;
        let text = found.summary();
        Ok(Reply::new(found).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// Texts to compare; a text's id is its index here.
    #[schemars(length(max = 5000))]
    #[serde(default)]
    texts: Vec<String>,
    /// Files (paths under `root`) to compare too; a file's id is its path.
    #[schemars(length(max = 5000))]
    #[serde(default)]
    paths: Vec<String>,
    /// The root the paths are in (default `workspace`).
    #[serde(default = "default_root")]
    #[schemars(length(min = 1, max = 100))]
    root: String,
    /// Tokens per shingle (default 3).
    #[serde(default = "default_shingle_size")]
    #[schemars(range(min = 1, max = 32))]
    shingle_size: usize,
    /// MinHash signature length (default 128).
    #[serde(default = "default_num_perm")]
    #[schemars(range(min = 8, max = 1024))]
    num_perm: usize,
    /// Least exact Jaccard similarity of a reported pair (default 0.8).
    #[serde(default = "default_threshold")]
    #[schemars(range(min = 0.01, max = 1))]
    threshold: f64,
    /// Seed of the MinHash permutations (default 1).
    #[serde(default = "default_seed")]
    seed: u64,
    /// Most pairs returned, most similar first (default 1000).
    #[serde(default = "default_max_pairs")]
    #[schemars(range(min = 1, max = 100000))]
    max_pairs: usize,
}

fn default_root() -> String {
    "workspace".into()
}

fn default_shingle_size() -> usize {
    DEFAULT_SHINGLE_SIZE
}

fn default_num_perm() -> usize {
    DEFAULT_NUM_PERM
}

fn default_threshold() -> f64 {
    DEFAULT_THRESHOLD
}

fn default_seed() -> u64 {
    DEFAULT_SEED
}

fn default_max_pairs() -> usize {
    DEFAULT_MAX_PAIRS
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Found {
    /// Items compared (texts, then files).
    items: usize,
    /// LSH bands and rows per band (`bands * rows <= num_perm`).
    bands: usize,
    rows: usize,
    /// Candidate pairs from LSH (each checked exactly).
    candidates: usize,
    /// Pairs with exact Jaccard >= threshold (before `max_pairs`).
    pairs_found: usize,
    /// Those pairs, exact Jaccard descending, then by position; at most `max_pairs`.
    pairs: Vec<Pair>,
    /// Ids of the items without tokens (never paired).
    empty: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Pair {
    /// Id of the earlier item (a text's index, a file's path).
    a: String,
    /// Id of the later item.
    b: String,
    /// Fraction of equal MinHash signature entries.
    estimated_jaccard: f64,
    /// Shared shingles divided by all shingles of the two.
    jaccard: f64,
}

impl Found {
    fn summary(&self) -> String {
        let mut text = format!(
            "{} near-duplicate pairs among {} items ({} LSH candidates, {} bands x {} rows)",
            self.pairs_found, self.items, self.candidates, self.bands, self.rows
        );
        for p in self.pairs.iter().take(SUMMARY_PAIRS) {
            text.push_str(&format!(
                "\n{} ~ {}: jaccard {:.3} (estimated {:.3})",
                p.a, p.b, p.jaccard, p.estimated_jaccard
            ));
        }
        text
    }
}

/// The ids and texts of the items: the inline texts (taken out of `args`), then the files'.
fn load(args: &mut Args) -> Result<(Vec<String>, Vec<String>), Error> {
    let mut ids: Vec<String> = (0..args.texts.len()).map(|i| i.to_string()).collect();
    let mut texts = std::mem::take(&mut args.texts);
    for (i, path) in args.paths.iter().enumerate() {
        texts.push(read_text(&args.root, path, &format!("/paths/{i}"))?);
        ids.push(path.clone());
    }
    Ok((ids, texts))
}

/// Tokens as ids (one per distinct token text, so equal id sequences are equal texts: tokens
/// hold no spaces) with their hashes.
#[derive(Default)]
struct Tokens {
    ids: FxHashMap<String, u32>,
    /// The hash of each token, by id.
    hashes: Vec<u64>,
}

impl Tokens {
    /// The token ids of `text`.
    fn of(&mut self, text: &str) -> Vec<u32> {
        textkit::tokens(text).map(|t| self.id(&t)).collect()
    }

    fn id(&mut self, token: &str) -> u32 {
        if let Some(&id) = self.ids.get(token) {
            return id;
        }
        let id = u32::try_from(self.hashes.len()).expect("fewer than 2^32 tokens");
        self.hashes.push(mix(fnv(token.as_bytes())));
        self.ids.insert(token.to_owned(), id);
        id
    }

    /// The hash of a shingle (its tokens' hashes folded), 32 bits: depends on the text only.
    fn shingle_hash(&self, shingle: &[u32]) -> u32 {
        (shingle.iter().fold(0, |h, &t| mix(h ^ self.hashes[t as usize])) >> 32) as u32
    }
}

/// The shingles of an item with these tokens, with repeats: the runs of `size` consecutive tokens
/// (all of them if fewer; none without tokens).
fn shingles(tokens: &[u32], size: usize) -> std::slice::Windows<'_, u32> {
    tokens.windows(size.min(tokens.len()).max(1))
}

/// The distinct shingles of an item, sorted (for the exact Jaccard).
fn shingle_set(tokens: &[u32], size: usize) -> Vec<&[u32]> {
    let mut set: Vec<&[u32]> = if tokens.is_empty() { Vec::new() } else { shingles(tokens, size).collect() };
    set.sort_unstable();
    set.dedup();
    set
}

/// Exact Jaccard of two sorted, distinct sets.
fn jaccard<T: Ord>(a: &[T], b: &[T]) -> f64 {
    let (mut i, mut j, mut shared) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    shared as f64 / (a.len() + b.len() - shared) as f64
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a 64.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// MinHash permutations `h -> a[i] * h + b[i]` (wrapping, `a[i]` odd), as two arrays so that
/// [`signature`]'s loop vectorises.
struct Permutations {
    a: Vec<u32>,
    b: Vec<u32>,
}

impl Permutations {
    /// `num_perm` permutations drawn by SplitMix64 from `seed`.
    fn new(seed: u64, num_perm: usize) -> Self {
        let mut state = seed;
        let mut next = || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            (mix(state) >> 32) as u32
        };
        let (a, b) = (0..num_perm).map(|_| (next() | 1, next())).unzip();
        Self { a, b }
    }
}

/// The MinHash signature of an item: the least image of its shingles' hashes under each
/// permutation (repeated shingles change no minimum).
fn signature(tokens: &Tokens, item: &[u32], size: usize, permutations: &Permutations) -> Vec<u32> {
    let mut signature = vec![u32::MAX; permutations.a.len()];
    if item.is_empty() {
        return signature;
    }
    for shingle in shingles(item, size) {
        let h = tokens.shingle_hash(shingle);
        for ((min, &a), &b) in signature.iter_mut().zip(&permutations.a).zip(&permutations.b) {
            *min = (*min).min(a.wrapping_mul(h).wrapping_add(b));
        }
    }
    signature
}

/// (bands, rows): the most rows per band for which a pair at `threshold` is a candidate with
/// probability at least [`RECALL_TARGET`] (one row per band if none is).
fn banding(num_perm: usize, threshold: f64) -> (usize, usize) {
    let candidate = |rows: usize| {
        let bands = num_perm / rows;
        1.0 - (1.0 - threshold.powi(rows as i32)).powi(bands as i32)
    };
    let rows = (1..=num_perm).rev().find(|&r| candidate(r) >= RECALL_TARGET).unwrap_or(1);
    (num_perm / rows, rows)
}

fn duplicates(ids: &[String], texts: &[String], args: &Args) -> Result<Found, Error> {
    if texts.len() < 2 || texts.len() > MAX_ITEMS {
        return Err(Error::invalid(
            "/texts",
            format!("needs 2 to {MAX_ITEMS} texts and paths together, got {}", texts.len()),
        ));
    }
    let permutations = Permutations::new(args.seed, args.num_perm);
    let mut vocabulary = Tokens::default();
    let items: Vec<Vec<u32>> = texts.iter().map(|t| vocabulary.of(t)).collect();
    let size = args.shingle_size;
    let signatures: Vec<Vec<u32>> = items.iter().map(|i| signature(&vocabulary, i, size, &permutations)).collect();
    let (bands, rows) = banding(args.num_perm, args.threshold);
    let mut candidates: BTreeSet<(usize, usize)> = BTreeSet::new();
    let mut keyed: Vec<(u64, usize)> = Vec::with_capacity(texts.len());
    for band in 0..bands {
        let slice = |i: usize| &signatures[i][band * rows..(band + 1) * rows];
        keyed.clear();
        keyed.extend(
            (0..texts.len())
                .filter(|&i| !items[i].is_empty())
                .map(|i| (slice(i).iter().fold(0, |h, &v| mix(h ^ u64::from(v))), i)),
        );
        keyed.sort_unstable();
        for run in keyed.chunk_by(|x, y| x.0 == y.0) {
            for (x, &(_, i)) in run.iter().enumerate() {
                candidates.extend(run[x + 1..].iter().filter(|(_, j)| slice(i) == slice(*j)).map(|&(_, j)| (i, j)));
            }
        }
    }
    // Shingle sets only for the items in candidate pairs.
    let mut sets: Vec<Option<Vec<&[u32]>>> = vec![None; texts.len()];
    for &(i, j) in &candidates {
        for k in [i, j] {
            sets[k].get_or_insert_with(|| shingle_set(&items[k], size));
        }
    }
    let set = |k: usize| sets[k].as_deref().expect("made for every candidate");
    let mut pairs: Vec<(usize, usize, f64)> = candidates
        .iter()
        .map(|&(i, j)| (i, j, jaccard(set(i), set(j))))
        .filter(|&(_, _, jac)| jac >= args.threshold)
        .collect();
    pairs.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    let pairs_found = pairs.len();
    pairs.truncate(args.max_pairs);
    let pairs = pairs
        .into_iter()
        .map(|(i, j, jac)| {
            let equal = signatures[i].iter().zip(&signatures[j]).filter(|(x, y)| x == y).count();
            Pair {
                a: ids[i].clone(),
                b: ids[j].clone(),
                estimated_jaccard: equal as f64 / args.num_perm as f64,
                jaccard: jac,
            }
        })
        .collect();
    let empty = (0..texts.len()).filter(|&i| items[i].is_empty()).map(|i| ids[i].clone()).collect();
    Ok(Found { items: texts.len(), bands, rows, candidates: candidates.len(), pairs_found, pairs, empty })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: serde_json::Value) -> Result<Found, Error> {
        let mut args: Args = serde_json::from_value(json).unwrap();
        let (ids, texts) = load(&mut args)?;
        duplicates(&ids, &texts, &args)
    }

    /// The shingle set of `text`, as token texts.
    fn set_of(text: &str, size: usize) -> Vec<Vec<String>> {
        let mut vocabulary = Tokens::default();
        let item = vocabulary.of(text);
        let names: Vec<&String> = {
            let mut by_id: Vec<(&String, &u32)> = vocabulary.ids.iter().collect();
            by_id.sort_by_key(|(_, id)| **id);
            by_id.into_iter().map(|(t, _)| t).collect()
        };
        let mut set: Vec<Vec<String>> =
            shingle_set(&item, size).iter().map(|s| s.iter().map(|&t| names[t as usize].clone()).collect()).collect();
        set.sort();
        set
    }

    #[test]
    fn shingles_and_jaccard_are_exact() {
        let words = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(set_of("A b c a b c", 3), [words("a b c"), words("b c a"), words("c a b")]);
        assert_eq!(set_of("one two", 3), [words("one two")], "fewer tokens than the size: one shingle");
        assert!(set_of("--", 3).is_empty());
        assert_eq!(set_of("Ünïcode ÄND ascii", 3), set_of("ünïcode änd ASCII", 3));
        assert_eq!(set_of("a b c d e f", 5), [words("a b c d e"), words("b c d e f")]);
        let mut vocabulary = Tokens::default();
        let (a, b) = (vocabulary.of("a b c d e"), vocabulary.of("a b c d f"));
        assert_eq!(jaccard(&shingle_set(&a, 2), &shingle_set(&b, 2)), 3.0 / 5.0);
        // The same text gives the same shingle hashes, whatever else was read before.
        let again = vocabulary.of("x y a b c");
        assert_eq!(vocabulary.shingle_hash(&again[2..]), vocabulary.shingle_hash(&a[..3]));
        assert_eq!(banding(128, 0.8), (21, 6));
    }

    #[test]
    fn near_duplicates_are_found_and_others_not() {
        let base = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat all day long";
        let near = base.replace("lazy", "sleepy");
        let found =
            run(serde_json::json!({"texts": [base, "something else entirely different here", near, base, "!!"],
                                           "threshold": 0.5}))
            .unwrap();
        let pairs: Vec<(&str, &str, f64)> =
            found.pairs.iter().map(|p| (p.a.as_str(), p.b.as_str(), p.jaccard)).collect();
        let mut vocabulary = Tokens::default();
        let (b, n) = (vocabulary.of(base), vocabulary.of(&near));
        let j = jaccard(&shingle_set(&b, 3), &shingle_set(&n, 3));
        assert_eq!(pairs, [("0", "3", 1.0), ("0", "2", j), ("2", "3", j)]);
        assert_eq!(found.pairs[0].estimated_jaccard, 1.0);
        assert_eq!(found.empty, ["4"]);
        let error = run(serde_json::json!({"texts": ["only one"]})).unwrap_err();
        assert!(matches!(&error, Error::InvalidArguments(m) if m.starts_with("/texts: ")), "{error:?}");
    }
}
