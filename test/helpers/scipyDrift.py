"""SciPy reference values for the drift engine's unit tests.

Reads {"cases": [...]} as JSON on stdin, writes {"results": [...]} (same order) on stdout. Samples arrive as
distinct values with counts and are expanded with np.repeat. Run with the tools venv (scipy, numpy).
"""
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance


def sample(values, counts):
    return np.repeat(np.asarray(values, dtype=float), np.asarray(counts, dtype=np.int64))


def run(case):
    kind = case["kind"]
    if kind in ("ks", "wasserstein"):
        a = sample(case["aValues"], case["aCounts"])
        b = sample(case["bValues"], case["bCounts"])
        if kind == "ks":
            r = stats.ks_2samp(a, b)
            return [float(r.statistic), float(r.pvalue)]
        return [float(stats.wasserstein_distance(a, b)), float(np.std(a))]
    if kind == "js":
        return [float(distance.jensenshannon(np.asarray(case["p"], dtype=float), np.asarray(case["q"], dtype=float)))]
    if kind == "chi2":
        r = stats.chi2_contingency(np.array([case["ref"], case["cur"]], dtype=float))
        return [float(r.statistic), float(r.pvalue), int(r.dof)]
    if kind == "kstwo":
        return [float(stats.kstwo.sf(case["x"], case["n"]))]
    if kind == "chi2sf":
        return [float(stats.chi2.sf(case["x"], case["dof"]))]
    if kind == "norm2":
        return [float(2 * stats.norm.sf(abs(case["z"])))]
    raise ValueError(f"unknown case kind {kind}")


def main():
    cases = json.load(sys.stdin)["cases"]
    json.dump({"results": [run(c) for c in cases]}, sys.stdout)


if __name__ == "__main__":
    main()
