"""Reference numerics for the `ultra_learn` tools: one JSON object on stdin, its "tool" key naming
which; one JSON object on stdout, its keys named after the tool's output fields.

- "evaluate": sklearn.metrics: accuracy_score, precision_recall_fscore_support (average None,
  "binary" with pos_label, "macro", "micro", "weighted"), confusion_matrix (sorted labels),
  roc_auc_score, average_precision_score, log_loss, brier_score_loss of the 0/1 target
  `label == pos_label`; per query ndcg_score([relevance], [scores], k) (ties averaged), and MRR
  and recall@k written out in numpy (items by score, a stable sort: ties keep the input order).
- "classify": Pipeline(CountVectorizer(), MultinomialNB(alpha)) and
  Pipeline(TfidfVectorizer(), LogisticRegression(C, tol=1e-10, max_iter=10000)): predict_proba
  and predict on `predict`, cross_val_score(pipeline, texts, labels, cv=KFold(folds)).
- "project": PCA(n_components, svd_solver="full") of `vectors`, or
  TruncatedSVD(n_components, algorithm="arpack") of TfidfVectorizer().fit_transform(`texts`):
  coordinates (fit_transform), components_, explained_variance_, explained_variance_ratio_.
"""
import json
import sys
import warnings

import numpy as np
from sklearn import metrics
from sklearn.decomposition import PCA, TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import make_pipeline

warnings.simplefilter("ignore")


def evaluate(d):
    out = {}
    y = d.get("labels")
    if d.get("predictions") is not None:
        p = d["predictions"]
        classes = sorted(set(y) | set(p))
        out["accuracy"] = metrics.accuracy_score(y, p)
        for avg in ["macro", "micro", "weighted"]:
            out[avg] = list(metrics.precision_recall_fscore_support(y, p, average=avg)[:3])
        if len(classes) == 2:
            pos = d.get("pos_label", classes[1])
            out["binary"] = list(metrics.precision_recall_fscore_support(y, p, average="binary", pos_label=pos)[:3])
        prf = metrics.precision_recall_fscore_support(y, p, labels=classes)
        out["per_class"] = [list(map(float, row)) for row in zip(*prf)]
        out["confusion_matrix"] = metrics.confusion_matrix(y, p, labels=classes).tolist()
        out["classes"] = classes
    if d.get("scores") is not None:
        pos = d.get("pos_label", sorted(set(y))[1])
        t = (np.asarray(y) == pos).astype(int)
        s = np.asarray(d["scores"], dtype=float)
        out["roc_auc"] = metrics.roc_auc_score(t, s)
        out["average_precision"] = metrics.average_precision_score(t, s)
        out["log_loss"] = metrics.log_loss(t, s)
        out["brier"] = metrics.brier_score_loss(t, s)
    if d.get("queries") is not None:
        k = d.get("k")
        ndcg, rr, rec = [], [], []
        for q in d["queries"]:
            rel = np.asarray(q["relevance"], dtype=float)
            s = np.asarray(q["scores"], dtype=float) if q.get("scores") is not None else -np.arange(len(rel), dtype=float)
            ndcg.append(metrics.ndcg_score([rel], [s], k=k))
            order = np.argsort(-s, kind="stable")
            hits = rel[order] > 0
            rr.append(1.0 / (np.argmax(hits) + 1) if hits.any() else 0.0)
            cut = len(rel) if k is None else k
            rec.append(hits[:cut].sum() / hits.sum() if hits.any() else 0.0)
        out.update(ndcg=ndcg, reciprocal_rank=rr, recall_at_k=rec, mean=[np.mean(ndcg), np.mean(rr), np.mean(rec)])
    return out


def classify(d):
    models = d.get("model", ["naive_bayes", "logistic"])
    models = [models] if isinstance(models, str) else models
    out = {}
    for name in models:
        if name == "naive_bayes":
            make = lambda: make_pipeline(CountVectorizer(), MultinomialNB(alpha=d.get("alpha", 1.0)))
        else:
            make = lambda: make_pipeline(
                TfidfVectorizer(), LogisticRegression(C=d.get("C", 1.0), tol=1e-10, max_iter=10000)
            )
        model = make().fit(d["texts"], d["labels"])
        cv = cross_val_score(make(), d["texts"], d["labels"], cv=KFold(d.get("folds", 5)))
        out[name] = {
            "classes": model.classes_.tolist(),
            "probabilities": model.predict_proba(d["predict"]).tolist(),
            "predictions": model.predict(d["predict"]).tolist(),
            "cv_accuracy": cv.tolist(),
        }
    return out


def project(d):
    k = d.get("n_components", 2)
    if d.get("vectors") is not None:
        model = PCA(n_components=k, svd_solver="full")
        x = np.asarray(d["vectors"], dtype=float)
    else:
        model = TruncatedSVD(n_components=k, algorithm="arpack")
        x = TfidfVectorizer().fit_transform(d["texts"])
    coordinates = model.fit_transform(x)
    return {
        "coordinates": coordinates.tolist(),
        "components": model.components_.tolist(),
        "explained_variance": model.explained_variance_.tolist(),
        "explained_variance_ratio": model.explained_variance_ratio_.tolist(),
    }


def default(v):
    return v.item() if isinstance(v, np.generic) else str(v)


data = json.load(sys.stdin)
json.dump({"evaluate": evaluate, "classify": classify, "project": project}[data.pop("tool")](data), sys.stdout, default=default)
