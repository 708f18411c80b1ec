#!/usr/bin/env bash
# Scaffolds a standalone tool component on the guest SDK (guest-tools/sdk, crate `ide-agents-tool`):
#
#   scripts/new-tool.sh NAME [DIR] [--lang rust|python|js|c]
#
# (--lang python: see scripts/new-tool-python.sh; --lang js: scripts/new-tool-js.sh; --lang c:
# scripts/new-tool-c.sh.)
# NAME is the crate name (lower case, digits, '-' or '_'); the tool is called NAME with '-' as '_'.
# DIR (default ./NAME, under the current directory) must not exist yet. The crate is its own cargo
# workspace with its own target directory, depends on this repository's SDK by absolute path, and
# holds one typed example tool with a native unit test. Build it inside DIR with
# `cargo build --release --target wasm32-wasip2`: the component is
# DIR/target/wasm32-wasip2/release/<crate>.wasm, the only .wasm there, ready for
# `ide-agents-mcp serve --tools-dir DIR/target/wasm32-wasip2/release`.
set -euo pipefail

# --lang rust (the default), python, js or c, anywhere among the arguments.
lang=rust
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lang) lang="${2:?--lang needs rust, python, js or c}"; shift 2 ;;
    --lang=*) lang="${1#--lang=}"; shift ;;
    *) positional+=("$1"); shift ;;
  esac
done
set -- "${positional[@]}"
case "$lang" in
  rust) ;;
  python) exec "$(dirname "${BASH_SOURCE[0]}")/new-tool-python.sh" "$@" ;;
  js | javascript) exec "$(dirname "${BASH_SOURCE[0]}")/new-tool-js.sh" "$@" ;;
  c) exec "$(dirname "${BASH_SOURCE[0]}")/new-tool-c.sh" "$@" ;;
  *) echo "unknown --lang $lang: rust, python, js or c" >&2; exit 2 ;;
esac

usage="usage: scripts/new-tool.sh NAME [DIR] [--lang rust|python|js|c]   (NAME: lower case letters, digits, '-' or '_')"
name="${1:?$usage}"
[[ "$name" =~ ^[a-z][a-z0-9_-]*$ ]] || { echo "invalid crate name: $name" >&2; echo "$usage" >&2; exit 2; }
dir="${2:-./$name}"
[ -e "$dir" ] && { echo "$dir already exists; not overwriting it" >&2; exit 1; }

sdk="$(cd "$(dirname "${BASH_SOURCE[0]}")/../guest-tools/sdk" && pwd)"
[ -f "$sdk/Cargo.toml" ] || { echo "the SDK is missing at $sdk" >&2; exit 1; }
tool="${name//-/_}"        # the tool's name, and the .wasm file's (cargo's lib name)
title="$(sed -E 's/^./\U&/' <<<"${name//[-_]/ }")"
type="$(sed -E 's/(^|[-_])([a-z0-9])/\U\2/g' <<<"$name")"
case "$type" in Args | Counts | Word | Tool | Reply | Error | Annotations) type="${type}Tool" ;; esac

mkdir -p "$dir/src" "$dir/.cargo"
dir="$(cd "$dir" && pwd)"

cat >"$dir/Cargo.toml" <<EOF
# The \`$tool\` tool component for ide-agents-mcp. Build (here, after \`rustup target add wasm32-wasip2\`):
#   cargo build --release --target wasm32-wasip2
# -> target/wasm32-wasip2/release/$tool.wasm; serve it with
#   ide-agents-mcp serve --tools-dir target/wasm32-wasip2/release
[package]
name = "$name"
version = "0.1.0"
edition = "2024"
description = "An ide-agents-mcp tool that counts the words of a text"
publish = false

[lib]
crate-type = ["cdylib"]

[dependencies]
ide-agents-tool = { path = "$sdk" }
schemars = "1.2"
serde = { version = "1", features = ["derive"] }

# A workspace of its own: never part of an enclosing one, and its own target directory.
[workspace]

[profile.release]
opt-level = 3
lto = true
codegen-units = 1
strip = true
debug = false
EOF

cat >"$dir/.cargo/config.toml" <<'EOF'
# A small shadow stack keeps the memory a call touches compact, so the server resets a fresh
# instance per call cheaply (the built-in tools use the same setting).
[target.wasm32-wasip2]
rustflags = ["-C", "link-arg=-zstack-size=65536"]
EOF

printf '/target\n' >"$dir/.gitignore"
printf 'max_width = 120\nuse_small_heuristics = "Max"\n' >"$dir/rustfmt.toml"

cat >"$dir/src/lib.rs" <<EOF
//! \`$tool\`: a tool component for ide-agents-mcp, written with the \`ide-agents-tool\` SDK.
//!
//! The example counts the words of a text; replace it with what your tool does. Its arguments
//! and output are plain Rust types: the JSON Schemas clients see are derived from them (doc
//! comments become descriptions, \`#[schemars(...)]\` adds constraints) and the server checks
//! every call's arguments against the input schema before \`call\` runs.
//!
//! - Test natively: \`cargo test\` (keep the logic in plain functions: the host interfaces only
//!   exist inside the server).
//! - Build: \`cargo build --release --target wasm32-wasip2\`, giving
//!   \`target/wasm32-wasip2/release/$tool.wasm\`.
//! - Serve: \`ide-agents-mcp serve --tools-dir target/wasm32-wasip2/release\`.
//! - The SDK's documentation: \`cargo doc --open -p ide-agents-tool\`.
//!
//! A tool reaches nothing by default. HTTP origins, directories, configuration values and
//! secrets are granted to it in the server's configuration (\`[tools.$tool]\`) and used through
//! \`ide_agents_tool::{http, workspace, config, cache}\`; \`ide_agents_tool::info!\` and friends
//! log to the server and the client.

use std::collections::BTreeMap;

use ide_agents_tool::{Annotations, Error, Reply, Tool};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct $type;

impl Tool for $type {
    const NAME: &'static str = "$tool";
    const TITLE: Option<&'static str> = Some("$title");
    const DESCRIPTION: &'static str =
        "Counts the lines, words and characters of \`text\` and lists its most frequent words.";
    const ANNOTATIONS: Annotations =
        Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);
    type Args = Args;
    type Output = Counts;

    fn call(args: Args) -> Result<Reply<Counts>, Error> {
        let counts = count(&args.text, args.top);
        let summary = format!("{} lines, {} words, {} characters", counts.lines, counts.words, counts.characters);
        Ok(Reply::new(counts).text(summary))
    }
}

ide_agents_tool::export_tools!($type);

/// The arguments: this type is the tool's input schema.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Args {
    /// The text to count.
    #[schemars(length(min = 1))]
    text: String,
    /// How many of the most frequent words to list (default 5).
    #[serde(default = "default_top")]
    #[schemars(range(max = 100))]
    top: usize,
}

fn default_top() -> usize {
    5
}

/// The structured output: this type is the tool's output schema.
#[derive(Debug, PartialEq, Serialize, JsonSchema)]
pub struct Counts {
    lines: usize,
    words: usize,
    characters: usize,
    /// The most frequent words, lower-cased, most frequent first (ties alphabetically).
    top_words: Vec<Word>,
}

#[derive(Debug, PartialEq, Serialize, JsonSchema)]
pub struct Word {
    word: String,
    count: usize,
}

/// Counts \`text\`, keeping the \`top\` most frequent words.
fn count(text: &str, top: usize) -> Counts {
    let mut words = 0;
    let mut frequency: BTreeMap<String, usize> = BTreeMap::new();
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        words += 1;
        *frequency.entry(word.to_lowercase()).or_default() += 1;
    }
    let mut top_words: Vec<Word> = frequency.into_iter().map(|(word, count)| Word { word, count }).collect();
    top_words.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.word.cmp(&b.word)));
    top_words.truncate(top);
    Counts { lines: text.lines().count(), words, characters: text.chars().count(), top_words }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_lines_words_and_the_most_frequent_words() {
        let counts = count("The cat saw the dog.\nThe end", 2);
        assert_eq!((counts.lines, counts.words, counts.characters), (2, 7, 28));
        let top: Vec<(&str, usize)> = counts.top_words.iter().map(|w| (w.word.as_str(), w.count)).collect();
        assert_eq!(top, [("the", 3), ("cat", 1)]);
    }

    #[test]
    fn a_call_decodes_its_arguments_and_encodes_its_output() {
        // What the server does: JSON arguments in, structured JSON out.
        let result = ide_agents_tool::call::<$type>(r#"{"text": "a b a", "top": 1}"#).unwrap();
        let expected = r#"{"lines":1,"words":3,"characters":5,"top_words":[{"word":"a","count":2}]}"#;
        assert_eq!(result.structured.as_deref(), Some(expected));
        let schema = ide_agents_tool::descriptor::<$type>().input_schema;
        assert!(schema.contains(r#""required":["text"]"#), "{schema}");
    }
}
EOF

cat <<EOF
Created $dir: the tool \`$tool\` (crate $name), on the SDK at $sdk.
Next steps:
  cd $dir
  cargo test                                      # unit tests, natively
  rustup target add wasm32-wasip2                 # once, if the target is missing
  cargo build --release --target wasm32-wasip2    # -> target/wasm32-wasip2/release/$tool.wasm
  ide-agents-mcp serve --tools-dir $dir/target/wasm32-wasip2/release
Then make src/lib.rs yours: the example counts words; its Args and Counts types are the schemas.
EOF
