"""PyTorch helpers for trainers that use it: torch set up for this machine, device choice, seeding, RNG state for
exact resumes, and checkpoints saved/loaded with torch.

Importing this module imports torch (seconds): do it only once the config is known to be good, so that config
errors are reported in milliseconds.
"""

from __future__ import annotations

import io
import logging
import os
import random
from typing import Any, Dict

# Both must be set before torch (and the OpenMP runtime it loads) initialises.
# Deterministic cuBLAS, for reproducible runs on CUDA.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
# The trainer shares its cores with the worker. Spinning OpenMP threads then slow small-batch training by 10x or
# more (measured: 0.8 s -> 15 s on 2 busy cores), so idle threads sleep instead.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from . import checkpoints  # noqa: E402
from .errors import checkpoint_error, config_error  # noqa: E402

log = logging.getLogger("trainer")


def _cpu_threads() -> int:
    explicit = os.environ.get("OMP_NUM_THREADS", "")
    if explicit.isdigit() and int(explicit) > 0:
        return int(explicit)  # an operator's explicit choice wins
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


torch.set_num_threads(max(1, _cpu_threads()))


def resolve_device(requested: str) -> torch.device:
    cuda_ok = torch.cuda.is_available()
    if requested == "cuda" and not cuda_ok:
        raise config_error("'device' is 'cuda' but no CUDA device is available "
                           f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r})")
    if requested == "cuda" or (requested == "auto" and cuda_ok):
        return torch.device("cuda")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def capture_rng(device: torch.device) -> Dict[str, Any]:
    """torch, numpy, Python (and CUDA) RNG states, in types that torch.load(weights_only=True) accepts."""
    np_state = np.random.get_state(legacy=False)
    py_state = random.getstate()
    state: Dict[str, Any] = {
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


def restore_rng(state: Dict[str, Any], device: torch.device) -> None:
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


def cpu_state_dict(module: torch.nn.Module) -> Dict[str, Any]:
    return {k: v.detach().to("cpu", copy=True) for k, v in module.state_dict().items()}


def torch_load(source: Any) -> Any:
    # weights_only: checkpoints and artifacts may come from shared storage; never run pickled code.
    return torch.load(source, map_location="cpu", weights_only=True)


def torch_payload(state: Dict[str, Any]) -> checkpoints.Writer:
    """Writes `state` with torch.save: the payload for TrainRun.save_checkpoint or atomic_write."""
    return lambda fh: torch.save(state, fh)


def load_torch_checkpoint(path: str, fmt: str, version: int) -> Dict[str, Any]:
    """A checkpoint's torch payload, once the file's digest and the state's `format`/`formatVersion` match."""
    payload = checkpoints.read_checkpoint(path)
    try:
        state = torch_load(io.BytesIO(payload))
    except Exception as exc:  # bad pickle, foreign format...
        raise checkpoint_error(f"resume checkpoint {path} cannot be loaded: {type(exc).__name__}: {exc}")
    if not isinstance(state, dict) or state.get("format") != fmt:
        raise checkpoint_error(f"resume checkpoint {path} is not a {fmt} file")
    if state.get("formatVersion") != version:
        raise checkpoint_error(
            f"resume checkpoint {path} has formatVersion {state.get('formatVersion')!r}, expected {version}")
    return state
