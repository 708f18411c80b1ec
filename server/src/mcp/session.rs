//! What a session negotiates: the protocol version (`initialize`) and the level from which tool
//! logs are forwarded to the client (`logging/setLevel`). Both are atomics, read on the call path
//! without a lock.

use std::sync::atomic::{AtomicU8, Ordering};

use super::jsonrpc::RpcError;
use super::protocol;
use crate::bindings::ide_agents::tool::log::Level;

/// MCP log levels, least severe first (RFC 5424 order); a WIT [`Level`] is an index into it.
pub const LOG_LEVELS: [&str; 8] = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];
/// Client log level before `logging/setLevel`: send nothing.
const LOG_OFF: u8 = u8::MAX;
/// Protocol version before `initialize`.
const NOT_NEGOTIATED: u8 = u8::MAX;

/// One session's negotiated state.
#[derive(Debug)]
pub struct Session {
    /// Index into `protocol::SUPPORTED_VERSIONS` of the negotiated version.
    protocol_version: AtomicU8,
    /// Index into [`LOG_LEVELS`] of the least severe level the client wants.
    client_log_level: AtomicU8,
}

impl Default for Session {
    fn default() -> Self {
        Self { protocol_version: AtomicU8::new(NOT_NEGOTIATED), client_log_level: AtomicU8::new(LOG_OFF) }
    }
}

impl Session {
    /// Negotiates `requested` (our latest when it is not supported) and remembers it.
    pub fn negotiate(&self, requested: Option<&str>) -> &'static str {
        let version = protocol::negotiate(requested);
        let index = protocol::SUPPORTED_VERSIONS.iter().position(|v| *v == version).unwrap_or(0);
        self.protocol_version.store(index as u8, Ordering::Relaxed);
        version
    }

    /// The negotiated version, once `initialize` has been answered.
    pub fn protocol_version(&self) -> Option<&'static str> {
        protocol::SUPPORTED_VERSIONS.get(usize::from(self.protocol_version.load(Ordering::Relaxed))).copied()
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
        assert_eq!(session.negotiate(Some("2025-03-26")), "2025-03-26");
        assert_eq!(session.protocol_version(), Some("2025-03-26"));
        assert_eq!(session.negotiate(Some("1999-01-01")), protocol::LATEST_VERSION);
    }
}
