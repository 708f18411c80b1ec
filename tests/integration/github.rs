//! The `ide_agents_github_*` tools against a loopback fake of the GitHub REST API that answers
//! with bodies shaped like the documented examples (docs.github.com/rest: issues, pulls, search,
//! issue comments), and checks what the tools send: API version and accept headers, the bearer
//! token (never logged, never in a span), query parameters.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::http_server::{ApiReply, ApiRequest, TestServer};
use crate::support::{Launch, Server, shared_cache};

const TOKEN: &str = "ghp_FAKEtoken0123456789";

fn user(login: &str) -> Value {
    json!({"login": login, "id": 1, "node_id": "MDQ6VXNlcjE=", "avatar_url": "https://github.com/images/error/octocat_happy.gif",
           "url": format!("https://api.github.com/users/{login}"), "type": "User", "site_admin": false})
}

fn issue() -> Value {
    json!({
        "id": 1, "node_id": "MDU6SXNzdWUx",
        "url": "https://api.github.com/repos/octocat/Hello-World/issues/1347",
        "html_url": "https://github.com/octocat/Hello-World/issues/1347",
        "number": 1347, "state": "open", "title": "Found a bug", "body": "I'm having a problem with this.",
        "user": user("octocat"),
        "labels": [{"id": 208045946, "node_id": "MDU6TGFiZWwyMDgwNDU5NDY=", "name": "bug",
                    "description": "Something isn't working", "color": "f29513", "default": true}],
        "assignee": null, "locked": false, "comments": 2, "closed_at": null,
        "created_at": "2011-04-22T13:33:48Z", "updated_at": "2011-04-22T13:33:48Z", "author_association": "COLLABORATOR"
    })
}

fn pull(number: u64, title: &str) -> Value {
    json!({
        "url": format!("https://api.github.com/repos/octocat/Hello-World/pulls/{number}"), "id": 1, "number": number,
        "html_url": format!("https://github.com/octocat/Hello-World/pull/{number}"),
        "state": "open", "locked": false, "title": title, "user": user("octocat"), "body": "Please pull these awesome changes in!",
        "created_at": "2011-01-26T19:01:12Z", "updated_at": "2011-01-26T19:01:12Z", "draft": false,
        "head": {"label": "octocat:new-topic", "ref": "new-topic", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
        "base": {"label": "octocat:master", "ref": "master", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
        "merged": false, "mergeable": true, "comments": 10, "commits": 3, "additions": 100, "deletions": 3, "changed_files": 5
    })
}

const DIFF: &str = "diff --git a/README.md b/README.md\nindex 1111111..2222222 100644\n--- a/README.md\n+++ b/README.md\n@@ -1 +1,2 @@\n Hello World\n+Hello again\ndiff --git a/src/main.rs b/src/main.rs\n--- a/src/main.rs\n+++ b/src/main.rs\n@@ -1 +1 @@\n-fn main() {}\n+fn main() { println!(\"hi\"); }\n";

fn json_reply(status: u16, body: &Value) -> ApiReply {
    (status, "application/json; charset=utf-8", body.to_string().into_bytes())
}

fn fake_github(seen: Arc<Mutex<Vec<ApiRequest>>>) -> TestServer {
    TestServer::api(Arc::new(move |req: ApiRequest| {
        seen.lock().unwrap().push(req.clone());
        let not_found =
            json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"});
        match (req.method.as_str(), req.path.as_str()) {
            ("GET", "/repos/octocat/Hello-World/issues/1347") => json_reply(200, &issue()),
            ("GET", "/repos/octocat/Hello-World/pulls") => {
                json_reply(200, &json!([pull(1347, "Amazing new feature"), pull(1348, "Fix typo")]))
            }
            ("GET", "/repos/octocat/Hello-World/pulls/1347")
                if req.header("accept") == Some("application/vnd.github.diff") =>
            {
                (200, "text/plain; charset=utf-8", DIFF.as_bytes().to_vec())
            }
            ("GET", "/repos/octocat/Hello-World/pulls/1347") => json_reply(200, &pull(1347, "Amazing new feature")),
            ("GET", "/search/code") => json_reply(
                200,
                &json!({
                    "total_count": 7, "incomplete_results": false,
                    "items": [{"name": "classes.js", "path": "src/attributes/classes.js", "sha": "d7212f9dee2dcc18f084d7df8f417b80846ded5a",
                               "url": "https://api.github.com/repositories/167174/contents/src/attributes/classes.js?ref=825ac3773694e0cd23ee74895fd5aeb535b27da4",
                               "html_url": "https://github.com/jquery/jquery/blob/825ac3773694e0cd23ee74895fd5aeb535b27da4/src/attributes/classes.js",
                               "repository": {"id": 167174, "name": "jquery", "full_name": "jquery/jquery", "owner": user("jquery")},
                               "score": 1.0}]
                }),
            ),
            ("POST", "/repos/octocat/Hello-World/issues/1347/comments") => {
                if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
                    return json_reply(
                        401,
                        &json!({"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest"}),
                    );
                }
                let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
                json_reply(
                    201,
                    &json!({
                        "id": 1, "node_id": "MDEyOklzc3VlQ29tbWVudDE=", "body": body["body"],
                        "html_url": "https://github.com/octocat/Hello-World/issues/1347#issuecomment-1",
                        "user": user("octocat"), "created_at": "2011-04-14T16:00:49Z", "updated_at": "2011-04-14T16:00:49Z"
                    }),
                )
            }
            _ => json_reply(404, &not_found),
        }
    }))
}

fn launch(api: &TestServer, token: Option<&str>, dir: &std::path::Path) -> Server {
    let mut config = format!("[github]\nbase_url = \"{}\"\n", api.url(""));
    if let Some(t) = token {
        config.push_str(&format!("token = \"{t}\"\n"));
    }
    std::fs::write(dir.join("config.toml"), config).unwrap();
    let mut server = Launch::bare()
        .args([
            "--config".as_ref(),
            dir.join("config.toml").as_os_str(),
            "--cache-dir".as_ref(),
            shared_cache().as_os_str(),
        ])
        .telemetry(dir.join("spans.jsonl"))
        .spawn();
    server.initialize();
    server
}

fn ok(server: &mut Server, tool: &str, args: Value) -> Value {
    let result = server.call(tool, args);
    assert_eq!(result["isError"], false, "{tool}: {result}");
    result["structuredContent"].clone()
}

#[test]
fn github_tools_read_and_comment_through_the_api() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let api = fake_github(seen.clone());
    let dir = tempfile::tempdir().unwrap();
    let mut server = launch(&api, Some(TOKEN), dir.path());
    let repo = json!({"owner": "octocat", "repo": "Hello-World"});
    let with = |extra: Value| {
        let mut args = repo.clone();
        args.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        args
    };

    let issue = ok(&mut server, "ide_agents_github_get_issue", with(json!({"number": 1347})));
    assert_eq!(issue["title"], "Found a bug");
    assert_eq!(issue["labels"], json!(["bug"]));
    assert_eq!((issue["user"].as_str(), issue["is_pull_request"].as_bool()), (Some("octocat"), Some(false)));

    let pulls = ok(&mut server, "ide_agents_github_list_pulls", with(json!({"state": "all", "per_page": 5})));
    assert_eq!(pulls["pulls"].as_array().unwrap().len(), 2);
    assert_eq!(pulls["pulls"][1]["title"], "Fix typo");

    let pull = ok(&mut server, "ide_agents_github_get_pull", with(json!({"number": 1347})));
    assert_eq!(
        (pull["head"].as_str(), pull["base"].as_str(), pull["additions"].as_u64()),
        (Some("new-topic"), Some("master"), Some(100))
    );

    let diff = ok(&mut server, "ide_agents_github_get_pull_diff", with(json!({"number": 1347})));
    assert_eq!(diff["diff"], DIFF);
    assert_eq!(diff["files"], json!(["README.md", "src/main.rs"]));
    let cut = ok(&mut server, "ide_agents_github_get_pull_diff", with(json!({"number": 1347, "max_bytes": 40})));
    assert_eq!((cut["truncated"].as_bool(), cut["diff"].as_str().unwrap().len()), (Some(true), 40));

    let found = ok(
        &mut server,
        "ide_agents_github_search_code",
        json!({"query": "addClass in:file language:js repo:jquery/jquery"}),
    );
    assert_eq!(found["total_count"], 7);
    assert_eq!(found["items"][0]["repository"], "jquery/jquery");

    let comment = ok(&mut server, "ide_agents_github_comment_issue", with(json!({"number": 1347, "body": "Me too"})));
    assert_eq!(comment["id"], 1);

    let missing = server.call("ide_agents_github_get_issue", with(json!({"number": 9})));
    assert_eq!(missing["isError"], true);
    assert!(missing["content"][0]["text"].as_str().unwrap().contains("404"), "{missing}");
    let bad = server.call("ide_agents_github_get_issue", json!({"owner": "a/b", "repo": "x", "number": 1}));
    assert_eq!(bad["isError"], true);
    assert!(bad["content"][0]["text"].as_str().unwrap().contains("owner"), "{bad}");

    let requests = seen.lock().unwrap().clone();
    let search = requests.iter().find(|r| r.path == "/search/code").unwrap();
    assert_eq!(search.param("q").as_deref(), Some("addClass in:file language:js repo:jquery/jquery"));
    let list = requests.iter().find(|r| r.path == "/repos/octocat/Hello-World/pulls").unwrap();
    assert_eq!((list.param("state").as_deref(), list.param("per_page").as_deref()), (Some("all"), Some("5")));
    for r in &requests {
        assert_eq!(r.header("x-github-api-version"), Some("2022-11-28"));
        assert_eq!(r.header("authorization"), Some(format!("Bearer {TOKEN}").as_str()));
        assert!(r.header("user-agent").is_some());
    }
    assert_eq!(requests.iter().filter(|r| r.method == "POST").count(), 1);

    let finished = server.finish();
    assert!(!finished.stderr.contains(TOKEN), "token in the log:\n{}", finished.stderr);
    let spans = std::fs::read_to_string(dir.path().join("spans.jsonl")).unwrap();
    assert!(!spans.contains(TOKEN));
    assert_eq!(spans.lines().filter(|l| l.contains("ide_agents_github_")).count(), 9);
}

#[test]
fn commenting_without_a_token_is_refused_before_any_request() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let api = fake_github(seen.clone());
    let dir = tempfile::tempdir().unwrap();
    let mut server = launch(&api, None, dir.path());
    let result = server.call(
        "ide_agents_github_comment_issue",
        json!({"owner": "octocat", "repo": "Hello-World", "number": 1347, "body": "x"}),
    );
    assert_eq!(result["isError"], true);
    assert!(result["content"][0]["text"].as_str().unwrap().contains("token"), "{result}");
    assert!(seen.lock().unwrap().is_empty());
    // Reading works without a token (public repositories).
    assert_eq!(
        server.call("ide_agents_github_get_issue", json!({"owner": "octocat", "repo": "Hello-World", "number": 1347}))
            ["isError"],
        false
    );
    assert_eq!(seen.lock().unwrap()[0].header("authorization"), None);
}
