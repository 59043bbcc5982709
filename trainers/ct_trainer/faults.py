"""Fault injection: the one place where tests reach into a trainer (trainers/PROTOCOL.md, "Test hooks").

Integration tests set these environment variables; production never does. `TrainRun.step_finished` applies them
after every optimizer step, so a trainer's own loop holds no test code.

- CT_TRAINER_STEP_DELAY_MS=<n>: sleep n ms after each step, so that tests can interrupt a run mid-way.
- CT_TRAINER_FAIL_AT_STEP=<n>: right after step n (before any checkpoint for it), exit 1 without an event, like a
  crash. Only when the run does not resume, so a retry that resumes succeeds.

A value that is not a non-negative integer is a config error (exit 2).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import Mapping, Optional

from .errors import EXIT_CRASH, config_error

log = logging.getLogger("trainer")


def _env_int(env: Mapping[str, str], name: str) -> Optional[int]:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise config_error(f"environment variable {name} must be an integer, got {raw!r}")
    if value < 0:
        raise config_error(f"environment variable {name} must be >= 0, got {raw!r}")
    return value


@dataclass(frozen=True)
class Faults:
    step_delay_ms: Optional[int] = None
    fail_at_step: Optional[int] = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Faults":
        return cls(_env_int(env, "CT_TRAINER_STEP_DELAY_MS"), _env_int(env, "CT_TRAINER_FAIL_AT_STEP"))

    def after_step(self, step: int, resumed: bool) -> None:
        if self.step_delay_ms:
            time.sleep(self.step_delay_ms / 1000.0)
        if self.fail_at_step is not None and step == self.fail_at_step and not resumed:
            log.error("CT_TRAINER_FAIL_AT_STEP=%d reached: simulating a crash", self.fail_at_step)
            sys.stderr.flush()
            os._exit(EXIT_CRASH)
