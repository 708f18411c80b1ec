//! Code-aware query terms: [`code_tokens`] splits identifiers into the words they are made of
//! (`parseHTTPResponse2` -> `parse`, `http`, `response`, `2`), and [`expand_query`] adds
//! synonyms of common programming concepts from [`SYNONYMS`] at [`SYNONYM_WEIGHT`], so that a query
//! about an "edit distance" finds a `levenshtein` function; [`without_stopwords`] drops English
//! function words from a query. All are deterministic and need no model.
//!
//! No stemming is applied to the terms themselves (a query for `file` does not match `files`: the
//! n-gram similarity of the rankers covers inflections, and plain BM25 stays plain BM25). Only the
//! lookup in the synonym table is lightly stemmed: see [`lookup_form`].

/// Weight of a synonym added by [`expand_query`] for each word of the query phrase it stands for,
/// at most 1.0 (a query term itself weighs 1.0): a synonym of one word is evidence, but weaker
/// than the word the user typed; `gcd` for "greatest common divisor" stands for three words and
/// weighs 1.0.
pub const SYNONYM_WEIGHT: f64 = 0.5;

/// English function words that carry no topic in a code search query ("*the* size *of* a
/// list"), yet match one-letter variables and common identifiers in code, and the words
/// `function` and `method`, which describe nearly every candidate. [`without_stopwords`] drops
/// them.
pub const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "do", "does", "each", "every", "for", "from", "function", "how",
    "i", "in", "into", "is", "it", "its", "method", "of", "on", "or", "that", "the", "their", "them", "this", "to",
    "what", "when", "where", "which", "with",
];

/// Groups of interchangeable words and phrases (lowercased; a phrase is words separated by one
/// space). A query containing any member of a group gains every other member of the group. A
/// word may belong to several groups.
pub const SYNONYMS: &[&[&str]] = &[
    &["edit distance", "levenshtein"],
    &["remove", "delete", "erase", "unlink"],
    &["config", "configuration", "settings", "preferences", "cfg"],
    &["auth", "authenticate", "authentication", "login", "signin", "sign in", "credentials"],
    &["permission", "authorize", "authorization", "access control", "acl", "role"],
    &["password", "passwd", "secret"],
    &["find", "search", "lookup", "look up", "locate"],
    &["parse", "parser", "deserialize", "decode"],
    &["serialize", "encode", "marshal", "stringify"],
    &["error", "exception", "failure", "err"],
    &["hash", "digest", "checksum", "fingerprint"],
    &["cache", "memoize", "memo"],
    &["log", "logging", "logger"],
    &["retry", "backoff", "reattempt"],
    &["timeout", "deadline", "time limit"],
    &["random", "rand", "rng"],
    &["lock", "mutex"],
    &["thread", "concurrent", "parallel"],
    &["database", "db", "sql"],
    &["directory", "dir", "folder"],
    &["url", "uri", "link"],
    &["email", "mail"],
    &["encrypt", "cipher", "crypto"],
    &["compress", "gzip", "zip", "deflate"],
    &["split", "tokenize", "chunk"],
    &["join", "concat", "concatenate", "merge"],
    &["count", "frequency", "tally", "histogram"],
    &["average", "mean", "avg"],
    &["maximum", "max", "largest"],
    &["minimum", "min", "smallest"],
    &["length", "len", "size"],
    &["duplicate", "dedup", "dedupe", "deduplicate", "unique", "uniq", "distinct"],
    &["validate", "check", "verify"],
    &["date", "time", "timestamp", "datetime"],
    &["start", "begin", "init", "initialize", "setup"],
    &["stop", "terminate", "shutdown", "kill"],
    &["send", "emit", "publish"],
    &["receive", "recv", "consume", "subscribe"],
    &["download", "fetch"],
    &["string", "str", "text"],
    &["number", "num", "integer", "int"],
    &["list", "array", "vec", "vector"],
    &["map", "dict", "dictionary", "hashmap"],
    &["shortest path", "dijkstra"],
    &["prime", "sieve"],
    &["greatest common divisor", "gcd", "euclid"],
    &["binary search", "bisect"],
    &["regex", "regular expression", "pattern"],
    &["env", "environment"],
    &["arguments", "args", "argv", "cli"],
    &["rate limit", "throttle", "token bucket"],
    &["queue", "fifo"],
    &["uppercase", "upper", "capitalize"],
    &["lowercase", "lower"],
    &["trim", "strip", "whitespace"],
    &["notify", "notification", "alert"],
    &["schedule", "cron", "timer"],
    &["exit", "quit"],
    &["temperature", "celsius", "fahrenheit"],
    &["reverse", "backwards", "invert"],
    &["sort", "sorted", "order"],
    &["user", "account"],
    &["image", "picture", "photo", "img"],
];

/// Lowercased words of `text`, identifiers split into their parts: runs of letters and digits
/// are cut at `_`, `-` and any other non-alphanumeric character, at lower-to-upper case changes
/// (`camelCase`), before the last capital of a capital run followed by a lowercase letter
/// (`HTTPResponse` -> `http`, `response`) and between letters and digits (`utf8` -> `utf`, `8`).
/// The joined identifier is not kept (`parseHTTPResponse2` gives only its four parts), so a
/// query written as an identifier and one written as words give the same terms, and plain prose
/// tokenises as [`crate::tokenize`] does except at case changes and letter/digit boundaries.
pub fn code_tokens(text: &str) -> Vec<String> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Upper,
        Lower,
        Digit,
    }
    let class = |c: char| {
        if c.is_uppercase() {
            Class::Upper
        } else if c.is_numeric() {
            Class::Digit
        } else {
            Class::Lower
        }
    };
    let mut tokens = Vec::new();
    for run in text.split(|c: char| !c.is_alphanumeric()).filter(|r| !r.is_empty()) {
        let chars: Vec<char> = run.chars().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (prev, cur) = (class(chars[i - 1]), class(chars[i]));
            let next_lower = chars.get(i + 1).is_some_and(|&c| class(c) == Class::Lower);
            let cut = match (prev, cur) {
                (Class::Lower, Class::Upper) => true,
                (Class::Upper, Class::Upper) => next_lower,
                (a, b) => (a == Class::Digit) != (b == Class::Digit),
            };
            if cut {
                tokens.push(chars[start..i].iter().collect::<String>().to_lowercase());
                start = i;
            }
        }
        tokens.push(chars[start..].iter().collect::<String>().to_lowercase());
    }
    tokens
}

/// The form a word is looked up by in [`SYNONYMS`]: a trailing `s` is dropped from words of
/// more than three letters not ending in `ss` (`duplicates` finds `duplicate`, `settings` and
/// `setting` find each other). Terms themselves are never changed.
pub fn lookup_form(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(stem) if word.len() > 3 && !stem.ends_with('s') => stem,
        _ => word,
    }
}

/// `terms` without [`STOPWORDS`], or all of `terms` if nothing else is left.
pub fn without_stopwords(terms: &[String]) -> Vec<String> {
    let kept: Vec<String> = terms.iter().filter(|t| !STOPWORDS.contains(&t.as_str())).cloned().collect();
    if kept.is_empty() { terms.to_vec() } else { kept }
}

/// The weighted terms of a query given as tokens (from [`code_tokens`]): every term with weight
/// 1.0, in order, repeats kept (BM25 counts a repeated query word each time); then, for every
/// [`SYNONYMS`] group one of whose members occurs in `terms` (a phrase as consecutive terms,
/// compared by [`lookup_form`]), the words of the group's other members (and of the member
/// itself where its spelling differs from the query's, e.g. `duplicate` for `duplicates`), each
/// word once, in table order, never a word already in `terms`, weighing [`SYNONYM_WEIGHT`] times
/// the words of the longest matched phrase, at most 1.0. A query whose terms match no group
/// comes back unchanged, all weights 1.0. Stopwords are not removed here (see
/// [`without_stopwords`]).
pub fn expand_query(terms: &[String]) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = terms.iter().map(|t| (t.clone(), 1.0)).collect();
    let forms: Vec<&str> = terms.iter().map(|t| lookup_form(t)).collect();
    let occurs = |phrase: &[&str]| forms.windows(phrase.len()).any(|w| w.iter().zip(phrase).all(|(a, b)| a == b));
    for group in SYNONYMS {
        let phrases: Vec<Vec<&str>> = group.iter().map(|p| p.split(' ').map(lookup_form).collect()).collect();
        let Some(longest) = phrases.iter().filter(|p| occurs(p)).map(Vec::len).max() else { continue };
        let weight = (SYNONYM_WEIGHT * longest as f64).min(1.0);
        for word in group.iter().flat_map(|p| p.split(' ')) {
            if !out.iter().any(|(t, _)| t == word) {
                out.push((word.to_owned(), weight));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(code_tokens("parseHTTPResponse2"), ["parse", "http", "response", "2"]);
        assert_eq!(
            code_tokens("snake_case kebab-case PascalCase"),
            ["snake", "case", "kebab", "case", "pascal", "case"]
        );
        assert_eq!(code_tokens("utf8 x86_64 IOError getX"), ["utf", "8", "x", "86", "64", "io", "error", "get", "x"]);
        assert_eq!(code_tokens("plain words, here."), crate::tokenize("plain words, here."));
        assert!(code_tokens(" -_ ").is_empty());
    }

    #[test]
    fn queries_gain_weighted_synonyms() {
        let expanded = expand_query(&strings(&["edit", "distance", "of", "two", "strings"]));
        assert_eq!(
            &expanded[..5],
            strings(&["edit", "distance", "of", "two", "strings"]).into_iter().map(|t| (t, 1.0)).collect::<Vec<_>>()
        );
        assert!(expanded.contains(&("levenshtein".into(), 2.0 * SYNONYM_WEIGHT)));
        assert!(expanded.contains(&("string".into(), SYNONYM_WEIGHT)), "strings finds the string group");
        assert!(expand_query(&strings(&["greatest", "common", "divisor"])).contains(&("gcd".into(), 1.0)));
        assert_eq!(without_stopwords(&strings(&["the", "size", "of", "a", "list"])), ["size", "list"]);
        assert_eq!(without_stopwords(&strings(&["the", "a"])), ["the", "a"]);
        let back = expand_query(&strings(&["levenshtein"]));
        assert!(back.contains(&("edit".into(), SYNONYM_WEIGHT)) && back.contains(&("distance".into(), SYNONYM_WEIGHT)));
        let dup = expand_query(&strings(&["remove", "duplicates"]));
        assert!(
            dup.contains(&("delete".into(), SYNONYM_WEIGHT)) && dup.contains(&("duplicate".into(), SYNONYM_WEIGHT))
        );
        assert_eq!(dup.iter().filter(|(t, _)| t == "remove").count(), 1);
        // "distance" alone is not the phrase "edit distance"; repeats are kept.
        let plain = strings(&["distance", "memory", "memory"]);
        assert_eq!(expand_query(&plain), plain.into_iter().map(|t| (t, 1.0)).collect::<Vec<_>>());
    }
}
