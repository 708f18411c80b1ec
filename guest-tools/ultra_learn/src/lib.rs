//! The ULTRA learning tools, registered only in ULTRA mode and loaded on first call:
//!
//! - `ide_agents_ultra_evaluate` (`evaluate.rs`): classification and ranking metrics, as
//!   `sklearn.metrics` defines them;
//! - `ide_agents_ultra_classify` (`classify.rs`): naive Bayes and logistic regression text
//!   classifiers with k-fold cross-validation, as scikit-learn fits them;
//! - `ide_agents_ultra_project` (`project.rs`): PCA of vectors or truncated SVD of texts' TF-IDF
//!   to 2 or 3 components, with an optional SVG scatter plot.
//!
//! All are deterministic: the same input gives the same output, bit for bit.

mod classify;
mod evaluate;
mod project;

use ide_agents_tool::Annotations;

/// The tools only compute: nothing is changed, nothing outside is reached.
const PURE: Annotations = Annotations::new().read_only(true).destructive(false).idempotent(true).open_world(false);

ide_agents_tool::export_tools!(evaluate::Evaluate, classify::Classify, project::Project);
