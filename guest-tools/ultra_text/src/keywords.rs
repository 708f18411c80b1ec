//! `ide_agents_ultra_keywords`: the keywords of each document against the corpus of all the
//! documents given, two ways:
//!
//! - TF-IDF, exactly as scikit-learn's `TfidfVectorizer(ngram_range=...)` with its defaults
//!   (lowercase, token pattern `(?u)\b\w\w+\b`, no stop words, raw counts, smooth idf, rows
//!   L2-normalised): a document's `top_k` terms by weight, ties broken by the term (ascending);
//! - TextRank key phrases: the document's tokens (same tokenizer) minus English stop words and
//!   pure numbers are the candidate words; two candidates are linked when they occur within
//!   [`WINDOW`] consecutive tokens of each other (edge weight = how often); PageRank (d = 0.85)
//!   scores the words; the top third of the words (at least one) are kept, and each maximal run
//!   of adjacent kept words in the text becomes a phrase scored by the sum of its words' scores.
//!   Phrases are listed best first (ties by the phrase), each once.

use std::collections::{BTreeMap, BTreeSet};

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::vectorize::{count_matrix, sklearn_tokens, tfidf};

use crate::shared::{ngram_range, pagerank, read_text};

/// Most documents in one call.
const MAX_DOCUMENTS: usize = 10_000;
/// Default keywords (and phrases) per document.
const DEFAULT_TOP_K: usize = 10;
/// TextRank links candidate words at most `WINDOW - 1` tokens apart.
const WINDOW: usize = 3;
/// Words TextRank never takes as candidates.
const STOP_WORDS: &[&str] = &[
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "either",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "same",
    "shall",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "yet",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

pub struct Keywords;

impl Tool for Keywords {
    const NAME: &'static str = "ide_agents_ultra_keywords";
    const TITLE: Option<&'static str> = Some("Extract keywords");
    const DESCRIPTION: &'static str = "Keywords of each document against the corpus of all documents given (inline \
                                       `texts` or workspace `paths`): TF-IDF terms (word n-grams, as scikit-learn's \
                                       TfidfVectorizer) with their weights, and TextRank key phrases.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = KeywordReport;

    fn call(args: Args) -> Result<Reply<KeywordReport>, Error> {
        let (sources, texts) = documents(args.texts, args.paths, &args.root)?;
        let report = keywords(sources, &texts, ngram_range(args.ngram_range)?, args.top_k)?;
        let text = report.text();
        Ok(Reply::new(report).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["texts"]}, {"required": ["paths"]}]))]
pub struct Args {
    /// The documents, inline (give this or `paths`).
    #[schemars(length(min = 1, max = 10000))]
    texts: Option<Vec<String>>,
    /// Files under `root` whose contents are the documents (give this or `texts`).
    #[schemars(length(min = 1, max = 10000))]
    paths: Option<Vec<String>>,
    /// The granted root `paths` are relative to (default `workspace`).
    #[serde(default = "default_root")]
    root: String,
    /// Word n-gram lengths `[min, max]` (default `[1, 1]`; `1 <= min <= max <= 5`).
    #[serde(default = "default_ngram_range")]
    ngram_range: [usize; 2],
    /// Keywords and phrases per document (default 10).
    #[serde(default = "default_top_k")]
    #[schemars(range(min = 1, max = 1000))]
    top_k: usize,
}

fn default_root() -> String {
    "workspace".into()
}

fn default_ngram_range() -> [usize; 2] {
    [1, 1]
}

fn default_top_k() -> usize {
    DEFAULT_TOP_K
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct KeywordReport {
    /// Distinct terms (n-grams) in the corpus.
    vocabulary_size: usize,
    ngram_range: [usize; 2],
    /// One per document, in input order.
    documents: Vec<DocumentKeywords>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct DocumentKeywords {
    /// Position in `texts` or `paths`.
    index: usize,
    /// The file, for `paths`.
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    /// TF-IDF terms, heaviest first (ties by term); only terms the document contains.
    keywords: Vec<TermWeight>,
    /// TextRank key phrases, best first (ties by phrase).
    phrases: Vec<Phrase>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct TermWeight {
    term: String,
    /// The document's TF-IDF weight of the term.
    weight: f64,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Phrase {
    phrase: String,
    /// Sum of its words' TextRank scores.
    score: f64,
}

impl KeywordReport {
    fn text(&self) -> String {
        let mut out = format!("{} documents, {} terms", self.documents.len(), self.vocabulary_size);
        for d in &self.documents {
            let name = d.path.clone().unwrap_or_else(|| format!("text {}", d.index));
            let terms: Vec<String> = d.keywords.iter().map(|k| format!("{} {:.3}", k.term, k.weight)).collect();
            let phrases: Vec<&str> = d.phrases.iter().map(|p| p.phrase.as_str()).collect();
            out.push_str(&format!("\n{name}: {}\n  phrases: {}", terms.join(", "), phrases.join("; ")));
        }
        out
    }
}

/// The documents' paths (for files) and texts, from `texts` or `paths`.
fn documents(
    texts: Option<Vec<String>>,
    paths: Option<Vec<String>>,
    root: &str,
) -> Result<(Vec<Option<String>>, Vec<String>), Error> {
    match (texts, paths) {
        (Some(texts), None) => Ok((vec![None; texts.len()], texts)),
        (None, Some(paths)) => {
            let texts = paths
                .iter()
                .enumerate()
                .map(|(i, p)| read_text(root, p, &format!("/paths/{i}")))
                .collect::<Result<_, _>>()?;
            Ok((paths.into_iter().map(Some).collect(), texts))
        }
        _ => Err(Error::invalid("/texts", "give either `texts` or `paths`")),
    }
}

fn keywords(
    sources: Vec<Option<String>>,
    texts: &[String],
    range: (usize, usize),
    top_k: usize,
) -> Result<KeywordReport, Error> {
    if texts.is_empty() || texts.len() > MAX_DOCUMENTS {
        return Err(Error::invalid("/texts", format!("need 1 to {MAX_DOCUMENTS} documents")));
    }
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (terms, counts) = count_matrix(&refs, range);
    if terms.is_empty() {
        return Err(Error::invalid("/texts", "empty vocabulary: no document has a word of two or more characters"));
    }
    let (_, rows) = tfidf(&counts, terms.len());
    let documents = sources
        .into_iter()
        .zip(rows)
        .zip(texts)
        .enumerate()
        .map(|(index, ((path, row), text))| {
            let mut weights: Vec<(usize, f64)> = row;
            weights.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| terms[a.0].cmp(&terms[b.0])));
            let keywords =
                weights.iter().take(top_k).map(|&(c, weight)| TermWeight { term: terms[c].clone(), weight }).collect();
            DocumentKeywords { index, path, keywords, phrases: textrank(text, top_k) }
        })
        .collect();
    Ok(KeywordReport { vocabulary_size: terms.len(), ngram_range: [range.0, range.1], documents })
}

/// TextRank key phrases of `text` (see the module doc), at most `top_k`.
fn textrank(text: &str, top_k: usize) -> Vec<Phrase> {
    let tokens = sklearn_tokens(text);
    let candidate = |t: &str| !STOP_WORDS.contains(&t) && !t.chars().all(char::is_numeric);
    let words: Vec<&str> =
        tokens.iter().map(String::as_str).filter(|t| candidate(t)).collect::<BTreeSet<_>>().into_iter().collect();
    if words.is_empty() {
        return Vec::new();
    }
    let id = |t: &str| words.binary_search(&t).ok();
    let mut edges: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for (i, a) in tokens.iter().enumerate() {
        for b in tokens.iter().skip(i + 1).take(WINDOW - 1) {
            if let (Some(a), Some(b)) = (id(a), id(b))
                && a != b
            {
                *edges.entry((a.min(b), a.max(b))).or_default() += 1.0;
            }
        }
    }
    let edges: Vec<(usize, usize, f64)> = edges.into_iter().map(|((a, b), w)| (a, b, w)).collect();
    let (scores, _) = pagerank(words.len(), &edges);
    let mut order: Vec<usize> = (0..words.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    let kept: BTreeSet<usize> = order.into_iter().take(words.len().div_ceil(3)).collect();
    let mut phrases: BTreeMap<String, f64> = BTreeMap::new();
    let mut run: Vec<usize> = Vec::new();
    for t in tokens.iter().map(|t| id(t).filter(|w| kept.contains(w))).chain([None]) {
        match t {
            Some(w) => run.push(w),
            None if !run.is_empty() => {
                let phrase = run.iter().map(|&w| words[w]).collect::<Vec<_>>().join(" ");
                phrases.insert(phrase, run.iter().map(|&w| scores[w]).sum());
                run.clear();
            }
            None => {}
        }
    }
    let mut phrases: Vec<Phrase> = phrases.into_iter().map(|(phrase, score)| Phrase { phrase, score }).collect();
    phrases.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.phrase.cmp(&b.phrase)));
    phrases.truncate(top_k);
    phrases
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(texts: &[&str], range: (usize, usize), top_k: usize) -> KeywordReport {
        let texts: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
        keywords(vec![None; texts.len()], &texts, range, top_k).unwrap()
    }

    #[test]
    fn tfidf_weights_match_sklearn_and_ties_go_by_term() {
        // TfidfVectorizer().fit_transform(["the cat", "the dog the"]) row 0: cat = a / |(a, 1)|,
        // the = 1 / |(a, 1)| with a = ln(3/2) + 1.
        let report = run(&["the cat", "the dog the"], (1, 1), 10);
        let a = 1.5f64.ln() + 1.0;
        let k = &report.documents[0].keywords;
        assert_eq!((k[0].term.as_str(), k[1].term.as_str()), ("cat", "the"));
        assert!((k[0].weight - a / (a * a + 1.0).sqrt()).abs() < 1e-15);
        let tie = run(&["beta alpha"], (1, 2), 2);
        let terms: Vec<&str> = tie.documents[0].keywords.iter().map(|k| k.term.as_str()).collect();
        assert_eq!(terms, ["alpha", "beta"], "three equal weights: the first two by term");
    }

    #[test]
    fn textrank_merges_adjacent_top_words_into_phrases() {
        let text = "Machine learning models need data. Machine learning is popular. Data pipelines feed machine \
                    learning models, and models need pipelines.";
        let phrases = textrank(text, 5);
        assert_eq!(phrases[0].phrase, "machine learning models", "{phrases:?}");
        assert!(phrases.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(textrank("the of and", 5).is_empty());
    }

    #[test]
    fn bad_input_names_the_argument() {
        let e = keywords(vec![None], &["a b !".to_owned()], (1, 1), 3).unwrap_err();
        assert!(matches!(e, Error::InvalidArguments(m) if m.starts_with("/texts: empty vocabulary")));
        let e = documents(Some(vec!["x".into()]), Some(vec!["y".into()]), "workspace").unwrap_err();
        assert!(matches!(e, Error::InvalidArguments(m) if m.starts_with("/texts")));
    }
}
