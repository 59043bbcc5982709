"""Exit codes and the failures a trainer reports as an `error` event (trainers/PROTOCOL.md, "Exit codes").

The codes match `EXIT` in core/trainerProtocol.ts, which maps them to retry decisions.
"""

from __future__ import annotations

import sys
from typing import Optional

EXIT_OK = 0
EXIT_CRASH = 1
EXIT_CONFIG = 2
EXIT_DATA = 3
EXIT_OOM = 4
EXIT_CHECKPOINT = 5
EXIT_PREEMPTED = 75


class TrainerError(Exception):
    """A failure whose cause the trainer knows: reported as an error event, then exit `exit_code`."""

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


def classify_runtime_error(exc: BaseException) -> Optional[TrainerError]:
    """Out-of-memory failures (host, or GPU when torch is loaded) as oom errors; anything else is None."""
    if isinstance(exc, MemoryError):
        return TrainerError("oom", f"out of host memory: {exc}", EXIT_OOM)
    torch = sys.modules.get("torch")  # only a trainer that loaded torch can fail in torch
    if torch is not None:
        oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
        if oom_type is not None and isinstance(exc, oom_type):
            return TrainerError("oom", f"CUDA out of memory: {exc}", EXIT_OOM)
        if isinstance(exc, RuntimeError):
            text = str(exc)
            if "out of memory" in text or "can't allocate memory" in text:
                return TrainerError("oom", f"out of memory: {text.splitlines()[0]}", EXIT_OOM)
    return None
