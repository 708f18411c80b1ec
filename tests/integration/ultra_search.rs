//! `ide_agents_ultra_search` through the real server: recall of a planted answer set in a
//! generated workspace; the index kept in storage between calls and across a restart, updated by
//! re-reading only the changed file, pruned of a deleted file, and rebuilt when its stored entry
//! is damaged; bad arguments refused naming the argument.

use std::path::Path;

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support::{Launch, Server};

const TOOL: &str = "ide_agents_ultra_search";
/// The storage key the tool keeps its index under.
const INDEX_KEY: &str = "workspace-index.v1";

/// A small deterministic generator (64-bit LCG, top bits), so the data needs no crate.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Files that answer the planted queries.
const PLANTED_FILES: &[(&str, &str)] = &[
    (
        "src/text/levenshtein.rs",
        "/// Number of single-character edits turning `a` into `b`.\npub fn levenshtein(a: &str, b: &str) -> usize {\n    let b: Vec<char> = b.chars().collect();\n    let mut row: Vec<usize> = (0..=b.len()).collect();\n    for (i, ca) in a.chars().enumerate() {\n        let mut prev = row[0];\n        row[0] = i + 1;\n        for j in 0..b.len() {\n            let cur = row[j + 1];\n            row[j + 1] = (prev + usize::from(ca != b[j])).min(row[j] + 1).min(cur + 1);\n            prev = cur;\n        }\n    }\n    row[b.len()]\n}\n",
    ),
    (
        "src/net/retry.rs",
        "use std::time::Duration;\n\n/// Calls `op` until it succeeds, sleeping with exponential backoff between attempts.\npub fn retry_with_backoff<T, E>(mut op: impl FnMut() -> Result<T, E>, attempts: u32) -> Result<T, E> {\n    let mut delay = Duration::from_millis(50);\n    for _ in 1..attempts {\n        match op() {\n            Ok(v) => return Ok(v),\n            Err(_) => std::thread::sleep(delay),\n        }\n        delay *= 2;\n    }\n    op()\n}\n",
    ),
    (
        "app/settings_loader.py",
        "import tomllib\n\n\ndef load_settings(path):\n    \"\"\"Reads the TOML settings file and returns its tables.\"\"\"\n    with open(path, 'rb') as handle:\n        return tomllib.load(handle)\n",
    ),
    (
        "web/auth/login.ts",
        "export async function authenticateUser(username: string, password: string): Promise<Session> {\n  const response = await fetch('/api/login', { method: 'POST', body: JSON.stringify({ username, password }) });\n  if (!response.ok) throw new Error('invalid credentials');\n  return response.json();\n}\n",
    ),
    (
        "src/cache/lru.rs",
        "/// A cache that evicts the least recently used entry when full.\npub struct LruCache<K, V> {\n    capacity: usize,\n    entries: Vec<(K, V)>,\n}\n\nimpl<K: PartialEq, V> LruCache<K, V> {\n    pub fn insert(&mut self, key: K, value: V) {\n        if self.entries.len() == self.capacity {\n            self.entries.remove(0);\n        }\n        self.entries.push((key, value));\n    }\n}\n",
    ),
    (
        "app/dedupe.py",
        "def remove_duplicates(items):\n    \"\"\"Keeps the first occurrence of each item, in order.\"\"\"\n    seen = set()\n    return [x for x in items if not (x in seen or seen.add(x))]\n",
    ),
    (
        "src/graph/dijkstra.rs",
        "use std::collections::BinaryHeap;\n\n/// Shortest path lengths from `source` in a graph with non-negative edge weights (Dijkstra).\npub fn shortest_paths(edges: &[Vec<(usize, u64)>], source: usize) -> Vec<u64> {\n    let mut dist = vec![u64::MAX; edges.len()];\n    let mut heap = BinaryHeap::new();\n    dist[source] = 0;\n    heap.push(std::cmp::Reverse((0, source)));\n    while let Some(std::cmp::Reverse((d, node))) = heap.pop() {\n        for &(next, weight) in &edges[node] {\n            if d + weight < dist[next] {\n                dist[next] = d + weight;\n                heap.push(std::cmp::Reverse((d + weight, next)));\n            }\n        }\n    }\n    dist\n}\n",
    ),
    (
        "lib/math/gcd.c",
        "/* Euclid's algorithm. */\nint greatest_common_divisor(int a, int b) {\n    while (b != 0) {\n        int t = a % b;\n        a = b;\n        b = t;\n    }\n    return a;\n}\n",
    ),
    (
        "cmd/archive/compress.go",
        "package archive\n\nimport (\n\t\"bytes\"\n\t\"compress/gzip\"\n)\n\n// Gzip compresses data with gzip at the default level.\nfunc Gzip(data []byte) ([]byte, error) {\n\tvar buf bytes.Buffer\n\tw := gzip.NewWriter(&buf)\n\tif _, err := w.Write(data); err != nil {\n\t\treturn nil, err\n\t}\n\terr := w.Close()\n\treturn buf.Bytes(), err\n}\n",
    ),
    (
        "src/jobs/scheduler.rs",
        "/// Runs jobs on a cron schedule.\npub struct CronScheduler {\n    jobs: Vec<(CronExpr, Box<dyn Fn()>)>,\n}\n\nimpl CronScheduler {\n    pub fn schedule(&mut self, expr: CronExpr, job: Box<dyn Fn()>) {\n        self.jobs.push((expr, job));\n    }\n}\n",
    ),
    (
        "docs/rate_limiting.md",
        "# Rate limiting\n\nEvery client gets a token bucket: each request takes a token, tokens refill at a fixed rate,\nand a client with an empty bucket is throttled with status 429.\n",
    ),
    (
        "src/integrity/checksum.rs",
        "use sha2::{Digest, Sha256};\n\n/// The SHA-256 digest of a file's contents, hex-encoded.\npub fn file_checksum(path: &std::path::Path) -> std::io::Result<String> {\n    let bytes = std::fs::read(path)?;\n    Ok(format!(\"{:x}\", Sha256::digest(&bytes)))\n}\n",
    ),
    (
        "docs/retries.md",
        "# Retries\n\nFailed requests are retried with exponential backoff: 50 ms, then 100 ms, then 200 ms.\n",
    ),
];

/// Queries and the files relevant to each.
const PLANTED: &[(&str, &[&str])] = &[
    ("edit distance between two strings", &["src/text/levenshtein.rs"]),
    ("retry failed requests with exponential backoff", &["src/net/retry.rs", "docs/retries.md"]),
    ("load the configuration file", &["app/settings_loader.py"]),
    ("user login with password", &["web/auth/login.ts"]),
    ("LRU cache eviction", &["src/cache/lru.rs"]),
    ("remove duplicates from a list", &["app/dedupe.py"]),
    ("shortest path in a weighted graph", &["src/graph/dijkstra.rs"]),
    ("gcd of two numbers", &["lib/math/gcd.c"]),
    ("compress bytes with gzip", &["cmd/archive/compress.go"]),
    ("schedule a job with cron", &["src/jobs/scheduler.rs"]),
    ("throttle clients with a token bucket", &["docs/rate_limiting.md"]),
    ("sha256 checksum of a file", &["src/integrity/checksum.rs"]),
];

/// 48 filler files about drawing widgets (so no planted word is rare by accident).
fn filler() -> Vec<(String, String)> {
    let mut rng = Lcg(15);
    let nouns = ["widget", "canvas", "pixel", "layout", "theme", "border", "panel", "glyph", "shader", "texture"];
    let verbs = ["render", "draw", "paint", "resize", "align", "blend", "clip", "scroll"];
    (0..48)
        .map(|i| {
            let mut text = String::new();
            for _ in 0..(8 + rng.below(30)) {
                let (v, n, m) =
                    (verbs[rng.below(verbs.len())], nouns[rng.below(nouns.len())], nouns[rng.below(nouns.len())]);
                text.push_str(&format!("fn {v}_{n}(target: &mut {}) -> {m} {{ {v}({n}) }}\n", capitalise(m)));
            }
            (format!("src/ui/{}/view_{i}.rs", nouns[i % 4]), text)
        })
        .collect()
}

fn capitalise(word: &str) -> String {
    word[..1].to_uppercase() + &word[1..]
}

fn write(root: &Path, path: &str, text: &str) {
    let file = root.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

/// A workspace of the planted and filler files (61 files), plus files never searched.
fn workspace() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in PLANTED_FILES {
        write(dir.path(), path, text);
    }
    for (path, text) in filler() {
        write(dir.path(), &path, &text);
    }
    write(dir.path(), ".git/HEAD", "levenshtein in a hidden directory");
    write(dir.path(), "node_modules/dep/index.js", "levenshtein in a dependency");
    write(dir.path(), "target/debug/out.txt", "levenshtein in build output");
    std::fs::write(dir.path().join("logo.png"), b"\x89PNG\0\0levenshtein").unwrap();
    dir
}

/// Text files searched in [`workspace`].
const SEARCHED: u64 = 61;

fn start(workspace: &Path, cache: &Path) -> Server {
    let mut server = Launch::bare()
        .args([
            "--ultra".as_ref(),
            "--workspace".as_ref(),
            workspace.as_os_str(),
            "--cache-dir".as_ref(),
            cache.as_os_str(),
        ])
        .spawn();
    server.initialize();
    server
}

/// Calls the tool and returns its structured output, failing on an error result.
fn search(server: &mut Server, args: Value) -> Value {
    let result = server.call(TOOL, args.clone());
    assert_eq!(result["isError"], false, "{args}: {result}");
    result["structuredContent"].clone()
}

fn paths(found: &Value) -> Vec<String> {
    found["results"].as_array().unwrap().iter().map(|r| r["path"].as_str().unwrap().to_owned()).collect()
}

/// The `index` report's counts `read`, `reused`, `removed`, `files`.
fn counts(found: &Value) -> [u64; 4] {
    ["read", "reused", "removed", "files"].map(|k| found["index"][k].as_u64().unwrap())
}

#[test]
fn planted_answers_are_found_and_the_index_is_kept_and_updated() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let mut server = start(ws.path(), cache.path());

    let (mut found_relevant, mut relevant) = (0, 0);
    for (i, (query, answers)) in PLANTED.iter().enumerate() {
        let found = search(&mut server, json!({"query": query, "top_k": 10}));
        if i == 0 {
            assert_eq!(found["index"]["state"], "built", "{found}");
            assert_eq!(counts(&found), [SEARCHED + 1, 0, 0, SEARCHED], "every text file and the PNG read once");
            assert_eq!(found["index"]["persisted"], true);
        } else {
            assert_eq!(found["index"]["state"], "reused", "{found}");
            assert_eq!(counts(&found), [0, SEARCHED + 1, 0, SEARCHED]);
        }
        let top = paths(&found);
        relevant += answers.len();
        found_relevant += answers.iter().filter(|a| top.iter().any(|p| p == *a)).count();
        let best = &found["results"][0];
        for key in ["line", "score", "bm25", "similarity", "snippet"] {
            assert!(best.get(key).is_some(), "{key} in {best}");
        }
    }
    let recall = found_relevant as f64 / relevant as f64;
    eprintln!("ultra_search recall@10 over {} queries: {recall:.3}", PLANTED.len());
    assert!(recall >= 0.9, "recall@10 {recall}");

    // An identifier query: split on case, the best line is the definition.
    let found = search(&mut server, json!({"query": "retryWithBackoff", "top_k": 3}));
    assert_eq!(
        (found["results"][0]["path"].as_str(), found["results"][0]["line"].as_u64()),
        (Some("src/net/retry.rs"), Some(4))
    );
    assert!(
        !paths(&search(&mut server, json!({"query": "levenshtein"}))).iter().any(|p| p != "src/text/levenshtein.rs"),
        "hidden, dependency, build and binary files are not searched"
    );

    // One changed file: read alone, its new text found.
    write(
        ws.path(),
        "src/ui/widget/view_0.rs",
        "/// Parses a semantic version such as 1.2.3.\npub fn parse_semver(text: &str) {}\n",
    );
    let found = search(&mut server, json!({"query": "parse semantic version"}));
    assert_eq!(found["index"]["state"], "updated");
    assert_eq!(counts(&found), [1, SEARCHED, 0, SEARCHED]);
    assert_eq!(paths(&found)[0], "src/ui/widget/view_0.rs");

    // A deleted file is gone.
    std::fs::remove_file(ws.path().join("src/text/levenshtein.rs")).unwrap();
    let found = search(&mut server, json!({"query": "levenshtein edit distance"}));
    assert_eq!(counts(&found), [0, SEARCHED, 1, SEARCHED - 1]);
    assert!(!paths(&found).contains(&"src/text/levenshtein.rs".to_owned()), "{found}");

    // Filters.
    let found = search(&mut server, json!({"query": "retry backoff", "paths": ["docs"]}));
    assert_eq!(paths(&found), ["docs/retries.md"]);
    let found = search(&mut server, json!({"query": "retry backoff", "extensions": ["rs"]}));
    assert_eq!(paths(&found), ["src/net/retry.rs"]);

    // A restart on the same cache: the stored index is used, nothing is read.
    assert!(server.finish().status.success());
    let mut server = start(ws.path(), cache.path());
    let found = search(&mut server, json!({"query": "exponential backoff"}));
    assert_eq!(found["index"]["state"], "reused", "{found}");
    assert_eq!(counts(&found), [0, SEARCHED, 0, SEARCHED - 1]);
    assert!(paths(&found).contains(&"src/net/retry.rs".to_owned()));
}

#[test]
fn a_damaged_stored_index_is_rebuilt() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let mut server = start(ws.path(), cache.path());
    let first = search(&mut server, json!({"query": "gzip"}));
    assert_eq!(paths(&first)[0], "cmd/archive/compress.go");
    assert!(server.finish().status.success());

    // Flip bytes in the middle of the stored entry (`<cache>/storage/<tool>/<key>`).
    let entries = find_files(&cache.path().join("storage"), INDEX_KEY);
    assert_eq!(entries.len(), 1, "one stored index: {entries:?}");
    let mut bytes = std::fs::read(&entries[0]).unwrap();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 16] {
        *b ^= 0x5a;
    }
    std::fs::write(&entries[0], bytes).unwrap();

    let mut server = start(ws.path(), cache.path());
    let found = search(&mut server, json!({"query": "gzip"}));
    // The host drops an entry whose digest fails (it reads as absent: `built`); an entry that
    // reached the tool and failed to decode is `rebuilt`. Either way every file is read again.
    let state = found["index"]["state"].as_str().unwrap();
    assert!(state == "built" || state == "rebuilt", "{found}");
    assert_eq!(counts(&found), [SEARCHED + 1, 0, 0, SEARCHED]);
    assert_eq!(paths(&found)[0], "cmd/archive/compress.go");
    let again = search(&mut server, json!({"query": "gzip"}));
    assert_eq!(again["index"]["state"], "reused", "the rebuilt index was stored: {again}");
}

#[test]
fn bad_arguments_are_refused_naming_them() {
    let ws = workspace();
    let cache = tempfile::tempdir().unwrap();
    let mut server = start(ws.path(), cache.path());
    for (args, name) in [
        (json!({"query": ""}), "query"),
        (json!({"query": "?! -"}), "query"),
        (json!({"query": "x", "top_k": 0}), "top_k"),
        (json!({"query": "x", "paths": ["../outside"]}), "paths"),
        (json!({"query": "x", "extensions": ["."]}), "extensions"),
        (json!({"top_k": 3}), "query"),
    ] {
        let result = server.call(TOOL, args.clone());
        assert_eq!(result["isError"], true, "{args}: {result}");
        let text = result["content"][0]["text"].as_str().unwrap();
        assert!(text.contains(name), "{args}: {text}");
    }
}

/// Files named `name` anywhere under `dir`.
fn find_files(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(find_files(&path, name));
        } else if entry.file_name() == name {
            found.push(path);
        }
    }
    found
}

#[test]
fn an_index_past_the_storage_quota_keeps_what_fits_and_says_so() {
    // 3,000 files of random lowercase words: an index of a few MB against a 1 MiB quota.
    let ws = tempfile::tempdir().unwrap();
    let mut rng = Lcg(11);
    let mut word = || (0..6).map(|_| char::from(b'a' + rng.below(26) as u8)).collect::<String>();
    for i in 0..3_000 {
        let words: Vec<String> = (0..60).map(|_| word()).collect();
        write(ws.path(), &format!("d{}/f{i:04}.txt", i / 100), &words.join(" "));
    }
    let cache = tempfile::tempdir().unwrap();
    let config = cache.path().join("config.toml");
    std::fs::write(&config, "[tools.ide_agents_ultra_search]\nstorage_quota_mib = 1\n").unwrap();
    let mut server = Launch::bare()
        .args([
            "--ultra".as_ref(),
            "--workspace".as_ref(),
            ws.path().as_os_str(),
            "--cache-dir".as_ref(),
            cache.path().as_os_str(),
            "--config".as_ref(),
            config.as_os_str(),
        ])
        .spawn();
    server.initialize();
    let found = search(&mut server, json!({"query": "kernel"}));
    let warnings = found["warnings"].to_string();
    assert!(warnings.contains("storage quota"), "a clear message: {warnings}");
    let stored: u64 =
        find_files(&cache.path().join("storage"), INDEX_KEY).iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
    assert!(stored > 0 && stored <= (1 << 20) + 64, "what fits is kept within the quota: {stored} bytes");
    // The next call answers from the stored part without re-reading what it kept.
    let again = search(&mut server, json!({"query": "kernel"}));
    assert_eq!(again["index"]["read"], 0, "{}", again["index"]);
}
