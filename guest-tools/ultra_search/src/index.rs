//! The index being updated: the stored index (a [`View`], if any), the stored files to drop,
//! and the files read this call with their postings. [`Index::encode`] writes the result in one
//! pass over the stored postings: files merge in path order, the stored chunks are renumbered
//! (an order-keeping map, so stored postings stay sorted) and merged with the new ones, term by
//! term in byte order. Unchanged files are never re-read or re-tokenised.
//!
//! A file's text is cut into chunks of [`CHUNK_LINES`] lines; each chunk's terms are
//! `textkit::code::code_tokens` of its lines (identifiers split on camelCase, snake_case and
//! digits). Chunks without a term are not stored.

use std::collections::{HashMap, HashSet};

use textkit::code::code_tokens;

use crate::format::{Chunk, Status, View, Writer};

/// Lines per chunk: the unit BM25 scores (a result names the best line of its best chunk).
pub const CHUNK_LINES: usize = 16;

/// One term occurrence count: new file (position in `Index::files`), chunk within it, frequency.
#[derive(Debug, Clone, Copy)]
struct Posting {
    file: u32,
    chunk: u32,
    tf: u32,
}

#[derive(Debug, Clone)]
struct Entry {
    path: String,
    size: u64,
    modified: u64,
    status: Status,
    chunks: Vec<Chunk>,
}

/// The index being updated.
#[derive(Debug, Default)]
pub struct Index<'a> {
    base: Option<View<'a>>,
    /// Stored files left out.
    dropped: HashSet<String>,
    /// Files recorded this call (each path once).
    files: Vec<Entry>,
    by_path: HashMap<String, usize>,
    term_ids: HashMap<String, u32>,
    terms: Vec<String>,
    postings: Vec<Vec<Posting>>,
}

impl<'a> Index<'a> {
    /// An update of `base` (or a new index).
    pub fn new(base: Option<View<'a>>) -> Self {
        Self { base, ..Self::default() }
    }

    /// Leaves the stored file `path` out.
    pub fn remove(&mut self, path: &str) {
        self.dropped.insert(path.to_owned());
    }

    /// Records `path` (not yet recorded this call; it replaces a stored record) with `status`,
    /// indexing `text` if given.
    pub fn insert(&mut self, path: &str, size: u64, modified: u64, status: Status, text: Option<&str>) {
        let file = self.files.len() as u32;
        let mut chunks = Vec::new();
        if let Some(text) = text {
            let lines: Vec<&str> = text.lines().collect();
            let mut ids = Vec::new();
            for (n, block) in lines.chunks(CHUNK_LINES).enumerate() {
                ids.clear();
                for token in block.iter().flat_map(|line| code_tokens(line)) {
                    ids.push(self.term_id(token));
                }
                if ids.is_empty() {
                    continue;
                }
                ids.sort_unstable();
                let chunk = chunks.len() as u32;
                for run in ids.chunk_by(|a, b| a == b) {
                    self.postings[run[0] as usize].push(Posting { file, chunk, tf: run.len() as u32 });
                }
                chunks.push(Chunk { start_line: (n * CHUNK_LINES + 1) as u32, tokens: ids.len() as u32 });
            }
        }
        self.by_path.insert(path.to_owned(), file as usize);
        self.files.push(Entry { path: path.to_owned(), size, modified, status, chunks });
    }

    fn term_id(&mut self, token: String) -> u32 {
        if let Some(&id) = self.term_ids.get(&token) {
            return id;
        }
        let id = self.terms.len() as u32;
        self.terms.push(token.clone());
        self.term_ids.insert(token, id);
        self.postings.push(Vec::new());
        id
    }

    /// Whether the stored file `path` is kept as stored.
    fn keeps(&self, path: &str) -> bool {
        !self.dropped.contains(path) && !self.by_path.contains_key(path)
    }

    /// Paths and sizes of the indexed files, in path order.
    pub fn indexed(&self) -> Vec<(String, u64)> {
        let mut files: Vec<(String, u64)> =
            self.files.iter().filter(|e| e.status == Status::Indexed).map(|e| (e.path.clone(), e.size)).collect();
        if let Some(view) = &self.base {
            files.extend(
                (0..view.files)
                    .map(|f| view.file(f))
                    .filter(|r| r.status == Status::Indexed && self.keeps(r.path))
                    .map(|r| (r.path.to_owned(), r.size)),
            );
        }
        files.sort_unstable();
        files
    }

    /// Keeps the indexed file `path` on record but drops its text (it is not re-read until it
    /// changes).
    pub fn exclude(&mut self, path: &str) {
        if let Some(&i) = self.by_path.get(path) {
            let entry = &mut self.files[i];
            entry.status = Status::OverBudget;
            entry.chunks.clear();
        } else if let Some(r) = self.base.and_then(|v| (0..v.files).map(|f| v.file(f)).find(|r| r.path == path)) {
            self.insert(path, r.size, r.modified, Status::OverBudget, None);
        }
    }

    /// The stored form: files in path order (a file recorded this call replaces its stored
    /// record), chunks numbered consecutively, terms in byte order with the postings of indexed
    /// files only; terms left without postings are dropped.
    pub fn encode(&self) -> Vec<u8> {
        let mut fresh: Vec<usize> = (0..self.files.len()).collect();
        fresh.sort_unstable_by(|&a, &b| self.files[a].path.cmp(&self.files[b].path));
        let stored = self.base.map_or(0, |v| v.files);
        let mut writer = Writer::new();
        // New number of each stored chunk (u32::MAX: dropped) and first chunk of each new file.
        let mut remap = vec![u32::MAX; self.base.map_or(0, |v| v.chunks)];
        let mut base: Vec<Option<u32>> = vec![None; self.files.len()];
        let (mut next, mut i, mut j) = (0u32, 0, 0);
        let mut chunks = Vec::new();
        while i < stored || j < fresh.len() {
            let old = self.base.filter(|_| i < stored).map(|v| (v, v.file(i)));
            let new = fresh.get(j).map(|&k| &self.files[k]);
            match (old, new) {
                (Some((view, r)), n) if n.is_none_or(|n| r.path < n.path.as_str()) => {
                    i += 1;
                    if !self.keeps(r.path) {
                        continue;
                    }
                    chunks.clear();
                    for c in r.first_chunk..r.first_chunk + r.chunks {
                        remap[c as usize] = next + c - r.first_chunk;
                        chunks.push(view.chunk(c as usize));
                    }
                    writer.file(r.path, r.size, r.modified, r.status, &chunks);
                    next += r.chunks;
                }
                (_, Some(e)) => {
                    j += 1;
                    let chunks: &[Chunk] = if e.status == Status::Indexed { &e.chunks } else { &[] };
                    if e.status == Status::Indexed {
                        base[fresh[j - 1]] = Some(next);
                    }
                    writer.file(&e.path, e.size, e.modified, e.status, chunks);
                    next += chunks.len() as u32;
                }
                _ => break,
            }
        }
        let mut terms: Vec<usize> = (0..self.terms.len()).collect();
        terms.sort_unstable_by(|&a, &b| self.terms[a].cmp(&self.terms[b]));
        let stored_terms = self.base.map_or(0, |v| v.terms);
        let (mut i, mut j) = (0, 0);
        let mut list = Vec::new();
        while i < stored_terms || j < terms.len() {
            let old = self.base.filter(|_| i < stored_terms).map(|v| v.term(i));
            let new = terms.get(j).map(|&t| self.terms[t].as_bytes());
            let (take_old, take_new) = match (old, new) {
                (Some(o), Some(n)) => (o <= n, n <= o),
                (o, _) => (o.is_some(), o.is_none()),
            };
            list.clear();
            let term = if take_old { old } else { new }.unwrap_or_default();
            if let (true, Some(view)) = (take_old, &self.base) {
                list.extend(
                    view.postings(i).filter_map(|(c, tf)| Some((remap[c as usize], tf)).filter(|p| p.0 != u32::MAX)),
                );
                i += 1;
            }
            if take_new {
                list.extend(
                    self.postings[terms[j]].iter().filter_map(|p| base[p.file as usize].map(|b| (b + p.chunk, p.tf))),
                );
                j += 1;
            }
            if list.is_empty() {
                continue;
            }
            if take_new {
                // Stable and run-adaptive: a stored run and new runs merge in about one pass.
                list.sort_by_key(|&(chunk, _)| chunk);
            }
            writer.term(term, &list);
        }
        writer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(files: &[(&str, &str)]) -> Index<'static> {
        let mut index = Index::new(None);
        for (path, text) in files {
            index.insert(path, text.len() as u64, 1, Status::Indexed, Some(text));
        }
        index
    }

    fn postings(view: &View, term: &str) -> Vec<(u32, u32)> {
        view.find_term(term).map(|t| view.postings(t).collect()).unwrap_or_default()
    }

    #[test]
    fn build_chunks_and_splits_identifiers() {
        let long: String =
            (0..40).map(|i| if i == 20 { "parseConfigFile()\n".to_owned() } else { "\n".into() }).collect();
        let bytes = index(&[("b.rs", "fn parse_config() {}\nlet x = 1;"), ("a.md", &long)]).encode();
        let view = View::decode(&bytes).unwrap();
        assert_eq!((view.file(0).path, view.file(1).path), ("a.md", "b.rs"));
        // a.md: only its second chunk (lines 17-32) has terms.
        assert_eq!((view.file(0).chunks, view.chunk(0)), (1, Chunk { start_line: 17, tokens: 3 }));
        assert_eq!(postings(&view, "config"), [(0, 1), (1, 1)]);
        assert_eq!(postings(&view, "fn"), [(1, 1)]);
        assert_eq!(view.total_tokens, 3 + 6);
    }

    #[test]
    fn an_update_encodes_exactly_as_a_fresh_build() {
        let stored = index(&[("a.rs", "alpha beta"), ("b.rs", "beta gamma"), ("c.rs", "gamma delta")]).encode();
        let view = View::decode(&stored).unwrap();
        let mut edited = Index::new(Some(view));
        edited.remove("b.rs");
        edited.insert("b.rs", 12, 1, Status::Indexed, Some("beta epsilon"));
        edited.remove("c.rs");
        edited.insert("0.rs", 5, 1, Status::Indexed, Some("alpha"));
        edited.insert("z.bin", 5, 2, Status::Binary, None);
        let mut fresh = index(&[("0.rs", "alpha"), ("a.rs", "alpha beta"), ("b.rs", "beta epsilon")]);
        fresh.insert("z.bin", 5, 2, Status::Binary, None);
        let (got, want) = (edited.encode(), fresh.encode());
        assert_eq!(got, want);
        let g = View::decode(&got).unwrap();
        assert!(g.find_term("delta").is_none() && g.find_term("gamma").is_none(), "removed text is gone");
        assert_eq!(postings(&g, "alpha"), [(0, 1), (1, 1)]);
        assert_eq!((g.files, g.chunks, g.file(3).status), (4, 3, Status::Binary));
    }

    #[test]
    fn excluded_files_stay_on_record_without_text() {
        let stored = index(&[("a.rs", "alpha"), ("b.rs", "beta")]).encode();
        let mut i = Index::new(Some(View::decode(&stored).unwrap()));
        i.insert("c.rs", 5, 1, Status::Indexed, Some("gamma"));
        i.exclude("b.rs");
        i.exclude("c.rs");
        assert_eq!(i.indexed(), [("a.rs".to_owned(), 5)]);
        let bytes = i.encode();
        let v = View::decode(&bytes).unwrap();
        assert_eq!(
            (v.files, v.chunks, v.file(1).status, v.file(2).status),
            (3, 1, Status::OverBudget, Status::OverBudget)
        );
        assert!(v.find_term("beta").is_none() && v.find_term("gamma").is_none());
    }
}
