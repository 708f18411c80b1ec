//! The ULTRA (ML) tools, registered only in ULTRA mode and loaded on first call:
//!
//! - `ide_agents_ultra_rank` (`rank.rs`): rank candidate texts, snippets or workspace files for a
//!   query, BM25 blended with hashed n-gram similarity;
//! - `ide_agents_ultra_calibrate` (`calibrate.rs`): fit Platt scaling and isotonic regression on
//!   score/label pairs, apply them, and report Brier score and expected calibration error.
//!
//! Both are deterministic: the same input gives the same output, bit for bit.

wit_bindgen::generate!({ path: "../../wit", world: "tool" });

mod calibrate;
mod rank;

use exports::ide_agents::tool::tools::{CallResult, Guest, ToolDescriptor, ToolError};
use ide_agents::tool::types::{Content, ToolAnnotations};
use serde_json::Value;

struct Ultra;

fn pure() -> ToolAnnotations {
    ToolAnnotations { read_only: Some(true), destructive: Some(false), idempotent: Some(true), open_world: Some(false) }
}

impl Guest for Ultra {
    fn describe() -> Vec<ToolDescriptor> {
        vec![rank::descriptor(), calibrate::descriptor()]
    }

    fn call(name: String, arguments: String) -> Result<CallResult, ToolError> {
        let (structured, text) = match name.as_str() {
            rank::NAME => rank::run(&arguments)?,
            calibrate::NAME => calibrate::run(&arguments)?,
            _ => return Err(ToolError::UnknownTool(name)),
        };
        Ok(CallResult { content: vec![Content::Text(text)], structured: Some(structured.to_string()), is_error: false })
    }
}

/// Deserialises arguments already checked against the input schema by the host.
fn parse<T: serde::de::DeserializeOwned>(arguments: &str) -> Result<T, ToolError> {
    serde_json::from_str(arguments).map_err(|e| ToolError::InvalidArguments(e.to_string()))
}

/// A tool's answer: structured content and its text rendering.
type Answer = Result<(Value, String), ToolError>;

export!(Ultra);
