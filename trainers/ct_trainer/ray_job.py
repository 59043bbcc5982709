"""`python -m ct_trainer.ray_job --workers N [--resources JSON] [--placement SPREAD|PACK] [--stop-file F] -- <trainer
argv>`: the entrypoint of the Ray job that runs one training attempt on a Ray cluster (the `ray` backend).

Ray Train's TorchTrainer places N workers (N x `--resources`) on the cluster; each runs one rank of the trainer as a
subprocess with the torch.distributed environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; rank 0's
address and a port it picked), so the trainer is the same program the `local` backend runs, protocol and all. A
rank's events go to this driver through a relay actor, in order, and the driver prints them on its stdout, which is
the job's log the orchestrator reads (Ray's own forwarding of worker output prefixes lines and, in Ray Train,
repeats them). Ray Train does not retry (the orchestrator retries from the newest checkpoint in S3), and this
driver ends with the trainer protocol's exit code (rank 0's, else another rank's failure).

Stopping: Ray's job stop gives a driver seconds; a checkpoint may need longer. So the orchestrator first creates the
stop file, which every worker watches and turns into SIGTERM for its rank (the protocol's stop), and stops the job
after its grace period. Ranks die with their worker (distributed.py), so a stopped job or a lost node leaves none.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Tuple

os.environ.setdefault("RAY_DEDUP_LOGS", "0")  # Ray folds alike lines of different workers: every rank's must arrive

from .errors import EXIT_CRASH  # noqa: E402
from .launch import exit_code  # noqa: E402

log = logging.getLogger("trainer")
STOP_POLL_SECONDS = 0.5
RELAY_POLL_SECONDS = 0.2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


def _watch_stop_file(path: str, rank: subprocess.Popen) -> None:
    def watch() -> None:
        while rank.poll() is None:
            if os.path.exists(path):
                rank.send_signal(signal.SIGTERM)
                return
            time.sleep(STOP_POLL_SECONDS)

    threading.Thread(target=watch, daemon=True).start()


def run_rank(cfg: Dict[str, Any]) -> None:
    """A Ray Train worker: one rank of the trainer, its stdout lines forwarded as they come."""
    import ray
    import ray.train
    from ray.train.collective import broadcast_from_rank_zero

    ctx = ray.train.get_context()
    rank = ctx.get_world_rank()
    master = broadcast_from_rank_zero([ray.util.get_node_ip_address(), _free_port()] if rank == 0 else None)
    env = {**os.environ, "RANK": str(rank), "WORLD_SIZE": str(ctx.get_world_size()),
           "LOCAL_RANK": str(ctx.get_local_rank()), "MASTER_ADDR": str(master[0]), "MASTER_PORT": str(master[1])}
    proc = subprocess.Popen(cfg["argv"], cwd=cfg["cwd"], env=env, stdout=subprocess.PIPE, text=True)
    if cfg["stopFile"]:
        _watch_stop_file(cfg["stopFile"], proc)
    relay = cfg["relay"]
    assert proc.stdout is not None
    for line in proc.stdout:
        ray.get(relay.line.remote(line))
    ray.get(relay.exit.remote(rank, proc.wait()))


def main(argv: List[str] | None = None) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s ray_job: %(message)s")
    parser = argparse.ArgumentParser(prog="ct_trainer.ray_job")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--resources", default='{"CPU": 1}', help="Ray resources of each worker (JSON)")
    parser.add_argument("--placement", default="SPREAD", choices=["SPREAD", "PACK"])
    parser.add_argument("--stop-file", default="")
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    trainer_argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if args.workers < 1 or not trainer_argv:
        parser.error("needs --workers N (N >= 1) and the trainer's command after --")

    import ray
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    @ray.remote(num_cpus=0)
    class Relay:
        """The ranks' event lines, in the order each rank wrote them, and their exit codes."""

        def __init__(self) -> None:
            self.lines: List[str] = []
            self.codes: Dict[int, int] = {}

        def line(self, text: str) -> None:
            self.lines.append(text)

        def exit(self, rank: int, code: int) -> None:
            self.codes[rank] = code

        def take(self) -> Tuple[List[str], Dict[int, int]]:
            lines, self.lines = self.lines, []
            return lines, self.codes

    ray.init(log_to_driver=True)
    # On the driver's node: events in the relay share the driver's fate, not that of a node that may be lost.
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    relay = Relay.options(scheduling_strategy=here).remote()  # type: ignore[attr-defined]
    done = threading.Event()

    def print_events() -> Dict[int, int]:
        lines, codes = ray.get(relay.take.remote())
        sys.stdout.write("".join(lines))
        sys.stdout.flush()
        return codes

    def pump() -> None:
        while not done.wait(RELAY_POLL_SECONDS):
            print_events()

    pumping = threading.Thread(target=pump, daemon=True)
    pumping.start()
    resources = json.loads(args.resources)
    trainer = TorchTrainer(
        run_rank,
        train_loop_config={"argv": trainer_argv, "cwd": os.getcwd(), "stopFile": args.stop_file, "relay": relay},
        torch_config=TorchConfig(backend="gloo"),  # Ray's own group only carries the broadcast above
        scaling_config=ScalingConfig(num_workers=args.workers, use_gpu=resources.get("GPU", 0) > 0,
                                     resources_per_worker=resources, placement_strategy=args.placement),
        run_config=RunConfig(name=f"ct-{os.getpid()}", failure_config=FailureConfig(max_failures=0)),
    )
    try:
        trainer.fit()
    except Exception as exc:  # noqa: BLE001 - a lost worker or node: a crash, retried by the orchestrator
        log.error("Ray Train failed: %s: %s", type(exc).__name__, exc)
    done.set()
    pumping.join()
    ended = print_events()
    log.info("ranks ended with %s", ended)
    if ended.get(0) == 0:
        return 0  # rank 0 wrote the model and ended well; another's trouble after that changes nothing
    if 0 not in ended:
        return EXIT_CRASH  # its worker was lost (a node, a kill): Ray Train's failure is logged above
    return exit_code(ended[0])


if __name__ == "__main__":
    sys.exit(main())
