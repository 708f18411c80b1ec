//! `ide_agents_command`: the agents backend's commands (`run`, `status`, `cancel`, `list`),
//! forwarded over the host's pooled `http` interface to `backend_base_url` (see
//! `docs/backend-api.md` for the backend's HTTP API). The token, if configured, is a secret sent
//! as a bearer token and never echoed. Commands named in the tool's `confirm` setting
//! (`[tools.ide_agents_command] config = { confirm = "deploy, sh" }`, `*` for all) run only after
//! the user confirms them (a multi round-trip call: WIT `input`); a client that cannot ask its
//! user gets a refusal that says so.

use ide_agents_tool::http::{self, Request};
use ide_agents_tool::input::{self, Ask};
use ide_agents_tool::{Annotations, Error, Reply, Tool, config};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Time the backend gets beyond the command's own timeout to answer a waiting run.
const ANSWER_MARGIN_MS: u32 = 5_000;
/// Most characters of a non-JSON error body quoted back.
const MAX_DETAIL_CHARS: usize = 500;

struct Command;

impl Tool for Command {
    const NAME: &'static str = "ide_agents_command";
    const TITLE: Option<&'static str> = Some("Backend commands");
    const DESCRIPTION: &'static str = "Runs allow-listed commands on the agents backend. `method`: `list` (the \
                                       commands the backend allows), `run` (start `command` with `args`; by \
                                       default waits and returns exit code, stdout and stderr), `status` (of \
                                       `run_id`), `cancel` (stop `run_id`).";
    const ANNOTATIONS: Annotations =
        Annotations::new().read_only(false).destructive(true).idempotent(false).open_world(true);
    type Args = Args;
    type Output = Answer;

    fn call(args: Args) -> Result<Reply<Answer>, Error> {
        let Some(base) = config::get("backend_base_url") else {
            return Err(Error::message("no agents backend is configured: set `[backend] base_url` or `--backend-url`"));
        };
        let base = base.trim_end_matches('/');
        if let Some(command) = args.command.as_deref().filter(|c| args.method == Method::Run && needs_confirmation(c)) {
            confirmed(command, &args.args, args.stdin.as_deref())?;
        }
        let request =
            request(base, &args)?.header("accept", "application/json").bearer(config::secret("token").as_deref());
        let response = request
            .send()
            .map_err(|e| Error::message(format!("the agents backend at {base} could not be reached: {e}")))?;
        if !response.is_success() {
            let parsed: Value = response.json().unwrap_or(Value::Null);
            let detail = parsed
                .pointer("/error/message")
                .and_then(Value::as_str)
                .map_or_else(|| response.text_prefix(MAX_DETAIL_CHARS), str::to_owned);
            let code = parsed.pointer("/error/code").and_then(Value::as_str).unwrap_or("error");
            return Err(Error::message(format!(
                "the agents backend refused {}: {} {code}: {detail}",
                request.target(),
                response.status
            )));
        }
        if args.method == Method::List {
            let listed: CommandList = response.json().unwrap_or_default();
            let names: Vec<&str> = listed.commands.iter().map(|c| c.name.as_str()).collect();
            let text = format!("{} commands: {}", names.len(), names.join(", "));
            return Ok(
                Reply::new(Answer { method: args.method, run: None, commands: Some(listed.commands) }).text(text)
            );
        }
        let run: Run = response.json().map_err(|_| {
            Error::message(format!("the agents backend answered {} with an unexpected body", args.method.as_str()))
        })?;
        let text = run.text();
        Ok(Reply::new(Answer { method: args.method, run: Some(run), commands: None }).text(text))
    }
}

ide_agents_tool::export_tools!(Command);

/// State kept while the user is asked (the host seals it with the call's arguments, so an answer
/// counts only as the reply to this server's own question about this very command).
const ASKED: &str = "asked-to-confirm";

/// The user's answer to "Run this command?".
#[derive(Debug, Deserialize, JsonSchema)]
struct Confirm {
    /// Run it.
    run: bool,
}

/// Whether the `confirm` setting names `command` (comma-separated names, or `*`).
fn needs_confirmation(command: &str) -> bool {
    config::get("confirm").is_some_and(|names| names.split(',').map(str::trim).any(|n| n == command || n == "*"))
}

/// `Ok` once the user has confirmed running `command`; otherwise asks, or says why it will not run.
fn confirmed(command: &str, args: &[String], stdin: Option<&str>) -> Result<(), Error> {
    if input::state().as_deref() == Some(ASKED) {
        let declined = |how: &str| Err(Error::message(format!("`{command}` was not run: the user {how}")));
        return match input::answer("confirm") {
            Some(_) if input::accepted::<Confirm>("confirm").is_some_and(|c| c.run) => Ok(()),
            Some(answer) if answer["action"] == "cancel" => declined("cancelled"),
            Some(_) => declined("declined"),
            None => Err(ask(command, args, stdin)),
        };
    }
    if !input::supported().elicit {
        return Err(Error::message(format!(
            "`{command}` needs the user's confirmation (`confirm` setting), but this client cannot ask its user \
             (it did not declare the elicitation capability)"
        )));
    }
    Err(ask(command, args, stdin))
}

/// Most characters of stdin shown in the question.
const STDIN_PREVIEW_CHARS: usize = 200;

/// Asks the user, showing exactly what would run: the command, its arguments as a JSON list (so
/// `["a b"]` and `["a", "b"]` differ) and the start of its stdin.
fn ask(command: &str, args: &[String], stdin: Option<&str>) -> Error {
    let mut question = format!("Run `{command}` with arguments {} on the agents backend?", Value::from(args.to_vec()));
    if let Some(stdin) = stdin {
        let preview: String = stdin.chars().take(STDIN_PREVIEW_CHARS).collect();
        let more = if preview.len() < stdin.len() { " (truncated)" } else { "" };
        question.push_str(&format!(" Its stdin{more}: {}", Value::from(preview)));
    }
    Ask::new().elicit::<Confirm>("confirm", &question).state(ASKED).send()
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("allOf" = [
    {"if": {"properties": {"method": {"const": "run"}}}, "then": {"required": ["command"]}},
    {"if": {"properties": {"method": {"enum": ["status", "cancel"]}}}, "then": {"required": ["run_id"]}}
]))]
struct Args {
    /// What to do.
    method: Method,
    /// For `run`: the name of an allow-listed command.
    #[schemars(length(min = 1))]
    command: Option<String>,
    /// For `run`: the command's arguments.
    #[serde(default)]
    #[schemars(length(max = 256))]
    args: Vec<String>,
    /// For `run`: text for the command's stdin.
    stdin: Option<String>,
    /// For `run`: wait for the command to finish (default true).
    #[serde(default = "yes")]
    wait: bool,
    /// For `run`: stop the command after this long.
    #[schemars(range(min = 1, max = 600_000))]
    timeout_ms: Option<u32>,
    /// For `status` and `cancel`: the run's id.
    #[schemars(length(min = 1))]
    run_id: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum Method {
    Run,
    Status,
    Cancel,
    List,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Run => "run",
            Self::Status => "status",
            Self::Cancel => "cancel",
            Self::List => "list",
        }
    }
}

/// The backend request for `args`.
fn request(base: &str, args: &Args) -> Result<Request, Error> {
    let required = |field: &str| {
        Error::invalid(&format!("/{field}"), format!("required when method is {:?}", args.method.as_str()))
    };
    Ok(match args.method {
        Method::List => Request::get(format!("{base}/v1/commands")),
        Method::Run => {
            let command = args.command.as_deref().ok_or_else(|| required("command"))?;
            let body = RunRequest {
                command,
                args: &args.args,
                stdin: args.stdin.as_deref(),
                timeout_ms: args.timeout_ms,
                wait: args.wait,
            };
            let request = Request::post(format!("{base}/v1/runs")).json(&body);
            match args.timeout_ms.filter(|_| args.wait) {
                Some(t) => request.timeout_ms(t.saturating_add(ANSWER_MARGIN_MS)),
                None => request,
            }
        }
        Method::Status | Method::Cancel => {
            let id = http::encode(args.run_id.as_deref().ok_or_else(|| required("run_id"))?);
            if args.method == Method::Status {
                Request::get(format!("{base}/v1/runs/{id}"))
            } else {
                Request::post(format!("{base}/v1/runs/{id}/cancel"))
            }
        }
    })
}

/// The backend's `RunRequest`.
#[derive(Serialize)]
struct RunRequest<'a> {
    command: &'a str,
    args: &'a [String],
    stdin: Option<&'a str>,
    timeout_ms: Option<u32>,
    wait: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
struct Answer {
    method: Method,
    /// For `run`, `status` and `cancel`.
    #[serde(skip_serializing_if = "Option::is_none")]
    run: Option<Run>,
    /// For `list`.
    #[serde(skip_serializing_if = "Option::is_none")]
    commands: Option<Vec<CommandInfo>>,
}

/// The backend's answer to `list`.
#[derive(Debug, Default, Deserialize)]
struct CommandList {
    #[serde(default)]
    commands: Vec<CommandInfo>,
}

/// An allow-listed command.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct CommandInfo {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

/// The backend's `Run`: the fields `docs/backend-api.md` defines (others are not passed on).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
struct Run {
    id: String,
    command: String,
    #[serde(default)]
    args: Vec<String>,
    #[schemars(with = "RunStatus")]
    status: String,
    /// Null while running or when killed by a signal.
    #[serde(default)]
    exit_code: Option<i64>,
    #[serde(default)]
    stdout: String,
    #[serde(default)]
    stderr: String,
    /// Whether the output was cut at the backend's cap.
    #[serde(default)]
    truncated: bool,
    /// Unix milliseconds.
    #[serde(default)]
    started_ms: Option<u64>,
    /// Unix milliseconds; null while running.
    #[serde(default)]
    finished_ms: Option<u64>,
}

/// The statuses `docs/backend-api.md` defines (`succeeded` is exit code 0).
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
#[expect(dead_code, reason = "only describes `Run::status` in the output schema")]
enum RunStatus {
    Running,
    Succeeded,
    Failed,
    Cancelled,
    TimedOut,
}

impl Run {
    /// `run ID (COMMAND): STATUS, exit code N`, then the non-empty outputs.
    fn text(&self) -> String {
        let mut text = format!("run {} ({}): {}", self.id, self.command, self.status);
        if let Some(code) = self.exit_code {
            text.push_str(&format!(", exit code {code}"));
        }
        for (stream, out) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if !out.is_empty() {
                text.push_str(&format!("\n--- {stream} ---\n{out}"));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(json: &str) -> Args {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn runs_post_their_request_and_wait_a_little_longer_than_the_command() {
        let run =
            request("http://b", &args(r#"{"method": "run", "command": "echo", "args": ["hi"], "timeout_ms": 100}"#))
                .unwrap();
        assert_eq!(run.target(), "POST http://b/v1/runs");
        let status = request("http://b", &args(r#"{"method": "status", "run_id": "run 1/2"}"#)).unwrap();
        assert_eq!(status.target(), "GET http://b/v1/runs/run%201%2F2");
        let missing = request("http://b", &args(r#"{"method": "cancel"}"#)).unwrap_err();
        assert_eq!(missing, Error::InvalidArguments("/run_id: required when method is \"cancel\"".into()));
    }

    #[test]
    fn a_run_reads_as_status_exit_code_and_output() {
        let run: Run = serde_json::from_str(
            r#"{"id": "run-1", "command": "sh", "status": "failed", "exit_code": 3, "stdout": "", "stderr": "oops\n"}"#,
        )
        .unwrap();
        assert_eq!(run.text(), "run run-1 (sh): failed, exit code 3\n--- stderr ---\noops\n");
    }
}
