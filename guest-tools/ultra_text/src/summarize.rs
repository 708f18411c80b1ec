//! `ide_agents_ultra_summarize`: an extractive summary (TextRank over sentences).
//!
//! 1. Sentences: the text is cut after a run of `.`, `!` or `?` (with any closing quotes or
//!    brackets after it) that is followed by whitespace or the end, except after a single `.`
//!    ending a known abbreviation ([`ABBREVIATIONS`], e.g. "e.g." or "Dr."), and at every blank
//!    line (paragraph break). Each piece is trimmed with its whitespace runs collapsed to one
//!    space; pieces without a letter or digit are dropped.
//! 2. Each sentence is a TF-IDF vector (scikit-learn's `TfidfVectorizer` defaults, fitted on the
//!    sentences as the corpus); the graph links two sentences by their cosine similarity where
//!    it is > 0 (no self loops).
//! 3. PageRank (d = 0.85, networkx's iteration to an L1 change below `n * 1e-12`; sentences
//!    without links spread their score over all) scores the sentences; the `max_sentences` best
//!    (ties: the earlier) are returned in their original order.

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::vectorize::{cosine, count_matrix, tfidf};

use crate::shared::{pagerank, read_text};

/// Default sentences in the summary.
const DEFAULT_MAX_SENTENCES: usize = 3;
/// Most sentences a text may have (the graph has up to n² edges).
const MAX_SENTENCES: usize = 5_000;
/// Words (lowercased, without the final `.`) whose `.` does not end a sentence.
const ABBREVIATIONS: &[&str] = &["cf", "dr", "e.g", "fig", "i.e", "jr", "mr", "mrs", "ms", "prof", "sr", "st", "vs"];
/// Characters that may follow the terminal punctuation inside the sentence.
const CLOSERS: &[char] = &['"', '\'', ')', ']', '}', '\u{201d}', '\u{2019}', '\u{bb}'];

pub struct Summarize;

impl Tool for Summarize {
    const NAME: &'static str = "ide_agents_ultra_summarize";
    const TITLE: Option<&'static str> = Some("Summarize text");
    const DESCRIPTION: &'static str = "Extractive summary of a `text` or a workspace file (`path`): splits it into \
                                       sentences, ranks them by PageRank over their TF-IDF cosine-similarity graph \
                                       (TextRank) and returns the best `max_sentences` in their original order, with \
                                       every sentence's score.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Summary;

    fn call(args: Args) -> Result<Reply<Summary>, Error> {
        let (text, pointer) = match (args.text, args.path) {
            (Some(text), None) => (text, "/text"),
            (None, Some(path)) => (read_text(&args.root, &path, "/path")?, "/path"),
            _ => return Err(Error::invalid("/text", "give either `text` or `path`")),
        };
        let summary = summarize(&text, args.max_sentences, pointer)?;
        let text = summary.sentences.iter().map(|s| s.text.as_str()).collect::<Vec<_>>().join(" ");
        Ok(Reply::new(summary).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["text"]}, {"required": ["path"]}]))]
pub struct Args {
    /// The text to summarize (give this or `path`).
    #[schemars(length(min = 1, max = 1_000_000))]
    text: Option<String>,
    /// A file under `root` to summarize (give this or `text`).
    #[schemars(length(min = 1, max = 4096))]
    path: Option<String>,
    /// The granted root `path` is relative to (default `workspace`).
    #[serde(default = "default_root")]
    root: String,
    /// Sentences in the summary (default 3).
    #[serde(default = "default_max_sentences")]
    #[schemars(range(min = 1, max = 1000))]
    max_sentences: usize,
}

fn default_root() -> String {
    "workspace".into()
}

fn default_max_sentences() -> usize {
    DEFAULT_MAX_SENTENCES
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Summary {
    /// The chosen sentences, in their original order.
    sentences: Vec<Sentence>,
    /// Every sentence of the text, as split (index = position here).
    all_sentences: Vec<String>,
    /// Every sentence's PageRank score, by index (they sum to 1).
    scores: Vec<f64>,
    /// PageRank iterations run.
    iterations: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Sentence {
    /// Position among all sentences.
    index: usize,
    text: String,
    score: f64,
}

fn summarize(text: &str, max_sentences: usize, pointer: &str) -> Result<Summary, Error> {
    let all = split_sentences(text);
    if all.is_empty() {
        return Err(Error::invalid(pointer, "no sentences: the text has no letters or digits"));
    }
    if all.len() > MAX_SENTENCES {
        return Err(Error::invalid(pointer, format!("{} sentences; at most {MAX_SENTENCES}", all.len())));
    }
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    let (terms, counts) = count_matrix(&refs, (1, 1));
    if terms.is_empty() {
        return Err(Error::invalid(pointer, "empty vocabulary: no word of two or more characters"));
    }
    let (_, rows) = tfidf(&counts, terms.len());
    let mut edges = Vec::new();
    for i in 0..rows.len() {
        for j in i + 1..rows.len() {
            let similarity = cosine(&rows[i], &rows[j]);
            if similarity > 0.0 {
                edges.push((i, j, similarity));
            }
        }
    }
    let (scores, iterations) = pagerank(all.len(), &edges);
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(max_sentences);
    order.sort_unstable();
    let sentences =
        order.into_iter().map(|index| Sentence { index, text: all[index].clone(), score: scores[index] }).collect();
    Ok(Summary { sentences, all_sentences: all, scores, iterations })
}

/// The sentences of `text` (the rule is in the module doc).
fn split_sentences(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let push = |out: &mut Vec<String>, piece: &[char]| {
        let piece: String = piece.iter().collect();
        if piece.chars().any(char::is_alphanumeric) {
            out.push(piece.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    };
    let (mut start, mut i) = (0, 0);
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '\n' && chars[j].is_whitespace() {
                j += 1;
            }
            if j < chars.len() && chars[j] == '\n' {
                push(&mut out, &chars[start..i]);
                (start, i) = (j + 1, j + 1);
                continue;
            }
        } else if matches!(c, '.' | '!' | '?') {
            let mut j = i;
            while j < chars.len() && matches!(chars[j], '.' | '!' | '?') {
                j += 1;
            }
            let terminal = j;
            while j < chars.len() && CLOSERS.contains(&chars[j]) {
                j += 1;
            }
            let ends = j == chars.len() || chars[j].is_whitespace();
            if ends && !(c == '.' && terminal == i + 1 && abbreviation_before(&chars[start..i])) {
                push(&mut out, &chars[start..j]);
                start = j;
            }
            i = j;
            continue;
        }
        i += 1;
    }
    push(&mut out, &chars[start..]);
    out
}

/// Whether the word just before a `.` (the end of `before`) is a known abbreviation.
fn abbreviation_before(before: &[char]) -> bool {
    let word: String =
        before.iter().rev().take_while(|c| !c.is_whitespace()).collect::<Vec<_>>().into_iter().rev().collect();
    ABBREVIATIONS.contains(&word.to_lowercase().trim_start_matches(['(', '"', '\'']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_terminators_and_paragraphs_but_not_abbreviations() {
        let text =
            "Dr. Smith arrived, e.g. at noon. Was it 3.5 hours? \"Yes!\" he said\nquietly\n\nNew paragraph  here";
        assert_eq!(
            split_sentences(text),
            [
                "Dr. Smith arrived, e.g. at noon.",
                "Was it 3.5 hours?",
                "\"Yes!\"",
                "he said quietly",
                "New paragraph here"
            ]
        );
        assert!(split_sentences(" ... !? ").is_empty());
    }

    #[test]
    fn the_central_sentence_wins_and_order_is_kept() {
        let text = "Cats chase mice. Dogs chase cats and mice. Dogs bark. Birds sing songs.";
        let s = summarize(text, 2, "/text").unwrap();
        assert_eq!(s.all_sentences.len(), 4);
        assert!((s.scores.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let chosen: Vec<usize> = s.sentences.iter().map(|s| s.index).collect();
        assert_eq!(chosen, [0, 1], "{:?}", s.scores);
        assert!(s.scores[1] > s.scores[0] && s.scores[3] < s.scores[2]);
    }

    #[test]
    fn text_without_words_is_refused() {
        let e = summarize("a. b! ?", 3, "/text").unwrap_err();
        assert!(matches!(e, Error::InvalidArguments(m) if m.starts_with("/text: empty vocabulary")));
        assert!(summarize("...", 3, "/path").is_err());
    }
}
