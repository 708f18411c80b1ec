//! `progress`: guest progress reports become `notifications/progress` when the request carried a
//! progress token. Reports that do not increase are dropped, keeping the stream monotonic as MCP
//! requires. Reports share the call's notification rate with log records; a report that finds no
//! token waits (the latest one wins) and goes out with the next report or log record that finds
//! one. Messages are cut at [`MAX_PROGRESS_MESSAGE_BYTES`].
//!
//! Owns no state of its own: the last value sent and the waiting report live in the call's
//! [`Notifications`](super::budget::Notifications), shared with `log`, and the interface is
//! implemented on their common view, [`NotificationsView`].

use wasmtime::component::Linker;

use super::budget::{HasNotifications, MAX_PROGRESS_MESSAGE_BYTES, NotificationsView, Report};
use super::log::truncate;
use crate::bindings::ide_agents::tool::progress::{self, Host};

/// Links `progress` into `linker`, reaching each store's notifications through `view`.
pub(super) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> NotificationsView<'_>,
) -> wasmtime::Result<()> {
    progress::add_to_linker::<T, HasNotifications>(linker, view)
}

impl Host for NotificationsView<'_> {
    async fn report(&mut self, progress: f64, total: Option<f64>, message: Option<String>) {
        if self.progress_token.is_none() {
            return;
        }
        let state = &mut *self.state;
        if !progress.is_finite() || state.last_progress.is_some_and(|last| progress <= last) {
            return;
        }
        state.last_progress = Some(progress);
        let total = total.filter(|t| t.is_finite());
        let message = message.map(|m| truncate(&m, MAX_PROGRESS_MESSAGE_BYTES).to_owned());
        // The latest report replaces one still waiting.
        state.pending_progress = Some(Report { progress, total, message });
        self.flush_progress();
    }
}
