"""Protocol tests for the reference trainer (trainers/flight_delay/train.py).

Run from the repository root:
    python -m pytest trainers/ -q
Every test drives the trainer as a subprocess, exactly as the orchestrator does. The SDK's own tests are in
test_ct_trainer.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from flight_delay.metrics import roc_auc

TRAINER = Path(__file__).resolve().parent / "flight_delay" / "train.py"
FEATURES = [
    {"name": "hour", "type": "numeric"},
    {"name": "weekday", "type": "categorical"},
    {"name": "distance", "type": "numeric"},
    {"name": "origin", "type": "categorical"},
    {"name": "destination", "type": "categorical"},
]
# 4000 rows / batch 256 -> 16 steps per epoch, 48 steps in total.
HYPERPARAMETERS = {"epochs": 3, "batchSize": 256, "learningRate": 0.01, "embeddingDim": 4,
                   "hiddenUnits": [16, 8], "weightDecay": 0.0}
TOTAL_STEPS = 48


# --------------------------------------------------------------------------- helpers

def synthetic_table(n: int, rng: np.random.Generator) -> pa.Table:
    airports = [f"AP{i:02d}" for i in range(12)]
    airport_effect = dict(zip(airports, np.linspace(-1.5, 1.5, len(airports))))
    hour = rng.integers(0, 24, n)
    weekday = rng.integers(0, 7, n)  # an int column used as a categorical feature
    distance = rng.gamma(2.0, 400.0, n)
    origin = rng.choice(airports, n)
    destination = rng.choice(airports, n)
    z = (0.12 * (hour - 12) + 0.8 * (weekday == 4) + 0.0008 * (distance - 800)
         + np.array([airport_effect[a] for a in origin]))
    label = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(np.int64)
    return pa.table({"hour": hour.astype(np.int64), "weekday": weekday.astype(np.int64),
                     "distance": distance, "origin": origin, "destination": destination,
                     "label": label})


def train_config(tmp: Path, data: dict, **overrides) -> dict:
    cfg = {
        "protocolVersion": 1,
        "mode": "train",
        "data": {"format": "parquet", "train": data["train"], "validation": data["validation"]},
        "features": FEATURES,
        "label": "label",
        "hyperparameters": dict(HYPERPARAMETERS),
        "seed": 7,
        "outputDir": str(tmp / "out"),
        "checkpointDir": str(tmp / "ckpt"),
        "checkpoint": {"everySteps": 5, "everySeconds": None},
        "resumeFrom": None,
        "device": "cpu",
    }
    cfg.update(overrides)
    return cfg


def write_config(tmp: Path, cfg: dict, name: str = "config.json") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / name
    path.write_text(json.dumps(cfg))
    return path


def trainer_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CT_TRAINER_")}
    env.update(extra)
    return env


def parse_events(stdout: str) -> list:
    events = []
    for line in stdout.splitlines():
        obj = json.loads(line)  # stdout must carry nothing but JSON lines
        assert isinstance(obj, dict) and "event" in obj, line
        events.append(obj)
    return events


def run_trainer(mode: str, config: Path, env: dict | None = None):
    # Run from elsewhere: the trainer must depend on neither the working directory nor its own folder.
    proc = subprocess.run([sys.executable, str(TRAINER), mode, "--config", str(config)], cwd="/",
                          capture_output=True, text=True, env=env or trainer_env(), timeout=120)
    return proc.returncode, parse_events(proc.stdout), proc.stderr


def of_type(events: list, name: str) -> list:
    return [e for e in events if e["event"] == name]


def load_weights(model_path: str) -> dict:
    import torch

    return torch.load(model_path, map_location="cpu", weights_only=True)["stateDict"]


def assert_same_weights(path_a: str, path_b: str) -> None:
    import torch

    a, b = load_weights(path_a), load_weights(path_b)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"parameter {key} differs"


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(1234)
    paths = {"train": str(root / "train.parquet"), "validation": str(root / "validation.parquet")}
    pq.write_table(synthetic_table(4000, rng), paths["train"])
    pq.write_table(synthetic_table(1000, rng), paths["validation"])
    return paths


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, data) -> dict:
    """One uninterrupted run; other tests compare against its final weights."""
    tmp = tmp_path_factory.mktemp("baseline")
    cfg = train_config(tmp, data)
    rc, events, stderr = run_trainer("train", write_config(tmp, cfg))
    return {"rc": rc, "events": events, "stderr": stderr, "cfg": cfg, "tmp": tmp}


# --------------------------------------------------------------------------- tests

def test_train_succeeds_and_emits_protocol_events(baseline):
    assert baseline["rc"] == 0, baseline["stderr"]
    events = baseline["events"]
    names = [e["event"] for e in events]
    assert names[0] == "started" and names[-2:] == ["metrics", "done"]
    assert {"progress", "checkpoint"} <= set(names)

    started = events[0]
    assert started["protocolVersion"] == 1 and started["device"] == "cpu"
    assert started["resumedFrom"] is None and started["step"] == 0
    assert started["totalSteps"] == TOTAL_STEPS
    assert started["trainRows"] == 4000 and started["validationRows"] == 1000

    progress = of_type(events, "progress")
    assert sum(p["endOfEpoch"] for p in progress) == 3  # one at the end of every epoch
    # Validation metrics at each epoch end (what a sweep ranks trials by), and only there.
    at_epoch_end = [p["validation"] for p in progress if p["endOfEpoch"]]
    assert len(at_epoch_end) == 3 and all(set(v) == {"loss", "auc"} and 0 <= v["auc"] <= 1 for v in at_epoch_end)
    assert not any("validation" in p for p in progress if not p["endOfEpoch"])
    assert progress[-1]["step"] == TOTAL_STEPS and progress[-1]["samplesProcessed"] == 3 * 4000
    assert all(p["loss"] > 0 and p["samplesPerSec"] > 0 for p in progress)

    checkpoints = of_type(events, "checkpoint")
    assert [c["step"] for c in checkpoints][:3] == [5, 10, 15]
    for c in checkpoints:
        assert os.path.basename(c["path"]) == f"step-{c['step']:08d}.pt"
        assert os.path.getsize(c["path"]) == c["bytes"] > 0
    ckpt_dir = Path(baseline["cfg"]["checkpointDir"])
    assert not [p for p in ckpt_dir.iterdir() if ".tmp" in p.name]  # no temp files left

    metrics = of_type(events, "metrics")[0]
    assert metrics["split"] == "validation" and metrics["values"]["rows"] == 1000
    assert metrics["values"]["auc"] > 0.6
    assert 0 < metrics["values"]["loss"] < 0.7

    done = events[-1]
    assert done["step"] == TOTAL_STEPS and done["samplesProcessed"] == 12000
    assert os.path.isfile(done["modelPath"])
    assert done["modelPath"] == os.path.join(baseline["cfg"]["outputDir"], "model.pt")


def test_crash_then_resume_reproduces_uninterrupted_weights(tmp_path, data, baseline):
    assert baseline["rc"] == 0, baseline["stderr"]
    cfg = train_config(tmp_path, data)
    # Crash after step 23 (mid epoch 2); the last checkpoint is step 20.
    rc, events, stderr = run_trainer("train", write_config(tmp_path, cfg),
                                     trainer_env(CT_TRAINER_FAIL_AT_STEP="23"))
    assert rc == 1, stderr
    assert not of_type(events, "done")
    last = of_type(events, "checkpoint")[-1]
    assert last["step"] == 20

    cfg["resumeFrom"] = last["path"]
    # The fail hook is ignored when resuming, so a retry with the same env succeeds.
    rc, events, stderr = run_trainer("train", write_config(tmp_path, cfg, "resume.json"),
                                     trainer_env(CT_TRAINER_FAIL_AT_STEP="23"))
    assert rc == 0, stderr
    started = events[0]
    assert started["resumedFrom"] == last["path"] and started["step"] == 20
    assert started["epoch"] == 1
    done = events[-1]
    assert done["event"] == "done" and done["step"] == TOTAL_STEPS
    assert done["samplesProcessed"] == 12000
    assert_same_weights(done["modelPath"], baseline["events"][-1]["modelPath"])
    assert of_type(events, "metrics")[0]["values"] == of_type(baseline["events"], "metrics")[0]["values"]


def test_sigterm_checkpoints_exits_75_and_resumes_exactly(tmp_path, data, baseline):
    assert baseline["rc"] == 0, baseline["stderr"]
    cfg = train_config(tmp_path, data, checkpoint={"everySteps": None, "everySeconds": None})
    proc = subprocess.Popen(
        [sys.executable, str(TRAINER), "train", "--config", str(write_config(tmp_path, cfg))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=trainer_env(CT_TRAINER_STEP_DELAY_MS="40"))
    stderr_chunks: list = []
    threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()), daemon=True).start()
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if json.loads(line)["event"] == "started":
                break
        time.sleep(0.6)  # ~15 steps in
        proc.send_signal(signal.SIGTERM)
        lines.extend(proc.stdout)
        rc = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    events = parse_events("".join(lines))
    assert rc == 75, "".join(stderr_chunks)
    preempted = of_type(events, "preempted")
    assert len(preempted) == 1 and events[-1]["event"] == "preempted"
    step = preempted[0]["step"]
    assert 0 < step < TOTAL_STEPS
    path = preempted[0]["checkpointPath"]
    assert os.path.isfile(path) and os.path.basename(path) == f"step-{step:08d}.pt"
    assert of_type(events, "checkpoint")[-1]["path"] == path  # event emitted for it too
    assert not of_type(events, "done")

    cfg["resumeFrom"] = path
    rc, events, stderr = run_trainer("train", write_config(tmp_path, cfg, "resume.json"))
    assert rc == 0, stderr
    assert events[0]["step"] == step
    assert_same_weights(events[-1]["modelPath"], baseline["events"][-1]["modelPath"])


@pytest.mark.parametrize("hyperparameters, field", [
    ({"learningRate": -0.1}, "learningRate"),
    ({"epochs": 0}, "epochs"),
    ({"batchSize": "big"}, "batchSize"),
    ({"dropout": 0.5}, "dropout"),
])
def test_bad_hyperparameter_is_config_error(tmp_path, data, hyperparameters, field):
    cfg = train_config(tmp_path, data)
    cfg["hyperparameters"].update(hyperparameters)
    rc, events, _ = run_trainer("train", write_config(tmp_path, cfg))
    assert rc == 2
    assert events[-1]["event"] == "error" and events[-1]["class"] == "config"
    assert field in events[-1]["message"]


@pytest.mark.parametrize("overrides, field", [
    ({"checkpoint": {"everySteps": -1, "everySeconds": None}}, "checkpoint.everySteps"),
    ({"features": [{"name": "hour", "type": "text"}]}, "features[0].type"),
    ({"protocolVersion": 2}, "protocolVersion"),
])
def test_bad_protocol_field_is_config_error(tmp_path, data, overrides, field):
    rc, events, _ = run_trainer("train", write_config(tmp_path, train_config(tmp_path, data, **overrides)))
    assert rc == 2
    assert events == [events[-1]] and events[-1]["event"] == "error" and events[-1]["class"] == "config"
    assert f"'{field}'" in events[-1]["message"]


def test_missing_column_is_data_error(tmp_path, data):
    table = pq.read_table(data["validation"]).drop_columns(["distance"])
    pq.write_table(table, tmp_path / "validation.parquet")
    cfg = train_config(tmp_path, {**data, "validation": str(tmp_path / "validation.parquet")})
    rc, events, _ = run_trainer("train", write_config(tmp_path, cfg))
    assert rc == 3
    assert events[-1]["event"] == "error" and events[-1]["class"] == "data"
    assert "distance" in events[-1]["message"]


def test_missing_training_file_is_data_error(tmp_path, data):
    cfg = train_config(tmp_path, {**data, "train": str(tmp_path / "nope.parquet")})
    rc, events, _ = run_trainer("train", write_config(tmp_path, cfg))
    assert rc == 3 and events[-1]["class"] == "data" and "nope.parquet" in events[-1]["message"]


def test_corrupt_resume_checkpoint_exits_5(tmp_path, data, baseline):
    assert baseline["rc"] == 0, baseline["stderr"]
    good = of_type(baseline["events"], "checkpoint")[0]["path"]
    truncated = tmp_path / "step-00000005.pt"
    blob = Path(good).read_bytes()
    truncated.write_bytes(blob[: len(blob) // 2])
    cfg = train_config(tmp_path, data, resumeFrom=str(truncated))
    rc, events, stderr = run_trainer("train", write_config(tmp_path, cfg))
    assert rc == 5, stderr
    assert events[-1]["event"] == "error" and events[-1]["class"] == "checkpoint"
    assert str(truncated) in events[-1]["message"]
    assert not of_type(events, "started")


def test_altered_resume_checkpoint_exits_5_naming_the_digest(tmp_path, data, baseline):
    assert baseline["rc"] == 0, baseline["stderr"]
    blob = bytearray(Path(of_type(baseline["events"], "checkpoint")[0]["path"]).read_bytes())
    blob[-100] ^= 0x01  # one bit: the digest refuses the file before torch reads it
    altered = tmp_path / "step-00000005.pt"
    altered.write_bytes(bytes(blob))
    rc, events, stderr = run_trainer("train", write_config(tmp_path, train_config(tmp_path, data,
                                                                                  resumeFrom=str(altered))))
    assert rc == 5, stderr
    assert events[-1]["class"] == "checkpoint" and "sha256" in events[-1]["message"]
    assert str(altered) in events[-1]["message"]


def test_predict_writes_one_probability_per_row(tmp_path, data, baseline):
    assert baseline["rc"] == 0, baseline["stderr"]
    validation = pq.read_table(data["validation"])
    unseen = pa.table({"hour": pa.array([3, None, 20], pa.int64()),
                       "weekday": pa.array([9, 1, None], pa.int64()),
                       "distance": pa.array([100.0, None, 5000.0]),
                       "origin": pa.array(["NEW", None, "AP01"]),
                       "destination": pa.array(["AP02", "XXX", None]),
                       "label": pa.array([0, 1, 0], pa.int64())})
    holdout = tmp_path / "holdout.parquet"
    pq.write_table(pa.concat_tables([validation, unseen]), holdout)
    out = tmp_path / "scores" / "scores.txt"
    cfg = {"protocolVersion": 1, "mode": "predict",
           "modelPath": baseline["events"][-1]["modelPath"],
           "data": {"format": "parquet", "input": str(holdout)},
           "outputPath": str(out), "device": "auto"}
    rc, events, stderr = run_trainer("predict", write_config(tmp_path, cfg))
    assert rc == 0, stderr
    assert events == [{"event": "done", "rows": 1003, "outputPath": str(out)}]
    scores = np.array([float(x) for x in out.read_text().splitlines()])
    assert len(scores) == 1003 and np.all((scores >= 0) & (scores <= 1))
    # Same model + same rows => same AUC as the trainer's validation metrics.
    auc = roc_auc(validation.column("label").to_numpy(), scores[:1000])
    assert auc == pytest.approx(of_type(baseline["events"], "metrics")[0]["values"]["auc"], abs=1e-6)


def test_predict_missing_model_is_data_error(tmp_path, data):
    cfg = {"protocolVersion": 1, "mode": "predict", "modelPath": str(tmp_path / "none.pt"),
           "data": {"format": "parquet", "input": data["validation"]},
           "outputPath": str(tmp_path / "s.txt"), "device": "cpu"}
    rc, events, _ = run_trainer("predict", write_config(tmp_path, cfg))
    assert rc == 3 and events[-1]["class"] == "data"
    assert not (tmp_path / "s.txt").exists()


def test_roc_auc_handles_ties():
    assert roc_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])) == pytest.approx(0.75)
    assert roc_auc(np.array([0, 1]), np.array([0.5, 0.5])) == pytest.approx(0.5)
    assert roc_auc(np.array([1, 1]), np.array([0.2, 0.3])) is None
