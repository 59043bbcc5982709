"""Checkpoint files (trainers/PROTOCOL.md, "Checkpoints"): written atomically, and carrying a sha256 digest of
their contents so that a truncated or altered file is refused (exit 5) instead of resuming from garbage.

A checkpoint file is a fixed-size header line, `ct-checkpoint v1 sha256:<64 hex> bytes:<20 digits>\\n`, then the
trainer's payload (the reference trainer's is a torch.save archive).
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import BinaryIO, Callable, Tuple

from .errors import checkpoint_error

Writer = Callable[[BinaryIO], None]

_HEADER = re.compile(rb"ct-checkpoint v1 sha256:([0-9a-f]{64}) bytes:(\d{20})\n")
HEADER_BYTES = len(b"ct-checkpoint v1 sha256:") + 64 + len(b" bytes:") + 20 + 1
_CHUNK = 1 << 20


def checkpoint_path(checkpoint_dir: str, step: int) -> str:
    return os.path.join(checkpoint_dir, f"step-{step:08d}.pt")


def atomic_write(path: str, write: Writer) -> int:
    """Writes via a temp file in the same directory (read-write, so `write` may seek), fsync, rename, fsync dir.

    The temp name never matches `step-*.pt`, so a half-written file is never taken for a checkpoint.
    Returns the size of the file written.
    """
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w+b") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return os.path.getsize(path)


def _sha256_from(fh: BinaryIO, offset: int) -> Tuple[str, int]:
    fh.seek(offset)
    digest, size = hashlib.sha256(), 0
    while chunk := fh.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def save_checkpoint(path: str, write_payload: Writer) -> int:
    """Writes `write_payload`'s bytes under a digest header, atomically; returns the file's size."""

    def write(fh: BinaryIO) -> None:
        fh.write(b"\0" * HEADER_BYTES)  # placeholder: the digest is known once the payload is written
        write_payload(fh)
        fh.flush()
        sha, size = _sha256_from(fh, HEADER_BYTES)
        fh.seek(0)
        fh.write(b"ct-checkpoint v1 sha256:%s bytes:%020d\n" % (sha.encode("ascii"), size))

    return atomic_write(path, write)


def read_checkpoint(path: str) -> bytes:
    """The payload of the checkpoint at `path`, once its size and digest match its header."""
    if not os.path.isfile(path):
        raise checkpoint_error(f"resume checkpoint not found: {path}")
    try:
        with open(path, "rb") as fh:
            header = _HEADER.fullmatch(fh.read(HEADER_BYTES))
            payload = fh.read()
    except OSError as exc:
        raise checkpoint_error(f"resume checkpoint {path} cannot be read: {exc}")
    if header is None:
        raise checkpoint_error(f"resume checkpoint {path} is not a ct-checkpoint file (no digest header)")
    expected_sha, expected_size = header.group(1).decode("ascii"), int(header.group(2))
    if len(payload) != expected_size:
        raise checkpoint_error(
            f"resume checkpoint {path} is truncated or padded: {len(payload)} bytes, its header says {expected_size}")
    sha = hashlib.sha256(payload).hexdigest()
    if sha != expected_sha:
        raise checkpoint_error(
            f"resume checkpoint {path} is corrupt: sha256 {sha} does not match its header's {expected_sha}")
    return payload
