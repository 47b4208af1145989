"""Turning what users have (arrays, tensors, datasets, loaders) into deterministic, resumable batches."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset, default_collate

from lstmkit.errors import DataError


def as_dataset(data, name: str) -> tuple[Dataset, object]:
    """(dataset, collate) from an (inputs, targets) pair of arrays or tensors, a Dataset or a DataLoader.

    Pairs are checked here, before any training step: same number of samples, at least one,
    floating-point inputs.
    """
    if isinstance(data, DataLoader):
        return data.dataset, data.collate_fn
    if isinstance(data, Dataset):
        return data, default_collate
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise DataError(f"expected {name} as (inputs, targets), a Dataset or a DataLoader, got {type(data).__name__}")
    x, y = (torch.as_tensor(np.asarray(a)) if not isinstance(a, torch.Tensor) else a for a in data)
    if len(x) == 0:
        raise DataError(f"{name} is empty: expected at least one sample")
    if len(x) != len(y):
        raise DataError(f"{name} has {len(x)} inputs but {len(y)} targets: expected one target per input")
    if not x.is_floating_point():
        raise DataError(f"expected floating-point {name} inputs, got {x.dtype}")
    return TensorDataset(x, y), None


def batch_indices(n: int, batch_size: int, seed: int, epoch: int, shuffle: bool) -> list[torch.Tensor]:
    """The global batches of one epoch: a permutation seeded by (seed, epoch), cut into batches.

    The same (seed, epoch) always gives the same batches, which is what makes a resumed run end where
    an uninterrupted one would.
    """
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    return list(order.split(batch_size))


def fetch(dataset: Dataset, collate, index: torch.Tensor):
    """The samples at ``index``, stacked into a batch."""
    if isinstance(dataset, TensorDataset):
        return tuple(t[index] for t in dataset.tensors)
    return collate([dataset[int(i)] for i in index])
