"""Tests of the trainer SDK (trainers/ct_trainer), in process, and of the PyTorch example in PROTOCOL.md.

Run from the repository root:
    python -m pytest trainers/ -q
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import ct_trainer
from ct_trainer import checkpoints, config
from ct_trainer.faults import Faults
from ct_trainer.stop import StopFlag

ROOT = Path(__file__).resolve().parent.parent


def train_raw(**overrides) -> dict:
    raw = {
        "protocolVersion": 1, "mode": "train",
        "data": {"format": "parquet", "train": "/d/train.parquet", "validation": "/d/validation.parquet"},
        "features": [{"name": "hour", "type": "numeric"}, {"name": "origin", "type": "categorical"}],
        "label": "late", "hyperparameters": {}, "seed": 7, "outputDir": "/o", "checkpointDir": "/c",
        "checkpoint": {"everySteps": 5, "everySeconds": None}, "resumeFrom": None, "device": "cpu",
    }
    raw.update(overrides)
    return raw


def refusal(raw: dict, mode: str = "train") -> str:
    with pytest.raises(ct_trainer.TrainerError) as err:
        config.train_config(raw) if mode == "train" else config.predict_config(raw)
    assert err.value.cls == "config" and err.value.exit_code == ct_trainer.EXIT_CONFIG
    return err.value.message


# --------------------------------------------------------------------------- config

def test_a_full_train_config_is_read_with_absolute_paths():
    cfg = config.train_config(train_raw(outputDir="relative/out"))
    assert cfg.train_path == "/d/train.parquet" and cfg.label == "late" and cfg.seed == 7
    assert cfg.output_dir == os.path.abspath("relative/out")
    assert cfg.every_steps == 5 and cfg.every_seconds == 0 and cfg.resume_from is None


def test_left_out_fields_take_the_schema_defaults():
    raw = train_raw()
    for key in ("seed", "device", "hyperparameters", "checkpoint", "resumeFrom"):
        del raw[key]
    del raw["data"]["format"]
    cfg = config.train_config(raw)
    assert (cfg.seed, cfg.device, cfg.hyperparameters, cfg.every_steps, cfg.resume_from) == (0, "auto", {}, 0, None)


def test_unknown_top_level_fields_are_ignored_with_a_warning(caplog):
    assert config.train_config(train_raw(addedLater={"x": 1})).label == "late"
    assert "addedLater" in caplog.text


@pytest.mark.parametrize("overrides, named", [
    ({"checkpoint": {"everySteps": -1, "everySeconds": None}}, "'checkpoint.everySteps': -1 is less than the minimum"),
    ({"checkpoint": {"everySteps": 5, "often": True}}, "unknown field(s) in 'checkpoint': often"),
    ({"features": [{"name": "hour", "type": "text"}]}, "'features[0].type'"),
    ({"features": [{"name": "hour", "type": "numeric", "unit": "h"}]}, "unknown field(s) in 'features[0]': unit"),
    ({"features": []}, "'features'"),
    ({"device": "tpu"}, "'device'"),
    ({"seed": -1}, "'seed'"),
    ({"seed": 1.5}, "'seed'"),
    ({"protocolVersion": 2}, "'protocolVersion': 1 was expected"),
    ({"resumeFrom": ""}, "'resumeFrom'"),
    ({"data": {"train": "/d/t.parquet"}}, "missing required field 'data.validation'"),
    ({"data": {"format": "csv", "train": "/t", "validation": "/v"}}, "'data.format'"),
    ({"mode": "predict"}, "'mode' is 'predict' but the trainer was invoked with 'train'"),
    ({"features": [{"name": "late", "type": "numeric"}]}, "feature 'late' is also the label"),
    ({"features": [{"name": "a", "type": "numeric"}, {"name": "a", "type": "numeric"}]}, "listed twice"),
])
def test_a_bad_train_config_is_refused_naming_the_field(overrides, named):
    assert named in refusal(train_raw(**overrides))


def test_every_missing_field_is_named_at_once():
    message = refusal({"protocolVersion": 1, "mode": "train"})
    for field in ("data", "features", "label", "outputDir", "checkpointDir"):
        assert f"'{field}'" in message


def test_a_predict_config_is_checked_against_its_own_branch():
    raw = {"protocolVersion": 1, "mode": "predict", "modelPath": "/m.pt", "data": {"input": "/in.parquet"},
           "outputPath": "/s.txt"}
    assert config.predict_config(raw) == config.PredictConfig("/m.pt", "/in.parquet", "/s.txt", "auto")
    assert "'outputPath': None is not of type 'string'" in refusal({**raw, "outputPath": None}, "predict")
    del raw["outputPath"]
    assert "missing required field 'outputPath'" in refusal(raw, "predict")


def test_hyperparameters_are_checked_against_the_trainer_schema_with_its_defaults():
    schema = {"type": "object", "additionalProperties": False,
              "properties": {"epochs": {"type": "integer", "exclusiveMinimum": 0, "default": 3},
                             "layers": {"type": "array", "items": {"type": "integer"}, "default": [8]}}}
    assert ct_trainer.hyperparameters({"epochs": 2}, schema) == {"epochs": 2, "layers": [8]}
    with pytest.raises(ct_trainer.TrainerError, match=r"unknown hyperparameter\(s\): dropout \(allowed: epochs"):
        ct_trainer.hyperparameters({"dropout": 0.1}, schema)
    with pytest.raises(ct_trainer.TrainerError, match=r"'hyperparameters.layers\[1\]'"):
        ct_trainer.hyperparameters({"layers": [4, "x"]}, schema)


def test_the_schema_is_the_generated_one_and_the_exit_codes_are_cores():
    assert config.TRAINER_CONFIG_SCHEMA == json.loads((ROOT / "schemas" / "trainer-config.schema.json").read_text())
    protocol = (ROOT / "core" / "trainerProtocol.ts").read_text()
    exit_block = re.search(r"export const EXIT = \{(.*?)\}", protocol, re.S).group(1)
    core = {name: int(code) for name, code in re.findall(r"(\w+): (\d+)", exit_block)}
    assert core == {"ok": ct_trainer.EXIT_OK, "configError": ct_trainer.EXIT_CONFIG,
                    "dataError": ct_trainer.EXIT_DATA, "outOfMemory": ct_trainer.EXIT_OOM,
                    "checkpointUnusable": ct_trainer.EXIT_CHECKPOINT, "preempted": ct_trainer.EXIT_PREEMPTED}


# --------------------------------------------------------------------------- checkpoints

def write_checkpoint(tmp_path: Path, payload: bytes = b"model weights" * 1000) -> Path:
    path = Path(ct_trainer.checkpoint_path(str(tmp_path), 12))
    size = ct_trainer.save_checkpoint(str(path), lambda fh: fh.write(payload))
    assert path.name == "step-00000012.pt" and size == path.stat().st_size
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind
    return path


def test_a_checkpoint_reads_back_its_payload(tmp_path):
    assert ct_trainer.read_checkpoint(str(write_checkpoint(tmp_path))) == b"model weights" * 1000


def test_a_checkpoint_whose_bytes_changed_is_refused_by_its_digest(tmp_path):
    path = write_checkpoint(tmp_path)
    blob = bytearray(path.read_bytes())
    blob[checkpoints.HEADER_BYTES + 100] ^= 0x01  # one flipped bit, same size
    path.write_bytes(bytes(blob))
    with pytest.raises(ct_trainer.TrainerError, match="sha256 .* does not match") as err:
        ct_trainer.read_checkpoint(str(path))
    assert err.value.cls == "checkpoint" and err.value.exit_code == ct_trainer.EXIT_CHECKPOINT
    assert str(path) in err.value.message


@pytest.mark.parametrize("damage, says", [
    (lambda blob: blob[: len(blob) // 2], "truncated"),
    (lambda blob: blob + b"\0", "truncated or padded"),
    (lambda blob: b"PK\x03\x04" + blob[4:], "not a ct-checkpoint file"),
    (lambda blob: b"", "not a ct-checkpoint file"),
])
def test_a_truncated_or_foreign_checkpoint_is_refused(tmp_path, damage, says):
    path = write_checkpoint(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ct_trainer.TrainerError, match=says):
        ct_trainer.read_checkpoint(str(path))


def test_a_missing_checkpoint_is_refused(tmp_path):
    with pytest.raises(ct_trainer.TrainerError, match="resume checkpoint not found"):
        ct_trainer.read_checkpoint(str(tmp_path / "step-00000001.pt"))


def test_a_failed_write_leaves_no_file(tmp_path):
    def fail(fh):
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        ct_trainer.save_checkpoint(str(tmp_path / "step-00000001.pt"), fail)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- stop flag and faults

def test_sigterm_sets_the_stop_flag_and_nothing_else():
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    stop = StopFlag()
    try:
        stop.install()
        assert not stop.requested
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.requested and stop.signal_name == "SIGTERM"
        os.kill(os.getpid(), signal.SIGINT)  # the first signal is the one reported
        assert stop.signal_name == "SIGTERM"
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def test_fault_hooks_come_from_the_environment_and_bad_values_are_config_errors():
    assert Faults.from_env({}) == Faults(None, None)
    assert Faults.from_env({"CT_TRAINER_STEP_DELAY_MS": "5", "CT_TRAINER_FAIL_AT_STEP": " "}) == Faults(5, None)
    with pytest.raises(ct_trainer.TrainerError, match="CT_TRAINER_FAIL_AT_STEP must be an integer"):
        Faults.from_env({"CT_TRAINER_FAIL_AT_STEP": "soon"})
    with pytest.raises(ct_trainer.TrainerError, match="CT_TRAINER_STEP_DELAY_MS must be >= 0"):
        Faults.from_env({"CT_TRAINER_STEP_DELAY_MS": "-1"})


# --------------------------------------------------------------------------- the example in PROTOCOL.md

def protocol_example() -> str:
    text = (ROOT / "trainers" / "PROTOCOL.md").read_text()
    section = text[text.index("## Adapting a plain PyTorch loop"):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def run_example(script: Path, cfg: dict, **env: str):
    path = script.parent / f"config-{len(list(script.parent.glob('config-*')))}.json"
    path.write_text(json.dumps(cfg))
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CT_TRAINER_")}
    environ.update(env, PYTHONPATH=str(ROOT / "trainers"))
    proc = subprocess.run([sys.executable, str(script), "train", "--config", str(path)], capture_output=True,
                          text=True, env=environ, timeout=120)
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines()], proc.stderr


def test_the_protocol_example_is_a_short_trainer_that_resumes_exactly(tmp_path):
    code = protocol_example()
    body = code[code.index("def train"):code.index('if __name__')].strip().splitlines()
    assert len(body) <= 30, f"the example's train function is {len(body)} lines"
    script = tmp_path / "toy.py"
    script.write_text(code)
    cfg = train_raw(outputDir=str(tmp_path / "out"), checkpointDir=str(tmp_path / "ckpt"),
                    hyperparameters={"steps": 30}, checkpoint={"everySteps": 10, "everySeconds": None})

    rc, events, stderr = run_example(script, cfg, CT_TRAINER_FAIL_AT_STEP="25")
    assert rc == ct_trainer.EXIT_CRASH, stderr
    assert [e["step"] for e in events if e["event"] == "checkpoint"] == [10, 20]

    rc, resumed, stderr = run_example(script, {**cfg, "resumeFrom": events[-1]["path"]})
    assert rc == 0, stderr
    assert resumed[0]["event"] == "started" and resumed[0]["step"] == 20
    assert resumed[-1]["event"] == "done" and resumed[-1]["step"] == 30

    rc, uninterrupted, stderr = run_example(script, {**cfg, "outputDir": str(tmp_path / "out2")})
    assert rc == 0, stderr
    metrics = [[e for e in run if e["event"] == "metrics"] for run in (resumed, uninterrupted)]
    assert metrics[0] == metrics[1] and metrics[0][0]["values"]["loss"] > 0

    rc, refused, _ = run_example(script, {**cfg, "device": "tpu"})
    assert rc == ct_trainer.EXIT_CONFIG and "'device'" in refused[-1]["message"]


# --------------------------------------------------------------------------- TrainRun

class RecordedEvents:
    def __init__(self) -> None:
        self.events: list = []

    def emit(self, event: str, **fields) -> None:
        self.events.append({"event": event, **fields})


def test_a_train_run_checkpoints_when_due_and_preempts_without_rewriting_a_checkpoint(tmp_path):
    resumed = tmp_path / "step-00000004.pt"
    cfg = config.train_config(train_raw(checkpointDir=str(tmp_path), resumeFrom=str(resumed),
                                        checkpoint={"everySteps": 3, "everySeconds": None}))
    events, stop = RecordedEvents(), StopFlag()
    run = ct_trainer.TrainRun(cfg, events, stop, Faults())
    saved: list = []

    def save_at(step):
        def save():
            saved.append(run.save_checkpoint(step, 0, lambda fh: fh.write(b"state")))
            return saved[-1]
        return save

    run.started(device="cpu", step=4, epoch=0, total_steps=9)
    stop.signal_name = "SIGTERM"
    assert run.stop_requested
    assert run.preempt(4, 0, save_at(4)) == ct_trainer.EXIT_PREEMPTED and saved == []  # step 4 is on disk already
    for step in (5, 6):
        run.step_finished(step, rows=10, save=save_at(step))
    assert saved == [ct_trainer.checkpoint_path(str(tmp_path), 6)]  # every 3 steps
    run.progress(step=6, epoch=0, total_steps=9, loss=lambda: 0.5, samples_processed=60, force=True, endOfEpoch=True)
    run.preempt(6, 0, save_at(6))
    assert len(saved) == 1
    names = [e["event"] for e in events.events]
    assert names == ["started", "preempted", "checkpoint", "progress", "preempted"]
    assert events.events[0]["resumedFrom"] == str(resumed) and events.events[1]["checkpointPath"] == str(resumed)
    progress = events.events[3]
    assert progress["loss"] == 0.5 and progress["samplesPerSec"] > 0 and progress["endOfEpoch"] is True
    assert ct_trainer.read_checkpoint(saved[0]) == b"state"


def test_max_steps_stops_the_loop_as_a_preemption_counting_steps_across_a_resume(tmp_path):
    cfg = config.train_config(train_raw(checkpointDir=str(tmp_path), maxSteps=6,
                                        resumeFrom=str(tmp_path / "step-00000004.pt")))
    events = RecordedEvents()
    run = ct_trainer.TrainRun(cfg, events, StopFlag(), Faults())
    run.started(device="cpu", step=4, epoch=0, total_steps=9)
    assert not run.stop_requested
    run.step_finished(5, rows=10, save=lambda: "unused")
    assert not run.stop_requested
    run.step_finished(6, rows=10, save=lambda: "unused")
    assert run.stop_requested  # the loop checks before step 7
    saved = []
    code = run.preempt(6, 0, lambda: saved.append(run.save_checkpoint(6, 0, lambda fh: fh.write(b"s"))) or saved[-1])
    assert code == ct_trainer.EXIT_PREEMPTED and saved == [ct_trainer.checkpoint_path(str(tmp_path), 6)]
    assert events.events[-1] == {"event": "preempted", "step": 6, "epoch": 0, "checkpointPath": saved[0],
                                 "signal": "maxSteps"}
    with pytest.raises(ct_trainer.TrainerError, match="maxSteps"):
        config.train_config(train_raw(maxSteps=0))


def test_metrics_keep_only_the_finite_values():
    run = ct_trainer.TrainRun(config.train_config(train_raw()), RecordedEvents(), StopFlag(), Faults())
    assert run.metrics("validation", {"loss": 0.3, "auc": None, "drift": float("nan"), "rows": 7}) == \
        {"loss": 0.3, "rows": 7}
