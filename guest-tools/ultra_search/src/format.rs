//! The stored index's binary format, version [`VERSION`], and [`View`], which answers queries
//! straight from the stored bytes: decoding checks the structure once (no per-term or per-file
//! allocation), then a query looks up its few terms by binary search and decodes only their
//! postings.
//!
//! All integers are little-endian. Layout:
//!
//! | bytes | content |
//! |---|---|
//! | 0..4 | magic `USIX` |
//! | 4..8 | format version (u32) |
//! | 8..12, 12..16, 16..20 | files, chunks, terms (u32 counts) |
//! | 20..24 | path blob length (u32) |
//! | 24..32 | tokens in all chunks (u64) |
//! | 32..36, 36..40 | term blob length, postings blob length (u32) |
//! | 40.. | files: 32 bytes each: size (u64), modified-ms (u64), end of its path in the path blob (u32), first chunk (u32), chunks (u32), status (u32) |
//! | | path blob: the paths (UTF-8), sorted, concatenated |
//! | | chunks: 8 bytes each: first line (1-based, u32), tokens (u32); a file's chunks are consecutive, files in path order |
//! | | terms: 12 bytes each: end of the term in the term blob (u32), end of its postings in the postings blob (u32), chunks containing it (u32) |
//! | | term blob: the terms (UTF-8), sorted by bytes, concatenated |
//! | | postings blob: per term, (chunk − previous chunk, term frequency) as LEB128 varints, chunks ascending |
//!
//! [`View::decode`] checks every length, offset, order and count it relies on, so a damaged or
//! foreign value is refused with a reason rather than misread (the host's storage also refuses
//! values whose digest does not match).

/// First bytes of a stored index.
pub const MAGIC: [u8; 4] = *b"USIX";
/// Version of the layout above; a stored index of another version is rebuilt.
pub const VERSION: u32 = 1;
/// Header bytes.
const HEADER: usize = 40;
/// Bytes of a file record.
const FILE_RECORD: usize = 32;
/// Bytes of a chunk record.
const CHUNK_RECORD: usize = 8;
/// Bytes of a term record.
const TERM_RECORD: usize = 12;

/// What the index holds of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Read and indexed.
    Indexed = 0,
    /// Read, found to contain NUL bytes, not indexed.
    Binary = 1,
    /// Larger than the per-file limit: not read.
    TooLarge = 2,
    /// Left out to keep the index within its bounds or the storage quota: not read.
    OverBudget = 3,
}

impl Status {
    fn from_u32(v: u32) -> Option<Self> {
        [Self::Indexed, Self::Binary, Self::TooLarge, Self::OverBudget].into_iter().find(|s| *s as u32 == v)
    }
}

/// A file record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileRecord<'a> {
    pub path: &'a str,
    pub size: u64,
    pub modified: u64,
    pub first_chunk: u32,
    pub chunks: u32,
    pub status: Status,
}

/// A chunk: a run of lines of one file, the unit BM25 scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk {
    /// Its first line, 1-based.
    pub start_line: u32,
    /// Its length in tokens.
    pub tokens: u32,
}

/// Writes the format; the index hands it files and terms in order.
pub struct Writer {
    files: Vec<u8>,
    paths: Vec<u8>,
    chunks: Vec<u8>,
    terms: Vec<u8>,
    term_blob: Vec<u8>,
    postings: Vec<u8>,
    counts: [u32; 3],
    total_tokens: u64,
}

impl Writer {
    pub fn new() -> Self {
        Self {
            files: Vec::new(),
            paths: Vec::new(),
            chunks: Vec::new(),
            terms: Vec::new(),
            term_blob: Vec::new(),
            postings: Vec::new(),
            counts: [0; 3],
            total_tokens: 0,
        }
    }

    /// Adds a file (in path order) and its chunks.
    pub fn file(&mut self, path: &str, size: u64, modified: u64, status: Status, chunks: &[Chunk]) {
        self.paths.extend_from_slice(path.as_bytes());
        self.files.extend_from_slice(&size.to_le_bytes());
        self.files.extend_from_slice(&modified.to_le_bytes());
        for v in [self.paths.len() as u32, self.counts[1], chunks.len() as u32, status as u32] {
            self.files.extend_from_slice(&v.to_le_bytes());
        }
        for c in chunks {
            self.chunks.extend_from_slice(&c.start_line.to_le_bytes());
            self.chunks.extend_from_slice(&c.tokens.to_le_bytes());
            self.total_tokens += u64::from(c.tokens);
        }
        self.counts[0] += 1;
        self.counts[1] += chunks.len() as u32;
    }

    /// Adds a term (in byte order) with its postings: (chunk, frequency), chunks ascending.
    pub fn term(&mut self, term: &[u8], postings: &[(u32, u32)]) {
        self.term_blob.extend_from_slice(term);
        let mut previous = 0;
        for &(chunk, tf) in postings {
            put_varint(&mut self.postings, chunk - previous);
            put_varint(&mut self.postings, tf);
            previous = chunk;
        }
        for v in [self.term_blob.len() as u32, self.postings.len() as u32, postings.len() as u32] {
            self.terms.extend_from_slice(&v.to_le_bytes());
        }
        self.counts[2] += 1;
    }

    /// The encoded index.
    pub fn finish(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            HEADER
                + self.files.len()
                + self.paths.len()
                + self.chunks.len()
                + self.terms.len()
                + self.term_blob.len()
                + self.postings.len(),
        );
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        for v in [self.counts[0], self.counts[1], self.counts[2], self.paths.len() as u32] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&self.total_tokens.to_le_bytes());
        out.extend_from_slice(&(self.term_blob.len() as u32).to_le_bytes());
        out.extend_from_slice(&(self.postings.len() as u32).to_le_bytes());
        for part in [self.files, self.paths, self.chunks, self.terms, self.term_blob, self.postings] {
            out.extend_from_slice(&part);
        }
        out
    }
}

fn put_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from(u32_at(bytes, at)) | (u64::from(u32_at(bytes, at + 4)) << 32)
}

/// A stored index, read in place.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    pub files: usize,
    pub chunks: usize,
    pub terms: usize,
    pub total_tokens: u64,
    file_records: &'a [u8],
    paths: &'a str,
    chunk_records: &'a [u8],
    term_records: &'a [u8],
    term_blob: &'a [u8],
    postings: &'a [u8],
}

impl<'a> View<'a> {
    /// Checks `bytes` and reads them in place; the error says what is wrong.
    pub fn decode(bytes: &'a [u8]) -> Result<Self, String> {
        if bytes.len() < HEADER || bytes[..4] != MAGIC {
            return Err("not an index (bad magic)".into());
        }
        let version = u32_at(bytes, 4);
        if version != VERSION {
            return Err(format!("format version {version}, expected {VERSION}"));
        }
        let [files, chunks, terms, path_len] = [8, 12, 16, 20].map(|at| u32_at(bytes, at) as usize);
        let [term_len, postings_len] = [32, 36].map(|at| u32_at(bytes, at) as usize);
        let mut rest = &bytes[HEADER..];
        let mut take = |len: Option<usize>| -> Result<&'a [u8], String> {
            let len = len.filter(|&l| l <= rest.len()).ok_or("truncated")?;
            let (part, tail) = rest.split_at(len);
            rest = tail;
            Ok(part)
        };
        let file_records = take(files.checked_mul(FILE_RECORD))?;
        let paths = take(Some(path_len))?;
        let chunk_records = take(chunks.checked_mul(CHUNK_RECORD))?;
        let term_records = take(terms.checked_mul(TERM_RECORD))?;
        let term_blob = take(Some(term_len))?;
        let postings = take(Some(postings_len))?;
        if !rest.is_empty() {
            return Err("trailing bytes".into());
        }
        let paths = std::str::from_utf8(paths).map_err(|_| "paths are not UTF-8")?;
        let view = Self {
            files,
            chunks,
            terms,
            total_tokens: u64_at(bytes, 24),
            file_records,
            paths,
            chunk_records,
            term_records,
            term_blob,
            postings,
        };
        view.check()?;
        Ok(view)
    }

    /// Checks the file and term tables: offsets ascending and in bounds, paths on character
    /// boundaries and strictly sorted, chunks consecutive, terms strictly sorted.
    fn check(&self) -> Result<(), String> {
        let (mut path_end, mut next_chunk, mut previous) = (0, 0u64, "");
        for i in 0..self.files {
            let at = i * FILE_RECORD;
            let end = u32_at(self.file_records, at + 16) as usize;
            let path = self.paths.get(path_end..end).ok_or("bad path offset")?;
            if i > 0 && path <= previous {
                return Err("paths out of order".into());
            }
            if u64::from(u32_at(self.file_records, at + 20)) != next_chunk {
                return Err("chunks out of order".into());
            }
            next_chunk += u64::from(u32_at(self.file_records, at + 24));
            Status::from_u32(u32_at(self.file_records, at + 28)).ok_or("bad status")?;
            (path_end, previous) = (end, path);
        }
        if path_end != self.paths.len() || next_chunk != self.chunks as u64 {
            return Err("file table does not match its blobs".into());
        }
        let (mut term_end, mut postings_end) = (0, 0);
        let mut previous: &[u8] = &[];
        for i in 0..self.terms {
            let at = i * TERM_RECORD;
            let (end, p_end) = (u32_at(self.term_records, at) as usize, u32_at(self.term_records, at + 4) as usize);
            let term = self.term_blob.get(term_end..end).ok_or("bad term offset")?;
            if (i > 0 && term <= previous) || p_end < postings_end {
                return Err("terms out of order".into());
            }
            (term_end, postings_end, previous) = (end, p_end, term);
        }
        if term_end != self.term_blob.len() || postings_end != self.postings.len() {
            return Err("term table does not match its blobs".into());
        }
        Ok(())
    }

    /// File `i` (in path order).
    pub fn file(&self, i: usize) -> FileRecord<'a> {
        let at = i * FILE_RECORD;
        let start = if i == 0 { 0 } else { u32_at(self.file_records, at - FILE_RECORD + 16) as usize };
        let end = u32_at(self.file_records, at + 16) as usize;
        FileRecord {
            path: &self.paths[start..end],
            size: u64_at(self.file_records, at),
            modified: u64_at(self.file_records, at + 8),
            first_chunk: u32_at(self.file_records, at + 20),
            chunks: u32_at(self.file_records, at + 24),
            status: Status::from_u32(u32_at(self.file_records, at + 28)).unwrap_or(Status::OverBudget),
        }
    }

    /// Chunk `c`.
    pub fn chunk(&self, c: usize) -> Chunk {
        let at = c * CHUNK_RECORD;
        Chunk { start_line: u32_at(self.chunk_records, at), tokens: u32_at(self.chunk_records, at + 4) }
    }

    /// Term `i`'s bytes.
    pub fn term(&self, i: usize) -> &'a [u8] {
        let start = if i == 0 { 0 } else { u32_at(self.term_records, (i - 1) * TERM_RECORD) as usize };
        &self.term_blob[start..u32_at(self.term_records, i * TERM_RECORD) as usize]
    }

    /// The number of term `i`'s term.
    pub fn find_term(&self, term: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.terms);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.term(mid).cmp(term.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Chunks containing term `i`.
    pub fn df(&self, i: usize) -> u32 {
        u32_at(self.term_records, i * TERM_RECORD + 8)
    }

    /// Term `i`'s postings: (chunk, frequency), chunks ascending. Stops early at a malformed
    /// varint or a chunk out of range.
    pub fn postings(&self, i: usize) -> Postings<'a> {
        let start = if i == 0 { 0 } else { u32_at(self.term_records, (i - 1) * TERM_RECORD + 4) as usize };
        let end = u32_at(self.term_records, i * TERM_RECORD + 4) as usize;
        Postings { bytes: &self.postings[start..end], chunk: 0, first: true, chunks: self.chunks as u64 }
    }
}

/// Iterator over one term's postings.
pub struct Postings<'a> {
    bytes: &'a [u8],
    chunk: u64,
    first: bool,
    chunks: u64,
}

impl Postings<'_> {
    fn varint(&mut self) -> Option<u32> {
        let mut v: u64 = 0;
        for (i, &b) in self.bytes.iter().enumerate().take(5) {
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                self.bytes = &self.bytes[i + 1..];
                return u32::try_from(v).ok();
            }
        }
        None
    }
}

impl Iterator for Postings<'_> {
    type Item = (u32, u32);

    fn next(&mut self) -> Option<(u32, u32)> {
        if self.bytes.is_empty() {
            return None;
        }
        let delta = u64::from(self.varint()?);
        let tf = self.varint()?;
        if !self.first && delta == 0 {
            return None;
        }
        self.first = false;
        self.chunk += delta;
        (self.chunk < self.chunks).then_some((self.chunk as u32, tf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut w = Writer::new();
        let chunk = |start_line, tokens| Chunk { start_line, tokens };
        w.file("a.rs", 10, 1000, Status::Indexed, &[chunk(1, 3), chunk(17, 200)]);
        w.file("b/bin.dat", 5, 2000, Status::Binary, &[]);
        w.file("b/c.md", 7, 3000, Status::Indexed, &[chunk(1, 1)]);
        w.term(b"alpha", &[(0, 1), (2, 4)]);
        w.term(b"beta", &[(1, 300)]);
        w.finish()
    }

    #[test]
    fn round_trip() {
        let bytes = sample();
        let v = View::decode(&bytes).unwrap();
        assert_eq!((v.files, v.chunks, v.terms, v.total_tokens), (3, 3, 2, 204));
        assert_eq!(
            v.file(1),
            FileRecord {
                path: "b/bin.dat",
                size: 5,
                modified: 2000,
                first_chunk: 2,
                chunks: 0,
                status: Status::Binary
            }
        );
        assert_eq!(v.file(2).path, "b/c.md");
        assert_eq!(v.chunk(1), Chunk { start_line: 17, tokens: 200 });
        assert_eq!((v.find_term("alpha"), v.find_term("beta"), v.find_term("gamma")), (Some(0), Some(1), None));
        assert_eq!(v.postings(0).collect::<Vec<_>>(), [(0, 1), (2, 4)]);
        assert_eq!((v.postings(1).collect::<Vec<_>>(), v.df(0)), (vec![(1, 300)], 2));
    }

    #[test]
    fn damaged_bytes_are_refused_with_a_reason() {
        let bytes = sample();
        let refuse = |b: &[u8]| View::decode(b).unwrap_err();
        assert_eq!(refuse(&bytes[..bytes.len() - 1]), "truncated");
        assert_eq!(refuse(b"garbage"), "not an index (bad magic)");
        let mut other = bytes.clone();
        other[4] = 9;
        assert_eq!(refuse(&other), "format version 9, expected 1");
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(refuse(&longer), "trailing bytes");
        // Swap the two path records' order by corrupting an offset: every single-byte change in
        // the tables is either refused or still decodes consistently; none panics.
        for at in 0..bytes.len() {
            for flip in [0x01, 0x80, 0xff] {
                let mut damaged = bytes.clone();
                damaged[at] ^= flip;
                if let Ok(v) = View::decode(&damaged) {
                    for t in 0..v.terms {
                        v.postings(t).for_each(drop);
                    }
                    for f in 0..v.files {
                        let _ = v.file(f);
                    }
                }
            }
        }
        let mut unsorted = bytes;
        let paths = HEADER + 3 * FILE_RECORD;
        unsorted[paths] = b'z';
        assert_eq!(refuse(&unsorted), "paths out of order");
    }
}
