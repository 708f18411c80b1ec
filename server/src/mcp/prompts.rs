//! MCP prompts: their `prompts/list` entries, argument checks for `prompts/get` (whose messages
//! the tool that offers the prompt renders in its sandbox), and `completion/complete` for argument
//! values. What is offered is declared by the components (the WIT `offerings` export).

use serde_json::{Value, json};

use super::jsonrpc::RpcError;
use crate::runtime::offerings::PromptDef;

/// Most completion values in one answer (MCP's limit).
const MAX_COMPLETIONS: usize = 100;

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
/// the arguments for the tool that renders the prompt.
pub fn tool_arguments(p: &PromptDef, arguments: Option<&serde_json::Map<String, Value>>) -> Result<Value, RpcError> {
    let empty = serde_json::Map::new();
    let arguments = arguments.unwrap_or(&empty);
    for (key, value) in arguments {
        if !p.arguments.iter().any(|a| a.name == *key) {
            return Err(RpcError::invalid_params(format!("prompt {}: unknown argument {key:?}", p.name)));
        }
        if !value.is_string() {
            return Err(RpcError::invalid_params(format!("prompt {}: argument {key:?} must be a string", p.name)));
        }
    }
    if let Some(missing) = p.arguments.iter().find(|a| a.required && !arguments.contains_key(&a.name)) {
        return Err(RpcError::invalid_params(format!(
            "prompt {}: missing required argument {:?}",
            p.name, missing.name
        )));
    }
    Ok(json!({"name": p.name, "arguments": arguments}))
}

/// Values of `argument` of prompt `p` that start with `prefix` (case-insensitively).
pub fn complete(p: &PromptDef, argument: &str, prefix: &str) -> Result<Value, RpcError> {
    let name = &p.name;
    let arg = p
        .arguments
        .iter()
        .find(|a| a.name == argument)
        .ok_or_else(|| RpcError::invalid_params(format!("prompt {name} has no argument {argument:?}")))?;
    let prefix = prefix.to_lowercase();
    let matches: Vec<&str> = arg.values.iter().map(String::as_str).filter(|v| v.starts_with(&prefix)).collect();
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
    use crate::runtime::offerings::ArgDef;

    fn explain_error() -> PromptDef {
        let arg = |name: &str, required, values: &[&str]| ArgDef {
            name: name.into(),
            description: String::new(),
            required,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        };
        PromptDef {
            name: "explain_error".into(),
            title: String::new(),
            description: String::new(),
            arguments: vec![arg("error", true, &[]), arg("language", false, &["python", "rust", "ruby"])],
            tool: "t".into(),
        }
    }

    #[test]
    fn arguments_are_checked_and_completed() {
        let p = explain_error();
        assert!(tool_arguments(&p, None).unwrap_err().message.contains("missing required argument \"error\""));
        let args = json!({"error": "E0382", "language": "rust"});
        assert_eq!(
            tool_arguments(&p, args.as_object()).unwrap(),
            json!({"name": "explain_error", "arguments": {"error": "E0382", "language": "rust"}})
        );
        assert!(tool_arguments(&p, json!({"error": 1}).as_object()).is_err());
        assert!(tool_arguments(&p, json!({"error": "x", "bogus": "y"}).as_object()).is_err());
        assert_eq!(complete(&p, "language", "R").unwrap()["completion"]["values"], json!(["rust", "ruby"]));
        assert_eq!(complete(&p, "language", "").unwrap()["completion"]["total"], 3);
        assert!(complete(&p, "nope", "").is_err());
    }
}
