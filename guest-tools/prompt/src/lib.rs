//! `ide_agents_prompt`: renders the server's prompts (`diff_review`, `explain_error`,
//! `write_tests`) into MCP prompt messages. The server's `prompts/get` calls this component; a
//! model can call it as a tool too. Inputs named by `path` are read from the `workspace` root.

wit_bindgen::generate!({ path: "../../wit", world: "tool" });

use std::collections::BTreeMap;

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::types::{Content, ToolAnnotations};
use ide_agents::tool::workspace::{self, FsError};
use serde::Deserialize;
use serde_json::json;

const NAME: &str = "ide_agents_prompt";
/// Largest file a prompt reads from the workspace.
const MAX_INPUT_BYTES: u64 = 1 << 20;

struct Prompt;

#[derive(Deserialize)]
struct Args {
    name: String,
    #[serde(default)]
    arguments: BTreeMap<String, String>,
}

impl Guest for Prompt {
    fn describe() -> Vec<ToolDescriptor> {
        vec![ToolDescriptor {
            name: NAME.into(),
            title: Some("Prompts".into()),
            description: "Renders a prompt: `diff_review` (arguments: `diff` or `path` of a patch file in the \
                          workspace, optional `focus`), `explain_error` (`error`, optional `language`, `context`), \
                          `write_tests` (`code` or `path` of a workspace file, optional `framework`, `language`). \
                          Returns the prompt's messages."
                .into(),
            input_schema: json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "enum": ["diff_review", "explain_error", "write_tests"],
                             "description": "Which prompt."},
                    "arguments": {"type": "object", "additionalProperties": {"type": "string"},
                                  "description": "The prompt's arguments (all strings)."}
                },
                "required": ["name"],
                "additionalProperties": false
            })
            .to_string(),
            output_schema: Some(
                json!({
                    "type": "object",
                    "properties": {
                        "description": {"type": "string"},
                        "messages": {"type": "array", "items": {"type": "object", "properties": {
                            "role": {"type": "string", "enum": ["user", "assistant"]},
                            "content": {"type": "object", "properties": {
                                "type": {"const": "text"}, "text": {"type": "string"}},
                                "required": ["type", "text"]}},
                            "required": ["role", "content"]}}
                    },
                    "required": ["description", "messages"]
                })
                .to_string(),
            ),
            annotations: ToolAnnotations {
                read_only: Some(true),
                destructive: Some(false),
                idempotent: Some(true),
                open_world: Some(false),
            },
        }]
    }

    fn call(name: String, arguments: String) -> Result<CallResult, ToolError> {
        if name != NAME {
            return Err(ToolError::UnknownTool(name));
        }
        let args: Args = serde_json::from_str(&arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        let a = &args.arguments;
        let (description, text) = match args.name.as_str() {
            "diff_review" => diff_review(a)?,
            "explain_error" => explain_error(a)?,
            "write_tests" => write_tests(a)?,
            other => return Err(ToolError::InvalidArguments(format!("/name: unknown prompt {other:?}"))),
        };
        let structured = json!({
            "description": description,
            "messages": [{"role": "user", "content": {"type": "text", "text": text}}],
        });
        Ok(CallResult { content: vec![Content::Text(text)], structured: Some(structured.to_string()), is_error: false })
    }
}

/// `text` argument, or the workspace file named by `path`; one is required.
fn input(a: &BTreeMap<String, String>, text: &str) -> Result<(String, Option<String>), ToolError> {
    if let Some(t) = a.get(text).filter(|t| !t.trim().is_empty()) {
        return Ok((t.clone(), None));
    }
    let Some(path) = a.get("path") else {
        return Err(ToolError::InvalidArguments(format!("/arguments/{text}: give `{text}` or `path`")));
    };
    let bytes = workspace::read_file("workspace", path, Some(MAX_INPUT_BYTES)).map_err(|e| {
        let why = match e {
            FsError::NotGranted(m) => m,
            FsError::InvalidPath(m) => m,
            FsError::NotFound(p) => format!("{p} does not exist in the workspace"),
            FsError::TooLarge(n) => format!("{path} is {n} bytes, more than {MAX_INPUT_BYTES}"),
            FsError::Io(m) => m,
        };
        ToolError::InvalidArguments(format!("/arguments/path: {why}"))
    })?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), Some(path.clone())))
}

fn fence(lang: &str, body: &str) -> String {
    let ticks = if body.contains("```") { "````" } else { "```" };
    format!("{ticks}{lang}\n{}\n{ticks}", body.trim_end())
}

fn diff_review(a: &BTreeMap<String, String>) -> Result<(String, String), ToolError> {
    let (diff, path) = input(a, "diff")?;
    let files: Vec<&str> = diff.lines().filter_map(|l| l.strip_prefix("+++ b/")).collect();
    let (added, removed) = diff.lines().fold((0, 0), |(p, m), l| {
        if l.starts_with('+') && !l.starts_with("+++") {
            (p + 1, m)
        } else if l.starts_with('-') && !l.starts_with("---") {
            (p, m + 1)
        } else {
            (p, m)
        }
    });
    let focus = a.get("focus").map_or(String::new(), |f| format!("Pay particular attention to {f}.\n"));
    let source = path.map_or(String::new(), |p| format!(" (from `{p}`)"));
    let text = format!(
        "Review this change{source}: {} files, +{added} -{removed} lines{}.\n{focus}\
         For each problem give the file and line, what is wrong, why it matters, and a concrete fix. \
         Look for bugs, unhandled errors and edge cases, security issues, performance regressions, \
         unclear names, and missing or weak tests. Say plainly if the change looks correct.\n\n{}",
        files.len(),
        if files.is_empty() { String::new() } else { format!(" ({})", files.join(", ")) },
        fence("diff", &diff)
    );
    Ok((format!("Review of a diff touching {} files", files.len()), text))
}

fn explain_error(a: &BTreeMap<String, String>) -> Result<(String, String), ToolError> {
    let error = a
        .get("error")
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| ToolError::InvalidArguments("/arguments/error: required".into()))?;
    let language = a.get("language").map(String::as_str).unwrap_or("");
    let lang_note = if language.is_empty() { String::new() } else { format!(" from {language}") };
    let context = a.get("context").map_or(String::new(), |c| format!("\n\nContext:\n{}", fence(language, c)));
    let text = format!(
        "Explain this error{lang_note}: what it means, its most likely cause here, and how to fix it \
         (show the corrected code). If several causes are plausible, rank them and say how to tell them \
         apart.\n\n{}{context}",
        fence("text", error)
    );
    let first = error.lines().next().unwrap_or("").chars().take(80).collect::<String>();
    Ok((format!("Explain: {first}"), text))
}

fn write_tests(a: &BTreeMap<String, String>) -> Result<(String, String), ToolError> {
    let (code, path) = input(a, "code")?;
    let language = a.get("language").cloned().or_else(|| path.as_deref().and_then(language_of)).unwrap_or_default();
    let framework =
        a.get("framework").map_or_else(|| "the project's usual test framework".to_owned(), |f| format!("`{f}`"));
    let source = path.as_ref().map_or(String::new(), |p| format!(" in `{p}`"));
    let text = format!(
        "Write unit tests with {framework} for the code{source} below. Cover the normal cases, edge cases \
         (empty input, limits, invalid input) and error paths; one behaviour per test, with names that say \
         what is checked. Do not change the code under test; if something is untestable as written, say \
         why.\n\n{}",
        fence(&language, &code)
    );
    Ok((format!("Tests for {}", path.as_deref().unwrap_or("the given code")), text))
}

fn language_of(path: &str) -> Option<String> {
    let ext = path.rsplit_once('.')?.1;
    Some(
        match ext {
            "rs" => "rust",
            "py" => "python",
            "ts" | "tsx" => "typescript",
            "js" | "jsx" | "mjs" => "javascript",
            "go" => "go",
            "java" => "java",
            "c" | "h" => "c",
            "cc" | "cpp" | "hpp" => "cpp",
            other => other,
        }
        .to_owned(),
    )
}

export!(Prompt);
