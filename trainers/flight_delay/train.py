#!/usr/bin/env python3
"""Reference trainer for the continuous-training control plane (flight delay model).

Implements the language-neutral trainer protocol described in trainers/PROTOCOL.md:

    python3 trainers/flight_delay/train.py train   --config /abs/trainer-config.json
    python3 trainers/flight_delay/train.py predict --config /abs/predict-config.json

stdout carries only JSON event lines; every human-readable log goes to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import jsonschema

PROTOCOL_VERSION = 1
CHECKPOINT_FORMAT = "ct-flight-delay-checkpoint"
MODEL_FORMAT = "ct-flight-delay-model"
FORMAT_VERSION = 1

EXIT_OK = 0
EXIT_CRASH = 1
EXIT_CONFIG = 2
EXIT_DATA = 3
EXIT_OOM = 4
EXIT_CHECKPOINT = 5
EXIT_PREEMPTED = 75

PROGRESS_INTERVAL_SECONDS = 1.0
EVAL_BATCH_SIZE = 65536
# Datasets up to this size are copied to the GPU once; larger ones are streamed
# batch by batch through pinned memory with one batch of prefetch.
GPU_RESIDENT_MAX_BYTES = 1 << 30

# The hyperparameter rules and defaults come from core/trainerHyperparameters.ts (zod), written beside this file
# as JSON Schema by `npm run schemas`: registration and this trainer check the same rules.
HYPERPARAMETER_SCHEMA: Dict[str, Any] = json.loads(
    (Path(__file__).resolve().parent / "hyperparameters.schema.json").read_text())
DEFAULT_HYPERPARAMETERS: Dict[str, Any] = {
    k: v["default"] for k, v in HYPERPARAMETER_SCHEMA["properties"].items()}

log = logging.getLogger("trainer")

# torch is imported lazily (after config validation) so that config errors are
# reported in milliseconds rather than after a multi-second torch import.
torch: Any = None
nn: Any = None


# --------------------------------------------------------------------------- #
# Events and errors
# --------------------------------------------------------------------------- #

class TrainerError(Exception):
    """A failure whose cause the trainer knows: reported as an error event."""

    def __init__(self, cls: str, message: str, exit_code: int):
        super().__init__(message)
        self.cls = cls
        self.message = message
        self.exit_code = exit_code


def config_error(message: str) -> TrainerError:
    return TrainerError("config", message, EXIT_CONFIG)


def data_error(message: str) -> TrainerError:
    return TrainerError("data", message, EXIT_DATA)


def checkpoint_error(message: str) -> TrainerError:
    return TrainerError("checkpoint", message, EXIT_CHECKPOINT)


class EventStream:
    """Writes one JSON object per line to the real stdout, flushed immediately.

    File descriptor 1 is re-pointed at stderr so that stray prints from this
    process or from native libraries can never corrupt the event stream.
    """

    def __init__(self) -> None:
        sys.stdout.flush()
        fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._out = os.fdopen(fd, "w", encoding="utf-8", buffering=1)

    def emit(self, event: str, **fields: Any) -> None:
        obj = {"event": event}
        obj.update(fields)
        line = json.dumps(_json_safe(obj), allow_nan=False, separators=(",", ":"))
        try:
            self._out.write(line + "\n")
            self._out.flush()
        except OSError as exc:  # orchestrator went away; keep going, it will kill us
            log.warning("could not write event %s: %s", event, exc)


def _json_safe(value: Any) -> Any:
    """Non-finite floats become null (JSON has no NaN/Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


# --------------------------------------------------------------------------- #
# Config validation
# --------------------------------------------------------------------------- #

def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _require(cfg: Dict[str, Any], key: str, where: str = "") -> Any:
    if key not in cfg:
        raise config_error(f"missing required field '{where}{key}'")
    return cfg[key]


def _abs_path(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise config_error(f"'{field}' must be a non-empty path string")
    return os.path.abspath(value)


def load_config_file(path: str) -> Dict[str, Any]:
    try:
        with open(path, "r", encoding="utf-8") as fh:
            cfg = json.load(fh)
    except FileNotFoundError:
        raise config_error(f"config file not found: {path}")
    except (OSError, UnicodeDecodeError) as exc:
        raise config_error(f"cannot read config file {path}: {exc}")
    except json.JSONDecodeError as exc:
        raise config_error(f"config file {path} is not valid JSON: {exc}")
    if not isinstance(cfg, dict):
        raise config_error("config file must contain a JSON object")
    return cfg


def _check_common(cfg: Dict[str, Any], mode: str, known: set) -> None:
    version = _require(cfg, "protocolVersion")
    if version != PROTOCOL_VERSION:
        raise config_error(
            f"'protocolVersion' is {version!r}; this trainer supports {PROTOCOL_VERSION}")
    if cfg.get("mode", mode) != mode:
        raise config_error(
            f"'mode' is {cfg.get('mode')!r} but the trainer was invoked with '{mode}'")
    unknown = sorted(set(cfg) - known)
    if unknown:
        # Forward compatibility: the orchestrator may add top-level fields.
        log.warning("ignoring unknown top-level config field(s): %s", ", ".join(unknown))


def _parse_device(cfg: Dict[str, Any]) -> str:
    device = cfg.get("device", "auto")
    if device not in ("auto", "cpu", "cuda"):
        raise config_error(f"'device' must be one of auto|cpu|cuda, got {device!r}")
    return device


def _parse_data_format(data: Dict[str, Any]) -> None:
    fmt = data.get("format", "parquet")
    if fmt != "parquet":
        raise config_error(f"'data.format' must be 'parquet', got {fmt!r}")


def parse_hyperparameters(raw: Any) -> Dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise config_error("'hyperparameters' must be an object")
    unknown = sorted(set(raw) - set(DEFAULT_HYPERPARAMETERS))
    if unknown:
        raise config_error(
            f"unknown hyperparameter(s): {', '.join(unknown)} "
            f"(allowed: {', '.join(DEFAULT_HYPERPARAMETERS)})")
    errors = sorted(jsonschema.Draft202012Validator(HYPERPARAMETER_SCHEMA).iter_errors(raw),
                    key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = ".".join(str(p) for p in e.path)
        raise config_error(f"'hyperparameters.{where}': {e.message}")
    hp = dict(DEFAULT_HYPERPARAMETERS)
    hp.update(raw)
    hp["learningRate"] = float(hp["learningRate"])
    hp["weightDecay"] = float(hp["weightDecay"])
    hp["hiddenUnits"] = list(hp["hiddenUnits"])
    return hp


def parse_features(raw: Any, label: str) -> List[Dict[str, str]]:
    if not isinstance(raw, list) or not raw:
        raise config_error("'features' must be a non-empty list")
    seen = set()
    out = []
    for i, f in enumerate(raw):
        if not isinstance(f, dict):
            raise config_error(f"'features[{i}]' must be an object with name and type")
        name, ftype = f.get("name"), f.get("type")
        if not isinstance(name, str) or not name:
            raise config_error(f"'features[{i}].name' must be a non-empty string")
        if ftype not in ("numeric", "categorical"):
            raise config_error(
                f"'features[{i}].type' (feature '{name}') must be 'numeric' or 'categorical', "
                f"got {ftype!r}")
        extra = sorted(set(f) - {"name", "type"})
        if extra:
            raise config_error(f"'features[{i}]' (feature '{name}') has unknown field(s): {extra}")
        if name in seen:
            raise config_error(f"feature '{name}' is listed twice in 'features'")
        if name == label:
            raise config_error(f"feature '{name}' is also the label")
        seen.add(name)
        out.append({"name": name, "type": ftype})
    return out


def _non_negative_or_null(v: Any, field: str) -> float:
    if v is None:
        return 0
    if not _is_number(v) or v < 0:
        raise config_error(f"'{field}' must be a number >= 0 or null, got {v!r}")
    return v


def parse_train_config(cfg: Dict[str, Any]) -> Dict[str, Any]:
    _check_common(cfg, "train", {
        "protocolVersion", "mode", "data", "features", "label", "hyperparameters", "seed",
        "outputDir", "checkpointDir", "checkpoint", "resumeFrom", "device"})
    data = _require(cfg, "data")
    if not isinstance(data, dict):
        raise config_error("'data' must be an object")
    _parse_data_format(data)
    label = _require(cfg, "label")
    if not isinstance(label, str) or not label:
        raise config_error("'label' must be a non-empty column name")
    seed = cfg.get("seed", 0)
    if not _is_int(seed) or not 0 <= seed < 2 ** 63:
        raise config_error(f"'seed' must be an integer in [0, 2^63), got {seed!r}")
    ck = cfg.get("checkpoint") or {}
    if not isinstance(ck, dict):
        raise config_error("'checkpoint' must be an object")
    unknown = sorted(set(ck) - {"everySteps", "everySeconds"})
    if unknown:
        raise config_error(f"unknown field(s) in 'checkpoint': {', '.join(unknown)}")
    every_steps = _non_negative_or_null(ck.get("everySteps"), "checkpoint.everySteps")
    if every_steps and not _is_int(every_steps):
        raise config_error(f"'checkpoint.everySteps' must be an integer, got {every_steps!r}")
    every_seconds = _non_negative_or_null(ck.get("everySeconds"), "checkpoint.everySeconds")
    resume = cfg.get("resumeFrom")
    return {
        "train": _abs_path(_require(data, "train", "data."), "data.train"),
        "validation": _abs_path(_require(data, "validation", "data."), "data.validation"),
        "features": parse_features(_require(cfg, "features"), label),
        "label": label,
        "hp": parse_hyperparameters(cfg.get("hyperparameters")),
        "seed": seed,
        "outputDir": _abs_path(_require(cfg, "outputDir"), "outputDir"),
        "checkpointDir": _abs_path(_require(cfg, "checkpointDir"), "checkpointDir"),
        "everySteps": int(every_steps),
        "everySeconds": float(every_seconds),
        "resumeFrom": None if resume is None else _abs_path(resume, "resumeFrom"),
        "device": _parse_device(cfg),
    }


def parse_predict_config(cfg: Dict[str, Any]) -> Dict[str, Any]:
    _check_common(cfg, "predict", {
        "protocolVersion", "mode", "modelPath", "data", "outputPath", "device"})
    data = _require(cfg, "data")
    if not isinstance(data, dict):
        raise config_error("'data' must be an object")
    _parse_data_format(data)
    return {
        "modelPath": _abs_path(_require(cfg, "modelPath"), "modelPath"),
        "input": _abs_path(_require(data, "input", "data."), "data.input"),
        "outputPath": _abs_path(_require(cfg, "outputPath"), "outputPath"),
        "device": _parse_device(cfg),
    }


def env_int(name: str) -> Optional[int]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise config_error(f"environment variable {name} must be an integer, got {raw!r}")
    if value < 0:
        raise config_error(f"environment variable {name} must be >= 0, got {raw!r}")
    return value


# --------------------------------------------------------------------------- #
# Data loading (pyarrow + numpy only; no torch needed)
# --------------------------------------------------------------------------- #

def read_parquet(path: str, columns: List[str], split: str):
    import pyarrow as pa
    import pyarrow.parquet as pq

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


def numeric_column(table, name: str, split: str):
    """Returns float64 numpy values; missing / non-finite values become NaN."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

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


def categorical_strings(table, name: str):
    """Returns the column as a pyarrow string ChunkedArray (values treated as strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

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


def build_vocabulary(col) -> List[str]:
    import pyarrow.compute as pc

    return sorted(v for v in pc.unique(col).to_pylist() if v is not None)


def encode_categorical(col, vocab: List[str]):
    """Index 0 is reserved for unseen/missing values; vocab[i] maps to i + 1."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    idx = pc.index_in(col, value_set=pa.array(vocab, type=pa.string()))
    idx = pc.fill_null(pc.add(idx, 1), 0)
    return idx.to_numpy(zero_copy_only=False).astype(np.int64)


def label_column(table, name: str, split: str):
    import numpy as np
    import pyarrow as pa

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
    def __init__(self, table, features: List[Dict[str, str]], label: Optional[str], split: str):
        self.rows = table.num_rows
        self.numeric = {f["name"]: numeric_column(table, f["name"], split)
                        for f in features if f["type"] == "numeric"}
        self.categorical = {f["name"]: categorical_strings(table, f["name"])
                            for f in features if f["type"] == "categorical"}
        self.labels = label_column(table, label, split) if label is not None else None


def load_split(path: str, features, label: Optional[str], split: str) -> RawSplit:
    cols = [f["name"] for f in features] + ([label] if label is not None else [])
    return RawSplit(read_parquet(path, cols, split), features, label, split)


def compute_preprocessing(train: RawSplit, features) -> Tuple[Dict[str, List[str]], Dict[str, Dict[str, float]]]:
    import numpy as np

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


def encode_split(raw: RawSplit, features, vocabs, stats):
    """Returns (numeric float32 [N, F], categorical int64 [N, C]) numpy arrays."""
    import numpy as np

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


def data_fingerprint(x_num, x_cat, y) -> str:
    h = hashlib.blake2b(digest_size=16)
    for a in (x_num, x_cat, y):
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- #
# Metrics (numpy)
# --------------------------------------------------------------------------- #

def bce_from_logits(logits, y) -> Optional[float]:
    import numpy as np

    if len(y) == 0:
        return None
    z = logits.astype(np.float64)
    yy = y.astype(np.float64)
    losses = np.maximum(z, 0) - z * yy + np.log1p(np.exp(-np.abs(z)))
    return float(losses.mean())


def roc_auc(y, scores) -> Optional[float]:
    """Mann-Whitney AUC with average ranks for ties; None if only one class."""
    import numpy as np

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


# --------------------------------------------------------------------------- #
# torch parts
# --------------------------------------------------------------------------- #

def import_torch() -> None:
    global torch, nn
    if torch is not None:
        return
    # Required for deterministic cuBLAS; must be set before CUDA initialises.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    # The trainer shares its cores with the worker. Spinning OpenMP threads then slow
    # small-batch training by 10x or more (measured: 0.8 s -> 15 s on 2 busy cores), so idle
    # threads sleep instead. Must be set before the OpenMP runtime loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch as _torch
    import torch.nn as _nn

    torch, nn = _torch, _nn
    try:
        threads = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        threads = os.cpu_count() or 1
    explicit = os.environ.get("OMP_NUM_THREADS", "")
    if explicit.isdigit() and int(explicit) > 0:
        threads = int(explicit)  # an operator's explicit choice wins
    torch.set_num_threads(max(1, threads))


def resolve_device(requested: str):
    cuda_ok = torch.cuda.is_available()
    if requested == "cuda" and not cuda_ok:
        raise config_error("'device' is 'cuda' but no CUDA device is available "
                           f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r})")
    if requested == "cuda" or (requested == "auto" and cuda_ok):
        return torch.device("cuda")
    return torch.device("cpu")


def build_model(n_numeric: int, vocab_sizes: List[int], hp: Dict[str, Any]):
    class FlightDelayNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            dim = hp["embeddingDim"]
            # +1: index 0 is the unseen/missing bucket.
            self.embeddings = nn.ModuleList(nn.Embedding(v + 1, dim) for v in vocab_sizes)
            layers: List[Any] = []
            width = n_numeric + dim * len(vocab_sizes)
            for units in hp["hiddenUnits"]:
                layers += [nn.Linear(width, units), nn.ReLU()]
                width = units
            layers.append(nn.Linear(width, 1))
            self.mlp = nn.Sequential(*layers)

        def forward(self, x_num, x_cat):
            parts = [x_num] + [emb(x_cat[:, i]) for i, emb in enumerate(self.embeddings)]
            return self.mlp(torch.cat(parts, dim=1)).squeeze(-1)

    return FlightDelayNet()


def seed_everything(seed: int) -> None:
    import numpy as np

    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def capture_rng(device) -> Dict[str, Any]:
    import numpy as np

    np_state = np.random.get_state(legacy=False)
    py_state = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "bit_generator": np_state["bit_generator"],
            "key": [int(k) for k in np_state["state"]["key"]],
            "pos": int(np_state["state"]["pos"]),
            "has_gauss": int(np_state["has_gauss"]),
            "gauss": float(np_state["gauss"]),
        },
        "python": {"version": py_state[0], "internal": list(py_state[1]), "gauss": py_state[2]},
    }
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Dict[str, Any], device) -> None:
    import numpy as np

    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state({
        "bit_generator": n["bit_generator"],
        "state": {"key": np.array(n["key"], dtype=np.uint32), "pos": n["pos"]},
        "has_gauss": n["has_gauss"], "gauss": n["gauss"]})
    p = state["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))
    if device.type == "cuda" and "cuda" in state:
        cuda_states = state["cuda"]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
        else:
            log.warning("CUDA device count changed; CUDA RNG state not restored")


def atomic_write(path: str, write_fn) -> int:
    """Writes via a temp file in the same directory, fsync, rename, fsync dir."""
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as fh:
            write_fn(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return os.path.getsize(path)


def cpu_state_dict(module) -> Dict[str, Any]:
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def torch_load(path: str):
    # weights_only: checkpoints/artifacts may come from shared storage; never run pickled code.
    return torch.load(path, map_location="cpu", weights_only=True)


def classify_runtime_error(exc: BaseException) -> Optional[TrainerError]:
    if isinstance(exc, MemoryError):
        return TrainerError("oom", f"out of host memory: {exc}", EXIT_OOM)
    if torch is not None:
        oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
        if oom_type is not None and isinstance(exc, oom_type):
            return TrainerError("oom", f"CUDA out of memory: {exc}", EXIT_OOM)
        if isinstance(exc, RuntimeError):
            text = str(exc)
            if "out of memory" in text or "can't allocate memory" in text:
                return TrainerError("oom", f"out of memory: {text.splitlines()[0]}", EXIT_OOM)
    return None


class Batches:
    """Yields (x_num, x_cat, y) batches on `device` for permutation `perm`, from `start`."""

    def __init__(self, tensors, device, batch_size: int):
        self.device = device
        self.batch_size = batch_size
        self.resident = True
        if device.type == "cuda":
            nbytes = sum(t.numel() * t.element_size() for t in tensors)
            if nbytes <= GPU_RESIDENT_MAX_BYTES:
                # Whole dataset lives on the GPU: batches are gathered on-device, no host waits.
                tensors = tuple(t.pin_memory().to(device, non_blocking=True) for t in tensors)
            else:
                self.resident = False
        self.tensors = tensors

    def iterate(self, perm, start: int, n_batches: int):
        bs = self.batch_size
        if self.resident:
            perm = perm.to(self.device, non_blocking=True) if self.device.type == "cuda" else perm
            for b in range(start, n_batches):
                idx = perm[b * bs:(b + 1) * bs]
                yield tuple(t.index_select(0, idx) for t in self.tensors)
            return

        def load(b):
            idx = perm[b * bs:(b + 1) * bs]
            return tuple(t.index_select(0, idx).pin_memory().to(self.device, non_blocking=True)
                         for t in self.tensors)

        nxt = load(start) if start < n_batches else None
        for b in range(start, n_batches):
            cur = nxt
            if b + 1 < n_batches:
                nxt = load(b + 1)  # host gather + async copy overlap with GPU compute of `cur`
            yield cur


def predict_logits(model, x_num, x_cat, device):
    import numpy as np

    model.eval()
    out = []
    with torch.inference_mode():
        for a in range(0, x_num.shape[0], EVAL_BATCH_SIZE):
            xn = torch.from_numpy(x_num[a:a + EVAL_BATCH_SIZE]).to(device)
            xc = torch.from_numpy(x_cat[a:a + EVAL_BATCH_SIZE]).to(device)
            out.append(model(xn, xc).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


# --------------------------------------------------------------------------- #
# train
# --------------------------------------------------------------------------- #

class StopFlag:
    def __init__(self) -> None:
        self.signal_name: Optional[str] = None

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum, _frame) -> None:
        if self.signal_name is None:
            self.signal_name = signal.Signals(signum).name
            log.warning("received %s: will checkpoint after the current step and exit %d",
                        self.signal_name, EXIT_PREEMPTED)


def load_resume_checkpoint(path: str, cfg: Dict[str, Any]) -> Dict[str, Any]:
    if not os.path.isfile(path):
        raise checkpoint_error(f"resume checkpoint not found: {path}")
    try:
        ck = torch_load(path)
    except Exception as exc:  # truncated zip, bad pickle, foreign format...
        raise checkpoint_error(f"resume checkpoint {path} cannot be loaded: {type(exc).__name__}: {exc}")
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
        raise checkpoint_error(f"resume checkpoint {path} is not a {CHECKPOINT_FORMAT} file")
    if ck.get("formatVersion") != FORMAT_VERSION:
        raise checkpoint_error(
            f"resume checkpoint {path} has formatVersion {ck.get('formatVersion')!r}, "
            f"expected {FORMAT_VERSION}")
    for key, what in (("features", "features"), ("label", "label"), ("hyperparameters", "hp"),
                      ("seed", "seed")):
        if ck.get(key) != cfg[what]:
            raise checkpoint_error(
                f"resume checkpoint {path} is incompatible: '{key}' differs from the config "
                f"(checkpoint {ck.get(key)!r}, config {cfg[what]!r})")
    required = ("model", "optimizer", "scheduler", "rng", "epoch", "step", "position",
                "permGeneratorState", "vocabularies", "numericStats", "trainRows",
                "trainFingerprint", "samplesProcessed", "totalSteps")
    missing = [k for k in required if k not in ck]
    if missing:
        raise checkpoint_error(f"resume checkpoint {path} lacks field(s): {', '.join(missing)}")
    return ck


def run_train(cfg: Dict[str, Any], events: EventStream, stop: StopFlag) -> int:
    t_start = time.monotonic()
    step_delay_ms = env_int("CT_TRAINER_STEP_DELAY_MS")
    fail_at_step = env_int("CT_TRAINER_FAIL_AT_STEP")
    features, label, hp, seed = cfg["features"], cfg["label"], cfg["hp"], cfg["seed"]

    log.info("loading data: train=%s validation=%s", cfg["train"], cfg["validation"])
    train_raw = load_split(cfg["train"], features, label, "train")
    if train_raw.rows == 0:
        raise data_error(f"training data {cfg['train']} has no rows")
    valid_raw = load_split(cfg["validation"], features, label, "validation")

    import numpy as np

    import_torch()
    device = resolve_device(cfg["device"])
    for d in (cfg["outputDir"], cfg["checkpointDir"]):
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as exc:
            raise config_error(f"cannot create directory {d}: {exc}")

    resume = load_resume_checkpoint(cfg["resumeFrom"], cfg) if cfg["resumeFrom"] else None
    if resume is not None:
        vocabs, stats = resume["vocabularies"], resume["numericStats"]
    else:
        vocabs, stats = compute_preprocessing(train_raw, features)
    x_num, x_cat = encode_split(train_raw, features, vocabs, stats)
    y = train_raw.labels
    fingerprint = data_fingerprint(x_num, x_cat, y)
    if resume is not None and (resume["trainRows"] != train_raw.rows
                               or resume["trainFingerprint"] != fingerprint):
        raise checkpoint_error(
            f"resume checkpoint {cfg['resumeFrom']} is incompatible: it was written for different "
            f"training data ({resume['trainRows']} rows) than {cfg['train']} ({train_raw.rows} rows)")
    vx_num, vx_cat = encode_split(valid_raw, features, vocabs, stats)
    vy = valid_raw.labels

    n = train_raw.rows
    bs = hp["batchSize"]
    n_batches = (n + bs - 1) // bs
    total_steps = hp["epochs"] * n_batches

    seed_everything(seed)
    numeric_names = [f["name"] for f in features if f["type"] == "numeric"]
    cat_names = [f["name"] for f in features if f["type"] == "categorical"]
    model = build_model(len(numeric_names), [len(vocabs[c]) for c in cat_names], hp).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=hp["learningRate"],
                                  weight_decay=hp["weightDecay"])
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, total_steps) / total_steps)))
    perm_gen = torch.Generator().manual_seed(seed)

    step, epoch, position, samples = 0, 0, 0, 0
    if resume is not None:
        try:
            model.load_state_dict(resume["model"])
            optimizer.load_state_dict(resume["optimizer"])
            scheduler.load_state_dict(resume["scheduler"])
            restore_rng(resume["rng"], device)
            perm_gen.set_state(resume["permGeneratorState"])
            step, epoch = int(resume["step"]), int(resume["epoch"])
            position, samples = int(resume["position"]), int(resume["samplesProcessed"])
        except Exception as exc:
            raise checkpoint_error(
                f"resume checkpoint {cfg['resumeFrom']} does not fit this model: "
                f"{type(exc).__name__}: {exc}")
        if resume["totalSteps"] != total_steps or not (0 <= position < n_batches) \
                or step != epoch * n_batches + position:
            raise checkpoint_error(
                f"resume checkpoint {cfg['resumeFrom']} has an inconsistent position "
                f"(step {step}, epoch {epoch}, batch {position})")
        log.info("resumed from %s at step %d (epoch %d, batch %d)",
                 cfg["resumeFrom"], step, epoch, position)
    del resume

    use_amp = device.type == "cuda" and torch.cuda.is_bf16_supported()
    loss_fn = nn.BCEWithLogitsLoss()
    batches = Batches((torch.from_numpy(x_num), torch.from_numpy(x_cat), torch.from_numpy(y)),
                      device, bs)

    events.emit("started", protocolVersion=PROTOCOL_VERSION, device=device.type,
                resumedFrom=cfg["resumeFrom"], step=step, epoch=epoch, totalSteps=total_steps,
                epochs=hp["epochs"], trainRows=n, validationRows=valid_raw.rows)
    log.info("training on %s: %d rows, %d steps/epoch, %d total steps, %d torch threads",
             device, n, n_batches, total_steps, torch.get_num_threads())

    # --- state carried through the loop --------------------------------------
    perm = None
    epoch_gen_state = perm_gen.get_state()  # generator state before the current epoch's permutation
    last_ckpt_step: Optional[int] = None
    last_ckpt_path: Optional[str] = None
    if cfg["resumeFrom"] and os.path.dirname(cfg["resumeFrom"]) == cfg["checkpointDir"]:
        # The checkpoint we resumed from already holds this exact state; don't rewrite it.
        last_ckpt_step, last_ckpt_path = step, cfg["resumeFrom"]
    last_ckpt_time = time.monotonic()
    last_progress_time = time.monotonic()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    loss_rows = 0
    rows_since_progress = 0

    def write_checkpoint() -> str:
        nonlocal last_ckpt_step, last_ckpt_path, last_ckpt_time
        path = os.path.join(cfg["checkpointDir"], f"step-{step:08d}.pt")
        state = {
            "format": CHECKPOINT_FORMAT, "formatVersion": FORMAT_VERSION,
            "protocolVersion": PROTOCOL_VERSION,
            "model": cpu_state_dict(model),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "rng": capture_rng(device),
            "epoch": epoch, "step": step, "position": position, "totalSteps": total_steps,
            "samplesProcessed": samples,
            # State before the permutation of epoch `epoch` is drawn.
            "permGeneratorState": (perm_gen.get_state() if perm is None else epoch_gen_state),
            "vocabularies": vocabs, "numericStats": stats,
            "features": features, "label": label, "hyperparameters": hp, "seed": seed,
            "trainRows": n, "trainFingerprint": fingerprint,
        }
        nbytes = atomic_write(path, lambda fh: torch.save(state, fh))
        last_ckpt_step, last_ckpt_path, last_ckpt_time = step, path, time.monotonic()
        events.emit("checkpoint", step=step, epoch=epoch, path=path, bytes=nbytes)
        log.info("checkpoint %s (%d bytes)", path, nbytes)
        return path

    def emit_progress(end_of_epoch: bool) -> None:
        nonlocal loss_sum, loss_rows, rows_since_progress, last_progress_time
        now = time.monotonic()
        mean_loss = float(loss_sum.item()) / loss_rows if loss_rows else None
        elapsed = now - last_progress_time
        events.emit("progress", step=step, epoch=epoch, totalSteps=total_steps, loss=mean_loss,
                    samplesPerSec=(rows_since_progress / elapsed) if elapsed > 0 else 0.0,
                    samplesProcessed=samples, endOfEpoch=end_of_epoch,
                    learningRate=scheduler.get_last_lr()[0])
        loss_sum.zero_()
        loss_rows = rows_since_progress = 0
        last_progress_time = now

    def preempt() -> int:
        path = last_ckpt_path if last_ckpt_step == step else write_checkpoint()
        events.emit("preempted", step=step, epoch=epoch, checkpointPath=path,
                    signal=stop.signal_name)
        log.warning("preempted by %s at step %d; checkpoint %s", stop.signal_name, step, path)
        return EXIT_PREEMPTED

    model.train()
    batch_iter = None
    while step < total_steps:
        if stop.signal_name:
            return preempt()
        if perm is None:
            epoch_gen_state = perm_gen.get_state()
            perm = torch.randperm(n, generator=perm_gen)
            batch_iter = batches.iterate(perm, position, n_batches)
        xb_num, xb_cat, yb = next(batch_iter)
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
            logits = model(xb_num, xb_cat)
        loss = loss_fn(logits.float(), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()

        rows = yb.shape[0]
        step += 1
        position += 1
        samples += rows
        rows_since_progress += rows
        loss_sum += loss.detach().double() * rows
        loss_rows += rows
        end_of_epoch = position == n_batches
        if end_of_epoch:
            epoch, position, perm, batch_iter = epoch + 1, 0, None, None

        if step_delay_ms:
            time.sleep(step_delay_ms / 1000.0)
        if fail_at_step is not None and step == fail_at_step and cfg["resumeFrom"] is None:
            log.error("CT_TRAINER_FAIL_AT_STEP=%d reached: simulating a crash", fail_at_step)
            sys.stderr.flush()
            os._exit(EXIT_CRASH)

        now = time.monotonic()
        if (cfg["everySteps"] and step % cfg["everySteps"] == 0) or \
                (cfg["everySeconds"] and now - last_ckpt_time >= cfg["everySeconds"]):
            write_checkpoint()
        if end_of_epoch or now - last_progress_time >= PROGRESS_INTERVAL_SECONDS:
            emit_progress(end_of_epoch)

    # Final checkpoint: a crash during evaluation/saving then resumes without retraining.
    if (cfg["everySteps"] or cfg["everySeconds"]) and last_ckpt_step != step:
        write_checkpoint()
    if stop.signal_name:
        log.warning("%s received after the last step; finishing normally", stop.signal_name)

    logits = predict_logits(model, vx_num, vx_cat, device)
    probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    metrics = {"loss": bce_from_logits(logits, vy), "auc": roc_auc(vy, probs),
               "rows": int(valid_raw.rows)}
    # Values that cannot be computed (empty split, single class, divergence) are omitted, so
    # every value present is a finite number.
    metrics = {k: v for k, v in metrics.items() if v is not None and math.isfinite(v)}
    events.emit("metrics", split="validation", values=metrics)
    log.info("validation: %s", metrics)

    model_path = os.path.join(cfg["outputDir"], "model.pt")
    artifact = {
        "format": MODEL_FORMAT, "formatVersion": FORMAT_VERSION,
        "protocolVersion": PROTOCOL_VERSION,
        "stateDict": cpu_state_dict(model),
        "features": features, "label": label, "vocabularies": vocabs, "numericStats": stats,
        "hyperparameters": hp, "seed": seed, "step": step,
        "validationMetrics": metrics,
    }
    atomic_write(model_path, lambda fh: torch.save(artifact, fh))
    events.emit("done", modelPath=model_path, step=step, samplesProcessed=samples,
                seconds=round(time.monotonic() - t_start, 3))
    log.info("done: %s", model_path)
    return EXIT_OK


# --------------------------------------------------------------------------- #
# predict
# --------------------------------------------------------------------------- #

def run_predict(cfg: Dict[str, Any], events: EventStream) -> int:
    import numpy as np

    if not os.path.isfile(cfg["modelPath"]):
        raise data_error(f"model file not found: {cfg['modelPath']}")
    if not os.path.exists(cfg["input"]):
        raise data_error(f"input data file not found: {cfg['input']}")
    import_torch()
    device = resolve_device(cfg["device"])
    try:
        art = torch_load(cfg["modelPath"])
        if not isinstance(art, dict) or art.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a {MODEL_FORMAT} artifact")
        if art.get("formatVersion") != FORMAT_VERSION:
            raise ValueError(f"unsupported formatVersion {art.get('formatVersion')!r}")
        features, hp = art["features"], art["hyperparameters"]
        vocabs, stats = art["vocabularies"], art["numericStats"]
        num_names = [f["name"] for f in features if f["type"] == "numeric"]
        cat_names = [f["name"] for f in features if f["type"] == "categorical"]
        model = build_model(len(num_names), [len(vocabs[c]) for c in cat_names], hp)
        model.load_state_dict(art["stateDict"])
    except Exception as exc:
        raise data_error(f"model {cfg['modelPath']} cannot be loaded: {type(exc).__name__}: {exc}")
    model.to(device)

    raw = load_split(cfg["input"], features, None, "input")
    x_num, x_cat = encode_split(raw, features, vocabs, stats)
    logits = predict_logits(model, x_num, x_cat, device)
    probs = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))

    def write(fh) -> None:
        fh.write("".join(f"{p:.10g}\n" for p in probs.tolist()).encode("ascii"))

    atomic_write(cfg["outputPath"], write)
    events.emit("done", rows=int(raw.rows), outputPath=cfg["outputPath"])
    log.info("wrote %d scores to %s", raw.rows, cfg["outputPath"])
    return EXIT_OK


# --------------------------------------------------------------------------- #
# entry point
# --------------------------------------------------------------------------- #

class _ArgParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise config_error(f"bad command line: {message}")


def main(argv: Optional[List[str]] = None) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(asctime)s %(levelname)s trainer: %(message)s")
    events = EventStream()
    stop = StopFlag()
    stop.install()
    try:
        parser = _ArgParser(prog="train.py", description=__doc__)
        parser.add_argument("mode", choices=["train", "predict"])
        parser.add_argument("--config", required=True)
        args = parser.parse_args(argv)
        raw = load_config_file(args.config)
        if args.mode == "train":
            return run_train(parse_train_config(raw), events, stop)
        return run_predict(parse_predict_config(raw), events)
    except TrainerError as err:
        log.error("%s error: %s", err.cls, err.message)
        events.emit("error", **{"class": err.cls, "message": err.message})
        return err.exit_code
    except BaseException as exc:  # noqa: BLE001 - every failure must be reported
        known = classify_runtime_error(exc)
        if known is not None:
            log.error("%s", known.message)
            events.emit("error", **{"class": known.cls, "message": known.message})
            return known.exit_code
        if isinstance(exc, SystemExit):
            raise
        log.exception("unexpected failure")
        events.emit("error", **{"class": "other", "message": f"{type(exc).__name__}: {exc}"})
        return EXIT_CRASH


if __name__ == "__main__":
    sys.exit(main())
