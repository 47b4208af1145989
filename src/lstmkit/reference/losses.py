"""Losses, each returning (loss, gradient of the loss with respect to its first argument)."""

from __future__ import annotations

import numpy as np

from lstmkit.errors import DataError, ShapeError


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over every element: L = mean((pred - target)^2); dL/dpred = 2 (pred - target) / n."""
    if np.shape(pred) != np.shape(target):
        raise ShapeError(f"expected target of shape {np.shape(pred)} like the prediction, got {np.shape(target)}")
    diff = pred - target
    return float(np.mean(diff * diff)), 2.0 * diff / diff.size


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log softmax over the last axis, shifted by the maximum so exp never overflows."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def cross_entropy_loss(
    logits: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy, averaged over the positions where ``mask`` is True (all if None).

    logits (..., K), targets (...) integer classes in [0, K), mask (...) bool: False positions (padding,
    or tokens to ignore) add nothing to the loss and get zero gradient.
    dL/dlogits = (softmax(logits) - onehot(targets)) * mask / count.
    """
    targets = np.asarray(targets)
    K = logits.shape[-1]
    if targets.shape != logits.shape[:-1]:
        raise ShapeError(
            f"expected targets of shape {logits.shape[:-1]} for logits {logits.shape}, got {targets.shape}"
        )
    mask = np.ones(targets.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    if mask.shape != targets.shape:
        raise ShapeError(f"expected mask of shape {targets.shape} like the targets, got {mask.shape}")
    if not np.issubdtype(targets.dtype, np.integer):
        raise DataError(f"expected integer class targets, got dtype {targets.dtype}")
    bad = mask & ((targets < 0) | (targets >= K))
    if bad.any():
        raise DataError(f"expected targets in [0, {K}), got {sorted(set(targets[bad].tolist()))[:10]}")
    count = max(int(mask.sum()), 1)
    safe_targets = np.where(mask, targets, 0)
    logp = log_softmax(logits)
    picked = np.take_along_axis(logp, safe_targets[..., None], axis=-1)[..., 0]
    loss = -float((picked * mask).sum()) / count
    dlogits = np.exp(logp)
    np.put_along_axis(
        dlogits, safe_targets[..., None], np.take_along_axis(dlogits, safe_targets[..., None], -1) - 1, -1
    )
    return loss, dlogits * (mask[..., None] / count)
