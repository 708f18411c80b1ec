//! `ide_agents_ultra_context_pack`: packs the snippets or files most useful for a query into a
//! token budget.
//!
//! - Relevance: `ide_agents_ultra_rank`'s score ([`Relevance`]: code tokens, synonym expansion,
//!   BM25 blended with n-gram similarity by `alpha`), in [0, 1].
//! - Tokens: each item is packed as the block `### {id}\n{text}\n`, estimated at
//!   `ceil(chars / 4)` tokens ([`CHARS_PER_TOKEN`]); the packed context is the blocks in order, so
//!   its estimate never exceeds `token_budget`.
//! - Diversity: maximal marginal relevance, greedily: the next item maximises
//!   `lambda * relevance - (1 - lambda) * max similarity to the packed items` (n-gram cosine), ties
//!   by input order. Before each pick, an item that no longer fits is left out (`budget`), and one
//!   whose similarity to a packed item is at least `redundancy` is left out (`redundancy`).

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::{DEFAULT_B, DEFAULT_K1, NgramVector};

use crate::rank::{Candidate, Relevance, default_alpha, load};

/// Characters per estimated token.
const CHARS_PER_TOKEN: usize = 4;
/// Default weight of relevance against diversity.
const DEFAULT_LAMBDA: f64 = 0.7;
/// Default similarity at which an item is redundant with a packed one.
const DEFAULT_REDUNDANCY: f64 = 0.9;
/// Largest budget.
const MAX_BUDGET: usize = 10_000_000;

pub struct ContextPack;

impl Tool for ContextPack {
    const NAME: &'static str = "ide_agents_ultra_context_pack";
    const TITLE: Option<&'static str> = Some("Pack context for a query");
    const DESCRIPTION: &'static str = "Picks the snippets or workspace files most relevant to a query that fit a token \
                                       budget (estimate: ceil(chars / 4)), relevance as ide_agents_ultra_rank scores \
                                       it, diversity by maximal marginal relevance; returns the packed context and \
                                       what was left out, and why (budget or redundancy).";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Pack;

    fn call(args: Args) -> Result<Reply<Pack>, Error> {
        let (pack, text) = pack(args)?;
        Ok(Reply::new(pack).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// What the context is for.
    #[schemars(length(min = 1, max = 10000))]
    query: String,
    /// Snippets: texts, or objects with an `id` and either `text` or `path` (a workspace file).
    #[schemars(length(min = 1, max = 10000))]
    candidates: Vec<Candidate>,
    /// Most estimated tokens of the packed context (at least 1).
    #[schemars(range(max = 10_000_000))]
    token_budget: usize,
    /// Weight of relevance against diversity in maximal marginal relevance (default 0.7).
    #[serde(default = "default_lambda")]
    #[schemars(range(min = 0, max = 1))]
    lambda: f64,
    /// n-gram similarity to a packed item at which an item is left out as redundant (default 0.9).
    #[serde(default = "default_redundancy")]
    #[schemars(range(min = 0, max = 1))]
    redundancy: f64,
    /// Weight of BM25 in the relevance blend (default 0.6), as in ide_agents_ultra_rank.
    #[serde(default = "default_alpha")]
    #[schemars(range(min = 0, max = 1))]
    alpha: f64,
}

fn default_lambda() -> f64 {
    DEFAULT_LAMBDA
}

fn default_redundancy() -> f64 {
    DEFAULT_REDUNDANCY
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Pack {
    token_budget: usize,
    /// Estimated tokens of `context` (the sum of the packed items' tokens).
    tokens_used: usize,
    /// The packed items' blocks (`### {id}\n{text}\n`), in packing order.
    context: String,
    /// In packing order.
    packed: Vec<Packed>,
    /// In the order they were left out.
    left_out: Vec<LeftOut>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Packed {
    /// The candidate's `id`, else its `path`, else its index.
    id: String,
    /// Position in the input.
    index: usize,
    /// Estimated tokens of its block.
    tokens: usize,
    /// Relevance to the query.
    score: f64,
    /// Its maximal marginal relevance when picked.
    mmr: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct LeftOut {
    id: String,
    index: usize,
    tokens: usize,
    score: f64,
    /// `budget` (it did not fit what was left) or `redundancy` (too similar to a packed item).
    reason: String,
    /// For `redundancy`: the packed item it resembles.
    similar_to: Option<String>,
}

fn block(id: &str, text: &str) -> String {
    format!("### {id}\n{text}\n")
}

fn pack(args: Args) -> Result<(Pack, String), Error> {
    if args.token_budget == 0 || args.token_budget > MAX_BUDGET {
        return Err(Error::invalid("/token_budget", format!("must be 1 to {MAX_BUDGET}")));
    }
    let (ids, texts) = load(args.candidates, "/candidates")?;
    let relevance = Relevance::new(&args.query, &texts, args.alpha, DEFAULT_K1, DEFAULT_B, true).score;
    let blocks: Vec<String> = ids.iter().zip(&texts).map(|(id, t)| block(id, t)).collect();
    let tokens: Vec<usize> = blocks.iter().map(|b| b.chars().count().div_ceil(CHARS_PER_TOKEN)).collect();
    let vectors: Vec<NgramVector> = texts.iter().map(|t| NgramVector::new(t)).collect();
    let (mut packed, mut left_out): (Vec<Packed>, Vec<LeftOut>) = (Vec::new(), Vec::new());
    let mut remaining: Vec<usize> = (0..texts.len()).collect();
    let mut left = args.token_budget;
    let leave = |i: usize, reason: &str, similar_to: Option<String>| LeftOut {
        id: ids[i].clone(),
        index: i,
        tokens: tokens[i],
        score: relevance[i],
        reason: reason.to_owned(),
        similar_to,
    };
    loop {
        // (index, similarity to the most similar packed item, that item).
        let mut open: Vec<(usize, f64)> = Vec::new();
        for &i in &remaining {
            let nearest = packed
                .iter()
                .map(|p| (vectors[i].cosine(&vectors[p.index]), p.index))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            if tokens[i] > left {
                left_out.push(leave(i, "budget", None));
            } else if let Some((_, j)) = nearest.filter(|n| n.0 >= args.redundancy) {
                left_out.push(leave(i, "redundancy", Some(ids[j].clone())));
            } else {
                open.push((i, nearest.map_or(0.0, |n| n.0)));
            }
        }
        let mmr = |&(i, sim): &(usize, f64)| args.lambda * relevance[i] - (1.0 - args.lambda) * sim;
        let Some(&best) = open.iter().max_by(|a, b| mmr(a).total_cmp(&mmr(b)).then(b.0.cmp(&a.0))) else { break };
        left -= tokens[best.0];
        packed.push(Packed {
            id: ids[best.0].clone(),
            index: best.0,
            tokens: tokens[best.0],
            score: relevance[best.0],
            mmr: mmr(&best),
        });
        remaining = open.iter().map(|o| o.0).filter(|&i| i != best.0).collect();
    }
    let tokens_used = args.token_budget - left;
    let context: String = packed.iter().map(|p| blocks[p.index].as_str()).collect();
    let mut text = format!(
        "packed {} of {} items, {tokens_used} of {} tokens (estimated as ceil(chars / 4))",
        packed.len(),
        texts.len(),
        args.token_budget
    );
    for p in &packed {
        text.push_str(&format!("\n+ {} ({} tokens, relevance {:.3})", p.id, p.tokens, p.score));
    }
    for l in &left_out {
        let why = l.similar_to.as_ref().map_or(l.reason.clone(), |s| format!("{}: like {s}", l.reason));
        text.push_str(&format!("\n- {} ({} tokens, relevance {:.3}): {why}", l.id, l.tokens, l.score));
    }
    Ok((Pack { token_budget: args.token_budget, tokens_used, context, packed, left_out }, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(value: serde_json::Value) -> Result<Pack, Error> {
        pack(serde_json::from_value(value).unwrap()).map(|(p, _)| p)
    }

    #[test]
    fn relevant_snippets_come_before_near_duplicates_and_the_budget_holds() {
        let lev = "def levenshtein(a, b):\n    prev = list(range(len(b) + 1))\n    for i, ca in enumerate(a, 1):\n        cur = [i]\n        for j, cb in enumerate(b, 1):\n            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))\n        prev = cur\n    return prev[-1]";
        let candidates = json!([
            {"id": "chart", "text": "def render_chart(data): plot(data); save('chart.png')"},
            {"id": "lev", "text": lev},
            {"id": "lev_copy", "text": lev.replace("return prev[-1]", "return int(prev[-1])")},
            {"id": "ratio", "text": "def similarity_ratio(a, b):\n    return 1 - levenshtein(a, b) / max(len(a), len(b))"},
            {"id": "http", "text": "async function getJson(url) { return (await fetch(url)).json(); }"},
        ]);
        let pack =
            run(json!({"query": "edit distance between strings", "candidates": candidates, "token_budget": 200}))
                .unwrap();
        let packed: Vec<&str> = pack.packed.iter().map(|p| p.id.as_str()).collect();
        let mut first_two = packed[..2].to_vec();
        first_two.sort_unstable();
        assert_eq!(first_two, ["lev", "ratio"], "{packed:?}");
        let copy = pack.left_out.iter().find(|l| l.id == "lev_copy").expect("the copy is left out");
        assert_eq!((copy.reason.as_str(), copy.similar_to.as_deref()), ("redundancy", Some("lev")));
        assert!(pack.tokens_used <= 200 && pack.context.chars().count().div_ceil(4) <= pack.tokens_used);
        assert_eq!(pack.tokens_used, pack.packed.iter().map(|p| p.tokens).sum::<usize>());

        let tight = run(json!({"query": "edit distance", "candidates": candidates, "token_budget": 40})).unwrap();
        assert!(tight.tokens_used <= 40);
        assert!(tight.left_out.iter().any(|l| l.id == "lev" && l.reason == "budget"));
        let zero = run(json!({"query": "x", "candidates": ["a"], "token_budget": 0})).unwrap_err();
        assert!(matches!(&zero, Error::InvalidArguments(m) if m.starts_with("/token_budget: ")), "{zero:?}");
    }
}
