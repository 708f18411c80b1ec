//! Initialize-era sessions over HTTP (2025-03-26 .. 2025-11-25): an `initialize` creates one and
//! its id goes back in `Mcp-Session-Id`; later requests name it; `DELETE` ends it. Each session
//! has its negotiated state and its requests in flight (for `notifications/cancelled`). Ids are
//! 128 random bits. At most `max` sessions live at once; the one idle longest is ended to make
//! room, and sessions idle past `idle` are ended.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ring::rand::{SecureRandom, SystemRandom};

use crate::mcp::inflight::InFlight;
use crate::mcp::session::Session;

/// One initialize-era session.
pub struct HttpSession {
    /// What the client negotiated.
    pub session: Arc<Session>,
    /// Its requests in flight.
    pub in_flight: InFlight,
    last_used: Mutex<Instant>,
}

/// The live sessions.
pub struct Sessions {
    by_id: Mutex<HashMap<String, Arc<HttpSession>>>,
    max: usize,
    idle: Duration,
    random: SystemRandom,
}

impl Sessions {
    /// At most `max` sessions, each ended after `idle` without a request.
    pub fn new(max: usize, idle: Duration) -> Self {
        Self { by_id: Mutex::new(HashMap::new()), max: max.max(1), idle, random: SystemRandom::new() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<HttpSession>>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores `session` under a new id, which it returns.
    pub fn create(&self, session: Arc<Session>) -> Result<String, String> {
        let mut bytes = [0u8; 16];
        self.random.fill(&mut bytes).map_err(|_| "no random numbers for a session id".to_owned())?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, s| {
            let live = now.duration_since(*s.last_used.lock().unwrap_or_else(|p| p.into_inner())) < self.idle;
            if !live {
                s.session.close_outstanding();
            }
            live
        });
        if sessions.len() >= self.max {
            let oldest = sessions
                .iter()
                .min_by_key(|(_, s)| *s.last_used.lock().unwrap_or_else(|p| p.into_inner()))
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                tracing::info!("ending the longest-idle HTTP session to make room for a new one");
                if let Some(ended) = sessions.remove(&oldest) {
                    ended.session.close_outstanding();
                }
            }
        }
        sessions.insert(
            id.clone(),
            Arc::new(HttpSession { session, in_flight: InFlight::default(), last_used: Mutex::new(now) }),
        );
        Ok(id)
    }

    /// The session `id`, marked used; `None` if it does not exist (or expired).
    pub fn get(&self, id: &str) -> Option<Arc<HttpSession>> {
        let sessions = self.lock();
        let session = sessions.get(id)?;
        let mut last = session.last_used.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= self.idle {
            return None;
        }
        *last = Instant::now();
        drop(last);
        Some(session.clone())
    }

    /// Ends session `id`; whether it existed.
    pub fn remove(&self, id: &str) -> bool {
        let ended = self.lock().remove(id);
        // Calls of the session waiting for the client's answers stop waiting.
        ended.inspect(|s| s.session.close_outstanding()).is_some()
    }

    /// Live sessions.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_created_found_and_ended() {
        let sessions = Sessions::new(2, Duration::from_secs(60));
        let a = sessions.create(Arc::new(Session::default())).unwrap();
        assert_eq!(a.len(), 32);
        assert!(sessions.get(&a).is_some());
        assert!(sessions.get("nope").is_none());
        let b = sessions.create(Arc::new(Session::default())).unwrap();
        assert_ne!(a, b);
        std::thread::sleep(Duration::from_millis(2));
        sessions.get(&b);
        let _c = sessions.create(Arc::new(Session::default())).unwrap();
        assert_eq!(sessions.len(), 2);
        assert!(sessions.get(&a).is_none(), "the longest idle made room");
        assert!(sessions.remove(&b));
        assert!(!sessions.remove(&b));
    }

    #[test]
    fn idle_sessions_expire() {
        let sessions = Sessions::new(8, Duration::from_millis(1));
        let a = sessions.create(Arc::new(Session::default())).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert!(sessions.get(&a).is_none());
    }
}
