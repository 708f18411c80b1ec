//! The ULTRA (ML) tools, registered only in ULTRA mode and loaded on first call:
//!
//! - `ide_agents_ultra_rank` (`rank.rs`): rank candidate texts, snippets or workspace files for a
//!   query, BM25 blended with hashed n-gram similarity;
//! - `ide_agents_ultra_calibrate` (`calibrate.rs`): fit Platt scaling and isotonic regression on
//!   score/label pairs, apply them, and report Brier score and expected calibration error.
//!
//! Both are deterministic: the same input gives the same output, bit for bit.

mod calibrate;
mod rank;

use ide_agents_tool::Annotations;

/// Both tools only compute: nothing is changed, nothing outside is reached.
const PURE: Annotations = Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);

ide_agents_tool::export_tools!(rank::Rank, calibrate::Calibrate);
