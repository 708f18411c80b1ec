//! `ide_agents_github_*`: read issues and pull requests, a pull request's diff, search code, and
//! comment on an issue, through the GitHub REST API over the host's pooled `http` interface.
//!
//! The base URL is the `base_url` configuration value (default `https://api.github.com`, whose
//! origin the host allows by default); the token is the `token` secret, sent as a bearer token and
//! never logged or echoed. Results keep the fields a model needs, not the API's whole objects:
//! each output type is also the type the API's answer is read into, picking those fields.

use ide_agents_tool::http::{Request, encode};
use ide_agents_tool::{Annotations, Error, Reply, Tool, config};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

/// The API version we were written against (GitHub's `X-GitHub-Api-Version`).
const API_VERSION: &str = "2022-11-28";
/// Where the API is unless `base_url` says otherwise.
const DEFAULT_BASE_URL: &str = "https://api.github.com";
/// Media type of the API's JSON.
const JSON: &str = "application/vnd.github+json";
/// Media type of a pull request's unified diff.
const DIFF: &str = "application/vnd.github.diff";
/// What owner and repository names may contain.
const NAME_PATTERN: &str = "^[A-Za-z0-9_.-]{1,100}$";
/// Most characters of a non-JSON error body quoted back.
const MAX_DETAIL_CHARS: usize = 300;

/// Reading tools: they change nothing and may be retried.
const READS: Annotations = Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(true);

ide_agents_tool::export_tools!(GetIssue, ListPulls, GetPull, GetPullDiff, SearchCode, CommentIssue);

// ---- Arguments ----

#[derive(Debug, Deserialize, JsonSchema)]
struct Repo {
    /// Repository owner (user or organisation).
    #[schemars(pattern(NAME_PATTERN))]
    owner: String,
    /// Repository name.
    #[schemars(pattern(NAME_PATTERN))]
    repo: String,
}

impl Repo {
    /// `{base}/repos/{owner}/{repo}`.
    fn url(&self, api: &Api) -> String {
        format!("{}/repos/{}/{}", api.base, encode(&self.owner), encode(&self.repo))
    }
}

/// One issue or pull request. (`#[serde(flatten)]` does not combine with
/// `deny_unknown_fields`, so the arguments state `additionalProperties` themselves.)
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
struct NumberArgs {
    #[serde(flatten)]
    repo: Repo,
    /// Issue or pull request number.
    #[schemars(range(min = 1))]
    number: u64,
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Page {
    /// Results per page (default 30).
    #[serde(default = "per_page")]
    #[schemars(range(min = 1, max = 100))]
    per_page: u32,
    /// Page number (default 1).
    #[serde(default = "first_page")]
    #[schemars(range(min = 1))]
    page: u32,
}

fn per_page() -> u32 {
    30
}

fn first_page() -> u32 {
    1
}

impl Page {
    fn query(&self) -> String {
        format!("per_page={}&page={}", self.per_page, self.page)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
struct ListPullsArgs {
    #[serde(flatten)]
    repo: Repo,
    /// Which pull requests (default open).
    #[serde(default)]
    state: State,
    #[serde(flatten)]
    page: Page,
}

#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum State {
    #[default]
    Open,
    Closed,
    All,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
            Self::All => "all",
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
struct DiffArgs {
    #[serde(flatten)]
    repo: Repo,
    /// Issue or pull request number.
    #[schemars(range(min = 1))]
    number: u64,
    /// Truncate the diff to this many bytes (default 200000).
    #[serde(default = "max_diff_bytes")]
    #[schemars(range(min = 1, max = 10_000_000))]
    max_bytes: usize,
}

fn max_diff_bytes() -> usize {
    200_000
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
struct SearchArgs {
    /// The search query, with qualifiers.
    #[schemars(length(min = 1, max = 256))]
    query: String,
    #[serde(flatten)]
    page: Page,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("additionalProperties" = false))]
struct CommentArgs {
    #[serde(flatten)]
    repo: Repo,
    /// Issue or pull request number.
    #[schemars(range(min = 1))]
    number: u64,
    /// The comment (markdown).
    #[schemars(length(min = 1, max = 65536))]
    body: String,
}

// ---- Outputs, read from the API's answers ----

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Issue {
    number: u64,
    title: String,
    state: String,
    /// The author's login.
    #[serde(default, deserialize_with = "login")]
    user: Option<String>,
    /// Label names.
    #[serde(default, deserialize_with = "label_names")]
    labels: Vec<String>,
    body: Option<String>,
    /// How many comments it has.
    #[serde(default)]
    comments: u64,
    #[serde(default, rename(deserialize = "pull_request"), deserialize_with = "present")]
    is_pull_request: bool,
    html_url: Option<String>,
    created_at: Option<String>,
    updated_at: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct PullSummary {
    number: u64,
    title: String,
    state: String,
    /// The author's login.
    #[serde(default, deserialize_with = "login")]
    user: Option<String>,
    #[serde(default)]
    draft: bool,
    /// The head branch.
    #[serde(default, deserialize_with = "branch")]
    head: Option<String>,
    /// The base branch.
    #[serde(default, deserialize_with = "branch")]
    base: Option<String>,
    html_url: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Pulls {
    pulls: Vec<PullSummary>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Pull {
    number: u64,
    title: String,
    state: String,
    /// The author's login.
    #[serde(default, deserialize_with = "login")]
    user: Option<String>,
    body: Option<String>,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    merged: bool,
    /// Null while GitHub is still computing it.
    mergeable: Option<bool>,
    /// The head branch.
    #[serde(default, deserialize_with = "branch")]
    head: Option<String>,
    /// The base branch.
    #[serde(default, deserialize_with = "branch")]
    base: Option<String>,
    #[serde(default)]
    commits: u64,
    #[serde(default)]
    additions: u64,
    #[serde(default)]
    deletions: u64,
    #[serde(default)]
    changed_files: u64,
    html_url: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Diff {
    number: u64,
    /// The diff, cut at `max_bytes` (on a character boundary).
    diff: String,
    /// The whole diff's size.
    bytes: usize,
    truncated: bool,
    /// The files it touches.
    files: Vec<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct CodeResults {
    #[serde(default)]
    total_count: u64,
    #[serde(default)]
    incomplete_results: bool,
    #[serde(default)]
    items: Vec<CodeItem>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct CodeItem {
    name: String,
    path: String,
    /// `owner/name`.
    #[serde(default, deserialize_with = "full_name")]
    repository: Option<String>,
    sha: Option<String>,
    html_url: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Comment {
    #[serde(default)]
    id: u64,
    html_url: Option<String>,
    /// The author's login.
    #[serde(default, deserialize_with = "login")]
    user: Option<String>,
    created_at: Option<String>,
}

/// `{"login": ...}` (or null) as the login.
fn login<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct User {
        login: Option<String>,
    }
    Ok(Option::<User>::deserialize(d)?.and_then(|u| u.login))
}

/// `{"ref": ...}` (or null) as the branch name.
fn branch<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Branch {
        r#ref: Option<String>,
    }
    Ok(Option::<Branch>::deserialize(d)?.and_then(|b| b.r#ref))
}

/// `{"full_name": ...}` (or null) as the full name.
fn full_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    struct Repository {
        full_name: Option<String>,
    }
    Ok(Option::<Repository>::deserialize(d)?.and_then(|r| r.full_name))
}

/// `[{"name": ...}]` as the names.
fn label_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    struct Label {
        name: Option<String>,
    }
    Ok(Option::<Vec<Label>>::deserialize(d)?.into_iter().flatten().filter_map(|l| l.name).collect())
}

/// Whether the field holds something other than null.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<serde::de::IgnoredAny>::deserialize(d)?.is_some())
}

// ---- The API ----

/// The configured API: its base URL and the token, if any.
struct Api {
    base: String,
    token: Option<String>,
}

impl Api {
    fn new() -> Self {
        let base = config::get("base_url").unwrap_or_else(|| DEFAULT_BASE_URL.into());
        Self { base: base.trim_end_matches('/').to_owned(), token: config::secret("token") }
    }

    /// Sends `request` accepting `accept`; transport failures and non-2xx answers are messages
    /// for the model, with a hint for the usual statuses.
    fn send(&self, request: Request, accept: &str) -> Result<Vec<u8>, Error> {
        let request = request
            .header("accept", accept)
            .header("user-agent", "ide-agents-mcp")
            .header("x-github-api-version", API_VERSION)
            .bearer(self.token.as_deref());
        let response = request.send().map_err(|e| Error::message(format!("GitHub could not be reached: {e}")))?;
        if response.is_success() {
            return Ok(response.body);
        }
        #[derive(Deserialize)]
        struct ApiError {
            message: String,
        }
        let message =
            response.json::<ApiError>().map_or_else(|_| response.text_prefix(MAX_DETAIL_CHARS), |e| e.message);
        let hint = match response.status {
            401 => " (is the token valid?)",
            403 | 429 => " (rate limited, or the token lacks permission)",
            404 => " (no such repository, issue or pull request, or it is private)",
            _ => "",
        };
        Err(Error::message(format!("GitHub answered {} for {}: {message}{hint}", response.status, request.target())))
    }

    /// GETs `url` and reads the JSON answer as `T`.
    fn get<T: DeserializeOwned>(&self, url: String) -> Result<T, Error> {
        json(&self.send(Request::get(url), JSON)?)
    }
}

fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(body).map_err(|e| Error::failed(format!("GitHub sent invalid JSON: {e}")))
}

// ---- The tools ----

struct GetIssue;

impl Tool for GetIssue {
    const NAME: &'static str = "ide_agents_github_get_issue";
    const TITLE: Option<&'static str> = Some("Get a GitHub issue");
    const DESCRIPTION: &'static str =
        "Gets one issue (or pull request, as an issue) of a GitHub repository: title, state, author, labels, body.";
    const ANNOTATIONS: Annotations = READS;
    type Args = NumberArgs;
    type Output = Issue;

    fn call(args: NumberArgs) -> Result<Reply<Issue>, Error> {
        let api = Api::new();
        let issue: Issue = api.get(format!("{}/issues/{}", args.repo.url(&api), args.number))?;
        let text = format!(
            "#{} {} [{}] by {}\n\n{}",
            issue.number,
            issue.title,
            issue.state,
            issue.user.as_deref().unwrap_or("?"),
            issue.body.as_deref().unwrap_or_default()
        );
        Ok(Reply::new(issue).text(text))
    }
}

struct ListPulls;

impl Tool for ListPulls {
    const NAME: &'static str = "ide_agents_github_list_pulls";
    const TITLE: Option<&'static str> = Some("List pull requests");
    const DESCRIPTION: &'static str = "Lists pull requests of a GitHub repository, newest first.";
    const ANNOTATIONS: Annotations = READS;
    type Args = ListPullsArgs;
    type Output = Pulls;

    fn call(args: ListPullsArgs) -> Result<Reply<Pulls>, Error> {
        let api = Api::new();
        let url = format!("{}/pulls?state={}&{}", args.repo.url(&api), args.state.as_str(), args.page.query());
        let pulls: Vec<PullSummary> = api.get(url)?;
        let mut text = format!("{} pull requests", pulls.len());
        for p in &pulls {
            text.push_str(&format!("\n#{} {} [{}]", p.number, p.title, p.state));
        }
        Ok(Reply::new(Pulls { pulls }).text(text))
    }
}

struct GetPull;

impl Tool for GetPull {
    const NAME: &'static str = "ide_agents_github_get_pull";
    const TITLE: Option<&'static str> = Some("Get a pull request");
    const DESCRIPTION: &'static str =
        "Gets one pull request: title, state, author, body, branches, merge state and size.";
    const ANNOTATIONS: Annotations = READS;
    type Args = NumberArgs;
    type Output = Pull;

    fn call(args: NumberArgs) -> Result<Reply<Pull>, Error> {
        let api = Api::new();
        let p: Pull = api.get(format!("{}/pulls/{}", args.repo.url(&api), args.number))?;
        let text = format!(
            "#{} {} [{}] {} -> {} (+{} -{} in {} files)\n\n{}",
            p.number,
            p.title,
            p.state,
            p.head.as_deref().unwrap_or("?"),
            p.base.as_deref().unwrap_or("?"),
            p.additions,
            p.deletions,
            p.changed_files,
            p.body.as_deref().unwrap_or_default()
        );
        Ok(Reply::new(p).text(text))
    }
}

struct GetPullDiff;

impl Tool for GetPullDiff {
    const NAME: &'static str = "ide_agents_github_get_pull_diff";
    const TITLE: Option<&'static str> = Some("Get a pull request's diff");
    const DESCRIPTION: &'static str = "Gets a pull request's unified diff, and the files it touches.";
    const ANNOTATIONS: Annotations = READS;
    type Args = DiffArgs;
    type Output = Diff;

    fn call(args: DiffArgs) -> Result<Reply<Diff>, Error> {
        let api = Api::new();
        let body = api.send(Request::get(format!("{}/pulls/{}", args.repo.url(&api), args.number)), DIFF)?;
        let diff = Diff::new(args.number, &String::from_utf8_lossy(&body), args.max_bytes);
        let text = diff.diff.clone();
        Ok(Reply::new(diff).text(text))
    }
}

impl Diff {
    /// `full` cut to at most `max` bytes, with the files it touches.
    fn new(number: u64, full: &str, max: usize) -> Self {
        let files = full
            .lines()
            .filter_map(|l| l.strip_prefix("diff --git a/"))
            .filter_map(|l| l.split(" b/").next())
            .map(str::to_owned)
            .collect();
        let mut cut = full.len().min(max);
        while !full.is_char_boundary(cut) {
            cut -= 1;
        }
        Self { number, diff: full[..cut].to_owned(), bytes: full.len(), truncated: cut < full.len(), files }
    }
}

struct SearchCode;

impl Tool for SearchCode {
    const NAME: &'static str = "ide_agents_github_search_code";
    const TITLE: Option<&'static str> = Some("Search code on GitHub");
    const DESCRIPTION: &'static str =
        "Searches code with GitHub's code search syntax (e.g. `addClass repo:jquery/jquery`).";
    const ANNOTATIONS: Annotations = READS;
    type Args = SearchArgs;
    type Output = CodeResults;

    fn call(args: SearchArgs) -> Result<Reply<CodeResults>, Error> {
        let api = Api::new();
        let found: CodeResults =
            api.get(format!("{}/search/code?q={}&{}", api.base, encode(&args.query), args.page.query()))?;
        let mut text = format!("{} results", found.total_count);
        for i in &found.items {
            text.push_str(&format!("\n{}: {}", i.repository.as_deref().unwrap_or("?"), i.path));
        }
        Ok(Reply::new(found).text(text))
    }
}

struct CommentIssue;

impl Tool for CommentIssue {
    const NAME: &'static str = "ide_agents_github_comment_issue";
    const TITLE: Option<&'static str> = Some("Comment on an issue");
    const DESCRIPTION: &'static str = "Adds a comment to an issue or pull request. Needs a token with write access.";
    const ANNOTATIONS: Annotations =
        Annotations::new().read_only(false).destructive(false).idempotent(false).open_world(true);
    type Args = CommentArgs;
    type Output = Comment;

    fn call(args: CommentArgs) -> Result<Reply<Comment>, Error> {
        let api = Api::new();
        if api.token.is_none() {
            return Err(Error::message("commenting needs a GitHub token: set `[github] token` or GITHUB_TOKEN"));
        }
        #[derive(Serialize)]
        struct NewComment<'a> {
            body: &'a str,
        }
        let url = format!("{}/issues/{}/comments", args.repo.url(&api), args.number);
        let body = api.send(Request::post(url).json(&NewComment { body: &args.body }), JSON)?;
        let comment: Comment = json(&body)?;
        let text = format!("commented: {}", comment.html_url.as_deref().unwrap_or("(no URL)"));
        Ok(Reply::new(comment).text(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_objects_are_read_down_to_the_fields_a_model_needs() {
        let issue: Issue = serde_json::from_str(
            r#"{"number": 7, "title": "Bug", "state": "open", "user": {"login": "octocat", "id": 1},
                "labels": [{"name": "bug", "color": "f00"}], "body": null, "comments": 2,
                "pull_request": {"url": "u"}, "html_url": "h"}"#,
        )
        .unwrap();
        let json = serde_json::to_value(&issue).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"number": 7, "title": "Bug", "state": "open", "user": "octocat", "labels": ["bug"],
                               "body": null, "comments": 2, "is_pull_request": true, "html_url": "h",
                               "created_at": null, "updated_at": null})
        );
        let pull: PullSummary = serde_json::from_str(
            r#"{"number": 1, "title": "T", "state": "open", "user": null, "head": {"ref": "topic"}, "base": {"ref": "main"}}"#,
        )
        .unwrap();
        assert_eq!(
            (pull.user, pull.head.as_deref(), pull.base.as_deref(), pull.draft),
            (None, Some("topic"), Some("main"), false)
        );
    }

    #[test]
    fn diffs_are_cut_on_a_character_boundary_and_list_their_files() {
        let full = "diff --git a/é.md b/é.md\n+x\ndiff --git a/src/main.rs b/src/main.rs\n";
        let diff = Diff::new(3, full, 14);
        assert_eq!((diff.diff.as_str(), diff.bytes, diff.truncated), ("diff --git a/", full.len(), true));
        assert_eq!(diff.files, ["é.md", "src/main.rs"]);
        assert!(!Diff::new(3, full, 10_000).truncated);
    }

    #[test]
    fn argument_schemas_keep_their_constraints() {
        let d = ide_agents_tool::descriptor::<ListPulls>();
        let schema: serde_json::Value = serde_json::from_str(&d.input_schema).unwrap();
        assert_eq!(schema["required"], serde_json::json!(["owner", "repo"]));
        assert_eq!(schema["additionalProperties"], false);
        assert_eq!(schema["properties"]["owner"]["pattern"], NAME_PATTERN);
        assert_eq!(schema["properties"]["state"]["enum"], serde_json::json!(["open", "closed", "all"]));
        assert_eq!(
            (schema["properties"]["per_page"]["maximum"].as_u64(), schema["properties"]["page"]["default"].as_u64()),
            (Some(100), Some(1))
        );
    }
}
