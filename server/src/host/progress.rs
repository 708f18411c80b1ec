//! `progress`: guest progress reports become `notifications/progress` when the request carried a
//! progress token. Reports that do not increase are dropped, keeping the stream monotonic as MCP
//! requires. Reports share the call's notification rate with log records; a report that finds no
//! token waits (the latest one wins) and goes out with the next report or log record that finds
//! one. Messages are cut at [`MAX_PROGRESS_MESSAGE_BYTES`].

use super::HostState;
use super::budget::MAX_PROGRESS_MESSAGE_BYTES;
use super::log::truncate;
use crate::bindings::ide_agents::tool::progress::Host;

/// A progress report waiting for a notification token.
#[derive(Debug)]
pub struct Report {
    progress: f64,
    total: Option<f64>,
    message: Option<String>,
}

impl HostState {
    /// Sends the waiting progress report, if there is one and a token is left.
    pub(super) fn flush_progress(&mut self) {
        if self.pending_progress.is_none() || !self.budget.take_notification() {
            return;
        }
        let (Some(token), Some(report)) = (&self.env.progress_token, self.pending_progress.take()) else { return };
        self.env.hooks.progress(token, report.progress, report.total, report.message);
    }
}

impl Host for HostState {
    async fn report(&mut self, progress: f64, total: Option<f64>, message: Option<String>) {
        if self.env.progress_token.is_none() {
            return;
        }
        if !progress.is_finite() || self.last_progress.is_some_and(|last| progress <= last) {
            return;
        }
        self.last_progress = Some(progress);
        let total = total.filter(|t| t.is_finite());
        let message = message.map(|m| truncate(&m, MAX_PROGRESS_MESSAGE_BYTES).to_owned());
        // The latest report replaces one still waiting.
        self.pending_progress = Some(Report { progress, total, message });
        self.flush_progress();
    }
}
