//! `conformance`: the fixture tools and prompts that the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`) calls by name, as the suite's reference server defines
//! them, so far as our WIT contract can express them (see `tests/conformance/expected-failures`
//! for what it cannot). Test-only: served by `tests/conformance/run.sh`.

wit_bindgen::generate!({ path: "../../../wit", world: "tool-with-offerings" });

use exports::ide_agents::tool::offerings::{Catalog, Guest as Offerings, PromptArgument, PromptOffer};
use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::input::{self, InputRequest, KeyedRequest, Question};
use ide_agents::tool::types::{Content, Media, ToolAnnotations};
use ide_agents::tool::{log, progress};
use serde_json::{Value, json};

/// A 1x1 PNG, the suite's reference image.
const PNG: &[u8] = &[
    137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 31, 21, 196,
    137, 0, 0, 0, 13, 73, 68, 65, 84, 120, 218, 99, 252, 207, 192, 240, 31, 0, 5, 5, 2, 0, 95, 200, 241, 210, 0, 0, 0,
    0, 73, 69, 78, 68, 174, 66, 96, 130,
];
/// The same PNG, base64 (prompt messages carry base64 text).
const PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// A tiny WAV clip, the suite's reference audio.
const WAV: &[u8] = &[
    82, 73, 70, 70, 38, 0, 0, 0, 87, 65, 86, 69, 102, 109, 116, 32, 16, 0, 0, 0, 1, 0, 1, 0, 64, 31, 0, 0, 0, 125, 0,
    0, 2, 0, 16, 0, 100, 97, 116, 97, 2, 0, 0, 0,
];

/// The tool that renders the prompts below (`prompts/get` calls it).
const RENDER: &str = "test_render_prompt";

/// (name, description) of each fixture tool; all take no arguments but the prompt renderer.
const TOOLS: &[(&str, &str)] = &[
    ("test_simple_text", "Returns a simple text response."),
    ("test_image_content", "Returns a 1x1 PNG image."),
    ("test_audio_content", "Returns a short WAV clip."),
    ("test_error_handling", "Always fails, as a tool error result."),
    ("test_tool_with_progress", "Reports progress 0, 50 and 100 of 100, 50 ms apart."),
    ("test_tool_with_logging", "Logs three info messages, 50 ms apart."),
    ("test_logging_tool", "Logs three info messages, 50 ms apart (the 2026-07-28 suite's name)."),
    ("test_streaming_elicitation", "Answers with text and nothing else on its stream."),
    (RENDER, "Renders the conformance prompts (called by prompts/get)."),
    // Multi round-trip calls (2026-07-28: input_required results; earlier: requests to the client).
    ("test_input_required_result_elicitation", "Asks the user's name (key user_name), then greets them."),
    ("test_input_required_result_sampling", "Asks the client's model a question, then returns its answer."),
    ("test_input_required_result_list_roots", "Asks for the client's roots, then lists them."),
    ("test_input_required_result_request_state", "Asks for a confirmation and keeps state between rounds."),
    ("test_input_required_result_multiple_inputs", "Asks for a name, a completion and the roots at once."),
    ("test_input_required_result_multi_round", "Asks for a name, then a colour, in two rounds."),
    ("test_input_required_result_tampered_state", "Asks for a confirmation with state the host seals."),
    ("test_input_required_result_capabilities", "Asks only for what the client declared it can answer."),
    ("test_missing_capability", "Needs sampling, whatever the client declared."),
    ("test_elicitation", "Asks the user for a username and an email (initialize-era elicitation)."),
    ("test_elicitation_sep1034_defaults", "Asks with a schema whose fields have defaults (SEP-1034)."),
    ("test_elicitation_sep1330_enums", "Asks with every enum form of SEP-1330."),
    ("test_sampling", "Asks the client's model to answer `prompt`."),
];

struct Conformance;

fn text(text: impl Into<String>) -> CallResult {
    CallResult { content: vec![Content::Text(text.into())], structured: None, is_error: false }
}

fn sleep_ms(ms: u64) {
    std::thread::sleep(std::time::Duration::from_millis(ms));
}

impl Guest for Conformance {
    fn describe() -> Vec<ToolDescriptor> {
        TOOLS
            .iter()
            .map(|(name, description)| {
                let input = if *name == RENDER {
                    json!({"type": "object", "properties": {"name": {"type": "string"}, "arguments": {"type": "object"}},
                           "required": ["name"]})
                } else if *name == "test_elicitation" {
                    json!({"type": "object", "properties": {"message": {"type": "string"}}})
                } else if *name == "test_sampling" {
                    json!({"type": "object", "properties": {"prompt": {"type": "string"}}})
                } else {
                    json!({"type": "object", "properties": {}})
                };
                ToolDescriptor {
                    name: (*name).into(),
                    title: None,
                    description: (*description).into(),
                    input_schema: input.to_string(),
                    output_schema: None,
                    annotations: ToolAnnotations { read_only: Some(true), destructive: None, idempotent: None, open_world: Some(false) },
                }
            })
            .collect()
    }

    fn call(name: String, arguments: String) -> Result<CallResult, ToolError> {
        Ok(match name.as_str() {
            "test_simple_text" => text("This is a simple text response for testing."),
            "test_image_content" => CallResult {
                content: vec![Content::Image(Media { data: PNG.to_vec(), mime_type: "image/png".into() })],
                structured: None,
                is_error: false,
            },
            "test_audio_content" => CallResult {
                content: vec![Content::Audio(Media { data: WAV.to_vec(), mime_type: "audio/wav".into() })],
                structured: None,
                is_error: false,
            },
            "test_error_handling" => CallResult {
                content: vec![Content::Text("This tool intentionally returns an error for testing".into())],
                structured: None,
                is_error: true,
            },
            "test_tool_with_progress" => {
                for (i, step) in [0.0, 50.0, 100.0].into_iter().enumerate() {
                    if i > 0 {
                        sleep_ms(50);
                    }
                    progress::report(step, Some(100.0), Some(&format!("Completed step {step} of 100")));
                }
                text("progress reported")
            }
            "test_streaming_elicitation" => text("No elicitation needed."),
            "test_tool_with_logging" | "test_logging_tool" => {
                for (i, message) in ["Tool execution started", "Tool processing data", "Tool execution completed"]
                    .into_iter()
                    .enumerate()
                {
                    if i > 0 {
                        sleep_ms(50);
                    }
                    log::log(log::Level::Info, message);
                }
                text("Tool with logging executed successfully")
            }
            RENDER => render(&arguments)?,
            other
                if other.starts_with("test_input_required")
                    || other.starts_with("test_elicitation")
                    || other == "test_sampling"
                    || other == "test_missing_capability" =>
            {
                rounds(other, &arguments)?
            }
            _ => return Err(ToolError::UnknownTool(name)),
        })
    }
}

/// The client's answer under `key` from the previous round, parsed.
fn answer(key: &str) -> Option<Value> {
    input::responses().into_iter().find(|r| r.key == key).and_then(|r| serde_json::from_str(&r.answer).ok())
}

/// An accepted elicitation's `field` under `key`, if it is there and a string (or a boolean).
fn accepted(key: &str, field: &str) -> Option<Value> {
    let answer = answer(key)?;
    (answer["action"] == "accept").then(|| answer["content"][field].clone()).filter(|v| v.is_string() || v.is_boolean())
}

fn elicit(key: &str, message: &str, schema: Value) -> KeyedRequest {
    KeyedRequest {
        key: key.into(),
        request: InputRequest::Elicit(Question { message: message.into(), requested_schema: schema.to_string() }),
    }
}

fn sample(key: &str, prompt: &str) -> KeyedRequest {
    let params = json!({"messages": [{"role": "user", "content": {"type": "text", "text": prompt}}], "maxTokens": 100});
    KeyedRequest { key: key.into(), request: InputRequest::Sample(params.to_string()) }
}

fn roots(key: &str) -> KeyedRequest {
    KeyedRequest { key: key.into(), request: InputRequest::ListRoots }
}

/// Asks for `requests` (keeping `state`): the call's own answer is set aside by the host.
fn ask(requests: Vec<KeyedRequest>, state: Option<&str>) -> Result<CallResult, ToolError> {
    input::request(&requests, state).map_err(ToolError::Failed)?;
    Ok(text("input required"))
}

fn name_schema() -> Value {
    json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]})
}

fn ok_schema() -> Value {
    json!({"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]})
}

/// The sampled text of the answer under `key`.
fn sampled(key: &str) -> Option<String> {
    answer(key)?["content"]["text"].as_str().map(str::to_owned)
}

/// The roots' URIs of the answer under `key`.
fn root_uris(key: &str) -> Option<Vec<String>> {
    let answer = answer(key)?;
    Some(answer["roots"].as_array()?.iter().filter_map(|r| r["uri"].as_str().map(str::to_owned)).collect())
}

/// The multi round-trip fixture tools.
fn rounds(name: &str, arguments: &str) -> Result<CallResult, ToolError> {
    let args: Value = serde_json::from_str(arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    let state = input::state();
    match name {
        "test_input_required_result_elicitation" => match accepted("user_name", "name") {
            Some(Value::String(name)) => Ok(text(format!("Hello, {name}!"))),
            _ => ask(vec![elicit("user_name", "What is your name?", name_schema())], None),
        },
        "test_input_required_result_sampling" => match sampled("capital") {
            Some(answer) => Ok(text(format!("The model said: {answer}"))),
            None => ask(vec![sample("capital", "What is the capital of France?")], None),
        },
        "test_input_required_result_list_roots" => match root_uris("roots") {
            Some(uris) => Ok(text(format!("Roots: {}", uris.join(", ")))),
            None => ask(vec![roots("roots")], None),
        },
        "test_input_required_result_request_state" | "test_input_required_result_tampered_state" => {
            match (state.as_deref(), accepted("confirm", "ok")) {
                (Some("awaiting-confirmation"), Some(Value::Bool(true))) => Ok(text("state-ok: confirmed")),
                (Some("awaiting-confirmation"), Some(_)) => Ok(text("state-ok: not confirmed")),
                _ => ask(vec![elicit("confirm", "Go ahead?", ok_schema())], Some("awaiting-confirmation")),
            }
        }
        "test_input_required_result_multiple_inputs" => {
            match (accepted("user_name", "name"), sampled("greeting"), root_uris("roots")) {
                (Some(name), Some(greeting), Some(uris)) if state.as_deref() == Some("multiple") => {
                    Ok(text(format!("{} / {greeting} / {}", name.as_str().unwrap_or_default(), uris.join(", "))))
                }
                _ => ask(
                    vec![
                        elicit("user_name", "What is your name?", name_schema()),
                        sample("greeting", "Say hello."),
                        roots("roots"),
                    ],
                    Some("multiple"),
                ),
            }
        }
        "test_input_required_result_multi_round" => match state.as_deref() {
            Some("round-1") => match accepted("user_name", "name") {
                Some(Value::String(name)) => {
                    let schema =
                        json!({"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]});
                    ask(
                        vec![elicit("favorite_color", "Your favourite colour?", schema)],
                        Some(&format!("round-2:{name}")),
                    )
                }
                _ => ask(vec![elicit("user_name", "What is your name?", name_schema())], Some("round-1")),
            },
            Some(round) if round.starts_with("round-2:") => match accepted("favorite_color", "color") {
                Some(Value::String(color)) => Ok(text(format!("{} likes {color}", &round["round-2:".len()..]))),
                _ => ask(vec![elicit("favorite_color", "Your favourite colour?", name_schema())], Some(round)),
            },
            _ => ask(vec![elicit("user_name", "What is your name?", name_schema())], Some("round-1")),
        },
        "test_input_required_result_capabilities" => {
            let support = input::supported();
            if sampled("sample_input").is_some() || accepted("user_name", "name").is_some() {
                return Ok(text("answered"));
            }
            if support.elicit {
                ask(vec![elicit("user_name", "What is your name?", name_schema())], None)
            } else if support.sample {
                ask(vec![sample("sample_input", "Say something.")], None)
            } else if support.list_roots {
                ask(vec![roots("roots")], None)
            } else {
                Ok(text("the client can answer nothing, so nothing was asked"))
            }
        }
        "test_missing_capability" => match sampled("needed") {
            Some(answer) => Ok(text(answer)),
            None => ask(vec![sample("needed", "Anything.")], None),
        },
        "test_elicitation" => match answer("user_info") {
            Some(answer) => {
                Ok(text(format!("User response: action={}, content={}", answer["action"], answer["content"])))
            }
            None => {
                let message = args["message"].as_str().unwrap_or("Please provide your information");
                let schema = json!({"type": "object", "properties": {
                    "username": {"type": "string", "description": "User's response"},
                    "email": {"type": "string", "description": "User's email address"}},
                    "required": ["username", "email"]});
                ask(vec![elicit("user_info", message, schema)], None)
            }
        },
        "test_elicitation_sep1034_defaults" => match answer("defaults") {
            Some(answer) => {
                Ok(text(format!("Elicitation completed: action={}, content={}", answer["action"], answer["content"])))
            }
            None => {
                let schema = json!({"type": "object", "properties": {
                    "name": {"type": "string", "description": "User name", "default": "John Doe"},
                    "age": {"type": "integer", "description": "User age", "default": 30},
                    "score": {"type": "number", "description": "User score", "default": 95.5},
                    "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"], "default": "active"},
                    "verified": {"type": "boolean", "description": "Verification status", "default": true}}});
                ask(vec![elicit("defaults", "Please review and update the form fields with defaults", schema)], None)
            }
        },
        "test_elicitation_sep1330_enums" => match answer("enums") {
            Some(answer) => {
                Ok(text(format!("Elicitation completed: action={}, content={}", answer["action"], answer["content"])))
            }
            None => {
                let titled = |values: &[(&str, &str)]| -> Vec<Value> {
                    values.iter().map(|(v, t)| json!({"const": v, "title": t})).collect()
                };
                let schema = json!({"type": "object", "properties": {
                    "untitledSingle": {"type": "string", "description": "Select one option", "enum": ["option1", "option2", "option3"]},
                    "titledSingle": {"type": "string", "description": "Select one option with titles",
                        "oneOf": titled(&[("value1", "First Option"), ("value2", "Second Option"), ("value3", "Third Option")])},
                    "legacyEnum": {"type": "string", "description": "Select one option (legacy)",
                        "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
                    "untitledMulti": {"type": "array", "description": "Select multiple options",
                        "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                    "titledMulti": {"type": "array", "description": "Select multiple options with titles",
                        "items": {"anyOf": titled(&[("value1", "First Choice"), ("value2", "Second Choice"), ("value3", "Third Choice")])}}}});
                ask(vec![elicit("enums", "Please select options from the enum fields", schema)], None)
            }
        },
        "test_sampling" => match sampled("completion") {
            Some(answer) => Ok(text(format!("LLM response: {answer}"))),
            None => ask(vec![sample("completion", args["prompt"].as_str().unwrap_or("Hello"))], None),
        },
        other => Err(ToolError::UnknownTool(other.into())),
    }
}

/// A `prompts/get` result for `{"name": ..., "arguments": {...}}`, as structured output.
fn render(arguments: &str) -> Result<CallResult, ToolError> {
    let args: Value = serde_json::from_str(arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))?;
    let arg = |key: &str| args["arguments"][key].as_str().unwrap_or_default().to_owned();
    let user_text = |t: String| json!({"role": "user", "content": {"type": "text", "text": t}});
    let messages = match args["name"].as_str().unwrap_or_default() {
        "test_simple_prompt" => vec![user_text("This is a simple prompt for testing.".into())],
        "test_prompt_with_arguments" => {
            vec![user_text(format!("Prompt with arguments: arg1='{}', arg2='{}'", arg("arg1"), arg("arg2")))]
        }
        "test_prompt_with_embedded_resource" => vec![
            json!({"role": "user", "content": {"type": "resource", "resource": {
                "uri": arg("resourceUri"), "mimeType": "text/plain", "text": "Embedded resource content for testing."}}}),
            user_text("Please process the embedded resource above.".into()),
        ],
        "test_prompt_with_image" => vec![
            json!({"role": "user", "content": {"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}}),
            user_text("Please analyze the image above.".into()),
        ],
        "test_input_required_result_prompt" => match accepted("context", "context") {
            Some(Value::String(context)) => vec![user_text(format!("Use this context: {context}"))],
            _ => {
                let schema =
                    json!({"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]});
                return ask(vec![elicit("context", "What context should the prompt use?", schema)], None);
            }
        },
        other => return Err(ToolError::InvalidArguments(format!("unknown prompt {other:?}"))),
    };
    Ok(CallResult { content: Vec::new(), structured: Some(json!({"messages": messages}).to_string()), is_error: false })
}

impl Offerings for Conformance {
    fn describe() -> Catalog {
        let argument = |name: &str, description: &str| PromptArgument {
            name: name.into(),
            description: description.into(),
            required: true,
            values: Vec::new(),
        };
        let prompt = |name: &str, description: &str, arguments: Vec<PromptArgument>| PromptOffer {
            name: name.into(),
            title: name.into(),
            description: description.into(),
            arguments,
            tool: RENDER.into(),
        };
        Catalog {
            resources: Vec::new(),
            prompts: vec![
                prompt("test_simple_prompt", "A simple prompt without arguments", Vec::new()),
                prompt(
                    "test_prompt_with_arguments",
                    "A prompt with required arguments",
                    vec![argument("arg1", "First test argument"), argument("arg2", "Second test argument")],
                ),
                prompt(
                    "test_prompt_with_embedded_resource",
                    "A prompt that includes an embedded resource",
                    vec![argument("resourceUri", "URI of the resource to embed")],
                ),
                prompt("test_prompt_with_image", "A prompt that includes an image", Vec::new()),
                prompt(
                    "test_input_required_result_prompt",
                    "A prompt that asks the user for context first",
                    Vec::new(),
                ),
            ],
        }
    }
}

export!(Conformance);
