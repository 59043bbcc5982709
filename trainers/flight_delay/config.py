"""The flight-delay trainer's own part of the config: its hyperparameters and the features' kinds.

The hyperparameter rules and defaults come from core/trainerHyperparameters.ts (zod), written beside this file as
JSON Schema by `npm run schemas`: registration and this trainer check the same rules.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import ct_trainer

HYPERPARAMETER_SCHEMA = ct_trainer.read_schema(Path(__file__).resolve().parent / "hyperparameters.schema.json")

# Checkpoints and artifacts name their format, so a foreign or older file is refused, not misread.
CHECKPOINT_FORMAT = "ct-flight-delay-checkpoint"
MODEL_FORMAT = "ct-flight-delay-model"
FORMAT_VERSION = 1


def parse_hyperparameters(raw: Dict[str, Any]) -> Dict[str, Any]:
    hp = ct_trainer.hyperparameters(raw, HYPERPARAMETER_SCHEMA)
    hp["learningRate"] = float(hp["learningRate"])
    hp["weightDecay"] = float(hp["weightDecay"])
    hp["hiddenUnits"] = list(hp["hiddenUnits"])
    return hp
