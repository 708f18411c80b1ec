//! `ide_agents_github_*`: read issues and pull requests, a pull request's diff, search code, and
//! comment on an issue, through the GitHub REST API over the host's pooled `http` interface.
//!
//! The base URL is the `base_url` configuration value (default `https://api.github.com`, whose
//! origin the host allows by default); the token is the `token` secret, sent as a bearer token and
//! never logged or echoed. Results keep the fields a model needs, not the API's whole objects.

wit_bindgen::generate!({ path: "../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::types::{Content, ToolAnnotations};
use ide_agents::tool::{config, http};
use serde_json::{Value, json};

/// The API version we were written against (GitHub's `X-GitHub-Api-Version`).
const API_VERSION: &str = "2022-11-28";
/// Default largest diff returned, bytes.
const DEFAULT_MAX_DIFF_BYTES: usize = 200_000;

struct Github;

fn repo_props() -> Value {
    json!({
        "owner": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,100}$", "description": "Repository owner (user or organisation)."},
        "repo": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,100}$", "description": "Repository name."}
    })
}

fn with_props(extra: Value, required: &[&str]) -> String {
    let mut props = repo_props();
    for (k, v) in extra.as_object().into_iter().flatten() {
        props[k] = v.clone();
    }
    json!({"type": "object", "properties": props, "required": required, "additionalProperties": false}).to_string()
}

fn number() -> Value {
    json!({"type": "integer", "minimum": 1, "description": "Issue or pull request number."})
}

fn user() -> Value {
    json!({"type": ["string", "null"]})
}

fn tool(name: &str, title: &str, description: &str, input: String, output: Value, read_only: bool) -> ToolDescriptor {
    ToolDescriptor {
        name: name.into(),
        title: Some(title.into()),
        description: description.into(),
        input_schema: input,
        output_schema: Some(output.to_string()),
        annotations: ToolAnnotations {
            read_only: Some(read_only),
            destructive: Some(false),
            idempotent: Some(read_only),
            open_world: Some(true),
        },
    }
}

fn pull_summary_schema() -> Value {
    json!({"type": "object", "properties": {
        "number": {"type": "integer"}, "title": {"type": "string"}, "state": {"type": "string"},
        "user": user(), "draft": {"type": "boolean"}, "head": {"type": ["string", "null"]},
        "base": {"type": ["string", "null"]}, "html_url": {"type": ["string", "null"]}},
        "required": ["number", "title", "state"]})
}

impl Guest for Github {
    fn describe() -> Vec<ToolDescriptor> {
        vec![
            tool(
                "ide_agents_github_get_issue",
                "Get a GitHub issue",
                "Gets one issue (or pull request, as an issue) of a GitHub repository: title, state, author, labels, body.",
                with_props(json!({"number": number()}), &["owner", "repo", "number"]),
                json!({"type": "object", "properties": {
                    "number": {"type": "integer"}, "title": {"type": "string"}, "state": {"type": "string"},
                    "user": user(), "labels": {"type": "array", "items": {"type": "string"}},
                    "body": {"type": ["string", "null"]}, "comments": {"type": "integer"},
                    "is_pull_request": {"type": "boolean"}, "html_url": {"type": ["string", "null"]},
                    "created_at": {"type": ["string", "null"]}, "updated_at": {"type": ["string", "null"]}},
                    "required": ["number", "title", "state", "labels", "is_pull_request"]}),
                true,
            ),
            tool(
                "ide_agents_github_list_pulls",
                "List pull requests",
                "Lists pull requests of a GitHub repository, newest first.",
                with_props(
                    json!({
                        "state": {"type": "string", "enum": ["open", "closed", "all"], "description": "Which pull requests (default open)."},
                        "per_page": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Results per page (default 30)."},
                        "page": {"type": "integer", "minimum": 1, "description": "Page number (default 1)."}
                    }),
                    &["owner", "repo"],
                ),
                json!({"type": "object", "properties": {"pulls": {"type": "array", "items": pull_summary_schema()}},
                       "required": ["pulls"]}),
                true,
            ),
            tool(
                "ide_agents_github_get_pull",
                "Get a pull request",
                "Gets one pull request: title, state, author, body, branches, merge state and size.",
                with_props(json!({"number": number()}), &["owner", "repo", "number"]),
                json!({"type": "object", "properties": {
                    "number": {"type": "integer"}, "title": {"type": "string"}, "state": {"type": "string"},
                    "user": user(), "body": {"type": ["string", "null"]}, "draft": {"type": "boolean"},
                    "merged": {"type": "boolean"}, "mergeable": {"type": ["boolean", "null"]},
                    "head": {"type": ["string", "null"]}, "base": {"type": ["string", "null"]},
                    "commits": {"type": "integer"}, "additions": {"type": "integer"}, "deletions": {"type": "integer"},
                    "changed_files": {"type": "integer"}, "html_url": {"type": ["string", "null"]}},
                    "required": ["number", "title", "state"]}),
                true,
            ),
            tool(
                "ide_agents_github_get_pull_diff",
                "Get a pull request's diff",
                "Gets a pull request's unified diff, and the files it touches.",
                with_props(
                    json!({"number": number(),
                           "max_bytes": {"type": "integer", "minimum": 1, "maximum": 10000000,
                                         "description": "Truncate the diff to this many bytes (default 200000)."}}),
                    &["owner", "repo", "number"],
                ),
                json!({"type": "object", "properties": {
                    "number": {"type": "integer"}, "diff": {"type": "string"}, "bytes": {"type": "integer"},
                    "truncated": {"type": "boolean"}, "files": {"type": "array", "items": {"type": "string"}}},
                    "required": ["number", "diff", "bytes", "truncated", "files"]}),
                true,
            ),
            tool(
                "ide_agents_github_search_code",
                "Search code on GitHub",
                "Searches code with GitHub's code search syntax (e.g. `addClass repo:jquery/jquery`).",
                json!({"type": "object", "properties": {
                    "query": {"type": "string", "minLength": 1, "maxLength": 256, "description": "The search query, with qualifiers."},
                    "per_page": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Results per page (default 30)."},
                    "page": {"type": "integer", "minimum": 1, "description": "Page number (default 1)."}},
                    "required": ["query"], "additionalProperties": false})
                .to_string(),
                json!({"type": "object", "properties": {
                    "total_count": {"type": "integer"}, "incomplete_results": {"type": "boolean"},
                    "items": {"type": "array", "items": {"type": "object", "properties": {
                        "name": {"type": "string"}, "path": {"type": "string"}, "repository": {"type": ["string", "null"]},
                        "sha": {"type": ["string", "null"]}, "html_url": {"type": ["string", "null"]}},
                        "required": ["name", "path"]}}},
                    "required": ["total_count", "items"]}),
                true,
            ),
            tool(
                "ide_agents_github_comment_issue",
                "Comment on an issue",
                "Adds a comment to an issue or pull request. Needs a token with write access.",
                with_props(
                    json!({"number": number(),
                           "body": {"type": "string", "minLength": 1, "maxLength": 65536, "description": "The comment (markdown)."}}),
                    &["owner", "repo", "number", "body"],
                ),
                json!({"type": "object", "properties": {
                    "id": {"type": "integer"}, "html_url": {"type": ["string", "null"]}, "user": user(),
                    "created_at": {"type": ["string", "null"]}}, "required": ["id"]}),
                false,
            ),
        ]
    }

    fn call(name: String, arguments: String) -> Result<CallResult, ToolError> {
        let args: Value = serde_json::from_str(&arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        let base = config::get("base_url").unwrap_or_else(|| "https://api.github.com".into());
        let base = base.trim_end_matches('/');
        let repo = || -> Result<String, ToolError> {
            Ok(format!("{base}/repos/{}/{}", encode(str_arg(&args, "owner")?), encode(str_arg(&args, "repo")?)))
        };
        let num = || int_arg(&args, "number");
        let page_query = |args: &Value| {
            let per_page = args["per_page"].as_u64().unwrap_or(30);
            let page = args["page"].as_u64().unwrap_or(1);
            format!("per_page={per_page}&page={page}")
        };
        match name.as_str() {
            "ide_agents_github_get_issue" => {
                let issue = match get_json(&format!("{}/issues/{}", repo()?, num()?))? {
                    Ok(v) => v,
                    Err(e) => return Ok(e),
                };
                let labels: Vec<&str> =
                    issue["labels"].as_array().into_iter().flatten().filter_map(|l| l["name"].as_str()).collect();
                let out = json!({
                    "number": issue["number"], "title": issue["title"], "state": issue["state"],
                    "user": issue["user"]["login"], "labels": labels, "body": issue["body"],
                    "comments": issue["comments"].as_u64().unwrap_or(0),
                    "is_pull_request": issue.get("pull_request").is_some_and(|p| !p.is_null()),
                    "html_url": issue["html_url"], "created_at": issue["created_at"], "updated_at": issue["updated_at"],
                });
                let text = format!(
                    "#{} {} [{}] by {}\n\n{}",
                    out["number"],
                    out["title"].as_str().unwrap_or_default(),
                    out["state"].as_str().unwrap_or_default(),
                    out["user"].as_str().unwrap_or("?"),
                    out["body"].as_str().unwrap_or_default()
                );
                Ok(answer(out, text))
            }
            "ide_agents_github_list_pulls" => {
                let state = args["state"].as_str().unwrap_or("open");
                let url = format!("{}/pulls?state={state}&{}", repo()?, page_query(&args));
                let pulls = match get_json(&url)? {
                    Ok(v) => v,
                    Err(e) => return Ok(e),
                };
                let pulls: Vec<Value> = pulls.as_array().into_iter().flatten().map(pull_summary).collect();
                let mut text = format!("{} pull requests", pulls.len());
                for p in &pulls {
                    text.push_str(&format!(
                        "\n#{} {} [{}]",
                        p["number"],
                        p["title"].as_str().unwrap_or_default(),
                        p["state"].as_str().unwrap_or_default()
                    ));
                }
                Ok(answer(json!({"pulls": pulls}), text))
            }
            "ide_agents_github_get_pull" => {
                let p = match get_json(&format!("{}/pulls/{}", repo()?, num()?))? {
                    Ok(v) => v,
                    Err(e) => return Ok(e),
                };
                let out = json!({
                    "number": p["number"], "title": p["title"], "state": p["state"], "user": p["user"]["login"],
                    "body": p["body"], "draft": p["draft"].as_bool().unwrap_or(false),
                    "merged": p["merged"].as_bool().unwrap_or(false), "mergeable": p["mergeable"],
                    "head": p["head"]["ref"], "base": p["base"]["ref"],
                    "commits": p["commits"].as_u64().unwrap_or(0), "additions": p["additions"].as_u64().unwrap_or(0),
                    "deletions": p["deletions"].as_u64().unwrap_or(0),
                    "changed_files": p["changed_files"].as_u64().unwrap_or(0), "html_url": p["html_url"],
                });
                let text = format!(
                    "#{} {} [{}] {} -> {} (+{} -{} in {} files)\n\n{}",
                    out["number"],
                    out["title"].as_str().unwrap_or_default(),
                    out["state"].as_str().unwrap_or_default(),
                    out["head"].as_str().unwrap_or("?"),
                    out["base"].as_str().unwrap_or("?"),
                    out["additions"],
                    out["deletions"],
                    out["changed_files"],
                    out["body"].as_str().unwrap_or_default()
                );
                Ok(answer(out, text))
            }
            "ide_agents_github_get_pull_diff" => {
                let number = num()?;
                let max = args["max_bytes"].as_u64().map_or(DEFAULT_MAX_DIFF_BYTES, |m| m as usize);
                let url = format!("{}/pulls/{number}", repo()?);
                let body = match send("GET", &url, "application/vnd.github.diff", None)? {
                    Ok(b) => b,
                    Err(e) => return Ok(e),
                };
                let full = String::from_utf8_lossy(&body);
                let files: Vec<&str> = full
                    .lines()
                    .filter_map(|l| l.strip_prefix("diff --git a/"))
                    .filter_map(|l| l.split(" b/").next())
                    .collect();
                let mut cut = full.len().min(max);
                while !full.is_char_boundary(cut) {
                    cut -= 1;
                }
                let out = json!({"number": number, "diff": &full[..cut], "bytes": full.len(),
                                 "truncated": cut < full.len(), "files": files});
                Ok(answer(out, full[..cut].to_owned()))
            }
            "ide_agents_github_search_code" => {
                let url = format!("{base}/search/code?q={}&{}", encode(str_arg(&args, "query")?), page_query(&args));
                let found = match get_json(&url)? {
                    Ok(v) => v,
                    Err(e) => return Ok(e),
                };
                let items: Vec<Value> = found["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|i| {
                        json!({"name": i["name"], "path": i["path"], "sha": i["sha"],
                               "repository": i["repository"]["full_name"], "html_url": i["html_url"]})
                    })
                    .collect();
                let mut text = format!("{} results", found["total_count"]);
                for i in &items {
                    text.push_str(&format!(
                        "\n{}: {}",
                        i["repository"].as_str().unwrap_or("?"),
                        i["path"].as_str().unwrap_or_default()
                    ));
                }
                let out = json!({"total_count": found["total_count"].as_u64().unwrap_or(0),
                                 "incomplete_results": found["incomplete_results"].as_bool().unwrap_or(false),
                                 "items": items});
                Ok(answer(out, text))
            }
            "ide_agents_github_comment_issue" => {
                if config::secret("token").is_none() {
                    return Ok(error("commenting needs a GitHub token: set `[github] token` or GITHUB_TOKEN"));
                }
                let url = format!("{}/issues/{}/comments", repo()?, num()?);
                let payload = json!({"body": str_arg(&args, "body")?}).to_string();
                let body = match send("POST", &url, "application/vnd.github+json", Some(payload))? {
                    Ok(b) => b,
                    Err(e) => return Ok(e),
                };
                let c: Value =
                    serde_json::from_slice(&body).map_err(|e| failed(&format!("GitHub sent invalid JSON: {e}")))?;
                let out = json!({"id": c["id"].as_u64().unwrap_or(0), "html_url": c["html_url"],
                                 "user": c["user"]["login"], "created_at": c["created_at"]});
                let text = format!("commented: {}", out["html_url"].as_str().unwrap_or("(no URL)"));
                Ok(answer(out, text))
            }
            _ => Err(ToolError::UnknownTool(name)),
        }
    }
}

fn pull_summary(p: &Value) -> Value {
    json!({"number": p["number"], "title": p["title"], "state": p["state"], "user": p["user"]["login"],
           "draft": p["draft"].as_bool().unwrap_or(false), "head": p["head"]["ref"], "base": p["base"]["ref"],
           "html_url": p["html_url"]})
}

/// GETs `url` and parses JSON; `Ok(Err(result))` is an API error to show the model.
fn get_json(url: &str) -> Result<Result<Value, CallResult>, ToolError> {
    Ok(match send("GET", url, "application/vnd.github+json", None)? {
        Ok(body) => Ok(serde_json::from_slice(&body).map_err(|e| failed(&format!("GitHub sent invalid JSON: {e}")))?),
        Err(e) => Err(e),
    })
}

/// Sends one API request; `Ok(Err(result))` is an HTTP or API error to show the model.
fn send(method: &str, url: &str, accept: &str, body: Option<String>) -> Result<Result<Vec<u8>, CallResult>, ToolError> {
    let mut headers = vec![
        ("accept".to_owned(), accept.to_owned()),
        ("user-agent".to_owned(), "ide-agents-mcp".to_owned()),
        ("x-github-api-version".to_owned(), API_VERSION.to_owned()),
    ];
    if let Some(token) = config::secret("token") {
        headers.push(("authorization".into(), format!("Bearer {token}")));
    }
    if body.is_some() {
        headers.push(("content-type".into(), "application/json".into()));
    }
    let request = http::Request {
        method: method.into(),
        url: url.into(),
        headers,
        body: body.map(String::into_bytes),
        timeout_ms: None,
    };
    let response = match http::send(&request) {
        Ok(r) => r,
        Err(e) => return Ok(Err(error(&format!("GitHub could not be reached: {e:?}")))),
    };
    if (200..300).contains(&response.status) {
        return Ok(Ok(response.body));
    }
    let message = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&response.body).chars().take(300).collect());
    let hint = match response.status {
        401 => " (is the token valid?)",
        403 | 429 => " (rate limited, or the token lacks permission)",
        404 => " (no such repository, issue or pull request, or it is private)",
        _ => "",
    };
    Ok(Err(error(&format!("GitHub answered {} for {method} {url}: {message}{hint}", response.status))))
}

fn answer(structured: Value, text: String) -> CallResult {
    CallResult { content: vec![Content::Text(text)], structured: Some(structured.to_string()), is_error: false }
}

fn error(message: &str) -> CallResult {
    CallResult { content: vec![Content::Text(message.into())], structured: None, is_error: true }
}

fn failed(message: &str) -> ToolError {
    ToolError::Failed(message.into())
}

fn str_arg<'a>(args: &'a Value, key: &str) -> Result<&'a str, ToolError> {
    args[key].as_str().ok_or_else(|| ToolError::InvalidArguments(format!("/{key}: required string")))
}

fn int_arg(args: &Value, key: &str) -> Result<u64, ToolError> {
    args[key].as_u64().ok_or_else(|| ToolError::InvalidArguments(format!("/{key}: required positive integer")))
}

/// Percent-encodes a path segment or query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

export!(Github);
