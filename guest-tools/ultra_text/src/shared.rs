//! What the text tools share: reading a workspace file, checking an n-gram range, and PageRank
//! over a weighted undirected graph as networkx computes it.

use ide_agents_tool::{Error, workspace};

/// Largest file read (bytes).
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Longest word n-gram.
pub const MAX_NGRAM: usize = 5;
/// PageRank damping factor.
pub const DAMPING: f64 = 0.85;
/// PageRank stops when the L1 change of an iteration is below `nodes * PAGERANK_TOLERANCE`
/// (networkx's test with `tol=1e-12`).
pub const PAGERANK_TOLERANCE: f64 = 1e-12;
/// PageRank iteration bound (it converges in far fewer).
pub const PAGERANK_MAX_ITERATIONS: usize = 10_000;

/// The text of `path` under `root` (invalid UTF-8 replaced); errors name `pointer`.
pub fn read_text(root: &str, path: &str, pointer: &str) -> Result<String, Error> {
    let bytes = workspace::read_file(root, path, Some(MAX_FILE_BYTES))
        .map_err(|e| Error::invalid(pointer, format!("cannot read {path:?} in root {root:?}: {e:?}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// `[min, max]` as a pair, refused unless `1 <= min <= max <= MAX_NGRAM`.
pub fn ngram_range(range: [usize; 2]) -> Result<(usize, usize), Error> {
    let [min, max] = range;
    if min == 0 || min > max || max > MAX_NGRAM {
        return Err(Error::invalid("/ngram_range", format!("[{min}, {max}]: need 1 <= min <= max <= {MAX_NGRAM}")));
    }
    Ok((min, max))
}

/// PageRank of the `n` nodes of an undirected graph given by its edges `(a, b, weight)` (each
/// pair once, weights > 0), as `networkx.pagerank(G, alpha=DAMPING, weight="weight",
/// tol=PAGERANK_TOLERANCE)`: start uniform; each step moves `DAMPING` of every node's score to
/// its neighbours in proportion to the edge weights (a node without edges spreads it over all
/// nodes) and gives every node `(1 - DAMPING) / n`. Returns the scores (summing to 1) and the
/// iterations run.
pub fn pagerank(n: usize, edges: &[(usize, usize, f64)]) -> (Vec<f64>, usize) {
    let mut neighbours: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
    for &(a, b, w) in edges {
        neighbours[a].push((b, w));
        neighbours[b].push((a, w));
    }
    let strength: Vec<f64> = neighbours.iter().map(|ns| ns.iter().map(|(_, w)| w).sum()).collect();
    let uniform = 1.0 / n as f64;
    let mut x = vec![uniform; n];
    let mut iterations = 0;
    while iterations < PAGERANK_MAX_ITERATIONS {
        iterations += 1;
        let dangling: f64 = (0..n).filter(|&i| strength[i] == 0.0).map(|i| x[i]).sum();
        let mut next = vec![DAMPING * dangling * uniform + (1.0 - DAMPING) * uniform; n];
        for (i, ns) in neighbours.iter().enumerate() {
            for &(j, w) in ns {
                next[j] += DAMPING * x[i] * w / strength[i];
            }
        }
        let change: f64 = next.iter().zip(&x).map(|(a, b)| (a - b).abs()).sum();
        x = next;
        if change < n as f64 * PAGERANK_TOLERANCE {
            break;
        }
    }
    (x, iterations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pagerank_of_a_star_and_an_isolated_node() {
        // Node 3 is isolated (dangling); the star's centre ranks highest, the leaves tie.
        let (x, _) = pagerank(4, &[(0, 1, 1.0), (0, 2, 1.0)]);
        assert!((x.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(x[0] > x[1] && (x[1] - x[2]).abs() < 1e-15 && x[3] < x[1]);
        assert_eq!(pagerank(1, &[]).0, [1.0]);
        assert!(ngram_range([2, 1]).is_err() && ngram_range([0, 1]).is_err());
        assert_eq!(ngram_range([1, 2]).unwrap(), (1, 2));
    }
}
