//! `ide_agents_ultra_duplicates`: near-duplicate texts or files by MinHash and LSH banding.
//!
//! - Shingles: each item is tokenised by [`textkit::tokenize`] (lowercased runs of letters and
//!   digits) and its shingles are the distinct runs of `shingle_size` consecutive tokens, joined
//!   by one space; an item with fewer tokens has one shingle (all of them), an item without tokens
//!   none (it is listed in `empty` and never paired).
//! - MinHash: each shingle's FNV-1a 64 hash is mixed with `num_perm` seeds (drawn by SplitMix64
//!   from `seed`) by the SplitMix64 finaliser; an item's signature is the minimum per seed. The
//!   estimated Jaccard of two items is the fraction of equal signature entries.
//! - LSH: the signature is cut into `bands` bands of `rows` rows, chosen as the most rows for
//!   which a pair at exactly the threshold becomes a candidate (shares a band) with probability
//!   `1 - (1 - t^rows)^bands >= 0.99` ([`RECALL_TARGET`]); unused signature entries are ignored.
//! - Every candidate pair gets its exact Jaccard (shared shingles / all shingles of the two);
//!   only pairs with exact Jaccard >= `threshold` are reported, so there are no false positives;
//!   a pair above the threshold is missed only if LSH did not make it a candidate.

use std::collections::{BTreeSet, HashMap};

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::tokenize;

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

    fn call(args: Args) -> Result<Reply<Found>, Error> {
        let (ids, texts) = load(&args)?;
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

/// Ids and texts: the texts by index, then the files by path.
fn load(args: &Args) -> Result<(Vec<String>, Vec<String>), Error> {
    let mut ids: Vec<String> = (0..args.texts.len()).map(|i| i.to_string()).collect();
    let mut texts = args.texts.clone();
    for (i, path) in args.paths.iter().enumerate() {
        texts.push(read_text(&args.root, path, &format!("/paths/{i}"))?);
        ids.push(path.clone());
    }
    Ok((ids, texts))
}

/// The distinct shingles of `text`, sorted.
fn shingles(text: &str, size: usize) -> Vec<String> {
    let tokens = tokenize(text);
    let mut out: Vec<String> = tokens.windows(size.min(tokens.len()).max(1)).map(|w| w.join(" ")).collect();
    if tokens.is_empty() {
        out.clear();
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Exact Jaccard of two sorted, distinct sets.
fn jaccard(a: &[String], b: &[String]) -> f64 {
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

/// The MinHash signature of a shingle set under `seeds`.
fn signature(shingles: &[String], seeds: &[u64]) -> Vec<u64> {
    let hashes: Vec<u64> = shingles.iter().map(|s| fnv(s.as_bytes())).collect();
    seeds.iter().map(|&seed| hashes.iter().map(|&h| mix(h ^ seed)).min().unwrap_or(u64::MAX)).collect()
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
    let mut state = args.seed;
    let seeds: Vec<u64> = (0..args.num_perm)
        .map(|_| {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            mix(state)
        })
        .collect();
    let sets: Vec<Vec<String>> = texts.iter().map(|t| shingles(t, args.shingle_size)).collect();
    let signatures: Vec<Vec<u64>> = sets.iter().map(|s| signature(s, &seeds)).collect();
    let (bands, rows) = banding(args.num_perm, args.threshold);
    let mut candidates: BTreeSet<(usize, usize)> = BTreeSet::new();
    for band in 0..bands {
        let mut buckets: HashMap<Vec<u64>, Vec<usize>> = HashMap::new();
        for (i, sig) in signatures.iter().enumerate().filter(|(i, _)| !sets[*i].is_empty()) {
            buckets.entry(sig[band * rows..(band + 1) * rows].to_vec()).or_default().push(i);
        }
        for members in buckets.values() {
            for (x, &i) in members.iter().enumerate() {
                candidates.extend(members[x + 1..].iter().map(|&j| (i, j)));
            }
        }
    }
    let mut pairs: Vec<(usize, usize, f64)> = candidates
        .iter()
        .map(|&(i, j)| (i, j, jaccard(&sets[i], &sets[j])))
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
    let empty = (0..texts.len()).filter(|&i| sets[i].is_empty()).map(|i| ids[i].clone()).collect();
    Ok(Found { items: texts.len(), bands, rows, candidates: candidates.len(), pairs_found, pairs, empty })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(json: serde_json::Value) -> Result<Found, Error> {
        let args: Args = serde_json::from_value(json).unwrap();
        let (ids, texts) = load(&args)?;
        duplicates(&ids, &texts, &args)
    }

    #[test]
    fn shingles_and_jaccard_are_exact() {
        assert_eq!(shingles("A b c a b c", 3), ["a b c", "b c a", "c a b"]);
        assert_eq!(shingles("one two", 3), ["one two"]);
        assert!(shingles("--", 3).is_empty());
        let (a, b) = (shingles("a b c d e", 2), shingles("a b c d f", 2));
        assert_eq!(jaccard(&a, &b), 3.0 / 5.0);
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
        let j = jaccard(&shingles(base, 3), &shingles(&near, 3));
        assert_eq!(pairs, [("0", "3", 1.0), ("0", "2", j), ("2", "3", j)]);
        assert_eq!(found.pairs[0].estimated_jaccard, 1.0);
        assert_eq!(found.empty, ["4"]);
        let error = run(serde_json::json!({"texts": ["only one"]})).unwrap_err();
        assert!(matches!(&error, Error::InvalidArguments(m) if m.starts_with("/texts: ")), "{error:?}");
    }
}
