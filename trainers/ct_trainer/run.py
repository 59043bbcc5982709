"""One `train` invocation's protocol duties, so a trainer's loop only trains: the started/progress/checkpoint/
metrics/done events, when a checkpoint is due, the stop flag and preemption, and the test hooks (faults.py).

Data-parallel (distributed.py): every rank runs the same loop; only progress is emitted by every rank (with its
`rank`, for the orchestrator's liveness check), everything else by rank 0, which alone writes checkpoints. A stop and
a due checkpoint are agreed by all ranks at each step, so they stop, and save, at the same step.

A loop calls, in order: `started` once; per step `stop_requested` (then `preempt`), `step_finished` (which saves a
checkpoint when one is due) and `progress` (which emits when one is due); after the last step `final_checkpoint`,
`metrics` and `done`. A `save` argument writes a checkpoint of the current step through `save_checkpoint` and
returns its path.
"""

from __future__ import annotations

import logging
import math
import os
import time
from typing import Any, Callable, Dict, Optional

from . import checkpoints
from .config import PROTOCOL_VERSION, TrainConfig
from .distributed import Ranks
from .errors import EXIT_OK, EXIT_PREEMPTED
from .events import EventStream
from .faults import Faults
from .stop import StopFlag

log = logging.getLogger("trainer")

# The protocol asks for progress at least every ~2 s; every step would flood the orchestrator.
PROGRESS_INTERVAL_SECONDS = 1.0


class TrainRun:
    """Made by `main` for the train subcommand, and handed to the trainer's train function."""

    def __init__(self, config: TrainConfig, events: EventStream, stop: StopFlag, faults: Faults,
                 ranks: Optional[Ranks] = None) -> None:
        self.config = config
        self.events = events
        self.ranks = ranks or Ranks()
        self._stop = stop
        self._faults = faults
        self._started_at = time.monotonic()
        self._last_checkpoint_step: Optional[int] = None
        self._last_checkpoint_path: Optional[str] = None
        self._last_checkpoint_time = self._last_progress_time = time.monotonic()
        self._rows_since_progress = 0
        self._step = 0

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def started(self, *, device: str, step: int, epoch: int, total_steps: int, **fields: Any) -> None:
        """Emits `started`; `fields` adds trainer-specific ones (the reference trainer's epochs, row counts)."""
        cfg = self.config
        if cfg.resume_from and os.path.dirname(cfg.resume_from) == cfg.checkpoint_dir:
            # The checkpoint we resumed from already holds this exact state; don't rewrite it.
            self._last_checkpoint_step, self._last_checkpoint_path = step, cfg.resume_from
        self._step = step
        self._emit("started", protocolVersion=PROTOCOL_VERSION, device=device, resumedFrom=cfg.resume_from,
                   step=step, epoch=epoch, totalSteps=total_steps, workers=self.ranks.world_size, **fields)
        self._last_checkpoint_time = self._last_progress_time = time.monotonic()

    def step_finished(self, step: int, rows: int, save: Callable[[], str]) -> None:
        """After every optimizer step (on `rows` samples): applies the test hooks, if set, then calls `save` when a
        checkpoint is due."""
        self._rows_since_progress += rows
        self._step = step
        self._faults.after_step(step, resumed=self.config.resume_from is not None)
        if self.ranks.agree(self._checkpoint_due(step)):
            self._save(save)

    def metrics(self, split: str, values: Dict[str, Optional[float]]) -> Dict[str, float]:
        """Emits `metrics` with the values that could be computed (finite numbers); returns them."""
        finite = {k: v for k, v in values.items() if v is not None and math.isfinite(v)}
        self._emit("metrics", split=split, values=finite)
        log.info("%s: %s", split, finite)
        return finite

    def done(self, *, model_path: str, step: int, samples_processed: int) -> int:
        self._emit("done", modelPath=model_path, step=step, samplesProcessed=samples_processed,
                   seconds=round(time.monotonic() - self._started_at, 3))
        log.info("done: %s", model_path)
        return EXIT_OK

    # -- progress ----------------------------------------------------------------------------------------------
    def progress(self, *, step: int, epoch: int, total_steps: int, loss: Callable[[], Optional[float]],
                 samples_processed: int, force: bool = False, **fields: Any) -> None:
        """Emits `progress` once a second, or now when `force` (the end of an epoch); call it after every step.

        `loss()` (the mean training loss since the previous event) is called only then, so a loss on the GPU is
        read once a second rather than every step. `samples_processed` counts across resumes (and ranks: the
        samples of the whole step); `fields` adds trainer-specific ones. Every rank emits it.
        """
        now = time.monotonic()
        elapsed = now - self._last_progress_time
        if not force and elapsed < PROGRESS_INTERVAL_SECONDS:
            return
        rate = self._rows_since_progress / elapsed if elapsed > 0 else 0.0
        if self.ranks.distributed:
            fields["rank"] = self.ranks.rank
        self.events.emit("progress", step=step, epoch=epoch, totalSteps=total_steps, loss=loss(), samplesPerSec=rate,
                         samplesProcessed=samples_processed, **fields)
        self._last_progress_time, self._rows_since_progress = now, 0

    # -- checkpoints -------------------------------------------------------------------------------------------
    def _checkpoint_due(self, step: int) -> bool:
        cfg = self.config
        return bool((cfg.every_steps and step % cfg.every_steps == 0) or
                    (cfg.every_seconds and time.monotonic() - self._last_checkpoint_time >= cfg.every_seconds))

    def save_checkpoint(self, step: int, epoch: int, write_payload: checkpoints.Writer) -> str:
        """Writes checkpoint `step` atomically with its digest, then emits `checkpoint`; returns its path."""
        path = checkpoints.checkpoint_path(self.config.checkpoint_dir, step)
        began = time.monotonic()
        nbytes = checkpoints.save_checkpoint(path, write_payload)
        self._last_checkpoint_step, self._last_checkpoint_path = step, path
        self._last_checkpoint_time = time.monotonic()
        # How long training was blocked writing it (the GPU check reports the share).
        self._emit("checkpoint", step=step, epoch=epoch, path=path, bytes=nbytes,
                         seconds=round(self._last_checkpoint_time - began, 4))
        log.info("checkpoint %s (%d bytes)", path, nbytes)
        return path

    def final_checkpoint(self, step: int, save: Callable[[], str]) -> None:
        """After the last step, when checkpointing is on: a crash in evaluation then resumes without retraining."""
        cfg = self.config
        if (cfg.every_steps or cfg.every_seconds) and self._last_checkpoint_step != step:
            self._save(save)
        if self._stop.requested:
            log.warning("%s received after the last step; finishing normally", self._stop.signal_name)

    # -- stopping ----------------------------------------------------------------------------------------------
    @property
    def stop_requested(self) -> bool:
        """A signal was received (by any rank), or the config's `maxSteps` is reached (a preflight run stops there).
        Call it once per step on every rank: the ranks agree on it."""
        return self.ranks.agree(self._stop.requested or self._at_max_steps)

    @property
    def _at_max_steps(self) -> bool:
        return self.config.max_steps is not None and self._step >= self.config.max_steps

    def preempt(self, step: int, epoch: int, save: Callable[[], str]) -> int:
        """Checkpoints `step` (unless already saved), emits `preempted`; returns the exit code to end with."""
        path = self._last_checkpoint_path if self._last_checkpoint_step == step else self._save(save)
        cause = self._stop.signal_name or ("maxSteps" if self._at_max_steps else "another rank's stop")
        self._emit("preempted", step=step, epoch=epoch, checkpointPath=path, signal=cause)
        log.warning("preempted by %s at step %d; checkpoint %s", cause, step, path)
        return EXIT_PREEMPTED

    # -- ranks -------------------------------------------------------------------------------------------------
    def _emit(self, event: str, **fields: Any) -> None:
        if self.ranks.leader:
            self.events.emit(event, **fields)

    def _save(self, save: Callable[[], str]) -> Optional[str]:
        """Rank 0 writes the checkpoint; the others hold the same state and only note the step."""
        if self.ranks.leader:
            return save()
        self._last_checkpoint_step, self._last_checkpoint_time = self._step, time.monotonic()
        return None
