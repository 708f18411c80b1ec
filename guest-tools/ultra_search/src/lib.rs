//! The ULTRA workspace search, `ide_agents_ultra_search` (`search.rs`): BM25 over chunks of the
//! workspace's text files blended with hashed n-gram similarity, through an index kept in the
//! tool's storage between calls and server restarts and updated by re-reading only changed
//! files. `index.rs` builds and edits the index; `format.rs` is its stored binary form, which
//! answers queries in place.

mod format;
mod index;
mod search;

ide_agents_tool::export_tools!(search::Search);
