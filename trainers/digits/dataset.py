#!/usr/bin/env python3
"""Writes the digits example's data, scikit-learn's bundled 8×8 digits (nothing is downloaded), as two monthly windows:

    python3 trainers/digits/dataset.py --out DIR

DIR/2026-01.parquet holds 1,200 clean images; DIR/2026-02.parquet the other 597, drifted as a worn sensor would:
lower contrast, a raised background and a little noise, still in 0..16. A model trained on January alone loses
clearly on February; one trained on both months recovers. Columns: capturedAt (timestamp[ms], increasing over the
month), p00..p63 (int32 0..16, the pixels in row-major order) and label (int32 0..9). Prints a one-line JSON summary.
"""

import argparse
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.datasets import load_digits

SEED = 0
JANUARY_ROWS = 1200
# February's drift: pixel' = round(CONTRAST * pixel + BACKGROUND + N(0, NOISE)), clipped to 0..16.
CONTRAST, BACKGROUND, NOISE = 0.45, 6.0, 1.0
WINDOWS = (("2026-01", "2026-02-01"), ("2026-02", "2026-03-01"))  # (name and first day, first day of the next)


def drift(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    shifted = CONTRAST * pixels + BACKGROUND + rng.normal(0.0, NOISE, pixels.shape)
    return np.clip(np.rint(shifted), 0, 16).astype(np.int32)


def window_table(pixels: np.ndarray, labels: np.ndarray, start: str, end: str) -> pa.Table:
    """The rows with capture times spread evenly over [start, end), increasing in row order."""
    first, stop = np.datetime64(start, "ms"), np.datetime64(end, "ms")
    step = (stop - first) / len(labels)
    captured = first + (np.arange(len(labels)) + 0.5) * step
    columns = {"capturedAt": pa.array(captured.astype("datetime64[ms]"), pa.timestamp("ms"))}
    columns.update({f"p{i:02d}": pa.array(pixels[:, i], pa.int32()) for i in range(pixels.shape[1])})
    columns["label"] = pa.array(labels, pa.int32())
    return pa.table(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for the Parquet windows (created if missing)")
    out = parser.parse_args().out
    digits = load_digits()
    rng = np.random.default_rng(SEED)
    order = rng.permutation(len(digits.target))
    pixels, labels = digits.data[order].astype(np.int32), digits.target[order].astype(np.int32)
    pixels[JANUARY_ROWS:] = drift(pixels[JANUARY_ROWS:], rng)
    os.makedirs(out, exist_ok=True)
    files = []
    for (name, end), rows in zip(WINDOWS, (slice(0, JANUARY_ROWS), slice(JANUARY_ROWS, None))):
        path = os.path.join(os.path.abspath(out), f"{name}.parquet")
        table = window_table(pixels[rows], labels[rows], f"{name}-01", end)
        pq.write_table(table, path)
        files.append({"path": path, "rows": table.num_rows})
    print(json.dumps({"files": files}))


if __name__ == "__main__":
    main()
