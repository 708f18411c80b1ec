"""Reference numerics for the ULTRA ops tools (`guest-tools/ultra_ops`): one JSON object on
stdin, its "tool" key naming what to compute, one JSON object on stdout.

- "anomalies" (`ide_agents_ultra_anomalies`): robust z-scores 0.6745 * (x - median) / MAD with
  numpy's median (MeanAD fallback (x - median) / (1.253314 * MeanAD) when MAD = 0, zeros when
  that is 0 too), IQR fences from numpy's default (linear) percentile and the distance outside
  them, and `ruptures.Pelt(model="l2", min_size, jump).fit(x).predict(pen=penalty)`.
- "forecast" (`ide_agents_ultra_forecast`): statsmodels' Holt with initialization_method="known",
  initial_level=y[0], initial_trend=y[1] - y[0] (our initialization): fitted values and forecast
  for the given alpha/beta (`fit(smoothing_level, smoothing_trend, optimized=False)`) and the SSE
  of `fit()` with the absent ones fitted; the linear trend's OLS prediction intervals
  (`OLS(...).get_prediction(...).summary_frame(alpha=0.05)`, obs_ci_lower/upper).
- "log_patterns" (`ide_agents_ultra_log_patterns`): drain3's `TemplateMiner` (no persistence) with
  the same depth, sim_th, max_children, extra_delimiters and masking instructions, every line
  added; the templates with their counts, sorted, and each line's final template.
"""
import json
import sys

import numpy as np


def anomalies(q):
    x = np.array(q["series"], dtype=float)
    med = np.median(x)
    dev = np.abs(x - med)
    mad = np.median(dev)
    mean_ad = np.mean(dev)
    if mad > 0:
        z = 0.6745 * (x - med) / mad
    elif mean_ad > 0:
        z = (x - med) / (1.253314 * mean_ad)
    else:
        z = np.zeros_like(x)
    q1, q3 = np.percentile(x, 25), np.percentile(x, 75)
    k = q.get("iqr_k", 1.5)
    lo, hi = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    excess = np.maximum(np.maximum(lo - x, x - hi), 0.0)
    import ruptures

    algo = ruptures.Pelt(model="l2", min_size=q.get("min_size", 2), jump=q.get("jump", 1)).fit(x)
    return {
        "median": med,
        "mad": mad,
        "z": z.tolist(),
        "z_flagged": np.flatnonzero(np.abs(z) > q.get("threshold", 3.5)).tolist(),
        "q1": q1,
        "q3": q3,
        "iqr_scores": excess.tolist(),
        "iqr_flagged": np.flatnonzero((x < lo) | (x > hi)).tolist(),
        "change_points": [int(b) for b in algo.predict(pen=q["penalty"])],
    }


def forecast(q):
    import statsmodels.api as sm
    from statsmodels.tsa.holtwinters import Holt

    y = np.array(q["series"], dtype=float)
    h = q["horizon"]
    out = {}
    model = Holt(y, initialization_method="known", initial_level=y[0], initial_trend=y[1] - y[0])
    alpha, beta = q.get("alpha"), q.get("beta")
    if alpha is not None and beta is not None:
        res = model.fit(smoothing_level=alpha, smoothing_trend=beta, optimized=False)
        out["holt_fitted"] = res.fittedvalues.tolist()
        out["holt_forecast"] = res.forecast(h).tolist()
        out["holt_sse"] = float(res.sse)
    else:
        res = model.fit(smoothing_level=alpha, smoothing_trend=beta)
        out["holt_fit_sse"] = float(res.sse)
        out["holt_fit_params"] = [res.params["smoothing_level"], res.params["smoothing_trend"]]
    t = np.arange(len(y), dtype=float)
    ols = sm.OLS(y, sm.add_constant(t)).fit()
    future = np.arange(len(y), len(y) + h, dtype=float)
    frame = ols.get_prediction(sm.add_constant(future, has_constant="add")).summary_frame(alpha=0.05)
    out["linear_forecast"] = frame["mean"].tolist()
    out["linear_lower"] = frame["obs_ci_lower"].tolist()
    out["linear_upper"] = frame["obs_ci_upper"].tolist()
    return out


def log_patterns(q):
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.drain_depth = q.get("depth", 4)
    config.drain_sim_th = q.get("similarity_threshold", 0.4)
    config.drain_max_children = q.get("max_children", 100)
    config.drain_extra_delimiters = q.get("extra_delimiters", [])
    config.masking_instructions = [MaskingInstruction(m["regex_pattern"], m["mask_with"]) for m in q["masking"]]
    miner = TemplateMiner(config=config)
    ids = [miner.add_log_message(line)["cluster_id"] for line in q["lines"]]
    by_id = {c.cluster_id: c for c in miner.drain.clusters}
    return {
        "templates": sorted([c.get_template(), c.size] for c in by_id.values()),
        "line_templates": [by_id[i].get_template() for i in ids],
    }


def main():
    query = json.load(sys.stdin)
    tool = {"anomalies": anomalies, "forecast": forecast, "log_patterns": log_patterns}[query["tool"]]
    json.dump(tool(query), sys.stdout, default=float)


if __name__ == "__main__":
    main()
