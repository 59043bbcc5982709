"""The model (an embedding per categorical feature, then an MLP) and how batches reach it."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Tuple

import numpy as np

from ct_trainer.torch_runtime import torch

nn = torch.nn

EVAL_BATCH_SIZE = 65536
# Datasets up to this size are copied to the GPU once; larger ones are streamed
# batch by batch through pinned memory with one batch of prefetch.
GPU_RESIDENT_MAX_BYTES = 1 << 30

Batch = Tuple[torch.Tensor, ...]


class FlightDelayNet(nn.Module):
    def __init__(self, n_numeric: int, vocab_sizes: List[int], hp: Dict[str, Any]) -> None:
        super().__init__()
        dim = hp["embeddingDim"]
        # +1: index 0 is the unseen/missing bucket.
        self.embeddings = nn.ModuleList(nn.Embedding(v + 1, dim) for v in vocab_sizes)
        layers: List[nn.Module] = []
        width = n_numeric + dim * len(vocab_sizes)
        for units in hp["hiddenUnits"]:
            layers += [nn.Linear(width, units), nn.ReLU()]
            width = units
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)

    def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor) -> torch.Tensor:
        parts = [x_num] + [emb(x_cat[:, i]) for i, emb in enumerate(self.embeddings)]
        return self.mlp(torch.cat(parts, dim=1)).squeeze(-1)


def build_model(features: List[Dict[str, str]], vocabs: Dict[str, List[str]], hp: Dict[str, Any]) -> FlightDelayNet:
    n_numeric = sum(1 for f in features if f["type"] == "numeric")
    vocab_sizes = [len(vocabs[f["name"]]) for f in features if f["type"] == "categorical"]
    return FlightDelayNet(n_numeric, vocab_sizes, hp)


class Batches:
    """Yields (x_num, x_cat, y) batches on `device` for permutation `perm`, from `start`: with `shard` (rank, world
    size), every world_size-th row of each batch from the rank's own."""

    def __init__(self, tensors: Batch, device: torch.device, batch_size: int, shard: Tuple[int, int] = (0, 1)):
        self.device = device
        self.batch_size = batch_size
        self.shard = shard
        self.resident = True
        if device.type == "cuda":
            nbytes = sum(t.numel() * t.element_size() for t in tensors)
            if nbytes <= GPU_RESIDENT_MAX_BYTES:
                # Whole dataset lives on the GPU: batches are gathered on-device, no host waits.
                tensors = tuple(t.pin_memory().to(device, non_blocking=True) for t in tensors)
            else:
                self.resident = False
        self.tensors = tensors

    def _rows(self, perm: torch.Tensor, b: int) -> torch.Tensor:
        rank, world = self.shard
        return perm[b * self.batch_size:(b + 1) * self.batch_size][rank::world]

    def iterate(self, perm: torch.Tensor, start: int, n_batches: int) -> Iterator[Batch]:
        if self.resident:
            perm = perm.to(self.device, non_blocking=True) if self.device.type == "cuda" else perm
            for b in range(start, n_batches):
                idx = self._rows(perm, b)
                yield tuple(t.index_select(0, idx) for t in self.tensors)
            return

        def load(b: int) -> Batch:
            idx = self._rows(perm, b)
            return tuple(t.index_select(0, idx).pin_memory().to(self.device, non_blocking=True)
                         for t in self.tensors)

        nxt = load(start) if start < n_batches else None
        for b in range(start, n_batches):
            cur = nxt
            if b + 1 < n_batches:
                nxt = load(b + 1)  # host gather + async copy overlap with GPU compute of `cur`
            yield cur


def predict_logits(model: nn.Module, x_num: np.ndarray, x_cat: np.ndarray, device: torch.device) -> np.ndarray:
    model.eval()
    out = []
    with torch.inference_mode():
        for a in range(0, x_num.shape[0], EVAL_BATCH_SIZE):
            xn = torch.from_numpy(x_num[a:a + EVAL_BATCH_SIZE]).to(device)
            xc = torch.from_numpy(x_cat[a:a + EVAL_BATCH_SIZE]).to(device)
            out.append(model(xn, xc).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0,), np.float32)
