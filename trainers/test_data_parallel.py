"""Data-parallel training of the reference trainer through ct_trainer.launch (torchrun), 2 ranks on gloo/CPU.

The contract (PROTOCOL.md, "Data-parallel training"): the same trajectory as one worker, rank 0 alone writes
checkpoints and ends the run, every rank reports progress, the protocol's exit codes survive the launcher, a stop
reaches every rank, and no rank outlives its launcher.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_trainer import TRAINER, data, of_type, parse_events, train_config, trainer_env, write_config  # noqa: F401

LAUNCH = [sys.executable, "-m", "ct_trainer.launch", "--workers", "2", "--", sys.executable, str(TRAINER)]
HERE = Path(__file__).resolve().parent


def launch(config: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([*LAUNCH, "train", "--config", str(config)], cwd=HERE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env or trainer_env(), start_new_session=True)


def finish(proc: subprocess.Popen, lines: list | None = None):
    out, err = proc.communicate(timeout=120)
    return proc.returncode, parse_events("".join(lines or []) + out), err


def validation(events: list) -> dict:
    return of_type(events, "metrics")[-1]["values"]


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory, data) -> dict:
    tmp = tmp_path_factory.mktemp("one")
    proc = subprocess.run([sys.executable, str(TRAINER), "train", "--config", str(write_config(tmp, train_config(
        tmp, data)))], capture_output=True, text=True, env=trainer_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return validation(parse_events(proc.stdout))


def test_two_ranks_follow_the_one_worker_trajectory(tmp_path, data, one_worker):
    rc, events, err = finish(launch(write_config(tmp_path, train_config(tmp_path, data))))
    assert rc == 0, err
    assert {e.get("rank") for e in of_type(events, "progress")} == {0, 1}
    assert len(of_type(events, "started")) == 1 and of_type(events, "started")[0]["workers"] == 2
    assert len(of_type(events, "done")) == 1
    steps = [e["step"] for e in of_type(events, "checkpoint")]
    assert steps == sorted(set(steps)) and steps[0] == 5  # one writer
    # Half a batch each, gradients averaged: the model of one worker, up to float summation order.
    for key, value in validation(events).items():
        assert value == pytest.approx(one_worker[key], rel=1e-6), key


def test_sigterm_stops_every_rank_at_one_checkpoint_and_one_worker_resumes_it(tmp_path, data, one_worker):
    cfg = train_config(tmp_path, data, checkpoint={"everySteps": None, "everySeconds": None})
    proc = launch(write_config(tmp_path, cfg), trainer_env(CT_TRAINER_STEP_DELAY_MS="40"))
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if json.loads(line).get("rank") == 1:  # both ranks are stepping
            break
    os.killpg(proc.pid, signal.SIGTERM)  # what the training activity does to the launcher's group
    rc, events, err = finish(proc, lines)
    assert rc == 75, err
    preempted = of_type(events, "preempted")
    assert len(preempted) == 1 and os.path.isfile(preempted[0]["checkpointPath"])
    assert not of_type(events, "done")
    # A checkpoint of 2 ranks resumes on 1 (the local backend, or another cluster) on the same trajectory.
    cfg["resumeFrom"] = preempted[0]["checkpointPath"]
    resumed = subprocess.run([sys.executable, str(TRAINER), "train", "--config",
                              str(write_config(tmp_path, cfg, "resume.json"))],
                             capture_output=True, text=True, env=trainer_env(), timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    events = parse_events(resumed.stdout)
    assert events[0]["step"] == preempted[0]["step"]
    for key, value in validation(events).items():
        assert value == pytest.approx(one_worker[key], rel=1e-6), key


def test_a_ranks_config_error_is_the_launchers_exit_code(tmp_path, data):
    cfg = train_config(tmp_path, data)
    cfg["hyperparameters"]["epochs"] = 0
    rc, events, err = finish(launch(write_config(tmp_path, cfg)))
    assert rc == 2, err
    assert events and all(e["event"] == "error" and e["class"] == "config" for e in events)


def test_no_rank_outlives_a_killed_launcher(tmp_path, data):
    cfg = train_config(tmp_path, data)
    proc = launch(write_config(tmp_path, cfg), trainer_env(CT_TRAINER_STEP_DELAY_MS="200"))
    for line in proc.stdout:
        if json.loads(line).get("rank") == 1:
            break
    ranks = ranks_of(str(tmp_path))
    assert len(ranks) == 2
    os.kill(proc.pid, signal.SIGKILL)  # the launcher alone: each rank is in its own session
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while ranks_of(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ranks_of(str(tmp_path)) == []


def ranks_of(marker: str) -> list:
    """Trainer processes whose command line names `marker` (their config file's folder)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if any(marker.encode() in arg for arg in cmdline) and str(TRAINER).encode() in cmdline \
                    and b"ct_trainer.launch" not in cmdline:
                found.append(int(pid))
        except OSError:
            pass
    return found
