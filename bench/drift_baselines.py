"""Baselines of `npm run bench:drift`: Evidently's DataDriftPreset and a plain SciPy/NumPy battery, timed on the
reference and current feature frames that bench/drift.ts wrote (identical data for every tool).

    drift_baselines.py REFERENCE.parquet CURRENT.parquet --numeric hour,distance \
        --categorical weekday,origin,destination [--tools evidently,scipy] [--reps 3] [--warmup 1] [--bins 10] \
        [--psi-epsilon 1e-4]

Timings cover the computation on in-memory pandas/NumPy data only: reading the Parquet files is excluded. Each tool
runs `warmup` times untimed (imports, caches), then `reps` timed repetitions. The last line of stdout is one JSON object:
    {"rows": {...}, "tools": {"evidently": {"seconds": [...], "features": {...}}, "scipy": {...}}, "versions": {...}}
"""

import argparse
import json
import os
import sys
import time

os.environ.setdefault("DO_NOT_TRACK", "1")  # Evidently's usage telemetry: off (and this machine reaches no tracker)

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import scipy
from scipy import stats
from scipy.spatial import distance


def load(path, numeric, categorical):
    table = pq.read_table(path, columns=numeric + categorical)
    df = table.to_pandas()
    for c in numeric:
        df[c] = df[c].astype("float64")
    for c in categorical:
        df[c] = df[c].astype(object)
    return df


# ---------------------------------------------------------------------------------------------- Evidently
def run_evidently(ref, cur, numeric, categorical):
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
    report = Report([DataDriftPreset()])
    snapshot = report.run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(ref, data_definition=definition),
    )
    return snapshot.dict()  # the computed result as a dict (no HTML rendering)


def evidently_features(result):
    features = {}
    dataset = None
    for m in result["metrics"]:
        cfg = m.get("config", {})
        kind = cfg.get("type", "")
        if kind.endswith("ValueDrift"):
            threshold = cfg.get("threshold")
            value = float(m["value"])
            method = cfg.get("method")
            # Evidently's distances drift when value >= threshold; its p-value tests when p < threshold.
            is_distance = "p_value" not in str(method).lower()
            drifted = value >= threshold if is_distance else value < threshold
            features[cfg["column"]] = {"method": method, "statistic": value, "threshold": threshold, "drifted": bool(drifted)}
        elif kind.endswith("DriftedColumnsCount"):
            dataset = {"count": m["value"]["count"], "share": m["value"]["share"], "driftShare": cfg.get("drift_share")}
    return features, dataset


# ---------------------------------------------------------------------------------------------- SciPy / NumPy
MAX_CHI2_NUMERIC_VALUES = 1000


def psi(r, c, eps):
    r = r / r.sum()
    c = c / c.sum()
    r = np.where(r == 0, eps, r)
    c = np.where(c == 0, eps, c)
    return float(np.sum((r - c) * np.log(r / c)))


def numeric_battery(ref, cur, bins, eps):
    ref = ref[~np.isnan(ref)]
    cur = cur[~np.isnan(cur)]
    ks = stats.ks_2samp(ref, cur)
    wd = stats.wasserstein_distance(ref, cur) / max(float(np.std(ref)), 0.001)
    # `bins` quantile bins of the reference, as the engine bins: interior edges np.quantile(ref, i/bins), deduplicated,
    # bins (-inf, e1], (e1, e2], ..., (ek, +inf) (right-closed, so np.searchsorted rather than np.histogram).
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins))
    r_hist = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=len(edges) + 1).astype(float)
    c_hist = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=len(edges) + 1).astype(float)
    out = {
        "ks": {"statistic": float(ks.statistic), "pValue": float(ks.pvalue)},
        "wasserstein": {"statistic": float(wd)},
        "psi": {"statistic": psi(r_hist, c_hist, eps)},
        "jensenshannon": {"statistic": float(distance.jensenshannon(r_hist, c_hist))},
    }
    # Like the engine, chi-squared over distinct values as categories when there are at most 1000 of them.
    r_vals, r_counts = np.unique(ref, return_counts=True)
    c_vals, c_counts = np.unique(cur, return_counts=True)
    union = np.union1d(r_vals, c_vals)
    if len(union) <= MAX_CHI2_NUMERIC_VALUES:
        table = np.zeros((2, len(union)))
        table[0, np.searchsorted(union, r_vals)] = r_counts
        table[1, np.searchsorted(union, c_vals)] = c_counts
        chi = stats.chi2_contingency(table)
        out["chisquare"] = {"statistic": float(chi.statistic), "pValue": float(chi.pvalue)}
    return out


def categorical_battery(ref, cur, eps):
    r_counts = ref.value_counts()
    c_counts = cur.value_counts()
    keys = r_counts.index.union(c_counts.index)
    r = r_counts.reindex(keys, fill_value=0).to_numpy(dtype=float)
    c = c_counts.reindex(keys, fill_value=0).to_numpy(dtype=float)
    chi = stats.chi2_contingency(np.vstack([r, c]))
    return {
        "chisquare": {"statistic": float(chi.statistic), "pValue": float(chi.pvalue)},
        "jensenshannon": {"statistic": float(distance.jensenshannon(r, c))},
        "psi": {"statistic": psi(r, c, eps)},
    }


def run_scipy(ref, cur, numeric, categorical, bins, eps):
    out = {}
    for name in numeric:
        out[name] = numeric_battery(ref[name].to_numpy(), cur[name].to_numpy(), bins, eps)
    for name in categorical:
        out[name] = categorical_battery(ref[name], cur[name], eps)
    return out


def finite(x):
    """NaN and infinities as null: the output is strict JSON."""
    if isinstance(x, float):
        return x if np.isfinite(x) else None
    if isinstance(x, dict):
        return {k: finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [finite(v) for v in x]
    return x


def timed(fn, reps, warmup):
    for _ in range(warmup):
        fn()
    seconds = []
    result = None
    for _ in range(reps):
        t = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - t)
    return seconds, result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("reference")
    p.add_argument("current")
    p.add_argument("--numeric", required=True)
    p.add_argument("--categorical", required=True)
    p.add_argument("--tools", default="evidently,scipy")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--bins", type=int, default=10)
    p.add_argument("--psi-epsilon", type=float, default=1e-4)
    a = p.parse_args()
    numeric = [c for c in a.numeric.split(",") if c]
    categorical = [c for c in a.categorical.split(",") if c]
    ref = load(a.reference, numeric, categorical)
    cur = load(a.current, numeric, categorical)

    tools = {}
    for tool in [t for t in a.tools.split(",") if t]:
        print(f"[baselines] {tool}: {a.warmup} warm-up + {a.reps} timed runs", file=sys.stderr, flush=True)
        try:
            if tool == "evidently":
                seconds, result = timed(lambda: run_evidently(ref, cur, numeric, categorical), a.reps, a.warmup)
                features, dataset = evidently_features(result)
                tools[tool] = {"seconds": seconds, "features": features, "dataset": dataset}
            elif tool == "scipy":
                seconds, result = timed(lambda: run_scipy(ref, cur, numeric, categorical, a.bins, a.psi_epsilon), a.reps, a.warmup)
                tools[tool] = {"seconds": seconds, "features": result}
            else:
                raise ValueError(f"unknown tool {tool}")
        except Exception as err:  # reported, not hidden: the TS side prints it
            tools[tool] = {"error": f"{type(err).__name__}: {err}"}

    import evidently

    versions = {"python": sys.version.split()[0], "evidently": evidently.__version__, "pandas": pd.__version__, "numpy": np.__version__, "scipy": scipy.__version__}
    result = {"rows": {"reference": len(ref), "current": len(cur)}, "tools": tools, "versions": versions}
    print(json.dumps(finite(result)))


if __name__ == "__main__":
    main()
