"""`python -m ct_trainer.launch --workers N -- <trainer argv>`: N data-parallel ranks of a trainer on this machine,
through torchrun's elastic launcher, ending with the trainer protocol's exit code (PROTOCOL.md, "Exit codes").

torchrun itself ends with 1 whenever a rank fails, which would turn a preemption (75) or a config error (2) into a
crash; here the first rank to fail decides the exit code, as it would for one trainer. SIGTERM reaches every rank
(each checkpoints and stops together, distributed.py), and the launcher then ends with 75 like a preempted trainer.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import uuid
from typing import List

from .errors import EXIT_CRASH, EXIT_PREEMPTED

log = logging.getLogger("trainer")


def exit_code(exitcode: int) -> int:
    """A child's exit status as a process exit code."""
    return 128 - exitcode if exitcode < 0 else exitcode  # killed by a signal: the shell's convention


def launch(workers: int, argv: List[str]) -> int:
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=workers, run_id=str(uuid.uuid4()),
                          rdzv_backend="c10d", rdzv_endpoint="127.0.0.1:0", max_restarts=0, monitor_interval=0.2)
    try:
        elastic_launch(config, argv[0])(*argv[1:])
        return 0
    except ChildFailedError as err:
        if 0 not in err.failures:
            return 0  # rank 0 wrote the model and ended well; another's trouble after that changes nothing
        first = min(err.failures.values(), key=lambda f: f.timestamp)
        log.warning("rank %d ended with exit code %d", first.local_rank, first.exitcode)
        return exit_code(first.exitcode)
    except SignalException as err:
        log.warning("%s received: ranks stopped", signal.Signals(err.sigval).name)
        return EXIT_PREEMPTED


def main() -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s launch: %(message)s")
    parser = argparse.ArgumentParser(prog="ct_trainer.launch")
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if args.workers < 1 or not argv:
        parser.error("needs --workers N (N >= 1) and the trainer's command after --")
        return EXIT_CRASH
    return launch(args.workers, argv)


if __name__ == "__main__":
    sys.exit(main())
