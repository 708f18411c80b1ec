//! Asking the client for input mid-call (the WIT `input` interface): multi round-trip calls.
//!
//! A tool that needs something before it can finish (the user's confirmation, a completion from
//! the client's model, the client's roots) builds an [`Ask`] and returns `Err(ask.send())`. The
//! host asks the client and calls the tool again, with the same arguments, once it has answered:
//! then [`accepted`] (or [`answer`]) has the answers and [`state`] what the tool kept. Every round
//! is a fresh call, possibly on another server instance, so whatever the next round needs goes in
//! the state (signed by the host, not encrypted). Answers come from the user: treat them like
//! arguments, and ask again when one is missing.
//!
//! ```no_run
//! use ide_agents_tool::input::{self, Ask};
//! use ide_agents_tool::{Error, Reply};
//! use schemars::JsonSchema;
//! use serde::Deserialize;
//!
//! /// The answer to "Delete these files?".
//! #[derive(Deserialize, JsonSchema)]
//! struct Confirm {
//!     /// Whether to go ahead.
//!     ok: bool,
//! }
//!
//! fn delete(paths: &[String]) -> Result<Reply<()>, Error> {
//!     match input::accepted::<Confirm>("confirm") {
//!         Some(Confirm { ok: true }) => Ok(Reply::new(()).text(format!("deleted {}", paths.len()))),
//!         Some(Confirm { ok: false }) => Err(Error::message("not deleted: the user said no")),
//!         None => Err(Ask::new().elicit::<Confirm>("confirm", &format!("Delete {} files?", paths.len())).send()),
//!     }
//! }
//! ```

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use crate::bindings::ide_agents::tool::input::{ClientSupport, state, supported};
use crate::bindings::ide_agents::tool::input::{InputRequest, KeyedRequest, Question, request, responses};
use crate::tool::Error;

/// What one round asks the client for, and the state to get back.
#[derive(Debug, Default)]
pub struct Ask {
    requests: Vec<KeyedRequest>,
    state: Option<String>,
}

impl Ask {
    /// Nothing asked yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the user `message`; the answer has the fields of `T` (strings, numbers, booleans or
    /// enums of strings: a form any client can render) and comes back under `key`.
    #[must_use]
    pub fn elicit<T: JsonSchema>(self, key: &str, message: &str) -> Self {
        self.elicit_with_schema(key, message, crate::schema::input::<T>())
    }

    /// Asks the user `message`, the answer's JSON Schema given as is.
    #[must_use]
    pub fn elicit_with_schema(mut self, key: &str, message: &str, schema: Value) -> Self {
        let question = Question { message: message.into(), requested_schema: schema.to_string() };
        self.requests.push(KeyedRequest { key: key.into(), request: InputRequest::Elicit(question) });
        self
    }

    /// Asks the client's model for a completion: `params` are `sampling/createMessage`'s
    /// (`messages`, `maxTokens`, ...); the CreateMessageResult comes back under `key`.
    #[must_use]
    pub fn sample(mut self, key: &str, params: Value) -> Self {
        self.requests.push(KeyedRequest { key: key.into(), request: InputRequest::Sample(params.to_string()) });
        self
    }

    /// Asks for the client's roots; the ListRootsResult comes back under `key`.
    #[must_use]
    pub fn list_roots(mut self, key: &str) -> Self {
        self.requests.push(KeyedRequest { key: key.into(), request: InputRequest::ListRoots });
        self
    }

    /// Keeps `state` for the next round ([`state`] returns it there).
    #[must_use]
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// The requests so far, as (key, kind) pairs: `elicit`, `sample` or `list-roots`.
    pub fn requests(&self) -> Vec<(&str, &'static str)> {
        self.requests
            .iter()
            .map(|r| {
                let kind = match r.request {
                    InputRequest::Elicit(_) => "elicit",
                    InputRequest::Sample(_) => "sample",
                    InputRequest::ListRoots => "list-roots",
                };
                (r.key.as_str(), kind)
            })
            .collect()
    }

    /// Asks the client: the error for `call` to return ([`Error::InputRequired`]), or
    /// [`Error::Failed`] with the host's reason when it refused the requests.
    pub fn send(self) -> Error {
        match request(&self.requests, self.state.as_deref()) {
            Ok(()) => Error::InputRequired,
            Err(reason) => Error::failed(format!("cannot ask for input: {reason}")),
        }
    }
}

/// The client's answer under `key` from the previous round (its result object), if any.
pub fn answer(key: &str) -> Option<Value> {
    responses().into_iter().find(|r| r.key == key).and_then(|r| serde_json::from_str(&r.answer).ok())
}

/// The content of the user's accepted answer under `key` as a `T`; `None` when there is no
/// answer, the user declined or cancelled, or the content is not a `T`.
pub fn accepted<T: DeserializeOwned>(key: &str) -> Option<T> {
    let answer = answer(key)?;
    if answer.get("action").and_then(Value::as_str) != Some("accept") {
        return None;
    }
    serde_json::from_value(answer.get("content")?.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, JsonSchema)]
    #[allow(dead_code)]
    struct Confirm {
        /// Whether to go ahead.
        ok: bool,
    }

    #[test]
    fn an_ask_keeps_its_requests_in_order_with_a_flat_schema() {
        let ask = Ask::new().elicit::<Confirm>("confirm", "Go?").list_roots("roots").state("s");
        assert_eq!(ask.requests(), [("confirm", "elicit"), ("roots", "list-roots")]);
        let InputRequest::Elicit(question) = &ask.requests[0].request else { panic!() };
        let schema: Value = serde_json::from_str(&question.requested_schema).unwrap();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["properties"]["ok"]["type"], "boolean");
        assert_eq!(schema["required"], serde_json::json!(["ok"]));
        assert_eq!(ask.state.as_deref(), Some("s"));
    }
}
