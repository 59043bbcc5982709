"""The predict subcommand: one probability per input row, from an artifact written by train."""

from __future__ import annotations

import logging
from typing import Any, Dict, Tuple

from ct_trainer import EXIT_OK, EventStream, PredictConfig, atomic_write, data_error
from ct_trainer.torch_runtime import resolve_device, torch_load

from .config import FORMAT_VERSION, MODEL_FORMAT
from .data import encode_split, load_split
from .metrics import sigmoid
from .model import FlightDelayNet, build_model, predict_logits

log = logging.getLogger("trainer")


def load_model(path: str) -> Tuple[FlightDelayNet, Dict[str, Any]]:
    """The model and the artifact it came from (features, vocabularies, normalisation stats)."""
    try:
        art = torch_load(path)
        if not isinstance(art, dict) or art.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a {MODEL_FORMAT} artifact")
        if art.get("formatVersion") != FORMAT_VERSION:
            raise ValueError(f"unsupported formatVersion {art.get('formatVersion')!r}")
        model = build_model(art["features"], art["vocabularies"], art["hyperparameters"])
        model.load_state_dict(art["stateDict"])
    except Exception as exc:
        raise data_error(f"model {path} cannot be loaded: {type(exc).__name__}: {exc}")
    return model, art


def run_predict(cfg: PredictConfig, events: EventStream) -> int:
    device = resolve_device(cfg.device)
    model, art = load_model(cfg.model_path)
    model.to(device)
    raw = load_split(cfg.input_path, art["features"], None, "input")
    x_num, x_cat = encode_split(raw, art["features"], art["vocabularies"], art["numericStats"])
    probs = sigmoid(predict_logits(model, x_num, x_cat, device))
    text = "".join(f"{p:.10g}\n" for p in probs.tolist())
    atomic_write(cfg.output_path, lambda fh: fh.write(text.encode("ascii")))
    events.emit("done", rows=int(raw.rows), outputPath=cfg.output_path)
    log.info("wrote %d scores to %s", raw.rows, cfg.output_path)
    return EXIT_OK

