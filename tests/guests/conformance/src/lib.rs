//! `conformance`: the fixture tools and prompts that the official MCP conformance suite
//! (`@modelcontextprotocol/conformance`) calls by name, as the suite's reference server defines
//! them, so far as our WIT contract can express them (see `tests/conformance/expected-failures`
//! for what it cannot). Test-only: served by `tests/conformance/run.sh`.

wit_bindgen::generate!({ path: "../../../wit", world: "tool-with-offerings" });

use exports::ide_agents::tool::offerings::{Catalog, Guest as Offerings, PromptArgument, PromptOffer};
use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
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
            _ => return Err(ToolError::UnknownTool(name)),
        })
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
            ],
        }
    }
}

export!(Conformance);
