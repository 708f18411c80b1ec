"""Reference numerics for the ULTRA tools, read from stdin as JSON, written to stdout as JSON.

- Platt scaling and isotonic regression from scikit-learn (the private `_sigmoid_calibration`
  is what `CalibratedClassifierCV(method="sigmoid")` fits; `IsotonicRegression(out_of_bounds="clip")`
  is what `method="isotonic"` fits), applied to `apply_to`, plus `brier_score_loss`.
- BM25, written out plainly: Okapi BM25 with idf = ln(1 + (N - df + 0.5) / (df + 0.5)), each query
  token counted (repeats too), tokens = lowercased runs of letters and digits.
"""
import json
import math
import re
import sys

import numpy as np
from scipy.special import expit
from sklearn.calibration import _sigmoid_calibration
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import brier_score_loss


def tokenize(text):
    return [t.lower() for t in re.findall(r"[^\W_]+", text)]


def bm25(query, docs, k1, b):
    docs = [tokenize(d) for d in docs]
    n = len(docs)
    avg = sum(len(d) for d in docs) / n
    scores = []
    for d in docs:
        score = 0.0
        for term in tokenize(query):
            tf = d.count(term)
            if tf == 0:
                continue
            df = sum(1 for other in docs if term in other)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avg))
        scores.append(score)
    return scores


def main():
    data = json.load(sys.stdin)
    scores = np.asarray(data["scores"], dtype=float)
    labels = np.asarray(data["labels"], dtype=float)
    apply_to = np.asarray(data["apply_to"], dtype=float)
    a, b = _sigmoid_calibration(scores, labels)
    iso = IsotonicRegression(out_of_bounds="clip").fit(scores, labels)
    out = {
        "platt_a": float(a),
        "platt_b": float(b),
        "platt": expit(-(a * apply_to + b)).tolist(),
        "isotonic": iso.predict(apply_to).tolist(),
        "brier_platt": float(brier_score_loss(labels, expit(-(a * scores + b)))),
        "brier_isotonic": float(brier_score_loss(labels, iso.predict(scores))),
        "bm25": bm25(data["query"], data["docs"], 1.2, 0.75),
    }
    json.dump(out, sys.stdout)


main()
