"""Reference values for the ULTRA text tools (`guest-tools/ultra_text`), from scikit-learn and
networkx. Reads one JSON object from stdin; its "tool" key picks what is computed:

- "keywords" (`texts`, `ngram_range`, `top_k`): TfidfVectorizer(ngram_range=...) with defaults;
  per document `terms`/`weights` = its top_k non-zero terms by weight (ties by term, ascending),
  and `weight_of` = every non-zero term's weight (to look up the terms we report);
- "summarize" (`sentences`: our split): TfidfVectorizer() over the sentences, cosine_similarity,
  an nx.Graph with an edge (weight = similarity) wherever it is > 0, and
  nx.pagerank(alpha=0.85, weight="weight", tol=1e-12, max_iter=10000): `scores` by sentence;
- "cluster" (`texts` or `vectors`, `k`, `init`): KMeans(n_clusters=k, init=X[init], n_init=1,
  algorithm="lloyd", tol=0, max_iter=300) on the dense TfidfVectorizer() matrix or the vectors:
  `labels`, `inertia`, `n_iter`, and `silhouette` = silhouette_score(X, labels).
"""

import json
import sys

import networkx as nx
import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.metrics.pairwise import cosine_similarity

inp = json.load(sys.stdin)
tool = inp["tool"]

if tool == "keywords":
    vectorizer = TfidfVectorizer(ngram_range=tuple(inp.get("ngram_range", [1, 1])))
    matrix = vectorizer.fit_transform(inp["texts"]).tocsr()
    terms = vectorizer.get_feature_names_out()
    documents = []
    for i in range(matrix.shape[0]):
        row = matrix.getrow(i)
        pairs = sorted(((float(w), str(terms[j])) for j, w in zip(row.indices, row.data)), key=lambda p: (-p[0], p[1]))
        top = pairs[: inp["top_k"]]
        documents.append({
            "terms": [t for _, t in top],
            "weights": [w for w, _ in top],
            "weight_of": {t: w for w, t in pairs},
        })
    out = {"documents": documents, "vocabulary_size": len(terms)}
elif tool == "summarize":
    sentences = inp["sentences"]
    similarity = cosine_similarity(TfidfVectorizer().fit_transform(sentences))
    graph = nx.Graph()
    graph.add_nodes_from(range(len(sentences)))
    for i in range(len(sentences)):
        for j in range(i + 1, len(sentences)):
            if similarity[i, j] > 0:
                graph.add_edge(i, j, weight=float(similarity[i, j]))
    ranks = nx.pagerank(graph, alpha=0.85, weight="weight", tol=1e-12, max_iter=10000)
    out = {"scores": [ranks[i] for i in range(len(sentences))]}
elif tool == "cluster":
    if "texts" in inp:
        X = TfidfVectorizer().fit_transform(inp["texts"]).toarray()
    else:
        X = np.array(inp["vectors"], dtype=float)
    init = X[inp["init"]]
    kmeans = KMeans(n_clusters=inp["k"], init=init, n_init=1, algorithm="lloyd", tol=0, max_iter=300).fit(X)
    labels = kmeans.labels_
    distinct = len(set(labels.tolist()))
    out = {
        "labels": labels.tolist(),
        "inertia": float(kmeans.inertia_),
        "n_iter": int(kmeans.n_iter_),
        "silhouette": float(silhouette_score(X, labels)) if 2 <= distinct <= len(X) - 1 else None,
    }
else:
    raise SystemExit(f"unknown tool {tool!r}")

json.dump(out, sys.stdout)
