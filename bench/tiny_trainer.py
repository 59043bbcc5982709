#!/usr/bin/env python3
"""A trainer that does almost nothing, for bench/overhead.ts and bench/load.ts (trainers/PROTOCOL.md, through
ct_trainer): one step, no checkpoints, a "model" that scores every row 0.5. The orchestration around it is what
those benchmarks measure, so it reads only the row counts from the Parquet footers.

    python3 bench/tiny_trainer.py train   --config /abs/trainer-config.json
    python3 bench/tiny_trainer.py predict --config /abs/predict-config.json
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "trainers"))

import ct_trainer  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402


def _no_checkpoint() -> str:
    raise ct_trainer.config_error("tiny_trainer writes no checkpoints: set checkpoint.everySteps and everySeconds to 0")


def train(cfg: ct_trainer.TrainConfig, run: ct_trainer.TrainRun) -> int:
    rows = pq.read_metadata(cfg.train_path).num_rows
    run.started(device="cpu", step=0, epoch=0, total_steps=1)
    run.step_finished(1, rows=rows, save=_no_checkpoint)
    run.progress(step=1, epoch=0, total_steps=1, loss=lambda: 0.0, samples_processed=rows, force=True)
    run.metrics("validation", {"loss": 0.0, "rows": float(pq.read_metadata(cfg.validation_path).num_rows)})
    path = os.path.join(cfg.output_dir, "model.pt")
    ct_trainer.atomic_write(path, lambda fh: fh.write(b"tiny"))
    return run.done(model_path=path, step=1, samples_processed=rows)


def predict(cfg: ct_trainer.PredictConfig, events: ct_trainer.EventStream) -> int:
    rows = pq.read_metadata(cfg.input_path).num_rows
    ct_trainer.atomic_write(cfg.output_path, lambda fh: fh.write(b"0.5\n" * rows))
    events.emit("done", rows=rows, outputPath=cfg.output_path)
    return ct_trainer.EXIT_OK


if __name__ == "__main__":
    raise SystemExit(ct_trainer.main(train, predict))
