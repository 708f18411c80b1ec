//! Requests in flight on one stream or session, by canonical id: so that a client's
//! `notifications/cancelled` stops the right one, a duplicate id is refused while the first runs,
//! and shutdown answers what is still running with an error.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Mutex;

use serde_json::Value;
use tokio::sync::oneshot;

/// Sent to a call in flight when the server shuts down: it is answered with an error so no request
/// is left hanging. (A client's cancellation drops the sender instead, and nothing is sent.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shutdown;

/// Calls in flight, by canonical request id. Dropping an entry's sender cancels the call as the
/// client asked; sending [`Shutdown`] cancels it with an error response.
#[derive(Default)]
pub struct InFlight {
    calls: Mutex<HashMap<String, oneshot::Sender<Shutdown>>>,
}

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Shutdown>>> {
        self.calls.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// Registers a call; `None` if a call with the same id is already in flight.
    pub fn start(&self, key: String) -> Option<oneshot::Receiver<Shutdown>> {
        match self.lock().entry(key) {
            Entry::Occupied(_) => None,
            Entry::Vacant(slot) => {
                let (tx, rx) = oneshot::channel();
                slot.insert(tx);
                Some(rx)
            }
        }
    }
    /// Forgets a call that finished.
    pub fn finish(&self, key: &str) {
        self.lock().remove(key);
    }
    /// Cancels a call as its client asked (nothing is sent for it); whether it was in flight.
    pub fn cancel(&self, key: &str) -> bool {
        self.lock().remove(key).is_some()
    }
    /// Cancels every call with [`Shutdown`] (each answers with an error).
    pub fn cancel_all_for_shutdown(&self) {
        for (_, stop) in self.lock().drain() {
            let _ = stop.send(Shutdown);
        }
    }
}

/// A request id in one canonical text form (so `"a"` and `"\u0061"` are the same id).
pub fn id_key(id: &str) -> String {
    if already_canonical(id) {
        return id.to_owned();
    }
    serde_json::from_str::<Value>(id).map_or_else(|_| id.to_owned(), |v| v.to_string())
}

/// Whether `id` (a JSON string or integer, as the envelope checked) reads back as itself: a
/// string with no escapes, or an integer small enough to stay one. The usual ids, and the ones
/// that skip the parse and print above.
fn already_canonical(id: &str) -> bool {
    match id.as_bytes() {
        [b'"', .., b'"'] => !id.contains('\\'),
        digits @ [b'0'..=b'9', ..] => digits.len() <= 19 && digits.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shortcut_agrees_with_the_parse() {
        let parsed = |id: &str| serde_json::from_str::<Value>(id).unwrap().to_string();
        for id in [r#""a-1""#, r#""""#, r#""é ü""#, "0", "7", "1234567890123456789", "18446744073709551615"] {
            assert_eq!(id_key(id), parsed(id), "{id}");
        }
        for id in [r#""\u0061""#, r#""a\"b""#, "-0", "-12", "100000000000000000000"] {
            assert!(!already_canonical(id), "{id}");
            assert_eq!(id_key(id), parsed(id), "{id}");
        }
    }
}
