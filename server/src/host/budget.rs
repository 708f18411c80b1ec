//! What one call may spend on the server's log and on notifications to the client: a byte budget
//! for its log records on stderr, a token bucket for `notifications/message` and
//! `notifications/progress`, and the coalesced progress report that waits for a token. Every
//! text a guest writes to the log goes through [`escape_controls`] first, so one record is one
//! line and cannot forge another.
//!
//! Owns [`Notifications`], the part of a call's store that the `log` and `progress` interfaces
//! share (they spend the same tokens, and a log record flushes a waiting progress report), and
//! [`NotificationsView`], the borrow of it (with the call's tool, progress token and server
//! hooks) that both interfaces are implemented on: see [`super::log`] and [`super::progress`].

use std::borrow::Cow;
use std::time::Instant;

use serde_json::Value;

use super::ServerHooks;

/// Bytes of log records (the `log` interface) one call may write to the server's stderr; the rest
/// is dropped after one notice. Guest stdout and stderr have their own budget
/// ([`super::guest_stdio::GUEST_OUTPUT_LIMIT`] per stream).
pub const MAX_LOG_BYTES_PER_CALL: usize = 256 << 10;

/// Notifications (log and progress) one call may send in a burst.
pub const NOTIFICATION_BURST: f64 = 64.0;

/// Notifications per second one call may send after its burst.
pub const NOTIFICATIONS_PER_SECOND: f64 = 100.0;

/// Longest progress message sent to the client; longer ones are cut.
pub const MAX_PROGRESS_MESSAGE_BYTES: usize = 1024;

/// One call's log and notification budget.
#[derive(Debug)]
pub struct CallBudget {
    log_bytes_left: usize,
    log_exhausted: bool,
    tokens: f64,
    refilled: Option<Instant>,
    /// Notifications refused for lack of tokens.
    pub notifications_dropped: u64,
}

impl Default for CallBudget {
    fn default() -> Self {
        Self {
            log_bytes_left: MAX_LOG_BYTES_PER_CALL,
            log_exhausted: false,
            tokens: NOTIFICATION_BURST,
            refilled: None,
            notifications_dropped: 0,
        }
    }
}

/// A progress report waiting for a notification token.
#[derive(Debug)]
pub struct Report {
    pub(super) progress: f64,
    pub(super) total: Option<f64>,
    pub(super) message: Option<String>,
}

/// The state `log` and `progress` keep for one call: its budget, the last progress value sent (to
/// keep notifications monotonic) and the latest progress report, while it waits for a token.
#[derive(Debug, Default)]
pub struct Notifications {
    pub(super) budget: CallBudget,
    pub(super) last_progress: Option<f64>,
    pub(super) pending_progress: Option<Report>,
}

/// What the `log` and `progress` host functions see of a call: its [`Notifications`], and the
/// call's tool, progress token and server, borrowed from the store.
pub struct NotificationsView<'a> {
    pub(super) state: &'a mut Notifications,
    /// The tool being called (tags log records).
    pub(super) tool: &'a str,
    /// The request's `_meta.progressToken`, if the client asked for progress.
    pub(super) progress_token: Option<&'a Value>,
    pub(super) hooks: &'a dyn ServerHooks,
}

/// The [`HasData`](wasmtime::component::HasData) that links `log` and `progress` to a
/// [`NotificationsView`].
pub(super) struct HasNotifications;

impl wasmtime::component::HasData for HasNotifications {
    type Data<'a> = NotificationsView<'a>;
}

impl NotificationsView<'_> {
    /// Sends the waiting progress report, if there is one and a token is left.
    pub(super) fn flush_progress(&mut self) {
        let state = &mut *self.state;
        if state.pending_progress.is_none() || !state.budget.take_notification() {
            return;
        }
        let (Some(token), Some(report)) = (self.progress_token, state.pending_progress.take()) else { return };
        self.hooks.progress(token, report.progress, report.total, report.message);
    }
}

/// What to do with one log record.
#[derive(Debug, PartialEq, Eq)]
pub enum LogVerdict {
    /// Write it.
    Write,
    /// Write the notice that the budget is used up, then nothing more.
    Exhausted,
    /// Drop it.
    Drop,
}

impl CallBudget {
    /// Charges a log record of `len` bytes.
    pub fn charge_log(&mut self, len: usize) -> LogVerdict {
        if self.log_exhausted {
            return LogVerdict::Drop;
        }
        if len > self.log_bytes_left {
            self.log_exhausted = true;
            return LogVerdict::Exhausted;
        }
        self.log_bytes_left -= len;
        LogVerdict::Write
    }

    /// Takes a notification token, if one is left (the bucket refills with time).
    pub fn take_notification(&mut self) -> bool {
        // The clock is read only once the burst is spent: most calls never get there.
        if self.tokens < 1.0 {
            let now = Instant::now();
            let since = self.refilled.map_or(0.0, |t| now.saturating_duration_since(t).as_secs_f64());
            self.tokens = (self.tokens + since * NOTIFICATIONS_PER_SECOND).min(NOTIFICATION_BURST);
            self.refilled = Some(now);
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            if self.tokens < 1.0 && self.refilled.is_none() {
                self.refilled = Some(Instant::now());
            }
            true
        } else {
            self.notifications_dropped += 1;
            false
        }
    }
}

/// `s` with control characters (C0 but tab, DEL, C1, and the Unicode line and paragraph
/// separators) written as escapes (`\n`, `\r`, `\u{1b}`), so that it stays one line.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    let needs = |c: char| (c.is_control() && c != '\t') || c == '\u{2028}' || c == '\u{2029}';
    if !s.chars().any(needs) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_is_borrowed() {
        assert!(matches!(escape_controls("plain\ttext"), Cow::Borrowed(_)));
        assert_eq!(escape_controls("a\nb\r\u{1b}[31m\u{2028}"), "a\\nb\\r\\u{1b}[31m\\u{2028}");
    }

    #[test]
    fn the_log_budget_ends_with_one_notice() {
        let mut budget = CallBudget::default();
        assert_eq!(budget.charge_log(MAX_LOG_BYTES_PER_CALL - 10), LogVerdict::Write);
        assert_eq!(budget.charge_log(11), LogVerdict::Exhausted);
        assert_eq!(budget.charge_log(1), LogVerdict::Drop);
    }

    #[test]
    fn notifications_come_in_a_burst_then_at_the_rate() {
        let mut budget = CallBudget::default();
        let sent = (0..1000).filter(|_| budget.take_notification()).count();
        assert_eq!(sent, NOTIFICATION_BURST as usize);
        assert_eq!(budget.notifications_dropped, 1000 - sent as u64);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let later = (0..1000).filter(|_| budget.take_notification()).count();
        assert!((1..=20).contains(&later), "{later} after 50 ms at 100/s");
    }
}
