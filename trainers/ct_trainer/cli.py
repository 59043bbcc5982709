"""The command line (`<trainer> train|predict --config <file>`) and how every ending becomes an exit code."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Callable, List, Optional

from .config import PredictConfig, TrainConfig, predict_config, read_config_file, train_config
from .distributed import Ranks
from .errors import EXIT_CRASH, TrainerError, classify_runtime_error, config_error
from .events import EventStream
from .faults import Faults
from .run import TrainRun
from .stop import StopFlag

log = logging.getLogger("trainer")

Train = Callable[[TrainConfig, TrainRun], int]
Predict = Callable[[PredictConfig, EventStream], int]


class _ArgParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise config_error(f"bad command line: {message}")


def _run(argv: Optional[List[str]], train: Train, predict: Optional[Predict], events: EventStream) -> int:
    stop = StopFlag()
    stop.install()
    parser = _ArgParser(prog=os.path.basename(sys.argv[0]))
    parser.add_argument("mode", choices=["train", "predict"])
    parser.add_argument("--config", required=True)
    args = parser.parse_args(argv)
    raw = read_config_file(args.config)
    if args.mode == "train":
        config = train_config(raw)
        ranks = Ranks.from_env()
        if ranks.distributed:
            ranks.die_with_parent()
        code = train(config, TrainRun(config, events, stop, Faults.from_env(), ranks))
        ranks.leave()  # not after an exception: the others may be in a collective it would not join
        return code
    if predict is None:
        raise config_error("this trainer has no predict mode")
    return predict(predict_config(raw), events)


def main(train: Train, predict: Optional[Predict] = None, argv: Optional[List[str]] = None) -> int:
    """Runs the subcommand; returns the exit code. Logs go to stderr, events to stdout."""
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s trainer: %(message)s")
    events = EventStream()
    try:
        return _run(argv, train, predict, events)
    except TrainerError as err:
        log.error("%s error: %s", err.cls, err.message)
        events.emit("error", **{"class": err.cls, "message": err.message})
        return err.exit_code
    except BaseException as exc:  # noqa: BLE001 - every failure must be reported
        known = classify_runtime_error(exc)
        if known is not None:
            log.error("%s", known.message)
            events.emit("error", **{"class": known.cls, "message": known.message})
            return known.exit_code
        if isinstance(exc, SystemExit):
            raise
        log.exception("unexpected failure")
        events.emit("error", **{"class": "other", "message": f"{type(exc).__name__}: {exc}"})
        return EXIT_CRASH
