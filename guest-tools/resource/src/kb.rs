//! `kb.snippet`: the sections of the markdown notes (root `kb`) that best match a query. Notes
//! are split at headings, and long sections into chunks of at most [`CHUNK_LINES`] lines; chunks
//! are ranked by BM25 (`textkit`).

use schemars::JsonSchema;
use serde::Serialize;
use textkit::{Bm25, DEFAULT_B, DEFAULT_K1, tokenize};

use crate::walk;

const ROOT: &str = "kb";
/// Most note files searched.
const MAX_FILES: usize = 2000;
/// Largest note read.
const MAX_FILE_BYTES: u64 = 2 << 20;
/// Longest chunk, lines.
const CHUNK_LINES: usize = 40;
/// Longest snippet text returned, characters.
const MAX_SNIPPET_CHARS: usize = 1500;

/// The `kb.snippet` answer.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Snippets {
    /// The root read: `kb`.
    root: &'static str,
    query: String,
    /// Whether the file limit left notes out.
    truncated: bool,
    /// Notes searched.
    notes: usize,
    /// Chunks ranked.
    chunks: usize,
    /// The best chunks, best first.
    snippets: Vec<Snippet>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Snippet {
    file: String,
    /// The heading of its section (`""` before the first heading).
    heading: String,
    line_start: usize,
    line_end: usize,
    /// BM25 score.
    score: f64,
    /// The chunk's text, at most 1500 characters.
    snippet: String,
}

struct Chunk {
    file: String,
    heading: String,
    first_line: usize,
    last_line: usize,
    text: String,
}

fn is_note(name: &str) -> bool {
    name.ends_with(".md") || name.ends_with(".markdown") || name.ends_with(".mdx")
}

/// The `limit` best chunks for `query`.
pub fn search(query: &str, limit: usize) -> crate::Rendered<Snippets> {
    let (files, truncated) = walk::files(ROOT, "", MAX_FILES, is_note)?;
    let mut chunks = Vec::new();
    for f in files.iter().filter(|f| f.size <= MAX_FILE_BYTES) {
        if let Ok(text) = walk::read_text(ROOT, &f.path, MAX_FILE_BYTES) {
            split(&f.path, &text, &mut chunks);
        }
    }
    let docs: Vec<Vec<String>> = chunks.iter().map(|c| tokenize(&format!("{} {}", c.heading, c.text))).collect();
    let index = Bm25::new(&docs, DEFAULT_K1, DEFAULT_B);
    let q = tokenize(query);
    let mut scored: Vec<(usize, f64)> =
        (0..chunks.len()).map(|i| (i, index.score(&q, i))).filter(|(_, s)| *s > 0.0).collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(limit);
    let mut text = format!("{} matching snippets for {query:?} in {} notes", scored.len(), files.len());
    let snippets: Vec<_> = scored
        .iter()
        .map(|&(i, score)| {
            let c = &chunks[i];
            let snippet: String = c.text.chars().take(MAX_SNIPPET_CHARS).collect();
            text.push_str(&format!(
                "\n\n## {} ({}:{}-{}, score {score:.3})\n{snippet}",
                c.heading, c.file, c.first_line, c.last_line
            ));
            Snippet {
                file: c.file.clone(),
                heading: c.heading.clone(),
                line_start: c.first_line,
                line_end: c.last_line,
                score,
                snippet,
            }
        })
        .collect();
    let found =
        Snippets { root: ROOT, query: query.to_owned(), truncated, notes: files.len(), chunks: chunks.len(), snippets };
    Ok((found, text))
}

/// Splits a note into chunks at headings and every [`CHUNK_LINES`] lines.
fn split(file: &str, text: &str, out: &mut Vec<Chunk>) {
    let mut heading = String::new();
    let mut lines: Vec<&str> = Vec::new();
    let mut first = 1;
    let mut in_code = false;
    let flush = |heading: &str, lines: &mut Vec<&str>, first: usize, out: &mut Vec<Chunk>| {
        let body = lines.join("\n");
        if !body.trim().is_empty() {
            out.push(Chunk {
                file: file.to_owned(),
                heading: heading.to_owned(),
                first_line: first,
                last_line: first + lines.len() - 1,
                text: body.trim().to_owned(),
            });
        }
        lines.clear();
    };
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        let is_heading = !in_code && line.starts_with('#');
        if is_heading || lines.len() == CHUNK_LINES {
            flush(&heading, &mut lines, first, out);
            first = number;
            if is_heading {
                heading = line.trim_start_matches('#').trim().to_owned();
            }
        }
        lines.push(line);
    }
    flush(&heading, &mut lines, first, out);
}
