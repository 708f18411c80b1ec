//! `ide_agents_ultra_log_patterns`: log templates mined with Drain exactly as drain3 0.9.11's
//! `TemplateMiner` mines them (no persistence, no cluster limit), checked against it by the test
//! suite:
//!
//! - each line is masked first: the [`MASKS`] below, in order, each replacing every match of its
//!   regular expression by `<NAME>` (drain3's `MaskingInstruction`s with its default `<` `>`
//!   prefix and suffix; the patterns are drain3's example masks for ids, IPs, hex and numbers,
//!   written with `[0-9]` where drain3's example has `\d`, which in Python also matches other
//!   scripts' digits). The patterns are matched by a small backtracking matcher with Python's
//!   greedy semantics, so the result is the same as `re.sub`;
//! - then split into tokens on whitespace, after replacing each of `extra_delimiters` by a space;
//! - then Drain: a prefix tree keyed by token count, then the first `depth - 2` tokens (a token
//!   with a digit goes under `<*>`, and a node holds at most `max_children` children, the last
//!   being `<*>`); at the leaf, the cluster whose template shares the largest fraction of tokens
//!   (ties: the one with more `<*>`) is chosen if that fraction is at least
//!   `similarity_threshold`, and its template gets `<*>` wherever it differs from the line;
//!   otherwise the line starts a new cluster.
//!
//! Differences from Python kept small and documented: a "token with a digit" uses Rust's
//! `char::is_numeric` where Python's `str.isdigit` is narrower outside ASCII (Roman numerals,
//! fractions).

use std::borrow::Cow;
use std::collections::HashMap;

use ide_agents_tool::{Error, Reply, Tool, workspace};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Most lines mined in one call (inline or from a file).
const MAX_LINES: usize = 1_000_000;
/// Largest log file read, bytes (the host's own limit).
const MAX_FILE_BYTES: u64 = 16 << 20;
/// The root files are read from.
const ROOT: &str = "logs";
/// Example lines kept per template.
const MAX_EXAMPLES: usize = 3;
/// Example lines are cut to this many characters.
const MAX_EXAMPLE_CHARS: usize = 300;
/// Templates listed in the text summary.
const LISTED: usize = 20;
/// drain3's wildcard: mask prefix + `*` + mask suffix.
const PARAM: &str = "<*>";

pub struct LogPatterns;

impl Tool for LogPatterns {
    const NAME: &'static str = "ide_agents_ultra_log_patterns";
    const TITLE: Option<&'static str> = Some("Mine log templates");
    const DESCRIPTION: &'static str = "Mines log templates (Drain, as drain3 implements it) from `lines` or a file \
                                       `path` under the `logs` root: numbers, hex values, ids and IPs are masked, \
                                       lines are clustered into templates with `<*>` for the varying tokens. Returns \
                                       templates by count with examples, and each line's template.";
    const ANNOTATIONS: ide_agents_tool::Annotations = crate::PURE;
    type Args = Args;
    type Output = Patterns;

    fn call(args: Args) -> Result<Reply<Patterns>, Error> {
        let text;
        let lines: Vec<&str> = match (&args.lines, &args.path) {
            (Some(_), Some(_)) => return Err(Error::invalid("/path", "give either `lines` or `path`, not both")),
            (Some(lines), None) => lines.iter().map(String::as_str).collect(),
            (None, Some(path)) => {
                let bytes = workspace::read_file(ROOT, path, Some(MAX_FILE_BYTES))
                    .map_err(|e| Error::invalid("/path", format!("cannot read {path:?} under `{ROOT}`: {e:?}")))?;
                text = String::from_utf8_lossy(&bytes).into_owned();
                text.lines().collect()
            }
            (None, None) => return Err(Error::invalid("/lines", "give `lines` or a file `path`")),
        };
        let patterns = mine(&lines, &args)?;
        let summary = patterns.text();
        Ok(Reply::new(patterns).text(summary))
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The log lines.
    #[schemars(length(min = 1, max = MAX_LINES))]
    lines: Option<Vec<String>>,
    /// A log file under the `logs` root (instead of `lines`); split at line ends.
    #[schemars(length(min = 1, max = 4096))]
    path: Option<String>,
    /// Drain's tree depth (drain3's `depth`; the first depth - 2 tokens index the tree); default 4.
    #[serde(default = "default_depth")]
    #[schemars(range(min = 3, max = 100))]
    depth: usize,
    /// Least fraction of equal tokens for a line to join a template (drain3's `sim_th`); default 0.4.
    #[serde(default = "default_similarity")]
    #[schemars(range(min = 0.0, max = 1.0))]
    similarity_threshold: f64,
    /// Most children of a tree node (drain3's `max_children`); default 100.
    #[serde(default = "default_max_children")]
    #[schemars(range(min = 1, max = 100_000))]
    max_children: usize,
    /// Strings split on like whitespace (drain3's `extra_delimiters`), e.g. `["=", ","]`.
    #[serde(default)]
    #[schemars(length(max = 32), inner(length(min = 1, max = 16)))]
    extra_delimiters: Vec<String>,
    /// Mask ids, IPs, hex values and numbers before mining (default true).
    #[serde(default = "default_mask")]
    mask: bool,
}

fn default_depth() -> usize {
    4
}

fn default_similarity() -> f64 {
    0.4
}

fn default_max_children() -> usize {
    100
}

fn default_mask() -> bool {
    true
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Patterns {
    /// Lines mined.
    lines: usize,
    /// The templates, most frequent first (ties: first seen first).
    templates: Vec<Template>,
    /// For each line, the index of its template in `templates`.
    assignments: Vec<usize>,
    /// The masking instructions applied, in order (drain3's `MaskingInstruction(regex_pattern,
    /// mask_with)`); empty with `mask: false`.
    masking: Vec<Masking>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Template {
    /// Tokens joined by spaces, `<*>` for varying ones and `<NAME>` for masked ones.
    template: String,
    /// Lines in this template.
    count: usize,
    /// The first lines of the template, as given (cut to 300 characters).
    examples: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Masking {
    /// The Python regular expression.
    regex_pattern: &'static str,
    /// The mask name: matches become `<mask_with>`.
    mask_with: &'static str,
}

/// A piece of a masking pattern: the part of Python's regular expressions the masks use, matched
/// greedily with backtracking as Python's `re` matches it.
enum Piece {
    /// This byte.
    Byte(u8),
    /// `min..=max` bytes of a class, as many as possible first.
    Run(fn(u8) -> bool, usize, usize),
    /// At least `min` repetitions of a sequence, as many as possible first.
    Repeat(&'static [Piece], usize),
}

/// A masking instruction: every match of `pieces`, starting and ending where the neighbouring
/// characters are not ASCII letters or digits (the regex's look-around), becomes `<name>`.
struct Mask {
    name: &'static str,
    regex: &'static str,
    pieces: &'static [Piece],
}

fn lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn hex(b: u8) -> bool {
    b.is_ascii_hexdigit()
}

fn digit(b: u8) -> bool {
    b.is_ascii_digit()
}

fn sign(b: u8) -> bool {
    b == b'-' || b == b'+'
}

const DIGITS_1_3: Piece = Piece::Run(digit, 1, 3);

/// The masks, applied in this order (drain3's example instructions for ids, IPs, hex and numbers).
const MASKS: [Mask; 4] = [
    Mask {
        name: "ID",
        regex: r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)",
        pieces: &[
            Piece::Repeat(&[Piece::Run(lower_hex, 2, usize::MAX), Piece::Byte(b':')], 3),
            Piece::Run(lower_hex, 2, usize::MAX),
        ],
    },
    Mask {
        name: "IP",
        regex: r"((?<=[^A-Za-z0-9])|^)([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})((?=[^A-Za-z0-9])|$)",
        pieces: &[
            DIGITS_1_3,
            Piece::Byte(b'.'),
            DIGITS_1_3,
            Piece::Byte(b'.'),
            DIGITS_1_3,
            Piece::Byte(b'.'),
            DIGITS_1_3,
        ],
    },
    Mask {
        name: "HEX",
        regex: r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)",
        pieces: &[Piece::Byte(b'0'), Piece::Byte(b'x'), Piece::Run(hex, 1, usize::MAX)],
    },
    Mask {
        name: "NUM",
        regex: r"((?<=[^A-Za-z0-9])|^)([\-\+]?[0-9]+)((?=[^A-Za-z0-9])|$)",
        pieces: &[Piece::Run(sign, 0, 1), Piece::Run(digit, 1, usize::MAX)],
    },
];

/// Whether `pieces` match `s` from `i` on, with `done` accepting where the match ends (trying
/// the longest alternatives first, backtracking into shorter ones when `done` refuses).
fn matches(pieces: &[Piece], s: &[u8], i: usize, done: &mut dyn FnMut(usize) -> bool) -> bool {
    let Some((first, rest)) = pieces.split_first() else { return done(i) };
    match *first {
        Piece::Byte(b) => s.get(i) == Some(&b) && matches(rest, s, i + 1, done),
        Piece::Run(class, min, max) => {
            let run = s[i..].iter().take(max).take_while(|&&c| class(c)).count();
            (min..=run).rev().any(|len| matches(rest, s, i + len, done))
        }
        Piece::Repeat(body, min) => repeat(body, min, 0, rest, s, i, done),
    }
}

/// `body{min,}` followed by `rest`, after `count` repetitions.
fn repeat(
    body: &[Piece],
    min: usize,
    count: usize,
    rest: &[Piece],
    s: &[u8],
    i: usize,
    done: &mut dyn FnMut(usize) -> bool,
) -> bool {
    matches(body, s, i, &mut |j| repeat(body, min, count + 1, rest, s, j, done))
        || (count >= min && matches(rest, s, i, done))
}

/// Python's `re.sub(mask.regex, "<NAME>", line)` (borrowed when nothing matches). The patterns
/// only match ASCII, so byte positions are character boundaries.
fn apply<'a>(mask: &Mask, line: &'a str) -> Cow<'a, str> {
    let s = line.as_bytes();
    let outside = |i: usize| i >= s.len() || !s[i].is_ascii_alphanumeric();
    let mut out = String::with_capacity(line.len());
    let (mut copied, mut p) = (0, 0);
    while p < s.len() {
        if p == 0 || outside(p - 1) {
            let mut end = p;
            let found = matches(mask.pieces, s, p, &mut |q| {
                end = q;
                outside(q)
            });
            if found {
                out.push_str(&line[copied..p]);
                out.push('<');
                out.push_str(mask.name);
                out.push('>');
                (copied, p) = (end, end);
                continue;
            }
        }
        p += 1;
    }
    if copied == 0 && out.is_empty() {
        return Cow::Borrowed(line);
    }
    out.push_str(&line[copied..]);
    Cow::Owned(out)
}

/// Python's `str.isspace` (what `str.split()` splits on): Unicode white space plus the ASCII
/// information separators.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

struct Node {
    children: HashMap<String, usize>,
    clusters: Vec<usize>,
}

impl Node {
    fn new() -> Self {
        Self { children: HashMap::new(), clusters: Vec::new() }
    }
}

struct Cluster {
    tokens: Vec<String>,
    size: usize,
}

/// drain3's `Drain` (unlimited clusters): the prefix tree as an arena of nodes.
struct Drain {
    /// `depth - 2`: the deepest tree level, counting the token-count level as 1.
    max_node_depth: usize,
    sim_th: f64,
    max_children: usize,
    nodes: Vec<Node>,
    /// The first-level node of each token count.
    by_length: HashMap<usize, usize>,
    clusters: Vec<Cluster>,
}

impl Drain {
    fn new(depth: usize, sim_th: f64, max_children: usize) -> Self {
        Self {
            max_node_depth: depth - 2,
            sim_th,
            max_children,
            nodes: Vec::new(),
            by_length: HashMap::new(),
            clusters: Vec::new(),
        }
    }

    fn new_node(&mut self) -> usize {
        self.nodes.push(Node::new());
        self.nodes.len() - 1
    }

    /// `add_log_message`: the cluster `tokens` joins or starts.
    fn add(&mut self, tokens: &[&str]) -> usize {
        if let Some(id) = self.search(tokens) {
            let cluster = &mut self.clusters[id];
            for (template, token) in cluster.tokens.iter_mut().zip(tokens) {
                if template != token {
                    PARAM.clone_into(template);
                }
            }
            cluster.size += 1;
            return id;
        }
        let id = self.clusters.len();
        self.clusters.push(Cluster { tokens: tokens.iter().map(|t| (*t).to_owned()).collect(), size: 1 });
        self.insert(id, tokens);
        id
    }

    /// `tree_search`: down the tree by the first tokens (or `<*>`), then `fast_match`.
    fn search(&self, tokens: &[&str]) -> Option<usize> {
        let &first = self.by_length.get(&tokens.len())?;
        if tokens.is_empty() {
            return self.nodes[first].clusters.first().copied();
        }
        let mut node = first;
        for (depth, token) in (1..).zip(tokens) {
            if depth >= self.max_node_depth || depth == tokens.len() {
                break;
            }
            let children = &self.nodes[node].children;
            node = *children.get(*token).or_else(|| children.get(PARAM))?;
        }
        self.fast_match(&self.nodes[node].clusters, tokens)
    }

    /// `fast_match`: the cluster with the highest share of equal tokens (`<*>` not counted; ties:
    /// more `<*>`, then the earlier), if that share reaches the threshold.
    fn fast_match(&self, ids: &[usize], tokens: &[&str]) -> Option<usize> {
        let (mut best, mut max_sim, mut max_params) = (None, -1.0, -1i64);
        for &id in ids {
            let template = &self.clusters[id].tokens;
            let (mut same, mut params) = (0usize, 0i64);
            for (t, token) in template.iter().zip(tokens) {
                if t == PARAM {
                    params += 1;
                } else if t == token {
                    same += 1;
                }
            }
            let sim = same as f64 / template.len() as f64;
            if sim > max_sim || (sim == max_sim && params > max_params) {
                (best, max_sim, max_params) = (Some(id), sim, params);
            }
        }
        if max_sim >= self.sim_th { best } else { None }
    }

    /// `add_seq_to_prefix_tree`.
    fn insert(&mut self, id: usize, tokens: &[&str]) {
        let first = match self.by_length.get(&tokens.len()) {
            Some(&node) => node,
            None => {
                let node = self.new_node();
                self.by_length.insert(tokens.len(), node);
                node
            }
        };
        if tokens.is_empty() {
            self.nodes[first].clusters = vec![id];
            return;
        }
        let mut node = first;
        for (depth, token) in (1..).zip(tokens) {
            if depth >= self.max_node_depth || depth >= tokens.len() {
                self.nodes[node].clusters.push(id);
                break;
            }
            let children = &self.nodes[node].children;
            node = if let Some(&child) = children.get(*token) {
                child
            } else if token.chars().any(char::is_numeric) {
                self.child(node, PARAM)
            } else if children.contains_key(PARAM) {
                if children.len() < self.max_children { self.child(node, token) } else { self.child(node, PARAM) }
            } else if children.len() + 1 < self.max_children {
                self.child(node, token)
            } else {
                self.child(node, PARAM)
            };
        }
    }

    /// The child of `node` under `key`, created if absent.
    fn child(&mut self, node: usize, key: &str) -> usize {
        if let Some(&child) = self.nodes[node].children.get(key) {
            return child;
        }
        let child = self.new_node();
        self.nodes[node].children.insert(key.to_owned(), child);
        child
    }
}

fn mine(lines: &[&str], args: &Args) -> Result<Patterns, Error> {
    let source = if args.path.is_some() { "/path" } else { "/lines" };
    if lines.is_empty() {
        return Err(Error::invalid(source, "no lines to mine"));
    }
    if lines.len() > MAX_LINES {
        return Err(Error::invalid(source, format!("{} lines; at most {MAX_LINES}", lines.len())));
    }
    let mut drain = Drain::new(args.depth, args.similarity_threshold, args.max_children);
    let mut examples: Vec<Vec<String>> = Vec::new();
    let mut assignments = Vec::with_capacity(lines.len());
    for line in lines {
        let mut content = (*line).to_owned();
        if args.mask {
            for mask in &MASKS {
                if let Cow::Owned(masked) = apply(mask, &content) {
                    content = masked;
                }
            }
        }
        for delimiter in &args.extra_delimiters {
            content = content.replace(delimiter.as_str(), " ");
        }
        let tokens: Vec<&str> = content.split(is_space).filter(|t| !t.is_empty()).collect();
        let id = drain.add(&tokens);
        if id == examples.len() {
            examples.push(Vec::new());
        }
        if examples[id].len() < MAX_EXAMPLES {
            examples[id].push(line.chars().take(MAX_EXAMPLE_CHARS).collect());
        }
        assignments.push(id);
    }
    let mut order: Vec<usize> = (0..drain.clusters.len()).collect();
    order.sort_by_key(|&id| (std::cmp::Reverse(drain.clusters[id].size), id));
    let mut rank = vec![0; order.len()];
    for (position, &id) in order.iter().enumerate() {
        rank[id] = position;
    }
    let templates = order
        .iter()
        .map(|&id| Template {
            template: drain.clusters[id].tokens.join(" "),
            count: drain.clusters[id].size,
            examples: std::mem::take(&mut examples[id]),
        })
        .collect();
    let masking = if args.mask {
        MASKS.iter().map(|m| Masking { regex_pattern: m.regex, mask_with: m.name }).collect()
    } else {
        Vec::new()
    };
    Ok(Patterns {
        lines: lines.len(),
        templates,
        assignments: assignments.iter().map(|&id| rank[id]).collect(),
        masking,
    })
}

impl Patterns {
    fn text(&self) -> String {
        let mut text = format!("{} lines, {} templates:", self.lines, self.templates.len());
        for t in self.templates.iter().take(LISTED) {
            text.push_str(&format!("\n{:>8}  {}", t.count, t.template));
        }
        if self.templates.len() > LISTED {
            text.push_str(&format!("\n... {} more", self.templates.len() - LISTED));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> Args {
        serde_json::from_str(json).unwrap()
    }

    fn masked(line: &str) -> String {
        MASKS.iter().fold(line.to_owned(), |content, mask| apply(mask, &content).into_owned())
    }

    #[test]
    fn masks_follow_the_regexes() {
        assert_eq!(masked("conn from 10.0.0.12:8080 id=-42 ptr 0xdeadBEEF"), "conn from <IP>:<NUM> id=<NUM> ptr <HEX>");
        assert_eq!(masked("mac aa:bb:cc:dd:ee:Zz v2 a-5 x1.2.3.4567"), "mac <ID>:Zz v2 a-<NUM> x1.<NUM>.<NUM>.<NUM>");
        assert_eq!(masked("1.2.3.4.5 0x 12ab"), "<IP>.<NUM> 0x 12ab");
    }

    #[test]
    fn lines_cluster_into_templates() {
        let lines = ["user alice logged in", "user bob logged in", "disk full on /dev/sda1", "user carol logged in"];
        let patterns = mine(&lines, &args("{}")).unwrap();
        let templates: Vec<(&str, usize)> = patterns.templates.iter().map(|t| (t.template.as_str(), t.count)).collect();
        assert_eq!(templates, [("user <*> logged in", 3), ("disk full on /dev/sda1", 1)]);
        assert_eq!(patterns.assignments, [0, 0, 1, 0]);
        assert_eq!(patterns.templates[0].examples.len(), 3);
        assert!(mine(&[], &args("{}")).is_err());
    }
}
