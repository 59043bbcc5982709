"""Protocol tests for the multiclass example trainer (trainers/digits/train.py) and its data generator.

Run from the repository root:
    python -m pytest trainers/test_digits.py -q
Like test_trainer.py, every test drives the trainer as a subprocess, as the orchestrator does.
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

HERE = Path(__file__).resolve().parent
TRAINER = HERE / "digits" / "train.py"
DATASET = HERE / "digits" / "dataset.py"
FEATURES = [{"name": f"p{i:02d}", "type": "numeric"} for i in range(64)]
# 1000 training rows / batch 64 -> 16 steps per epoch, 48 in total.
HYPERPARAMETERS = {"epochs": 3, "batchSize": 64, "learningRate": 0.005}
STEPS_PER_EPOCH, TOTAL_STEPS = 16, 48


# --------------------------------------------------------------------------- helpers

def train_config(tmp: Path, data: dict, **overrides) -> dict:
    cfg = {
        "protocolVersion": 1, "mode": "train",
        "data": {"format": "parquet", "train": data["train"], "validation": data["validation"]},
        "features": FEATURES, "label": "label", "task": "multiclass", "classes": 10,
        "hyperparameters": dict(HYPERPARAMETERS), "seed": 3,
        "outputDir": str(tmp / "out"), "checkpointDir": str(tmp / "ckpt"),
        "checkpoint": {"everySteps": None, "everySeconds": None}, "resumeFrom": None, "device": "cpu",
    }
    cfg.update(overrides)
    return cfg


def write_config(tmp: Path, cfg: dict, name: str = "config.json") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / name).write_text(json.dumps(cfg))
    return tmp / name


def trainer_env(**extra: str) -> dict:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("CT_TRAINER_")}, **extra}


def parse_events(stdout: str) -> list:
    events = [json.loads(line) for line in stdout.splitlines()]  # stdout carries nothing but JSON lines
    assert all(isinstance(e, dict) and "event" in e for e in events)
    return events


def run_trainer(mode: str, config: Path, env: dict | None = None):
    proc = subprocess.run([sys.executable, str(TRAINER), mode, "--config", str(config)], cwd="/",
                          capture_output=True, text=True, env=env or trainer_env(), timeout=120)
    return proc.returncode, parse_events(proc.stdout), proc.stderr


def of_type(events: list, name: str) -> list:
    return [e for e in events if e["event"] == name]


def assert_same_weights(path_a: str, path_b: str) -> None:
    import torch

    a, b = (torch.load(p, map_location="cpu", weights_only=True)["stateDict"] for p in (path_a, path_b))
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), f"parameter {key} differs"


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def windows(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("windows")
    proc = subprocess.run([sys.executable, str(DATASET), "--out", str(out)], capture_output=True, text=True,
                          timeout=120, cwd="/")
    assert proc.returncode == 0, proc.stderr
    return {"summary": json.loads(proc.stdout), "dir": out}


@pytest.fixture(scope="module")
def data(tmp_path_factory, windows) -> dict:
    """January's first 1000 rows to train on, its last 200 to validate on (feature and label columns only)."""
    root = tmp_path_factory.mktemp("data")
    jan = pq.read_table(windows["dir"] / "2026-01.parquet").drop_columns(["capturedAt"])
    paths = {"train": str(root / "train.parquet"), "validation": str(root / "validation.parquet")}
    pq.write_table(jan.slice(0, 1000), paths["train"])
    pq.write_table(jan.slice(1000), paths["validation"])
    return paths


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, data) -> dict:
    """One uninterrupted run; other tests compare against it."""
    tmp = tmp_path_factory.mktemp("baseline")
    cfg = train_config(tmp, data)
    rc, events, stderr = run_trainer("train", write_config(tmp, cfg))
    return {"rc": rc, "events": events, "stderr": stderr, "cfg": cfg}


# --------------------------------------------------------------------------- tests

def test_the_dataset_has_two_monthly_windows(windows):
    files = windows["summary"]["files"]
    assert [os.path.basename(f["path"]) for f in files] == ["2026-01.parquet", "2026-02.parquet"]
    assert [f["rows"] for f in files] == [1200, 597]
    jan, feb = (pq.read_table(f["path"]) for f in files)
    assert jan.column_names == ["capturedAt"] + [f["name"] for f in FEATURES] + ["label"]
    assert jan.schema.field("capturedAt").type == pa.timestamp("ms")
    for table, month in ((jan, 1), (feb, 2)):
        times = table.column("capturedAt")
        assert np.all(np.diff(times.to_numpy()) > np.timedelta64(0))
        assert {(t.year, t.month) for t in times.to_pylist()} == {(2026, month)}
        pixels = np.stack([table.column(f["name"]).to_numpy() for f in FEATURES])
        assert pixels.dtype == np.int32 and pixels.min() >= 0 and pixels.max() <= 16
        assert set(table.column("label").to_pylist()) == set(range(10))
    # February is drifted: a raised background.
    assert np.mean([feb.column("p00").to_numpy().mean(), feb.column("p63").to_numpy().mean()]) > 3


def test_train_succeeds_and_reports_validation_every_epoch(baseline):
    assert baseline["rc"] == 0, baseline["stderr"]
    events = baseline["events"]
    names = [e["event"] for e in events]
    assert names[0] == "started" and names[-2:] == ["metrics", "done"]
    started = events[0]
    assert started["totalSteps"] == TOTAL_STEPS and started["trainRows"] == 1000 and started["validationRows"] == 200
    ends = [p for p in of_type(events, "progress") if p["endOfEpoch"]]
    assert [p["step"] for p in ends] == [STEPS_PER_EPOCH * e for e in (1, 2, 3)]
    assert all(0 <= p["validation"]["accuracy"] <= 1 and p["validation"]["loss"] > 0 for p in ends)
    assert not [p for p in of_type(events, "progress") if not p["endOfEpoch"] and "validation" in p]
    values = of_type(events, "metrics")[0]["values"]
    assert values["rows"] == 200 and values["accuracy"] > 0.8 and 0 < values["loss"] < 1
    assert values["accuracy"] == ends[-1]["validation"]["accuracy"]
    done = events[-1]
    assert done["step"] == TOTAL_STEPS and done["samplesProcessed"] == 3000
    assert done["modelPath"] == os.path.join(baseline["cfg"]["outputDir"], "model.pt")


def test_predict_writes_ten_probabilities_per_row(tmp_path, windows, baseline):
    assert baseline["rc"] == 0, baseline["stderr"]
    feb = windows["dir"] / "2026-02.parquet"  # with capturedAt, which predict ignores
    out = tmp_path / "scores" / "scores.txt"
    cfg = {"protocolVersion": 1, "mode": "predict", "modelPath": baseline["events"][-1]["modelPath"],
           "data": {"format": "parquet", "input": str(feb)}, "outputPath": str(out), "device": "cpu"}
    rc, events, stderr = run_trainer("predict", write_config(tmp_path, cfg))
    assert rc == 0, stderr
    assert events == [{"event": "done", "rows": 597, "outputPath": str(out)}]
    lines = out.read_text().splitlines()
    probs = np.array([[float(p) for p in line.split(",")] for line in lines])
    assert probs.shape == (597, 10) and np.all((probs >= 0) & (probs <= 1))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    labels = pq.read_table(feb).column("label").to_numpy()
    assert (probs.argmax(axis=1) == labels).mean() > 0.2  # drifted, but better than chance


def test_sigterm_mid_epoch_then_resume_gives_the_uninterrupted_weights(tmp_path, data, baseline):
    assert baseline["rc"] == 0, baseline["stderr"]
    cfg = train_config(tmp_path, data)
    proc = subprocess.Popen([sys.executable, str(TRAINER), "train", "--config", str(write_config(tmp_path, cfg))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=trainer_env(CT_TRAINER_STEP_DELAY_MS="40"))
    stderr_chunks: list = []
    threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()), daemon=True).start()
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            event = json.loads(line)
            if event["event"] == "progress" and event["endOfEpoch"]:
                break  # the end of the first epoch: stop a few steps (40 ms each) into the second
        time.sleep(0.2)
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
    assert STEPS_PER_EPOCH < step < TOTAL_STEPS  # mid-epoch: the batch position and permutation matter

    cfg["resumeFrom"] = preempted[0]["checkpointPath"]
    rc, events, stderr = run_trainer("train", write_config(tmp_path, cfg, "resume.json"))
    assert rc == 0, stderr
    assert events[0]["step"] == step and events[0]["epoch"] == 1
    assert events[-1]["samplesProcessed"] == baseline["events"][-1]["samplesProcessed"]
    assert_same_weights(events[-1]["modelPath"], baseline["events"][-1]["modelPath"])
    assert of_type(events, "metrics") == of_type(baseline["events"], "metrics")

    # The same checkpoint with other hyperparameters is refused.
    cfg["hyperparameters"]["dropout"] = 0.2
    rc, events, _ = run_trainer("train", write_config(tmp_path, cfg, "other.json"))
    assert rc == 5 and events[-1]["class"] == "checkpoint" and "hyperparameters" in events[-1]["message"]


@pytest.mark.parametrize("overrides, named", [
    ({"task": "binary", "classes": None}, "'task'"),
    ({"classes": 5}, "'classes'"),
    ({"features": FEATURES[:63]}, "'features'"),
    ({"features": FEATURES[:63] + [{"name": "p63", "type": "categorical"}]}, "'features'"),
    ({"hyperparameters": {"epochs": 1, "kernelSize": 5}}, "kernelSize"),
    ({"hyperparameters": {"channels": [8, 8, 8, 8]}}, "channels"),
])
def test_a_bad_config_exits_2_naming_the_field(tmp_path, data, overrides, named):
    rc, events, _ = run_trainer("train", write_config(tmp_path, train_config(tmp_path, data, **overrides)))
    assert rc == 2 and events[-1]["class"] == "config"
    assert named in events[-1]["message"]


def test_a_label_outside_0_to_9_exits_3_naming_the_column(tmp_path, data):
    table = pq.read_table(data["train"])
    labels = table.column("label").to_pylist()
    labels[17] = 10
    pq.write_table(table.set_column(table.column_names.index("label"), "label", pa.array(labels, pa.int32())),
                   tmp_path / "train.parquet")
    cfg = train_config(tmp_path, {**data, "train": str(tmp_path / "train.parquet")})
    rc, events, _ = run_trainer("train", write_config(tmp_path, cfg))
    assert rc == 3 and events[-1]["class"] == "data"
    assert "'label'" in events[-1]["message"] and "10" in events[-1]["message"]


def test_predict_without_a_model_exits_3(tmp_path, data):
    cfg = {"protocolVersion": 1, "mode": "predict", "modelPath": str(tmp_path / "none.pt"),
           "data": {"format": "parquet", "input": data["validation"]}, "outputPath": str(tmp_path / "s.txt"),
           "device": "cpu"}
    rc, events, _ = run_trainer("predict", write_config(tmp_path, cfg))
    assert rc == 3 and events[-1]["class"] == "data" and "none.pt" in events[-1]["message"]
    assert not (tmp_path / "s.txt").exists()


def test_workers_above_one_without_data_parallel_support_is_a_config_error(tmp_path, data):
    """The digits trainer never joins a process group: run as 2 ranks it says so instead of training twice."""
    config = write_config(tmp_path, train_config(tmp_path, data))
    proc = subprocess.run([sys.executable, "-m", "ct_trainer.launch", "--workers", "2", "--", sys.executable,
                           str(TRAINER), "train", "--config", str(config)],
                          cwd=HERE, capture_output=True, text=True, env=trainer_env(), timeout=120)
    assert proc.returncode == 2, proc.stderr
    errors = of_type(parse_events(proc.stdout), "error")
    assert errors and errors[0]["class"] == "config" and "trainer.workers" in errors[0]["message"]
