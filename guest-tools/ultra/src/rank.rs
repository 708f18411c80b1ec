//! `ide_agents_ultra_rank`: BM25 over the candidates (normalised by the best BM25 score) blended
//! with the cosine similarity of hashed word and character 3-gram vectors:
//! `score = alpha * bm25 / max(bm25) + (1 - alpha) * cosine`. Ties keep the input order.
//!
//! Code-aware: queries and candidates are tokenised by [`code_tokens`] (identifiers split into
//! their words: `parseHTTPResponse` matches "parse http response"), and, unless `expand` is
//! false, the query loses its English stopwords ([`without_stopwords`]: "the", "of", "a" match
//! one-letter variables in code) and is expanded by [`expand_query`] with synonyms of common
//! programming concepts at a lower weight ("edit distance" finds `levenshtein`); BM25 is then the
//! weighted sum of the terms' BM25 parts. A query of plain lowercase words without stopwords or
//! synonyms over plain-word candidates scores exactly as plain BM25 (weights 1.0, the same
//! tokens), and so does any plain query with `expand: false`. [`relevance`] is the scoring, shared with
//! `ide_agents_ultra_context_pack`; [`load`] reads candidates, shared too.

use ide_agents_tool::{Error, Reply, Tool, workspace};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::code::{code_tokens, expand_query, without_stopwords};
use textkit::{Bm25, DEFAULT_B, DEFAULT_K1, NgramVector};

/// Default weight of BM25 in the blend.
pub const DEFAULT_ALPHA: f64 = 0.6;
/// Largest workspace file ranked.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// Matched terms named in an explanation.
const EXPLAINED_TERMS: usize = 5;

pub struct Rank;

impl Tool for Rank {
    const NAME: &'static str = "ide_agents_ultra_rank";
    const TITLE: Option<&'static str> = Some("Rank candidates");
    const DESCRIPTION: &'static str = "Ranks candidate texts, snippets or workspace files by relevance to a query: \
                                       BM25 over code-aware tokens (identifiers split, query expanded with \
                                       programming synonyms) blended with hashed word/character n-gram similarity. \
                                       Deterministic; gives each item its score parts and a short explanation.";
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
    /// Drop English stopwords from the query and add synonyms of programming concepts at a lower
    /// weight (default true); false ranks by all of the query's own words (identifiers still split).
    #[serde(default = "default_expand")]
    expand: bool,
}

pub fn default_alpha() -> f64 {
    DEFAULT_ALPHA
}

fn default_k1() -> f64 {
    DEFAULT_K1
}

fn default_b() -> f64 {
    DEFAULT_B
}

fn default_expand() -> bool {
    true
}

/// A candidate: a text, or an item with an id and a text or a workspace file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Candidate {
    Text(String),
    Item(Item),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("anyOf" = [{"required": ["text"]}, {"required": ["path"]}]))]
pub struct Item {
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
    /// The weighted query terms: the query's words (1.0) and added synonyms (0.5 per word they stand for, at most 1).
    query_terms: Vec<TermScore>,
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
    /// Weighted BM25: the sum over query terms of weight times the term's BM25 part.
    bm25: f64,
    /// BM25 divided by the best BM25 score.
    bm25_normalised: f64,
    /// Cosine similarity of the hashed n-gram vectors.
    similarity: f64,
    explanation: String,
    /// The query terms it contains, with their weighted BM25 contributions, largest first.
    matched_terms: Vec<TermScore>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct TermScore {
    term: String,
    /// A weight (in `query_terms`) or a weighted BM25 contribution (in `matched_terms`).
    score: f64,
}

/// The ids and texts of `candidates`; `pointer` is the argument's JSON pointer (for errors).
pub fn load(candidates: Vec<Candidate>, pointer: &str) -> Result<(Vec<String>, Vec<String>), Error> {
    let mut ids = Vec::with_capacity(candidates.len());
    let mut texts = Vec::with_capacity(candidates.len());
    for (i, c) in candidates.into_iter().enumerate() {
        let (id, text) = match c {
            Candidate::Text(t) => (i.to_string(), t),
            Candidate::Item(Item { id, text: Some(t), .. }) => (id.unwrap_or_else(|| i.to_string()), t),
            Candidate::Item(Item { id, text: None, path: Some(p) }) => {
                let text = read_text("workspace", &p, &format!("{pointer}/{i}/path"))?;
                (id.unwrap_or(p), text)
            }
            Candidate::Item(Item { text: None, path: None, .. }) => {
                return Err(Error::invalid(&format!("{pointer}/{i}"), "needs `text` or `path`"));
            }
        };
        ids.push(id);
        texts.push(text);
    }
    Ok((ids, texts))
}

/// The text of the file at `path` under `root` (at most [`MAX_FILE_BYTES`], invalid UTF-8
/// replaced); `pointer` names the argument in the error.
pub fn read_text(root: &str, path: &str, pointer: &str) -> Result<String, Error> {
    let bytes = workspace::read_file(root, path, Some(MAX_FILE_BYTES))
        .map_err(|e| Error::invalid(pointer, format!("cannot read {path:?} in root {root:?}: {e:?}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// How relevant each of a set of texts is to a query.
pub struct Relevance {
    /// The weighted query terms.
    pub terms: Vec<(String, f64)>,
    index: Bm25,
    /// Weighted BM25 of each text.
    pub bm25: Vec<f64>,
    /// BM25 divided by the best (0 when nothing matched).
    pub normalised: Vec<f64>,
    /// n-gram cosine of each text with the query.
    pub similarity: Vec<f64>,
    /// The blend `alpha * normalised + (1 - alpha) * similarity`.
    pub score: Vec<f64>,
}

impl Relevance {
    /// Scores `texts` for `query`; `expand` adds synonyms (see the module doc).
    pub fn new(query: &str, texts: &[String], alpha: f64, k1: f64, b: f64, expand: bool) -> Self {
        let docs: Vec<Vec<String>> = texts.iter().map(|t| code_tokens(t)).collect();
        let index = Bm25::new(&docs, k1, b);
        let words = code_tokens(query);
        let terms = if expand {
            expand_query(&without_stopwords(&words))
        } else {
            words.into_iter().map(|w| (w, 1.0)).collect()
        };
        let mut relevance =
            Self { terms, index, bm25: Vec::new(), normalised: Vec::new(), similarity: Vec::new(), score: Vec::new() };
        relevance.bm25 = (0..docs.len()).map(|i| relevance.matched(i).iter().map(|(_, s)| s).sum()).collect();
        let best = relevance.bm25.iter().copied().fold(0.0, f64::max);
        relevance.normalised = relevance.bm25.iter().map(|&s| if best > 0.0 { s / best } else { 0.0 }).collect();
        let query_vector = NgramVector::new(query);
        relevance.similarity = texts.iter().map(|t| query_vector.cosine(&NgramVector::new(t))).collect();
        relevance.score = relevance
            .normalised
            .iter()
            .zip(&relevance.similarity)
            .map(|(n, s)| alpha * n + (1.0 - alpha) * s)
            .collect();
        relevance
    }

    /// Each query term's weighted BM25 contribution to text `doc`, in query order (zeros kept).
    fn matched(&self, doc: usize) -> Vec<(&str, f64)> {
        let words: Vec<String> = self.terms.iter().map(|(t, _)| t.clone()).collect();
        let parts = self.index.term_scores(&words, doc);
        self.terms.iter().zip(parts).map(|((t, w), (_, s))| (t.as_str(), w * s)).collect()
    }

    /// Indices of the texts, best score first, ties in input order.
    pub fn order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.score.len()).collect();
        order.sort_by(|&a, &b| self.score[b].total_cmp(&self.score[a]).then(a.cmp(&b)));
        order
    }
}

/// The ranking and its text rendering.
fn rank(args: Args) -> Result<(Ranking, String), Error> {
    let alpha = args.alpha;
    let (ids, texts) = load(args.candidates, "/candidates")?;
    let relevance = Relevance::new(&args.query, &texts, alpha, args.k1, args.b, args.expand);
    let mut order = relevance.order();
    order.truncate(args.top_k.unwrap_or(usize::MAX));
    let mut text = format!("{} candidates ranked for {:?} (alpha {alpha})", texts.len(), args.query);
    let items: Vec<_> = order
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            let (score, normalised, similarity) =
                (relevance.score[i], relevance.normalised[i], relevance.similarity[i]);
            let mut matched: Vec<(&str, f64)> = relevance.matched(i).into_iter().filter(|(_, s)| *s > 0.0).collect();
            matched.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
            matched.dedup_by(|a, b| a.0 == b.0);
            let terms: Vec<String> = matched.iter().take(EXPLAINED_TERMS).map(|(t, s)| format!("{t} {s:.2}")).collect();
            let explanation = if terms.is_empty() {
                format!("no query terms matched; n-gram similarity {similarity:.3}")
            } else {
                format!(
                    "BM25 {:.3} ({:.0}% of the best; matched {}), n-gram similarity {similarity:.3}",
                    relevance.bm25[i],
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
                bm25: relevance.bm25[i],
                bm25_normalised: normalised,
                similarity,
                explanation,
                matched_terms: matched.iter().map(|&(t, s)| TermScore { term: t.to_owned(), score: s }).collect(),
            }
        })
        .collect();
    let query_terms = relevance.terms.iter().map(|(t, w)| TermScore { term: t.clone(), score: *w }).collect();
    Ok((Ranking { query: args.query, alpha, query_terms, results: items }, text))
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

    #[test]
    fn plain_queries_score_plain_bm25_and_synonyms_find_other_words() {
        let docs: Vec<String> = ["the cat sat", "the dog sat on the cat", "birds fly"].map(String::from).to_vec();
        let plain = Bm25::new(&docs.iter().map(|d| textkit::tokenize(d)).collect::<Vec<_>>(), DEFAULT_K1, DEFAULT_B);
        let ours = Relevance::new("cat sat cat", &docs, DEFAULT_ALPHA, DEFAULT_K1, DEFAULT_B, true);
        let query = textkit::tokenize("cat sat cat");
        assert_eq!(ours.bm25, (0..3).map(|i| plain.score(&query, i)).collect::<Vec<_>>());
        let code = ["fn levenshtein(a: &str, b: &str) -> usize", "fn render_chart(data: &[f64])"].map(String::from);
        let (ranking, _) =
            rank(args(&serde_json::json!({"query": "edit distance", "candidates": code}).to_string())).unwrap();
        assert_eq!((ranking.results[0].index, ranking.results[0].matched_terms[0].term.as_str()), (0, "levenshtein"));
        let unexpanded = Relevance::new("edit distance", &code, DEFAULT_ALPHA, DEFAULT_K1, DEFAULT_B, false);
        assert_eq!(unexpanded.bm25, [0.0, 0.0]);
    }
}
