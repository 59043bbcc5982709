"""Validation metrics in numpy (the same numbers for every device)."""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))


def bce_from_logits(logits: np.ndarray, y: np.ndarray) -> Optional[float]:
    if len(y) == 0:
        return None
    z = logits.astype(np.float64)
    yy = y.astype(np.float64)
    losses = np.maximum(z, 0) - z * yy + np.log1p(np.exp(-np.abs(z)))
    return float(losses.mean())


def roc_auc(y: np.ndarray, scores: np.ndarray) -> Optional[float]:
    """Mann-Whitney AUC with average ranks for ties; None if only one class."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    new_group = np.r_[True, s_sorted[1:] != s_sorted[:-1]]
    starts = np.flatnonzero(new_group)
    ends = np.r_[starts[1:], len(s)]
    avg_rank = (starts + ends + 1) / 2.0  # 1-based average rank of each tie group
    ranks = np.empty(len(s), dtype=np.float64)
    ranks[order] = avg_rank[np.cumsum(new_group) - 1]
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def validation_metrics(logits: np.ndarray, y: np.ndarray) -> Dict[str, Optional[float]]:
    """None where a value cannot be computed (empty split, single class)."""
    return {"loss": bce_from_logits(logits, y), "auc": roc_auc(y, sigmoid(logits)), "rows": int(len(y))}
