#!/usr/bin/env python3
"""Reference trainer for the continuous-training control plane (flight delay model).

Implements the language-neutral trainer protocol described in trainers/PROTOCOL.md, through ct_trainer:

    python3 trainers/flight_delay/train.py train   --config /abs/trainer-config.json
    python3 trainers/flight_delay/train.py predict --config /abs/predict-config.json

stdout carries only JSON event lines; every human-readable log goes to stderr. Data, then torch (seconds), are
imported only once the config is known to be good, so config errors are reported in milliseconds.
"""

import sys
from pathlib import Path

# ct_trainer and flight_delay are imported from trainers/, whatever the working directory; this folder itself
# leaves sys.path, so that its modules (config, data, model...) cannot shadow top-level ones.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import ct_trainer  # noqa: E402
from flight_delay.config import parse_hyperparameters  # noqa: E402


def train(config: ct_trainer.TrainConfig, run: ct_trainer.TrainRun) -> int:
    if config.task != "binary":
        raise ct_trainer.config_error(f"'task' is {config.task!r}: the flight-delay trainer is a binary classifier")
    hp = parse_hyperparameters(config.hyperparameters)
    from flight_delay.data import load_training_splits

    splits = load_training_splits(config.train_path, config.validation_path, config.features, config.label)
    from flight_delay.training import run_train

    return run_train(config, hp, *splits, run)


def predict(config: ct_trainer.PredictConfig, events: ct_trainer.EventStream) -> int:
    if not Path(config.model_path).is_file():
        raise ct_trainer.data_error(f"model file not found: {config.model_path}")
    if not Path(config.input_path).exists():
        raise ct_trainer.data_error(f"input data file not found: {config.input_path}")
    from flight_delay.predict import run_predict

    return run_predict(config, events)


if __name__ == "__main__":
    sys.exit(ct_trainer.main(train, predict))
