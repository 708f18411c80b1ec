//! MCP prompts: the fixed set the server offers (`prompts/list`), argument checks for
//! `prompts/get` (whose messages the built-in `ide_agents_prompt` component renders in its
//! sandbox), and `completion/complete` for argument values.

use serde_json::{Value, json};

use super::jsonrpc::RpcError;

/// The tool that renders prompts.
pub const PROMPT_TOOL: &str = "ide_agents_prompt";
/// Most completion values in one answer (MCP's limit).
const MAX_COMPLETIONS: usize = 100;

/// One prompt argument.
#[derive(Debug)]
pub struct ArgDef {
    /// Its name.
    pub name: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Whether `prompts/get` needs it.
    pub required: bool,
    /// Known values, offered by `completion/complete`.
    pub values: &'static [&'static str],
}

/// One prompt.
#[derive(Debug)]
pub struct PromptDef {
    /// Its name (`/diff_review` in clients that show prompts as commands).
    pub name: &'static str,
    /// Display name.
    pub title: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Its arguments.
    pub arguments: &'static [ArgDef],
}

const LANGUAGES: &[&str] =
    &["c", "cpp", "csharp", "go", "java", "javascript", "kotlin", "python", "ruby", "rust", "swift", "typescript"];

/// Every prompt, in listing order.
pub static PROMPTS: &[PromptDef] = &[
    PromptDef {
        name: "diff_review",
        title: "Review a diff",
        description: "Review a unified diff for bugs, risks and missing tests. Pass the diff, or the path \
                      of a .diff/.patch file in the workspace.",
        arguments: &[
            ArgDef { name: "diff", description: "The unified diff to review.", required: false, values: &[] },
            ArgDef {
                name: "path",
                description: "Path of a diff or patch file in the workspace (instead of `diff`).",
                required: false,
                values: &[],
            },
            ArgDef {
                name: "focus",
                description: "What to look at most closely.",
                required: false,
                values: &["correctness", "security", "performance", "readability", "tests", "api"],
            },
        ],
    },
    PromptDef {
        name: "explain_error",
        title: "Explain an error",
        description: "Explain an error message or stack trace: its likely cause and how to fix it.",
        arguments: &[
            ArgDef { name: "error", description: "The error message or stack trace.", required: true, values: &[] },
            ArgDef {
                name: "language",
                description: "The language or tool that produced it.",
                required: false,
                values: LANGUAGES,
            },
            ArgDef { name: "context", description: "Code or commands around the error.", required: false, values: &[] },
        ],
    },
    PromptDef {
        name: "write_tests",
        title: "Write tests",
        description: "Write focused unit tests for code that is passed in or read from a workspace file.",
        arguments: &[
            ArgDef { name: "code", description: "The code to test.", required: false, values: &[] },
            ArgDef {
                name: "path",
                description: "Path of a source file in the workspace (instead of `code`).",
                required: false,
                values: &[],
            },
            ArgDef {
                name: "framework",
                description: "Test framework to use.",
                required: false,
                values: &["cargo-test", "go-test", "jest", "junit", "mocha", "pytest", "unittest", "vitest"],
            },
            ArgDef { name: "language", description: "The code's language.", required: false, values: LANGUAGES },
        ],
    },
];

/// The prompt called `name`.
pub fn find(name: &str) -> Result<&'static PromptDef, RpcError> {
    PROMPTS.iter().find(|p| p.name == name).ok_or_else(|| RpcError::invalid_params(format!("unknown prompt: {name}")))
}

/// The `prompts/list` entry of a prompt.
pub fn list_entry(p: &PromptDef) -> Value {
    let arguments: Vec<Value> = p
        .arguments
        .iter()
        .map(|a| json!({"name": a.name, "description": a.description, "required": a.required}))
        .collect();
    json!({"name": p.name, "title": p.title, "description": p.description, "arguments": arguments})
}

/// Checks `prompts/get` arguments (string values, known names, required ones present) and returns
/// the arguments for `ide_agents_prompt`.
pub fn tool_arguments(p: &PromptDef, arguments: Option<&serde_json::Map<String, Value>>) -> Result<Value, RpcError> {
    let empty = serde_json::Map::new();
    let arguments = arguments.unwrap_or(&empty);
    for (key, value) in arguments {
        if !p.arguments.iter().any(|a| a.name == key) {
            return Err(RpcError::invalid_params(format!("prompt {}: unknown argument {key:?}", p.name)));
        }
        if !value.is_string() {
            return Err(RpcError::invalid_params(format!("prompt {}: argument {key:?} must be a string", p.name)));
        }
    }
    if let Some(missing) = p.arguments.iter().find(|a| a.required && !arguments.contains_key(a.name)) {
        return Err(RpcError::invalid_params(format!(
            "prompt {}: missing required argument {:?}",
            p.name, missing.name
        )));
    }
    Ok(json!({"name": p.name, "arguments": arguments}))
}

/// Values of `argument` of prompt `name` that start with `prefix` (case-insensitively).
pub fn complete(name: &str, argument: &str, prefix: &str) -> Result<Value, RpcError> {
    let p = find(name)?;
    let arg = p
        .arguments
        .iter()
        .find(|a| a.name == argument)
        .ok_or_else(|| RpcError::invalid_params(format!("prompt {name} has no argument {argument:?}")))?;
    let prefix = prefix.to_lowercase();
    let matches: Vec<&str> = arg.values.iter().copied().filter(|v| v.starts_with(&prefix)).collect();
    let shown = &matches[..matches.len().min(MAX_COMPLETIONS)];
    Ok(json!({"completion": {"values": shown, "total": matches.len(), "hasMore": matches.len() > shown.len()}}))
}

/// Completes a `path` argument from the `workspace` root (none granted: no values): the entries
/// of the directory named so far whose names start with the rest, directories with a trailing `/`.
pub fn complete_path(workspace: Option<&crate::host::workspace::Root>, value: &str) -> Value {
    let (dir, prefix) = value.rsplit_once('/').unwrap_or(("", value));
    let mut values: Vec<String> = workspace
        .and_then(|root| root.list(dir).ok())
        .into_iter()
        .flatten()
        .filter(|e| e.name.starts_with(prefix) && (prefix.starts_with('.') || !e.name.starts_with('.')))
        .map(|e| {
            let slash =
                if e.kind == crate::bindings::ide_agents::tool::workspace::EntryKind::Directory { "/" } else { "" };
            if dir.is_empty() { format!("{}{slash}", e.name) } else { format!("{dir}/{}{slash}", e.name) }
        })
        .collect();
    let total = values.len();
    values.truncate(MAX_COMPLETIONS);
    json!({"completion": {"values": values, "total": total, "hasMore": total > MAX_COMPLETIONS}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_and_completed() {
        let p = find("explain_error").unwrap();
        assert!(tool_arguments(p, None).unwrap_err().message.contains("missing required argument \"error\""));
        let args = json!({"error": "E0382", "language": "rust"});
        assert_eq!(
            tool_arguments(p, args.as_object()).unwrap(),
            json!({"name": "explain_error", "arguments": {"error": "E0382", "language": "rust"}})
        );
        assert!(tool_arguments(p, json!({"error": 1}).as_object()).is_err());
        assert!(tool_arguments(p, json!({"error": "x", "bogus": "y"}).as_object()).is_err());
        assert_eq!(complete("write_tests", "framework", "py").unwrap()["completion"]["values"], json!(["pytest"]));
        assert_eq!(complete("diff_review", "focus", "").unwrap()["completion"]["total"], 6);
        assert!(complete("nope", "x", "").is_err());
    }
}
