"""The stop flag (trainers/PROTOCOL.md, "Signals"): SIGTERM or SIGINT only sets it; the loop checks it between steps."""

from __future__ import annotations

import logging
import signal
from typing import Optional

from .errors import EXIT_PREEMPTED

log = logging.getLogger("trainer")


class StopFlag:
    def __init__(self) -> None:
        self.signal_name: Optional[str] = None

    @property
    def requested(self) -> bool:
        return self.signal_name is not None

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: object) -> None:
        if self.signal_name is None:
            self.signal_name = signal.Signals(signum).name
            log.warning("received %s: will checkpoint after the current step and exit %d",
                        self.signal_name, EXIT_PREEMPTED)
