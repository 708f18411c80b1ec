//! The ULTRA retrieval tools through the real server: `ide_agents_ultra_duplicates` against a
//! brute-force exact-Jaccard reference (`tests/interop/reference/ultra_duplicates.py`), the
//! ordering of `ide_agents_ultra_test_select` on a generated repository, the budget and the
//! diversity of `ide_agents_ultra_context_pack`, `ide_agents_ultra_rank`'s synonym expansion, and
//! bad inputs.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::support::{Launch, Server, assert_close, python_reference, ultra_server};

/// A small deterministic generator (64-bit LCG, top bits), so the data needs no crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() * n as f64) as usize
    }
}

/// 300 random texts of 30 to 79 pseudo-words, then 80 near-copies of earlier texts (0 to 5 word
/// substitutions, insertions or deletions each, copies of copies included).
fn corpus() -> Vec<String> {
    let mut rng = Lcg(7);
    let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qui", "do"];
    let vocab: Vec<String> =
        (0..400).map(|_| (0..2 + rng.below(2)).map(|_| syllables[rng.below(syllables.len())]).collect()).collect();
    let mut docs: Vec<Vec<String>> =
        (0..300).map(|_| (0..30 + rng.below(50)).map(|_| vocab[rng.below(vocab.len())].clone()).collect()).collect();
    for _ in 0..80 {
        let mut copy = docs[rng.below(docs.len())].clone();
        for _ in 0..rng.below(6) {
            let at = rng.below(copy.len());
            match rng.below(3) {
                0 => copy[at] = vocab[rng.below(vocab.len())].clone(),
                1 => copy.insert(at, vocab[rng.below(vocab.len())].clone()),
                _ => {
                    copy.remove(at);
                }
            }
        }
        docs.push(copy);
    }
    docs.iter().map(|d| d.join(" ")).collect()
}

/// A server in ULTRA mode whose `workspace` root is `dir`.
fn workspace_server(dir: &std::path::Path) -> Server {
    let mut server = Launch::with_tools(&[]).args(["--ultra", "--workspace"]).args([dir.as_os_str()]).spawn();
    server.initialize();
    server
}

fn error_text(result: &Value) -> &str {
    assert_eq!(result["isError"], true, "{result}");
    result["content"][0]["text"].as_str().unwrap()
}

#[test]
fn duplicates_match_brute_force_jaccard_with_high_recall() {
    let texts = corpus();
    let mut server = ultra_server();
    let found = server.call("ide_agents_ultra_duplicates", json!({"texts": texts}));
    assert_eq!(found["isError"], false, "{found}");
    let ours = &found["structuredContent"];
    assert_eq!((ours["bands"].as_u64(), ours["rows"].as_u64()), (Some(21), Some(6)), "128 permutations at 0.8");
    let theirs = python_reference(
        "reference/ultra_duplicates.py",
        &json!({"texts": texts, "shingle_size": 3, "threshold": 0.8}),
    );
    let expected: HashMap<(u64, u64), f64> = theirs["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| ((p[0].as_u64().unwrap(), p[1].as_u64().unwrap()), p[2].as_f64().unwrap()))
        .collect();
    assert!(expected.len() >= 30, "the corpus plants near-duplicates: {}", expected.len());
    let pairs = ours["pairs"].as_array().unwrap();
    let (mut mine, mut reference) = (Vec::new(), Vec::new());
    for p in pairs {
        let key = (p["a"].as_str().unwrap().parse().unwrap(), p["b"].as_str().unwrap().parse().unwrap());
        let exact = expected.get(&key).unwrap_or_else(|| panic!("{key:?} is not a pair at the threshold: {p}"));
        mine.push(p["jaccard"].clone());
        reference.push(json!(exact));
        assert!((p["estimated_jaccard"].as_f64().unwrap() - exact).abs() < 0.25, "{p}");
    }
    assert_close(&json!(mine), &json!(reference), 1e-12, "exact jaccard");
    let recall = pairs.len() as f64 / expected.len() as f64;
    eprintln!("duplicates: recall {recall:.3} of {} pairs at jaccard >= 0.8", expected.len());
    assert!(recall >= 0.95, "recall {recall}");
    assert_eq!(ours["pairs_found"].as_u64(), Some(pairs.len() as u64));

    assert!(error_text(&server.call("ide_agents_ultra_duplicates", json!({"texts": ["one"]}))).contains("/texts"));
}

/// A repository with Python, TS and Rust code and tests: (path, contents).
const REPO: &[(&str, &str)] = &[
    ("app/__init__.py", ""),
    ("app/tokenizer.py", "import re\n\ndef tokens(s):\n    return re.findall(r'\\w+', s)\n"),
    ("app/parser.py", "from .tokenizer import tokens\n\ndef parse(s):\n    return tokens(s)\n"),
    ("app/server.py", "from app.parser import parse\n\ndef handle(body):\n    return parse(body)\n"),
    ("app/colors.py", "def rgb(r, g, b):\n    return (r, g, b)\n"),
    (
        "tests/test_parser.py",
        "from app.parser import parse\n\ndef test_parse():\n    assert parse('a b') == ['a', 'b']\n",
    ),
    ("tests/test_server.py", "import app.server\n\ndef test_handle():\n    assert app.server.handle('x')\n"),
    ("tests/test_colors.py", "from app.colors import rgb\n\ndef test_rgb():\n    assert rgb(1, 2, 3)\n"),
    ("tests/test_tokenizer_docs.py", "def test_docs_mention_tokens():\n    assert 'tokens' in open('README').read()\n"),
    (
        "web/lib/format.ts",
        "import { tokens } from './lex';\nexport const format = (s: string) => tokens(s).join(' ');\n",
    ),
    ("web/lib/lex.ts", "export const tokens = (s: string) => s.split(/\\s+/);\n"),
    (
        "web/lib/format.test.ts",
        "import { format } from './format';\ntest('format', () => expect(format('a  b')).toBe('a b'));\n",
    ),
    ("web/lib/clock.spec.js", "const { now } = require('./clock');\ntest('now', () => expect(now()).toBeDefined());\n"),
    ("web/lib/clock.js", "exports.now = () => Date.now();\n"),
    ("engine/Cargo.toml", "[package]\nname = \"tiny-engine\"\nversion = \"0.1.0\"\n"),
    ("engine/src/lib.rs", "pub mod lexer;\npub mod eval;\npub mod units;\n"),
    ("engine/src/lexer.rs", "pub fn lex(s: &str) -> Vec<&str> { s.split(' ').collect() }\n"),
    ("engine/src/eval.rs", "use crate::lexer::lex;\npub fn eval(s: &str) -> usize { lex(s).len() }\n"),
    ("engine/src/units.rs", "pub fn meters(x: f64) -> f64 { x }\n"),
    ("engine/tests/eval.rs", "use tiny_engine::eval::eval;\n#[test]\nfn counts() { assert_eq!(eval(\"a b\"), 2); }\n"),
    (
        "engine/tests/units.rs",
        "use tiny_engine::units::meters;\n#[test]\nfn same() { assert_eq!(meters(1.0), 1.0); }\n",
    ),
];

#[test]
fn test_select_ranks_importing_tests_above_unrelated_ones() {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in REPO {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    let mut server = workspace_server(dir.path());
    let changed = json!(["app/tokenizer.py", "web/lib/lex.ts", "engine/src/lexer.rs"]);
    let selected = server.call("ide_agents_ultra_test_select", json!({"changed": changed}));
    assert_eq!(selected["isError"], false, "{selected}");
    let tests = selected["structuredContent"]["tests"].as_array().unwrap();
    let order: Vec<&str> = tests.iter().map(|t| t["path"].as_str().unwrap()).collect();
    eprintln!("test_select order: {order:?}");
    let position = |p: &str| order.iter().position(|o| *o == p).unwrap_or_else(|| panic!("{p} not in {order:?}"));
    let affected = ["tests/test_parser.py", "tests/test_server.py", "web/lib/format.test.ts", "engine/tests/eval.rs"];
    let unrelated =
        ["tests/test_colors.py", "tests/test_tokenizer_docs.py", "web/lib/clock.spec.js", "engine/tests/units.rs"];
    assert_eq!(order.len(), affected.len() + unrelated.len());
    for a in affected {
        for u in unrelated {
            assert!(position(a) < position(u), "{a} should rank above {u}: {order:?}");
        }
    }
    let server_test = &tests[position("tests/test_server.py")];
    assert_eq!(server_test["import_distance"], 3, "{server_test}");
    assert_eq!(
        server_test["import_chain"],
        json!(["tests/test_server.py", "app/server.py", "app/parser.py", "app/tokenizer.py"])
    );
    assert!(server_test["reason"].as_str().unwrap().contains("3 hop(s)"), "{server_test}");
    assert_eq!(tests[position("tests/test_tokenizer_docs.py")]["import_distance"], Value::Null);

    let outside = server.call("ide_agents_ultra_test_select", json!({"changed": ["../etc/passwd"]}));
    assert!(error_text(&outside).contains("/changed/0"));

    // Files through `paths`: two copies and a different file.
    let found = server.call(
        "ide_agents_ultra_duplicates",
        json!({"paths": ["app/parser.py", "tests/test_parser.py"], "texts": [REPO[2].1], "threshold": 0.9}),
    );
    assert_eq!(found["isError"], false, "{found}");
    assert_eq!(
        found["structuredContent"]["pairs"],
        json!([{"a": "0", "b": "app/parser.py", "estimated_jaccard": 1.0, "jaccard": 1.0}])
    );
    let missing = server.call("ide_agents_ultra_duplicates", json!({"paths": ["nope.py", "app/parser.py"]}));
    assert!(error_text(&missing).contains("/paths/0"));
}

const LEVENSHTEIN: &str = "def levenshtein(a, b):\n    prev = list(range(len(b) + 1))\n    for i, ca in enumerate(a, 1):\n        cur = [i]\n        for j, cb in enumerate(b, 1):\n            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))\n        prev = cur\n    return prev[-1]";

#[test]
fn context_pack_keeps_the_budget_and_prefers_relevant_over_redundant() {
    let mut server = ultra_server();
    let candidates = json!([
        {"id": "chart", "text": "def render_chart(data): plot(data); save('chart.png')"},
        {"id": "lev", "text": LEVENSHTEIN},
        {"id": "lev_copy", "text": LEVENSHTEIN.replace("return prev[-1]", "return int(prev[-1])")},
        {"id": "ratio", "text": "def similarity_ratio(a, b):\n    return 1 - levenshtein(a, b) / max(len(a), len(b))"},
        {"id": "http", "text": "async function getJson(url) { return (await fetch(url)).json(); }"},
    ]);
    let query = "edit distance between strings";
    for budget in [20, 40, 80, 120, 200, 1000] {
        let packed = server.call(
            "ide_agents_ultra_context_pack",
            json!({"query": query, "candidates": candidates, "token_budget": budget}),
        );
        assert_eq!(packed["isError"], false, "{packed}");
        let pack = &packed["structuredContent"];
        let used = pack["tokens_used"].as_u64().unwrap();
        let sum: u64 = pack["packed"].as_array().unwrap().iter().map(|p| p["tokens"].as_u64().unwrap()).sum();
        let context_tokens = pack["context"].as_str().unwrap().chars().count().div_ceil(4) as u64;
        assert!(used <= budget && used == sum && context_tokens <= used, "budget {budget}: {pack}");
        let ids: Vec<&str> = pack["packed"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
        if budget >= 200 {
            let mut first_two = ids[..2].to_vec();
            first_two.sort_unstable();
            assert_eq!(first_two, ["lev", "ratio"], "budget {budget}: {ids:?}");
            assert!(!ids.contains(&"lev_copy"), "budget {budget}: {ids:?}");
            let copy = pack["left_out"].as_array().unwrap().iter().find(|l| l["id"] == "lev_copy").unwrap();
            assert_eq!((&copy["reason"], &copy["similar_to"]), (&json!("redundancy"), &json!("lev")));
        }
    }
    let zero = server
        .call("ide_agents_ultra_context_pack", json!({"query": query, "candidates": candidates, "token_budget": 0}));
    assert!(error_text(&zero).contains("token_budget"));
}

#[test]
fn rank_finds_code_by_synonyms_and_split_identifiers() {
    let mut server = ultra_server();
    let candidates = json!([
        {"id": "chart", "text": "def render_chart(data): plot(data)"},
        {"id": "lev", "text": LEVENSHTEIN},
        {"id": "http", "text": "function parseHTTPResponse(raw) { return JSON.parse(raw); }"},
    ]);
    let ranked = server.call("ide_agents_ultra_rank", json!({"query": "edit distance", "candidates": candidates}));
    let first = &ranked["structuredContent"]["results"][0];
    assert_eq!((&first["id"], &first["matched_terms"][0]["term"]), (&json!("lev"), &json!("levenshtein")), "{ranked}");
    let split = server.call("ide_agents_ultra_rank", json!({"query": "http response", "candidates": candidates}));
    assert_eq!(split["structuredContent"]["results"][0]["id"], "http", "{split}");
    let plain = server
        .call("ide_agents_ultra_rank", json!({"query": "edit distance", "candidates": candidates, "expand": false}));
    assert!(plain["structuredContent"]["results"].as_array().unwrap().iter().all(|r| r["bm25"] == 0.0), "{plain}");
}
