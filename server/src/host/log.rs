//! `log`: guest log records go to our stderr through `tracing` (tagged with the tool) and to the
//! client as `notifications/message` when it asked for that level.

use super::HostState;
use crate::bindings::ide_agents::tool::log::{Host, Level};

/// Longest guest log message kept; the rest is cut so a guest cannot flood the log or the client.
pub const MAX_LOG_MESSAGE_BYTES: usize = 16 * 1024;

impl Host for HostState {
    async fn log(&mut self, level: Level, message: String) {
        let message = truncate(&message, MAX_LOG_MESSAGE_BYTES);
        let tool = &*self.env.tool;
        match level {
            Level::Debug => tracing::debug!(tool, "{message}"),
            Level::Info | Level::Notice => tracing::info!(tool, "{message}"),
            Level::Warning => tracing::warn!(tool, "{message}"),
            _ => tracing::error!(tool, "{message}"),
        }
        self.env.hooks.log_to_client(tool, level, message);
    }
}

/// `s` cut to at most `max` bytes on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
