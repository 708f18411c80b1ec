//! `requestState` of multi round-trip calls: what a tool keeps between rounds, sealed so that any
//! server instance holding the same key can resume the call, and nobody else can forge or alter it.
//!
//! A sealed state is `base64url(claims) "." base64url(HMAC-SHA256(key, claims))`; the claims are a
//! small JSON object naming the tool, a digest of the call's arguments, an expiry and a random
//! nonce (and the authenticated principal, over HTTP with `[auth]`), around the tool's own state.
//! [`StateKey::open`] refuses a state whose MAC does not verify (checked in constant time, by
//! `ring`), that has expired, or that was issued for another tool, other arguments or another
//! principal, so a state cannot be replayed onto a different call, by someone else, or late. The
//! state is signed, not encrypted: the tool's part is readable by the client (documented in the
//! WIT). The key comes from `[server] request_state_key` (shared by the instances behind one load
//! balancer) or is drawn at random when the server starts (then only this process can resume).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How long a sealed state may be used to resume its call.
pub const STATE_TTL: Duration = Duration::from_secs(15 * 60);
/// Shortest configured key, bytes.
pub const MIN_KEY_BYTES: usize = 32;
/// Longest sealed state accepted, bytes: the tool's state is at most 16 KiB, JSON escaping can
/// grow it sixfold and base64 by a third.
const MAX_SEALED_BYTES: usize = 192 << 10;

/// The server's key for sealing states.
pub struct StateKey(hmac::Key);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey(<redacted>)")
    }
}

/// What a sealed state holds.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Claims {
    /// The tool.
    t: String,
    /// SHA-256 of the call's arguments (hex, first 16 bytes).
    a: String,
    /// Expiry, Unix milliseconds.
    e: u64,
    /// Random, so every round's state differs.
    n: String,
    /// The authenticated principal it was issued to, if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    p: Option<String>,
    /// The tool's own state.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    s: Option<String>,
}

/// Why a state was refused (the message is sent to the client).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refused {
    /// Not ours, or altered.
    #[error(
        "requestState integrity check failed: it was altered, or sealed by another server (instances behind one load \
         balancer need the same [server] request_state_key)"
    )]
    Integrity,
    /// Too old.
    #[error("requestState has expired: call the tool again without it")]
    Expired,
    /// Issued for another call.
    #[error("requestState was issued for another tool, other arguments or another principal")]
    OtherCall,
}

impl StateKey {
    /// A key from configured secret bytes.
    pub fn new(secret: &[u8]) -> Self {
        Self(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    /// A key drawn at random (valid for this process only).
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).expect("the system random number generator failed");
        Self::new(&bytes)
    }

    /// Seals `state` for a call of `tool` with `arguments` (JSON text) by `principal`, valid
    /// until `now_ms` plus [`STATE_TTL`].
    pub fn seal(&self, call: Call<'_>, state: Option<String>, now_ms: u64) -> String {
        let Call { tool, arguments, principal } = call;
        let mut nonce = [0u8; 12];
        let _ = SystemRandom::new().fill(&mut nonce);
        let claims = Claims {
            t: tool.to_owned(),
            a: arguments_digest(arguments),
            e: now_ms + STATE_TTL.as_millis() as u64,
            n: URL_SAFE_NO_PAD.encode(nonce),
            p: principal.map(str::to_owned),
            s: state,
        };
        let body = serde_json::to_vec(&claims).expect("claims serialise");
        let tag = hmac::sign(&self.0, &body);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&body), URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// Opens a sealed state for `call` at `now_ms`: the tool's state.
    pub fn open(&self, sealed: &str, call: Call<'_>, now_ms: u64) -> Result<Option<String>, Refused> {
        let Call { tool, arguments, principal } = call;
        if sealed.len() > MAX_SEALED_BYTES {
            return Err(Refused::Integrity);
        }
        let (body, tag) = sealed.split_once('.').ok_or(Refused::Integrity)?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| Refused::Integrity)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| Refused::Integrity)?;
        hmac::verify(&self.0, &body, &tag).map_err(|_| Refused::Integrity)?;
        let claims: Claims = serde_json::from_slice(&body).map_err(|_| Refused::Integrity)?;
        if claims.e < now_ms {
            return Err(Refused::Expired);
        }
        if claims.t != tool || claims.a != arguments_digest(arguments) || claims.p.as_deref() != principal {
            return Err(Refused::OtherCall);
        }
        Ok(claims.s)
    }
}

/// The call a state belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Call<'a> {
    /// The tool.
    pub tool: &'a str,
    /// Its arguments, JSON text.
    pub arguments: &'a str,
    /// The authenticated principal, if any.
    pub principal: Option<&'a str>,
}

/// The arguments' digest, independent of how the client spaced or ordered its JSON.
fn arguments_digest(arguments: &str) -> String {
    let canonical = serde_json::from_str::<serde_json::Value>(arguments)
        .map(|v| canonical_json(&v))
        .unwrap_or_else(|_| arguments.to_owned());
    let digest = Sha256::digest(canonical.as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// JSON text with object keys sorted at every level.
fn canonical_json(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", serde_json::Value::from(k.as_str()), canonical_json(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        serde_json::Value::Array(items) => {
            format!("[{}]", items.iter().map(canonical_json).collect::<Vec<_>>().join(","))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000_000;

    fn call<'a>(tool: &'a str, arguments: &'a str) -> Call<'a> {
        Call { tool, arguments, principal: None }
    }

    #[test]
    fn a_sealed_state_opens_with_the_same_key_for_the_same_call() {
        let key = StateKey::new(&[7; 32]);
        let sealed = key.seal(call("t", r#"{"a":1,"b":[2]}"#), Some("kept".into()), NOW);
        // Another instance with the same key, arguments spaced and ordered differently.
        let other = StateKey::new(&[7; 32]);
        assert_eq!(other.open(&sealed, call("t", r#"{ "b": [2], "a": 1 }"#), NOW + 1000), Ok(Some("kept".into())));
        assert_ne!(sealed, key.seal(call("t", r#"{"a":1,"b":[2]}"#), Some("kept".into()), NOW), "nonce differs");
    }

    #[test]
    fn altered_foreign_expired_and_misapplied_states_are_refused() {
        let key = StateKey::new(&[7; 32]);
        let sealed = key.seal(call("t", "{}"), None, NOW);
        assert_eq!(key.open(&format!("{sealed}-TAMPERED"), call("t", "{}"), NOW), Err(Refused::Integrity));
        let (body, tag) = sealed.split_once('.').unwrap();
        let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(body).unwrap()).unwrap();
        claims["e"] = serde_json::json!(u64::MAX);
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode(claims.to_string()));
        assert_eq!(key.open(&forged, call("t", "{}"), NOW), Err(Refused::Integrity));
        assert_eq!(StateKey::new(&[8; 32]).open(&sealed, call("t", "{}"), NOW), Err(Refused::Integrity));
        assert_eq!(key.open("garbage", call("t", "{}"), NOW), Err(Refused::Integrity));
        let late = NOW + STATE_TTL.as_millis() as u64 + 1;
        assert_eq!(key.open(&sealed, call("t", "{}"), late), Err(Refused::Expired));
        assert_eq!(key.open(&sealed, call("u", "{}"), NOW), Err(Refused::OtherCall));
        assert_eq!(key.open(&sealed, call("t", r#"{"x":1}"#), NOW), Err(Refused::OtherCall));
        let alice = Call { principal: Some("alice"), ..call("t", "{}") };
        let sealed = key.seal(alice, None, NOW);
        assert_eq!(key.open(&sealed, alice, NOW), Ok(None));
        assert_eq!(key.open(&sealed, Call { principal: Some("bob"), ..alice }, NOW), Err(Refused::OtherCall));
        assert_eq!(key.open(&sealed, call("t", "{}"), NOW), Err(Refused::OtherCall));
    }
}
