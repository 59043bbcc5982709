#!/usr/bin/env python3
"""Multiclass example trainer (`train.py train|predict --config FILE`, trainers/PROTOCOL.md): a small CNN on 8×8
digits. The features are the 64 pixels (0..16), row-major in `features` order; the label is the digit 0..9."""

import hashlib
import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent  # ct_trainer is in trainers/; this folder leaves sys.path (shadows nothing)
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import ct_trainer  # noqa: E402
from ct_trainer import checkpoint_error, config_error, data_error  # noqa: E402

HP_SCHEMA = ct_trainer.read_schema(_HERE / "hyperparameters.schema.json")
CHECKPOINT_FORMAT, MODEL_FORMAT, VERSION = "ct-digits-checkpoint", "ct-digits-model", 1
CLASSES, SIDE = 10, 8


def read_split(path, columns, label, split):
    """Pixels as float32 [N, 1, 8, 8] scaled to 0..1, and labels as int64 (None when `label` is None)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:  # a missing file too
        raise data_error(f"cannot read {split} parquet {path}: {exc}")
    missing = [c for c in columns + [label] if c is not None and c not in table.column_names]
    if missing:
        raise data_error(f"{split} data {path} is missing column(s): {', '.join(missing)}")
    for c in columns:
        col = table.column(c)
        if not (pa.types.is_integer(col.type) or pa.types.is_floating(col.type)) or col.null_count:
            raise data_error(f"feature '{c}' in {split} data must be numbers without missing values "
                             f"(type {col.type}, {col.null_count} missing)")
    x = np.stack([table.column(c).to_numpy() for c in columns], axis=1).astype(np.float32) / 16.0
    labels = table.column(label).to_pylist() if label else []  # a few thousand rows: plain Python is clearest
    bad = [v for v in labels if type(v) is not int or not 0 <= v < CLASSES]
    if bad:
        raise data_error(f"label column '{label}' in {split} data must hold integers 0..9; found {bad[0]!r}")
    return x.reshape(-1, 1, SIDE, SIDE), np.array(labels, dtype=np.int64) if label else None


def build_model(hp):
    from ct_trainer.torch_runtime import torch
    layers, width, side = [], 1, SIDE
    for channels in hp["channels"]:
        layers += [torch.nn.Conv2d(width, channels, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
        width, side = channels, side // 2
    return torch.nn.Sequential(*layers, torch.nn.Flatten(), torch.nn.Dropout(hp["dropout"]),
                               torch.nn.Linear(width * side * side, CLASSES))


def train(cfg: ct_trainer.TrainConfig, run: ct_trainer.TrainRun) -> int:
    hp = ct_trainer.hyperparameters(cfg.hyperparameters, HP_SCHEMA)
    if cfg.task != "multiclass" or cfg.classes != CLASSES:
        raise config_error(f"'task' must be 'multiclass' with 'classes' {CLASSES} (got {cfg.task!r}, {cfg.classes!r})")
    if len(cfg.features) != SIDE * SIDE or any(f["type"] != "numeric" for f in cfg.features):
        raise config_error(f"'features' must be the {SIDE * SIDE} numeric pixels of an {SIDE}×{SIDE} image, row-major "
                           f"(got {len(cfg.features)}, of types {sorted({f['type'] for f in cfg.features})})")
    names = [f["name"] for f in cfg.features]
    x, y = read_split(cfg.train_path, names, cfg.label, "train")
    vx, vy = read_split(cfg.validation_path, names, cfg.label, "validation")
    if len(y) == 0:
        raise data_error(f"training data {cfg.train_path} has no rows")
    fingerprint = hashlib.sha256(x.tobytes() + y.tobytes()).hexdigest()  # a resume must see the same rows
    from ct_trainer.torch_runtime import (capture_rng, cpu_state_dict, load_torch_checkpoint, resolve_device,
                                          restore_rng, seed_everything, torch, torch_payload)
    F = torch.nn.functional
    device = resolve_device(cfg.device)
    x, y, vx, vy = (torch.from_numpy(a).to(device) for a in (x, y, vx, vy))
    seed_everything(cfg.seed)  # before the model, whose initial weights it decides
    model = build_model(hp).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=hp["learningRate"], weight_decay=hp["weightDecay"])
    perm_gen = torch.Generator().manual_seed(cfg.seed)
    total = hp["epochs"] * (n_batches := -(-len(y) // hp["batchSize"]))
    step = epoch = position = samples = 0
    perm = gen_state = None  # this epoch's permutation (drawn at its first step) and perm_gen's state before it
    identity = dict(features=cfg.features, label=cfg.label, hyperparameters=hp, seed=cfg.seed, trainData=fingerprint)
    if cfg.resume_from:
        ck = load_torch_checkpoint(cfg.resume_from, CHECKPOINT_FORMAT, VERSION)
        if differs := [k for k, v in identity.items() if ck.get(k) != v]:
            raise checkpoint_error(f"resume checkpoint {cfg.resume_from} is incompatible: its "
                                   f"{', '.join(differs)} differ(s) from this run's")
        try:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            restore_rng(ck["rng"], device)
            perm_gen.set_state(ck["permGeneratorState"])
            step, epoch, position, samples = ck["step"], ck["epoch"], ck["position"], ck["samplesProcessed"]
        except Exception as exc:
            raise checkpoint_error(f"resume checkpoint {cfg.resume_from} does not fit: {type(exc).__name__}: {exc}")

    def save():
        return run.save_checkpoint(step, epoch, torch_payload({
            "format": CHECKPOINT_FORMAT, "formatVersion": VERSION, **identity,
            "model": cpu_state_dict(model), "optimizer": opt.state_dict(), "rng": capture_rng(device),
            "step": step, "epoch": epoch, "position": position, "samplesProcessed": samples,
            "permGeneratorState": perm_gen.get_state() if perm is None else gen_state}))

    def evaluate():
        with torch.inference_mode():
            logits = model.eval()(vx).float()
        model.train()
        return {"loss": F.cross_entropy(logits, vy).item(), "accuracy": (logits.argmax(1) == vy).float().mean().item()}

    pending = []  # (loss × rows, rows) per step since the last progress event: read from the device only then
    def mean_loss():
        value = sum(s for s, _ in pending).item() / sum(n for _, n in pending)
        pending.clear()
        return value

    run.started(device=device.type, step=step, epoch=epoch, total_steps=total, epochs=hp["epochs"],
                trainRows=len(y), validationRows=len(vy))
    while step < total:
        if run.stop_requested:
            return run.preempt(step, epoch, save)
        if perm is None:
            gen_state = perm_gen.get_state()
            perm = torch.randperm(len(y), generator=perm_gen).to(device)
        idx = perm[position * hp["batchSize"]:(position + 1) * hp["batchSize"]]
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            logits = model(x[idx])
        loss = F.cross_entropy(logits.float(), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step, position, samples = step + 1, position + 1, samples + len(idx)
        pending.append((loss.detach() * len(idx), len(idx)))
        if end_of_epoch := position == n_batches:
            epoch, position, perm = epoch + 1, 0, None
        run.step_finished(step, len(idx), save)
        run.progress(step=step, epoch=epoch, total_steps=total, loss=mean_loss, samples_processed=samples,
                     force=end_of_epoch, endOfEpoch=end_of_epoch,
                     **({"validation": evaluate()} if end_of_epoch else {}))  # for successive-halving sweeps
    run.final_checkpoint(step, save)
    metrics = run.metrics("validation", {**evaluate(), "rows": len(vy)})
    path = os.path.join(cfg.output_dir, "model.pt")
    ct_trainer.atomic_write(path, torch_payload({"format": MODEL_FORMAT, "formatVersion": VERSION, **identity,
                                                 "stateDict": cpu_state_dict(model), "validationMetrics": metrics}))
    return run.done(model_path=path, step=step, samples_processed=samples)


def predict(cfg: ct_trainer.PredictConfig, events: ct_trainer.EventStream) -> int:
    from ct_trainer.torch_runtime import resolve_device, torch, torch_load
    device = resolve_device(cfg.device)
    try:  # a missing file too
        art = torch_load(cfg.model_path)
        if not isinstance(art, dict) or (art.get("format"), art.get("formatVersion")) != (MODEL_FORMAT, VERSION):
            raise ValueError(f"not a {MODEL_FORMAT} v{VERSION} artifact")
        model = build_model(art["hyperparameters"])
        model.load_state_dict(art["stateDict"])
    except Exception as exc:
        raise data_error(f"model {cfg.model_path} cannot be loaded: {type(exc).__name__}: {exc}")
    x, _ = read_split(cfg.input_path, [f["name"] for f in art["features"]], None, "input")
    with torch.inference_mode():
        probs = torch.softmax(model.to(device).eval()(torch.from_numpy(x).to(device)).double(), dim=1).cpu()
    text = "".join(",".join(f"{p:.9g}" for p in row) + "\n" for row in probs.tolist())
    ct_trainer.atomic_write(cfg.output_path, lambda fh: fh.write(text.encode("ascii")))
    events.emit("done", rows=len(x), outputPath=cfg.output_path)
    return ct_trainer.EXIT_OK


if __name__ == "__main__":
    sys.exit(ct_trainer.main(train, predict))
