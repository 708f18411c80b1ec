//! `log`: guest log records go to our stderr through `tracing` (tagged with the tool, control
//! characters escaped, within the call's byte budget) and to the client as
//! `notifications/message` when it asked for that level (within the call's notification rate).
//!
//! Owns no state of its own: it shares the call's [`Notifications`](super::budget::Notifications)
//! with `progress`, and is implemented on their common view, [`NotificationsView`].

use wasmtime::component::Linker;

use super::budget::{HasNotifications, LogVerdict, MAX_LOG_BYTES_PER_CALL, NotificationsView, escape_controls};
use crate::bindings::ide_agents::tool::log::{self, Host, Level};

/// Longest guest log message kept; the rest is cut so a guest cannot flood the log or the client.
pub const MAX_LOG_MESSAGE_BYTES: usize = 16 * 1024;

/// Links `log` into `linker`, reaching each store's notifications through `view`.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> NotificationsView<'_>,
) -> wasmtime::Result<()> {
    log::add_to_linker::<T, HasNotifications>(linker, view)
}

impl Host for NotificationsView<'_> {
    async fn log(&mut self, level: Level, message: String) {
        let message = truncate(&message, MAX_LOG_MESSAGE_BYTES);
        let tool = self.tool;
        match self.state.budget.charge_log(message.len()) {
            LogVerdict::Write => {
                let line = escape_controls(message);
                match level {
                    Level::Debug => tracing::debug!(tool, "{line}"),
                    Level::Info | Level::Notice => tracing::info!(tool, "{line}"),
                    Level::Warning => tracing::warn!(tool, "{line}"),
                    _ => tracing::error!(tool, "{line}"),
                }
            }
            LogVerdict::Exhausted => {
                tracing::warn!(
                    tool,
                    "log budget of {MAX_LOG_BYTES_PER_CALL} bytes for this call used up; further records dropped"
                );
            }
            LogVerdict::Drop => {}
        }
        self.flush_progress();
        if self.hooks.wants_log(level) && self.state.budget.take_notification() {
            self.hooks.log_to_client(tool, level, message);
        }
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
