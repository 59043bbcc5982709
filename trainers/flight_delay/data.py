"""Training and scoring data: Parquet columns read and checked against the config, then encoded as arrays
(pyarrow and numpy only, no torch). Categories index a vocabulary built on the training split (0: unseen or
missing); numbers are standardised with the training split's mean and deviation (missing: the mean)."""

from __future__ import annotations

import hashlib
import logging
import os
from typing import Dict, List, Optional, Tuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from ct_trainer import data_error

log = logging.getLogger("trainer")

Features = List[Dict[str, str]]
Vocabularies = Dict[str, List[str]]
NumericStats = Dict[str, Dict[str, float]]


def read_parquet(path: str, columns: List[str], split: str) -> pa.Table:
    if not os.path.exists(path):
        raise data_error(f"{split} data file not found: {path}")
    try:
        schema = pq.read_schema(path) if os.path.isfile(path) else pq.ParquetDataset(path).schema
    except (OSError, pa.ArrowException) as exc:
        raise data_error(f"cannot read {split} parquet {path}: {exc}")
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise data_error(
            f"{split} data {path} is missing column(s): {', '.join(missing)} "
            f"(has: {', '.join(schema.names)})")
    try:
        return pq.read_table(path, columns=columns)
    except (OSError, pa.ArrowException) as exc:
        raise data_error(f"cannot read {split} parquet {path}: {exc}")


def numeric_column(table: pa.Table, name: str, split: str) -> np.ndarray:
    """Returns float64 numpy values; missing / non-finite values become NaN."""
    col = table.column(name)
    t = col.type
    if pa.types.is_dictionary(t):
        t = t.value_type
        col = pc.cast(col, t)
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            or pa.types.is_decimal(t)):
        raise data_error(
            f"feature '{name}' is declared numeric but the {split} column has type {t}")
    values = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False).astype(np.float64)
    values[~np.isfinite(values)] = np.nan
    return values


def categorical_strings(table: pa.Table, name: str) -> pa.ChunkedArray:
    """Returns the column as a pyarrow string ChunkedArray (values treated as strings)."""
    col = table.column(name)
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
        try:
            col = pc.cast(col, pa.string())
        except pa.ArrowException as exc:
            raise data_error(
                f"categorical feature '{name}' (type {col.type}) cannot be read as strings: {exc}")
    return pc.cast(col, pa.string())


def build_vocabulary(col: pa.ChunkedArray) -> List[str]:
    return sorted(v for v in pc.unique(col).to_pylist() if v is not None)


def encode_categorical(col: pa.ChunkedArray, vocab: List[str]) -> np.ndarray:
    """Index 0 is reserved for unseen/missing values; vocab[i] maps to i + 1."""
    idx = pc.index_in(col, value_set=pa.array(vocab, type=pa.string()))
    idx = pc.fill_null(pc.add(idx, 1), 0)
    return idx.to_numpy(zero_copy_only=False).astype(np.int64)


def label_column(table: pa.Table, name: str, split: str) -> np.ndarray:
    col = table.column(name)
    t = col.type
    if not (pa.types.is_integer(t) or pa.types.is_boolean(t) or pa.types.is_floating(t)):
        raise data_error(f"label column '{name}' in {split} data must be 0/1 integers, got type {t}")
    if col.null_count:
        raise data_error(f"label column '{name}' in {split} data has {col.null_count} missing value(s)")
    values = col.to_numpy().astype(np.float64)
    bad = values[(values != 0) & (values != 1)]
    if bad.size:
        raise data_error(
            f"label column '{name}' in {split} data must be binary 0/1; found value {bad[0].item():g}")
    return values.astype(np.float32)


class RawSplit:
    """One split's columns, checked but not yet encoded."""

    def __init__(self, table: pa.Table, features: Features, label: Optional[str], split: str):
        self.rows = table.num_rows
        self.numeric = {f["name"]: numeric_column(table, f["name"], split)
                        for f in features if f["type"] == "numeric"}
        self.categorical = {f["name"]: categorical_strings(table, f["name"])
                            for f in features if f["type"] == "categorical"}
        self.labels = label_column(table, label, split) if label is not None else None


def load_split(path: str, features: Features, label: Optional[str], split: str) -> RawSplit:
    cols = [f["name"] for f in features] + ([label] if label is not None else [])
    return RawSplit(read_parquet(path, cols, split), features, label, split)


def compute_preprocessing(train: RawSplit, features: Features) -> Tuple[Vocabularies, NumericStats]:
    vocabs, stats = {}, {}
    for f in features:
        name = f["name"]
        if f["type"] == "categorical":
            vocabs[name] = build_vocabulary(train.categorical[name])
        else:
            v = train.numeric[name]
            finite = v[~np.isnan(v)]
            mean = float(finite.mean()) if finite.size else 0.0
            std = float(finite.std()) if finite.size else 1.0
            if not std > 1e-12:
                std = 1.0
            stats[name] = {"mean": mean, "std": std}
    return vocabs, stats


def encode_split(raw: RawSplit, features: Features, vocabs: Vocabularies,
                 stats: NumericStats) -> Tuple[np.ndarray, np.ndarray]:
    """Returns (numeric float32 [N, F], categorical int64 [N, C]) numpy arrays."""
    num_cols, cat_cols = [], []
    for f in features:
        name = f["name"]
        if f["type"] == "numeric":
            s = stats[name]
            v = (raw.numeric[name] - s["mean"]) / s["std"]
            v[np.isnan(v)] = 0.0  # missing -> training mean
            num_cols.append(v.astype(np.float32))
        else:
            cat_cols.append(encode_categorical(raw.categorical[name], vocabs[name]))
    n = raw.rows
    x_num = np.stack(num_cols, axis=1) if num_cols else np.zeros((n, 0), np.float32)
    x_cat = np.stack(cat_cols, axis=1) if cat_cols else np.zeros((n, 0), np.int64)
    return np.ascontiguousarray(x_num), np.ascontiguousarray(x_cat)


def data_fingerprint(x_num: np.ndarray, x_cat: np.ndarray, y: np.ndarray) -> str:
    """Identifies the encoded training data, so a checkpoint never resumes on different rows."""
    h = hashlib.blake2b(digest_size=16)
    for a in (x_num, x_cat, y):
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def load_training_splits(train_path: str, validation_path: str, features: Features,
                         label: str) -> Tuple[RawSplit, RawSplit]:
    log.info("loading data: train=%s validation=%s", train_path, validation_path)
    train = load_split(train_path, features, label, "train")
    if train.rows == 0:
        raise data_error(f"training data {train_path} has no rows")
    return train, load_split(validation_path, features, label, "validation")
