//! Logging from a tool (the WIT `log` interface): records go to the server's stderr log, tagged
//! with the tool, and to the client at or above the level it chose. Use the macros
//! [`debug!`](crate::debug), [`info!`](crate::info), [`warn!`](crate::warn) and
//! [`error!`](crate::error), which take `format!` arguments; [`log`] takes any [`Level`].

pub use crate::bindings::ide_agents::tool::log::{Level, log};

/// Logs a `format!` message at `debug` level.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Debug, &::std::format!($($arg)+)) };
}

/// Logs a `format!` message at `info` level.
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Info, &::std::format!($($arg)+)) };
}

/// Logs a `format!` message at `warning` level.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Warning, &::std::format!($($arg)+)) };
}

/// Logs a `format!` message at `error` level.
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => { $crate::log::log($crate::log::Level::Error, &::std::format!($($arg)+)) };
}
