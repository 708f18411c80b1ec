//! The ULTRA text tools, registered only in ULTRA mode:
//!
//! - `ide_agents_ultra_keywords` (`keywords.rs`): TF-IDF keywords (as scikit-learn's
//!   `TfidfVectorizer`) and TextRank key phrases of each document against a corpus;
//! - `ide_agents_ultra_summarize` (`summarize.rs`): extractive summary, sentences ranked by
//!   PageRank over their TF-IDF cosine-similarity graph;
//! - `ide_agents_ultra_cluster` (`cluster.rs`): k-means (Lloyd) over TF-IDF vectors of texts or
//!   over numeric vectors, with the silhouette.
//!
//! `shared.rs` holds file reading and PageRank. All deterministic: the same input gives the same
//! output, bit for bit.

mod cluster;
mod keywords;
mod shared;
mod summarize;

use ide_agents_tool::Annotations;

/// The tools only compute (and read granted files): nothing is changed, nothing outside is reached.
const PURE: Annotations = Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);

ide_agents_tool::export_tools!(keywords::Keywords, summarize::Summarize, cluster::Cluster);

#[cfg(test)]
mod tests {
    #[test]
    fn schemas_state_the_alternatives_and_limits() {
        let keywords = ide_agents_tool::descriptor::<crate::keywords::Keywords>();
        assert!(keywords.input_schema.contains(r#""oneOf""#) && keywords.input_schema.contains("ngram_range"));
        let summarize = ide_agents_tool::descriptor::<crate::summarize::Summarize>();
        assert!(summarize.output_schema.unwrap().contains("all_sentences"));
        let cluster = ide_agents_tool::descriptor::<crate::cluster::Cluster>();
        assert!(cluster.input_schema.contains(r#""maxItems":5000"#), "{}", cluster.input_schema);
    }
}
