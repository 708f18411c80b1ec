//! Who a request comes from: its [`Peer`] (the session and the outbox of the stream it came
//! on). A legacy session negotiates its protocol version with `initialize` and its log level with
//! `logging/setLevel`; a 2026-07-28 request carries both in its `_meta`, so it gets a session of
//! its own ([`Session::per_request`]). Fields are atomics, read on the call path without a lock;
//! requests we send a legacy client (multi round-trip calls, `rounds.rs`) wait for their answers
//! in the session's table of outstanding requests.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::jsonrpc::RpcError;
use super::outbox::Outbox;
use super::protocol;
use crate::bindings::ide_agents::tool::log::Level;

/// Where a request came from: the session it belongs to and the outbox of its stream
/// (notifications about the request go there).
#[derive(Debug, Clone)]
pub struct Peer {
    /// What the client negotiated.
    pub session: Arc<Session>,
    /// The stream's queue of lines.
    pub out: Outbox,
    /// Who authenticated the request (HTTP with `[auth]`): a multi round-trip call's sealed state
    /// is bound to it.
    pub principal: Option<Arc<str>>,
}

impl Peer {
    /// A peer with a fresh, not yet negotiated session.
    pub fn new(out: Outbox) -> Self {
        Self { session: Arc::new(Session::default()), out, principal: None }
    }

    /// The same peer, authenticated as `principal`.
    pub fn authenticated(mut self, principal: Option<&str>) -> Self {
        self.principal = principal.map(Into::into);
        self
    }

    /// The same stream with another session (a 2026-07-28 request's own).
    pub fn with_session(&self, session: Session) -> Self {
        Self { session: Arc::new(session), out: self.out.clone(), principal: self.principal.clone() }
    }
}

/// MCP log levels, least severe first (RFC 5424 order); a WIT [`Level`] is an index into it.
pub const LOG_LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];
/// Client log level before `logging/setLevel`: send nothing.
const LOG_OFF: u8 = u8::MAX;
/// Protocol version before `initialize`.
const NOT_NEGOTIATED: u8 = u8::MAX;

/// Client capabilities a tool call may need, as bits.
pub mod capability {
    /// `elicitation`.
    pub const ELICITATION: u8 = 1;
    /// `sampling`.
    pub const SAMPLING: u8 = 2;
    /// `roots`.
    pub const ROOTS: u8 = 4;
}

/// One session's negotiated state.
#[derive(Debug)]
pub struct Session {
    /// Index into `protocol::SUPPORTED_VERSIONS` of the negotiated version.
    protocol_version: AtomicU8,
    /// Index into [`LOG_LEVELS`] of the least severe level the client wants.
    client_log_level: AtomicU8,
    /// The [`capability`] bits the client declared.
    client_capabilities: AtomicU8,
    /// Requests we sent the client (an initialize-era multi round-trip call), waiting for answers.
    outstanding: Outstanding,
}

/// A client's answer to a request we sent: its `result` or its `error`, as JSON text.
pub type ClientAnswer = Result<String, String>;

/// Requests sent to the client and not answered yet, by id. Ids are strings of our own
/// (`ia-1`, `ia-2`, ...), so they never collide with the client's.
#[derive(Debug, Default)]
struct Outstanding {
    next: std::sync::atomic::AtomicU64,
    waiting: Mutex<HashMap<String, oneshot::Sender<ClientAnswer>>>,
    /// Set when the client is gone: nothing more is sent or awaited.
    closed: std::sync::atomic::AtomicBool,
}

/// Requests one session may have outstanding at once.
pub const MAX_OUTSTANDING: usize = 64;

impl Default for Session {
    fn default() -> Self {
        Self {
            protocol_version: AtomicU8::new(NOT_NEGOTIATED),
            client_log_level: AtomicU8::new(LOG_OFF),
            client_capabilities: AtomicU8::new(0),
            outstanding: Outstanding::default(),
        }
    }
}

impl Session {
    /// The session of one 2026-07-28 request: `version` (one of [`protocol::ALL_VERSIONS`]), the
    /// `_meta` log level (none: send no logs) and the declared capability bits.
    pub fn per_request(version: &'static str, log_level: Option<&str>, capabilities: u8) -> Result<Self, RpcError> {
        let session = Self::default();
        session.set_version(version);
        if let Some(level) = log_level {
            session.set_log_level(level)?;
        }
        session.client_capabilities.store(capabilities, Ordering::Relaxed);
        Ok(session)
    }

    /// Negotiates `requested` (our latest when it is not supported) and remembers it, with the
    /// client's declared capabilities.
    pub fn negotiate(&self, requested: Option<&str>, capabilities: u8) -> &'static str {
        let version = protocol::negotiate(requested);
        self.set_version(version);
        self.client_capabilities.store(capabilities, Ordering::Relaxed);
        version
    }

    fn set_version(&self, version: &str) {
        let index = protocol::ALL_VERSIONS.iter().position(|v| *v == version).unwrap_or(0);
        self.protocol_version.store(index as u8, Ordering::Relaxed);
    }

    /// The negotiated version, once `initialize` has been answered (or the request's own).
    pub fn protocol_version(&self) -> Option<&'static str> {
        protocol::ALL_VERSIONS.get(usize::from(self.protocol_version.load(Ordering::Relaxed))).copied()
    }

    /// Whether the client declared `capability` (a [`capability`] bit).
    pub fn declared(&self, capability: u8) -> bool {
        self.client_capabilities.load(Ordering::Relaxed) & capability != 0
    }

    /// Sets the client's log level; an unknown level name is -32602.
    pub fn set_log_level(&self, level: &str) -> Result<(), RpcError> {
        let index = LOG_LEVELS
            .iter()
            .position(|l| *l == level)
            .ok_or_else(|| RpcError::invalid_params(format!("unknown log level {level:?}")))?;
        self.client_log_level.store(index as u8, Ordering::Relaxed);
        Ok(())
    }

    /// Whether this is a 2026-07-28 request's own session (stateless: no server-to-client
    /// requests).
    pub fn is_modern(&self) -> bool {
        self.protocol_version().is_some_and(|v| protocol::MODERN_VERSIONS.contains(&v))
    }

    /// Registers a request to the client: its id (JSON text) and where its answer will arrive.
    /// `None` when [`MAX_OUTSTANDING`] are already waiting.
    pub fn expect_answer(&self) -> Option<(String, oneshot::Receiver<ClientAnswer>)> {
        let mut waiting = self.outstanding.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        waiting.retain(|_, tx| !tx.is_closed());
        if waiting.len() >= MAX_OUTSTANDING || self.outstanding.closed.load(Ordering::Relaxed) {
            return None;
        }
        let n = self.outstanding.next.fetch_add(1, Ordering::Relaxed) + 1;
        let id = format!("\"ia-{n}\"");
        let (tx, rx) = oneshot::channel();
        waiting.insert(id.clone(), tx);
        Some((id, rx))
    }

    /// Forgets request `id` (its caller stopped waiting); whether it was still outstanding.
    pub fn forget(&self, id: &str) -> bool {
        self.outstanding.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id).is_some()
    }

    /// The client is gone (stdin closed, the HTTP session ended): every call waiting for an answer
    /// stops waiting, and no request is sent any more.
    pub fn close_outstanding(&self) {
        self.outstanding.closed.store(true, Ordering::Relaxed);
        self.outstanding.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    /// Hands the client's answer to request `id` (JSON text) to whoever waits for it; false if
    /// nobody does (an unknown or late id).
    pub fn deliver(&self, id: &str, answer: ClientAnswer) -> bool {
        let waiting = self.outstanding.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
        waiting.is_some_and(|tx| tx.send(answer).is_ok())
    }

    /// The MCP name of `level` if the client asked for records that severe, else `None`.
    pub fn forwarded_level(&self, level: Level) -> Option<&'static str> {
        let index = level as u8;
        (index >= self.client_log_level.load(Ordering::Relaxed)).then(|| LOG_LEVELS[usize::from(index)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_off_until_the_client_sets_a_level() {
        let session = Session::default();
        assert_eq!(session.forwarded_level(Level::Error), None);
        session.set_log_level("warning").unwrap();
        assert_eq!(session.forwarded_level(Level::Info), None);
        assert_eq!(session.forwarded_level(Level::Error), Some("error"));
        assert!(session.set_log_level("loud").is_err());
    }

    #[test]
    fn the_negotiated_version_is_remembered() {
        let session = Session::default();
        assert_eq!(session.protocol_version(), None);
        assert_eq!(session.negotiate(Some("2025-03-26"), capability::ELICITATION), "2025-03-26");
        assert_eq!(session.protocol_version(), Some("2025-03-26"));
        assert!(session.declared(capability::ELICITATION) && !session.declared(capability::SAMPLING));
        assert_eq!(session.negotiate(Some("1999-01-01"), 0), protocol::LATEST_VERSION);
    }

    #[test]
    fn answers_reach_the_request_that_waits_for_them_once() {
        let session = Session::default();
        let (id, mut rx) = session.expect_answer().unwrap();
        assert!(id.starts_with("\"ia-"));
        assert!(!session.deliver("\"other\"", Ok("{}".into())));
        assert!(session.deliver(&id, Ok("{}".into())));
        assert_eq!(rx.try_recv().unwrap(), Ok("{}".to_owned()));
        assert!(!session.deliver(&id, Ok("{}".into())), "answered once");
        let held: Vec<_> = (0..MAX_OUTSTANDING).map(|_| session.expect_answer().unwrap()).collect();
        assert!(session.expect_answer().is_none(), "bounded");
        drop(held);
        let (id, mut rx) = session.expect_answer().expect("abandoned requests are forgotten");
        session.close_outstanding();
        assert!(rx.try_recv().is_err() && !session.deliver(&id, Ok("{}".into())), "a closed session answers nothing");
        assert!(session.expect_answer().is_none(), "and asks nothing more");
    }
}
