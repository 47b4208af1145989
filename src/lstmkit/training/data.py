"""The batch contract: what users have (arrays, tensors, datasets, loaders) as deterministic, resumable batches.

A batch is ``Batch(inputs, targets, lengths)``. ``lengths`` is None for fixed-length data; with it, inputs
are padded sequences (N, T, ...) with ``lengths[n]`` valid steps, the Trainer calls
``model(inputs, lengths)``, and ``fetch`` trims each batch to its longest sequence (per-step targets,
(N, T, ...), are trimmed with the inputs).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset, default_collate

from lstmkit.errors import DataError, ParameterError


class Batch(NamedTuple):
    inputs: torch.Tensor  # (N, ...) features, or (N, T) token ids
    targets: torch.Tensor  # (N, ...)
    lengths: torch.Tensor | None = None  # (N,) int64 valid steps of each padded sequence

    def to(self, device) -> Batch:
        return Batch(self.inputs.to(device), self.targets.to(device), self.lengths)  # lengths stay on the CPU

    def __len__(self) -> int:  # noqa: D105 (the samples it weighs in an average: N, or the steps of a chunk)
        return len(self.inputs)


def _tensor(a) -> torch.Tensor:
    return a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))


def as_dataset(data, name: str) -> tuple[Dataset, object]:
    """(dataset, collate) from (inputs, targets) or (inputs, targets, lengths) arrays or tensors, a Dataset or a
    DataLoader.

    Tuples are checked here, before any training step: at least one sample, one target (and one length)
    per input, numeric inputs, lengths in [1, T].
    """
    if isinstance(data, SequenceChunks):
        return data, None
    if isinstance(data, DataLoader):
        return data.dataset, data.collate_fn
    if isinstance(data, Dataset):
        return data, default_collate
    if not isinstance(data, tuple | list) or len(data) not in (2, 3):
        raise DataError(
            f"expected {name} as (inputs, targets), (inputs, targets, lengths), a Dataset or a DataLoader, "
            f"got {type(data).__name__}" + (f" of {len(data)}" if isinstance(data, tuple | list) else "")
        )
    tensors = [_tensor(a) for a in data]
    x, y = tensors[:2]
    if len(x) == 0:
        raise DataError(f"{name} is empty: expected at least one sample")
    if len(x) != len(y):
        raise DataError(f"{name} has {len(x)} inputs but {len(y)} targets: expected one target per input")
    if x.dtype == torch.bool or x.is_complex():
        raise DataError(f"expected floating-point (or integer id) {name} inputs, got {x.dtype}")
    if len(tensors) == 3:
        lengths = tensors[2]
        if lengths.shape != (len(x),) or lengths.is_floating_point() or lengths.dtype == torch.bool:
            raise DataError(
                f"expected {name} lengths as {len(x)} integers, got {lengths.dtype} of shape {tuple(lengths.shape)}"
            )
        if x.dim() < 2 or len(lengths) and (lengths.min() < 1 or lengths.max() > x.shape[1]):
            raise DataError(
                f"expected {name} lengths in [1, {x.shape[1] if x.dim() > 1 else '?'}] for padded inputs of shape "
                f"{tuple(x.shape)}, got {int(lengths.min())} to {int(lengths.max())}"
            )
        tensors[2] = lengths.long()
    return TensorDataset(*tensors), None


def batch_indices(n: int, batch_size: int, seed: int, epoch: int, shuffle: bool) -> list[torch.Tensor]:
    """The global batches of one epoch: a permutation seeded by (seed, epoch), cut into batches.

    The same (seed, epoch) always gives the same batches, which is what makes a resumed run end where
    an uninterrupted one would.
    """
    generator = torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**63)  # any seed in [0, 2^63)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return list(order.split(batch_size))


def fetch(dataset: Dataset, collate, index: torch.Tensor) -> Batch:
    """The samples at ``index`` as a Batch (padded sequences trimmed to the batch's longest)."""
    if isinstance(dataset, SequenceChunks):
        return dataset.batch(index)
    if isinstance(dataset, TensorDataset):
        parts = [t[index] for t in dataset.tensors]
    else:
        parts = collate([dataset[int(i)] for i in index])
    if isinstance(parts, Batch):
        return parts
    batch = Batch(*parts)
    if batch.lengths is None:
        return batch
    T, longest = batch.inputs.shape[1], int(batch.lengths.max())
    targets = batch.targets[:, :longest] if batch.targets.dim() > 1 and batch.targets.shape[1] == T else batch.targets
    return Batch(batch.inputs[:, :longest], targets, batch.lengths)


class SequenceChunks(Dataset):
    """One long series cut into consecutive chunks: the batching of truncated backprop through time.

    ``inputs`` (T, N, H_in) floats or (T, N) token ids and ``targets`` (T, N, ...) are time-first: N parallel
    streams of T steps.
    Item k is the chunk of steps [k * chunk_size, (k + 1) * chunk_size). The Trainer walks the chunks in
    order, one per step, and carries the model's state from one chunk to the next (detached at the
    boundary, so memory depends on ``chunk_size``, not on T): the model is called as
    ``model(x_chunk, state) -> (output, state)``, from a zero state (None) at each epoch's start.
    """

    def __init__(self, inputs, targets, chunk_size: int):
        x, y = _tensor(inputs), _tensor(targets)
        features = x.dim() == 3 and x.is_floating_point()
        token_ids = x.dim() == 2 and not x.is_floating_point() and not x.is_complex() and x.dtype != torch.bool
        if not (features or token_ids) or len(x) != len(y) or len(x) == 0:
            raise DataError(
                f"expected inputs (T, N, H_in) floating-point or (T, N) integer token ids and targets with the same "
                f"T >= 1, got inputs "
                f"{tuple(x.shape)} {x.dtype} and targets {tuple(y.shape)}"
            )
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise ParameterError(f"expected chunk_size to be an integer >= 1, got {chunk_size!r}")
        self.inputs, self.targets, self.chunk_size = x, y, chunk_size

    def __len__(self) -> int:
        return -(-len(self.inputs) // self.chunk_size)

    def batch(self, index: torch.Tensor) -> Batch:
        """The chunk ``index[0]`` as a Batch of time-first tensors."""
        start = int(index[0]) * self.chunk_size
        return Batch(self.inputs[start : start + self.chunk_size], self.targets[start : start + self.chunk_size])
