//! `ide_agents_ultra_rank`: BM25 over the candidates (normalised by the best BM25 score) blended
//! with the cosine similarity of hashed word and character 3-gram vectors:
//! `score = alpha * bm25 / max(bm25) + (1 - alpha) * cosine`. Ties keep the input order.

use serde::Deserialize;
use serde_json::json;
use textkit::{Bm25, DEFAULT_B, DEFAULT_K1, NgramVector, tokenize};

use crate::exports::ide_agents::tool::tools::{ToolDescriptor, ToolError};
use crate::ide_agents::tool::workspace;

pub const NAME: &str = "ide_agents_ultra_rank";
/// Default weight of BM25 in the blend.
const DEFAULT_ALPHA: f64 = 0.6;
/// Largest workspace file ranked.
const MAX_FILE_BYTES: u64 = 1 << 20;

#[derive(Deserialize)]
#[serde(untagged)]
enum Candidate {
    Text(String),
    Item { id: Option<String>, text: Option<String>, path: Option<String> },
}

#[derive(Deserialize)]
struct Args {
    query: String,
    candidates: Vec<Candidate>,
    alpha: Option<f64>,
    top_k: Option<usize>,
    k1: Option<f64>,
    b: Option<f64>,
}

pub fn descriptor() -> ToolDescriptor {
    ToolDescriptor {
        name: NAME.into(),
        title: Some("Rank candidates".into()),
        description: "Ranks candidate texts, snippets or workspace files by relevance to a query: BM25 blended with \
                      hashed word/character n-gram similarity. Deterministic; gives each item its score parts and \
                      a short explanation."
            .into(),
        input_schema: json!({
            "type": "object",
            "properties": {
                "query": {"type": "string", "minLength": 1, "maxLength": 10000, "description": "What to rank for."},
                "candidates": {
                    "type": "array", "minItems": 1, "maxItems": 10000,
                    "description": "Texts, or objects with an `id` and either `text` or `path` (a workspace file).",
                    "items": {"anyOf": [
                        {"type": "string"},
                        {"type": "object", "properties": {
                            "id": {"type": "string", "description": "Your identifier for the item."},
                            "text": {"type": "string", "description": "The item's text."},
                            "path": {"type": "string", "description": "A file in the workspace root to rank by its contents."}},
                         "anyOf": [{"required": ["text"]}, {"required": ["path"]}],
                         "additionalProperties": false}
                    ]}
                },
                "alpha": {"type": "number", "minimum": 0, "maximum": 1,
                          "description": "Weight of BM25 in the blend (default 0.6); the rest is n-gram similarity."},
                "top_k": {"type": "integer", "minimum": 1, "description": "Return only the best k items."},
                "k1": {"type": "number", "minimum": 0, "maximum": 10, "description": "BM25 k1 (default 1.2)."},
                "b": {"type": "number", "minimum": 0, "maximum": 1, "description": "BM25 b (default 0.75)."}
            },
            "required": ["query", "candidates"],
            "additionalProperties": false
        })
        .to_string(),
        output_schema: Some(
            json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string"}, "alpha": {"type": "number"},
                    "results": {"type": "array", "items": {"type": "object", "properties": {
                        "rank": {"type": "integer"}, "index": {"type": "integer"}, "id": {"type": "string"},
                        "score": {"type": "number"}, "bm25": {"type": "number"}, "bm25_normalised": {"type": "number"},
                        "similarity": {"type": "number"}, "explanation": {"type": "string"},
                        "matched_terms": {"type": "array"}},
                        "required": ["rank", "index", "id", "score", "bm25", "similarity", "explanation"]}}
                },
                "required": ["query", "alpha", "results"]
            })
            .to_string(),
        ),
        annotations: crate::pure(),
    }
}

pub fn run(arguments: &str) -> crate::Answer {
    let args: Args = crate::parse(arguments)?;
    let alpha = args.alpha.unwrap_or(DEFAULT_ALPHA);
    let mut ids = Vec::with_capacity(args.candidates.len());
    let mut texts = Vec::with_capacity(args.candidates.len());
    for (i, c) in args.candidates.into_iter().enumerate() {
        let (id, text) = match c {
            Candidate::Text(t) => (i.to_string(), t),
            Candidate::Item { id, text: Some(t), .. } => (id.unwrap_or_else(|| i.to_string()), t),
            Candidate::Item { id, text: None, path: Some(p) } => {
                let bytes = workspace::read_file("workspace", &p, Some(MAX_FILE_BYTES)).map_err(|e| {
                    ToolError::InvalidArguments(format!("/candidates/{i}/path: cannot read {p:?}: {e:?}"))
                })?;
                (id.unwrap_or(p), String::from_utf8_lossy(&bytes).into_owned())
            }
            Candidate::Item { .. } => {
                return Err(ToolError::InvalidArguments(format!("/candidates/{i}: needs `text` or `path`")));
            }
        };
        ids.push(id);
        texts.push(text);
    }
    let docs: Vec<Vec<String>> = texts.iter().map(|t| tokenize(t)).collect();
    let index = Bm25::new(&docs, args.k1.unwrap_or(DEFAULT_K1), args.b.unwrap_or(DEFAULT_B));
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
            let terms: Vec<String> = matched.iter().take(5).map(|(t, s)| format!("{t} {s:.2}")).collect();
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
            json!({
                "rank": rank + 1, "index": i, "id": ids[i], "score": score, "bm25": bm25[i],
                "bm25_normalised": normalised, "similarity": similarity, "explanation": explanation,
                "matched_terms": matched.iter().map(|(t, s)| json!({"term": t, "score": s})).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok((json!({"query": args.query, "alpha": alpha, "results": items}), text))
}
