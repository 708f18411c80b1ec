//! `ide_agents_ultra_search`: searches the `workspace` root through an index kept in the tool's
//! storage (key [`INDEX_KEY`], format in `format.rs`).
//!
//! Each call walks the workspace (names, sizes and modification times only), compares it with
//! the stored file records and reads only the files that are new or whose size or modification
//! time changed; removed files are dropped. If nothing changed the stored bytes answer the query
//! in place; otherwise the edited index is written back. A stored index that fails to decode
//! (damaged, or an older format) is rebuilt, and the output says so.
//!
//! Ranking: every chunk ([`CHUNK_LINES`] lines) gets the BM25 score (textkit's k1 and b) of the
//! query's terms, `textkit::code::expand_query` of `code_tokens(query)`, each term's contribution
//! multiplied by its weight (1 for the query's own words, less for synonyms). A file's best chunk
//! is its candidate; the best [`rerank_count`] candidates by BM25 are read and re-scored as
//! `score = ALPHA * bm25 / best_bm25 + (1 - ALPHA) * cosine`, the cosine of the hashed word and
//! character 3-gram vectors (`textkit::NgramVector`) of the query and the chunk's text. Ties go
//! to the path, then the line. A result's line is the chunk's line whose terms carry the most
//! query weight (times IDF).

use ide_agents_tool::{Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use textkit::code::{code_tokens, expand_query};
use textkit::{DEFAULT_B, DEFAULT_K1, NgramVector};

use crate::format::{Status, View};
use crate::index::{CHUNK_LINES, Index};

/// The root searched.
pub const ROOT: &str = "workspace";
/// Storage key of the index (the format version is in the key and in the value's header).
pub const INDEX_KEY: &str = "workspace-index.v1";
/// Largest file indexed, bytes (larger files are recorded, never read).
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Most files walked; the rest of the workspace is not searched.
pub const MAX_FILES: usize = 50_000;
/// Most directories walked.
pub const MAX_DIRS: usize = 20_000;
/// Most bytes of text indexed in all; files past it are recorded unread.
pub const MAX_INDEXED_BYTES: u64 = 256 << 20;
/// Directory names never entered (besides every name starting with `.`).
pub const SKIPPED_DIRS: &[&str] = &["target", "node_modules"];
/// Weight of normalised BM25 in the final score; the rest is n-gram similarity.
pub const ALPHA: f64 = 0.7;
/// Fewest candidates re-scored with n-gram similarity (at least three times `top_k`).
pub const MIN_RERANK: usize = 30;
/// Longest snippet, characters.
pub const SNIPPET_CHARS: usize = 240;
/// Most results.
pub const MAX_TOP_K: usize = 200;
/// Default results.
pub const DEFAULT_TOP_K: usize = 10;
/// Longest query, characters.
pub const MAX_QUERY_CHARS: usize = 2_000;
/// Most `paths` and `extensions` filters.
pub const MAX_FILTERS: usize = 100;
/// Attempts to fit the index into the storage quota by leaving files out.
pub const QUOTA_ATTEMPTS: usize = 4;

pub struct Search;

impl Tool for Search {
    const NAME: &'static str = "ide_agents_ultra_search";
    const TITLE: Option<&'static str> = Some("Search the workspace");
    const DESCRIPTION: &'static str = "Searches the workspace's text files for a query (words, identifiers or a \
                                       phrase): BM25 over chunks of lines with identifiers split on camelCase and \
                                       snake_case and programming synonyms added, re-ranked by n-gram similarity. \
                                       Returns the best files with the best line, a snippet and the score parts. The \
                                       index is built on first use, kept between calls, and updated by re-reading \
                                       only changed files.";
    const ANNOTATIONS: ide_agents_tool::Annotations =
        ide_agents_tool::Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);
    type Args = Args;
    type Output = Found;

    fn call(args: Args) -> Result<Reply<Found>, Error> {
        let (found, text) = search(&mut Wasm, &args)?;
        Ok(Reply::new(found).text(text))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// What to search for: words, identifiers (`parseConfig`, `parse_config`) or a phrase.
    #[schemars(length(min = 1, max = MAX_QUERY_CHARS))]
    pub query: String,
    /// How many results (files) to return, best first (default 10).
    #[serde(default = "default_top_k")]
    #[schemars(range(min = 1, max = MAX_TOP_K))]
    pub top_k: usize,
    /// Only files under these workspace-relative directories or at these paths, e.g. `["src", "docs/api.md"]`.
    #[schemars(length(min = 1, max = MAX_FILTERS))]
    pub paths: Option<Vec<String>>,
    /// Only files with these extensions, e.g. `["rs", "py"]` (a leading dot is ignored; case-insensitive).
    #[schemars(length(min = 1, max = MAX_FILTERS))]
    pub extensions: Option<Vec<String>>,
}

fn default_top_k() -> usize {
    DEFAULT_TOP_K
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Found {
    pub query: String,
    /// Best first.
    pub results: Vec<Hit>,
    pub index: IndexReport,
    /// What was left out or could not be done (files not indexed, storage refused), if anything.
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Hit {
    /// 1 for the best.
    pub rank: usize,
    /// Workspace-relative path.
    pub path: String,
    /// The best line (1-based).
    pub line: u32,
    /// `ALPHA * bm25_normalised + (1 - ALPHA) * similarity`, ALPHA = 0.7.
    pub score: f64,
    /// BM25 of the file's best chunk.
    pub bm25: f64,
    /// BM25 divided by the best result's BM25.
    pub bm25_normalised: f64,
    /// Cosine similarity of the query's and the chunk's hashed n-gram vectors.
    pub similarity: f64,
    /// The lines of the chunk scored.
    pub chunk_lines: [u32; 2],
    /// Query terms (and synonyms) the chunk contains.
    pub matched_terms: Vec<String>,
    /// The best line, trimmed (at most 240 characters).
    pub snippet: String,
}

/// What the index did this call.
#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct IndexReport {
    /// `reused` (stored, nothing changed), `updated` (stored, changes applied), `built` (nothing
    /// stored) or `rebuilt` (the stored index could not be decoded; see `warnings`).
    pub state: String,
    /// Files searched (indexed text files).
    pub files: usize,
    /// Files on record but not searched: binary, too large, or past a bound.
    pub skipped: usize,
    /// Files known from the stored index and unchanged: not read.
    pub reused: usize,
    /// Files read this call to (re)index them.
    pub read: usize,
    /// Files gone since the stored index.
    pub removed: usize,
    /// Chunks (runs of lines scored by BM25) in the index.
    pub chunks: usize,
    /// Distinct terms in the index.
    pub terms: usize,
    /// Size of the index's stored form.
    pub bytes: usize,
    /// Whether storage holds the index the answer came from.
    pub persisted: bool,
}

/// Why a storage `put` failed.
#[derive(Debug, Clone, PartialEq)]
pub enum PutError {
    /// The quota, bytes.
    Quota(u64),
    Other(String),
}

/// A directory entry, as the host reports it.
pub struct DirEntry {
    pub name: String,
    pub dir: bool,
    pub file: bool,
    pub size: u64,
    pub modified: u64,
}

/// What the search needs from the host: the `workspace` root and the index's storage entry.
pub trait Host {
    fn list_dir(&mut self, dir: &str) -> Result<Vec<DirEntry>, String>;
    /// The file's bytes (at most `max`).
    fn read_file(&mut self, path: &str, max: u64) -> Result<Vec<u8>, String>;
    fn load(&mut self) -> Result<Option<Vec<u8>>, String>;
    fn store(&mut self, value: &[u8]) -> Result<(), PutError>;
}

/// The real host.
struct Wasm;

impl Host for Wasm {
    fn list_dir(&mut self, dir: &str) -> Result<Vec<DirEntry>, String> {
        use ide_agents_tool::workspace::{EntryKind, list_dir};
        let entries = list_dir(ROOT, dir).map_err(|e| format!("{e:?}"))?;
        Ok(entries
            .into_iter()
            .map(|e| DirEntry {
                dir: e.kind == EntryKind::Directory,
                file: e.kind == EntryKind::File,
                name: e.name,
                size: e.size,
                modified: e.modified_ms,
            })
            .collect())
    }

    fn read_file(&mut self, path: &str, max: u64) -> Result<Vec<u8>, String> {
        ide_agents_tool::workspace::read_file(ROOT, path, Some(max)).map_err(|e| format!("{e:?}"))
    }

    fn load(&mut self) -> Result<Option<Vec<u8>>, String> {
        ide_agents_tool::storage::get(INDEX_KEY).map_err(|e| format!("{e:?}"))
    }

    fn store(&mut self, value: &[u8]) -> Result<(), PutError> {
        use ide_agents_tool::storage::StorageError;
        ide_agents_tool::storage::put(INDEX_KEY, value).map_err(|e| match e {
            StorageError::QuotaExceeded(quota) => PutError::Quota(quota),
            other => PutError::Other(format!("{other:?}")),
        })
    }
}

/// A file found by the walk.
#[derive(Debug, Clone)]
struct Walked {
    path: String,
    size: u64,
    modified: u64,
}

/// The files of the workspace (hidden and [`SKIPPED_DIRS`] directories left out), sorted by path.
fn walk(host: &mut impl Host, warnings: &mut Vec<String>) -> Result<Vec<Walked>, Error> {
    let mut files = Vec::new();
    let mut dirs = vec![String::new()];
    let mut visited = 0;
    while let Some(dir) = dirs.pop() {
        visited += 1;
        let entries = match host.list_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if dir.is_empty() => return Err(Error::message(format!("cannot list the workspace: {e}"))),
            Err(e) => {
                warnings.push(format!("{dir}: not searched, cannot list it: {e}"));
                continue;
            }
        };
        for e in entries {
            if e.name.starts_with('.') || (e.dir && SKIPPED_DIRS.contains(&e.name.as_str())) {
                continue;
            }
            let path = if dir.is_empty() { e.name } else { format!("{dir}/{}", e.name) };
            if e.dir {
                if visited + dirs.len() < MAX_DIRS {
                    dirs.push(path);
                } else {
                    warnings.push(format!("{path}: not searched, more than {MAX_DIRS} directories"));
                }
            } else if e.file {
                if files.len() == MAX_FILES {
                    warnings.push(format!("more than {MAX_FILES} files: the rest of the workspace is not searched"));
                    dirs.clear();
                    break;
                }
                files.push(Walked { path, size: e.size, modified: e.modified });
            }
        }
    }
    files.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// The changes between the stored records and the walk.
#[derive(Debug, Default)]
struct Changes {
    reused: usize,
    /// New or changed files (indexes into the walk).
    changed: Vec<usize>,
    removed: Vec<String>,
}

fn diff(view: Option<&View>, walked: &[Walked]) -> Changes {
    let mut changes = Changes::default();
    let files = view.map_or(0, |v| v.files);
    let (mut i, mut j) = (0, 0);
    while i < files || j < walked.len() {
        let record = view.filter(|_| i < files).map(|v| v.file(i));
        match (record, walked.get(j)) {
            (Some(r), Some(w)) if r.path == w.path => {
                if (r.size, r.modified) == (w.size, w.modified) {
                    changes.reused += 1;
                } else {
                    changes.changed.push(j);
                }
                (i, j) = (i + 1, j + 1);
            }
            (Some(r), w) if w.is_none_or(|w| r.path < w.path.as_str()) => {
                changes.removed.push(r.path.to_owned());
                i += 1;
            }
            _ => {
                changes.changed.push(j);
                j += 1;
            }
        }
    }
    changes
}

/// Applies `changes` to `index`, reading the changed files; returns the files read.
fn apply(
    host: &mut impl Host,
    index: &mut Index,
    walked: &[Walked],
    changes: &Changes,
    warnings: &mut Vec<String>,
) -> usize {
    for path in &changes.removed {
        index.remove(path);
    }
    for &j in &changes.changed {
        index.remove(&walked[j].path);
    }
    let mut budget: u64 = index.indexed().iter().map(|(_, size)| size).sum();
    let (mut read, mut over_budget) = (0, 0);
    for &j in &changes.changed {
        let w = &walked[j];
        let status = if w.size > MAX_FILE_BYTES {
            Status::TooLarge
        } else if budget + w.size > MAX_INDEXED_BYTES {
            over_budget += 1;
            Status::OverBudget
        } else {
            Status::Indexed
        };
        if status != Status::Indexed {
            index.insert(&w.path, w.size, w.modified, status, None);
            continue;
        }
        read += 1;
        match host.read_file(&w.path, MAX_FILE_BYTES) {
            Ok(bytes) if bytes.contains(&0) => {
                index.insert(&w.path, w.size, w.modified, Status::Binary, None);
            }
            Ok(bytes) => {
                budget += w.size;
                index.insert(&w.path, w.size, w.modified, Status::Indexed, Some(&String::from_utf8_lossy(&bytes)));
            }
            // Gone or unreadable since the walk: not recorded, so the next call looks again.
            Err(e) => warnings.push(format!("{}: not indexed, cannot read it: {e}", w.path)),
        }
    }
    if over_budget > 0 {
        warnings.push(format!(
            "{over_budget} files not indexed: the index holds at most {MAX_INDEXED_BYTES} bytes of text"
        ));
    }
    read
}

/// Stores `bytes`; past the quota, leaves out files (the last in path order) until the index
/// fits. Returns the bytes stored (or, if storage failed otherwise, the full index) and whether
/// they were stored.
fn persist(host: &mut impl Host, index: &mut Index, mut bytes: Vec<u8>, warnings: &mut Vec<String>) -> (Vec<u8>, bool) {
    let mut left_out = 0;
    for _ in 0..QUOTA_ATTEMPTS {
        match host.store(&bytes) {
            Ok(()) => {
                if left_out > 0 {
                    warnings.push(format!(
                        "the index exceeded the storage quota: {left_out} files left out of it are not searched"
                    ));
                }
                return (bytes, true);
            }
            Err(PutError::Quota(quota)) => {
                // Keep the share of files that should fit, with a margin for the tables.
                let files = index.indexed();
                let keep = (files.len() as f64 * 0.9 * quota as f64 / bytes.len() as f64) as usize;
                let drop: Vec<String> =
                    files[keep.min(files.len().saturating_sub(1))..].iter().map(|(p, _)| p.clone()).collect();
                left_out += drop.len();
                for path in &drop {
                    index.exclude(path);
                }
                bytes = index.encode();
            }
            Err(PutError::Other(e)) => {
                warnings.push(format!("the index could not be stored ({e}): it is rebuilt on every call"));
                return (bytes, false);
            }
        }
    }
    warnings.push(format!("the index does not fit the storage quota even with {left_out} files left out: not stored"));
    (bytes, false)
}

/// Which files a query searches.
struct Filter {
    paths: Vec<String>,
    extensions: Vec<String>,
}

impl Filter {
    fn new(args: &Args) -> Result<Self, Error> {
        let mut paths = Vec::new();
        for (i, p) in args.paths.iter().flatten().enumerate() {
            let p = p.trim_start_matches("./").trim_end_matches('/');
            if p.starts_with('/') || p.split('/').any(|s| s == "..") {
                return Err(Error::invalid(&format!("/paths/{i}"), "must be relative to the workspace, without `..`"));
            }
            paths.push(if p == "." { String::new() } else { p.to_owned() });
        }
        let mut extensions = Vec::new();
        for (i, e) in args.extensions.iter().flatten().enumerate() {
            let e = e.trim_start_matches('.').to_lowercase();
            if e.is_empty() || e.contains('/') {
                return Err(Error::invalid(&format!("/extensions/{i}"), "must be an extension such as `rs`"));
            }
            extensions.push(e);
        }
        Ok(Self { paths, extensions })
    }

    fn admits(&self, path: &str) -> bool {
        let under = |p: &String| {
            p.is_empty() || path.strip_prefix(p.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        };
        let extension = path.rsplit('/').next().and_then(|name| name.rsplit_once('.')).map(|(_, e)| e.to_lowercase());
        (self.paths.is_empty() || self.paths.iter().any(under))
            && (self.extensions.is_empty() || extension.is_some_and(|e| self.extensions.contains(&e)))
    }
}

/// The query's weighted terms (a repeated term's weights add up), sorted by term.
fn query_terms(query: &str) -> Vec<(String, f64)> {
    let mut weights: Vec<(String, f64)> = Vec::new();
    for (term, w) in expand_query(&code_tokens(query)) {
        match weights.iter_mut().find(|(t, _)| *t == term) {
            Some((_, total)) => *total += w,
            None => weights.push((term, w)),
        }
    }
    weights.sort_by(|a, b| a.0.cmp(&b.0));
    weights
}

/// How many BM25 candidates are re-scored with n-gram similarity.
pub fn rerank_count(top_k: usize) -> usize {
    (3 * top_k).max(MIN_RERANK)
}

/// The best `top_k` files for the query terms (see the module doc); `read` gives a file's text.
fn rank(
    view: &View,
    query: &str,
    terms: &[(String, f64)],
    filter: &Filter,
    top_k: usize,
    read: &mut dyn FnMut(&str) -> Option<String>,
) -> Vec<Hit> {
    let n = view.chunks as f64;
    let avg = if view.chunks > 0 { view.total_tokens as f64 / n } else { 0.0 };
    let mut scores = vec![0.0f64; view.chunks];
    // Bit i: the chunk contains found term i (the first 64 found terms are named in results).
    let mut matched = vec![0u64; view.chunks];
    // Per found term: (term, weight * idf), the weight the line picker uses.
    let mut found: Vec<(&str, f64)> = Vec::new();
    for (term, weight) in terms {
        let Some(t) = view.find_term(term) else { continue };
        let df = f64::from(view.df(t));
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        let bit = if found.len() < 64 { 1u64 << found.len() } else { 0 };
        found.push((term, weight * idf));
        for (c, tf) in view.postings(t) {
            matched[c as usize] |= bit;
            let tf = f64::from(tf);
            let len = f64::from(view.chunk(c as usize).tokens);
            let norm = if avg > 0.0 { len / avg } else { 0.0 };
            scores[c as usize] +=
                weight * idf * tf * (DEFAULT_K1 + 1.0) / (tf + DEFAULT_K1 * (1.0 - DEFAULT_B + DEFAULT_B * norm));
        }
    }
    // Each admitted file's best chunk (the first of equals).
    let mut candidates: Vec<(usize, u32, f64)> = Vec::new();
    for f in 0..view.files {
        let r = view.file(f);
        if r.chunks == 0 || !filter.admits(r.path) {
            continue;
        }
        let mut best: Option<(u32, f64)> = None;
        for c in r.first_chunk..r.first_chunk + r.chunks {
            let s = scores[c as usize];
            if s > 0.0 && best.is_none_or(|(_, b)| s > b) {
                best = Some((c, s));
            }
        }
        if let Some((c, s)) = best {
            candidates.push((f, c, s));
        }
    }
    // Files are in path order, so a stable sort keeps ties by path.
    candidates.sort_by(|a, b| b.2.total_cmp(&a.2));
    candidates.truncate(rerank_count(top_k));
    let best = candidates.first().map_or(0.0, |c| c.2);
    let query_vector = NgramVector::new(query);
    let mut hits: Vec<Hit> = candidates
        .into_iter()
        .map(|(f, c, bm25)| {
            let r = view.file(f);
            let start = view.chunk(c as usize).start_line;
            let text = read(r.path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().skip(start.saturating_sub(1) as usize).take(CHUNK_LINES).collect();
            let end = start.saturating_add(lines.len().saturating_sub(1) as u32);
            let similarity = query_vector.cosine(&NgramVector::new(&lines.join("\n")));
            let (mut line, mut line_weight) = (0, 0.0);
            for (k, l) in lines.iter().enumerate() {
                let tokens = code_tokens(l);
                let weight: f64 = found.iter().filter(|(t, _)| tokens.iter().any(|x| x == t)).map(|(_, w)| w).sum();
                if weight > line_weight {
                    (line, line_weight) = (k, weight);
                }
            }
            let mask = matched[c as usize];
            let matched = found.iter().enumerate().filter(|(i, _)| *i < 64 && mask >> i & 1 == 1);
            let normalised = if best > 0.0 { bm25 / best } else { 0.0 };
            Hit {
                rank: 0,
                path: r.path.to_owned(),
                line: start.saturating_add(line as u32),
                score: ALPHA * normalised + (1.0 - ALPHA) * similarity,
                bm25,
                bm25_normalised: normalised,
                similarity,
                chunk_lines: [start, end],
                matched_terms: matched.map(|(_, (t, _))| (*t).to_owned()).collect(),
                snippet: lines.get(line).map_or_else(String::new, |l| l.trim().chars().take(SNIPPET_CHARS).collect()),
            }
        })
        .collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.path.cmp(&b.path)).then(a.line.cmp(&b.line)));
    hits.truncate(top_k);
    for (i, h) in hits.iter_mut().enumerate() {
        h.rank = i + 1;
    }
    hits
}

/// The whole call: load, walk, update, store, rank; and the text rendering.
pub fn search(host: &mut impl Host, args: &Args) -> Result<(Found, String), Error> {
    let terms = query_terms(&args.query);
    if terms.is_empty() {
        return Err(Error::invalid("/query", "has no words to search for"));
    }
    if args.top_k == 0 {
        return Err(Error::invalid("/top_k", "must be at least 1"));
    }
    let filter = Filter::new(args)?;
    let mut warnings = Vec::new();
    let stored = host.load().unwrap_or_else(|e| {
        warnings.push(format!("the stored index could not be loaded ({e})"));
        None
    });
    let mut state = if stored.is_some() { "reused" } else { "built" };
    let view = match stored.as_deref().map(View::decode) {
        Some(Ok(view)) => Some(view),
        Some(Err(reason)) => {
            warnings.push(format!("the stored index could not be decoded ({reason}): rebuilt"));
            state = "rebuilt";
            None
        }
        None => None,
    };
    let walked = walk(host, &mut warnings)?;
    let changes = diff(view.as_ref(), &walked);
    let mut report = IndexReport { reused: changes.reused, removed: changes.removed.len(), ..IndexReport::default() };
    let (bytes, persisted) = match view {
        Some(_) if changes.changed.is_empty() && changes.removed.is_empty() => (stored.unwrap_or_default(), true),
        _ => {
            let mut index = Index::new(view);
            report.read = apply(host, &mut index, &walked, &changes, &mut warnings);
            if state == "reused" {
                state = "updated";
            }
            let encoded = index.encode();
            persist(host, &mut index, encoded, &mut warnings)
        }
    };
    let view = View::decode(&bytes).map_err(|e| Error::failed(format!("index encoding failed: {e}")))?;
    for f in 0..view.files {
        if view.file(f).status == Status::Indexed {
            report.files += 1;
        } else {
            report.skipped += 1;
        }
    }
    report.state = state.to_owned();
    (report.chunks, report.terms, report.bytes, report.persisted) = (view.chunks, view.terms, bytes.len(), persisted);
    let mut read =
        |path: &str| host.read_file(path, MAX_FILE_BYTES).ok().map(|b| String::from_utf8_lossy(&b).into_owned());
    let results = rank(&view, &args.query, &terms, &filter, args.top_k, &mut read);
    let mut text = format!(
        "{} results for {:?} (index {}: {} files, {} read, {} removed, {} reused)",
        results.len(),
        args.query,
        report.state,
        report.files,
        report.read,
        report.removed,
        report.reused
    );
    for h in &results {
        text.push_str(&format!("\n{}. {}:{} ({:.3}) {}", h.rank, h.path, h.line, h.score, h.snippet));
    }
    for w in &warnings {
        text.push_str(&format!("\nwarning: {w}"));
    }
    Ok((Found { query: args.query.clone(), results, index: report, warnings }, text))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// An in-memory workspace and storage entry.
    #[derive(Default)]
    struct Fake {
        files: BTreeMap<String, (Vec<u8>, u64)>,
        stored: Option<Vec<u8>>,
        quota: Option<u64>,
        /// Files read through the host (indexing and snippets).
        reads: usize,
    }

    impl Fake {
        fn write(&mut self, path: &str, text: &str) {
            let modified = self.files.get(path).map_or(1, |f| f.1 + 1);
            self.files.insert(path.to_owned(), (text.as_bytes().to_vec(), modified));
        }
    }

    impl Host for Fake {
        fn list_dir(&mut self, dir: &str) -> Result<Vec<DirEntry>, String> {
            let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
            let mut entries: BTreeMap<String, DirEntry> = BTreeMap::new();
            for (path, (bytes, modified)) in self.files.range(prefix.clone()..) {
                let Some(rest) = path.strip_prefix(&prefix) else { break };
                let (name, dir) = rest.split_once('/').map_or((rest, false), |(n, _)| (n, true));
                let (size, modified) = if dir { (0, 0) } else { (bytes.len() as u64, *modified) };
                entries.insert(name.to_owned(), DirEntry { name: name.to_owned(), dir, file: !dir, size, modified });
            }
            Ok(entries.into_values().collect())
        }

        fn read_file(&mut self, path: &str, max: u64) -> Result<Vec<u8>, String> {
            self.reads += 1;
            let bytes = &self.files.get(path).ok_or("not found")?.0;
            if bytes.len() as u64 > max { Err("too large".into()) } else { Ok(bytes.clone()) }
        }

        fn load(&mut self) -> Result<Option<Vec<u8>>, String> {
            Ok(self.stored.clone())
        }

        fn store(&mut self, value: &[u8]) -> Result<(), PutError> {
            match self.quota {
                Some(q) if value.len() as u64 > q => Err(PutError::Quota(q)),
                _ => {
                    self.stored = Some(value.to_vec());
                    Ok(())
                }
            }
        }
    }

    fn args(json: serde_json::Value) -> Args {
        serde_json::from_value(json).unwrap()
    }

    fn run(host: &mut Fake, query: &str) -> Found {
        search(host, &args(serde_json::json!({"query": query}))).unwrap().0
    }

    fn paths(found: &Found) -> Vec<&str> {
        found.results.iter().map(|h| h.path.as_str()).collect()
    }

    /// 40 filler files about other things, and a few planted answers.
    fn workspace() -> Fake {
        let mut fake = Fake::default();
        let topics = ["render chart", "http client", "tokenizer state", "matrix product", "queue worker"];
        for i in 0..40 {
            let topic = topics[i % topics.len()];
            let body: String =
                (0..30).map(|l| format!("// {topic} helper number {i} line {l}\nlet value_{l} = {l};\n")).collect();
            fake.write(&format!("src/mod{}/file{i}.rs", i % 4), &body);
        }
        fake.write(
            "src/text/distance.rs",
            "/// Edit distance.\npub fn levenshtein(a: &str, b: &str) -> usize {\n    0\n}\n",
        );
        fake.write("src/config.py", "import os\n\n\ndef parse_config_file(path):\n    return open(path).read()\n");
        fake.write("docs/guide.md", "# Guide\n\nThe retry loop uses exponential backoff.\n");
        fake.write("assets/logo.png", "\u{0}PNG binary");
        fake.write(".git/config", "levenshtein hidden");
        fake.write("node_modules/dep/index.js", "levenshtein dependency");
        fake
    }

    #[test]
    fn planted_answers_rank_first_with_their_line() {
        let mut fake = workspace();
        let found = run(&mut fake, "edit distance between strings");
        assert_eq!(found.results[0].path, "src/text/distance.rs");
        let found = run(&mut fake, "parseConfigFile");
        let top = &found.results[0];
        assert_eq!(
            (top.path.as_str(), top.line, top.snippet.as_str()),
            ("src/config.py", 4, "def parse_config_file(path):")
        );
        assert_eq!(top.matched_terms, ["config", "file", "parse"]);
        assert!(top.score > 0.7 && top.bm25_normalised == 1.0 && top.similarity > 0.0, "{top:?}");
        let found = run(&mut fake, "retry with backoff");
        assert_eq!(paths(&found)[..1], ["docs/guide.md"]);
        let found = run(&mut fake, "levenshtein");
        assert_eq!(paths(&found), ["src/text/distance.rs"], "hidden, dependency and binary files are not searched");
        assert_eq!((found.index.files, found.index.skipped), (43, 1));
    }

    #[test]
    fn the_index_is_reused_updated_and_pruned() {
        let mut fake = workspace();
        let first = run(&mut fake, "levenshtein");
        assert_eq!((first.index.state.as_str(), first.index.read, first.index.reused), ("built", 44, 0));
        assert!(first.index.persisted && first.index.bytes == fake.stored.as_ref().unwrap().len());
        fake.reads = 0;
        let again = run(&mut fake, "levenshtein");
        assert_eq!((again.index.state.as_str(), again.index.read, again.index.reused), ("reused", 0, 44));
        assert_eq!(fake.reads, 1, "only the result's file is read, for its snippet");

        fake.write("src/mod1/file5.rs", "fn levenshtein_fast() {}\n");
        let updated = run(&mut fake, "levenshtein");
        assert_eq!((updated.index.state.as_str(), updated.index.read, updated.index.reused), ("updated", 1, 43));
        let mut hits = paths(&updated);
        hits.sort_unstable();
        assert_eq!(hits, ["src/mod1/file5.rs", "src/text/distance.rs"], "the new text is found");

        fake.files.remove("src/text/distance.rs");
        let pruned = run(&mut fake, "levenshtein");
        assert_eq!((pruned.index.read, pruned.index.removed, pruned.index.files), (0, 1, 42));
        assert_eq!(paths(&pruned), ["src/mod1/file5.rs"]);
        let first_bytes = fake.stored.clone();
        assert_eq!(run(&mut fake, "levenshtein").index.state, "reused");
        assert_eq!(fake.stored, first_bytes, "unchanged workspace, unchanged index");
    }

    #[test]
    fn an_updated_index_ranks_like_a_fresh_one() {
        let mut fake = workspace();
        run(&mut fake, "x");
        fake.write("src/mod0/file0.rs", "queue worker retry with backoff\n");
        fake.files.remove("src/mod2/file2.rs");
        let updated = run(&mut fake, "queue worker backoff");
        fake.stored = None;
        let fresh = run(&mut fake, "queue worker backoff");
        assert_eq!(fresh.index.state, "built");
        let summary = |f: &Found| f.results.iter().map(|h| (h.path.clone(), h.line, h.score)).collect::<Vec<_>>();
        assert_eq!(summary(&updated), summary(&fresh));
    }

    #[test]
    fn a_damaged_index_is_rebuilt() {
        let mut fake = workspace();
        run(&mut fake, "levenshtein");
        let stored = fake.stored.as_mut().unwrap();
        stored.truncate(stored.len() / 2);
        let found = run(&mut fake, "levenshtein");
        assert_eq!((found.index.state.as_str(), found.index.read), ("rebuilt", 44));
        assert!(found.warnings[0].contains("could not be decoded (truncated): rebuilt"), "{:?}", found.warnings);
        assert_eq!(paths(&found), ["src/text/distance.rs"]);
        assert_eq!(run(&mut fake, "levenshtein").index.state, "reused");
    }

    #[test]
    fn past_the_quota_what_fits_is_kept_and_searched() {
        let mut fake = workspace();
        fake.quota = Some(6000);
        let found = run(&mut fake, "levenshtein");
        assert!(found.index.persisted && found.index.bytes <= 6000, "{:?}", found.index);
        assert!(found.index.files < 43 && found.index.files > 0, "{:?}", found.index);
        assert!(found.warnings.iter().any(|w| w.contains("exceeded the storage quota")), "{:?}", found.warnings);
        // Files left out stay on record: the next call reads nothing.
        let again = run(&mut fake, "value");
        assert_eq!((again.index.state.as_str(), again.index.read), ("reused", 0));
        assert!(!again.results.is_empty());
    }

    #[test]
    fn filters_and_bad_input() {
        let mut fake = workspace();
        let only = |json| search(&mut workspace(), &args(json)).unwrap().0;
        let found = only(serde_json::json!({"query": "helper", "paths": ["src/mod1/"], "top_k": 50}));
        assert_eq!(found.results.len(), 10);
        assert!(found.results.iter().all(|h| h.path.starts_with("src/mod1/")));
        let found = only(serde_json::json!({"query": "parse config", "extensions": [".PY"]}));
        assert_eq!(paths(&found), ["src/config.py"]);
        let refuse = |fake: &mut Fake, json| search(fake, &args(json)).unwrap_err();
        assert_eq!(
            refuse(&mut fake, serde_json::json!({"query": " ?! "})),
            Error::invalid("/query", "has no words to search for")
        );
        assert_eq!(
            refuse(&mut fake, serde_json::json!({"query": "x", "top_k": 0})),
            Error::invalid("/top_k", "must be at least 1")
        );
        assert!(
            matches!(refuse(&mut fake, serde_json::json!({"query": "x", "paths": ["../etc"]})), Error::InvalidArguments(m) if m.starts_with("/paths/0"))
        );
        assert!(fake.stored.is_none(), "refused before touching anything");
    }

    #[test]
    fn the_schema_states_the_limits() {
        let descriptor = ide_agents_tool::descriptor::<Search>();
        let schema: serde_json::Value = serde_json::from_str(&descriptor.input_schema).unwrap();
        assert_eq!(schema["properties"]["top_k"]["maximum"], MAX_TOP_K);
        assert_eq!(schema["required"], serde_json::json!(["query"]));
    }
}
