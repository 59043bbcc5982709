#!/usr/bin/env python3
"""A trainer whose checkpoints cannot be resumed, for test/integration/preflight.test.ts: it trains (20 steps of
nothing), writes checkpoints when due, but its checkpoint leaves out the optimizer state that its resume needs, the
kind of bug that shows only after a preemption. Preflight's resume run finds it (exit 5).

    python3 test/helpers/unresumable_trainer.py train --config /abs/trainer-config.json
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "trainers"))

import ct_trainer  # noqa: E402

TOTAL_STEPS = 20


def train(cfg: ct_trainer.TrainConfig, run: ct_trainer.TrainRun) -> int:
    step = 0
    if cfg.resume_from:
        state = json.loads(ct_trainer.read_checkpoint(cfg.resume_from))
        if "optimizer" not in state:
            raise ct_trainer.checkpoint_error(f"{cfg.resume_from} holds no optimizer state")
        step = state["step"]

    def save() -> str:
        return run.save_checkpoint(step, 0, lambda fh: fh.write(json.dumps({"step": step}).encode()))

    run.started(device="cpu", step=step, epoch=0, total_steps=TOTAL_STEPS)
    while step < TOTAL_STEPS:
        if run.stop_requested:
            return run.preempt(step, 0, save)
        step += 1
        run.step_finished(step, rows=1, save=save)
        run.progress(step=step, epoch=0, total_steps=TOTAL_STEPS, loss=lambda: 0.0, samples_processed=step)
    run.final_checkpoint(step, save)
    raise ct_trainer.config_error("unresumable_trainer writes no model: it exists to fail preflight")


if __name__ == "__main__":
    raise SystemExit(ct_trainer.main(train))
