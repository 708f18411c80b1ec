//! `ide_agents_prompt`: renders the server's prompts (`diff_review`, `explain_error`,
//! `write_tests`) into MCP prompt messages. The server's `prompts/get` calls this component; a
//! model can call it as a tool too. Inputs named by `path` are read from the `workspace` root.

use std::collections::BTreeMap;

use ide_agents_tool::workspace::{self, FsError};
use ide_agents_tool::{Annotations, Error, Reply, Tool, offerings};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Largest file a prompt reads from the workspace.
const MAX_INPUT_BYTES: u64 = 1 << 20;

struct Prompt;

impl Tool for Prompt {
    const NAME: &'static str = "ide_agents_prompt";
    const TITLE: Option<&'static str> = Some("Prompts");
    const DESCRIPTION: &'static str = "Renders a prompt: `diff_review` (arguments: `diff` or `path` of a patch file \
                                       in the workspace, optional `focus`), `explain_error` (`error`, optional \
                                       `language`, `context`), `write_tests` (`code` or `path` of a workspace \
                                       file, optional `framework`, `language`). Returns the prompt's messages.";
    const ANNOTATIONS: Annotations =
        Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);
    type Args = Args;
    type Output = Rendered;

    fn call(args: Args) -> Result<Reply<Rendered>, Error> {
        let a = &args.arguments;
        let (description, text) = match args.name {
            Name::DiffReview => diff_review(a)?,
            Name::ExplainError => explain_error(a)?,
            Name::WriteTests => write_tests(a)?,
        };
        let message =
            Message { role: Role::User, content: TextContent { kind: ContentType::Text, text: text.clone() } };
        Ok(Reply::new(Rendered { description, messages: vec![message] }).text(text))
    }
}

ide_agents_tool::export_tools!(Prompt; offerings = Prompts);

/// The MCP prompts this component renders (the server lists them in `prompts/list` and answers
/// `prompts/get` by calling [`Prompt`]).
struct Prompts;

const LANGUAGES: &[&str] =
    &["c", "cpp", "csharp", "go", "java", "javascript", "kotlin", "python", "ruby", "rust", "swift", "typescript"];

impl ide_agents_tool::Offerings for Prompts {
    fn catalog() -> offerings::Catalog {
        let arg = |name: &str, description: &str, required: bool, values: &[&str]| offerings::PromptArgument {
            name: name.into(),
            description: description.into(),
            required,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        };
        let prompt = |name: &str, title: &str, description: &str, arguments| offerings::PromptOffer {
            name: name.into(),
            title: title.into(),
            description: description.into(),
            arguments,
            tool: Prompt::NAME.into(),
        };
        let prompts = vec![
            prompt(
                "diff_review",
                "Review a diff",
                "Review a unified diff for bugs, risks and missing tests. Pass the diff, or the path of a \
                 .diff/.patch file in the workspace.",
                vec![
                    arg("diff", "The unified diff to review.", false, &[]),
                    arg("path", "Path of a diff or patch file in the workspace (instead of `diff`).", false, &[]),
                    arg(
                        "focus",
                        "What to look at most closely.",
                        false,
                        &["correctness", "security", "performance", "readability", "tests", "api"],
                    ),
                ],
            ),
            prompt(
                "explain_error",
                "Explain an error",
                "Explain an error message or stack trace: its likely cause and how to fix it.",
                vec![
                    arg("error", "The error message or stack trace.", true, &[]),
                    arg("language", "The language or tool that produced it.", false, LANGUAGES),
                    arg("context", "Code or commands around the error.", false, &[]),
                ],
            ),
            prompt(
                "write_tests",
                "Write tests",
                "Write focused unit tests for code that is passed in or read from a workspace file.",
                vec![
                    arg("code", "The code to test.", false, &[]),
                    arg("path", "Path of a source file in the workspace (instead of `code`).", false, &[]),
                    arg(
                        "framework",
                        "Test framework to use.",
                        false,
                        &["cargo-test", "go-test", "jest", "junit", "mocha", "pytest", "unittest", "vitest"],
                    ),
                    arg("language", "The code's language.", false, LANGUAGES),
                ],
            ),
        ];
        offerings::Catalog { resources: Vec::new(), prompts }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Args {
    /// Which prompt.
    name: Name,
    /// The prompt's arguments (all strings).
    #[serde(default)]
    arguments: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Name {
    DiffReview,
    ExplainError,
    WriteTests,
}

/// An MCP `GetPromptResult`.
#[derive(Debug, Serialize, JsonSchema)]
struct Rendered {
    description: String,
    messages: Vec<Message>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Message {
    role: Role,
    content: TextContent,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Role {
    User,
}

#[derive(Debug, Serialize, JsonSchema)]
struct TextContent {
    #[serde(rename = "type")]
    kind: ContentType,
    text: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum ContentType {
    Text,
}

/// `text` argument, or the workspace file named by `path`; one is required.
fn input(a: &BTreeMap<String, String>, text: &str) -> Result<(String, Option<String>), Error> {
    if let Some(t) = a.get(text).filter(|t| !t.trim().is_empty()) {
        return Ok((t.clone(), None));
    }
    let Some(path) = a.get("path") else {
        return Err(Error::invalid(&format!("/arguments/{text}"), format!("give `{text}` or `path`")));
    };
    let bytes = workspace::read_file("workspace", path, Some(MAX_INPUT_BYTES)).map_err(|e| {
        let why = match e {
            FsError::NotGranted(m) => m,
            FsError::InvalidPath(m) => m,
            FsError::NotFound(p) => format!("{p} does not exist in the workspace"),
            FsError::TooLarge(n) => format!("{path} is {n} bytes, more than {MAX_INPUT_BYTES}"),
            FsError::Io(m) => m,
        };
        Error::invalid("/arguments/path", why)
    })?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), Some(path.clone())))
}

fn fence(lang: &str, body: &str) -> String {
    let ticks = if body.contains("```") { "````" } else { "```" };
    format!("{ticks}{lang}\n{}\n{ticks}", body.trim_end())
}

fn diff_review(a: &BTreeMap<String, String>) -> Result<(String, String), Error> {
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

fn explain_error(a: &BTreeMap<String, String>) -> Result<(String, String), Error> {
    let error = a
        .get("error")
        .filter(|e| !e.trim().is_empty())
        .ok_or_else(|| Error::invalid("/arguments/error", "required"))?;
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

fn write_tests(a: &BTreeMap<String, String>) -> Result<(String, String), Error> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every offered prompt is one the tool renders, with arguments it knows.
    #[test]
    fn every_offered_prompt_is_one_the_tool_renders() {
        let catalog = __ide_agents_offerings();
        assert_eq!(catalog.prompts.len(), 3);
        for p in catalog.prompts {
            assert_eq!(p.tool, Prompt::NAME);
            let args = serde_json::json!({"name": p.name});
            assert!(serde_json::from_value::<Args>(args).is_ok(), "{}", p.name);
        }
    }

    fn args(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn diff_reviews_count_files_and_lines() {
        let diff = "--- a/x.rs\n+++ b/x.rs\n@@ -1 +1,2 @@\n-a\n+b\n+c\n";
        let (description, text) = diff_review(&args(&[("diff", diff), ("focus", "tests")])).unwrap();
        assert_eq!(description, "Review of a diff touching 1 files");
        assert!(
            text.starts_with("Review this change: 1 files, +2 -1 lines (x.rs).\nPay particular attention to tests."),
            "{text}"
        );
        assert!(text.ends_with("```diff\n--- a/x.rs\n+++ b/x.rs\n@@ -1 +1,2 @@\n-a\n+b\n+c\n```"), "{text}");
    }

    #[test]
    fn explain_error_needs_an_error() {
        assert_eq!(
            explain_error(&args(&[])).unwrap_err(),
            Error::InvalidArguments("/arguments/error: required".into())
        );
        let (description, text) = explain_error(&args(&[("error", "boom\nat x"), ("language", "rust")])).unwrap();
        assert_eq!(description, "Explain: boom");
        assert!(text.contains("from rust") && text.contains("```text\nboom\nat x\n```"), "{text}");
    }

    #[test]
    fn fences_grow_around_fenced_code() {
        assert_eq!(fence("md", "a ```b```"), "````md\na ```b```\n````");
        assert_eq!(language_of("src/lib.rs").as_deref(), Some("rust"));
    }
}
