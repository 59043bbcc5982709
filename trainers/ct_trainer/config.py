"""The trainer's config file (trainers/PROTOCOL.md, "Train config", "Predict config"), checked against
trainer_config.schema.json, which `npm run schemas` generates from the zod `TrainerConfig` in core/trainerConfig.ts.

Unknown top-level fields are ignored with a warning, so the orchestrator can add fields before trainers know them.
A trainer checks `hyperparameters` itself, against its own generated schema (`hyperparameters`).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from . import schema
from .errors import config_error

log = logging.getLogger("trainer")

TRAINER_CONFIG_SCHEMA = schema.read_schema(Path(__file__).resolve().parent / "trainer_config.schema.json")
MODES = {branch["properties"]["mode"]["const"]: branch for branch in TRAINER_CONFIG_SCHEMA["oneOf"]}
PROTOCOL_VERSION: int = MODES["train"]["properties"]["protocolVersion"]["const"]


@dataclass(frozen=True)
class TrainConfig:
    train_path: str
    validation_path: str
    features: List[Dict[str, str]]  # [{"name", "type": "numeric" | "categorical"}], as in the file
    label: str
    task: str  # binary | multiclass | regression
    classes: Optional[int]  # multiclass: labels are 0..classes-1
    hyperparameters: Dict[str, Any]  # unchecked: see hyperparameters()
    seed: int
    output_dir: str
    checkpoint_dir: str
    every_steps: int  # 0: off
    every_seconds: float  # 0: off
    resume_from: Optional[str]
    max_steps: Optional[int]  # stop there as if preempted (the preflight smoke run); None: train to the end
    device: str  # auto | cpu | cuda


@dataclass(frozen=True)
class PredictConfig:
    model_path: str
    input_path: str
    output_path: str
    device: str


def read_config_file(path: str) -> Dict[str, Any]:
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


def checked(raw: Dict[str, Any], mode: str) -> Dict[str, Any]:
    """The config for `mode` (the subcommand) as the schema's branch for it accepts it, defaults filled in."""
    if "mode" in raw and raw["mode"] != mode:
        raise config_error(f"'mode' is {raw.get('mode')!r} but the trainer was invoked with '{mode}'")
    branch = MODES[mode]
    schema.check(branch, raw)
    unknown = sorted(set(raw) - set(branch["properties"]))
    if unknown:
        log.warning("ignoring unknown top-level config field(s): %s", ", ".join(unknown))
    return schema.with_defaults(branch, raw)


def _check_features(features: List[Dict[str, str]], label: str) -> None:
    seen = set()
    for f in features:
        if f["name"] in seen:
            raise config_error(f"feature '{f['name']}' is listed twice in 'features'")
        if f["name"] == label:
            raise config_error(f"feature '{f['name']}' is also the label")
        seen.add(f["name"])


def train_config(raw: Dict[str, Any]) -> TrainConfig:
    cfg = checked(raw, "train")
    _check_features(cfg["features"], cfg["label"])
    if (cfg["task"] == "multiclass") != (cfg["classes"] is not None):
        raise config_error(f"'classes' must be set for task multiclass and only then (task {cfg['task']!r}, "
                           f"classes {cfg['classes']!r})")
    every = cfg["checkpoint"]
    return TrainConfig(
        train_path=os.path.abspath(cfg["data"]["train"]),
        validation_path=os.path.abspath(cfg["data"]["validation"]),
        features=[{"name": f["name"], "type": f["type"]} for f in cfg["features"]],
        label=cfg["label"],
        task=cfg["task"],
        classes=cfg["classes"],
        hyperparameters=cfg["hyperparameters"],
        seed=cfg["seed"],
        output_dir=os.path.abspath(cfg["outputDir"]),
        checkpoint_dir=os.path.abspath(cfg["checkpointDir"]),
        every_steps=int(every["everySteps"] or 0),
        every_seconds=float(every["everySeconds"] or 0),
        resume_from=None if cfg["resumeFrom"] is None else os.path.abspath(cfg["resumeFrom"]),
        max_steps=cfg["maxSteps"],
        device=cfg["device"],
    )


def predict_config(raw: Dict[str, Any]) -> PredictConfig:
    cfg = checked(raw, "predict")
    return PredictConfig(
        model_path=os.path.abspath(cfg["modelPath"]),
        input_path=os.path.abspath(cfg["data"]["input"]),
        output_path=os.path.abspath(cfg["outputPath"]),
        device=cfg["device"],
    )


def hyperparameters(raw: Dict[str, Any], hp_schema: schema.Schema) -> Dict[str, Any]:
    """`raw` checked against a trainer's generated hyperparameter schema, its defaults filled in."""
    allowed = list(hp_schema.get("properties", {}))
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise config_error(f"unknown hyperparameter(s): {', '.join(unknown)} (allowed: {', '.join(allowed)})")
    schema.check(hp_schema, raw, prefix="hyperparameters")
    return schema.with_defaults(hp_schema, raw)
