//! The epoch ticker: a thread that advances the engine's epoch every [`EPOCH_TICK`] while at
//! least one call is running (and for [`LINGER_TICKS`] after), and sleeps (parked, no wake-ups)
//! while the server is idle.
//!
//! Each store yields to the async runtime at every tick, which is where a timed-out or cancelled
//! call is dropped. See `invoke.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::{self, Thread};

use wasmtime::Engine;

use super::limits::EPOCH_TICK;

/// Ticks the ticker keeps going after the last call ends before it parks. Calls that follow each
/// other closely (an agent's burst, a benchmark at one in flight) then find it running instead of
/// waking it (a futex wake and two context switches per call); an idle server still parks it
/// within 20 ms.
const LINGER_TICKS: u32 = 20;

/// Handle to the ticker thread; calls hold an [`ActiveCall`] while they run.
pub struct EpochTicker {
    running: Arc<AtomicUsize>,
    thread: Thread,
}

impl EpochTicker {
    /// Starts the ticker thread for `engine`. The thread lives as long as the process.
    pub fn start(engine: Engine) -> std::io::Result<Self> {
        let running = Arc::new(AtomicUsize::new(0));
        let seen = running.clone();
        let handle = thread::Builder::new().name("epoch-ticker".into()).spawn(move || {
            let mut idle_ticks = 0;
            loop {
                if seen.load(Ordering::Acquire) == 0 {
                    idle_ticks += 1;
                    if idle_ticks > LINGER_TICKS {
                        thread::park();
                        idle_ticks = 0;
                        continue;
                    }
                } else {
                    idle_ticks = 0;
                }
                thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })?;
        Ok(Self { running, thread: handle.thread().clone() })
    }

    /// Marks a call as running until the returned guard is dropped.
    pub fn active(&self) -> ActiveCall {
        if self.running.fetch_add(1, Ordering::AcqRel) == 0 {
            self.thread.unpark();
        }
        ActiveCall { running: self.running.clone() }
    }
}

/// Keeps the ticker going while alive.
pub struct ActiveCall {
    running: Arc<AtomicUsize>,
}

impl Drop for ActiveCall {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::AcqRel);
    }
}
