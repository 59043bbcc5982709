"""Data-parallel ranks (trainers/PROTOCOL.md, "Data-parallel training"): which rank this process is, and the
per-step agreements that keep every rank on the same step.

The launcher (`ct_trainer.launch`, which is torchrun's elastic launcher, or the Ray job of `ct_trainer.ray_job`)
sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT. A process without them is the only rank. torch is
imported only when a rank talks to the others, so a config error is still reported in milliseconds.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .errors import config_error

log = logging.getLogger("trainer")

_PR_SET_PDEATHSIG = 1


def _env_rank(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit():
        raise config_error(f"environment variable {name} must be a non-negative integer, got {raw!r}")
    return int(raw)


@dataclass
class Ranks:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    _agree_device: Optional[Any] = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "Ranks":
        ranks = cls(_env_rank(env, "RANK", 0), _env_rank(env, "WORLD_SIZE", 1), _env_rank(env, "LOCAL_RANK", 0))
        if ranks.world_size < 1 or ranks.rank >= ranks.world_size:
            raise config_error(f"RANK {ranks.rank} is not below WORLD_SIZE {ranks.world_size}")
        return ranks

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def leader(self) -> bool:
        """Rank 0: the one that writes checkpoints and the model, and emits every event but progress."""
        return self.rank == 0

    def die_with_parent(self) -> None:
        """A rank dies with its launcher: torchrun starts each rank in its own session, out of reach of the kill
        of the launcher's process group, and a Ray worker can be killed with its node. No orphan rank either way."""
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            log.warning("could not ask to die with the launcher (errno %d)", ctypes.get_errno())
        if os.getppid() == 1:  # the launcher died before we asked
            os._exit(1)

    def init(self, device: Any) -> Any:
        """Joins the process group (NCCL on CUDA, gloo on CPU); returns this rank's device."""
        import datetime

        import torch
        import torch.distributed as dist

        if device.type == "cuda":
            device = torch.device("cuda", self.local_rank % torch.cuda.device_count())
            torch.cuda.set_device(device)
        # A lost rank is found by the orchestrator's liveness check within seconds; this is only a last resort.
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=self.rank,
                                world_size=self.world_size, timeout=datetime.timedelta(minutes=10))
        self._agree_device = device
        log.info("rank %d of %d joined the process group on %s", self.rank, self.world_size, device)
        return device

    def agree(self, flag: bool) -> bool:
        """True on every rank when it is true on any: a stop or a checkpoint is decided by all ranks together."""
        if not self.distributed:
            return flag
        if self._agree_device is None:
            raise config_error(f"WORLD_SIZE is {self.world_size} but this trainer does not train data-parallel "
                               "(it never joined the process group): set trainer.workers to 1")
        import torch
        import torch.distributed as dist

        t = torch.tensor([1 if flag else 0], dtype=torch.int32, device=self._agree_device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def leave(self) -> None:
        """After the trainer returned on every rank: waits for all (rank 0 evaluates and writes the model last), then
        closes the group. A rank tearing its connections down while another still holds them can abort."""
        if self._agree_device is not None:
            import torch.distributed as dist

            if dist.is_initialized():
                dist.barrier()
                dist.destroy_process_group()
