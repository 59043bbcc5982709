"""ct_trainer: the trainer protocol (trainers/PROTOCOL.md) for Python trainers.

`main(train, predict)` is the whole command line: it reads and checks the config file against the schema generated
from core/trainerConfig.ts, installs the stop flag, and turns every ending into the protocol's event and exit code.
`train` gets a `TrainRun` (run.py) that emits the events, says when a checkpoint or progress is due, writes
digest-checked checkpoints atomically and handles preemption. PyTorch helpers (seeding, RNG state for exact
resumes, torch checkpoints) are in `ct_trainer.torch_runtime`, imported only by trainers that use torch.
"""

from .checkpoints import atomic_write, checkpoint_path, read_checkpoint, save_checkpoint
from .cli import main
from .config import PROTOCOL_VERSION, PredictConfig, TrainConfig, hyperparameters
from .errors import (
    EXIT_CHECKPOINT,
    EXIT_CONFIG,
    EXIT_CRASH,
    EXIT_DATA,
    EXIT_OK,
    EXIT_OOM,
    EXIT_PREEMPTED,
    TrainerError,
    checkpoint_error,
    config_error,
    data_error,
)
from .events import EventStream
from .run import TrainRun
from .schema import read_schema

__all__ = [
    "EXIT_CHECKPOINT", "EXIT_CONFIG", "EXIT_CRASH", "EXIT_DATA", "EXIT_OK", "EXIT_OOM", "EXIT_PREEMPTED",
    "PROTOCOL_VERSION", "EventStream", "PredictConfig", "TrainConfig", "TrainRun", "TrainerError",
    "atomic_write", "checkpoint_error", "checkpoint_path", "config_error", "data_error", "hyperparameters", "main",
    "read_checkpoint", "read_schema", "save_checkpoint",
]
