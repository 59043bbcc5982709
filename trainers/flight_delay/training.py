"""The train subcommand: AdamW with a cosine schedule over seeded epoch permutations, resumable bit for bit.

Everything a step depends on lives in `Training` and goes into each checkpoint: model, optimizer and schedule
state, every RNG, the place in the current epoch's permutation and the generator behind it. The protocol's duties
(events, when to checkpoint, stopping, test hooks) belong to ct_trainer's TrainRun.

Data-parallel (`trainer.workers` > 1): every rank draws the same permutation and takes every world_size-th row of
each batch, and DistributedDataParallel averages the gradients, so the steps, the schedule and the place in the data
(the sampler's position is `position` in the permutation) are those of one worker: a checkpoint written by rank 0
resumes any number of ranks on the same trajectory.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

from ct_trainer import EXIT_OK, PROTOCOL_VERSION, TrainConfig, TrainRun, atomic_write, checkpoint_error, config_error
from ct_trainer.distributed import Ranks
from ct_trainer.torch_runtime import (capture_rng, cpu_state_dict, load_torch_checkpoint, resolve_device,
                                      restore_rng, seed_everything, torch, torch_payload)

from .config import CHECKPOINT_FORMAT, FORMAT_VERSION, MODEL_FORMAT
from .data import RawSplit, compute_preprocessing, data_fingerprint, encode_split
from .metrics import validation_metrics
from .model import Batches, build_model, predict_logits

log = logging.getLogger("trainer")

Resume = Dict[str, Any]
RESUME_FIELDS = ("model", "optimizer", "scheduler", "rng", "epoch", "step", "position", "permGeneratorState",
                 "vocabularies", "numericStats", "trainRows", "trainFingerprint", "samplesProcessed", "totalSteps")


@dataclass
class Encoded:
    """Both splits as arrays, with the preprocessing that encoded them."""
    vocabs: Dict[str, Any]
    stats: Dict[str, Any]
    x_num: np.ndarray
    x_cat: np.ndarray
    y: np.ndarray
    fingerprint: str
    vx_num: np.ndarray
    vx_cat: np.ndarray
    vy: np.ndarray


def load_resume(cfg: TrainConfig, hp: Dict[str, Any]) -> Resume:
    path = cfg.resume_from
    ck = load_torch_checkpoint(path, CHECKPOINT_FORMAT, FORMAT_VERSION)
    for key, value in (("features", cfg.features), ("label", cfg.label), ("hyperparameters", hp), ("seed", cfg.seed)):
        if ck.get(key) != value:
            raise checkpoint_error(
                f"resume checkpoint {path} is incompatible: '{key}' differs from the config "
                f"(checkpoint {ck.get(key)!r}, config {value!r})")
    missing = [k for k in RESUME_FIELDS if k not in ck]
    if missing:
        raise checkpoint_error(f"resume checkpoint {path} lacks field(s): {', '.join(missing)}")
    return ck


def encode(cfg: TrainConfig, train: RawSplit, valid: RawSplit, resume: Optional[Resume]) -> Encoded:
    """A resumed run keeps the preprocessing it started with, and must see the same training rows."""
    if resume is not None:
        vocabs, stats = resume["vocabularies"], resume["numericStats"]
    else:
        vocabs, stats = compute_preprocessing(train, cfg.features)
    x_num, x_cat = encode_split(train, cfg.features, vocabs, stats)
    fingerprint = data_fingerprint(x_num, x_cat, train.labels)
    if resume is not None and (resume["trainRows"] != train.rows or resume["trainFingerprint"] != fingerprint):
        raise checkpoint_error(
            f"resume checkpoint {cfg.resume_from} is incompatible: it was written for different "
            f"training data ({resume['trainRows']} rows) than {cfg.train_path} ({train.rows} rows)")
    vx_num, vx_cat = encode_split(valid, cfg.features, vocabs, stats)
    return Encoded(vocabs, stats, x_num, x_cat, train.labels, fingerprint, vx_num, vx_cat, valid.labels)


def cosine_schedule(total_steps: int) -> Callable[[int], float]:
    return lambda s: 0.5 * (1.0 + math.cos(math.pi * min(s, total_steps) / total_steps))


class Training:
    """The model, its optimizer and schedule, and the place in the data: one step at a time."""

    def __init__(self, cfg: TrainConfig, hp: Dict[str, Any], enc: Encoded, device: torch.device,
                 ranks: Ranks) -> None:
        self.cfg, self.hp, self.enc, self.device, self.ranks = cfg, hp, enc, device, ranks
        self.rows = len(enc.y)
        self.n_batches = (self.rows + hp["batchSize"] - 1) // hp["batchSize"]
        self.total_steps = hp["epochs"] * self.n_batches
        seed_everything(cfg.seed)  # before the model, whose initial weights it decides
        self.model = build_model(cfg.features, enc.vocabs, hp).to(device)
        # Trains through the wrapper; checkpoints and the model file hold the plain module's state.
        self.forward = torch.nn.parallel.DistributedDataParallel(self.model) if ranks.distributed else self.model
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=hp["learningRate"],
                                           weight_decay=hp["weightDecay"])
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, cosine_schedule(self.total_steps))
        self.perm_gen = torch.Generator().manual_seed(cfg.seed)
        self.step = self.epoch = self.position = self.samples = 0
        self.perm: Optional[torch.Tensor] = None  # this epoch's permutation, drawn at its first step
        self.epoch_gen_state: Optional[torch.Tensor] = None  # perm_gen's state before `perm` was drawn
        self.batch_iter: Any = None
        self.use_amp = device.type == "cuda" and torch.cuda.is_bf16_supported()
        self.loss_fn = torch.nn.BCEWithLogitsLoss()
        self.batches = Batches((torch.from_numpy(enc.x_num), torch.from_numpy(enc.x_cat), torch.from_numpy(enc.y)),
                               device, hp["batchSize"], (ranks.rank, ranks.world_size))

    def restore(self, ck: Resume) -> None:
        path = self.cfg.resume_from
        try:
            self.model.load_state_dict(ck["model"])
            self.optimizer.load_state_dict(ck["optimizer"])
            self.scheduler.load_state_dict(ck["scheduler"])
            restore_rng(ck["rng"], self.device)
            self.perm_gen.set_state(ck["permGeneratorState"])
            self.step, self.epoch = int(ck["step"]), int(ck["epoch"])
            self.position, self.samples = int(ck["position"]), int(ck["samplesProcessed"])
        except Exception as exc:
            raise checkpoint_error(
                f"resume checkpoint {path} does not fit this model: {type(exc).__name__}: {exc}")
        if ck["totalSteps"] != self.total_steps or not (0 <= self.position < self.n_batches) \
                or self.step != self.epoch * self.n_batches + self.position:
            raise checkpoint_error(
                f"resume checkpoint {path} has an inconsistent position "
                f"(step {self.step}, epoch {self.epoch}, batch {self.position})")
        log.info("resumed from %s at step %d (epoch %d, batch %d)", path, self.step, self.epoch, self.position)

    def train_step(self) -> Tuple[torch.Tensor, int, bool]:
        """One optimizer step on the next batch (this rank's share of it); returns its loss, the batch's rows (all
        ranks') and whether it ended the epoch."""
        if self.perm is None:
            self.epoch_gen_state = self.perm_gen.get_state()
            self.perm = torch.randperm(self.rows, generator=self.perm_gen)
            self.batch_iter = self.batches.iterate(self.perm, self.position, self.n_batches)
        xb_num, xb_cat, yb = next(self.batch_iter)
        with torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=self.use_amp):
            logits = self.forward(xb_num, xb_cat)
        # A rank whose share of a short last batch is empty still joins the gradient average, with zeros.
        loss = self.loss_fn(logits.float(), yb) if yb.shape[0] else logits.float().sum() * 0.0
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        rows = min(self.hp["batchSize"], self.rows - self.position * self.hp["batchSize"])
        self.step += 1
        self.position += 1
        self.samples += rows
        end_of_epoch = self.position == self.n_batches
        if end_of_epoch:
            self.epoch, self.position, self.perm, self.batch_iter = self.epoch + 1, 0, None, None
        return loss, rows, end_of_epoch

    def checkpoint_state(self) -> Dict[str, Any]:
        cfg, enc = self.cfg, self.enc
        return {
            "format": CHECKPOINT_FORMAT, "formatVersion": FORMAT_VERSION, "protocolVersion": PROTOCOL_VERSION,
            "model": cpu_state_dict(self.model),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": capture_rng(self.device),
            "epoch": self.epoch, "step": self.step, "position": self.position, "totalSteps": self.total_steps,
            "samplesProcessed": self.samples,
            # State before the permutation of epoch `epoch` is drawn.
            "permGeneratorState": self.perm_gen.get_state() if self.perm is None else self.epoch_gen_state,
            "vocabularies": enc.vocabs, "numericStats": enc.stats,
            "features": cfg.features, "label": cfg.label, "hyperparameters": self.hp, "seed": cfg.seed,
            "trainRows": self.rows, "trainFingerprint": enc.fingerprint,
        }

    def save_checkpoint(self, run: TrainRun) -> str:
        return run.save_checkpoint(self.step, self.epoch, torch_payload(self.checkpoint_state()))


class LossMeter:
    """Training loss summed on the device (no GPU sync per step), averaged per progress event."""

    def __init__(self, device: torch.device) -> None:
        self.total = torch.zeros((), dtype=torch.float64, device=device)
        self.rows = 0

    def add(self, loss: torch.Tensor, rows: int) -> None:
        self.total += loss.detach().double() * rows
        self.rows += rows

    def take(self) -> Optional[float]:
        """The mean loss since the previous call."""
        mean = float(self.total.item()) / self.rows if self.rows else None
        self.total.zero_()
        self.rows = 0
        return mean


def epoch_validation(t: Training) -> Dict[str, Optional[float]]:
    """The validation split's loss and AUC now (what a sweep ranks trials by); the model goes back to training."""
    values = validation_metrics(predict_logits(t.model, t.enc.vx_num, t.enc.vx_cat, t.device), t.enc.vy)
    t.model.train()
    return {k: v for k, v in values.items() if k != "rows"}


def train_loop(t: Training, run: TrainRun) -> Optional[int]:
    """Trains to the last step; returns the exit code if stopped early, else None."""
    meter = LossMeter(t.device)
    save = partial(t.save_checkpoint, run)
    t.model.train()
    while t.step < t.total_steps:
        if run.stop_requested:
            return run.preempt(t.step, t.epoch, save)
        loss, rows, end_of_epoch = t.train_step()
        meter.add(loss, rows)
        run.step_finished(t.step, rows, save)
        run.progress(step=t.step, epoch=t.epoch, total_steps=t.total_steps, loss=meter.take,
                     samples_processed=t.samples, force=end_of_epoch, endOfEpoch=end_of_epoch,
                     learningRate=t.scheduler.get_last_lr()[0],
                     **({"validation": epoch_validation(t)} if end_of_epoch and run.ranks.leader else {}))
    return None


def save_model(t: Training, metrics: Dict[str, float]) -> str:
    """The artifact predict needs (no optimizer state), a plain torch.save file: users may load it themselves."""
    cfg, enc = t.cfg, t.enc
    artifact = {
        "format": MODEL_FORMAT, "formatVersion": FORMAT_VERSION, "protocolVersion": PROTOCOL_VERSION,
        "stateDict": cpu_state_dict(t.model),
        "features": cfg.features, "label": cfg.label, "vocabularies": enc.vocabs, "numericStats": enc.stats,
        "hyperparameters": t.hp, "seed": cfg.seed, "step": t.step,
        "validationMetrics": metrics,
    }
    path = os.path.join(cfg.output_dir, "model.pt")
    atomic_write(path, torch_payload(artifact))
    return path


def prepare(cfg: TrainConfig, hp: Dict[str, Any], train: RawSplit, valid: RawSplit, ranks: Ranks) -> Training:
    device = resolve_device(cfg.device)
    if ranks.distributed:
        device = ranks.init(device)
    for d in (cfg.output_dir, cfg.checkpoint_dir):
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as exc:
            raise config_error(f"cannot create directory {d}: {exc}")
    resume = load_resume(cfg, hp) if cfg.resume_from else None
    t = Training(cfg, hp, encode(cfg, train, valid, resume), device, ranks)
    if resume is not None:
        t.restore(resume)
    return t


def run_train(cfg: TrainConfig, hp: Dict[str, Any], train: RawSplit, valid: RawSplit, run: TrainRun) -> int:
    t = prepare(cfg, hp, train, valid, run.ranks)
    run.started(device=t.device.type, step=t.step, epoch=t.epoch, total_steps=t.total_steps, epochs=hp["epochs"],
                trainRows=t.rows, validationRows=valid.rows)
    log.info("training on %s: %d rows, %d steps/epoch, %d total steps, %d torch threads",
             t.device, t.rows, t.n_batches, t.total_steps, torch.get_num_threads())
    stopped = train_loop(t, run)
    if stopped is not None:
        return stopped
    run.final_checkpoint(t.step, partial(t.save_checkpoint, run))
    if not run.ranks.leader:
        return EXIT_OK  # rank 0 evaluates and writes the model
    metrics = run.metrics("validation", validation_metrics(predict_logits(t.model, t.enc.vx_num, t.enc.vx_cat,
                                                                          t.device), t.enc.vy))
    return run.done(model_path=save_model(t, metrics), step=t.step, samples_processed=t.samples)
