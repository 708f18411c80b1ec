//! `wasifetch`: a test-only tool that sends HTTP requests through `wasi:http` (WASI 0.2's
//! outgoing handler, as a language's standard HTTP library would) rather than our `http`
//! interface: `wasi_fetch {url, method?, body?}` answers `{status, body}` or `{error}` with the
//! `wasi:http` error code. Not shipped.

wit_bindgen::generate!({ path: "../../../wit", world: "tool" });

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::types::{Content, ToolAnnotations};
use serde_json::{Value, json};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasip2::io::streams::StreamError;

struct WasiFetch;

impl Guest for WasiFetch {
    fn describe() -> Vec<ToolDescriptor> {
        vec![ToolDescriptor {
            name: "wasi_fetch".into(),
            title: None,
            description: "Sends one HTTP request through wasi:http: {url, method?, body?}.".into(),
            input_schema: r#"{"type":"object","properties":{"url":{"type":"string"}},"required":["url"]}"#.into(),
            output_schema: None,
            annotations: ToolAnnotations {
                read_only: None,
                destructive: None,
                idempotent: None,
                open_world: Some(true),
            },
        }]
    }

    fn call(_name: String, arguments: String) -> Result<CallResult, ToolError> {
        let args: Value = serde_json::from_str(&arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
        let url = args["url"].as_str().unwrap_or_default();
        let method = args["method"].as_str().unwrap_or("GET");
        let answer = match fetch(url, method, args["body"].as_str()) {
            Ok((status, body)) => json!({"status": status, "body": body}),
            Err(e) => json!({"error": e}),
        };
        let text = answer.to_string();
        Ok(CallResult { content: vec![Content::Text(text)], structured: None, is_error: answer.get("error").is_some() })
    }
}

/// Sends the request and reads the whole response; errors as text (`ErrorCode` debug form).
fn fetch(url: &str, method: &str, body: Option<&str>) -> Result<(u16, String), String> {
    let (scheme, rest) = url.split_once("://").ok_or("no scheme")?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    // A body's length is declared, as HTTP clients do (the host drops it and sets its own).
    let headers = match body {
        Some(text) => Fields::from_list(&[("content-length".to_owned(), text.len().to_string().into_bytes())])
            .map_err(|e| format!("{e:?}"))?,
        None => Fields::new(),
    };
    let request = OutgoingRequest::new(headers);
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        other => Method::Other(other.to_owned()),
    };
    request.set_method(&method).map_err(|()| "bad method")?;
    let scheme = if scheme == "https" { Scheme::Https } else { Scheme::Http };
    request.set_scheme(Some(&scheme)).map_err(|()| "bad scheme")?;
    request.set_authority(Some(authority)).map_err(|()| "bad authority")?;
    request.set_path_with_query(Some(path)).map_err(|()| "bad path")?;
    let outgoing = request.body().map_err(|()| "no body")?;
    let pending = outgoing_handler::handle(request, None).map_err(code)?;
    if let Some(text) = body {
        let stream = outgoing.write().map_err(|()| "no body stream")?;
        stream.blocking_write_and_flush(text.as_bytes()).map_err(|e| format!("{e:?}"))?;
        drop(stream);
    }
    OutgoingBody::finish(outgoing, None).map_err(code)?;
    pending.subscribe().block();
    let response = pending.get().ok_or("no response")?.map_err(|()| "taken twice")?.map_err(code)?;
    let status = response.status();
    let incoming = response.consume().map_err(|()| "no body")?;
    let stream = incoming.stream().map_err(|()| "no body stream")?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend(chunk),
            Err(StreamError::Closed) => break,
            Err(e) => return Err(format!("{e:?}")),
        }
    }
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

fn code(e: ErrorCode) -> String {
    format!("{e:?}")
}

export!(WasiFetch);
