//! The ULTRA text tools (`guest-tools/ultra_text`) through the real server, checked against
//! scikit-learn and networkx (`tests/interop/reference/ultra_text.py`): TF-IDF keyword weights
//! and top-k (1e-9), TextRank sentence scores (1e-6), k-means labels (identical), inertia
//! (absolute 1e-6) and silhouette (1e-9); files read from the workspace root; bad input.

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
        ((self.next() * n as f64) as usize).min(n - 1)
    }
}

/// The vocabulary of the generated texts (the one-letter `a` is no token).
const WORDS: &str = "cache schema tool sandbox memory limit http pool span batch wasm server client token root file \
                     query index vector graph snake_case v2 a Über";

/// Documents of 5 to 40 words from [`WORDS`] (biased towards the first), with capitals,
/// punctuation and one-letter words that the tokenizer drops.
fn keyword_corpus(rng: &mut Lcg, docs: usize) -> Vec<String> {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    (0..docs)
        .map(|_| {
            let len = 5 + rng.below(36);
            let mut doc = String::new();
            for i in 0..len {
                let word = words[rng.below(words.len()).min(rng.below(words.len()))];
                if i % 7 == 0 {
                    doc.push_str(&word.to_uppercase());
                } else {
                    doc.push_str(word);
                }
                doc.push_str([" ", " ", " ", ", ", ". "][rng.below(5)]);
            }
            doc
        })
        .collect()
}

/// 30 sentences of 4 to 12 words, one paragraph break, one sentence sharing no word with the
/// rest and one without any token (both isolated in the similarity graph).
fn summary_text(rng: &mut Lcg) -> String {
    let vocabulary: Vec<&str> = WORDS.split_whitespace().take(20).collect();
    let mut text = String::new();
    for s in 0..30 {
        let len = 4 + rng.below(9);
        let words: Vec<&str> = (0..len).map(|_| vocabulary[rng.below(20).min(rng.below(20))]).collect();
        let mut sentence = words.join(" ");
        sentence[..1].make_ascii_uppercase();
        text.push_str(&sentence);
        text.push_str([". ", "! ", "? ", ".\n\n"][if s == 10 { 3 } else { rng.below(3) }]);
        if s == 20 {
            text.push_str("Zebras juggle quietly. A b. ");
        }
    }
    text
}

/// 30 texts on three topics (text i on topic i % 3), mostly topic words plus shared ones.
fn topic_texts(rng: &mut Lcg) -> Vec<String> {
    let topics: [&[&str]; 3] = [
        &["borrow", "lifetime", "trait", "crate", "cargo", "macro", "unsafe", "enum"],
        &["kernel", "driver", "interrupt", "scheduler", "syscall", "module", "page", "irq"],
        &["pandas", "numpy", "dataframe", "notebook", "pip", "venv", "plot", "scipy"],
    ];
    let shared = ["build", "error", "test", "docs"];
    (0..30)
        .map(|i| {
            let len = 8 + rng.below(8);
            let words: Vec<&str> = (0..len)
                .map(|_| if rng.next() < 0.75 { topics[i % 3][rng.below(8)] } else { shared[rng.below(4)] })
                .collect();
            words.join(" ")
        })
        .collect()
}

/// 60 rows in 4 dimensions around three overlapping centres (row i near centre i % 3).
fn blobs(rng: &mut Lcg) -> Vec<Vec<f64>> {
    (0..60)
        .map(|i| {
            let b = (i % 3) as f64;
            [3.0 * b, -2.0 * b, b, 0.0].iter().map(|c| c + 3.0 * (rng.next() - 0.5)).collect()
        })
        .collect()
}

fn structured(server: &mut Server, tool: &str, args: Value) -> Value {
    let result = server.call(tool, args);
    assert_eq!(result["isError"], false, "{tool}: {result}");
    result["structuredContent"].clone()
}

fn assert_refused(server: &mut Server, tool: &str, args: Value, pointer: &str) {
    let result = server.call(tool, args.clone());
    assert_eq!(result["isError"], true, "{tool} {args}: {result}");
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains(pointer), "{tool} {args}: {text:?} does not name {pointer}");
}

#[test]
fn keywords_match_sklearn_tfidf_weights_and_top_k() {
    let mut rng = Lcg(7);
    let texts = keyword_corpus(&mut rng, 25);
    let mut server = ultra_server();
    for (range, top_k) in [([1, 1], 8), ([1, 2], 12), ([2, 3], 5)] {
        let ours = structured(
            &mut server,
            "ide_agents_ultra_keywords",
            json!({"texts": texts, "ngram_range": range, "top_k": top_k}),
        );
        let theirs = python_reference(
            "reference/ultra_text.py",
            &json!({"tool": "keywords", "texts": texts, "ngram_range": range, "top_k": top_k}),
        );
        assert_eq!(ours["vocabulary_size"], theirs["vocabulary_size"], "{range:?}");
        let (mut our_weights, mut their_weights) = (Vec::new(), Vec::new());
        for (d, (doc, reference)) in
            ours["documents"].as_array().unwrap().iter().zip(theirs["documents"].as_array().unwrap()).enumerate()
        {
            let keywords = doc["keywords"].as_array().unwrap();
            let terms: Vec<&Value> = keywords.iter().map(|k| &k["term"]).collect();
            let expected: Vec<&Value> = reference["terms"].as_array().unwrap().iter().collect();
            assert_eq!(terms, expected, "{range:?} document {d}: top {top_k} by weight, ties by term");
            for k in keywords {
                our_weights.push(k["weight"].clone());
                their_weights.push(reference["weight_of"][k["term"].as_str().unwrap()].clone());
            }
            assert!(!doc["phrases"].as_array().unwrap().is_empty(), "document {d} has TextRank phrases");
        }
        assert_close(&json!(our_weights), &json!(their_weights), 1e-9, &format!("tf-idf weights {range:?}"));
    }
}

#[test]
fn summary_scores_match_networkx_pagerank() {
    let mut rng = Lcg(11);
    let text = summary_text(&mut rng);
    let mut server = ultra_server();
    let ours = structured(&mut server, "ide_agents_ultra_summarize", json!({"text": text, "max_sentences": 4}));
    let sentences = ours["all_sentences"].as_array().unwrap();
    assert_eq!(sentences.len(), 32, "30 sentences and the two extra ones");
    let theirs = python_reference("reference/ultra_text.py", &json!({"tool": "summarize", "sentences": sentences}));
    assert_close(&ours["scores"], &theirs["scores"], 1e-6, "sentence PageRank");

    let scores: Vec<f64> = ours["scores"].as_array().unwrap().iter().map(|s| s.as_f64().unwrap()).collect();
    let mut best: Vec<usize> = (0..scores.len()).collect();
    best.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    best.truncate(4);
    best.sort_unstable();
    let chosen: Vec<usize> =
        ours["sentences"].as_array().unwrap().iter().map(|s| s["index"].as_u64().unwrap() as usize).collect();
    assert_eq!(chosen, best, "the four best, in their original order");
}

/// Runs k-means through the server and sklearn with the same initial rows; asserts agreement.
fn check_kmeans(server: &mut Server, data: (&str, Value), args: Value, what: &str) -> Value {
    let mut call = args;
    call[data.0] = data.1.clone();
    let ours = structured(server, "ide_agents_ultra_cluster", call);
    let mut input = json!({"tool": "cluster", "k": ours["k"], "init": ours["init"]});
    input[data.0] = data.1;
    let theirs = python_reference("reference/ultra_text.py", &input);
    assert_eq!(ours["labels"], theirs["labels"], "{what}: labels");
    assert_eq!(ours["iterations"], theirs["n_iter"], "{what}: iterations");
    assert_close(&json!([ours["inertia"]]), &json!([theirs["inertia"]]), 1e-6, &format!("{what}: inertia"));
    assert_close(&json!([ours["silhouette"]]), &json!([theirs["silhouette"]]), 1e-9, &format!("{what}: silhouette"));
    ours
}

#[test]
fn kmeans_matches_sklearn_on_texts_and_vectors() {
    let mut rng = Lcg(3);
    let texts = topic_texts(&mut rng);
    let vectors = blobs(&mut rng);
    let mut server = ultra_server();

    let ours = check_kmeans(&mut server, ("texts", json!(texts)), json!({"k": 3, "init": [0, 1, 2]}), "texts, init");
    assert_eq!(ours["sizes"], json!([10, 10, 10]), "the three topics");
    assert_eq!(ours["top_terms"].as_array().unwrap().len(), 3);
    check_kmeans(&mut server, ("texts", json!(texts)), json!({"k": 3, "init": [0, 3, 6]}), "texts, one-topic init");
    let seeded = check_kmeans(&mut server, ("texts", json!(texts)), json!({"k": 3, "seed": 11}), "texts, seeded");
    let again = structured(&mut server, "ide_agents_ultra_cluster", json!({"texts": texts, "k": 3, "seed": 11}));
    assert_eq!(seeded, again, "the same seed gives the same clustering");

    let ours =
        check_kmeans(&mut server, ("vectors", json!(vectors)), json!({"k": 3, "init": [0, 3, 6]}), "vectors, init");
    assert_eq!(ours["centers"].as_array().unwrap().len(), 3);
    check_kmeans(&mut server, ("vectors", json!(vectors)), json!({"k": 5, "init": [1, 2, 4, 8, 16]}), "vectors, k 5");
    let chosen = check_kmeans(&mut server, ("vectors", json!(vectors)), json!({}), "vectors, k chosen");
    let search = chosen["k_search"].as_array().unwrap();
    assert_eq!(search.len(), 9, "k = 2..=10");
    let best = search.iter().map(|s| s["silhouette"].as_f64().unwrap()).fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(chosen["silhouette"].as_f64().unwrap(), best, "the best silhouette wins");
}

#[test]
fn files_under_the_workspace_root_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Lcg(5);
    let texts = keyword_corpus(&mut rng, 3);
    let summary = summary_text(&mut rng);
    for (i, t) in texts.iter().enumerate() {
        std::fs::write(dir.path().join(format!("doc{i}.txt")), t).unwrap();
    }
    std::fs::write(dir.path().join("summary.txt"), &summary).unwrap();
    let mut server = Launch::with_tools(&[]).args(["--ultra", "--workspace"]).args([dir.path().as_os_str()]).spawn();
    server.initialize();

    let from_files = structured(
        &mut server,
        "ide_agents_ultra_keywords",
        json!({"paths": ["doc0.txt", "doc1.txt", "doc2.txt"], "top_k": 5}),
    );
    let inline = structured(&mut server, "ide_agents_ultra_keywords", json!({"texts": texts, "top_k": 5}));
    for (file, text) in from_files["documents"].as_array().unwrap().iter().zip(inline["documents"].as_array().unwrap())
    {
        assert_eq!(file["keywords"], text["keywords"]);
        assert!(file["path"].as_str().unwrap().starts_with("doc"));
    }
    let from_file = structured(&mut server, "ide_agents_ultra_summarize", json!({"path": "summary.txt"}));
    let inline = structured(&mut server, "ide_agents_ultra_summarize", json!({"text": summary}));
    assert_eq!(from_file, inline);
    assert_refused(&mut server, "ide_agents_ultra_summarize", json!({"path": "../outside.txt"}), "/path");
    assert_refused(&mut server, "ide_agents_ultra_keywords", json!({"paths": ["doc0.txt", "/etc/passwd"]}), "/paths/1");
}

#[test]
fn bad_input_is_refused_naming_the_argument() {
    let mut server = ultra_server();
    let keywords = "ide_agents_ultra_keywords";
    assert_refused(&mut server, keywords, json!({"texts": []}), "/texts");
    assert_refused(&mut server, keywords, json!({"texts": ["a", "! ?"]}), "/texts");
    assert_refused(&mut server, keywords, json!({"texts": ["some words"], "ngram_range": [2, 1]}), "/ngram_range");
    assert_refused(&mut server, keywords, json!({"paths": ["../secret.txt"]}), "/paths/0");
    let summarize = "ide_agents_ultra_summarize";
    assert_refused(&mut server, summarize, json!({"text": "... !!"}), "/text");
    assert_refused(&mut server, summarize, json!({"text": "A b. C d."}), "/text");
    assert_refused(&mut server, summarize, json!({"path": "../../etc/passwd"}), "/path");
    let cluster = "ide_agents_ultra_cluster";
    assert_refused(&mut server, cluster, json!({"texts": []}), "/texts");
    assert_refused(&mut server, cluster, json!({"texts": ["a", "b", "c"], "k": 2}), "/texts");
    assert_refused(&mut server, cluster, json!({"vectors": [[1.0], [2.0]], "k": 3}), "/k");
    assert_refused(&mut server, cluster, json!({"vectors": [[1.0], [2.0], [3.0]], "init": [0, 3]}), "/init/1");
    assert_refused(&mut server, cluster, json!({"vectors": [[1.0], [2.0], [3.0]], "init": [2, 2]}), "/init/1");
    assert_refused(&mut server, cluster, json!({"vectors": [[1.0], [2.0], [3.0]], "k": 1, "init": [0, 1]}), "/init");
    assert_refused(&mut server, cluster, json!({"vectors": [[1.0, 2.0], [2.0]], "k": 1}), "/vectors/1");
    assert_refused(&mut server, cluster, json!({"vectors": [[1.0], [2.0]]}), "/k");
}
