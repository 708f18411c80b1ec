//! The ULTRA (ML) tools, registered only in ULTRA mode and loaded on first call:
//!
//! - `ide_agents_ultra_rank` (`rank.rs`): rank candidate texts, snippets or workspace files for a
//!   query, BM25 over code-aware tokens with synonym expansion (`textkit::code`) blended with
//!   hashed n-gram similarity; `rank_fixture.rs` (tests only) measures its top-1 hit rate against
//!   plain BM25 on a small code corpus;
//! - `ide_agents_ultra_calibrate` (`calibrate.rs`): fit Platt scaling and isotonic regression on
//!   score/label pairs, apply them, and report Brier score and expected calibration error;
//! - `ide_agents_ultra_duplicates` (`duplicates.rs`): near-duplicate texts or files by MinHash and
//!   LSH banding over token shingles, each candidate pair checked by exact Jaccard;
//! - `ide_agents_ultra_test_select` (`test_select.rs`): rank a workspace's tests by how likely
//!   changed files affect them (reverse import graph, names, contents);
//! - `ide_agents_ultra_context_pack` (`context_pack.rs`): pack the most relevant, least redundant
//!   snippets or files into a token budget (maximal marginal relevance).
//!
//! All are deterministic: the same input gives the same output, bit for bit.

mod calibrate;
mod context_pack;
mod duplicates;
mod rank;
#[cfg(test)]
mod rank_fixture;
mod test_select;

use ide_agents_tool::Annotations;

/// The tools only compute: nothing is changed, nothing outside is reached.
const PURE: Annotations = Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);

ide_agents_tool::export_tools!(
    rank::Rank,
    calibrate::Calibrate,
    duplicates::Duplicates,
    test_select::TestSelect,
    context_pack::ContextPack
);
