//! `progress`: guest progress reports become `notifications/progress` when the request carried a
//! progress token. Reports that do not increase are dropped, keeping the stream monotonic as MCP
//! requires.

use super::HostState;
use crate::bindings::ide_agents::tool::progress::Host;

impl Host for HostState {
    async fn report(&mut self, progress: f64, total: Option<f64>, message: Option<String>) {
        let Some(token) = &self.env.progress_token else {
            return;
        };
        if !progress.is_finite() || self.last_progress.is_some_and(|last| progress <= last) {
            return;
        }
        self.last_progress = Some(progress);
        let total = total.filter(|t| t.is_finite());
        self.env.hooks.progress(token, progress, total, message);
    }
}
