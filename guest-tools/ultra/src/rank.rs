//! `ide_agents_ultra_rank`: BM25 over the candidates (normalised by the best BM25 score) blended
//! with the cosine similarity of hashed word and character 3-gram vectors:
//! `score = alpha * bm25 / max(bm25) + (1 - alpha) * cosine`. Ties keep the input order.

use ide_agents_tool::{Error, Reply, Tool, workspace};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::{Bm25, DEFAULT_B, DEFAULT_K1, NgramVector, tokenize};

/// Default weight of BM25 in the blend.
const DEFAULT_ALPHA: f64 = 0.6;
/// Largest workspace file ranked.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Matched terms named in an explanation.
const EXPLAINED_TERMS: usize = 5;

pub struct Rank;

impl Tool for Rank {
    const NAME: &'static str = "ide_agents_ultra_rank";
    const TITLE: Option<&'static str> = Some("Rank candidates");
    const DESCRIPTION: &'static str = "Ranks candidate texts, snippets or workspace files by relevance to a query: \
                                       BM25 blended with hashed word/character n-gram similarity. Deterministic; \
                                       gives each item its score parts and a short explanation.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Ranking;

    fn call(args: Args) -> Result<Reply<Ranking>, Error> {
        let (ranking, text) = rank(args)?;
        Ok(Reply::new(ranking).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// What to rank for.
    #[schemars(length(min = 1, max = 10000))]
    query: String,
    /// Texts, or objects with an `id` and either `text` or `path` (a workspace file).
    #[schemars(length(min = 1, max = 10000))]
    candidates: Vec<Candidate>,
    /// Weight of BM25 in the blend (default 0.6); the rest is n-gram similarity.
    #[serde(default = "default_alpha")]
    #[schemars(range(min = 0, max = 1))]
    alpha: f64,
    /// Return only the best k items.
    #[schemars(range(min = 1))]
    top_k: Option<usize>,
    /// BM25 k1 (default 1.2).
    #[serde(default = "default_k1")]
    #[schemars(range(min = 0, max = 10))]
    k1: f64,
    /// BM25 b (default 0.75).
    #[serde(default = "default_b")]
    #[schemars(range(min = 0, max = 1))]
    b: f64,
}

fn default_alpha() -> f64 {
    DEFAULT_ALPHA
}

fn default_k1() -> f64 {
    DEFAULT_K1
}

fn default_b() -> f64 {
    DEFAULT_B
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
enum Candidate {
    Text(String),
    Item(Item),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["text"]}, {"required": ["path"]}]))]
struct Item {
    /// Your identifier for the item.
    id: Option<String>,
    /// The item's text.
    text: Option<String>,
    /// A file in the workspace root to rank by its contents.
    path: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Ranking {
    query: String,
    alpha: f64,
    /// Best first; ties keep the input order.
    results: Vec<Ranked>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Ranked {
    /// 1 for the best.
    rank: usize,
    /// The candidate's position in the input.
    index: usize,
    /// The candidate's `id`, else its `path`, else its index.
    id: String,
    /// `alpha * bm25_normalised + (1 - alpha) * similarity`.
    score: f64,
    bm25: f64,
    /// BM25 divided by the best BM25 score.
    bm25_normalised: f64,
    /// Cosine similarity of the hashed n-gram vectors.
    similarity: f64,
    explanation: String,
    /// The query terms it contains, with their BM25 contributions, largest first.
    matched_terms: Vec<TermScore>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct TermScore {
    term: String,
    score: f64,
}

/// The ranking and its text rendering.
fn rank(args: Args) -> Result<(Ranking, String), Error> {
    let alpha = args.alpha;
    let mut ids = Vec::with_capacity(args.candidates.len());
    let mut texts = Vec::with_capacity(args.candidates.len());
    for (i, c) in args.candidates.into_iter().enumerate() {
        let (id, text) = match c {
            Candidate::Text(t) => (i.to_string(), t),
            Candidate::Item(Item { id, text: Some(t), .. }) => (id.unwrap_or_else(|| i.to_string()), t),
            Candidate::Item(Item { id, text: None, path: Some(p) }) => {
                let bytes = workspace::read_file("workspace", &p, Some(MAX_FILE_BYTES)).map_err(|e| {
                    Error::invalid(&format!("/candidates/{i}/path"), format!("cannot read {p:?}: {e:?}"))
                })?;
                (id.unwrap_or(p), String::from_utf8_lossy(&bytes).into_owned())
            }
            Candidate::Item(Item { text: None, path: None, .. }) => {
                return Err(Error::invalid(&format!("/candidates/{i}"), "needs `text` or `path`"));
            }
        };
        ids.push(id);
        texts.push(text);
    }
    let docs: Vec<Vec<String>> = texts.iter().map(|t| tokenize(t)).collect();
    let index = Bm25::new(&docs, args.k1, args.b);
    let query_tokens = tokenize(&args.query);
    let query_vector = NgramVector::new(&args.query);
    let bm25: Vec<f64> = (0..docs.len()).map(|i| index.score(&query_tokens, i)).collect();
    let best = bm25.iter().copied().fold(0.0, f64::max);
    let mut results: Vec<(usize, f64, f64, f64)> = (0..docs.len())
        .map(|i| {
            let normalised = if best > 0.0 { bm25[i] / best } else { 0.0 };
            let similarity = query_vector.cosine(&NgramVector::new(&texts[i]));
            (i, alpha * normalised + (1.0 - alpha) * similarity, normalised, similarity)
        })
        .collect();
    results.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    results.truncate(args.top_k.unwrap_or(usize::MAX));
    let mut text = format!("{} candidates ranked for {:?} (alpha {alpha})", docs.len(), args.query);
    let items: Vec<_> = results
        .iter()
        .enumerate()
        .map(|(rank, &(i, score, normalised, similarity))| {
            let mut matched: Vec<(&str, f64)> =
                index.term_scores(&query_tokens, i).into_iter().filter(|(_, s)| *s > 0.0).collect();
            matched.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
            matched.dedup_by(|a, b| a.0 == b.0);
            let terms: Vec<String> = matched.iter().take(EXPLAINED_TERMS).map(|(t, s)| format!("{t} {s:.2}")).collect();
            let explanation = if terms.is_empty() {
                format!("no query terms matched; n-gram similarity {similarity:.3}")
            } else {
                format!(
                    "BM25 {:.3} ({:.0}% of the best; matched {}), n-gram similarity {similarity:.3}",
                    bm25[i],
                    normalised * 100.0,
                    terms.join(", ")
                )
            };
            text.push_str(&format!("\n{}. {} score {score:.4}: {explanation}", rank + 1, ids[i]));
            Ranked {
                rank: rank + 1,
                index: i,
                id: ids[i].clone(),
                score,
                bm25: bm25[i],
                bm25_normalised: normalised,
                similarity,
                explanation,
                matched_terms: matched.iter().map(|&(t, s)| TermScore { term: t.to_owned(), score: s }).collect(),
            }
        })
        .collect();
    Ok((Ranking { query: args.query, alpha, results: items }, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> Args {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn bm25_and_ngrams_blend_and_ties_keep_the_input_order() {
        let (ranking, text) =
            rank(args(r#"{"query": "cache", "candidates": ["a cache", {"id": "n", "text": "nothing"}, "a cache"]}"#))
                .unwrap();
        let order: Vec<(usize, &str)> = ranking.results.iter().map(|r| (r.index, r.id.as_str())).collect();
        assert_eq!(order, [(0, "0"), (2, "2"), (1, "n")]);
        assert_eq!((ranking.alpha, ranking.results[0].bm25_normalised), (DEFAULT_ALPHA, 1.0));
        assert!(text.starts_with("3 candidates ranked for \"cache\" (alpha 0.6)\n1. 0 score "), "{text}");
        assert_eq!(ranking.results[0].matched_terms[0].term, "cache");
    }

    #[test]
    fn an_item_without_text_or_path_is_refused() {
        let error = rank(args(r#"{"query": "x", "candidates": [{"id": "no text"}]}"#)).unwrap_err();
        assert_eq!(error, Error::InvalidArguments("/candidates/0: needs `text` or `path`".into()));
    }
}
