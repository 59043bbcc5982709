"""The event stream (trainers/PROTOCOL.md, "Events"): one JSON object per line on stdout, nothing else."""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from typing import Any

log = logging.getLogger("trainer")


class EventStream:
    """Writes one JSON object per line to the real stdout, flushed immediately.

    File descriptor 1 is re-pointed at stderr so that stray prints from this
    process or from native libraries can never corrupt the event stream.
    """

    def __init__(self) -> None:
        sys.stdout.flush()
        fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self._out = os.fdopen(fd, "w", encoding="utf-8", buffering=1)

    def emit(self, event: str, **fields: Any) -> None:
        line = json.dumps(json_safe({"event": event, **fields}), allow_nan=False, separators=(",", ":"))
        try:
            self._out.write(line + "\n")
            self._out.flush()
        except OSError as exc:  # orchestrator went away; keep going, it will kill us
            log.warning("could not write event %s: %s", event, exc)


def json_safe(value: Any) -> Any:
    """Non-finite floats become null (JSON has no NaN/Infinity)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
